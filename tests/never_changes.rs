//! The rule above all: adding the layer never changes what the app answers, nor makes it do
//! more work, except to replace a 200 (or 206) by the 304 or 412 RFC 9110 requires and to add
//! validators. One test per way the layer once broke that, each over real TCP on 127.0.0.1 and
//! in both placements (`Router::layer` and around the router), beside the same app without the
//! layer.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::Request as AxumRequest;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head};
use bytes::Bytes;
use common::{
    Counter, RawResponse, WAIT, ask, at, serve, serve_service, served_placements, tag_of,
};
use http::header::{AUTHORIZATION, CONTENT_RANGE, ETAG, LAST_MODIFIED, RANGE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::{BoxError, ServiceBuilder};
use tower_conditional::source::Current;
use tower_conditional::{ConditionalLayer, EntityTag, Preconditions, Representation};

/// What a client sees of an answer, less what differs between any two answers (`Date`) and
/// the validators the layer may add.
fn seen(response: &RawResponse) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut headers: Vec<(String, String)> = response
        .headers
        .iter()
        .filter(|(name, _)| name != "date" && name != "etag")
        .cloned()
        .collect();
    headers.sort();
    (response.status(), headers, response.body.clone())
}

// 1. HEAD handlers run for HEAD, and HEAD-only routes exist, in both placements.
#[tokio::test]
async fn head_routes_answer_as_without_the_layer() {
    let gets = Counter::default();
    let heads = Counter::default();
    let app = {
        let (gets, heads) = (gets.clone(), heads.clone());
        let heads_only = heads.clone();
        Router::new()
            .route(
                "/both",
                get(move || {
                    gets.hit();
                    async { ([("x-handler", "get")], "the GET body") }
                })
                .head(move || {
                    heads.hit();
                    async { [("x-handler", "head"), ("x-cost", "cheap")] }
                }),
            )
            .route(
                "/head-only",
                head(move || {
                    heads_only.hit();
                    async { [("x-handler", "head-only")] }
                }),
            )
            .route("/get-only", get(|| async { "only GET here" }))
    };
    let servers = served_placements(app, ConditionalLayer::new()).await;
    let bare = servers[0].1;
    for path in ["/both", "/head-only", "/get-only"] {
        let expected = ask(bare, "HEAD", path, &[]).await;
        assert_eq!(expected.status(), 200, "{path}");
        for (placement, addr) in &servers[1..] {
            let answer = ask(*addr, "HEAD", path, &[]).await;
            assert_eq!(seen(&answer), seen(&expected), "{placement} HEAD {path}");
            // Never the tag of an empty HEAD body (Spring SPR-15261).
            assert_ne!(answer.header("etag"), Some(tag_of(b"").as_str()));
        }
    }
    // HEAD ran the HEAD handlers only, once per server and path: GET's never ran.
    assert_eq!(gets.get(), 0);
    // `/both` and `/head-only` on every server.
    assert_eq!(heads.get(), 2 * servers.len());

    // Where the layer sees GET's body (inside the router: axum empties it outside), HEAD gets
    // GET's tag and revalidates; around the router it carries none (RFC 9110 §9.3.2).
    let get_tag = ask(servers[1].1, "GET", "/get-only", &[]).await;
    let get_tag = get_tag.header("etag").unwrap().to_owned();
    let inside = ask(servers[1].1, "HEAD", "/get-only", &[]).await;
    assert_eq!(inside.header("etag"), Some(get_tag.as_str()));
    let revalidated = ask(
        servers[1].1,
        "HEAD",
        "/get-only",
        &[("if-none-match", &get_tag)],
    )
    .await;
    assert_eq!(revalidated.status(), 304);
    let around = ask(servers[2].1, "HEAD", "/get-only", &[]).await;
    assert_eq!(around.header("etag"), None);
}

/// A handler that serves ranges itself, as `ServeDir` does, and knows nothing of preconditions.
async fn ranged(headers: HeaderMap) -> Response {
    let body = "0123456789abcdefghij";
    let validators = [
        (ETAG, "\"r1\""),
        (LAST_MODIFIED, "Sun, 06 Nov 1994 08:49:37 GMT"),
    ];
    if headers.contains_key(RANGE) {
        let range = [(CONTENT_RANGE, "bytes 0-4/20")];
        (StatusCode::PARTIAL_CONTENT, validators, range, &body[..5]).into_response()
    } else {
        (validators, body).into_response()
    }
}

