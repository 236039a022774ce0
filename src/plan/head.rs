//! Every edit the layer makes to a response head: the 304 and the 412 (from the inner
//! service's head or from a validator source), the generated tag and its `Content-Length`,
//! coded tags, the source's validators, and modification dates that lie in the future.
//! Which edit applies when is decided in `plan::response`; here is only how.

use std::time::SystemTime;

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, EXPIRES, HeaderName, IF_NONE_MATCH, LAST_MODIFIED, TRANSFER_ENCODING, VARY,
};
use http::{HeaderMap, HeaderValue, Response, StatusCode, response};

use crate::rfc::etag::{EntityTag, TagRef, coded_tag, held_tag};
use crate::rfc::fields::{
    FieldLines, content_length, http_date, members, parse_date, remove_present, single_value,
    validator_seconds,
};
use crate::rfc::precondition::coding_counts;
use crate::rfc::problem::Refusal;
use crate::rfc::representation::Representation;
use crate::rfc::representation::Validators;

const CONTENT_FIELD_COUNT: usize = 6;

/// Fields that describe the content a 304 or 412 does not carry. RFC 9110 §15.4.5: a 304 keeps
/// the fields a 200 would have (ETag, Cache-Control, Expires, Vary, Content-Location, Date,
/// Set-Cookie, ...) but SHOULD NOT carry representation metadata beyond them; a stale
/// `Content-Encoding` makes clients try to decode an empty body, and a `Content-Length` or
/// `Transfer-Encoding` corrupts cache entries (okhttp and golang/go#50903 for the first;
/// Varnish#1404 and squid for the others).
const CONTENT_FIELDS: [HeaderName; CONTENT_FIELD_COUNT] = [
    CONTENT_TYPE,
    CONTENT_LENGTH,
    CONTENT_ENCODING,
    CONTENT_LANGUAGE,
    CONTENT_RANGE,
    TRANSFER_ENCODING,
];

/// Which of [`CONTENT_FIELDS`] a head has, one bit each, as read in the one pass over a
/// response head (`plan::HeadFields`), so that a 304 or 412 removes them without a second one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ContentFields(u8);

impl ContentFields {
    pub(crate) const TYPE: u8 = 1 << 0;
    pub(crate) const LENGTH: u8 = 1 << 1;
    pub(crate) const ENCODING: u8 = 1 << 2;
    pub(crate) const LANGUAGE: u8 = 1 << 3;
    pub(crate) const RANGE: u8 = 1 << 4;
    pub(crate) const TRANSFER_ENCODING: u8 = 1 << 5;
    /// Not read: look for each of them.
    pub(crate) const UNKNOWN: Self = Self(u8::MAX);

    pub(crate) fn add(&mut self, field: u8) {
        self.0 |= field;
    }

    pub(crate) fn has(self, field: u8) -> bool {
        self.0 & field != 0
    }
}

impl Default for ContentFields {
    /// None.
    fn default() -> Self {
        Self(0)
    }
}

/// Edits the head of a 200 into a 304: same fields minus the content ones (those `present`
/// says it has). `Last-Modified` stays (RFC 9110 §15.4.5 allows it, and caches use it when
/// there is no `ETag`).
pub(crate) fn into_not_modified(head: &mut response::Parts, present: ContentFields) {
    head.status = StatusCode::NOT_MODIFIED;
    remove_content_fields(head, present);
}

/// Edits the head of a 2xx into a 412: the content fields go, and so do `Cache-Control` and
/// `Expires`, which describe the 2xx's freshness and would make the error cacheable. The
/// current `ETag` / `Last-Modified` stay so the client can see what it is up against, and so do
/// `Set-Cookie` and the other fields the inner service set.
pub(crate) fn into_precondition_failed(head: &mut response::Parts, present: ContentFields) {
    head.status = StatusCode::PRECONDITION_FAILED;
    remove_content_fields(head, present);
    head.headers.remove(CACHE_CONTROL);
    head.headers.remove(EXPIRES);
}

/// Removes the content fields `present` says the head has ([`ContentFields::UNKNOWN`]: each
/// that it has).
pub(crate) fn remove_content_fields(head: &mut response::Parts, present: ContentFields) {
    if present == ContentFields::UNKNOWN {
        remove_present(&mut head.headers, &CONTENT_FIELDS);
        return;
    }
    for (bit, name) in CONTENT_FIELDS.iter().enumerate() {
        if present.has(1 << bit) {
            head.headers.remove(name);
        }
    }
}

/// A head with only a status, for the answers the layer makes without the inner service.
pub(crate) fn empty_head(status: StatusCode) -> response::Parts {
    let mut head = Response::new(()).into_parts().0;
    head.status = status;
    head
}

