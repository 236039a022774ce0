//! With the `tracing` feature, each decision is a `tracing` event. Alone in its binary: tracing
//! caches per-callsite interest process-wide, and events fired by parallel tests without a
//! subscriber would race with this test's thread-local one.
#![cfg(feature = "tracing")]

#[path = "../../tests/common/mod.rs"]
mod common;

use axum::Router;
use axum::routing::get;
use common::oneshot;
use http::Method;
use http::header::ETAG;
use tower_conditional::ConditionalLayer;

#[tokio::test]
async fn each_decision_is_a_tracing_event() {
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = Router::new()
        .route("/", get(|| async { "page" }).post(|| async { "posted" }))
        .layer(ConditionalLayer::new());
    let response = oneshot(&app, Method::GET, "/", &[]).await;
    let tag = response.headers()[ETAG].to_str().unwrap().to_owned();
    oneshot(&app, Method::GET, "/", &[("if-none-match", &tag)]).await;
    oneshot(&app, Method::POST, "/", &[]).await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let events: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("conditional request decided"))
        .collect();
    assert_eq!(events.len(), 3, "{log}");
    assert!(
        events[0].contains("etag=Generated") && events[0].contains("outcome=Proceed"),
        "{}",
        events[0]
    );
    assert!(
        events[1].contains("outcome=NotModified") && events[1].contains("status=304"),
        "{}",
        events[1]
    );
    assert!(events[2].contains("passed=Some(Method)"), "{}", events[2]);
}
