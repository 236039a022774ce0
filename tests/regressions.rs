//! Bugs found by the property tests and the fuzzers, each kept as a test.

mod common;

use std::convert::Infallible;

use bytes::Bytes;
use common::{WAIT, body_bytes, tag_of, through};
use http::header::{ETAG, HeaderName, IF_MODIFIED_SINCE, LAST_MODIFIED};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{Empty, Full};
use tower::{Layer, ServiceExt, service_fn};
use tower_conditional::{ConditionalBody, ConditionalLayer};

const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

/// Found by `properties::the_layer_answers_what_the_model_says`: a handler that sets only
/// `Last-Modified` got a 304 to `If-Modified-Since` without the `ETag` its 200 carries (the
/// layer answered from the date without reading the body). RFC 9110 §15.4.5: a 304 MUST carry
/// the `ETag` a 200 to the same request would have.
#[tokio::test]
async fn a_304_from_if_modified_since_carries_the_generated_etag() {
    let service = ConditionalLayer::new().layer(service_fn(|_: Request<Empty<Bytes>>| async {
        let mut response = Response::new(Full::new(Bytes::from_static(b"dated body")));
        response
            .headers_mut()
            .insert(LAST_MODIFIED, HeaderValue::from_static(DATE));
        Ok::<_, Infallible>(response)
    }));
    let expected = tag_of(b"dated body");

    let ok = tokio::time::timeout(
        WAIT,
        service
            .clone()
            .oneshot(Request::get("/").body(Empty::new()).unwrap()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()[ETAG], expected);
    assert_eq!(body_bytes(ok.into_body()).await, "dated body".as_bytes());

    let not_modified = tokio::time::timeout(
        WAIT,
        service.oneshot(
            Request::get("/")
                .header(IF_MODIFIED_SINCE, DATE)
                .body(Empty::new())
                .unwrap(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.headers()[ETAG], expected);
    assert_eq!(not_modified.headers()[LAST_MODIFIED], DATE);
}

/// Found by the `layer` fuzz target when HEAD was forwarded as GET: a GET body that failed
/// while being buffered became the HEAD's body. HEAD now reaches the inner service as HEAD, and
/// its response is the inner service's: no tag of its own, the body (and its failure) left to
/// the server, which sends no HEAD body, exactly as without the layer.
#[tokio::test]
async fn a_head_reaches_the_inner_service_as_head_and_keeps_its_body() {
    use common::Scripted;
    use http_body_util::BodyExt;

    let service = ConditionalLayer::new().layer(service_fn(|request: Request<Empty<Bytes>>| {
        assert_eq!(request.method(), Method::HEAD);
        async {
            Ok::<_, Infallible>(Response::new(
                Scripted::chunks(["partial"]).with_error("disk on fire"),
            ))
        }
    }));
    let response = tokio::time::timeout(
        WAIT,
        service.oneshot(Request::head("/").body(Empty::new()).unwrap()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response.headers().contains_key(ETAG));
    let collected = tokio::time::timeout(WAIT, response.into_body().collect())
        .await
        .unwrap();
    assert!(collected.is_err(), "the inner body, untouched");
}

/// Found by the `layer` fuzz target: weakening a strong inner tag on an encoded response (or on
/// the inner service's own 304) replaced every `ETag` line with one, so a response with several
/// (malformed) `ETag` lines lost some. Several lines are now left exactly as they are.
#[tokio::test]
async fn several_etag_lines_are_never_rewritten() {
    for (status, inm) in [
        (StatusCode::OK, None),
        (StatusCode::NOT_MODIFIED, Some("W/\"a\"")),
    ] {
        let service =
            ConditionalLayer::new().layer(service_fn(move |_: Request<Empty<Bytes>>| async move {
                let mut response = Response::new(Full::new(Bytes::from_static(b"gz")));
                *response.status_mut() = status;
                let headers = response.headers_mut();
                headers.append(ETAG, HeaderValue::from_static("\"a\""));
                headers.append(ETAG, HeaderValue::from_static("\"b\""));
                headers.insert(
                    http::header::CONTENT_ENCODING,
                    HeaderValue::from_static("gzip"),
                );
                Ok::<_, Infallible>(response)
            }));
        let mut request = Request::get("/");
        if let Some(tag) = inm {
            request = request.header(http::header::IF_NONE_MATCH, tag);
        }
        let response =
            tokio::time::timeout(WAIT, service.oneshot(request.body(Empty::new()).unwrap()))
                .await
                .unwrap()
                .unwrap();
        let tags: Vec<_> = response.headers().get_all(ETAG).iter().collect();
        assert_eq!(tags, ["\"a\"", "\"b\""], "{status}");
    }
}

/// Found by the `layer` fuzzer after the response head came to be read in one pass: the fuzzer's
/// reference read only the first `Content-Encoding` line, the layer now reads them all.
/// `Content-Encoding` is a list (RFC 9110 §8.4), so an empty first line and a `gzip` second
/// line are a gzip body, whose strong tag must become the coded tag of its version (or be
/// weakened, for a coding the layer has no suffix for); lines that name only `identity` leave
/// it as it is.
#[tokio::test]
async fn every_content_encoding_line_counts() {
    for (lines, expected) in [
        (&["", "gzip"][..], "\"a-gzip\""),
        (&["identity", "gzip"][..], "\"a-gzip\""),
        (&["gzip"][..], "\"a-gzip\""),
        (&["gzip", "br"][..], "\"a-gzip-br\""),
        (&["gzip", "exi"][..], "W/\"a\""),
        (&["identity", " "][..], "\"a\""),
        (&[][..], "\"a\""),
    ] {
        let mut fields = vec![(ETAG, "\"a\"")];
        fields.extend(
            lines
                .iter()
                .map(|&line| (http::header::CONTENT_ENCODING, line)),
        );
        let response = answer_to_get(b"body", fields).await;
        assert_eq!(response.headers()[ETAG], expected, "{lines:?}");
    }
}

/// Read in the same pass: a `Content-Type` line of a streaming type on any line, not only the
/// first, passes the response through unread and untagged (rack #1619: buffering would hold
/// back events).
#[tokio::test]
async fn a_streaming_type_on_any_content_type_line_passes_through() {
    for (lines, tagged) in [
        (&["text/html", "text/event-stream"][..], false),
        (&["application/grpc"][..], false),
        (&["text/html", "text/plain"][..], true),
    ] {
        let fields = lines.iter().map(|&line| (http::header::CONTENT_TYPE, line));
        let response = answer_to_get(b"data: 1\n\n", fields.collect()).await;
        assert_eq!(response.headers().contains_key(ETAG), tagged, "{lines:?}");
    }
}

/// The layer's answer to a plain GET whose handler sends `body` with these header lines, in order.
async fn answer_to_get(
    body: &'static [u8],
    fields: Vec<(HeaderName, &'static str)>,
) -> Response<ConditionalBody<Full<Bytes>>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body)));
    for (name, value) in &fields {
        response
            .headers_mut()
            .append(name, HeaderValue::from_static(value));
    }
    through(ConditionalLayer::new(), Method::GET, response).await
}

/// Found by the `layer` fuzz target: a body whose trailers came before a frame that was not
/// ready lost them, as the layer sent on what it had read without them.
#[tokio::test]
async fn trailers_read_before_a_pause_are_sent() {
    use http_body::{Body as _, Frame};
    use http_body_util::BodyExt;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// "data", then trailers, then not ready once, then the end.
    struct Paused(u8);
    impl http_body::Body for Paused {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            self.0 += 1;
            match self.0 {
                1 => Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"data"))))),
                2 => {
                    let mut trailers = http::HeaderMap::new();
                    trailers.insert("x-checksum", http::HeaderValue::from_static("abc"));
                    Poll::Ready(Some(Ok(Frame::trailers(trailers))))
                }
                3 => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                _ => Poll::Ready(None),
            }
        }
    }

    let response = through(
        ConditionalLayer::new(),
        Method::GET,
        Response::new(Paused(0)),
    )
    .await;
    assert!(!response.headers().contains_key(ETAG), "sent on untagged");
    assert_eq!(response.body().size_hint().exact(), None);
    let collected = tokio::time::timeout(WAIT, response.into_body().collect())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(collected.trailers().unwrap()["x-checksum"], "abc");
    assert_eq!(collected.to_bytes(), "data");
}
