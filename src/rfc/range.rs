//! Range requests (RFC 9110 §14) where preconditions touch them: `If-Range` (§13.1.5, step 5
//! of §13.2.2), and asking again for the whole representation when a range turns out to be of
//! a version the client does not have.
//!
//! The layer never serves ranges itself. A `Range` goes to the inner service as the client sent
//! it (HEAD and `Range` included: §14.2 defines `Range` for GET only, and the inner service
//! answers as it would without the layer). What the layer adds is `If-Range` for inner
//! services that ignore it (tower-http's `ServeDir` does): a 206 whose validators are not the
//! ones `If-Range` names is dropped, and the request is asked again without `Range`, which a
//! GET allows, so a resumed download is never stitched from two versions.

use http::header::{IF_RANGE, RANGE};
use http::{HeaderMap, Method, Request};

use crate::rfc::etag::TagRef;
use crate::rfc::fields::{FieldLines, parse_date, single_value, validator_seconds};
use crate::rfc::precondition::ValidatorsRef;
use crate::rfc::representation::Validators;

/// Step 5 of RFC 9110 §13.2.2: whether a GET's `Range` may be honoured given its `If-Range`.
///
/// `true` when the request has no `If-Range`, or when it names the current representation: an
/// entity tag that matches `current`'s tag under the strong comparison, or an HTTP-date exactly
/// equal to `current`'s modification date (§13.1.5). Anything else (a weak tag, another tag,
/// another date, a malformed value, no current validator) is `false`: the `Range` must be
/// ignored and the whole representation sent, so that a resumed download is never stitched from
/// two versions.
pub(crate) fn if_range_allows_range(
    request: &(impl FieldLines + ?Sized),
    current: &Validators,
) -> bool {
    if_range_names(request, current.borrowed())
}

/// [`if_range_allows_range`] over borrowed validators, read straight from a response head.
pub(crate) fn if_range_names(
    request: &(impl FieldLines + ?Sized),
    current: ValidatorsRef<'_>,
) -> bool {
    if !request.has(&IF_RANGE) {
        return true;
    }
    let Some(value) = single_value(request, &IF_RANGE) else {
        return false;
    };
    // An entity tag starts with DQUOTE or W/ (§13.1.5); anything else is read as a date.
    let bytes = value.as_bytes();
    if bytes.starts_with(b"\"") || bytes.starts_with(b"W/") {
        return match (TagRef::parse(value), current.etag) {
            (Some(tag), Some(etag)) => tag.strong_eq(etag),
            _ => false,
        };
    }
    // An exact match of dates (§13.1.5), in whole seconds.
    match (
        parse_date(value).and_then(validator_seconds),
        current.last_modified.and_then(validator_seconds),
    ) {
        (Some(date), Some(modified)) => date == modified,
        _ => false,
    }
}

/// Whether a request may get a 206 that `If-Range` rules out: a GET with both `Range` and
/// `If-Range`. Read from flags gathered in one pass over the request's fields.
pub(crate) fn may_ask_again(method: &Method, range: bool, if_range: bool) -> bool {
    *method == Method::GET && range && if_range
}

/// The same request without `Range` and `If-Range`: what to ask the inner service for when the
/// range it served is of another version than the one `If-Range` names. A GET's content has no
/// defined meaning (RFC 9110 §9.3.1), so the copy gets an empty body.
pub(crate) fn ask_again_request<T, B: Default>(request: &Request<T>) -> Request<B> {
    let mut whole = Request::new(B::default());
    *whole.method_mut() = request.method().clone();
    *whole.uri_mut() = request.uri().clone();
    *whole.version_mut() = request.version();
    *whole.headers_mut() = request.headers().clone();
    *whole.extensions_mut() = request.extensions().clone();
    remove_range(whole.headers_mut());
    whole
}

/// Removes `Range` and `If-Range`: the whole representation is wanted.
pub(crate) fn remove_range(headers: &mut HeaderMap) {
    headers.remove(RANGE);
    headers.remove(IF_RANGE);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfc::precondition::tests::{
        EARLIER, LATER, T0, T0_RFC850, both, dated, headers, t0, tagged,
    };
    use http::HeaderName;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn if_range_table() {
        let current = both("\"a\"");
        let weak_current = Validators {
            last_modified: Some(t0()),
            ..tagged("W/\"a\"")
        };
        let cases: &[(&[&str], &Validators, bool)] = &[
            (&[], &current, true),
            (&["\"a\""], &current, true),
            (&["\"b\""], &current, false),
            (&["W/\"a\""], &current, false),
            (&["\"a\""], &weak_current, false),
            (&[T0], &current, true),
            (&[T0_RFC850], &current, true),
            (&[LATER], &current, false),
            (&[EARLIER], &current, false),
            (&["\"a\""], &dated(), false),
            (&[T0], &tagged("\"a\""), false),
            (&["\"a"], &current, false),
            (&["garbage"], &current, false),
            (&["\"a\", \"b\""], &current, false),
            (&["\"a\"", "\"a\""], &current, false),
        ];
        for (values, current, expected) in cases {
            let fields: Vec<(&HeaderName, &str)> = values.iter().map(|v| (&IF_RANGE, *v)).collect();
            assert_eq!(
                if_range_allows_range(&headers(&fields), current),
                *expected,
                "{values:?} against {current:?}"
            );
        }
    }

    #[test]
    fn a_time_before_1970_is_named_by_no_date() {
        let before = Validators {
            etag: None,
            last_modified: Some(UNIX_EPOCH - Duration::from_secs(10)),
        };
        let request = headers(&[(&IF_RANGE, "Thu, 01 Jan 1970 00:00:00 GMT")]);
        assert!(!if_range_allows_range(&request, &before));
    }

    #[test]
    fn the_whole_representation_is_the_same_request_without_range() {
        let mut request = Request::get("/file?x=1")
            .header(RANGE, "bytes=0-9")
            .header(IF_RANGE, "\"a\"")
            .header("x-kept", "1")
            .body("ignored")
            .unwrap();
        request.extensions_mut().insert(7u8);
        let whole: Request<String> = ask_again_request(&request);
        assert_eq!(whole.method(), Method::GET);
        assert_eq!(whole.uri(), "/file?x=1");
        assert!(!whole.headers().contains_key(RANGE));
        assert!(!whole.headers().contains_key(IF_RANGE));
        assert_eq!(whole.headers()["x-kept"], "1");
        assert_eq!(whole.extensions().get::<u8>(), Some(&7));
        assert_eq!(whole.body(), "");
        assert!(may_ask_again(&Method::GET, true, true));
        assert!(!may_ask_again(&Method::HEAD, true, true));
        assert!(!may_ask_again(&Method::GET, false, true));
        assert!(!may_ask_again(&Method::GET, true, false));
    }
}
