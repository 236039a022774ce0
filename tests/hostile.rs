//! Hostile and broken input: each case has one expected outcome, a safe 200 (or the inner
//! response unchanged), never a panic and never a wrong 304. Request fields go over real TCP to
//! an axum server on 127.0.0.1; broken bodies and services are driven through the layer
//! directly. Cases already covered elsewhere (obs-text in `evaluate`, dates in
//! `axum_placements`, errors after 0/1/2 chunks and past the limit in `bodies`) are not
//! repeated.

mod common;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use common::{
    BoxError, Reply, Scripted, WAIT, body_bytes, data_until_error, fetch, serve, tag_of, through,
};
use http::header::{
    CONTENT_LENGTH, ETAG, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE,
    LAST_MODIFIED,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Empty};
use tower::{Layer, Service, ServiceExt, service_fn};
use tower_conditional::ConditionalLayer;

const PAGE: &str = "<h1>page</h1>";
const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

fn app() -> Router {
    Router::new()
        .route("/page", get(|| async { PAGE }))
        .route("/dated", get(|| async { ([(LAST_MODIFIED, DATE)], PAGE) }))
        .route(
            "/obs-text",
            get(|| async {
                let mut response = Response::new(axum::body::Body::from(PAGE));
                response
                    .headers_mut()
                    .insert(ETAG, HeaderValue::from_bytes(b"\"caf\xe9\"").unwrap());
                response
            }),
        )
        .route(
            "/two-etags",
            get(|| async {
                let mut response = Response::new(axum::body::Body::from(PAGE));
                response
                    .headers_mut()
                    .append(ETAG, HeaderValue::from_static("\"a\""));
                response
                    .headers_mut()
                    .append(ETAG, HeaderValue::from_static("\"b\""));
                response
            }),
        )
        .layer(ConditionalLayer::new())
}

/// One GET over a fresh HTTP/1.1 connection with the given raw header lines.
async fn send(addr: SocketAddr, path: &str, fields: &[(HeaderName, Vec<u8>)]) -> Reply {
    let mut request = Request::get(path);
    for (name, value) in fields {
        request = request.header(name, HeaderValue::from_bytes(value).unwrap());
    }
    fetch(addr, request.body(Empty::<Bytes>::new()).unwrap()).await
}

/// The full page, tagged, as a safe answer must be.
fn assert_full_200(answer: &Reply, case: &str) {
    assert_eq!(answer.status, StatusCode::OK, "{case}");
    assert_eq!(answer.body, PAGE.as_bytes(), "{case}");
}

#[tokio::test]
async fn non_utf8_and_obs_text_fields() {
    let addr = serve(app()).await;
    // obs-text is legal inside a tag: the handler's `"café"` (Latin-1) matches byte for byte.
    let answer = send(
        addr,
        "/obs-text",
        &[(IF_NONE_MATCH, b"\"caf\xe9\"".to_vec())],
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_MODIFIED);
    assert_eq!(answer.headers[ETAG].as_bytes(), b"\"caf\xe9\"");
    // The same text in UTF-8 is other bytes: no match.
    let answer = send(addr, "/obs-text", &[(IF_NONE_MATCH, "\"café\"".into())]).await;
    assert_full_200(&answer, "utf-8 vs latin-1");
    for (name, value, case) in [
        (IF_NONE_MATCH, &b"\xff\xfe"[..], "bare obs-text"),
        (IF_NONE_MATCH, b"\"\xff", "unterminated"),
        (IF_NONE_MATCH, b"W/\xff\"a\"", "obs-text before the quote"),
        (
            IF_MODIFIED_SINCE,
            b"Sun, 06 Nov 1994 08:49:37 \xc7MT",
            "obs-text date",
        ),
        (IF_UNMODIFIED_SINCE, b"\xe9\xe9\xe9", "obs-text date"),
    ] {
        let path = if name == IF_NONE_MATCH {
            "/page"
        } else {
            "/dated"
        };
        let answer = send(addr, path, &[(name, value.to_vec())]).await;
        assert_full_200(&answer, case);
    }
    // A malformed If-Match is false: 412, never the page.
    let answer = send(addr, "/page", &[(IF_MATCH, b"\xff".to_vec())]).await;
    assert_eq!(answer.status, StatusCode::PRECONDITION_FAILED);
    assert!(answer.body.is_empty());
}

