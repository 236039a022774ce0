//! The server `scripts/bench-http` measures: one axum app on one thread, with or without the
//! layer, chosen by `MODE`, listening on `ADDR` (default 127.0.0.1:3100).
//!
//! | `MODE` | what `GET /` is |
//! |---|---|
//! | `plain` | a 1 KiB body, no layer |
//! | `noop-layer` | the same behind a layer that does nothing (what any `Router::layer` costs) |
//! | `noop-etag-layer` | `plain-etag` behind the layer that does nothing |
//! | `noop-body-layer` | `plain-etag` behind a layer that only wraps the body in a type of its own, as any layer with its own body type does (axum boxes that body once more) |
//! | `layer` | the same behind `ConditionalLayer::new()` (tag generated: SHA-256 of the body) |
//! | `fast` | the same with `TagHash::Fast` |
//! | `plain-etag` | the handler sets its own `ETag`, no layer |
//! | `handler-etag` | that handler behind the layer |
//! | `handler-etag-axum` | the same with `ConditionalLayer::new().axum_body()` (answers with axum's own body type) |
//! | `outer` | `layer`, but the layer wraps the whole `Router` instead of `Router::layer` |
//! | `outer-etag` | `handler-etag`, with the layer around the whole `Router` |
//! | `outer-source` | `plain` with the layer around the whole `Router` and a validator source |
//! | `bare-304` | no layer; the handler answers `304` with an `ETag` (the least a 304 can cost) |
//! | `slow-plain` | a handler doing 50 µs of CPU work, no layer |
//! | `slow-layer` | that handler behind the layer |
//! | `slow-source` | that handler behind the layer with a validator source that knows its tag |
//! | `stream` | `GET /stream`: 16 MiB in 64 KiB chunks behind the layer with a 1 MiB limit |
//! | `stream-plain` | the same stream, no layer |
//! | `over-limit` | `plain` behind the layer with a 512-byte limit: the body is sent untagged |
//! | `post-plain` | `POST /` answers the 1 KiB body, no layer |
//! | `post-layer` | that route behind the layer (a POST passes through) |
//! | `loco-etag` | `plain-etag` behind a reproduction of loco-rs 1.2.0's ETag middleware |
//! | `rustango` | `plain` behind a reproduction of rustango 0.62.0's ETag middleware (tag generated) |
//!
//! The two peer middlewares (`examples/peers/`) are baselines for `scripts/count-table`, not code
//! this crate ships. The tag a mode announces, for a `304` run's `If-None-Match`:
//! `curl -sI http://127.0.0.1:3100/ | grep -i '^etag'` against a running server of that mode.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::routing::{get, post};
use axum::{Router, ServiceExt};
use bytes::Bytes;
use http::header::ETAG;
use http::{HeaderValue, StatusCode};
use tower::{BoxError, ServiceBuilder};
use tower_conditional::source::Current;
use tower_conditional::{ConditionalLayer, EntityTag, Representation, TagHash};

#[path = "peers/loco_etag.rs"]
mod loco_etag;
#[path = "peers/rustango_etag.rs"]
mod rustango_etag;

use rustango_etag::EtagRouterExt as _;

/// The body every mode serves: 1 KiB of HTML-ish text.
static BODY: [u8; 1024] = {
    let mut body = [b'x'; 1024];
    let mut i = 0;
    while i < 1024 {
        body[i] = b"<p>tower-conditional benchmark body</p>\n"[i % 40];
        i += 1;
    }
    body
};

