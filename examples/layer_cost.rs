//! `cargo run --release --example layer_cost -- MODE N`: sends N GET requests through an axum
//! router in process (no network), for counting instructions per request under
//! `valgrind --tool=callgrind`, which is repeatable on a noisy machine where timings are not.
//! MODE: plain | noop-layer | layer | fast | not-modified | plain-etag | handler-etag |
//! handler-not-modified | outer-etag | outer-not-modified (and, with the `axum` feature,
//! handler-etag-axum | handler-not-modified-axum), loco-etag | loco-not-modified (the
//! `plain-etag` handler behind bench_server's reproduction of loco-rs's middleware), or
//! `hash` / `hash-fast`: only the tag of the body, N times, as the layer computes it
//! (`TagHash::entity_tag`), without a router.
//! Compare `layer` with `noop-layer` (what any `Router::layer` costs) and `handler-etag` with
//! `plain-etag` (the same handler without the layer); `layer` less `plain` with `hash`: what the
//! layer costs beyond its hash. `SIZE` (bytes, default 1024) sets the body's length;
//! `scripts/count-in-process` runs this under callgrind and prints instructions per request.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use bytes::Bytes;
use http::header::{ETAG, IF_NONE_MATCH};
use http::{HeaderValue, Request};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_conditional::{ConditionalLayer, TagHash};

#[path = "peers/loco_etag.rs"]
mod loco_etag;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "layer".to_owned());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let size: usize = std::env::var("SIZE")
        .ok()
        .and_then(|size| size.parse().ok())
        .unwrap_or(1024);
    // One buffer, handed out by reference count: the same cost in every mode.
    let body = Bytes::from(vec![b'x'; size]);
    let tag = TagHash::CollisionResistant.entity_tag(&[&body[..]], false);
    if let Some(hash) = match mode.as_str() {
        "hash" => Some(TagHash::CollisionResistant),
        "hash-fast" => Some(TagHash::Fast),
        _ => None,
    } {
        for _ in 0..n {
            std::hint::black_box(hash.entity_tag(&[std::hint::black_box(&body[..])], false));
        }
        return;
    }
    let plain = {
        let body = body.clone();
        Router::new().route("/", get(move || std::future::ready(body.clone())))
    };
    let value = HeaderValue::from(&tag);
    let etag_route = |value: http::HeaderValue| {
        let body = body.clone();
        Router::new().route(
            "/",
            get(move || {
                let value = value.clone();
                let body = body.clone();
                async move { ([(ETAG, value)], body) }
            }),
        )
    };
    let app = match mode.as_str() {
        "plain" => plain,
        "noop-layer" => plain.layer(tower::util::MapResponseLayer::new(
            |response: http::Response<Body>| response,
        )),
        "plain-etag" => etag_route(value),
        "layer" | "not-modified" => plain.layer(ConditionalLayer::new()),
        "fast" => plain.layer(ConditionalLayer::new().hash(TagHash::Fast)),
        "handler-etag" | "handler-not-modified" => etag_route(value).layer(ConditionalLayer::new()),
        #[cfg(feature = "axum")]
        "handler-etag-axum" | "handler-not-modified-axum" => {
            etag_route(value).layer(ConditionalLayer::new().axum_body())
        }
        "outer-etag" | "outer-not-modified" => etag_route(value),
        "loco-etag" | "loco-not-modified" => etag_route(value).layer(loco_etag::EtagLayer),
        other => panic!("unknown mode {other}"),
    };
    // As `axum::serve` does once per connection: without it, axum builds each handler's route
    // (and applies every `Router::layer`) anew for each request.
    let app = app.with_state::<()>(());
    // The layer around the whole router, answering with axum's body as `axum::serve` needs.
    let app = if mode.starts_with("outer") {
        tower::ServiceBuilder::new()
            .map_response(|response: http::Response<_>| response.map(Body::new))
            .layer(ConditionalLayer::new())
            .service(app)
            .boxed_clone()
    } else {
        tower::ServiceBuilder::new().service(app).boxed_clone()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut bytes = 0;
        for _ in 0..n {
            let mut request = Request::get("/");
            if mode.contains("not-modified") {
                request = request.header(IF_NONE_MATCH, HeaderValue::from(&tag));
            }
            let response = app
                .clone()
                .oneshot(request.body(Body::empty()).unwrap())
                .await
                .unwrap();
            bytes += response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .len();
        }
        std::hint::black_box(bytes);
    });
}
