//! Validators known before the handler runs.
//!
//! A database row version, a file's metadata or a cache key often tells the current validators
//! of a resource far more cheaply than producing it. Given a [`ValidatorSource`], the layer asks
//! it first and then:
//!
//! - answers a GET/HEAD whose preconditions say "not modified" with a 304 **without calling the
//!   inner service**;
//! - answers any request whose `If-Match` / `If-Unmodified-Since` is false, or a PUT/POST/...
//!   whose `If-None-Match` is false (`If-None-Match: *` on an existing resource: "create only"),
//!   with a 412 **without calling the inner service**: the lost-update protection of RFC 9110
//!   §13.1.1 and §13.1.4;
//! - gives a proceeding 2xx response the source's `ETag` and `Last-Modified` (replacing the
//!   handler's: the source is what the layer judged by, and will judge the next request by)
//!   and the cache headers the response lacks, so no buffering or hashing is needed; the
//!   preconditions it judged are not handed on to the inner service to be judged again;
//! - honours `If-Range` (§13.1.5) by removing a `Range` whose `If-Range` no longer matches;
//! - lets a GET or HEAD of a resource the source says is [`Current::Missing`] through to the
//!   handler, whatever its preconditions: its answer (a 404) is not one preconditions apply to
//!   (§13.2.1); a write to a missing resource, which may create it, is judged;
//! - hands the handler a [`PreconditionCheck`] request extension saying which version the
//!   check saw, for an atomic compare-and-swap: the check and the write are two steps, and
//!   another writer can come in between.
//!
//! # Authentication comes first
//!
//! A source answers before the handler runs, so before any authentication the handler or one
//! of its extractors does: a client without credentials that sends a known `If-None-Match`
//! gets a 304 (and, with `If-Match`, learns whether its tag is current). When the app
//! authenticates inside the handler, arrange one of two things:
//!
//! - **the source authenticates**, and says [`Current::Unknown`] for a request it must not
//!   answer, so the handler runs and refuses it;
//! - **the layer goes inside the authentication layer**: with `Router::layer`, add the
//!   authentication layer after this one (axum runs the last `.layer` first); with
//!   `ServiceBuilder`, write it above this one.
//!
//! ```
//! use axum::{Router, extract::Request, middleware::{self, Next}, response::Response};
//! use axum::{http::StatusCode, response::IntoResponse, routing::get};
//! use tower_conditional::{BoxError, ConditionalLayer, Current, EntityTag, Representation};
//!
//! fn authorized(headers: &http::HeaderMap) -> bool {
//!     headers.get(http::header::AUTHORIZATION).is_some_and(|value| value == "Bearer secret")
//! }
//!
//! // 1. The source checks the credentials itself.
//! let checking = ConditionalLayer::new().validator_source(|request: &http::request::Parts| {
//!     let allowed = authorized(&request.headers);
//!     async move {
//!         Ok::<_, BoxError>(if allowed {
//!             Current::Exists(Representation::new().etag(EntityTag::strong("v1")?))
//!         } else {
//!             Current::Unknown // the handler runs, and refuses
//!         })
//!     }
//! });
//! let app: Router = Router::new().route("/private", get(|| async { "private" })).layer(checking);
//!
//! // 2. Or the layer inside the authentication layer (the last `.layer` runs first).
//! async fn require_auth(request: Request, next: Next) -> Response {
//!     if authorized(request.headers()) {
//!         next.run(request).await
//!     } else {
//!         StatusCode::UNAUTHORIZED.into_response()
//!     }
//! }
//! let source = |_: &http::request::Parts| async {
//!     Ok::<_, BoxError>(Current::Exists(Representation::new().etag(EntityTag::strong("v1")?)))
//! };
//! let app: Router = Router::new()
//!     .route("/private", get(|| async { "private" }))
//!     .layer(ConditionalLayer::new().validator_source(source))
//!     .layer(middleware::from_fn(require_auth));
//! # let _ = app;
//! ```
//!
//! `tests/never_changes.rs` checks both, in both placements.
//!
//! # When the source fails
//!
//! When the source fails (its future returns an error; give it a timeout of your runtime's to
//! turn a slow lookup into one), a request that carries preconditions (`If-Match`,
//! `If-None-Match`, `If-Unmodified-Since`) on a method other than GET/HEAD is refused with `503 Service Unavailable` and the handler does not run: a write the
//! client made conditional must not happen unchecked. GET and HEAD fall back to the ordinary
//! path (the handler runs and its response is judged as without a source).
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use tower_conditional::{ConditionalLayer, Current, EntityTag, Representation};
//!
//! let layer = ConditionalLayer::new().validator_source(|request: &http::request::Parts| {
//!     // Look the version up cheaply; here it is derived from the path.
//!     let version = request.uri.path().len();
//!     async move {
//!         let tag = EntityTag::strong(&format!("v{version}"))?;
//!         Ok::<_, tower_conditional::BoxError>(Current::Exists(
//!             Representation::new()
//!                 .etag(tag)
//!                 .last_modified(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
//!                 .header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-cache")),
//!         ))
//!     }
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use http::{HeaderMap, HeaderName, HeaderValue, request};