// 2. HEAD with Range is the inner service's answer (Range is defined for GET only, §14.2), and
// 3. a range request whose If-None-Match or If-Modified-Since is false gets its 304 (§13.2.2).
#[tokio::test]
async fn range_requests_are_judged_before_their_range() {
    let app = Router::new().route("/ranged", get(ranged));
    let servers = served_placements(app, ConditionalLayer::new()).await;
    let bare = servers[0].1;
    let range = ("range", "bytes=0-4");
    for (placement, addr) in &servers[1..] {
        for headers in [
            &[range][..],
            &[range, ("if-none-match", "\"other\"")][..],
            &[][..],
        ] {
            let expected = ask(bare, "HEAD", "/ranged", headers).await;
            let answer = ask(*addr, "HEAD", "/ranged", headers).await;
            assert_eq!(
                seen(&answer),
                seen(&expected),
                "{placement} HEAD {headers:?}"
            );
            let expected = ask(bare, "GET", "/ranged", headers).await;
            let answer = ask(*addr, "GET", "/ranged", headers).await;
            assert_eq!(
                seen(&answer),
                seen(&expected),
                "{placement} GET {headers:?}"
            );
        }
        for condition in [
            ("if-none-match", "\"r1\""),
            ("if-none-match", "W/\"r1\""),
            ("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ] {
            let answer = ask(*addr, "GET", "/ranged", &[range, condition]).await;
            assert_eq!(answer.status(), 304, "{placement} {condition:?}");
            // The tag the client holds: weakened by a proxy, or the one it revalidates by date.
            let held = if condition.0 == "if-none-match" {
                condition.1
            } else {
                "\"r1\""
            };
            assert_eq!(answer.header("etag"), Some(held));
            assert_eq!(answer.header("content-range"), None);
            assert!(answer.body.is_empty());
        }
        let answer = ask(*addr, "GET", "/ranged", &[range, ("if-match", "\"r0\"")]).await;
        assert_eq!(answer.status(), 412, "{placement}");
    }
}

// 5. A live stream reaches the client while it is open, in both placements.
#[tokio::test]
async fn live_streams_are_never_held_back() {
    const GAP: Duration = Duration::from_millis(400);
    fn live() -> Body {
        let lines = futures_util::stream::unfold(0u32, |n| async move {
            if n == 3 {
                return None;
            }
            if n > 0 {
                tokio::time::sleep(GAP).await;
            }
            Some((
                Ok::<_, Infallible>(Bytes::from(format!("{{\"n\":{n}}}\n"))),
                n + 1,
            ))
        });
        Body::from_stream(lines)
    }
    let app = Router::new().route(
        "/live",
        get(|| async { ([("content-type", "application/x-ndjson")], live()) }),
    );
    let servers = served_placements(app.clone(), ConditionalLayer::new()).await;
    for (placement, addr) in servers {
        let (first, whole) = first_line_delay(addr).await;
        assert!(
            first < GAP,
            "{placement}: the first line took {first:?}, the stream {whole:?}"
        );
        assert!(
            whole >= GAP * 2,
            "{placement}: the stream ended after {whole:?}"
        );
    }
    // Waiting for slow bodies is a choice: then the client sees nothing before the end, and
    // gets a tag.
    let waiting = serve(app.layer(ConditionalLayer::new().wait_for_body(true))).await;
    let (first, _) = first_line_delay(waiting).await;
    assert!(first >= GAP * 2, "held for {first:?}");
    let answer = ask(waiting, "GET", "/live", &[]).await;
    assert!(answer.header("etag").is_some());
}

/// How long after the request the first NDJSON line arrived, and the stream's end.
async fn first_line_delay(addr: SocketAddr) -> (Duration, Duration) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    stream
        .write_all(b"GET /live HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    let mut first = None;
    let mut buffer = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(WAIT, stream.read(&mut buffer))
            .await
            .expect("bytes in time")
            .unwrap();
        if read == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..read]);
        if first.is_none() && received.windows(7).any(|w| w == b"{\"n\":0}") {
            first = Some(start.elapsed());
        }
    }
    let text = String::from_utf8_lossy(&received);
    assert!(text.contains("{\"n\":2}"), "whole stream: {text}");
    (first.expect("the first line"), start.elapsed())
}

