use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderMap, Method, Request, Response, Uri};
use http_body::Body;
use tower::Service;

use crate::body::ConditionalBody;
use crate::future::ResponseFuture;
use crate::layer::{ConditionalLayer, Config};
use crate::precondition::CONDITIONAL_HEADERS;

/// Middleware that gives GET/HEAD responses entity tags and answers conditional requests with
/// `304 Not Modified` or `412 Precondition Failed` (RFC 9110 §13).
///
/// Build it with [`ConditionalLayer`]; see the [crate docs](crate) for the behaviour.
#[derive(Clone, Debug)]
pub struct Conditional<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> Conditional<S> {
    /// Wraps `inner` with the default settings of [`ConditionalLayer::new`].
    pub fn new(inner: S) -> Self {
        Self::with_config(inner, Arc::default())
    }

    pub(crate) fn with_config(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }

    /// A [`ConditionalLayer`] with the default settings.
    pub fn layer() -> ConditionalLayer {
        ConditionalLayer::new()
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Conditional<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Body,
{
    type Response = Response<ConditionalBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let method = request.method().clone();
        // Other methods have run by the time the response is here: turning their answer into a
        // 304 or 412 would hide a mutation that happened (trillium #943).
        if method != Method::GET && method != Method::HEAD {
            return ResponseFuture::pass_through(self.inner.call(request));
        }
        let head_as_get = method == Method::HEAD && self.config.head_as_get;
        if head_as_get {
            *request.method_mut() = Method::GET;
        }
        let facts = RequestFacts {
            conditions: conditional_headers(request.headers()),
            uri: self.config.skip.as_ref().map(|_| request.uri().clone()),
            method,
            head_as_get,
        };
        ResponseFuture::new(self.inner.call(request), facts, Arc::clone(&self.config))
    }
}

/// What the response future needs to know of the request.
#[derive(Debug)]
pub(crate) struct RequestFacts {
    /// The method the client sent.
    pub(crate) method: Method,
    /// The request's precondition fields, and only those.
    pub(crate) conditions: HeaderMap,
    /// Kept only when a skip predicate wants it.
    pub(crate) uri: Option<Uri>,
    /// A HEAD forwarded as GET: the response body is GET's and must not reach the client.
    pub(crate) head_as_get: bool,
}

impl RequestFacts {
    /// Whether the response is a GET response whose body can be hashed.
    pub(crate) fn has_get_body(&self) -> bool {
        self.method == Method::GET || self.head_as_get
    }
}

fn conditional_headers(headers: &HeaderMap) -> HeaderMap {
    let mut conditions = HeaderMap::new();
    for name in &CONDITIONAL_HEADERS {
        for value in headers.get_all(name) {
            conditions.append(name.clone(), value.clone());
        }
    }
    conditions
}