use crate::{EntityTag, Validators};

/// The error type a [`ValidatorSource`] may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The future a [`ValidatorSource`] returns.
pub type SourceFuture = Pin<Box<dyn Future<Output = Result<Current, BoxError>> + Send>>;

/// Tells the current validators of a request's target resource before the handler runs.
///
/// Implemented for closures `Fn(&http::request::Parts) -> impl Future<Output = Result<Current,
/// E>>` where `E: Into<BoxError>`. The future must be `'static`: clone from the request what it
/// needs.
pub trait ValidatorSource: Send + Sync + 'static {
    /// Looks up the current state of the resource `request` targets.
    fn current(&self, request: &request::Parts) -> SourceFuture;
}

impl<F, Fut, E> ValidatorSource for F
where
    F: Fn(&request::Parts) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Current, E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn current(&self, request: &request::Parts) -> SourceFuture {
        let future = self(request);
        Box::pin(async move { future.await.map_err(Into::into) })
    }
}

/// What a [`ValidatorSource`] knows of a resource.
#[derive(Clone, Debug)]
pub enum Current {
    /// The resource exists with this representation.
    Exists(Representation),
    /// The resource does not exist: for a write, `If-Match` fails and `If-None-Match: *`
    /// passes; a GET or HEAD goes to the handler, whose answer (a 404) preconditions do not
    /// apply to (RFC 9110 §13.2.1).
    Missing,
    /// The source cannot tell for this request: the layer behaves as without a source.
    Unknown,
}

/// The validators of a resource's current representation, and the cache headers its 200 would
/// carry, which a 304 must repeat (RFC 9110 §15.4.5): `Cache-Control`, `Expires`, `Vary`,
/// `Content-Location`.
#[derive(Clone, Debug, Default)]
pub struct Representation {
    validators: Validators,
    headers: HeaderMap,
}

impl Representation {
    /// A representation with no validators and no headers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the entity tag.
    pub fn etag(mut self, etag: EntityTag) -> Self {
        self.validators.etag = Some(etag);
        self
    }

    /// Sets the modification date.
    pub fn last_modified(mut self, last_modified: SystemTime) -> Self {
        self.validators.last_modified = Some(last_modified);
        self
    }

    /// Adds a header the 200 would carry and a 304 must repeat, such as `Cache-Control`.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The validators.
    pub fn validators(&self) -> &Validators {
        &self.validators
    }

    /// The cache headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

impl From<Validators> for Representation {
    fn from(validators: Validators) -> Self {
        Self {
            validators,
            headers: HeaderMap::new(),
        }
    }
}

/// Request extension the layer adds when a [`ValidatorSource`] checked the request's
/// preconditions and the request goes on to the handler.
///
/// The check and the handler's write are two steps; another writer can change the resource in
/// between. Make the write a compare-and-swap against the version the check saw: write only if
/// the resource's tag is still [`PreconditionCheck::etag`] (or it is still missing, when
/// [`PreconditionCheck::existed`] is `false`), and answer 412 otherwise.
#[derive(Clone, Debug)]
pub struct PreconditionCheck {
    pub(crate) current: Option<Validators>,
}

impl PreconditionCheck {
    /// Whether the resource existed when checked.
    pub fn existed(&self) -> bool {
        self.current.is_some()
    }

    /// The validators the check saw, `None` when the resource did not exist.
    pub fn validators(&self) -> Option<&Validators> {
        self.current.as_ref()
    }

    /// The entity tag the check saw, if the resource existed and had one.
    pub fn etag(&self) -> Option<&EntityTag> {
        self.current.as_ref()?.etag.as_ref()
    }
}

/// A shared, type-erased [`ValidatorSource`].
#[derive(Clone)]
pub(crate) struct SharedSource(pub(crate) Arc<dyn ValidatorSource>);

impl fmt::Debug for SharedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ValidatorSource")
    }
}
