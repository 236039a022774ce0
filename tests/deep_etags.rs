//! Deep entity tags: an axum handler with the `Preconditions` extractor answers 304 / 412 from
//! its own cheap validator before doing the expensive work, written the documented way (the
//! representation declared once, `check`, then `(representation, body)`), behind tower-http's
//! compression as the README orders it, in both placements, over 127.0.0.1. Needs `--features
//! axum`; with `audit` too, the audit checks what every answer carries (RFC 9110 §15.4.5).
#![cfg(feature = "axum")]

#[cfg(feature = "audit")]
#[path = "../examples/audit.rs"]
#[allow(dead_code)]
mod audit_example;
mod common;
#[path = "common/gzip.rs"]
mod gzip;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use common::{Counter, GZIP, RawConnection, compressed_placements};
use gzip::gunzip;
use http::HeaderValue;
use http::header::{CACHE_CONTROL, CONTENT_LOCATION, EXPIRES, VARY};
use tower_conditional::{ConditionalLayer, Early, EntityTag, Preconditions, Representation};

/// The handler's version of the resource, known cheaply.
const VERSION: &str = "rev-17";

/// Long enough for `CompressionLayer` to compress it (it skips bodies under 32 bytes).
const REPORT: &str = "an expensive report, rendered at length so that it is worth compressing";

/// What the report's answers carry, declared once.
fn representation() -> Representation {
    Representation::new()
        .with_etag(EntityTag::strong(VERSION).unwrap())
        .with_header(CACHE_CONTROL, HeaderValue::from_static("max-age=60"))
        .with_header(
            EXPIRES,
            HeaderValue::from_static("Thu, 01 Dec 2094 16:00:00 GMT"),
        )
        .with_header(VARY, HeaderValue::from_static("accept-language"))
        .with_header(CONTENT_LOCATION, HeaderValue::from_static("/report.en"))
}

fn routes(expensive: Counter) -> Router {
    Router::new().route(
        "/report",
        get(move |preconditions: Preconditions| {
            let expensive = expensive.clone();
            async move {
                let current = representation();
                preconditions.check(Some(&current))?;
                expensive.hit();
                Ok::<_, Early>((current, REPORT).into_response())
            }
        })
        .delete(|preconditions: Preconditions| async move {
            preconditions.check(Some(&representation()))?;
            Ok::<_, Early>("deleted")
        }),
    )
}

/// The audit of `/report` in both placements, over 127.0.0.1: every revalidation (by the
/// identity tag, its weak form, the gzip client's coded tag, HEAD) gets a 304 that carries
/// each of the 200's `Cache-Control`, `Content-Location`, `Date`, `ETag`, `Expires` and `Vary`
/// and no content fields (RFC 9110 §15.4.5), and the rest of the audit finds nothing either.
/// The expensive part never runs for a 304.
#[cfg(feature = "audit")]
#[tokio::test]
async fn every_answer_passes_the_audit() {
    use tower_conditional::audit::Audit;

    let expensive = Counter::default();
    for (placement, addr, _) in
        compressed_placements(|| expensive.clone(), routes, |_| ConditionalLayer::new()).await
    {
        let service =
            audit_example::http_service(&format!("http://{addr}/").parse().unwrap()).unwrap();
        let runs = expensive.get();
        let report = Audit::new("/report").run(service).await;
        assert!(report.is_clean(), "{placement}:\n{report}");
        for check in ["if-none-match", "strong-tag-per-coding", "head"] {
            assert!(
                common::ran(&report, check),
                "{placement}: {check} did not run: {:?}",
                report.skipped()
            );
        }
        // The 200s the audit asked for: identity, gzip, HEAD, an unknown tag and a satisfied
        // If-Match. Its four 304s (the tag, its weak form, the gzip tag, HEAD) ran nothing.
        assert_eq!(expensive.get() - runs, 5, "{placement}");
    }
}