/// The 304 for `representation` (a validator source's, or a handler's through
/// [`Preconditions::check`](crate::Preconditions::check)): its validators and the headers its
/// 200 would carry (RFC 9110 §15.4.5), less content fields; with `held_form`, naming the tag
/// the client holds ([`carry_the_held_tag`]).
pub(crate) fn representation_not_modified(
    representation: &Representation,
    conditions: &(impl FieldLines + ?Sized),
    held_form: bool,
) -> response::Parts {
    let mut head = empty_head(StatusCode::NOT_MODIFIED);
    fill_in_representation(&mut head.headers, representation);
    remove_content_fields(&mut head, ContentFields::UNKNOWN);
    if held_form {
        carry_the_held_tag(&mut head.headers, conditions, 0, false);
    }
    head
}

/// The head and body of a [`Refusal`] made without the inner service: its status, on a 412 the
/// current validators (RFC 9110 §15.5.13) and none of the 200's content or freshness fields,
/// and its body (problem details with `problem_details`).
pub(crate) fn refusal_head(
    refusal: Refusal,
    validators: Option<&Validators>,
    problem_details: bool,
) -> (response::Parts, Option<Bytes>) {
    let mut head = empty_head(refusal.status());
    if let (Refusal::Failed(_), Some(validators)) = (refusal, validators) {
        validators.set_on(&mut head.headers);
    }
    let body = refusal.body(problem_details, &mut head.headers);
    (head, body)
}