/// 50 µs of CPU work, standing in for a handler that renders or queries.
fn work() {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < Duration::from_micros(50) {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// 16 MiB in 64 KiB chunks, each its own allocation (as a file or a socket would give), so that
/// holding chunks costs memory.
fn stream_body() -> Body {
    const CHUNK: usize = 64 * 1024;
    let chunks = (0..256).map(|_| Ok::<_, Infallible>(Bytes::from(vec![b's'; CHUNK])));
    Body::from_stream(futures_util::stream::iter(chunks))
}

/// How the layer is placed.
enum App {
    /// As the `Router` says (with or without `Router::layer`).
    Routed(Router),
    /// The `ConditionalLayer` around the whole `Router`, as axum does middleware that must run
    /// before routing; this avoids the boxing `Router::layer` does for each route.
    Outer(Router, ConditionalLayer),
}

fn app(mode: &str) -> Result<App, String> {
    let outer = |router| Ok(App::Outer(router, ConditionalLayer::new()));
    match mode {
        "outer" => return outer(plain_router()),
        "outer-etag" => return outer(etag_router(HeaderValue::from(body_tag()))),
        "outer-source" => return Ok(App::Outer(plain_router(), with_source())),
        _ => {}
    }
    routed(mode).map(App::Routed)
}

/// The layer with a validator source that knows the body's tag.
fn with_source() -> ConditionalLayer {
    let tag = body_tag();
    ConditionalLayer::new().validator_source(move |_: &http::request::Parts| {
        let representation = Representation::new().with_etag(tag.clone());
        async move { Ok::<_, BoxError>(Current::Exists(representation)) }
    })
}

/// The tag the layer generates for [`BODY`]: what the handler or source modes announce.
fn body_tag() -> EntityTag {
    TagHash::CollisionResistant.entity_tag(&[&BODY[..]], false)
}

fn plain_router() -> Router {
    Router::new().route("/", get(|| async { Bytes::from_static(&BODY) }))
}

fn post_router() -> Router {
    Router::new().route("/", post(|| async { Bytes::from_static(&BODY) }))
}

/// The handler sets the `ETag` itself.
fn etag_router(value: HeaderValue) -> Router {
    Router::new().route(
        "/",
        get(move || {
            let value = value.clone();
            async move { ([(ETAG, value)], Bytes::from_static(&BODY)) }
        }),
    )
}

fn routed(mode: &str) -> Result<Router, String> {
    let tag = body_tag();
    let slow = || {
        Router::new().route(
            "/",
            get(|| async {
                work();
                Bytes::from_static(&BODY)
            }),
        )
    };
    Ok(match mode {
        "plain" => plain_router(),
        // What any `Router::layer` costs, for comparison.
        "noop-layer" => plain_router().layer(tower::util::MapResponseLayer::new(
            |response: http::Response<Body>| response,
        )),
        "noop-etag-layer" => etag_router(HeaderValue::from(&tag)).layer(
            tower::util::MapResponseLayer::new(|response: http::Response<Body>| response),
        ),
        "noop-body-layer" => etag_router(HeaderValue::from(&tag)).layer(
            tower::util::MapResponseLayer::new(|response: http::Response<Body>| {
                response.map(|body| http_body_util::BodyExt::map_err(body, |error| error))
            }),
        ),
        "layer" => plain_router().layer(ConditionalLayer::new()),
        "fast" => plain_router().layer(ConditionalLayer::new().hash(TagHash::Fast)),
        "fast-axum" => {
            plain_router().layer(ConditionalLayer::new().hash(TagHash::Fast).axum_body())
        }
        "plain-etag" => etag_router(HeaderValue::from(&tag)),
        "bare-304" => {
            let value = HeaderValue::from(&tag);
            Router::new().route(
                "/",
                get(move || {
                    let value = value.clone();
                    async move { (StatusCode::NOT_MODIFIED, [(ETAG, value)]) }
                }),
            )
        }
        "handler-etag-axum" => {
            etag_router(HeaderValue::from(&tag)).layer(ConditionalLayer::new().axum_body())
        }
        "handler-etag" => etag_router(HeaderValue::from(&tag)).layer(ConditionalLayer::new()),
        "slow-plain" => slow(),
        "slow-layer" => slow().layer(ConditionalLayer::new()),
        "slow-source" => slow().layer(with_source()),
        "loco-etag" => etag_router(HeaderValue::from(&tag)).layer(loco_etag::EtagLayer),
        "rustango" => plain_router().etag(rustango_etag::EtagLayer::new()),
        "stream" => Router::new()
            .route("/stream", get(|| async { stream_body() }))
            .layer(ConditionalLayer::new().buffer_limit(1024 * 1024)),
        "stream-plain" => Router::new().route("/stream", get(|| async { stream_body() })),
        "over-limit" => plain_router().layer(ConditionalLayer::new().buffer_limit(512)),
        "post-plain" => post_router(),
        "post-layer" => post_router().layer(ConditionalLayer::new()),
        other => return Err(format!("unknown MODE {other:?}")),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = std::env::var("MODE").unwrap_or_else(|_| "layer".to_owned());
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3100".to_owned());
    let app = app(&mode)?;
    // One server thread, as the comparisons with nginx (one worker) and Node assume.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            println!("bench_server {mode} on http://{}", listener.local_addr()?);
            match app {
                App::Routed(router) => axum::serve(listener, router).await?,
                App::Outer(router, layer) => {
                    // `with_state` once, as `axum::serve` does for a `Router`: otherwise axum
                    // builds each handler's route anew for every request.
                    let service = ServiceBuilder::new()
                        .map_response(|response: http::Response<_>| response.map(Body::new))
                        .layer(layer)
                        .service(router.with_state(()));
                    let service = ServiceExt::<axum::extract::Request>::into_make_service(service);
                    axum::serve(listener, service).await?
                }
            }
            Ok(())
        })
}
