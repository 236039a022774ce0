//! `cargo run -p tower-conditional-extras --example versioned_store`
//!
//! A store of JSON documents under `/items/{id}` (GET, PUT, PATCH, DELETE) kept in a real
//! database, behind `ConditionalLayer` with a validator source and tower-http's
//! `CompressionLayer` inside it. Every write bumps the item's version, and the version is the
//! item's ETag (`"v7"`; a client sent the gzip bytes holds `"v7-gzip"`, which names the same
//! version). Listens on `$ADDR` (default 127.0.0.1:3001).
//!
//! The database is `$DATABASE_URL`:
//!
//! - unset: SQLite in memory (gone when the process stops);
//! - `sqlite://items.db` (relative path) or `sqlite:///var/lib/store/items.db` (absolute): a
//!   SQLite file, created when missing;
//! - `postgres://user:password@host:port/database` (or `postgresql://`): PostgreSQL, which
//!   several replicas of this server can share.
//!
//! One table, created when missing: `items (id TEXT PRIMARY KEY, value TEXT, version BIGINT)`.
//! One connection per process keeps the example short (SQLite calls take turns on it,
//! PostgreSQL pipelines them); a service would use a pool that reconnects.
//!
//! The write path, end to end:
//!
//! - **The representation is declared once** ([`representation`]): the version's tag and the
//!   headers every answer about it carries (`Cache-Control: no-cache`, and `Vary:
//!   accept-encoding`, since compression makes the 200 vary by it). The source, the GET
//!   handler and the 304s all use it, so they cannot disagree.
//! - **The source** reads the current version with a `SELECT` before any handler runs: a
//!   revalidating GET gets its 304, and a write with a stale `If-Match` its 412, without the
//!   handler running. A `DELETE` or `PATCH` of a missing item goes to the handler for its 404
//!   (RFC 9110 §13.2.1); a `PUT` may create it.
//! - **428**: a write without `If-Match` (or `If-None-Match: *` to create) is refused with
//!   `428 Precondition Required` (RFC 6585 §3) before the handler runs, so no client can lose
//!   another's update by not asking.
//! - **Compare-and-swap**: the source's check and the write are two steps, and another writer
//!   (another request, another replica) can come in between. So the handler reads the version,
//!   judges the request against it with `Preconditions::check` (the one call), and writes with
//!   `UPDATE items SET … WHERE id = $2 AND version = $3`: no row changed means another writer
//!   won after the read, and the handler reads and judges again, which gives the loser its 412.
//!   Of two clients writing with the same `If-Match`, exactly one wins, on one replica or many.
//! - **Problem details**: every 412 and 428 has an RFC 9457 `application/problem+json` body
//!   naming the precondition and the current `ETag`.
//! - A deleted item stays as a row with a `NULL` value (a tombstone) whose version keeps
//!   counting, so an item deleted and created again never reuses a tag that a client or a cache
//!   may still hold. Purge old tombstones only when no such copy can be left.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::OptionalExtension;
use tower::BoxError;
use tower_conditional::source::{Current, ValidatorSource};
use tower_conditional::{ConditionalLayer, EntityTag, Preconditions, Representation};
use tower_http::compression::CompressionLayer;

/// Creates the table; a deleted item keeps its row with a `NULL` value.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    value TEXT,
    version BIGINT NOT NULL
)";

/// The current version of a live item: what the validator source asks.
const SELECT_VERSION: &str = "SELECT version FROM items WHERE id = $1 AND value IS NOT NULL";

/// A live item's version and JSON.
const SELECT_ITEM: &str = "SELECT version, value FROM items WHERE id = $1 AND value IS NOT NULL";

/// Compare-and-swap of a live item (`$1` is `NULL` to delete it): no row when the version moved.
const UPDATE_IF_VERSION: &str = "UPDATE items SET value = $1, version = version + 1
    WHERE id = $2 AND version = $3 AND value IS NOT NULL
    RETURNING version";

/// Creates an item that does not exist (or only as a tombstone): no row when it exists.
const INSERT_IF_MISSING: &str = "INSERT INTO items (id, value, version) VALUES ($1, $2, 1)
    ON CONFLICT (id) DO UPDATE SET value = excluded.value, version = items.version + 1
    WHERE items.value IS NULL
    RETURNING version";

/// How often a write reads, judges and tries its compare-and-swap again while other writers
/// keep winning, before it answers 503. A conditional write that lost once is judged against
/// the winner's version and gets its 412 on the second try.
const WRITE_TRIES: usize = 20;

