//! The `Decision` response extension and the `tracing` events: what the layer did, and why.

mod common;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use common::{Scripted, body_bytes, oneshot};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use http::{Method, Response, StatusCode};
use tower::BoxError;
use tower_conditional::decision::{Decision, PassReason, TagOrigin};
use tower_conditional::source::Current;
use tower_conditional::{ConditionalLayer, EntityTag, Outcome, Representation};

const PAGE: &str = "a page of some length";

fn app(layer: ConditionalLayer) -> Router {
    Router::new()
        .route("/", get(|| async { PAGE }).post(|| async { "posted" }))
        .route("/own", get(|| async { ([(ETAG, "\"own\"")], "own") }))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/private",
            get(|| async { ([(CACHE_CONTROL, "no-store")], "p") }),
        )
        .route(
            "/events",
            get(|| async { ([(CONTENT_TYPE, "text/event-stream")], "data: x\n\n") }),
        )
        .route(
            "/big",
            get(|| async { Body::new(Scripted::chunks(vec![vec![0u8; 600]; 4])) }),
        )
        .route("/skip", get(|| async { "skipped" }))
        .layer(layer)
}

async fn decision(
    app: &Router,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (Response<Body>, Decision) {
    let response = oneshot(app, method, path, headers).await;
    let decision = *response
        .extensions()
        .get::<Decision>()
        .expect("every response carries a Decision");
    (response, decision)
}

#[tokio::test]
async fn every_response_says_what_the_layer_did() {
    let app = app(ConditionalLayer::new()
        .decisions(true)
        .buffer_limit(2000)
        .skip_when(|info| info.uri().path() == "/skip"));
    let (response, first) = decision(&app, Method::GET, "/", &[]).await;
    assert_eq!(first.outcome, Outcome::Proceed);
    assert_eq!(first.etag, TagOrigin::Generated);
    assert_eq!(first.passed, None);
    assert!(first.handler_ran);
    let tag = response.headers()[ETAG].to_str().unwrap().to_owned();

    let (_, revalidated) = decision(&app, Method::GET, "/", &[("if-none-match", &tag)]).await;
    assert_eq!(revalidated.outcome, Outcome::NotModified);
    assert_eq!(revalidated.saved_bytes, Some(PAGE.len() as u64));
    let (_, head) = decision(&app, Method::HEAD, "/", &[("if-none-match", &tag)]).await;
    assert_eq!(head.outcome, Outcome::NotModified);
    assert_eq!(head.saved_bytes, Some(0));

    let (_, own) = decision(&app, Method::GET, "/own", &[("if-none-match", "\"own\"")]).await;
    assert_eq!(
        (own.outcome, own.etag),
        (Outcome::NotModified, TagOrigin::Handler)
    );

    let cases = [
        (Method::POST, "/", PassReason::Method),
        (Method::GET, "/missing", PassReason::Status),
        (Method::GET, "/private", PassReason::NoStore),
        (Method::GET, "/events", PassReason::Streaming),
        (Method::GET, "/big", PassReason::OverLimit),
        (Method::GET, "/skip", PassReason::Skipped),
    ];
    for (method, path, reason) in cases {
        let (response, decision) = decision(&app, method.clone(), path, &[]).await;
        assert_eq!(decision.passed, Some(reason), "{method} {path}");
        assert_eq!(decision.outcome, Outcome::Proceed, "{method} {path}");
        assert!(!response.headers().contains_key(ETAG), "{method} {path}");
        body_bytes(response.into_body()).await;
    }
}

#[tokio::test]
async fn answers_from_the_source_say_the_handler_did_not_run() {
    let app = app(ConditionalLayer::new().decisions(true).validator_source(
        |_: &http::request::Parts| async {
            let tag = EntityTag::strong("v1")?;
            Ok::<_, BoxError>(Current::Exists(Representation::new().with_etag(tag)))
        },
    ));
    let (_, early) = decision(&app, Method::GET, "/", &[("if-none-match", "\"v1\"")]).await;
    assert_eq!(early.outcome, Outcome::NotModified);
    assert_eq!(early.etag, TagOrigin::Source);
    assert!(!early.handler_ran);
    let (_, late) = decision(&app, Method::GET, "/", &[]).await;
    assert_eq!(
        (late.outcome, late.etag),
        (Outcome::Proceed, TagOrigin::Source)
    );
    assert!(late.handler_ran);
}
