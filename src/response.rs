//! Turning a response head into a `304 Not Modified` or a `412 Precondition Failed` in place.

use http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    EXPIRES, HeaderName, TRANSFER_ENCODING,
};
use http::{StatusCode, response};

const CONTENT_FIELD_COUNT: usize = 6;

/// Fields that describe the content a 304 or 412 does not carry. RFC 9110 §15.4.5: a 304 keeps
/// the fields a 200 would have (ETag, Cache-Control, Expires, Vary, Content-Location, Date,
/// Set-Cookie, ...) but SHOULD NOT carry representation metadata beyond them; a stale
/// `Content-Encoding` makes clients try to decode an empty body, and a `Content-Length` or
/// `Transfer-Encoding` corrupts cache entries (PEERS.md, pitfalls 2 and 3).
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
    // A removal costs a lookup: find the few fields the head has in one pass, then remove those.
    let mut present = [false; CONTENT_FIELD_COUNT];
    for name in head.headers.keys() {
        for (field, present) in CONTENT_FIELDS.iter().zip(&mut present) {
            *present |= name == field;
        }
    }
    for (field, present) in CONTENT_FIELDS.iter().zip(present) {
        if present {
            head.headers.remove(field);
        }
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