#[tokio::test]
async fn fields_of_64_kib_and_lists_of_10000_tags() {
    let addr = serve(app()).await;
    let tag = tag_of(PAGE.as_bytes());
    let tag = tag.as_str();

    // 64 KiB of one huge opaque tag that matches nothing.
    let huge = format!("\"{}\"", "x".repeat(64 * 1024 - 2));
    let answer = send(addr, "/page", &[(IF_NONE_MATCH, huge.clone().into())]).await;
    assert_full_200(&answer, "64 KiB tag");
    // 64 KiB of garbage, and 64 KiB of quotes.
    for garbage in ["a".repeat(64 * 1024), "\"".repeat(64 * 1024)] {
        let answer = send(addr, "/page", &[(IF_NONE_MATCH, garbage.clone().into())]).await;
        assert_full_200(&answer, "64 KiB garbage");
        let answer = send(addr, "/dated", &[(IF_MODIFIED_SINCE, garbage.into())]).await;
        assert_full_200(&answer, "64 KiB date");
    }

    let mut list: String = (0..10_000).map(|i| format!("\"t{i}\", ")).collect();
    let answer = send(addr, "/page", &[(IF_NONE_MATCH, list.clone().into())]).await;
    assert_full_200(&answer, "10,000 other tags");
    list.push_str(tag);
    let answer = send(addr, "/page", &[(IF_NONE_MATCH, list.clone().into())]).await;
    assert_eq!(answer.status, StatusCode::NOT_MODIFIED, "match at the end");
    // One malformed member anywhere makes the field false: never a 304.
    let broken = format!("junk, {list}");
    let answer = send(addr, "/page", &[(IF_NONE_MATCH, broken.into())]).await;
    assert_full_200(&answer, "10,000 tags after junk");
    let answer = send(
        addr,
        "/page",
        &[(IF_NONE_MATCH, format!("{list}, junk").into())],
    )
    .await;
    assert_full_200(&answer, "10,000 tags before junk");
    // Many lines of one tag each: hyper refuses more than 100 fields (431) before the layer
    // sees them, so 90 over the wire...
    let mut lines: Vec<(HeaderName, Vec<u8>)> = (0..90)
        .map(|i| (IF_NONE_MATCH, format!("\"t{i}\"").into_bytes()))
        .collect();
    let answer = send(addr, "/page", &lines).await;
    assert_full_200(&answer, "90 lines");
    lines.push((IF_NONE_MATCH, tag.as_bytes().to_vec()));
    let answer = send(addr, "/page", &lines).await;
    assert_eq!(answer.status, StatusCode::NOT_MODIFIED, "match on line 91");
    // ... and 10,000 lines through the layer directly.
    let mut request = Request::get("/page")
        .body(axum::body::Body::empty())
        .unwrap();
    for i in 0..10_000 {
        request.headers_mut().append(
            IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"t{i}\"")).unwrap(),
        );
    }
    request
        .headers_mut()
        .append(IF_NONE_MATCH, HeaderValue::from_static("junk"));
    let response = app().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "10,000 lines and junk");
    assert_eq!(body_bytes(response.into_body()).await, PAGE.as_bytes());
}

