use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower::Service;

use crate::body::ResponseBody;
use crate::config::Config;
use crate::future::{ResponseFuture, precondition_required_response, prepare_request};

use crate::plan::request::{FirstStep, first_step};

/// Middleware that gives GET/HEAD responses entity tags and answers conditional requests with
/// `304 Not Modified` or `412 Precondition Failed` (RFC 9110 §13).
///
/// Build it with [`ConditionalLayer`](crate::ConditionalLayer); see the [crate docs](crate) for the behaviour.
///
/// ```
/// use http::{Request, Response, StatusCode, header};
/// use tower::{ServiceExt, service_fn};
/// use tower_conditional::Conditional;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let inner = service_fn(|_: Request<String>| async {
///     Ok::<_, std::convert::Infallible>(Response::new(String::from("Hello")))
/// });
/// let service = Conditional::new(inner);
///
/// let get = Request::get("/").body(String::new()).unwrap();
/// let response = service.clone().oneshot(get).await.unwrap();
/// let etag = response.headers()[header::ETAG].clone();
///
/// let revalidate = Request::get("/").header(header::IF_NONE_MATCH, etag).body(String::new()).unwrap();
/// let response = service.oneshot(revalidate).await.unwrap();
/// assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
/// # }
/// ```
///
/// Its second type parameter names the body its responses have, as
/// [`ConditionalLayer`](crate::ConditionalLayer)'s does.
pub struct Conditional<S, O = ()> {
    inner: S,
    config: Arc<Config>,
    output: PhantomData<fn() -> O>,
}

impl<S: Clone, O> Clone for Conditional<S, O> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            config: Arc::clone(&self.config),
            output: PhantomData,
        }
    }
}

impl<S: fmt::Debug, O> fmt::Debug for Conditional<S, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conditional")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish()
    }
}

impl<S> Conditional<S> {
    /// Wraps `inner` with the default settings of [`ConditionalLayer::new`](crate::ConditionalLayer::new).
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, header};
    /// use tower::ServiceExt;
    /// use tower_conditional::Conditional;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let router: Router = Router::new().route("/", get(|| async { "Hello" }));
    /// let service = Conditional::new(router.with_state(()));
    /// let response = service.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// assert!(response.headers().contains_key(header::ETAG));
    /// # }
    /// ```
    pub fn new(inner: S) -> Self {
        Self::with_config(inner, Arc::default())
    }
}

impl<S, O> Conditional<S, O> {
    pub(crate) fn with_config(inner: S, config: Arc<Config>) -> Self {
        Self {
            inner,
            config,
            output: PhantomData,
        }
    }

    /// The inner service.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use tower_conditional::Conditional;
    ///
    /// let router: Router = Router::new().route("/", get(|| async { "Hello" }));
    /// let service = Conditional::new(router);
    /// let inner: &Router = service.get_ref();
    /// # let _ = inner;
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, StatusCode};
    /// use tower::ServiceExt;
    /// use tower_conditional::Conditional;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut service = Conditional::new(Router::new().route("/", get(|| async { "Hello" })));
    /// // Swap in another router, keeping the layer's settings.
    /// *service.get_mut() = Router::new().route("/other", get(|| async { "Other" }));
    /// let response = service.oneshot(Request::get("/other").body(Body::empty()).unwrap()).await.unwrap();
    /// assert_eq!(response.status(), StatusCode::OK);
    /// # }
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, header};
    /// use tower::ServiceExt;
    /// use tower_conditional::Conditional;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let service = Conditional::new(Router::new().route("/", get(|| async { "Hello" })));
    /// let router: Router = service.into_inner(); // without the layer again
    /// let response = router.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// assert!(!response.headers().contains_key(header::ETAG));
    /// # }
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody, O> Service<Request<ReqBody>> for Conditional<S, O>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    // A GET whose range is of another version than its `If-Range` names is asked again, with
    // an empty body (axum's, tonic's and http-body-util's bodies are `Default`; map hyper's
    // `Incoming` to one of them).
    ReqBody: Default,
    ResBody: Body,
    O: ResponseBody<ResBody>,
{
    type Response = Response<O::Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, ResBody, O>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    // Out of line, the response future is written straight into the caller's slot; inlined in
    // a wrapper's `call` (axum's `Router::layer` maps every route's future), it is built in
    // the wrapper's frame and then copied, all 400 bytes of it.
    #[inline(never)]
    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        if self.config.source.is_some() || self.config.write_rules_set {
            let step = first_step(
                request.method(),
                request.headers(),
                self.config.source.is_some(),
                &self.config.write,
            );
            if step != FirstStep::CallInner {
                return self.call_without_inner(step, request);
            }
        }
        let (facts, again) = prepare_request(&mut request, &self.inner, &self.config, None);
        let config = Arc::clone(&self.config);
        ResponseFuture::call(&mut self.inner, request, facts, again, config)
    }
}

impl<S, O> Conditional<S, O> {
    /// Starts a request the inner service does not see yet, or at all. Out of line: the common
    /// call builds the inner service's future right where the response future keeps it.
    #[inline(never)]
    fn call_without_inner<ReqBody, ResBody>(
        &mut self,
        step: FirstStep,
        mut request: Request<ReqBody>,
    ) -> ResponseFuture<S, ReqBody, ResBody, O>
    where
        S: Service<Request<ReqBody>> + Clone,
        ReqBody: Default,
        ResBody: Body,
    {
        match (step, &self.config.source) {
            // Taken by `call` itself; here only so that every step is answered as it says.
            (FirstStep::CallInner, _) | (FirstStep::AskSource, None) => {
                let (facts, again) = prepare_request(&mut request, &self.inner, &self.config, None);
                let config = Arc::clone(&self.config);
                ResponseFuture::call(&mut self.inner, request, facts, again, config)
            }
            (FirstStep::AskSource, Some(source)) => {
                let (parts, body) = request.into_parts();
                let lookup = source.0.current(&parts);
                // The service that was polled ready goes with the request; its clone stays
                // here for the next `poll_ready`.
                let ready = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, ready);
                let request = Request::from_parts(parts, body);
                ResponseFuture::lookup(lookup, ready, request, Arc::clone(&self.config))
            }
            (FirstStep::RequirePrecondition, _) => ResponseFuture::answered(
                precondition_required_response(&self.config),
                Arc::clone(&self.config),
            ),
        }
    }
}
