//! The documents API of `tests/writes.rs` and `tests/audit.rs`, written the way the docs show:
//! one `representation(version)` declared once and used by the validator source, the GET
//! handler and the writes; each write a compare-and-swap with `Preconditions::check` under the
//! lock it writes in. Counters say what the handlers did. Included with
//! `#[path = "common/docs.rs"] mod docs;` beside `mod common;`.

#![allow(dead_code)] // Each test uses what it needs of the app.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{CACHE_CONTROL, VARY};
use http::{HeaderValue, StatusCode};
use tokio::sync::{Mutex, MutexGuard};
use tower_conditional::source::{Current, ValidatorSource};
use tower_conditional::{ConditionalLayer, Early, EntityTag, Preconditions, Representation};

use crate::common::{BoxError, Counter};

/// The documents: id → (version, JSON text). The ETag of a document is `"v{version}"`.
pub type Store = Arc<Mutex<HashMap<String, (u64, String)>>>;

/// The simulated database work a write does before it takes the lock: the window in which a
/// second writer, holding the same tag, has passed the layer's check too.
pub const WORK: Duration = Duration::from_millis(50);

/// The document every test starts from, at version 1. Long enough for `CompressionLayer` to
/// compress it (it skips bodies under 32 bytes).
pub const DOC_A: &str = r#"{"title":"Document A","text":"the first version of the document"}"#;

/// Long enough to be compressed, and generated-tagged by the layer (no source knows it).
pub const LIST: &str = r#"{"docs":["a"],"note":"a listing the layer tags from its bytes"}"#;

/// What a document's answers carry, declared once: the source, the GET handler, the 304s and
/// the writes all use it.
pub fn representation(version: u64) -> Representation {
    Representation::new()
        .with_etag(EntityTag::strong(format!("v{version}")).unwrap())
        .with_header(CACHE_CONTROL, HeaderValue::from_static("no-cache"))
        .with_header(VARY, HeaderValue::from_static("accept-encoding"))
}

/// The application's state: the store, and counters the tests read.
#[derive(Clone, Default)]
pub struct Docs {
    pub store: Store,
    /// GET handler calls.
    pub reads: Counter,
    /// GET handler calls that rendered the document (did not answer early).
    pub rendered: Counter,
    /// Write handler calls (PUT, PATCH, DELETE).
    pub writes: Counter,
    /// Writes refused by the handler's own compare-and-swap.
    pub refused: Counter,
}

impl Docs {
    pub fn seeded() -> Self {
        let docs = Self::default();
        docs.store
            .try_lock()
            .unwrap()
            .insert("a".to_owned(), (1, DOC_A.to_owned()));
        docs
    }

    pub async fn stored(&self, id: &str) -> Option<(u64, String)> {
        self.store.lock().await.get(id).cloned()
    }

    /// The opening of every write: the work, then the lock, and the compare-and-swap against
    /// the version read under it (`None`: no such document). The write happens under the
    /// lock this returns.
    async fn lock_and_check(
        &self,
        id: &str,
        preconditions: &Preconditions,
    ) -> Result<MutexGuard<'_, HashMap<String, (u64, String)>>, Early> {
        self.writes.hit();
        tokio::time::sleep(WORK).await;
        let store = self.store.lock().await;
        let current = store.get(id).map(|(version, _)| representation(*version));
        preconditions
            .check(current.as_ref())
            .inspect_err(|_| self.refused.hit())?;
        Ok(store)
    }
}

async fn show(
    State(docs): State<Docs>,
    Path(id): Path<String>,
    preconditions: Preconditions,
) -> Result<Response, Early> {
    docs.reads.hit();
    let store = docs.store.lock().await;
    let Some((version, body)) = store.get(&id) else {
        return Ok((StatusCode::NOT_FOUND, "no such document").into_response());
    };
    let current = representation(*version);
    // Behind a source the layer has judged the request already and removed its
    // preconditions; without one, this answers early (deep ETags).
    preconditions.check(Some(&current))?;
    docs.rendered.hit();
    Ok((current, body.clone()).into_response())
}

/// PUT: replace (or create) the document. The compare-and-swap: lock, read the version,
/// `check`, write, all under the lock.
async fn replace(
    State(docs): State<Docs>,
    Path(id): Path<String>,
    preconditions: Preconditions,
    body: String,
) -> Result<Response, Early> {
    let mut store = docs.lock_and_check(&id, &preconditions).await?;
    let (status, version) = match store.get(&id) {
        Some((version, _)) => (StatusCode::NO_CONTENT, version + 1),
        None => (StatusCode::CREATED, 1),
    };
    store.insert(id, (version, body));
    Ok((status, representation(version), ()).into_response())
}

/// PATCH: append to the document's text (a stand-in for a JSON merge patch).
async fn amend(
    State(docs): State<Docs>,
    Path(id): Path<String>,
    preconditions: Preconditions,
    patch: String,
) -> Result<Response, Early> {
    let mut store = docs.lock_and_check(&id, &preconditions).await?;
    let Some((version, body)) = store.get_mut(&id) else {
        return Ok((StatusCode::NOT_FOUND, "no such document").into_response());
    };
    *version += 1;
    body.push_str(&patch);
    Ok((StatusCode::NO_CONTENT, representation(*version), ()).into_response())
}

async fn remove(
    State(docs): State<Docs>,
    Path(id): Path<String>,
    preconditions: Preconditions,
) -> Result<Response, Early> {
    let mut store = docs.lock_and_check(&id, &preconditions).await?;
    match store.remove(&id) {
        Some(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        None => Ok((StatusCode::NOT_FOUND, "no such document").into_response()),
    }
}

pub fn routes(docs: Docs) -> Router {
    Router::new()
        .route(
            "/docs/{id}",
            get(show).put(replace).patch(amend).delete(remove),
        )
        .route("/list", get(|| async { LIST }))
        .with_state(docs)
}

/// The source: the document's version, read from the store without rendering it; `/list` and
/// other paths are not documents (`Unknown`: the layer judges the handler's response).
/// `modified`: a source that also knows the documents' modification date.
pub fn source(docs: &Docs, modified: Option<SystemTime>) -> impl ValidatorSource {
    let store = docs.store.clone();
    move |request: &http::request::Parts| {
        let store = store.clone();
        let id = request.uri.path().strip_prefix("/docs/").map(str::to_owned);
        async move {
            let Some(id) = id else {
                return Ok::<_, BoxError>(Current::Unknown);
            };
            let version = store.lock().await.get(&id).map(|(version, _)| *version);
            Ok(match version {
                Some(version) => {
                    let mut current = representation(version);
                    if let Some(modified) = modified {
                        current = current.with_last_modified(modified);
                    }
                    Current::Exists(current)
                }
                None => Current::Missing,
            })
        }
    }
}

pub fn with_source(docs: &Docs) -> ConditionalLayer {
    ConditionalLayer::new().validator_source(source(docs, None))
}
