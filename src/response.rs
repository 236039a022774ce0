//! Every edit the layer makes to a response head: the 304 and the 412 (from the inner
//! service's head or from a validator source), the generated tag and its `Content-Length`,
//! weakened tags, the source's validators, and modification dates that lie in the future.
//! Which edit applies when is decided in `plan.rs`; here is only how.

use std::time::SystemTime;

use http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, EXPIRES, HeaderName, IF_NONE_MATCH, LAST_MODIFIED, TRANSFER_ENCODING,
};
use http::{HeaderMap, HeaderValue, Response, StatusCode, response};

use crate::Validators;
use crate::etag::{Comparison, EntityTag, TagCondition, TagRef, evaluate_tag_field};
use crate::fields::{
    FieldLines, content_length, http_date, parse_date, remove_present, single_value,
    validator_seconds,
};
use crate::source::Representation;

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

/// Edits the head of a 200 into a 304: same fields minus the content ones. `Last-Modified` stays
/// (RFC 9110 §15.4.5 allows it, and caches use it when there is no `ETag`).
pub(crate) fn into_not_modified(head: &mut response::Parts) {
    head.status = StatusCode::NOT_MODIFIED;
    remove_content_fields(head);
}

/// Edits the head of a 2xx into a 412: the content fields go, and so do `Cache-Control` and
/// `Expires`, which describe the 2xx's freshness and would make the error cacheable. The
/// current `ETag` / `Last-Modified` stay so the client can see what it is up against, and so do
/// `Set-Cookie` and the other fields the handler set.
pub(crate) fn into_precondition_failed(head: &mut response::Parts) {
    head.status = StatusCode::PRECONDITION_FAILED;
    remove_content_fields(head);
    head.headers.remove(CACHE_CONTROL);
    head.headers.remove(EXPIRES);
}

fn remove_content_fields(head: &mut response::Parts) {
    remove_present(&mut head.headers, &CONTENT_FIELDS);
}

/// A head with only a status, for the answers the layer makes without the inner service.
pub(crate) fn empty_head(status: StatusCode) -> response::Parts {
    let mut head = Response::new(()).into_parts().0;
    head.status = status;
    head
}

/// The 304 a validator source's answer stands for: the representation's validators and the
/// cache headers its 200 would carry (RFC 9110 §15.4.5).
pub(crate) fn source_not_modified(representation: &Representation) -> response::Parts {
    let mut head = empty_head(StatusCode::NOT_MODIFIED);
    fill_in_source(&mut head.headers, representation);
    head
}

/// The 412 a validator source's answer stands for, with the current validators when the
/// resource exists (RFC 9110 §15.5.13), and none of the 200's freshness fields.
pub(crate) fn source_precondition_failed(validators: Option<&Validators>) -> response::Parts {
    let mut head = empty_head(StatusCode::PRECONDITION_FAILED);
    if let Some(validators) = validators {
        set_validators(&mut head.headers, validators);
    }
    head
}

/// The 503 for a conditional write whose preconditions could not be checked: not cacheable,
/// with a short text saying why.
pub(crate) fn source_unavailable() -> response::Parts {
    let mut head = empty_head(StatusCode::SERVICE_UNAVAILABLE);
    head.headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    head.headers
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    head
}

/// The text of [`source_unavailable`].
pub(crate) const SOURCE_UNAVAILABLE: &str =
    "The request's preconditions could not be checked, so it was not performed. Retry later.\n";

/// Sets `ETag` and `Last-Modified` from `validators`, replacing what is there. A date before
/// 1970 is left out, one later than now is sent as now (RFC 9110 §8.8.2.1).
pub(crate) fn set_validators(headers: &mut HeaderMap, validators: &Validators) {
    if let Some(etag) = &validators.etag {
        headers.insert(ETAG, etag.to_header_value());
    }
    if let Some(value) = validators
        .last_modified
        .and_then(|modified| http_date(modified, SystemTime::now()))
    {
        headers.insert(LAST_MODIFIED, value);
    }
}

/// What a validator source reported, on the response the inner service made: the source's
/// `ETag` and `Last-Modified` replace the response's, since the source is what the layer judged
/// (and will judge the next request) by; its other headers are added where the response lacks
/// them, so whatever else the handler set wins.
pub(crate) fn fill_in_source(headers: &mut HeaderMap, representation: &Representation) {
    set_validators(headers, representation.validators());
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
/// ([`validator_seconds`](crate::fields::validator_seconds)) and is removed: sent, it would
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

/// The tag the layer generated from `len` body bytes. A `Content-Length` the handler claimed
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
/// the handler and this layer (tower-http's `CompressionLayer` around `ServeDir`, say) copies the
/// identity bytes' strong tag onto the gzip bytes, so one strong tag would name two byte
/// sequences (RFC 9110 §8.8.1). Weakened, it still revalidates (If-None-Match compares weakly) but
/// promises no byte identity, as nginx does when it compresses.
pub(crate) fn weaken_etag(headers: &mut HeaderMap) {
    // Several ETag lines are malformed: left as they are.
    if let Some(tag) = single_value(headers, &ETAG)
        && tag.as_bytes().starts_with(b"\"")
        && let Ok(tag) = EntityTag::from_header_value(tag)
    {
        headers.insert(ETAG, tag.weaken().to_header_value());
    }
}

/// A 304 the inner service made itself (`ServeDir` does) carries its strong tag, even when the
/// client revalidated the weakened tag of an encoded copy: answer with the tag the client holds,
/// so that a cache updating its stored gzip response does not make it strong again.
pub(crate) fn keep_the_clients_weak_tag(
    headers: &mut HeaderMap,
    conditions: &(impl FieldLines + ?Sized),
) {
    // Most clients hold no weak tag: nothing to look for without a `/` (of `W/`) in their list.
    let holds_weak = conditions
        .lines(&IF_NONE_MATCH)
        .any(|line| line.as_bytes().contains(&b'/'));
    if !holds_weak {
        return;
    }
    // Several ETag lines are malformed: left as they are.
    let Some(value) = single_value(headers, &ETAG) else {
        return;
    };
    let Some(current) = TagRef::parse(value) else {
        return;
    };
    let named = |comparison| {
        matches!(
            evaluate_tag_field(conditions.lines(&IF_NONE_MATCH), Some(current), comparison),
            TagCondition::List { matched: true }
        )
    };
    // Named weakly (as W/"x"), never strongly: the client holds the weakened tag.
    if !current.is_weak()
        && named(Comparison::Weak)
        && !named(Comparison::Strong)
        && let Ok(tag) = EntityTag::from_header_value(value)
    {
        headers.insert(ETAG, tag.weaken().to_header_value());
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
        into_not_modified(&mut head);
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
        into_precondition_failed(&mut head);
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