#[tokio::test]
async fn a_handler_answers_early_with_what_its_200_carries() {
    let expensive = Counter::default();
    for (placement, addr, _) in
        compressed_placements(|| expensive.clone(), routes, |_| ConditionalLayer::new()).await
    {
        let mut connection = RawConnection::open(addr).await;
        let runs = expensive.get();

        let full = connection.send("GET", "/report", &[]).await;
        assert_eq!(full.status(), 200, "{placement}");
        assert_eq!(full.header("etag"), Some("\"rev-17\""), "{placement}");
        assert_eq!(full.body, REPORT.as_bytes());
        assert_eq!(expensive.get(), runs + 1);
        // What the 304s must repeat (RFC 9110 §15.4.5; `every_answer_passes_the_audit`).
        for name in ["cache-control", "expires", "vary", "content-location"] {
            assert!(full.header(name).is_some(), "{placement}: no {name}");
        }

        let revalidated = connection
            .send("GET", "/report", &[("if-none-match", "\"rev-17\"")])
            .await;
        assert_eq!(revalidated.status(), 304, "{placement}");
        assert!(revalidated.body.is_empty(), "{placement}");
        assert_eq!(
            expensive.get(),
            runs + 1,
            "{placement}: the expensive part ran for a 304"
        );
        // A HEAD 304 says no length either: `Content-Length: 0` would contradict the 200's
        // (RFC 9110 §8.6).
        let head = connection
            .send("HEAD", "/report", &[("if-none-match", "\"rev-17\"")])
            .await;
        assert_eq!(head.status(), 304, "{placement}");
        assert_eq!(head.header("content-length"), None, "{placement}");

        let stale = connection
            .send("DELETE", "/report", &[("if-match", "\"rev-16\"")])
            .await;
        assert_eq!(stale.status(), 412, "{placement}");
        assert_eq!(stale.header("etag"), Some("\"rev-17\""), "{placement}");
        assert_eq!(
            stale.header("cache-control"),
            None,
            "{placement}: a 412 is not fresh"
        );
        let fresh = connection
            .send("DELETE", "/report", &[("if-match", "\"rev-17\"")])
            .await;
        assert_eq!(fresh.status(), 200, "{placement}");
        assert_eq!(fresh.body, b"deleted");

        let changed = connection
            .send("GET", "/report", &[("if-none-match", "\"rev-16\"")])
            .await;
        assert_eq!(changed.status(), 200, "{placement}");
        assert_eq!(changed.body, REPORT.as_bytes());
        assert_eq!(expensive.get(), runs + 2);
    }
}

/// A gzip client: the 200's bytes are gzip, so its tag is the coded tag of the version
/// (`"rev-17-gzip"`, RFC 9110 §8.8.3.3). Revalidating with it, the handler answers early (the
/// expensive part does not run), and the 304 that leaves the layer names that tag, varies by
/// coding, and carries no `Content-Encoding`, although compression labelled it gzip on its way
/// out of the handler.
#[tokio::test]
async fn a_gzip_client_revalidates_with_the_tag_it_holds() {
    let expensive = Counter::default();
    for (placement, addr, _) in
        compressed_placements(|| expensive.clone(), routes, |_| ConditionalLayer::new()).await
    {
        let mut connection = RawConnection::open(addr).await;
        let runs = expensive.get();

        let full = connection.send("GET", "/report", &[GZIP]).await;
        assert_eq!(full.status(), 200, "{placement}");
        assert_eq!(full.header("content-encoding"), Some("gzip"), "{placement}");
        assert_eq!(gunzip(&full.body), REPORT);
        assert_eq!(full.header("etag"), Some("\"rev-17-gzip\""), "{placement}");
        assert_eq!(
            full.all("vary"),
            ["accept-language", "accept-encoding"],
            "{placement}"
        );

        let held = full.header("etag").unwrap().to_owned();
        let revalidated = connection
            .send("GET", "/report", &[GZIP, ("if-none-match", &held)])
            .await;
        assert_eq!(revalidated.status(), 304, "{placement}");
        assert!(revalidated.body.is_empty(), "{placement}");
        assert_eq!(
            expensive.get(),
            runs + 1,
            "{placement}: the expensive part ran for a 304"
        );

        // The identity copy's tag names the same version: a 304 naming it.
        let identity = connection
            .send("GET", "/report", &[GZIP, ("if-none-match", "\"rev-17\"")])
            .await;
        assert_eq!(identity.status(), 304, "{placement}");
        assert_eq!(identity.header("etag"), Some("\"rev-17\""), "{placement}");
        assert_eq!(identity.header("content-encoding"), None, "{placement}");

        // A write with the tag the gzip client holds goes through; a stale one does not.
        let write = connection
            .send("DELETE", "/report", &[GZIP, ("if-match", &held)])
            .await;
        assert_eq!(write.status(), 200, "{placement}");
        let stale = connection
            .send(
                "DELETE",
                "/report",
                &[GZIP, ("if-match", "\"rev-16-gzip\"")],
            )
            .await;
        assert_eq!(stale.status(), 412, "{placement}");
        assert_eq!(expensive.get(), runs + 1, "{placement}");
    }
}
