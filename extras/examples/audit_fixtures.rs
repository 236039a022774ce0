//! `cargo run -p tower-conditional-extras --example audit_fixtures`
//!
//! Deliberately broken routes, each with one defect in how it answers conditional requests,
//! for the audit (`tower_conditional::audit`, `examples/audit.rs`) and REDbot
//! (`scripts/redbot-check`) to find. `tests/audit.rs` audits them in process and over HTTP;
//! `scripts/e2e-redbot` serves them and checks that REDbot and the audit example both flag the
//! first three. Listens on `$ADDR` (default 127.0.0.1 on an ephemeral port) and prints
//! `audit fixtures on http://ADDR`.
//!
//! - `/own-304`: a handler that answers its own 304 to its exact tag, without the
//!   `Cache-Control` its 200 carries (RFC 9110 §15.4.5; Django's `@condition` does this).
//!   REDbot: `MISSING_HDRS_304`.
//! - `/shared-strong-tag`: tower-http's `CompressionLayer` outside `ConditionalLayer`, the order
//!   the README warns against: one strong tag on the gzip and the identity bytes (RFC 9110
//!   §8.8.3.3), and `Content-Encoding: gzip` on 304s. REDbot: `VARY_ETAG_DOESNT_CHANGE`.
//! - `/no-conditional`: an `ETag` and a `Last-Modified`, and no conditional handling at all:
//!   every revalidation gets the whole 200. REDbot: `INM_FULL`, `IMS_FULL`.
//! - `/ignores-if-match` (`PUT`): a write that ignores `If-Match` and `If-None-Match`, so a
//!   stale write goes through and, under two concurrent writers, an update is lost (RFC 9110
//!   §13.1.1). REDbot never writes.
//! - `/check-then-write` (`PUT`): a write that checks `If-Match` (and 428s a write without
//!   one), then awaits (the database work) before writing, outside any lock: every request
//!   alone is answered right, and two concurrent writers holding one tag both win. Only the
//!   concurrent writers show it.
//! - `/weak-if-match` (`PUT`): a write that compares `If-Match` weakly (it drops `W/`), so a
//!   client holding only a weak tag overwrites (RFC 9110 §13.1.1 asks for the strong
//!   comparison); everything else, the lock included, is right.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_conditional::ConditionalLayer;
use tower_http::compression::CompressionLayer;

/// Long enough for `CompressionLayer` to compress (it skips bodies under 32 bytes).
pub const PAGE: &str = "a page of text that is long enough to be worth compressing, twice over";

/// `/own-304`'s tag.
const OWN_TAG: &str = "\"own-1\"";

/// The simulated work between a write's check and its write.
const WORK: Duration = Duration::from_millis(20);

/// Every broken route.
pub fn all() -> Router {
    own_304()
        .merge(shared_strong_tag())
        .merge(no_conditional())
        .merge(ignores_if_match())
        .merge(check_then_write())
        .merge(weak_if_match())
}

/// `/own-304`, behind the layer: the handler's own 304 lacks its 200's `Cache-Control`.
pub fn own_304() -> Router {
    async fn page(headers: HeaderMap) -> Response {
        if headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|held| held == OWN_TAG)
        {
            return (StatusCode::NOT_MODIFIED, [(header::ETAG, OWN_TAG)]).into_response();
        }
        (
            [
                (header::ETAG, OWN_TAG),
                (header::CACHE_CONTROL, "max-age=60"),
            ],
            PAGE,
        )
            .into_response()
    }
    Router::new()
        .route("/own-304", get(page))
        .layer(ConditionalLayer::new())
}

/// `/shared-strong-tag`: compression outside the layer (with `Router::layer`, the last one
/// added is the outermost).
pub fn shared_strong_tag() -> Router {
    Router::new()
        .route("/shared-strong-tag", get(|| async { PAGE }))
        .layer(ConditionalLayer::new())
        .layer(CompressionLayer::new())
}

