//! `Preconditions::evaluate` on arbitrary methods, request fields and validators, against the
//! independent reading of RFC 9110 §13.2.2 in `reference.rs`; and
//! `Preconditions::if_range_allows` (step 5) on the same fields, which may only allow a range
//! for the very representation `If-Range` names.
#![no_main]

mod reference;

use std::time::{Duration, UNIX_EPOCH};

use arbitrary::Arbitrary;
use http::header::{
    HeaderName, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE,
};
use http::{HeaderMap, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use tower_conditional::{EntityTag, Outcome, Preconditions, Representation};

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    custom_method: Vec<u8>,
    fields: Vec<(u8, Vec<u8>)>,
    current: Option<(Option<Vec<u8>>, Option<(u64, u32)>)>,
}

const NAMES: [HeaderName; 5] = [
    IF_RANGE,
    IF_MATCH,
    IF_NONE_MATCH,
    IF_MODIFIED_SINCE,
    IF_UNMODIFIED_SINCE,
];

fuzz_target!(|input: Input| {
    let method = match input.method % 10 {
        0 => Method::GET,
        1 => Method::HEAD,
        2 => Method::POST,
        3 => Method::PUT,
        4 => Method::DELETE,
        5 => Method::CONNECT,
        6 => Method::OPTIONS,
        7 => Method::TRACE,
        8 => Method::PATCH,
        _ => match Method::from_bytes(&input.custom_method) {
            Ok(method) => method,
            Err(_) => return,
        },
    };
    let mut headers = HeaderMap::new();
    for (name, value) in &input.fields {
        let name = NAMES[usize::from(*name) % NAMES.len()].clone();
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(name, value);
        }
    }
    let current = input.current.as_ref().map(|(etag, modified)| {
        let mut validators = Representation::new();
        if let Some(tag) = etag.as_ref().and_then(|bytes| EntityTag::parse(bytes).ok()) {
            validators = validators.with_etag(tag);
        }
        if let Some((secs, nanos)) = modified {
            // Up to year 9999, as HTTP dates go.
            let secs = secs % 253_402_300_800;
            validators = validators.with_last_modified(
                UNIX_EPOCH
                    + Duration::from_secs(secs)
                    + Duration::from_nanos(u64::from(nanos % 1_000_000_000)),
            );
        }
        validators
    });
    let outcome = Preconditions::new(method.clone(), &headers).evaluate(current.as_ref());
    assert_eq!(
        outcome,
        reference::evaluate(&method, &headers, current.as_ref()),
        "{method} {headers:?} {current:?}"
    );
    // Never a 304 outside GET/HEAD.
    if outcome == Outcome::NotModified {
        assert!(method == Method::GET || method == Method::HEAD);
    }

    // Step 5: a range is allowed only without If-Range, or for the representation it names.
    let validators = current.clone().unwrap_or_default();
    let allowed = Preconditions::new(Method::GET, &headers).if_range_allows(&validators);
    let lines: Vec<&HeaderValue> = headers.get_all(IF_RANGE).iter().collect();
    match lines.as_slice() {
        [] => assert!(allowed),
        [value] if allowed => {
            let by_tag = EntityTag::parse(value.as_bytes())
                .ok()
                .is_some_and(|tag| validators.etag().is_some_and(|etag| etag.strong_eq(&tag)));
            let by_date = value
                .to_str()
                .ok()
                .and_then(|text| httpdate::parse_http_date(text).ok())
                .zip(validators.last_modified())
                .is_some_and(|(date, modified)| {
                    let secs = |t: std::time::SystemTime| {
                        t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
                    };
                    secs(date) == secs(modified)
                });
            assert!(
                by_tag || by_date,
                "If-Range {value:?} allowed a range of {validators:?}"
            );
        }
        [_] => {}
        _ => assert!(!allowed, "several If-Range lines allowed a range"),
    }
});
