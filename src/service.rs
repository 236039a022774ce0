use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower::Service;

use crate::body::ConditionalBody;
use crate::future::{ResponseFuture, prepare};
use crate::layer::{ConditionalLayer, Config};
use crate::request::consults_source;

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
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    // A GET whose range is of another version than its `If-Range` names is asked again, with
    // an empty body (axum's, tonic's and http-body-util's bodies are `Default`; map hyper's
    // `Incoming` to one of them).
    ReqBody: Default,
    ResBody: Body,
{
    type Response = Response<ConditionalBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        if let Some(source) = &self.config.source
            && consults_source(request.method(), request.headers())
        {
            let (parts, body) = request.into_parts();
            let lookup = source.0.current(&parts);
            // The service that was polled ready goes with the request; its clone stays here
            // for the next `poll_ready`.
            let ready = self.inner.clone();
            let ready = std::mem::replace(&mut self.inner, ready);
            return ResponseFuture::lookup(
                lookup,
                ready,
                Request::from_parts(parts, body),
                Arc::clone(&self.config),
            );
        }
        let (facts, again) = prepare(&mut request, &self.inner, &self.config, None);
        let future = self.inner.call(request);
        ResponseFuture::new(future, facts, again, Arc::clone(&self.config))
    }
}