/// A source that knows items `/items/a` (tag "a") and says every other item is missing.
fn item_source() -> ConditionalLayer {
    ConditionalLayer::new().validator_source(|request: &http::request::Parts| {
        let exists = request.uri.path() == "/items/a";
        async move {
            Ok::<_, BoxError>(if exists {
                Current::Exists(Representation::new().with_etag(EntityTag::strong("a")?))
            } else {
                Current::Missing
            })
        }
    })
}

// 6. A missing resource keeps its 404: preconditions apply only where the response would be
// 2xx (§13.2.1); a write that may create stays protected.
#[tokio::test]
async fn a_missing_resource_keeps_its_404() {
    let writes = Counter::default();
    let app = {
        let writes = writes.clone();
        Router::new().route(
            "/items/{id}",
            get(|| async { (StatusCode::NOT_FOUND, "no such item") }).put(move || {
                writes.hit();
                async { StatusCode::CREATED }
            }),
        )
    };
    let servers = served_placements(app, item_source()).await;
    for (placement, addr) in &servers[1..] {
        for method in ["GET", "HEAD"] {
            for condition in [
                ("if-match", "\"a\""),
                ("if-match", "*"),
                ("if-unmodified-since", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ] {
                let answer = ask(*addr, method, "/items/b", &[condition]).await;
                let expected = ask(servers[0].1, method, "/items/b", &[condition]).await;
                assert_eq!(answer.status(), 404, "{placement} {method} {condition:?}");
                assert_eq!(seen(&answer), seen(&expected));
            }
        }
        let before = writes.get();
        let answer = ask(*addr, "PUT", "/items/b", &[("if-match", "\"a\"")]).await;
        assert_eq!(
            answer.status(),
            412,
            "{placement}: a write to a missing item with If-Match"
        );
        assert_eq!(writes.get(), before, "{placement}: the handler ran");
        let answer = ask(*addr, "PUT", "/items/b", &[("if-none-match", "*")]).await;
        assert_eq!(answer.status(), 201, "{placement}: create-only");
        assert_eq!(writes.get(), before + 1);
    }
}

/// The `Last-Modified` of an answer, which must be a valid date no later than now.
fn sent_date(response: &RawResponse) -> Option<SystemTime> {
    let value = response.header("last-modified")?;
    let date = httpdate::parse_http_date(value).expect("a valid HTTP-date");
    assert!(date <= SystemTime::now(), "a date in the future: {value}");
    Some(date)
}

// 7. Dates no HTTP-date can say never panic, whoever reports them, and
// 8. a modification date in the future is sent as now (§8.8.2.1).
#[tokio::test]
async fn dates_out_of_range_or_in_the_future_are_handled() {
    let dates = [
        ("before 1970", UNIX_EPOCH - Duration::from_secs(86_400)),
        ("after 9999", at(300_000_000_000)),
        ("in 2100", at(4_102_444_800)),
    ];
    for (label, date) in dates {
        let layer =
            ConditionalLayer::new().validator_source(move |_: &http::request::Parts| async move {
                Ok::<_, BoxError>(Current::Exists(
                    Representation::new()
                        .with_etag(EntityTag::strong("d")?)
                        .with_last_modified(date),
                ))
            });
        let app = Router::new().route("/", get(|| async { "dated by its source" }));
        let servers = served_placements(app, layer).await;
        for (placement, addr) in &servers[1..] {
            let answer = ask(*addr, "GET", "/", &[]).await;
            assert_eq!(answer.status(), 200, "{label} {placement}");
            let sent = sent_date(&answer);
            assert_eq!(sent.is_some(), date > UNIX_EPOCH, "{label}: {sent:?}");
            let answer = ask(*addr, "GET", "/", &[("if-none-match", "\"d\"")]).await;
            assert_eq!(answer.status(), 304, "{label} {placement}");
            sent_date(&answer);
            let answer = ask(*addr, "PUT", "/", &[("if-match", "\"x\"")]).await;
            assert_eq!(answer.status(), 412, "{label} {placement}");
            sent_date(&answer);
        }

        // The same dates in a handler's own check.
        let representation = Representation::new()
            .with_etag(EntityTag::strong("d").unwrap())
            .with_last_modified(date);
        let mut request = HeaderMap::new();
        request.insert("if-none-match", HeaderValue::from_static("\"d\""));
        for method in [Method::GET, Method::PUT] {
            let early = Preconditions::new(method.clone(), &request)
                .check(Some(&representation))
                .unwrap_err();
            if let Some(value) = early.headers().get(LAST_MODIFIED) {
                let sent = httpdate::parse_http_date(value.to_str().unwrap()).unwrap();
                assert!(sent <= SystemTime::now(), "{label} {method}");
            } else {
                assert!(date < UNIX_EPOCH, "{label} {method}: no date");
            }
        }
    }

    // A handler's own date in the future: sent as now, in both placements.
    let app = Router::new().route(
        "/future",
        get(|| async {
            (
                [(LAST_MODIFIED, "Fri, 01 Jan 2100 00:00:00 GMT")],
                "from the future",
            )
        }),
    );
    let servers = served_placements(app, ConditionalLayer::new()).await;
    let bare = ask(servers[0].1, "GET", "/future", &[]).await;
    assert_eq!(
        bare.header("last-modified"),
        Some("Fri, 01 Jan 2100 00:00:00 GMT")
    );
    for (placement, addr) in &servers[1..] {
        let before = SystemTime::now() - Duration::from_secs(1);
        let answer = ask(*addr, "GET", "/future", &[]).await;
        let sent = sent_date(&answer).unwrap();
        assert!(sent >= before, "{placement}: {sent:?}");
        assert_eq!(answer.body, b"from the future");
    }
}

const TOKEN: &str = "Bearer letmein";

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get(AUTHORIZATION)
        .is_some_and(|value| value == TOKEN)
}