#[tokio::test]
async fn contradictory_duplicate_fields() {
    let addr = serve(app()).await;
    let tag = tag_of(PAGE.as_bytes()).into_bytes();
    // A matching line and a malformed line: the field is malformed, so true: the full 200.
    let answer = send(
        addr,
        "/page",
        &[
            (IF_NONE_MATCH, tag.clone()),
            (IF_NONE_MATCH, b"garbage".to_vec()),
        ],
    )
    .await;
    assert_full_200(&answer, "matching + malformed If-None-Match");
    // `*` on one line and a tag on another: `*` must stand alone, so malformed.
    let answer = send(
        addr,
        "/page",
        &[(IF_NONE_MATCH, b"*".to_vec()), (IF_NONE_MATCH, tag.clone())],
    )
    .await;
    assert_full_200(&answer, "* + tag If-None-Match");
    let answer = send(
        addr,
        "/page",
        &[(IF_MATCH, b"*".to_vec()), (IF_MATCH, tag.clone())],
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::PRECONDITION_FAILED,
        "* + tag If-Match"
    );
    // Two dates, either of which would give a 304 or a 412: both ignored.
    let answer = send(
        addr,
        "/dated",
        &[
            (IF_MODIFIED_SINCE, DATE.into()),
            (IF_MODIFIED_SINCE, "Mon, 07 Nov 1994 08:49:37 GMT".into()),
        ],
    )
    .await;
    assert_full_200(&answer, "two If-Modified-Since");
    let answer = send(
        addr,
        "/dated",
        &[
            (IF_UNMODIFIED_SINCE, "Sat, 05 Nov 1994 08:49:37 GMT".into()),
            (IF_UNMODIFIED_SINCE, "Fri, 04 Nov 1994 08:49:37 GMT".into()),
        ],
    )
    .await;
    assert_full_200(&answer, "two If-Unmodified-Since");
    // A handler that sends two ETags has no valid tag: none is matched, none is generated.
    for value in [&b"\"a\""[..], b"\"b\"", b"\"a\", \"b\""] {
        let answer = send(addr, "/two-etags", &[(IF_NONE_MATCH, value.to_vec())]).await;
        assert_full_200(&answer, "two handler ETags");
        assert_eq!(answer.headers.get_all(ETAG).iter().count(), 2);
    }
}

#[tokio::test]
async fn impossible_dates_are_ignored_by_if_unmodified_since_too() {
    let addr = serve(app()).await;
    for date in [
        "Sat, 01 Jan 10000 00:00:00 GMT",
        "Sat, 05 Nov 1994 08:49:60 GMT",
        "Sat, 05 Nov 1994 08:49:37 CET",
        "Sat, 05 Nov 1994 08:49:37 +0000",
        "Sat, 05 Nov 1994 08:49:37 UTC",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sat, 05 Nov 1994 25:49:37 GMT",
    ] {
        // Valid, each of these would be earlier than Last-Modified and give a 412.
        let answer = send(addr, "/dated", &[(IF_UNMODIFIED_SINCE, date.into())]).await;
        assert_full_200(&answer, date);
    }
    // The control: a valid earlier date does give the 412.
    let answer = send(
        addr,
        "/dated",
        &[(IF_UNMODIFIED_SINCE, "Sat, 05 Nov 1994 08:49:37 GMT".into())],
    )
    .await;
    assert_eq!(answer.status, StatusCode::PRECONDITION_FAILED);
    // Year 9999 is a valid date, later than Last-Modified: 304.
    let answer = send(
        addr,
        "/dated",
        &[(IF_MODIFIED_SINCE, "Fri, 31 Dec 9999 23:59:59 GMT".into())],
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_MODIFIED);
}

// ---------------------------------------------------------------------------------------------
// Broken bodies and services, through the layer directly.

