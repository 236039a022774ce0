//! Validators known before the handler runs: [`ValidatorSource`] and what it reports.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::request;

pub use crate::rfc::representation::Current;

use tower::BoxError;

/// The future a [`ValidatorSource`] returns.
///
/// What a hand-written [`ValidatorSource`] returns: a boxed `async` block.
///
/// ```
/// use http::request::Parts;
/// use tower_conditional::{EntityTag, Representation};
/// use tower_conditional::source::{Current, SourceFuture, ValidatorSource};
///
/// struct Fixed(&'static str);
///
/// impl ValidatorSource for Fixed {
///     fn current(&self, _request: &Parts) -> SourceFuture {
///         let version = self.0;
///         Box::pin(async move {
///             Ok(Current::Exists(Representation::new().with_etag(EntityTag::strong(version)?)))
///         })
///     }
/// }
/// # let _ = tower_conditional::ConditionalLayer::new().validator_source(Fixed("v1"));
/// ```
pub type SourceFuture = Pin<Box<dyn Future<Output = Result<Current, BoxError>> + Send>>;

/// Tells the current validators of a request's target resource before the handler runs.
///
/// A database row version, a file's metadata or a cache key often tells the current validators
/// of a resource far more cheaply than producing it. Given a [`ValidatorSource`], the layer asks
/// it first and then:
///
/// - answers a GET/HEAD whose preconditions say "not modified" with a 304 **without calling the
///   inner service**, carrying the representation's validators and headers (what its 200
///   carries, RFC 9110 §15.4.5) and the tag the client holds;
/// - answers any request whose `If-Match` / `If-Unmodified-Since` is false, or a PUT/POST/...
///   whose `If-None-Match` is false (`If-None-Match: *` on an existing resource: "create only"),
///   with a 412 **without calling the inner service**: the lost-update protection of RFC 9110
///   §13.1.1 and §13.1.4;
/// - with [`require_preconditions`](crate::ConditionalLayer::require_preconditions), answers a
///   write that carries no precondition with a 428 (RFC 6585 §3);
/// - gives a proceeding 2xx response the source's `ETag` and `Last-Modified` (replacing the
///   handler's: the source is what the layer evaluated them against, and will evaluate the next request against)
///   and the headers the response lacks, so no buffering or hashing is needed; the
///   preconditions of a GET or HEAD it evaluated are not handed on to be evaluated again;
/// - honours `If-Range` (§13.1.5) by removing a `Range` whose `If-Range` no longer matches;
/// - lets a request for a resource the source says is [`Current::Missing`] through to the
///   handler, whatever its preconditions, unless its method may create the resource
///   ([`creating_methods`](crate::ConditionalLayer::creating_methods), PUT by default): the
///   handler's answer (a 404) is not one preconditions apply to (§13.2.1).
///
/// A client sent gzip bytes holds the coded tag of the version (`"v1-gzip"` for `"v1"`, RFC
/// 9110 §8.8.3.3): the source reports `"v1"`, and the client's revalidation and its `If-Match`
/// name that version as well as `"v1"` does.
///
/// The check and the handler's write are two steps, and another writer can come in between:
/// the handler makes its write a compare-and-swap by checking the request again, with
/// [`Preconditions::check`](crate::Preconditions::check), against the version it reads where
/// it writes.
///
/// # Authentication comes first
///
/// A source answers before the handler runs, so before any authentication the handler or one
/// of its extractors does: a client without credentials that sends a known `If-None-Match`
/// gets a 304 (and, with `If-Match`, learns whether its tag is current). When the app
/// authenticates inside the handler, arrange one of two things:
///
/// - **the source authenticates**, and says [`Current::Unknown`] for a request it must not
///   answer, so the handler runs and refuses it;
/// - **the layer goes inside the authentication layer**: with `Router::layer`, add the
///   authentication layer after this one (axum runs the last `.layer` first); with
///   `ServiceBuilder`, write it above this one.
///
/// ```
/// use axum::{Router, extract::Request, middleware::{self, Next}, response::Response};
/// use axum::{http::StatusCode, response::IntoResponse, routing::get};
/// use tower::BoxError;
/// use tower_conditional::{ConditionalLayer, EntityTag, Representation};
/// use tower_conditional::source::Current;
///
/// fn authorized(headers: &http::HeaderMap) -> bool {
///     headers.get(http::header::AUTHORIZATION).is_some_and(|value| value == "Bearer secret")
/// }
///
/// // 1. The source checks the credentials itself.
/// let checking = ConditionalLayer::new().validator_source(|request: &http::request::Parts| {
///     let allowed = authorized(&request.headers);
///     async move {
///         Ok::<_, BoxError>(if allowed {
///             Current::Exists(Representation::new().with_etag(EntityTag::strong("v1")?))
///         } else {
///             Current::Unknown // the handler runs, and refuses
///         })
///     }
/// });
/// let app: Router = Router::new().route("/private", get(|| async { "private" })).layer(checking);
///
/// // 2. Or the layer inside the authentication layer (the last `.layer` runs first).
/// async fn require_auth(request: Request, next: Next) -> Response {
///     if authorized(request.headers()) {
///         next.run(request).await
///     } else {
///         StatusCode::UNAUTHORIZED.into_response()
///     }
/// }
/// let source = |_: &http::request::Parts| async {
///     Ok::<_, BoxError>(Current::Exists(Representation::new().with_etag(EntityTag::strong("v1")?)))
/// };
/// let app: Router = Router::new()
///     .route("/private", get(|| async { "private" }))
///     .layer(ConditionalLayer::new().validator_source(source))
///     .layer(middleware::from_fn(require_auth));
/// # let _ = app;
/// ```
///
/// `tests/never_changes.rs` checks both, in both placements.
///
/// # When the source fails
///
/// When the source fails (its future returns an error; give it a timeout of your runtime's to
/// turn a slow lookup into one), a request that carries preconditions (`If-Match`,
/// `If-None-Match`, `If-Unmodified-Since`) on a method other than GET/HEAD is refused with `503 Service Unavailable` and the handler does not run: a write the
/// client made conditional must not happen unchecked. GET and HEAD fall back to the ordinary
/// path (the handler runs and its response is evaluated as without a source).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use tower_conditional::{ConditionalLayer, EntityTag, Representation};
/// use tower_conditional::source::Current;
///
/// let layer = ConditionalLayer::new().validator_source(|request: &http::request::Parts| {
///     // Look the version up cheaply; here it is derived from the path.
///     let version = request.uri.path().len();
///     async move {
///         let tag = EntityTag::strong(format!("v{version}"))?;
///         Ok::<_, tower::BoxError>(Current::Exists(
///             Representation::new()
///                 .with_etag(tag)
///                 .with_last_modified(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
///                 .with_header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-cache")),
///         ))
///     }
/// });
/// ```
///
/// Implemented for closures `Fn(&http::request::Parts) -> impl Future<Output = Result<Current,
/// E>>` where `E: Into<BoxError>`. The future must be `'static`: clone from the request what it
/// needs.
///
/// A source over an in-memory table of versions, shared with the handlers that write them:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, StatusCode, header, request::Parts};
/// use tower::ServiceExt;
/// use tower_conditional::{ConditionalLayer, EntityTag, Representation};
/// use tower_conditional::source::{Current, SourceFuture, ValidatorSource};
///
/// #[derive(Clone, Default)]
/// struct Versions(Arc<Mutex<HashMap<String, u64>>>);
///
/// impl ValidatorSource for Versions {
///     fn current(&self, request: &Parts) -> SourceFuture {
///         let version = self.0.lock().unwrap().get(request.uri.path()).copied();
///         Box::pin(async move {
///             Ok(match version {
///                 Some(v) => Current::Exists(Representation::new().with_etag(EntityTag::strong(format!("v{v}"))?)),
///                 None => Current::Missing,
///             })
///         })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let versions = Versions::default();
/// versions.0.lock().unwrap().insert("/items/1".into(), 3);
/// let app: Router = Router::new()
///     .route("/items/{id}", get(|| async { "item" }))
///     .layer(ConditionalLayer::new().validator_source(versions));
///
/// let request = Request::get("/items/1")
///     .header(header::IF_NONE_MATCH, "\"v3\"")
///     .body(Body::empty())
///     .unwrap();
/// assert_eq!(app.oneshot(request).await.unwrap().status(), StatusCode::NOT_MODIFIED);
/// # }
/// ```
pub trait ValidatorSource: Send + Sync + 'static {
    /// Looks up the current state of the resource `request` targets.
    ///
    /// The layer calls it; calling it directly shows what a source says:
    ///
    /// ```
    /// use http::Request;
    /// use tower::BoxError;
    /// use tower_conditional::{EntityTag, Representation};
    /// use tower_conditional::source::{Current, ValidatorSource};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let source = |request: &http::request::Parts| {
    ///     let known = request.uri.path() == "/known";
    ///     async move {
    ///         Ok::<_, BoxError>(if known {
    ///             Current::Exists(Representation::new().with_etag(EntityTag::strong("v1")?))
    ///         } else {
    ///             Current::Missing
    ///         })
    ///     }
    /// };
    /// let (parts, ()) = Request::get("/known").body(()).unwrap().into_parts();
    /// assert!(matches!(source.current(&parts).await.unwrap(), Current::Exists(_)));
    /// let (parts, ()) = Request::get("/other").body(()).unwrap().into_parts();
    /// assert!(matches!(source.current(&parts).await.unwrap(), Current::Missing));
    /// # }
    /// ```
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

/// A shared, type-erased [`ValidatorSource`].
#[derive(Clone)]
pub(crate) struct SharedSource(pub(crate) Arc<dyn ValidatorSource>);

impl fmt::Debug for SharedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ValidatorSource")
    }
}