/// A page whose handler authenticates, as an extractor or the handler itself would.
fn private_page() -> Router {
    Router::new().route(
        "/private",
        get(|headers: HeaderMap| async move {
            if authorized(&headers) {
                ([(ETAG, "\"p1\"")], "the private page").into_response()
            } else {
                StatusCode::UNAUTHORIZED.into_response()
            }
        }),
    )
}

/// A source that knows the page's tag.
fn page_source(check_credentials: bool) -> ConditionalLayer {
    ConditionalLayer::new().validator_source(move |request: &http::request::Parts| {
        let known = !check_credentials || authorized(&request.headers);
        async move {
            Ok::<_, BoxError>(if known {
                Current::Exists(Representation::new().with_etag(EntityTag::strong("p1")?))
            } else {
                // Not for this client to know: the handler answers (401).
                Current::Unknown
            })
        }
    })
}

async fn require_auth(request: AxumRequest, next: Next) -> Response {
    if authorized(request.headers()) {
        next.run(request).await
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    }
}

// 9. A source answers before the handler, so before any authentication the handler does.
#[tokio::test]
async fn a_source_never_answers_a_client_without_credentials() {
    let revalidation = ("if-none-match", "\"p1\"");
    let credentials = ("authorization", TOKEN);

    // The hazard the docs warn of: the source's 304 reaches a client the handler would refuse.
    let unsafe_ = serve(private_page().layer(page_source(false))).await;
    assert_eq!(
        ask(unsafe_, "GET", "/private", &[revalidation])
            .await
            .status(),
        304
    );

    // Safe: the source authenticates (both placements).
    let servers = served_placements(private_page(), page_source(true)).await;
    // Safe: the layer inside the authentication layer (both placements).
    let inside = serve(
        private_page()
            .layer(page_source(false))
            .layer(middleware::from_fn(require_auth)),
    )
    .await;
    let around = serve_service(
        ServiceBuilder::new()
            .layer(middleware::from_fn(require_auth))
            .map_response(|response: http::Response<_>| response.map(Body::new))
            .layer(page_source(false))
            .service(private_page()),
    )
    .await;
    let safe = [
        ("source authenticates, Router::layer", servers[1].1),
        ("source authenticates, around the router", servers[2].1),
        ("inside authentication, Router::layer", inside),
        ("inside authentication, around the router", around),
    ];
    for (arrangement, addr) in safe {
        for headers in [&[][..], &[revalidation][..]] {
            let answer = ask(addr, "GET", "/private", headers).await;
            assert_eq!(answer.status(), 401, "{arrangement} {headers:?}");
            assert_eq!(answer.header("etag"), None, "{arrangement}");
        }
        let answer = ask(addr, "GET", "/private", &[credentials]).await;
        assert_eq!(answer.status(), 200, "{arrangement}");
        assert_eq!(answer.body, b"the private page");
        let answer = ask(addr, "GET", "/private", &[credentials, revalidation]).await;
        assert_eq!(answer.status(), 304, "{arrangement}");
    }
}