/// One stored item: its JSON and the version of that JSON.
#[derive(Clone, Debug)]
pub struct Item {
    pub version: i64,
    pub value: serde_json::Value,
}

/// What a compare-and-swap expects to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// No live item.
    Missing,
    /// A live item at this version.
    Version(i64),
}

enum Database {
    /// One connection; the blocking calls run on tokio's blocking threads.
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    /// One connection, shared: tokio-postgres pipelines concurrent queries on it.
    Postgres(tokio_postgres::Client),
}

/// The store, with counters of how often each handler ran (the tests read them).
pub struct Store {
    database: Database,
    pub gets: AtomicUsize,
    pub writes: AtomicUsize,
}

impl Store {
    /// Opens the database a `DATABASE_URL` names (see the module documentation); `None` is
    /// SQLite in memory.
    pub async fn connect(url: Option<&str>) -> Result<Self, BoxError> {
        match url {
            None => Self::sqlite_in_memory(),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Self::postgres(url).await
            }
            Some(url) => match url.strip_prefix("sqlite://") {
                Some(path) if !path.is_empty() => Self::sqlite_file(path),
                _ => Err(format!(
                    "DATABASE_URL must start with sqlite:// or postgres://, not {:?}",
                    url.split(':').next().unwrap_or_default()
                )
                .into()),
            },
        }
    }

    /// A SQLite database in memory, private to this store.
    pub fn sqlite_in_memory() -> Result<Self, BoxError> {
        Self::sqlite(rusqlite::Connection::open_in_memory()?)
    }

    /// A SQLite file, created when missing. Several stores (processes) may open the same file.
    pub fn sqlite_file(path: &str) -> Result<Self, BoxError> {
        let connection = rusqlite::Connection::open(path)?;
        // Readers do not block the writer, and a writer waits for another one instead of
        // failing at once.
        let mode: String =
            connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!("SQLite refused WAL mode for {path} (got {mode})").into());
        }
        connection.busy_timeout(Duration::from_secs(5))?;
        Self::sqlite(connection)
    }

    fn sqlite(connection: rusqlite::Connection) -> Result<Self, BoxError> {
        connection.execute_batch(SCHEMA)?;
        Ok(Self::with(Database::Sqlite(Arc::new(Mutex::new(
            connection,
        )))))
    }

    /// PostgreSQL; the connection runs on a task of its own.
    pub async fn postgres(url: &str) -> Result<Self, BoxError> {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                eprintln!("versioned store: database connection lost: {error}");
            }
        });
        // Replicas starting at once would race to create the table; a transaction-scoped lock
        // lets one create it and the others find it.
        client
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock(7231); {SCHEMA}; COMMIT"
            ))
            .await?;
        Ok(Self::with(Database::Postgres(client)))
    }

    fn with(database: Database) -> Self {
        Self {
            database,
            gets: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
        }
    }

    /// Which kind of database this is, for the startup line.
    pub fn kind(&self) -> &'static str {
        match self.database {
            Database::Sqlite(_) => "SQLite",
            Database::Postgres(_) => "PostgreSQL",
        }
    }

    /// The current version of a live item.
    pub async fn version(&self, id: &str) -> Result<Option<i64>, BoxError> {
        match &self.database {
            Database::Sqlite(connection) => {
                let id = id.to_owned();
                sqlite(connection, move |connection| {
                    connection
                        .prepare_cached(&sqlite_sql(SELECT_VERSION))?
                        .query_row([id], |row| row.get(0))
                        .optional()
                })
                .await
            }
            Database::Postgres(client) => Ok(client
                .query_opt(SELECT_VERSION, &[&id])
                .await?
                .map(|row| row.get(0))),
        }
    }

    /// The current item, if any.
    pub async fn get(&self, id: &str) -> Result<Option<Item>, BoxError> {
        let row: Option<(i64, String)> = match &self.database {
            Database::Sqlite(connection) => {
                let id = id.to_owned();
                sqlite(connection, move |connection| {
                    connection
                        .prepare_cached(&sqlite_sql(SELECT_ITEM))?
                        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
                        .optional()
                })
                .await?
            }
            Database::Postgres(client) => client
                .query_opt(SELECT_ITEM, &[&id])
                .await?
                .map(|row| (row.get(0), row.get(1))),
        };
        row.map(|(version, value)| {
            Ok(Item {
                version,
                value: serde_json::from_str(&value)?,
            })
        })
        .transpose()
    }

    /// Writes `value` (deletes the item for `None`) if the item is still as `expected`, and
    /// returns its new version; `None` when it is not (another writer won, or there is nothing
    /// to delete).
    pub async fn swap(
        &self,
        id: &str,
        expected: Expected,
        value: Option<&str>,
    ) -> Result<Option<i64>, BoxError> {
        let (sql, version) = match (expected, value) {
            (Expected::Version(version), _) => (UPDATE_IF_VERSION, version),
            (Expected::Missing, Some(_)) => (INSERT_IF_MISSING, 0),
            (Expected::Missing, None) => return Ok(None),
        };
        match &self.database {
            Database::Sqlite(connection) => {
                let (id, value) = (id.to_owned(), value.map(str::to_owned));
                sqlite(connection, move |connection| {
                    let mut statement = connection.prepare_cached(&sqlite_sql(sql))?;
                    let row = |row: &rusqlite::Row<'_>| row.get(0);
                    match expected {
                        Expected::Version(_) => {
                            statement.query_row(rusqlite::params![value, id, version], row)
                        }
                        Expected::Missing => statement.query_row(rusqlite::params![id, value], row),
                    }
                    .optional()
                })
                .await
            }
            Database::Postgres(client) => {
                let row = match expected {
                    Expected::Version(_) => client.query_opt(sql, &[&value, &id, &version]).await?,
                    Expected::Missing => client.query_opt(sql, &[&id, &value]).await?,
                };
                Ok(row.map(|row| row.get(0)))
            }
        }
    }
}

