//! The whole layer: arbitrary method, request fields, inner status, response fields, body
//! frames (data, empty data, trailers, errors, pending), size hints and settings, driven by
//! hand with a no-op waker. Checks what must always hold: no panic, no 304 or 412 that the RFC
//! (as `reference.rs` reads it) does not call for, a generated tag only for a complete body and
//! equal to the hash of its bytes, and bodies delivered byte for byte.
#![no_main]

mod reference;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use arbitrary::Arbitrary;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, ETAG, LAST_MODIFIED};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use libfuzzer_sys::fuzz_target;
use tower::{Layer, Service};
use tower_conditional::{ConditionalLayer, EntityTag, Outcome, Representation, TagHash};

#[derive(Arbitrary, Debug)]
enum Step {
    Data(Vec<u8>),
    Trailers(Vec<(u8, Vec<u8>)>),
    Error,
    Pending,
}

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    request_fields: Vec<(u8, Vec<u8>)>,
    status: u16,
    response_fields: Vec<(u8, Vec<u8>)>,
    steps: Vec<Step>,
    hint: Option<(u32, Option<u32>)>,
    inner_fails: bool,
    limit: u16,
    weak: bool,
    fast: bool,
    wait_for_body: bool,
    skip_marked: bool,
}

const REQUEST_NAMES: [&str; 6] = [
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "if-range",
    "cache-control",
];

const RESPONSE_NAMES: [&str; 11] = [
    "etag",
    "last-modified",
    "content-type",
    "cache-control",
    "content-length",
    "content-range",
    "transfer-encoding",
    "set-cookie",
    "vary",
    "x-skip",
    "content-encoding",
];

struct Fuzzed {
    steps: VecDeque<Step>,
    hint: SizeHint,
}

impl Body for Fuzzed {
    type Data = Bytes;
    type Error = &'static str;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, &'static str>>> {
        match self.steps.pop_front() {
            None => Poll::Ready(None),
            Some(Step::Data(data)) => Poll::Ready(Some(Ok(Frame::data(data.into())))),
            Some(Step::Trailers(fields)) => Poll::Ready(Some(Ok(Frame::trailers(header_map(
                &fields,
                &RESPONSE_NAMES,
            ))))),
            Some(Step::Error) => Poll::Ready(Some(Err("body failed"))),
            Some(Step::Pending) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        self.hint
    }
}

fn header_map(fields: &[(u8, Vec<u8>)], names: &[&'static str]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in fields {
        let name = HeaderName::from_static(names[usize::from(*name) % names.len()]);
        if let Ok(value) = HeaderValue::from_bytes(value) {
            map.append(name, value);
        }
    }
    map
}

/// What the inner body delivers: its data bytes up to the first error, and whether it failed.
fn expected_stream(steps: &[Step]) -> (Vec<u8>, bool) {
    let mut data = Vec::new();
    for step in steps {
        match step {
            Step::Data(bytes) => data.extend_from_slice(bytes),
            Step::Error => return (data, true),
            _ => {}
        }
    }
    (data, false)
}

/// The trailers of a well-formed body (trailer frames only after the last data frame, no
/// error), merged in order; `None` for other bodies.
fn expected_trailers(steps: &[Step]) -> Option<HeaderMap> {
    let mut merged = HeaderMap::new();
    let mut in_trailers = false;
    for step in steps {
        match step {
            Step::Data(_) if in_trailers => return None,
            Step::Error => return None,
            Step::Trailers(fields) => {
                in_trailers = true;
                merged.extend(header_map(fields, &RESPONSE_NAMES));
            }
            _ => {}
        }
    }
    Some(merged)
}

fn poll_to_end<F: Future>(mut future: Pin<&mut F>, cx: &mut Context<'_>) -> F::Output {
    // Every Pending step is followed by progress, so this ends well before the bound.
    for _ in 0..100_000 {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return output;
        }
    }
    panic!("future never completed");
}

