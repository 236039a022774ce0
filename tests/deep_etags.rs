//! Deep entity tags: an axum handler with the `Preconditions` extractor answers 304 / 412 from
//! its own cheap validator before doing the expensive work. Needs `--features axum`.
#![cfg(feature = "axum")]

mod common;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{Counter, RawConnection, serve};
use http::header::ETAG;
use tower_conditional::{ConditionalLayer, EntityTag, Preconditions, Validators};

/// The handler's version of the resource, known cheaply.
const VERSION: &str = "rev-17";

fn app(expensive: Counter) -> Router {
    Router::new()
        .route(
            "/report",
            get(move |preconditions: Preconditions| {
                let expensive = expensive.clone();
                async move {
                    let current = Validators::new().with_etag(EntityTag::strong(VERSION).unwrap());
                    if let Err(early) = preconditions.check(Some(&current)) {
                        return early.into_response();
                    }
                    expensive.hit();
                    let response: Response = (
                        [(ETAG, current.etag.unwrap().to_header_value())],
                        "an expensive report",
                    )
                        .into_response();
                    response
                }
            })
            .delete(|preconditions: Preconditions| async move {
                let current = Validators::new().with_etag(EntityTag::strong(VERSION).unwrap());
                match preconditions.check(Some(&current)) {
                    Err(early) => early.into_response(),
                    Ok(()) => "deleted".into_response(),
                }
            }),
        )
        // The layer outside sees the handler's own 304/412 and leaves them alone.
        .layer(ConditionalLayer::new())
}

#[tokio::test]
async fn a_handler_answers_early_from_its_own_validator() {
    let expensive = Counter::default();
    let addr = serve(app(expensive.clone())).await;
    let mut connection = RawConnection::open(addr).await;

    let full = connection.send("GET", "/report", &[]).await;
    assert_eq!(full.status(), 200);
    assert_eq!(full.header("etag"), Some("\"rev-17\""));
    assert_eq!(expensive.get(), 1);

    let revalidated = connection
        .send("GET", "/report", &[("if-none-match", "\"rev-17\"")])
        .await;
    assert_eq!(revalidated.status_line, "HTTP/1.1 304 Not Modified");
    assert_eq!(revalidated.header("etag"), Some("\"rev-17\""));
    assert_eq!(revalidated.header("content-length"), None);
    assert_eq!(expensive.get(), 1, "the expensive part ran for a 304");
    // A HEAD 304 says no length either: `Content-Length: 0` would contradict the 200's
    // (RFC 9110 §8.6).
    let head = connection
        .send("HEAD", "/report", &[("if-none-match", "\"rev-17\"")])
        .await;
    assert_eq!(head.status(), 304);
    assert_eq!(head.header("content-length"), None);

    let stale = connection
        .send("DELETE", "/report", &[("if-match", "\"rev-16\"")])
        .await;
    assert_eq!(stale.status(), 412);
    assert_eq!(stale.header("etag"), Some("\"rev-17\""));
    let fresh = connection
        .send("DELETE", "/report", &[("if-match", "\"rev-17\"")])
        .await;
    assert_eq!(fresh.status(), 200);
    assert_eq!(fresh.body, b"deleted");

    let changed = connection
        .send("GET", "/report", &[("if-none-match", "\"rev-16\"")])
        .await;
    assert_eq!(changed.status(), 200);
    assert_eq!(changed.body, b"an expensive report");
    assert_eq!(expensive.get(), 2);
}