/// Runs a call on the SQLite connection on a blocking thread.
async fn sqlite<T: Send + 'static>(
    connection: &Arc<Mutex<rusqlite::Connection>>,
    call: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T, BoxError> {
    let connection = connection.clone();
    tokio::task::spawn_blocking(move || {
        // A poisoned lock only means a call panicked; the connection is still usable.
        let connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
        call(&connection)
    })
    .await?
    .map_err(Into::into)
}

/// The statements are written with PostgreSQL's `$1`; SQLite's numbered parameters are `?1`.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

/// The entity tag of a version.
pub fn version_tag(version: i64) -> EntityTag {
    EntityTag::strong(format!("v{version}")).unwrap_or_else(|_| unreachable!("digits are etagc"))
}

/// What every answer about a version of an item carries, declared once: its tag, and the
/// headers its 200 carries and its 304 must repeat (RFC 9110 §15.4.5). `Vary:
/// accept-encoding`: the layer's compression makes the 200 vary by it.
pub fn representation(version: i64) -> Representation {
    Representation::new()
        .with_etag(version_tag(version))
        .with_header(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))
        .with_header(header::VARY, HeaderValue::from_static("accept-encoding"))
}

/// The validator source: the current version of `/items/{id}`, read from the database.
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
            Ok(match store.version(&id).await? {
                Some(version) => Current::Exists(representation(version)),
                None => Current::Missing,
            })
        }
    }
}

/// The example's layer: the source, writes that must be conditional (428), and problem
/// details on every 412 and 428.
pub fn layer(source: impl ValidatorSource) -> ConditionalLayer {
    ConditionalLayer::new()
        .validator_source(source)
        .require_preconditions([Method::PUT, Method::PATCH, Method::DELETE])
        .problem_details(true)
}

/// The routes, with compression inside `layer` (with `Router::layer`, the last one added is
/// the outermost): the layer then sees, and tags, the bytes that are sent.
pub fn app_with(store: Arc<Store>, layer: ConditionalLayer) -> Router {
    Router::new()
        .route(
            "/items/{id}",
            get(show).put(put).patch(patch).delete(delete),
        )
        .with_state(store)
        .layer(CompressionLayer::new())
        .layer(layer)
}

/// The example's app: the store's own source, and the example's layer.
pub fn app(store: Arc<Store>) -> Router {
    app_with(store.clone(), layer(store_source(store)))
}

async fn show(State(store): State<Arc<Store>>, Path(id): Path<String>) -> Response {
    store.gets.fetch_add(1, Ordering::SeqCst);
    match store.get(&id).await {
        // The handler sends the representation of the version it read: a write between the
        // source's check and this read must not leave the new body under the old tag.
        Ok(Some(item)) => (representation(item.version), Json(item.value)).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => database_error(&error),
    }
}

