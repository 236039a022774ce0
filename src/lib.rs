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
//! Nix store's) is no validator and is left out, a strong tag from inside on a re-encoded body
//! is weakened, and a source's validators are the ones sent.
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
//! writes from lost updates, honours `If-Range`, and tells the handler what it checked
//! ([`PreconditionCheck`]) for a compare-and-swap. See [`ValidatorSource`], and mind
//! authentication: a source answers before the handler, so before any check the handler
//! makes ([`ValidatorSource`] shows the two safe arrangements).
//!
//! Handlers that know a cheap validator themselves use [`Preconditions`] (an axum extractor with
//! the `axum` feature) and return [`not_modified`] / [`precondition_failed`] early.
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
//!   layer outside compression; strong tags from inside on encoded responses are weakened
//!   ([`ConditionalLayer::weaken_encoded_tags`]).
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

#[cfg(feature = "axum")]
mod axum_body;
mod body;
mod builder;
mod decision;
mod etag;
mod fields;
#[cfg(feature = "fs")]
pub mod files;
mod future;
mod handler;
mod hash;
mod layer;
#[cfg(feature = "axum")]
mod parts;
mod plan;
mod precondition;
mod problem;
mod range;
mod request;
mod response;
mod service;
mod source;
#[cfg(feature = "headers")]
mod typed;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use axum_body::{AxumBodyFuture, AxumBodyLayer, AxumBodyService};
pub use body::ConditionalBody;
pub use builder::ServiceBuilderExt;
pub use decision::{Decision, PassReason, TagOrigin};
pub use etag::{EntityTag, InvalidEntityTag};
pub use future::ResponseFuture;
pub use handler::{Early, Preconditions};
pub use hash::TagHash;
pub use layer::{ConditionalLayer, DEFAULT_BUFFER_LIMIT, ResponseInfo};
pub use precondition::{Outcome, Validators, evaluate};
pub use range::if_range_allows_range;
pub use service::Conditional;
pub use source::{BoxError, Current, Representation, SourceFuture, ValidatorSource};
#[cfg(feature = "headers")]
#[cfg_attr(docsrs, doc(cfg(feature = "headers")))]
pub use typed::TypedPreconditions;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// SECURITY.md's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../SECURITY.md")]
struct SecurityDoctests;
