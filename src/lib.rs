//! HTTP conditional requests (RFC 9110 §13) for any Tower service: entity tags for GET/HEAD
//! responses, and bodiless `304 Not Modified` answers when the client's copy is still current.
//!
//! ```
//! use axum::{Router, routing::get};
//! use http::{Request, StatusCode, header};
//! use tower::ServiceExt;
//! use tower_conditional::ConditionalLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = Router::new()
//!     .route("/", get(|| async { "<h1>Hello</h1>" }))
//!     .layer(ConditionalLayer::new());
//!
//! // The first response carries a strong ETag computed from the body.
//! let response = app
//!     .clone()
//!     .oneshot(Request::get("/").body(axum::body::Body::empty()).unwrap())
//!     .await
//!     .unwrap();
//! assert_eq!(response.status(), StatusCode::OK);
//! let etag = response.headers()[header::ETAG].clone();
//!
//! // Revalidating with that tag costs a bodiless 304.
//! let response = app
//!     .oneshot(
//!         Request::get("/")
//!             .header(header::IF_NONE_MATCH, etag.clone())
//!             .body(axum::body::Body::empty())
//!             .unwrap(),
//!     )
//!     .await
//!     .unwrap();
//! assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
//! assert_eq!(response.headers()[header::ETAG], etag);
//! # }
//! ```
//!
//! # The rule
//!
//! Adding the layer never changes what the app answers, and never makes the app do more work,
//! except to replace a `200` (or the `206` of a range request) by the `304` or `412` RFC 9110
//! requires, and to add validators. The inner service is asked what the client asked: HEAD
//! stays HEAD, `Range` and `If-Range` go through, the app's headers and non-2xx answers come
//! out as they went in, and a body is never held while its next frame is not ready. This holds
//! in both placements (`Router::layer` and around the router), and `tests/never_changes.rs`
//! checks it against the same app without the layer. The exceptions are the ones the RFC
//! makes: a modification date later than now is sent as now (§8.8.2.1), one at the epoch (the
//! Nix store's) is no validator and is left out, a strong tag from inside on content-coded
//! bytes becomes the coded tag of its version (see [Compression and strong
//! tags](#compression-and-strong-tags)), a 304 from inside loses its content fields, and a
//! source's validators are the ones sent.
//!
//! # What it does
//!
//! For a GET (or HEAD) whose response is `200 OK`:
//!
//! - If the handler set an `ETag` or `Last-Modified`, those are the validators, used as they
//!   are. The body is not read.
//! - Otherwise the layer reads the body while its frames are ready, up to
//!   [`ConditionalLayer::buffer_limit`], hashes it and sets a strong `ETag` (weak with
//!   [`ConditionalLayer::weak_tags`]). The tag depends on the bytes alone, not on how they were
//!   chunked, which process computed it, or when, so replicas behind a shared cache agree. The
//!   default hash is collision-resistant ([`TagHash`]). The chunks are then sent as they came,
//!   not copied. A body that has to wait for its next frame (a live stream) is sent on at
//!   once, untagged, unless [`ConditionalLayer::wait_for_body`] says to wait.
//! - Then the request's preconditions are evaluated by [`evaluate`]. A false `If-None-Match` or
//!   `If-Modified-Since` becomes a `304 Not Modified` without a body that keeps every header
//!   but the content ones (`Content-Type`, `Content-Length`, `Content-Encoding`,
//!   `Content-Language`, `Content-Range`, `Transfer-Encoding`): `ETag`, `Cache-Control`,
//!   `Expires`, `Vary`, `Content-Location`, `Date` and `Set-Cookie` all stay. A false
//!   `If-Match` or `If-Unmodified-Since` becomes a `412 Precondition Failed`.
//!
//! Everything else passes through untouched and unbuffered: other methods (by the time the
//! layer sees a PUT's response the handler has run, so turning it into a 304 or 412 would hide a
//! write that happened), non-2xx responses, `text/event-stream` and gRPC responses, bodies over
//! the limit (sent on as they stream, without a generated tag), `Cache-Control: no-store`
//! responses (no generated tag), and whatever [`ConditionalLayer::skip_when`] says.
//!
//! # How it decides (RFC 9110 §13.2.2)
//!
//! [`evaluate`] follows the order of the RFC, and only where the response would be 2xx:
//!
//! 1. `If-Match`, with the strong comparison and `*`; false → 412. A malformed value is false
//!    (§13.1.1).
//! 2. Without `If-Match`: `If-Unmodified-Since`; a later modification date → 412.
//! 3. `If-None-Match`, with the weak comparison, `*`, lists and several lines; false → 304 on
//!    GET/HEAD (412 on other methods). A malformed value is true, so it never produces a 304
//!    (§13.1.2).
//! 4. Without `If-None-Match`, on GET/HEAD: `If-Modified-Since`; no modification since → 304.
//!
//! Dates are accepted in all three HTTP-date forms and ignored when invalid, repeated, or when
//! the response has no `Last-Modified`.
//!
//! # Validators known before the handler
//!
//! With [`ConditionalLayer::validator_source`] the layer asks a [`ValidatorSource`] for the
//! current validators first, answers 304 and 412 without calling the inner service, protects
//! writes from lost updates, and honours `If-Range`. See [`ValidatorSource`], and mind
//! authentication: a source answers before the handler, so before any check the handler
//! makes ([`ValidatorSource`] shows the two safe arrangements).
//!
//! Handlers that know a cheap validator themselves use [`Preconditions`] (an axum extractor with
//! the `axum` feature): declare the current [`Representation`] once, call
//! [`Preconditions::check`], and return its [`Early`] answer, a 304 that carries what the 200
//! carries, or the 412.
//!
//! # Writes
//!
//! Optimistic concurrency, the way RFC 9110 §13.1.1 and RFC 6585 §3 mean it, from every
//! client:
//!
//! 1. The client GETs the resource and keeps its `ETag`, then writes with `If-Match` naming it
//!    (or `If-None-Match: *` to create a resource that must not exist yet).
//! 2. The layer, with a validator source, refuses a stale write with 412 before the handler
//!    runs, and, with [`ConditionalLayer::require_preconditions`], a write that names no
//!    version with `428 Precondition Required`.
//! 3. The handler judges the request again where it writes, inside its transaction or lock,
//!    against the version it reads there: [`Preconditions::check`]. That makes the write a
//!    compare-and-swap: of two writers holding one tag, exactly one wins and the other gets
//!    the 412. In SQL, the read and the write are `SELECT version …` and `UPDATE … WHERE id =
//!    $1 AND version = $2`; no row changed means another writer won, and judging again gives
//!    the 412.
//! 4. With [`ConditionalLayer::problem_details`], every 412 and 428 carries an RFC 9457
//!    `application/problem+json` body naming the precondition and the current `ETag`.
//!
//! What was decided, and why:
//!
//! - **Which methods may create a resource** ([`ConditionalLayer::creating_methods`], PUT by
//!   default). RFC 9110 §13.2.1: preconditions apply only where the answer without them would
//!   be 2xx or 412. A `DELETE` or `PATCH` of a missing resource is a 404, so its `If-Match` is
//!   not judged and the handler answers; a `PUT` may create it, so `If-Match` fails (412,
//!   §13.1.1) and `If-None-Match: *` passes.
//! - **What counts as a precondition for the 428**: `If-Match`; `If-None-Match: *`; and
//!   `If-Unmodified-Since` only where the source reports a `Last-Modified`, since without one it
//!   is ignored (§13.1.4) and the write would be unconditional. A list in `If-None-Match` only
//!   says which versions not to overwrite, and guards nothing.
//! - **The problem body**: `type` is `about:blank` (RFC 9457 §4.2.1: the status says what
//!   happened), `title` the reason phrase, `status`, `detail` how to resubmit, and two extension
//!   members, `precondition` (the failed or missing field) and, on a 412, `etag` (the current
//!   tag, also sent as the `ETag` field, §15.5.13).
//!
//! # Compression and strong tags
//!
//! A strong tag names one sequence of bytes (RFC 9110 §8.8.1), and gzip bytes are other bytes
//! than the identity ones. With a compression layer inside this one (the recommended order), a
//! strong tag from the handler or the source on a content-coded response becomes the *coded
//! tag* of its version: `"v1"` with `Content-Encoding: gzip` is sent as `"v1-gzip"`, the form
//! RFC 9110 §8.8.3.3 uses in its example (and Jetty's `GzipHandler`, with `--gzip`). It stays
//! strong, so:
//!
//! - a gzip client's `If-Match: "v1-gzip"` names version `"v1"`, and its write succeeds (a
//!   weakened `W/"v1"`, as nginx sends, never could: `If-Match` compares strongly); once the
//!   version moved on, it gets the 412;
//! - its `If-None-Match: "v1-gzip"` revalidates, and the 304 names `"v1-gzip"`, the tag it
//!   holds (RFC 9111 §4.3.4: a cache updates only the stored response whose strong validator
//!   the 304 carries), with `Vary: accept-encoding`;
//! - `If-Range` compares exactly, so a range is never stitched across codings: a gzip
//!   client's `If-Range: "v1-gzip"` never matches an identity 206 (compression never
//!   compresses ranges), and it gets the whole response.
//!
//! The layer, [`Preconditions::check`] and the validator source's check all read a tag as
//! naming a version: verbatim, weakened, or coded (`-gzip`, `-br`, `-zstd`, `-deflate`,
//! `-compress`, `-x-gzip`, `-x-compress`, in the order applied). The match is made forward (the
//! current tag, then a coding), never by cutting a suffix off the client's tag, so an
//! application tag that itself ends in `-gzip` is only ever itself. A tag for a coding not in
//! that list is weakened instead. Tags the layer generates hash the bytes sent, coded or not,
//! and are never suffixed.
//!
//! # Range and If-Range
//!
//! The layer serves no ranges itself; the inner service does, as without the layer. A range
//! request is judged before its range (§13.2.2): a `206` whose validators the client's
//! `If-None-Match` or `If-Modified-Since` says it has becomes a `304`. For `If-Range` (which
//! tower-http's `ServeDir` ignores) the layer checks the `206` against it
//! ([`if_range_allows_range`]: a strong tag, or the exact date); when the range is of another
//! version, the layer drops it and asks the inner service again without `Range`, which a GET
//! allows, so a resumed download is never stitched from two versions and costs no more than
//! the range or the whole new file. With a validator source, `If-Range` is judged before the
//! handler. Asking again needs an empty request body: the request body type must be
//! `Default`, as axum's, tonic's and http-body-util's are (box hyper's `Incoming` first).
//!
//! # HEAD
//!
//! A HEAD goes to the inner service as a HEAD, so HEAD routes run and HEAD-only routes exist.
//! A HEAD response must carry the tag GET would get, or none (RFC 9110 §9.3.2): never the tag
//! of its own empty body. Where the layer sees GET's body in a HEAD response (inside axum's
//! router, which runs the GET handler for HEAD and empties the body outside the layer), it
//! tags it as GET's; elsewhere HEAD carries the handler's or the source's validators, or none.
//!
//! # Placement
//!
//! `Router::layer(ConditionalLayer::new())` applies it to each route;
//! `ServiceBuilder::new().layer(ConditionalLayer::new()).service(app)` around the whole app;
//! both give the app's answers, with one difference in what is added: around the router, a
//! HEAD response has no GET body left to hash, so it gets no generated tag. It also wraps a
//! bare hyper service through
//! `hyper_util::service::TowerToHyperService`, as it is a plain [`tower::Layer`].
//!
//! The tag describes the bytes that are sent, so the layer goes outside layers that change the
//! body: with tower-http's `CompressionLayer`,
//! `ServiceBuilder::new().layer(ConditionalLayer::new()).layer(CompressionLayer::new())`, which
//! gives gzip and identity responses different strong tags. In the other order compression keeps
//! one strong tag on both encodings and marks 304s `Content-Encoding: gzip`; the README's
//! placement guide shows the configuration that works there (weak tags). [`ServiceBuilderExt`]
//! adds the layer by name.
//!
//! In front of tower-http's `ServeDir`, the layer keeps the file's own `ETag` and
//! `Last-Modified` (no hashing), and adds the `If-Range` handling `ServeDir` lacks. With tonic,
//! gRPC calls (POSTs of `application/grpc`) pass through untouched, trailers included, so one
//! stack can serve REST routes and gRPC services side by side.
//!
//! # Cargo features
//!
//! - `fast-hash` (default): `TagHash::Fast` (XXH3-128, through `xxhash-rust`).
//! - `axum`: [`Preconditions`] as an axum extractor, and `IntoResponseParts` for
//!   [`EntityTag`] (sets `ETag`) and [`Validators`] (sets `ETag` and `Last-Modified`), so a
//!   handler returns `(validators, body)`; `ConditionalLayer::axum_body`, the layer answering
//!   with axum's own body type (`AxumBodyLayer`), which spares the responses it passes through
//!   the box axum's `Router::layer` puts around any other.
//! - `headers`: conversions between [`EntityTag`] / [`Validators`] and the `headers` crate's
//!   `ETag` / `LastModified`, and `TypedPreconditions` to [`evaluate`] typed `IfMatch`,
//!   `IfNoneMatch`, `IfModifiedSince` and `IfUnmodifiedSince` values.
//! - `tracing`: a `tracing` event for every decision the layer makes.
//!
//! # Pitfalls it avoids
//!
//! Each is a bug seen in another implementation, and each has a test here.
//!
//! - **Tags that depend on chunk boundaries** (salvo, hono): the tag is the hash of the
//!   concatenated bytes, computed after buffering.
//! - **304 or 412 after a write happened** (trillium): only GET and HEAD responses are judged
//!   after the handler; writes are judged before it, with a [`ValidatorSource`], or not at all.
//! - **Tags taken from the request** (salvo): tags come from the response bytes, the handler,
//!   or the source, never from request headers.
//! - **Tags of empty HEAD bodies** (Spring): an empty HEAD body is never hashed.
//! - **Range stitched from two versions** (`ServeDir` ignores `If-Range`): see above.
//! - **A full read for a range**: the range goes to the inner service; a stale one is asked
//!   again without `Range`.
//! - **One strong tag for gzip and identity bytes** (`CompressionLayer` in front): place the
//!   layer outside compression; strong tags from inside on encoded responses become coded
//!   tags (`"v1-gzip"`).
//! - **Writes that fail for every gzip client** (a weakened tag in `If-Match`), **lost
//!   updates** between the check and the write, **412 for a DELETE of nothing**: see
//!   [Writes](#writes).
//! - **A 304 missing the 200's headers** (Django's `@condition`) or **carrying
//!   `Content-Encoding`** (compression labels 304s on their way out): the representation is
//!   declared once, and any 304 that leaves the layer is cleaned of content fields.
//! - **304s that lose headers or keep the wrong ones**: `Set-Cookie`, `Cache-Control`,
//!   `Vary`, `ETag` stay; `Content-Encoding`, `Content-Length`, `Transfer-Encoding` go.
//! - **Buffered event streams** (Rack): `text/event-stream` and gRPC are never buffered, no
//!   body is held while its next frame is not ready, and none beyond
//!   [`ConditionalLayer::buffer_limit`].
//! - **`If-Modified-Since` judged beside `If-None-Match`**, weak and strong comparison mixed
//!   up, `*` and lists mishandled: [`evaluate`] follows RFC 9110 §13.2.2 and is table-tested.
//! - **Tags that differ between replicas** (mtime- or inode-based): generated tags depend on
//!   the bytes alone, so replicas behind a shared cache agree.

#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs` (Cargo.toml) on nightly, which marks feature-gated items.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

#[cfg(feature = "audit")]
#[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
pub mod audit;
mod body;
mod builder;
mod config;
pub mod decision;
#[cfg(feature = "fs")]
#[cfg_attr(docsrs, doc(cfg(feature = "fs")))]
pub mod files;
mod future;
mod handler;
mod layer;
mod plan;
mod rfc;
mod service;
pub mod source;
#[cfg(feature = "headers")]
mod typed;

#[cfg(feature = "axum")]
pub use body::AxumBody;
pub use body::ConditionalBody;
pub use builder::ServiceBuilderExt;
pub use config::ResponseInfo;
pub use future::ResponseFuture;
pub use handler::{Early, Preconditions};
pub use layer::ConditionalLayer;
pub use rfc::etag::{EntityTag, InvalidEntityTag};
pub use rfc::hash::TagHash;
pub use rfc::precondition::Outcome;
pub use rfc::representation::Representation;
pub use service::Conditional;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// SECURITY.md's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../SECURITY.md")]
struct SecurityDoctests;