async fn put(
    State(store): State<Arc<Store>>,
    Path(id): Path<String>,
    preconditions: Preconditions,
    Json(value): Json<serde_json::Value>,
) -> Response {
    let value = value.to_string();
    write(&store, &id, &preconditions, |_| Ok(Some(value.clone()))).await
}

/// An RFC 7396 JSON merge patch of a live item; a missing item is a 404 (its preconditions do
/// not apply, RFC 9110 §13.2.1).
async fn patch(
    State(store): State<Arc<Store>>,
    Path(id): Path<String>,
    preconditions: Preconditions,
    Json(patch): Json<serde_json::Value>,
) -> Response {
    write(&store, &id, &preconditions, |item| match item {
        Some(item) => {
            let mut value = item.value.clone();
            merge_patch(&mut value, &patch);
            Ok(Some(value.to_string()))
        }
        None => Err(StatusCode::NOT_FOUND),
    })
    .await
}

async fn delete(
    State(store): State<Arc<Store>>,
    Path(id): Path<String>,
    preconditions: Preconditions,
) -> Response {
    write(&store, &id, &preconditions, |item| match item {
        Some(_) => Ok(None),
        None => Err(StatusCode::NOT_FOUND),
    })
    .await
}

/// A write as a compare-and-swap: read the item, judge the request's preconditions against the
/// version read (`Preconditions::check`: a 412 when they are false), work out the new value
/// (`None` deletes), and store it only if the version is still the one read (`UPDATE … WHERE
/// version = $3`). When another writer came in between, read and judge again. `new_value`
/// answers a status instead when there is nothing to write (a 404).
async fn write(
    store: &Store,
    id: &str,
    preconditions: &Preconditions,
    mut new_value: impl FnMut(Option<&Item>) -> Result<Option<String>, StatusCode>,
) -> Response {
    store.writes.fetch_add(1, Ordering::SeqCst);
    for _ in 0..WRITE_TRIES {
        let item = match store.get(id).await {
            Ok(item) => item,
            Err(error) => return database_error(&error),
        };
        let current = item.as_ref().map(|item| representation(item.version));
        if let Err(early) = preconditions.check(current.as_ref()) {
            return early.into_response();
        }
        let value = match new_value(item.as_ref()) {
            Ok(value) => value,
            Err(status) => return status.into_response(),
        };
        let expected = match &item {
            Some(item) => Expected::Version(item.version),
            None => Expected::Missing,
        };
        match store.swap(id, expected, value.as_deref()).await {
            Ok(Some(_)) if value.is_none() => return StatusCode::NO_CONTENT.into_response(),
            Ok(Some(version)) => {
                let status = if expected == Expected::Missing {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                return (status, representation(version), ()).into_response();
            }
            // Another writer changed the item after the read: judge again against its version.
            Ok(None) => continue,
            Err(error) => return database_error(&error),
        }
    }
    let message = format!("{WRITE_TRIES} concurrent writers in a row won over this one; retry\n");
    (StatusCode::SERVICE_UNAVAILABLE, message).into_response()
}

/// RFC 7396: members of `patch` replace those of `value`, `null` removes one, and a patch that
/// is not an object replaces the whole value.
fn merge_patch(value: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(members) = patch else {
        *value = patch.clone();
        return;
    };
    if !value.is_object() {
        *value = serde_json::Value::Object(serde_json::Map::new());
    }
    if let serde_json::Value::Object(target) = value {
        for (name, member) in members {
            if member.is_null() {
                target.remove(name);
            } else {
                merge_patch(
                    target
                        .entry(name.clone())
                        .or_insert(serde_json::Value::Null),
                    member,
                );
            }
        }
    }
}

fn database_error(error: &BoxError) -> Response {
    eprintln!("versioned store: database error: {error}");
    (StatusCode::INTERNAL_SERVER_ERROR, "database error\n").into_response()
}

#[allow(dead_code)] // The tests include this file for its app, not for `main`.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::var("ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3001".to_owned())
        .parse()?;
    let url = std::env::var("DATABASE_URL").ok();
    let store = Store::connect(url.as_deref())
        .await
        .map_err(|error| format!("cannot open the database (DATABASE_URL): {error}"))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error} (set ADDR)"))?;
    println!(
        "versioned store on http://{}/items/{{id}} ({}{})",
        listener.local_addr()?,
        store.kind(),
        if url.is_none() { " in memory" } else { "" },
    );
    axum::serve(listener, app(Arc::new(store))).await?;
    Ok(())
}
