//! `cargo run --example versioned_store`
//!
//! An in-memory store of JSON items under `/items/{id}` (GET, PUT, DELETE) behind
//! `ConditionalLayer` with a validator source. Every write bumps a version, and the version is
//! the item's ETag (`"v7"`). Listens on `$ADDR` (default 127.0.0.1:3001).
//!
//! - The source reads the current version from the store before any handler runs, so a
//!   revalidating GET gets its 304, and a write with a stale `If-Match` its 412, without the
//!   handler running.
//! - The check and the write are two steps, so writes are a compare-and-swap against the version
//!   the check saw (the `PreconditionCheck` request extension): of two clients writing with the
//!   same `If-Match`, exactly one wins and the other gets 412. No update is lost.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use tower_conditional::{
    BoxError, ConditionalLayer, Current, EntityTag, PreconditionCheck, Representation,
    ValidatorSource,
};

/// One stored item: its JSON and the version of that JSON.
#[derive(Clone, Debug)]
pub struct Item {
    pub version: u64,
    pub value: serde_json::Value,
}

/// The store, with counters of how often each handler ran (the tests read them).
#[derive(Default)]
pub struct Store {
    items: Mutex<HashMap<String, Item>>,
    next_version: AtomicU64,
    pub gets: AtomicUsize,
    pub writes: AtomicUsize,
}

impl Store {
    fn items(&self) -> MutexGuard<'_, HashMap<String, Item>> {
        // A poisoned lock only means another handler panicked mid-request; the map is intact.
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current item, if any.
    pub fn get(&self, id: &str) -> Option<Item> {
        self.items().get(id).cloned()
    }

    fn bump(&self) -> u64 {
        self.next_version.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// The entity tag of a version.
pub fn version_tag(version: u64) -> EntityTag {
    EntityTag::strong(&format!("v{version}")).unwrap_or_else(|_| unreachable!("digits are etagc"))
}

/// The validator source: the current version of `/items/{id}`, read from the store.
pub fn store_source(store: Arc<Store>) -> impl ValidatorSource {
    move |request: &http::request::Parts| {
        let store = store.clone();
        let id = request
            .uri
            .path()
            .strip_prefix("/items/")
            .map(str::to_owned);
        async move {
            let Some(id) = id else {
                return Ok::<_, BoxError>(Current::Unknown);
            };
            Ok(match store.get(&id) {
                Some(item) => Current::Exists(
                    Representation::new()
                        .etag(version_tag(item.version))
                        .header(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                ),
                None => Current::Missing,
            })
        }
    }
}

/// The routes, behind the layer with the given source.
pub fn app_with(store: Arc<Store>, source: impl ValidatorSource) -> Router {
    Router::new()
        .route("/items/{id}", get(show).put(put).delete(delete))
        .with_state(store)
        .layer(ConditionalLayer::new().validator_source(source))
}

/// The example's app: the store's own source.
pub fn app(store: Arc<Store>) -> Router {
    app_with(store.clone(), store_source(store))
}

async fn show(State(store): State<Arc<Store>>, Path(id): Path<String>) -> Response {
    store.gets.fetch_add(1, Ordering::SeqCst);
    match store.get(&id) {
        // The handler sets the tag of the version it read: a write between the source's check
        // and this read must not leave the new body under the old tag.
        Some(item) => (
            [
                (header::ETAG, version_tag(item.version).to_header_value()),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            Json(item.value),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Whether the item is still as the precondition check saw it: the compare of the
/// compare-and-swap. Without a check (an unconditional request) any state will do.
fn unchanged_since_check(current: Option<&Item>, check: Option<&PreconditionCheck>) -> bool {
    let Some(check) = check else {
        return true;
    };
    match (current, check.etag()) {
        (Some(item), Some(seen)) => version_tag(item.version).strong_eq(seen),
        (None, None) => !check.existed(),
        _ => false,
    }
}

async fn put(
    State(store): State<Arc<Store>>,
    Path(id): Path<String>,
    check: Option<Extension<PreconditionCheck>>,
    Json(value): Json<serde_json::Value>,
) -> Response {
    store.writes.fetch_add(1, Ordering::SeqCst);
    let check = check.map(|Extension(check)| check);
    let mut items = store.items();
    if !unchanged_since_check(items.get(&id), check.as_ref()) {
        return StatusCode::PRECONDITION_FAILED.into_response();
    }
    let version = store.bump();
    let created = items.insert(id, Item { version, value }).is_none();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, version_tag(version).to_header_value());
    (status, headers).into_response()
}

async fn delete(
    State(store): State<Arc<Store>>,
    Path(id): Path<String>,
    check: Option<Extension<PreconditionCheck>>,
) -> StatusCode {
    store.writes.fetch_add(1, Ordering::SeqCst);
    let check = check.map(|Extension(check)| check);
    let mut items = store.items();
    if !unchanged_since_check(items.get(&id), check.as_ref()) {
        return StatusCode::PRECONDITION_FAILED;
    }
    match items.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

#[allow(dead_code)] // The tests include this file for its app, not for `main`.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::var("ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3001".to_owned())
        .parse()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error} (set ADDR)"))?;
    println!(
        "versioned store on http://{}/items/{{id}}",
        listener.local_addr()?
    );
    axum::serve(listener, app(Arc::new(Store::default()))).await?;
    Ok(())
}
