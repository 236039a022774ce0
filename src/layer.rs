use std::marker::PhantomData;
use std::sync::Arc;

use http::Method;
use tower::Layer;

use crate::TagHash;
use crate::config::{Config, DEFAULT_BUFFER_LIMIT, ResponseInfo, Skip};
use crate::service::Conditional;
use crate::source::{SharedSource, ValidatorSource};

/// Applies [`Conditional`] to a service: entity tags for GET/HEAD responses, and
/// `304 Not Modified` / `412 Precondition Failed` answers per RFC 9110 §13.
///
/// See the [crate docs](crate) for what it does and where to put it. Its setters take bare
/// names (`buffer_limit`, not `with_buffer_limit`), as tower-http's layers do, since its
/// settings are never read back ([the crate's setter
/// names](crate::Representation)).
///
/// ```
/// use tower_conditional::{ConditionalLayer, TagHash};
///
/// let layer = ConditionalLayer::new()
///     .buffer_limit(256 * 1024)
///     .weak_tags(false)
///     .hash(TagHash::CollisionResistant)
///     .skip_when(|response| response.uri().path().starts_with("/live/"));
/// ```
///
/// Its type parameter names the body its responses have: `()` (the default) for
/// [`ConditionalBody`](crate::ConditionalBody) around the inner service's body, whatever that
/// is; [`AxumBody`](crate::AxumBody) (feature `axum`, [`axum_body`](Self::axum_body)) for
/// axum's own body type.
#[derive(Debug)]
pub struct ConditionalLayer<O = ()> {
    // Shared with every service the layer makes: `layer` is called per route, and by some
    // routers per request.
    config: Arc<Config>,
    output: PhantomData<fn() -> O>,
}

impl<O> Clone for ConditionalLayer<O> {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
            output: PhantomData,
        }
    }
}

impl Default for ConditionalLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl ConditionalLayer {
    /// The default [`buffer_limit`](Self::buffer_limit): 1 MiB.
    ///
    /// ```
    /// use tower_conditional::ConditionalLayer;
    ///
    /// assert_eq!(ConditionalLayer::DEFAULT_BUFFER_LIMIT, 1 << 20);
    /// // Twice the default:
    /// let layer = ConditionalLayer::new().buffer_limit(2 * ConditionalLayer::DEFAULT_BUFFER_LIMIT);
    /// # let _ = layer;
    /// ```
    pub const DEFAULT_BUFFER_LIMIT: usize = DEFAULT_BUFFER_LIMIT;

    /// The default behaviour: strong tags from [`TagHash::CollisionResistant`] for bodies up to
    /// [`DEFAULT_BUFFER_LIMIT`](Self::DEFAULT_BUFFER_LIMIT) that are ready to be read, nothing skipped beyond the built-in
    /// rules.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, header};
    /// use tower::ServiceExt;
    /// use tower_conditional::{ConditionalLayer, TagHash};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "Hello" }))
    ///     .layer(ConditionalLayer::new());
    /// let response = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// let expected = TagHash::CollisionResistant.entity_tag(&[b"Hello"], false);
    /// assert_eq!(response.headers()[header::ETAG], expected.to_string());
    /// # }
    /// ```
    pub fn new() -> Self {
        Self {
            config: Arc::default(),
            output: PhantomData,
        }
    }

    /// The same layer, answering with `axum::body::Body` instead of
    /// [`ConditionalBody`](crate::ConditionalBody) ([`AxumBody`](crate::AxumBody)): in axum's
    /// `Router::layer` (or around a `Router`), it spares every response the box axum puts
    /// around any other body type. The inner service must answer with `axum::body::Body`, as
    /// axum's routes do. Feature `axum`.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use tower_conditional::ConditionalLayer;
    ///
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "Hello" }))
    ///     .layer(ConditionalLayer::new().weak_tags(true).axum_body());
    /// # let _ = app;
    /// ```
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn axum_body(self) -> ConditionalLayer<crate::AxumBody> {
        ConditionalLayer {
            config: self.config,
            output: PhantomData,
        }
    }
}