fuzz_target!(|input: Input| {
    let method = match input.method % 6 {
        0 | 1 => Method::GET,
        2 => Method::HEAD,
        3 => Method::POST,
        4 => Method::PUT,
        _ => Method::OPTIONS,
    };
    let Ok(status) = StatusCode::from_u16(100 + input.status % 500) else {
        return;
    };
    let request_fields = header_map(&input.request_fields, &REQUEST_NAMES);
    let response_fields = header_map(&input.response_fields, &RESPONSE_NAMES);
    let hint = match input.hint {
        None => SizeHint::new(),
        Some((lower, upper)) => {
            let mut hint = SizeHint::new();
            hint.set_lower(lower.into());
            if let Some(upper) = upper {
                hint.set_upper(u64::from(upper).max(lower.into()));
            }
            hint
        }
    };
    let limit = usize::from(input.limit);
    let hash = if input.fast {
        TagHash::Fast
    } else {
        TagHash::CollisionResistant
    };
    let layer = layer_settings(
        limit,
        input.weak,
        hash,
        input.wait_for_body,
        input.skip_marked,
    );

    let (expected_data, expected_error) = expected_stream(&input.steps);
    let expected_trailers = expected_trailers(&input.steps);
    // The layer wants a `Clone` inner service; this one answers once.
    let body = std::sync::Arc::new(std::sync::Mutex::new(Some(Fuzzed {
        steps: input.steps.into_iter().collect(),
        hint,
    })));
    let inner_fails = input.inner_fails;
    let inner_fields = response_fields.clone();
    let mut service = layer.layer(tower::service_fn(move |_request: Request<()>| {
        let taken = body.lock().ok().and_then(|mut body| body.take());
        let result = match taken {
            Some(body) if !inner_fails => {
                let mut response = Response::new(body);
                *response.status_mut() = status;
                *response.headers_mut() = inner_fields.clone();
                Ok(response)
            }
            _ => Err("inner failed"),
        };
        std::future::ready(result)
    }));

    let mut request = Request::new(());
    *request.method_mut() = method.clone();
    *request.headers_mut() = request_fields.clone();

    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    assert!(service.poll_ready(&mut cx).is_ready());
    let future = pin!(service.call(request));
    let response = match poll_to_end(future, &mut cx) {
        Ok(response) => response,
        Err(error) => {
            assert!(inner_fails);
            assert_eq!(error, "inner failed");
            return;
        }
    };
    assert!(!inner_fails);

    let (head, body) = response.into_parts();
    let mut body = pin!(body);
    let mut received = Vec::new();
    let mut trailers = HeaderMap::new();
    let mut failed = false;
    for _ in 0..100_000 {
        match body.as_mut().poll_frame(&mut cx) {
            Poll::Pending => continue,
            Poll::Ready(None) => break,
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => received.extend_from_slice(&data),
                Err(frame) => {
                    if let Ok(fields) = frame.into_trailers() {
                        trailers.extend(fields);
                    }
                }
            },
            Poll::Ready(Some(Err(error))) => {
                assert_eq!(error, "body failed");
                failed = true;
                break;
            }
        }
    }

    let get_or_head = method == Method::GET || method == Method::HEAD;
    let inner_etag = response_fields
        .get_all(ETAG)
        .iter()
        .cloned()
        .collect::<Vec<_>>();
    let out_etag = head
        .headers
        .get_all(ETAG)
        .iter()
        .cloned()
        .collect::<Vec<_>>();
    let validators = response_validators(&head.headers);
    let reference = reference::evaluate(&method, &request_fields, Some(&validators));

    match head.status {
        StatusCode::NOT_MODIFIED if status != StatusCode::NOT_MODIFIED => {
            // A 304 stands for a 200, or for the 206 of a range request (RFC 9110 §13.2.2).
            assert!(
                get_or_head && (status == StatusCode::OK || status == StatusCode::PARTIAL_CONTENT),
                "304 for {method} {status}"
            );
            assert_eq!(
                reference,
                Outcome::NotModified,
                "wrong 304: {request_fields:?} {:?}",
                head.headers
            );
            assert!(received.is_empty() && !failed && trailers.is_empty());
            assert!(!head.headers.contains_key(CONTENT_LENGTH));
        }
        StatusCode::PRECONDITION_FAILED if status != StatusCode::PRECONDITION_FAILED => {
            assert!(
                get_or_head && status.is_success(),
                "412 for {method} {status}"
            );
            assert_eq!(
                reference,
                Outcome::PreconditionFailed,
                "wrong 412: {request_fields:?} {:?}",
                head.headers
            );
            assert!(received.is_empty() && !failed && trailers.is_empty());
        }
        StatusCode::NOT_MODIFIED => {
            // The inner service's own 304 leaves as the layer's do: no body, no content fields
            // (RFC 9110 §15.4.5; a 304 has no content, whatever body the inner service gave it).
            assert_eq!(status, StatusCode::NOT_MODIFIED);
            assert!(received.is_empty() && !failed && trailers.is_empty());
            for field in [
                CONTENT_LENGTH,
                http::header::CONTENT_ENCODING,
                http::header::CONTENT_TYPE,
            ] {
                assert!(!head.headers.contains_key(&field), "304 with {field}");
            }
        }
        out => {
            // Whatever is not a 304 or 412 is the inner service's answer, body and all (HEAD
            // included: the server, not the layer, leaves a HEAD body out).
            assert_eq!(out, status);
            assert_eq!(received, expected_data);
            assert_eq!(failed, expected_error);
            if let Some(expected) = &expected_trailers {
                assert_eq!(&trailers, expected, "trailers");
            }
        }
    }

    // A strong tag the inner service set may come out changed, and only in these ways: on an
    // encoded success, as the coded tag of its version (`"x-gzip"`, RFC 9110 §8.8.3.3) for the
    // codings the layer names, or weakened for others; on the inner service's own 304, as the
    // weakened form the client holds. A field value has no surrounding whitespace (RFC 9110
    // §5.5): the changed tag is made from the inner one without it.
    // Content-Encoding is a list: any line with a coding other than identity counts.
    let codings: Vec<Vec<u8>> = response_fields
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .flat_map(|line| {
            line.as_bytes()
                .split(|&byte| byte == b',')
                .map(|coding| coding.trim_ascii().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .filter(|coding| !coding.is_empty() && coding.as_slice() != b"identity")
        .collect();
    let all_named = codings.iter().all(|coding| {
        reference::CODINGS
            .iter()
            .any(|name| name.as_bytes() == coding.as_slice())
    });
    let changed = match (inner_etag.as_slice(), out_etag.as_slice()) {
        ([inner], [out]) if inner != out => {
            let inner = inner.as_bytes().trim_ascii();
            let out = out.as_bytes();
            if out == inner {
                // Only the whitespace around the value is gone: the same tag.
                true
            } else if out.strip_prefix(b"W/") == Some(inner) && inner.starts_with(b"\"") {
                assert!(
                    (!codings.is_empty() && !all_named && status.is_success())
                        || status == StatusCode::NOT_MODIFIED,
                    "tag weakened without cause: {status} {response_fields:?}"
                );
                true
            } else if let Some(opaque) = inner
                .strip_prefix(b"\"")
                .and_then(|tag| tag.strip_suffix(b"\""))
            {
                let suffix: Vec<u8> = codings
                    .iter()
                    .flat_map(|coding| [&b"-"[..], coding].concat())
                    .collect();
                assert!(
                    !codings.is_empty() && all_named && status.is_success(),
                    "tag coded without cause: {status} {response_fields:?}"
                );
                assert_eq!(
                    out,
                    [&b"\""[..], opaque, &suffix, b"\""].concat(),
                    "coded tag"
                );
                true
            } else {
                false
            }
        }
        _ => false,
    };
    // A tag the inner service did not set is generated from a complete body, and is its hash.
    if out_etag != inner_etag && !changed {
        assert!(inner_etag.is_empty(), "handler tag replaced");
        assert!(get_or_head && status == StatusCode::OK);
        assert!(!expected_error, "tagged a failed body");
        assert!(expected_data.len() <= limit, "tagged a body over the limit");
        assert_eq!(
            out_etag,
            [HeaderValue::from(
                hash.entity_tag(&[&expected_data], input.weak)
            )]
        );
    }
});

/// The `ETag` and `Last-Modified` of a response; a field that is missing, repeated or
/// malformed counts as absent.
fn response_validators(headers: &HeaderMap) -> Representation {
    let single = |name: HeaderName| {
        let mut lines = headers.get_all(name).into_iter();
        let line = lines.next()?;
        lines.next().is_none().then_some(line)
    };
    let mut validators = Representation::new();
    if let Some(tag) = single(ETAG).and_then(|value| EntityTag::try_from(value).ok()) {
        validators = validators.with_etag(tag);
    }
    if let Some(date) = single(LAST_MODIFIED)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| httpdate::parse_http_date(text).ok())
    {
        validators = validators.with_last_modified(date);
    }
    validators
}

fn layer_settings(
    limit: usize,
    weak: bool,
    hash: TagHash,
    wait_for_body: bool,
    skip: bool,
) -> ConditionalLayer {
    let layer = ConditionalLayer::new()
        .buffer_limit(limit)
        .weak_tags(weak)
        .hash(hash)
        .wait_for_body(wait_for_body);
    if skip {
        layer.skip_when(|info| info.headers().contains_key("x-skip"))
    } else {
        layer
    }
}