/// What a validator source reported, on the response the inner service made: the source's
/// `ETag` and `Last-Modified` replace the response's, since the source is what the layer evaluated
/// (and will evaluate the next request) by; its other headers are added where the response lacks
/// them, so whatever else the inner service set wins.
pub(crate) fn fill_in_representation(headers: &mut HeaderMap, representation: &Representation) {
    representation.set_validators(headers);
    let cache_headers = representation.headers();
    for name in cache_headers.keys() {
        if !headers.contains_key(name) {
            for value in cache_headers.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
    }
}

/// A `Last-Modified` later than `now` becomes `now`: an origin MUST replace a modification date
/// later than the message's origination (RFC 9110 §8.8.2.1), or every `If-Modified-Since`
/// would be a 304 until that date. One at or before 1 s after the epoch is no validator
/// ([`validator_seconds`](crate::rfc::fields::validator_seconds)) and is removed: sent, it would
/// also make caches think the content years old and fresh for a tenth of that (RFC 9111
/// §4.2.2). Anything but one valid date is left as it is.
pub(crate) fn correct_last_modified(headers: &mut HeaderMap, now: SystemTime) {
    let Some(modified) = single_value(headers, &LAST_MODIFIED).and_then(parse_date) else {
        return;
    };
    if validator_seconds(modified).is_none() {
        headers.remove(LAST_MODIFIED);
    } else if modified > now
        && let Some(value) = http_date(now, now)
    {
        headers.insert(LAST_MODIFIED, value);
    }
}

/// The tag the layer generated from `len` body bytes. A `Content-Length` the inner service claimed
/// is replaced by the true one, or dropped when trailers follow (they need a chunked body on
/// HTTP/1.1); without one, the body's exact size hint gives servers the length.
pub(crate) fn set_generated_tag(
    headers: &mut HeaderMap,
    tag: HeaderValue,
    len: usize,
    trailers: bool,
    has_content_length: bool,
) {
    headers.insert(ETAG, tag);
    if has_content_length {
        if trailers {
            headers.remove(CONTENT_LENGTH);
        } else if content_length(headers) != Some(len as u64) {
            // `insert` replaces every line, repeated ones included.
            headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
    }
}

/// A strong tag that came from inside, on a content-coded body: a compression layer between
/// the inner service and this layer (tower-http's `CompressionLayer`) keeps the identity bytes'
/// strong tag on the gzip bytes, so one strong tag would name two byte sequences (RFC 9110
/// §8.8.1). The coded bytes get the coded tag of that version, `"v1-gzip"` (RFC 9110
/// §8.8.3.3, [`coded_tag`]), which is strong and names them alone; returns the suffix's length.
/// For a coding without a suffix (`suffix` is `None`), the tag is weakened instead: it still
/// revalidates, but promises no byte identity, as nginx does when it compresses.
pub(crate) fn tag_the_coded_bytes(headers: &mut HeaderMap, suffix: Option<&[u8]>) -> u8 {
    // Several ETag lines are malformed: left as they are.
    let Some(tag) = single_value(headers, &ETAG) else {
        return 0;
    };
    if !tag.as_bytes().starts_with(b"\"") {
        return 0;
    }
    match suffix {
        Some(suffix) => match coded_tag(tag, suffix) {
            Some(coded) => {
                headers.insert(ETAG, coded);
                u8::try_from(suffix.len()).unwrap_or(0)
            }
            None => 0,
        },
        None => {
            if let Ok(tag) = EntityTag::try_from(tag) {
                headers.insert(ETAG, HeaderValue::from(tag.weaken()));
            }
            0
        }
    }
}

/// A 304 names the tag the client holds (RFC 9111 §4.3.4: a cache updates only the stored
/// response whose strong validator the 304 carries). Where the client's `If-None-Match` names
/// the current tag in another form (`W/"v1"` after a proxy weakened it, `"v1-gzip"` for the
/// gzip bytes, `"v1"` for the identity bytes of a response now coded), the 304 carries that
/// form, and, for a coded form, `Vary: accept-encoding`, since the 200 varied by it. The
/// current tag's coding suffix, if the layer added one, is `suffix_len` bytes long; which coded
/// forms count is [`coding_counts`]'s rule.
pub(crate) fn carry_the_held_tag(
    headers: &mut HeaderMap,
    conditions: &(impl FieldLines + ?Sized),
    suffix_len: usize,
    coding_known: bool,
) {
    // Several ETag lines are malformed: left as they are.
    let Some(value) = single_value(headers, &ETAG) else {
        return;
    };
    let Some(current) = TagRef::parse(value) else {
        return;
    };
    let current = current.coded(suffix_len);
    let counts = coding_counts(conditions, coding_known);
    let Some(held) = held_tag(conditions.lines(&IF_NONE_MATCH), current, counts) else {
        return;
    };
    if held == *value {
        return;
    }
    let coded = TagRef::parse(&held).is_some_and(|tag| tag.is_coded_form_of(current));
    headers.insert(ETAG, held);
    if coded {
        vary_on_accept_encoding(headers);
    }
}

/// Adds `accept-encoding` to `Vary` unless it is there (or `Vary: *` is).
pub(crate) fn vary_on_accept_encoding(headers: &mut HeaderMap) {
    let listed = headers.get_all(VARY).iter().any(|value| {
        members(value)
            .any(|member| member == b"*" || member.eq_ignore_ascii_case(b"accept-encoding"))
    });
    if !listed {
        headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{CONTENT_LOCATION, DATE, ETAG, LAST_MODIFIED, SET_COOKIE, VARY};
    use http::{HeaderValue, Response};

    fn full_200() -> response::Parts {
        let mut response = Response::new(());
        let headers = response.headers_mut();
        for (name, value) in [
            (CONTENT_TYPE, "text/html"),
            (CONTENT_LENGTH, "1234"),
            (CONTENT_ENCODING, "gzip"),
            (CONTENT_LANGUAGE, "en"),
            (TRANSFER_ENCODING, "chunked"),
            (CONTENT_RANGE, "bytes 0-1/2"),
            (ETAG, "\"a\""),
            (LAST_MODIFIED, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (CACHE_CONTROL, "max-age=60"),
            (EXPIRES, "Sun, 06 Nov 1994 08:50:37 GMT"),
            (VARY, "accept-encoding"),
            (CONTENT_LOCATION, "/a"),
            (DATE, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (SET_COOKIE, "a=1"),
            (SET_COOKIE, "b=2"),
        ] {
            headers.append(name, HeaderValue::from_static(value));
        }
        headers.append("x-custom", HeaderValue::from_static("kept"));
        response.into_parts().0
    }

    fn names(head: &response::Parts) -> Vec<String> {
        let mut names: Vec<String> = head
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn not_modified_keeps_everything_but_content_fields() {
        let mut head = full_200();
        into_not_modified(&mut head, ContentFields::UNKNOWN);
        assert_eq!(head.status, StatusCode::NOT_MODIFIED);
        assert_eq!(
            names(&head),
            [
                "cache-control: max-age=60",
                "content-location: /a",
                "date: Sun, 06 Nov 1994 08:49:37 GMT",
                "etag: \"a\"",
                "expires: Sun, 06 Nov 1994 08:50:37 GMT",
                "last-modified: Sun, 06 Nov 1994 08:49:37 GMT",
                "set-cookie: a=1",
                "set-cookie: b=2",
                "vary: accept-encoding",
                "x-custom: kept",
            ]
        );
    }

    #[test]
    fn precondition_failed_drops_freshness_too() {
        let mut head = full_200();
        into_precondition_failed(&mut head, ContentFields::UNKNOWN);
        assert_eq!(head.status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(
            names(&head),
            [
                "content-location: /a",
                "date: Sun, 06 Nov 1994 08:49:37 GMT",
                "etag: \"a\"",
                "last-modified: Sun, 06 Nov 1994 08:49:37 GMT",
                "set-cookie: a=1",
                "set-cookie: b=2",
                "vary: accept-encoding",
                "x-custom: kept",
            ]
        );
    }
}