impl<O> ConditionalLayer<O> {
    /// The most body bytes buffered to compute a tag (default [`DEFAULT_BUFFER_LIMIT`](Self::DEFAULT_BUFFER_LIMIT)). A larger
    /// body, whether its size hint says so up front or it turns out larger midway, is sent on
    /// untouched and without a generated tag: the chunks read so far first, then the rest as it
    /// streams. A body is never held while its next frame is not ready, unless
    /// [`wait_for_body`](Self::wait_for_body) says so.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, header};
    /// use tower::ServiceExt;
    /// use tower_conditional::ConditionalLayer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new()
    ///     .route("/small", get(|| async { "Hello" }))
    ///     .route("/large", get(|| async { "x".repeat(100) }))
    ///     .layer(ConditionalLayer::new().buffer_limit(64));
    ///
    /// let request = |uri| Request::get(uri).body(Body::empty()).unwrap();
    /// let small = app.clone().oneshot(request("/small")).await.unwrap();
    /// assert!(small.headers().contains_key(header::ETAG));
    /// let large = app.oneshot(request("/large")).await.unwrap();
    /// assert!(!large.headers().contains_key(header::ETAG)); // streamed through untagged
    /// # }
    /// ```
    pub fn buffer_limit(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.config).buffer_limit = bytes;
        self
    }

    /// Generate weak tags (`W/"…"`) instead of strong ones (default `false`).
    ///
    /// A strong tag promises byte-for-byte identity; choose weak tags when the layer sits
    /// inside something that re-encodes the body, such as compression placed outside it.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, header};
    /// use tower::ServiceExt;
    /// use tower_conditional::ConditionalLayer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "Hello" }))
    ///     .layer(ConditionalLayer::new().weak_tags(true));
    /// let response = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// assert!(response.headers()[header::ETAG].as_bytes().starts_with(b"W/\""));
    /// # }
    /// ```
    pub fn weak_tags(mut self, weak: bool) -> Self {
        Arc::make_mut(&mut self.config).weak_tags = weak;
        self
    }

    /// The hash function for generated tags (default [`TagHash::CollisionResistant`]).
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, header};
    /// use tower::ServiceExt;
    /// use tower_conditional::{ConditionalLayer, TagHash};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # #[cfg(feature = "fast-hash")] {
    /// // Not collision-resistant: only where whoever writes the body could set its tag anyway.
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "Hello" }))
    ///     .layer(ConditionalLayer::new().hash(TagHash::Fast));
    /// let response = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// let expected = TagHash::Fast.entity_tag(&[b"Hello"], false);
    /// assert_eq!(response.headers()[header::ETAG], expected.to_string());
    /// # }
    /// # }
    /// ```
    pub fn hash(mut self, hash: TagHash) -> Self {
        Arc::make_mut(&mut self.config).hash = hash;
        self
    }

    /// Leave responses for which `predicate` returns `true` untouched: no tag, no 304, no 412,
    /// the body passed through as it is. It sees the request's method and URI and the response's
    /// status and headers, so it can skip by path or by content type.
    ///
    /// Already skipped, whatever the predicate says: requests other than GET and HEAD,
    /// non-2xx responses, and streaming types (`text/event-stream`, `application/grpc*`).
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, header};
    /// use tower::ServiceExt;
    /// use tower_conditional::ConditionalLayer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "Hello" }))
    ///     .route("/live/now", get(|| async { "12:00:00" }))
    ///     .layer(ConditionalLayer::new().skip_when(|info| info.uri().path().starts_with("/live/")));
    ///
    /// let request = |uri| Request::get(uri).body(Body::empty()).unwrap();
    /// let page = app.clone().oneshot(request("/")).await.unwrap();
    /// assert!(page.headers().contains_key(header::ETAG));
    /// let live = app.oneshot(request("/live/now")).await.unwrap();
    /// assert!(!live.headers().contains_key(header::ETAG));
    /// # }
    /// ```
    pub fn skip_when<F>(mut self, predicate: F) -> Self
    where
        F: Fn(&ResponseInfo<'_>) -> bool + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.config).skip = Some(Skip(Arc::new(predicate)));
        self
    }

    /// Ask `source` for the current validators before calling the inner service, to answer 304
    /// and 412 without running the handler, protect writes from lost updates, and honour
    /// `If-Range`. See [`ValidatorSource`](crate::source::ValidatorSource) for the rules.
    ///
    /// The source is consulted for GET and HEAD, and for other methods when they carry
    /// preconditions (`If-Match`, `If-None-Match`, `If-Unmodified-Since`).
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, StatusCode, header};
    /// use tower::ServiceExt;
    /// use tower::BoxError;
    /// use tower_conditional::{ConditionalLayer, EntityTag, Representation};
    /// use tower_conditional::source::Current;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // The current version, known without running the handler (e.g. from a database row).
    /// let source = |_: &http::request::Parts| async {
    ///     Ok::<_, BoxError>(Current::Exists(Representation::new().with_etag(EntityTag::strong("v7")?)))
    /// };
    /// let app: Router = Router::new()
    ///     .route("/report", get(|| async { "an expensive report" }))
    ///     .layer(ConditionalLayer::new().validator_source(source));
    ///
    /// let request = Request::get("/report")
    ///     .header(header::IF_NONE_MATCH, "\"v7\"")
    ///     .body(Body::empty())
    ///     .unwrap();
    /// let response = app.oneshot(request).await.unwrap();
    /// assert_eq!(response.status(), StatusCode::NOT_MODIFIED); // the handler did not run
    /// assert_eq!(response.headers()[header::ETAG], "\"v7\"");
    /// # }
    /// ```
    pub fn validator_source<V: ValidatorSource>(mut self, source: V) -> Self {
        Arc::make_mut(&mut self.config).source = Some(SharedSource(Arc::new(source)));
        self
    }

    /// Attach a [`Decision`](crate::decision::Decision) extension to every response, telling outer
    /// layers (metrics, logging) what the layer did, why, and the bytes a 304 saved (default
    /// `false`: the extension map costs an allocation per response).
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, header};
    /// use tower::ServiceExt;
    /// use tower_conditional::{ConditionalLayer, Outcome};
    /// use tower_conditional::decision::{Decision, TagOrigin};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "Hello" }))
    ///     .layer(ConditionalLayer::new().decisions(true));
    /// let response = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// let decision = response.extensions().get::<Decision>().unwrap();
    /// assert_eq!(decision.outcome, Outcome::Proceed);
    /// assert_eq!(decision.etag, TagOrigin::Generated);
    /// assert!(decision.handler_ran);
    /// # }
    /// ```
    pub fn decisions(mut self, enabled: bool) -> Self {
        Arc::make_mut(&mut self.config).decisions = enabled;
        self
    }

    /// The methods that may create a resource that does not exist yet (default: PUT).
    ///
    /// RFC 9110 §13.2.1: preconditions apply only where the answer without them would be 2xx
    /// (or 412). When a [`ValidatorSource`](crate::source::ValidatorSource) says the target is
    /// [`Current::Missing`](crate::source::Current::Missing), a `DELETE` or `PATCH` of it would be the
    /// handler's 404, so its preconditions are not evaluated and the handler answers; a `PUT`,
    /// which may create it, is evaluated: `If-Match` fails (412, §13.1.1) and `If-None-Match: *`
    /// passes (create only). [`Preconditions::check`](crate::Preconditions::check) in a handler
    /// follows the same list.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::StatusCode, routing::put};
    /// use http::{Method, Request, header};
    /// use tower::ServiceExt;
    /// use tower::BoxError;
    /// use tower_conditional::ConditionalLayer;
    /// use tower_conditional::source::Current;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let source = |_: &http::request::Parts| async { Ok::<_, BoxError>(Current::Missing) };
    /// let routes = || {
    ///     Router::new().route(
    ///         "/docs/{id}",
    ///         put(|| async { StatusCode::CREATED }).delete(|| async { StatusCode::NOT_FOUND }),
    ///     )
    /// };
    /// let request = |method| {
    ///     Request::builder().method(method).uri("/docs/new")
    ///         .header(header::IF_MATCH, "\"v1\"").body(Body::empty()).unwrap()
    /// };
    ///
    /// let app = routes().layer(ConditionalLayer::new().validator_source(source));
    /// // PUT may create: its If-Match names no current version.
    /// let response = app.clone().oneshot(request(Method::PUT)).await.unwrap();
    /// assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    /// // DELETE cannot: the handler gives its 404.
    /// let response = app.oneshot(request(Method::DELETE)).await.unwrap();
    /// assert_eq!(response.status(), StatusCode::NOT_FOUND);
    ///
    /// // An API whose POST creates the document at its URI:
    /// let layer = ConditionalLayer::new().creating_methods([Method::PUT, Method::POST]);
    /// # let _ = layer;
    /// # }
    /// ```
    pub fn creating_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        let methods: Vec<Method> = methods.into_iter().collect();
        // The default, `[PUT]`, is kept as `None`: requests then need not tell handlers.
        Arc::make_mut(&mut self.config).set_write_rules(|rules| {
            rules.creating = (methods != [Method::PUT]).then_some(methods);
        });
        self
    }

    /// Answer `428 Precondition Required` (RFC 6585 §3) to a request with one of `methods`
    /// that carries no precondition guarding it against a lost update, before the handler
    /// runs (default: none).
    ///
    /// What guards a write: `If-Match`; `If-None-Match: *` (create only); or
    /// `If-Unmodified-Since` where the [`ValidatorSource`](crate::source::ValidatorSource) reports a
    /// `Last-Modified` for the resource (without one it is ignored, §13.1.4, and the write would
    /// be unconditional). A write to a resource the source says is missing, with a method that
    /// cannot create it ([`creating_methods`](Self::creating_methods)), goes to the handler for
    /// its 404 instead. The 428 says how to resubmit, in an RFC 9457 problem body with
    /// [`problem_details`](Self::problem_details), otherwise in a line of text; it is never
    /// stored by caches (`Cache-Control: no-store`).
    ///
    /// ```
    /// use axum::{Router, body::Body, http::StatusCode, routing::put};
    /// use http::{Method, Request, header};
    /// use tower::ServiceExt;
    /// use tower::BoxError;
    /// use tower_conditional::{ConditionalLayer, EntityTag, Representation};
    /// use tower_conditional::source::Current;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let source = |_: &http::request::Parts| async {
    ///     Ok::<_, BoxError>(Current::Exists(Representation::new().with_etag(EntityTag::strong("v1")?)))
    /// };
    /// let app: Router = Router::new()
    ///     .route("/docs/{id}", put(|| async { StatusCode::NO_CONTENT }))
    ///     .layer(
    ///         ConditionalLayer::new()
    ///             .validator_source(source)
    ///             .require_preconditions([Method::PUT, Method::PATCH, Method::DELETE]),
    ///     );
    ///
    /// let blind = Request::put("/docs/a").body(Body::empty()).unwrap();
    /// let response = app.clone().oneshot(blind).await.unwrap();
    /// assert_eq!(response.status(), StatusCode::PRECONDITION_REQUIRED);
    ///
    /// let guarded = Request::put("/docs/a").header(header::IF_MATCH, "\"v1\"").body(Body::empty()).unwrap();
    /// assert_eq!(app.oneshot(guarded).await.unwrap().status(), StatusCode::NO_CONTENT);
    /// # }
    /// ```
    pub fn require_preconditions(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        let methods = methods.into_iter().collect();
        Arc::make_mut(&mut self.config).set_write_rules(|rules| rules.required = methods);
        self
    }

    /// Give the `412 Precondition Failed` and `428 Precondition Required` answers (and the
    /// `503` of an unchecked conditional write) an RFC 9457 `application/problem+json` body
    /// (default `false`: a 412 has no body).
    ///
    /// The body names the precondition that failed or is missing, and, on a 412, the current
    /// `ETag` (which the 412 also carries as a field):
    ///
    /// ```json
    /// {"type":"about:blank","title":"Precondition Failed","status":412,
    ///  "detail":"If-Match names no current version of the resource: GET it again, then retry with its ETag.",
    ///  "precondition":"If-Match","etag":"\"v2\""}
    /// ```
    ///
    /// `type` is `about:blank` (RFC 9457 §4.2.1): the status says what happened, the other
    /// members say why. The same body comes from
    /// [`Preconditions::check`](crate::Preconditions::check) in a handler behind the layer. For
    /// an error format of the application's own, map these statuses in a layer outside this
    /// one.
    ///
    /// ```
    /// use axum::{Router, body::{Body, to_bytes}, http::StatusCode, routing::put};
    /// use http::{Request, header};
    /// use tower::ServiceExt;
    /// use tower::BoxError;
    /// use tower_conditional::{ConditionalLayer, EntityTag, Representation};
    /// use tower_conditional::source::Current;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let source = |_: &http::request::Parts| async {
    ///     Ok::<_, BoxError>(Current::Exists(Representation::new().with_etag(EntityTag::strong("v2")?)))
    /// };
    /// let app: Router = Router::new()
    ///     .route("/docs/{id}", put(|| async { StatusCode::NO_CONTENT }))
    ///     .layer(ConditionalLayer::new().validator_source(source).problem_details(true));
    ///
    /// let stale = Request::put("/docs/a").header(header::IF_MATCH, "\"v1\"").body(Body::empty()).unwrap();
    /// let response = app.oneshot(stale).await.unwrap();
    /// assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    /// assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
    /// assert_eq!(response.headers()[header::ETAG], "\"v2\"");
    /// let body = to_bytes(response.into_body(), 4096).await.unwrap();
    /// assert!(std::str::from_utf8(&body).unwrap().contains(r#""precondition":"If-Match""#));
    /// # }
    /// ```
    pub fn problem_details(mut self, enabled: bool) -> Self {
        Arc::make_mut(&mut self.config).set_write_rules(|rules| rules.problem_details = enabled);
        self
    }

    /// Keep reading a body whose next frame is not ready yet, to generate its tag (default
    /// `false`).
    ///
    /// By default the layer reads a body only while its frames are ready: a body built in
    /// memory is read at once and tagged, while a live stream (server-sent events under another
    /// type, NDJSON, a slow database cursor) is sent on the moment it has to wait, with what
    /// was read so far first and without a generated tag. With `true` the layer waits for
    /// such bodies until they end or pass [`buffer_limit`](Self::buffer_limit): they get a tag
    /// and can be answered with a 304, but the client sees nothing until then, and an endless
    /// stream sends nothing until the limit. Choose it only for bodies that are slow but
    /// finite.
    ///
    /// ```
    /// use tower_conditional::ConditionalLayer;
    ///
    /// // A service whose responses stream from a database, slowly but to an end.
    /// let layer = ConditionalLayer::new().wait_for_body(true);
    /// # let _ = layer;
    /// ```
    pub fn wait_for_body(mut self, wait: bool) -> Self {
        Arc::make_mut(&mut self.config).wait_for_body = wait;
        self
    }
}

impl<S, O> Layer<S> for ConditionalLayer<O> {
    type Service = Conditional<S, O>;

    fn layer(&self, inner: S) -> Self::Service {
        Conditional::with_config(inner, Arc::clone(&self.config))
    }
}