/// `/no-conditional`: validators, and nothing that reads a precondition.
pub fn no_conditional() -> Router {
    Router::new().route(
        "/no-conditional",
        get(|| async {
            (
                [
                    (header::ETAG, "\"v1\""),
                    (header::LAST_MODIFIED, "Wed, 21 Oct 2015 07:28:00 GMT"),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                PAGE,
            )
        }),
    )
}

/// A document's version; its tag is `"v{version}"`.
type Version = Arc<Mutex<u64>>;

fn tag(version: u64) -> String {
    format!("\"v{version}\"")
}

fn read(version: &Version) -> u64 {
    *version.lock().unwrap_or_else(PoisonError::into_inner)
}

fn store(version: &Version, value: u64) {
    *version.lock().unwrap_or_else(PoisonError::into_inner) = value;
}

/// The document's GET, behind the layer: its version's tag.
async fn show(State(version): State<Version>) -> Response {
    let version = read(&version);
    (
        [(header::ETAG, tag(version))],
        format!("version {version} of the document"),
    )
        .into_response()
}

/// `/ignores-if-match`: reads, works, writes, whatever the preconditions say.
pub fn ignores_if_match() -> Router {
    async fn put(State(version): State<Version>) -> StatusCode {
        let seen = read(&version);
        tokio::time::sleep(WORK).await;
        store(&version, seen + 1);
        StatusCode::NO_CONTENT
    }
    Router::new()
        .route("/ignores-if-match", get(show).put(put))
        .with_state(Version::new(Mutex::new(1)))
        .layer(ConditionalLayer::new())
}

/// `/check-then-write`: judges the preconditions against the version it read, then writes
/// after the work without checking that the version is still the one it judged.
pub fn check_then_write() -> Router {
    async fn put(State(version): State<Version>, headers: HeaderMap) -> StatusCode {
        let seen = read(&version);
        if headers.contains_key(header::IF_NONE_MATCH) {
            return StatusCode::PRECONDITION_FAILED; // `*`: it exists
        }
        match headers.get(header::IF_MATCH) {
            None => return StatusCode::PRECONDITION_REQUIRED,
            Some(held) if *held != tag(seen) => return StatusCode::PRECONDITION_FAILED,
            Some(_) => {}
        }
        tokio::time::sleep(WORK).await;
        store(&version, seen + 1); // should be: only if the version is still `seen`
        StatusCode::NO_CONTENT
    }
    Router::new()
        .route("/check-then-write", get(show).put(put))
        .with_state(Version::new(Mutex::new(1)))
        .layer(ConditionalLayer::new())
}

/// `/weak-if-match`: checks and writes under one lock, but takes `W/"v1"` for `"v1"`.
pub fn weak_if_match() -> Router {
    async fn put(State(version): State<Version>, headers: HeaderMap) -> StatusCode {
        let mut current = version.lock().unwrap_or_else(PoisonError::into_inner);
        if headers.contains_key(header::IF_NONE_MATCH) {
            return StatusCode::PRECONDITION_FAILED; // `*`: it exists
        }
        if let Some(held) = headers.get(header::IF_MATCH) {
            let held = held.as_bytes();
            let held = held.strip_prefix(b"W/").unwrap_or(held); // should compare strongly
            if held != tag(*current).as_bytes() {
                return StatusCode::PRECONDITION_FAILED;
            }
        }
        *current += 1;
        StatusCode::NO_CONTENT
    }
    Router::new()
        .route("/weak-if-match", get(show).put(put))
        .with_state(Version::new(Mutex::new(1)))
        .layer(ConditionalLayer::new())
}

#[allow(dead_code)] // Tests include this file for its routes, not for `main`.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::var("ADDR")
        .unwrap_or_else(|_| "127.0.0.1:0".to_owned())
        .parse()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error} (set ADDR)"))?;
    println!("audit fixtures on http://{}", listener.local_addr()?);
    axum::serve(listener, all()).await?;
    Ok(())
}