#[tokio::test]
async fn size_hints_that_lie_do_not_move_the_limit() {
    let limit = 1024 * 1024;
    // One chunk of 2 MiB behind a hint of 10 bytes: untagged, delivered whole.
    let big = vec![7u8; 2 * limit];
    let body = Scripted::chunks([big.clone()]).with_hint(SizeHint::with_exact(10));
    let response = through(ConditionalLayer::new(), Method::GET, Response::new(body)).await;
    assert!(!response.headers().contains_key(ETAG));
    assert_eq!(body_bytes(response.into_body()).await, big);
    // A hint that claims more than the limit for a small body: not read, passed on untagged.
    let mut hint = SizeHint::new();
    hint.set_lower(u64::MAX);
    let body = Scripted::chunks(["small"]).with_hint(hint);
    let polled = body.polled.clone();
    let response = through(ConditionalLayer::new(), Method::GET, Response::new(body)).await;
    assert_eq!(polled.load(Ordering::SeqCst), 0);
    assert!(!response.headers().contains_key(ETAG));
    assert_eq!(body_bytes(response.into_body()).await, "small".as_bytes());
    // A handler Content-Length that lies, is repeated, or is not 1*DIGIT though a lenient
    // parser would read the right number in it, is replaced by the true length of a tagged body:
    // one line.
    let claims: [&[&str]; 8] = [
        &["5"],
        &["+1000"],
        &["1000 "],
        &["1000, 1000"],
        &["1000"],
        &["1000", "5"],
        &["5", "1000"],
        &["1000", "1000"],
    ];
    for claimed in claims {
        let service = ConditionalLayer::new().layer(service_fn(move |_: Request<Empty<Bytes>>| {
            let mut response = Response::new(Scripted::chunks(["0123456789"; 100]));
            for line in claimed {
                response
                    .headers_mut()
                    .append(CONTENT_LENGTH, HeaderValue::from_static(line));
            }
            async { Ok::<_, Infallible>(response) }
        }));
        let response = service
            .oneshot(Request::get("/").body(Empty::new()).unwrap())
            .await
            .unwrap();
        assert!(response.headers().contains_key(ETAG));
        let lengths: Vec<_> = response.headers().get_all(CONTENT_LENGTH).iter().collect();
        assert_eq!(lengths, ["1000"], "{claimed:?}");
        assert_eq!(body_bytes(response.into_body()).await.len(), 1000);
    }
}

#[tokio::test]
async fn a_body_of_only_empty_frames_is_the_empty_body() {
    let response = through(
        ConditionalLayer::new(),
        Method::GET,
        Response::new(Scripted::chunks(vec![""; 1000])),
    )
    .await;
    assert_eq!(response.headers()[ETAG], tag_of(b""));
    // The exact length travels as the body's size hint (servers write Content-Length from it).
    assert_eq!(response.body().size_hint().exact(), Some(0));
    assert!(body_bytes(response.into_body()).await.is_empty());
    // Only trailers: the empty body's tag, the trailers kept.
    let mut trailers = HeaderMap::new();
    trailers.insert("x-sum", HeaderValue::from_static("0"));
    let response = through(
        ConditionalLayer::new(),
        Method::GET,
        Response::new(Scripted::chunks([""]).with_trailers(trailers)),
    )
    .await;
    assert!(response.headers().contains_key(ETAG));
    let collected = response.into_body().collect().await.unwrap();
    assert_eq!(collected.trailers().unwrap()["x-sum"], "0");
}

#[tokio::test]
async fn a_body_error_exactly_at_the_limit_is_an_error_not_a_tagged_200() {
    let response = through(
        ConditionalLayer::new().buffer_limit(4),
        Method::GET,
        Response::new(Scripted::chunks(["ab", "cd"]).with_error("at the limit")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response.headers().contains_key(ETAG));
    let (seen, error) = data_until_error(&mut response.into_body()).await;
    assert_eq!(seen, b"abcd");
    assert_eq!(error.to_string(), "at the limit");
    // And it never turns into a 304, even for a request that would match the full body's tag.
    let service = ConditionalLayer::new().buffer_limit(4).layer(service_fn(
        |_: Request<Empty<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(
                Scripted::chunks(["ab", "cd"]).with_error("at the limit"),
            ))
        },
    ));
    let tag = tag_of(b"abcd");
    let response = service
        .oneshot(
            Request::get("/")
                .header(IF_NONE_MATCH, &tag)
                .body(Empty::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// An inner service whose `poll_ready` fails.
#[derive(Clone)]
struct NeverReady;

impl Service<Request<Empty<Bytes>>> for NeverReady {
    type Response = Response<Empty<Bytes>>;
    type Error = BoxError;
    type Future = std::future::Ready<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Err("overloaded".into()))
    }

    fn call(&mut self, _request: Request<Empty<Bytes>>) -> Self::Future {
        panic!("called without being ready")
    }
}

