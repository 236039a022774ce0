//! HTTP conditional requests (RFC 9110 §13) for any Tower service: entity tags for GET/HEAD
//! responses, bodiless `304 Not Modified` answers when the client's copy is still current,
//! `412 Precondition Failed` for stale writes, and the compare-and-swap that makes writes safe.
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use axum::{Router, body::Body, routing::get};
//! use http::{Request, StatusCode, header};
//! use tower::ServiceExt;
//! use tower_conditional::ConditionalLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = Router::new()
//!     .route("/", get(|| async { "<h1>Hello</h1>" }))
//!     .layer(ConditionalLayer::new().axum_body());
//!
//! // The first response carries a strong ETag computed from the body.
//! let response = app.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
//! assert_eq!(response.status(), StatusCode::OK);
//! let etag = response.headers()[header::ETAG].clone();
//!
//! // Revalidating with that tag costs a bodiless 304.
//! let revalidate = Request::get("/").header(header::IF_NONE_MATCH, etag.clone());
//! let response = app.oneshot(revalidate.body(Body::empty()).unwrap()).await.unwrap();
//! assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
//! assert_eq!(response.headers()[header::ETAG], etag);
//! # }
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
//! bytes becomes the coded tag of its version ([Compression and strong
//! tags](#compression-and-strong-tags)), a 304 from inside loses its content fields, and a
//! validator source's validators are the ones sent.
//!
//! # What it does
//!
//! For a GET (or HEAD) whose response is `200 OK`:
//!
//! - If the inner service set an `ETag` or `Last-Modified`, those are the validators, used as
//!   they are. The body is not read.
//! - Otherwise the layer reads the body while its frames are ready, up to
//!   [`ConditionalLayer::buffer_limit`], hashes it and sets a strong `ETag` (weak with
//!   [`ConditionalLayer::weak_tags`]). The tag depends on the bytes alone, not on how they were
//!   chunked, which process computed it, or when, so replicas behind a shared cache agree. The
//!   default hash is collision-resistant ([`TagHash`]). The chunks are then sent as they came,
//!   not copied. A body that has to wait for its next frame (a live stream) is sent on at
//!   once, untagged, unless [`ConditionalLayer::wait_for_body`] says to wait.
//! - Then the request's preconditions are evaluated in the order of RFC 9110 §13.2.2:
//!   1. `If-Match`, with the strong comparison and `*`; false → 412. A malformed value is
//!      false (§13.1.1).
//!   2. Without `If-Match`: `If-Unmodified-Since`; a later modification date → 412.
//!   3. `If-None-Match`, with the weak comparison, `*`, lists and several lines; false → 304 on
//!      GET/HEAD (412 on other methods). A malformed value is true, so it never produces a 304
//!      (§13.1.2).
//!   4. Without `If-None-Match`, on GET/HEAD: `If-Modified-Since`; no modification since → 304.
//!
//!   Dates are accepted in all three HTTP-date forms and ignored when invalid, repeated, or
//!   when the response has no `Last-Modified`. A response without an `ETag` (a HEAD around the
//!   router, a body over the limit) may have one the layer could not compute, so a list of
//!   tags is evaluated against neither: never a 412 for a tag GET carries, and with an
//!   `If-Match` list nothing after it (a 304 would rest on a guess): the response goes out as
//!   the app made it.
//! - A 304 has no body and keeps every header but the content ones (`Content-Type`,
//!   `Content-Length`, `Content-Encoding`, `Content-Language`, `Content-Range`,
//!   `Transfer-Encoding`): `ETag` (the tag the client holds), `Cache-Control`, `Expires`,
//!   `Vary`, `Content-Location`, `Date` and `Set-Cookie` all stay. A 412 also drops
//!   `Cache-Control` and `Expires`, and keeps the current `ETag`.
//!
//! Everything else passes through untouched and unbuffered: other methods (by the time the
//! layer sees a PUT's response the inner service has run, so turning it into a 304 or 412 would
//! hide a write that happened: writes are evaluated before, see [Writes](#writes)), non-2xx
//! responses, `text/event-stream` and gRPC responses, bodies over the limit (sent on as they
//! stream, without a generated tag), `Cache-Control: no-store` responses (no generated tag),
//! and whatever [`ConditionalLayer::skip_when`] says. A 304 the inner service made itself
//! (`ServeDir` does) is sent as the layer's own are: without content fields, naming the tag the
//! client holds.
//!
//! # Placement
//!
//! **Inside or around the router.** `Router::layer(ConditionalLayer::new().axum_body())` wraps
//! each route (and the fallback); `ServiceBuilder::new().layer(ConditionalLayer::new())` (or
//! [`ServiceBuilderExt::conditional`]) wraps the whole app. Both give the app's answers, HEAD
//! included, with one difference in what is added: inside the router the layer sees GET's body
//! in a HEAD response (axum runs the GET handler and empties the body outside the layer) and
//! gives HEAD GET's tag; around the router the body is gone before the layer sees it, so HEAD
//! carries only the handler's or the source's validators. Around the whole app costs less.
//! [`ConditionalLayer::axum_body`] (feature `axum`) answers with axum's own body type, which
//! spares every response the box axum's `Router::layer` puts around any other body type.
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use axum::{Router, body::Body, routing::get};
//! use http::Response;
//! use tower::ServiceBuilder;
//! use tower_conditional::{ConditionalBody, ConditionalLayer};
//!
//! async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
//!     let router: Router = Router::new().route("/", get(|| async { "Hello" }));
//!     let service = ServiceBuilder::new()
//!         .layer(ConditionalLayer::new().axum_body())
//!         // Builds the routes once, as `axum::serve(listener, router)` does.
//!         .service(router.with_state(()));
//!     axum::serve(listener, tower::make::Shared::new(service)).await
//! }
//!
//! // Any other inner service: the responses' body is a `ConditionalBody` around its own.
//! let layer = ConditionalLayer::new();
//! let _service = ServiceBuilder::new()
//!     .map_response(|response: Response<ConditionalBody<Body>>| response.map(Body::new))
//!     .layer(layer)
//!     .service(Router::<()>::new());
//! # }
//! ```
//!
//! It is a plain [`tower::Layer`], so it also wraps a bare hyper 1 service through
//! `hyper_util::service::TowerToHyperService` (`examples/hyper.rs`). The inner service must be
//! `Clone` (axum routes, tower-http services and `service_fn` are; wrap others in
//! `tower::buffer::Buffer`), and the request body `Default` (a stale range is asked again with
//! an empty body; box hyper's `Incoming` first, as `examples/hyper.rs` does).
//!
//! **Among other layers.** The tag must describe the bytes that go out, so the layer goes
//! *outside* every layer that changes the body (compression, minification) and *inside* layers
//! that only watch or route (tracing, metrics: outside, they see the 304 the client gets). With
//! `Router::layer` the order reads the other way round: each `.layer` wraps what came before,
//! so write compression first and this layer after it.
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use axum::{Router, routing::get};
//! use tower::ServiceBuilder;
//! use tower_conditional::ConditionalLayer;
//! use tower_http::compression::CompressionLayer;
//!
//! let routes = || Router::<()>::new().route("/", get(|| async { "Hello" }));
//! let around = ServiceBuilder::new()
//!     .layer(ConditionalLayer::new()) // outer: tags the bytes that are sent
//!     .layer(CompressionLayer::new()) // inner
//!     .service(routes());
//! let inside: Router = routes()
//!     .layer(CompressionLayer::new())
//!     .layer(ConditionalLayer::new().axum_body()); // the last `.layer` is the outermost
//! # let _ = (around, inside);
//! # }
//! ```
//!
//! Then gzip and identity responses get different strong tags, each revalidates to a 304 with
//! `Vary: accept-encoding` and no `Content-Encoding`, and, compression being deterministic,
//! every replica computes the same tag for the same encoding. In the other order tower-http
//! copies the strong tag onto the gzip bytes and labels 304s `Content-Encoding: gzip`: keep
//! compression off 304s, use [`weak_tags`](ConditionalLayer::weak_tags), and set `Vary`
//! yourself.
//!
//! **In front of tower-http's `ServeDir`**, the layer keeps the file's own `ETag` and
//! `Last-Modified` (no hashing) and adds the `If-Range` handling `ServeDir` lacks; with
//! `files::FileTags` (feature `fs`) the tags are hashes of the files' bytes instead, the same
//! on every replica. Behind a compression layer, tower-http adds `Vary` only to responses it
//! considers compressing, so `ServeDir`'s own 304 to an identity client lacks the `Vary` its 200
//! carries: give the layer `FileTags` with `.header(VARY, "accept-encoding")`, and the layer
//! answers those 304s itself, with it. **With tonic**, gRPC calls (POSTs of
//! `application/grpc`) pass through untouched, trailers included, so one stack serves REST
//! routes and gRPC services side by side. **Behind a shared cache or CDN**, generated tags
//! depend on the bytes alone, so any replica can answer the revalidation of a copy another
//! one sent; behind a proxy that compresses and weakens tags (nginx), the 304 names the
//! weakened tag the client holds.
//!
//! # Validators known before the handler
//!
//! With [`ConditionalLayer::validator_source`] the layer asks a
//! [`ValidatorSource`](source::ValidatorSource) for the current [`Representation`] first: it
//! answers 304 and 412 without calling the inner service, protects writes, and honours
//! `If-Range`. Mind authentication: a source answers before the handler, so before any check
//! the handler makes ([`source::ValidatorSource`] shows the two safe arrangements).
//!
//! # Deep entity tags in handlers
//!
//! A handler that knows a cheap validator (a row's version) declares the current
//! [`Representation`] once, its validators and the headers its 200 carries, asks
//! [`Preconditions::check`] (an axum extractor with the `axum` feature), and returns its
//! [`Early`] answer, a 304 that carries what the 200 carries, or the 412; otherwise it returns
//! `(representation, body)`. Behind compression, the client that holds the gzip bytes' tag gets
//! the early 304 too, naming that tag.
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
//! 3. The handler evaluates the request again where it writes, inside its transaction or lock,
//!    against the version it reads there: [`Preconditions::check`]. That makes the write a
//!    compare-and-swap: of two writers holding one tag, exactly one wins and the other gets
//!    the 412. In SQL, the read and the write are `SELECT version …` and `UPDATE … WHERE id =
//!    $1 AND version = $2`; no row changed means another writer won, and checking again gives
//!    the 412.
//! 4. With [`ConditionalLayer::problem_details`], every 412 and 428 carries an RFC 9457
//!    `application/problem+json` body naming the precondition and the current `ETag`.
//!
//! What was decided, and why:
//!
//! - **Which methods may create a resource** ([`ConditionalLayer::creating_methods`], PUT by
//!   default). RFC 9110 §13.2.1: preconditions apply only where the answer without them would
//!   be 2xx or 412. A `DELETE` or `PATCH` of a missing resource is a 404, so its `If-Match` is
//!   not evaluated and the handler answers; a `PUT` may create it, so `If-Match` fails (412,
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
//!   the 304 carries), with `Vary: accept-encoding`; a client that does not accept gzip never
//!   gets a 304 for a gzip copy (§12.5.3);
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
//! request is evaluated before its range (§13.2.2): a `206` whose validators the client's
//! `If-None-Match` or `If-Modified-Since` says it has becomes a `304`. For `If-Range` (which
//! tower-http's `ServeDir` ignores) the layer checks the `206` against it (a strong tag, or the
//! exact date, §13.1.5); when the range is of another version, the layer drops it and asks the
//! inner service again without `Range`, which a GET allows, so a resumed download is never
//! stitched from two versions and costs no more than the range or the whole new file. With a
//! validator source, `If-Range` is evaluated before the handler. A handler that serves ranges
//! itself asks [`Preconditions::if_range_allows`].
//!
//! # HEAD
//!
//! A HEAD goes to the inner service as a HEAD, so HEAD routes run and HEAD-only routes exist.
//! A HEAD response must carry the tag GET would get, or none (RFC 9110 §9.3.2): never the tag
//! of its own empty body. Where the layer sees GET's body in a HEAD response (inside axum's
//! router, which runs the GET handler for HEAD and empties the body outside the layer), it
//! tags it as GET's; elsewhere HEAD carries the handler's or the source's validators, or none.
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `fast-hash` | on | [`TagHash::Fast`] (XXH3-128, `xxhash-rust`) |
//! | `axum` | off | [`Preconditions`] as an axum extractor, [`Early`] as a response, [`Representation`] and [`EntityTag`] as response parts, [`ConditionalLayer::axum_body`] ([`AxumBody`]); needs `axum-core` only |
//! | `headers` | off | conversions with the `headers` crate's `ETag` and `LastModified` |
//! | `fs` | off | `files::FileTags`, a validator source that tags `ServeDir`'s files by their bytes (`tokio` with `rt`, `percent-encoding`) |
//! | `tracing` | off | a `tracing` debug event (target `tower_conditional`) for every decision |
//! | `audit` | off | `audit::Audit`: checks a service's conditional requests from a test (`http-body-util`) |
//!
//! The default build depends on `http`, `http-body`, `bytes`, `tower` (no features),
//! `pin-project-lite`, `httpdate`, and the tag hashes (`sha2` and `blake3`, the default
//! collision-resistant tag; `xxhash-rust` with `fast-hash`): no async runtime and no proc-macro
//! crate, so the layer runs under any executor.
//!
//! # Words used here
//!
//! - **inner service**: what the layer wraps (an axum router, a route, `ServeDir`); a
//!   **handler** is the application's function inside it.
//! - **representation**: what a response carries of a version of the resource, its
//!   **validators** (`ETag`, `Last-Modified`) and the headers a 304 repeats ([`Representation`]).
//! - **coded tag**: the strong tag of a version's content-coded bytes, `"v1-gzip"`.
//! - **evaluate**: apply RFC 9110 §13.2.2 to a request's preconditions against a
//!   representation, giving an [`Outcome`]; **check**: evaluate, and build the [`Early`] answer
//!   when the outcome is not to proceed.
//! - **plan**: what the layer will do with a request or a response, decided by a pure function
//!   before the Tower plumbing carries it out; **verdict**: the plan for a response once its
//!   preconditions are evaluated (send it, 304, 412, or ask again without `Range`);
//!   **decision**: the record of what the layer did ([`decision::Decision`]).
//! - **answer**: a response the layer (or a handler's check) makes instead of the inner
//!   service's: a 304, 412, 428, or the 503 of a conditional write that could not be checked.
//! - **pass through**: send the inner service's response as it is; **skip**: what
//!   [`ConditionalLayer::skip_when`] makes the layer do.
//! - **ask again**: call the inner service again without `Range`, when its 206 is of another
//!   version than `If-Range` names.
//! - **field**: a header field, RFC 9110's word for what `http` calls a header.
//!
//! # Pitfalls it avoids
//!
//! Each is a bug seen in another implementation, and each has a test here.
//!
//! - **Tags that depend on chunk boundaries** (salvo, hono): the tag is the hash of the
//!   concatenated bytes, computed after reading.
//! - **304 or 412 after a write happened** (trillium): only GET and HEAD responses are
//!   evaluated after the inner service; writes are evaluated before it, with a validator
//!   source, and again by the handler where it writes.
//! - **Tags taken from the request** (salvo): tags come from the response bytes, the handler,
//!   or the source, never from request headers.
//! - **Tags of empty HEAD bodies** (Spring): an empty HEAD body is never hashed.
//! - **Range stitched from two versions** (`ServeDir` ignores `If-Range`), **a full read for a
//!   range**: the range goes to the inner service; a stale one is asked again without `Range`.
//! - **One strong tag for gzip and identity bytes** (`CompressionLayer` in front): place the
//!   layer outside compression; strong tags from inside on encoded responses become coded tags.
//! - **Writes that fail for every gzip client** (a weakened tag in `If-Match`), **lost
//!   updates** between the check and the write, **412 for a DELETE of nothing**: see
//!   [Writes](#writes).
//! - **A 304 missing the 200's headers** (Django's `@condition`), **or carrying
//!   `Content-Encoding`** (compression labels 304s on their way out), **or losing `Set-Cookie`**
//!   (loco-rs): the representation is declared once, and any 304 that leaves the layer keeps
//!   every field but the content ones.
//! - **Buffered event streams** (Rack): `text/event-stream` and gRPC are never read, no body is
//!   held while its next frame is not ready, and none beyond [`ConditionalLayer::buffer_limit`].
//! - **`If-Modified-Since` evaluated beside `If-None-Match`**, weak and strong comparison mixed
//!   up, `*` and lists mishandled: the evaluation follows RFC 9110 §13.2.2 and is table-tested.
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
