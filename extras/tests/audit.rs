//! The audit (`tower_conditional::audit`) of the `versioned_store` example's write path (on
//! SQLite in memory): the validator source, 428 for unconditional writes, coded tags for gzip
//! clients, and the compare-and-swap in SQL that lets one of two concurrent writers win. In
//! process and over HTTP on 127.0.0.1 (the root `audit` example's client). Needs `--features
//! audit`.
#![cfg(feature = "audit")]

#[path = "../../examples/audit.rs"]
#[allow(dead_code)]
mod audit_example;
#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../examples/versioned_store.rs"]
#[allow(dead_code)]
mod versioned_store;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http::header::{CONTENT_TYPE, IF_NONE_MATCH};
use http::{HeaderValue, Method, Request, StatusCode};
use tower::ServiceExt;
use tower_conditional::audit::{Audit, Report};
use versioned_store::{Store, app};

/// More than 32 bytes, so tower-http compresses the item and gzip clients hold coded tags.
const ITEM: &str = r#"{"name":"audited","note":"an item long enough to be compressed"}"#;

/// The store's app with item `audited` created (`If-None-Match: *`, as the store requires).
async fn seeded() -> Router {
    let app = app(Arc::new(
        Store::sqlite_in_memory().expect("SQLite in memory"),
    ));
    let create = Request::put("/items/audited")
        .header(IF_NONE_MATCH, "*")
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(ITEM))
        .unwrap();
    let created = app.clone().oneshot(create).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    app
}

fn audit() -> Audit {
    Audit::new("/items/audited")
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .write(
            Method::PUT,
            r#"{"name":"audited","note":"written again by the audit, with If-Match"}"#,
        )
        .requires_preconditions(true)
        .races(10)
}

fn assert_clean_and_complete(how: &str, report: &Report) {
    assert!(report.is_clean(), "{how}:\n{report}");
    for check in [
        "if-none-match",
        "strong-tag-per-coding",
        "precondition-required",
        "gzip-write",
        "lost-update",
    ] {
        assert!(
            common::ran(report, check),
            "{how}: {check} did not run: {:?}",
            report.skipped()
        );
    }
}

#[tokio::test]
async fn the_versioned_store_write_path_is_clean_in_process() {
    let report = tokio::time::timeout(common::WAIT * 3, audit().run(seeded().await))
        .await
        .expect("the audit finished in time");
    assert_clean_and_complete("in process", &report);
}

#[tokio::test]
async fn the_versioned_store_write_path_is_clean_over_http() {
    let addr = common::serve(seeded().await).await;
    let service = audit_example::http_service(&format!("http://{addr}/").parse().unwrap()).unwrap();
    let report = tokio::time::timeout(common::WAIT * 3, audit().run(service))
        .await
        .expect("the audit finished in time");
    assert_clean_and_complete("over HTTP", &report);
}