#[tokio::test]
async fn a_poll_ready_error_is_the_callers() {
    let service = ConditionalLayer::new().layer(NeverReady);
    let error = tokio::time::timeout(
        WAIT,
        service.oneshot(Request::get("/").body(Empty::new()).unwrap()),
    )
    .await
    .unwrap()
    .expect_err("the error of poll_ready");
    assert_eq!(error.to_string(), "overloaded");
}

// ---------------------------------------------------------------------------------------------
// Dropping a response future in the middle of buffering frees everything.

/// Counts live instances: chunk owners and bodies.
#[derive(Clone, Default)]
struct Live(Arc<AtomicUsize>);

impl Live {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

struct TrackedChunk {
    bytes: Vec<u8>,
    _live: LiveGuard,
}

impl AsRef<[u8]> for TrackedChunk {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

struct LiveGuard(Live);

impl LiveGuard {
    fn new(live: &Live) -> Self {
        live.0.fetch_add(1, Ordering::SeqCst);
        Self(live.clone())
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A body that yields `chunks` tracked chunks, then stays pending forever.
struct Stalling {
    remaining: usize,
    chunks: Live,
    _body: LiveGuard,
}

impl Body for Stalling {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Pending;
        }
        self.remaining -= 1;
        let chunk = TrackedChunk {
            bytes: vec![1u8; 1000],
            _live: LiveGuard::new(&self.chunks),
        };
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_owner(chunk)))))
    }
}

#[test]
fn a_response_future_dropped_while_buffering_frees_the_body_and_every_chunk() {
    let bodies = Live::default();
    let chunks = Live::default();
    // A layer told to wait for slow bodies: the one that holds a body while it stalls.
    let mut service = ConditionalLayer::new()
        .wait_for_body(true)
        .layer(service_fn({
            let bodies = bodies.clone();
            let chunks = chunks.clone();
            move |_: Request<Empty<Bytes>>| {
                let body = Stalling {
                    remaining: 50,
                    chunks: chunks.clone(),
                    _body: LiveGuard::new(&bodies),
                };
                std::future::ready(Ok::<_, Infallible>(Response::new(body)))
            }
        }));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut cx).is_ready());
    let mut future = Box::pin(service.call(Request::get("/").body(Empty::new()).unwrap()));
    for _ in 0..10 {
        assert!(future.as_mut().poll(&mut cx).is_pending());
    }
    // Buffering: the body is alive and 50 chunks (50 KB, under the limit) are held.
    assert_eq!(bodies.count(), 1);
    assert_eq!(chunks.count(), 50);
    drop(future);
    assert_eq!(bodies.count(), 0, "body leaked");
    assert_eq!(chunks.count(), 0, "chunks leaked");
}

#[tokio::test]
async fn a_client_that_hangs_up_while_the_layer_buffers_frees_everything() {
    let bodies = Live::default();
    let chunks = Live::default();
    let app = Router::new()
        .route(
            "/stall",
            get({
                let bodies = bodies.clone();
                let chunks = chunks.clone();
                move || {
                    let body = Stalling {
                        remaining: 20,
                        chunks: chunks.clone(),
                        _body: LiveGuard::new(&bodies),
                    };
                    async move { axum::body::Body::new(body) }
                }
            }),
        )
        .layer(ConditionalLayer::new().wait_for_body(true));
    let addr = serve(app).await;
    let mut connection = common::RawConnection::open(addr).await;
    // Write the request and hang up without reading: the response is stuck in buffering.
    let send = connection.send("GET", "/stall", &[]);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), send)
            .await
            .is_err(),
        "no response can come while the body stalls"
    );
    assert_eq!(bodies.count(), 1);
    assert_eq!(chunks.count(), 20);
    drop(connection);
    let deadline = tokio::time::Instant::now() + WAIT;
    while (bodies.count(), chunks.count()) != (0, 0) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "leaked after hang-up: {} bodies, {} chunks",
            bodies.count(),
            chunks.count()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn other_methods_pass_hostile_fields_to_the_handler_untouched() {
    // A PUT with a garbage If-Match reaches the handler and its answer comes back as it is:
    // the layer does not evaluate preconditions after a write.
    let service = ConditionalLayer::new().layer(service_fn(|request: Request<Empty<Bytes>>| {
        let seen = request.headers().get(IF_MATCH).cloned();
        async move {
            let mut response = Response::new(Scripted::chunks(["stored"]));
            *response.status_mut() = StatusCode::CREATED;
            if let Some(seen) = seen {
                response.headers_mut().insert("x-seen", seen);
            }
            Ok::<_, Infallible>(response)
        }
    }));
    let mut request = Request::new(Empty::new());
    *request.method_mut() = Method::PUT;
    request
        .headers_mut()
        .insert(IF_MATCH, HeaderValue::from_bytes(b"\xff garbage").unwrap());
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["x-seen"].as_bytes(), b"\xff garbage");
    assert!(!response.headers().contains_key(ETAG));
    assert_eq!(body_bytes(response.into_body()).await, "stored".as_bytes());
}

/// salvo #1555 answered a forged 304 from a tag the client sent. Tags here come from the
/// response alone: a request carrying `ETag` and a matching `If-None-Match` of its own gets the
/// full page with the page's tag.
#[tokio::test]
async fn tags_are_never_taken_from_the_request() {
    let addr = serve(app()).await;
    let answer = send(
        addr,
        "/page",
        &[
            (ETAG, b"\"forged\"".to_vec()),
            (IF_NONE_MATCH, b"\"forged\"".to_vec()),
            (IF_MATCH, b"\"forged\"".to_vec()),
        ],
    )
    .await;
    // If-Match "forged" is false against the page's real tag: 412, carrying the real tag.
    assert_eq!(answer.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(answer.headers[ETAG], tag_of(PAGE.as_bytes()));
    let answer = send(
        addr,
        "/page",
        &[
            (ETAG, b"\"forged\"".to_vec()),
            (IF_NONE_MATCH, b"\"forged\"".to_vec()),
        ],
    )
    .await;
    assert_full_200(&answer, "forged tag");
    assert_eq!(answer.headers[ETAG], tag_of(PAGE.as_bytes()));
}

/// SECURITY.md's recipe: per-user `private` pages get no generated tag (a tag would identify
/// the user's page on every revalidation), while public pages still do.
#[tokio::test]
async fn private_responses_can_be_left_untagged() {
    use http::header::CACHE_CONTROL;

    let layer = ConditionalLayer::new().skip_when(|response| {
        response
            .headers()
            .get_all(CACHE_CONTROL)
            .iter()
            .any(|value| {
                value
                    .as_bytes()
                    .split(|&byte| byte == b',')
                    .any(|directive| directive.trim_ascii().eq_ignore_ascii_case(b"private"))
            })
    });
    let app = Router::new()
        .route(
            "/me",
            get(|| async { ([(CACHE_CONTROL, "max-age=0, Private")], "hello, user 42") }),
        )
        .route("/public", get(|| async { PAGE }))
        .layer(layer);
    let addr = serve(app).await;
    let answer = send(addr, "/me", &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        !answer.headers.contains_key(ETAG),
        "a private page was tagged"
    );
    assert_eq!(answer.body, "hello, user 42".as_bytes());
    // Even a client that guesses the tag gets the page, not a 304.
    let guessed = tag_of(b"hello, user 42");
    let answer = send(addr, "/me", &[(IF_NONE_MATCH, guessed.into_bytes())]).await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = send(addr, "/public", &[]).await;
    assert_eq!(answer.headers[ETAG], tag_of(PAGE.as_bytes()));
}
