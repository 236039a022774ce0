//! The layer answering with axum's own body type (feature `axum`).
//!
//! axum's `Router::layer` turns every layer's response into `axum::body::Body`, boxing the
//! body once more unless it already is one. [`ConditionalLayer`]'s body is a
//! [`ConditionalBody`], so every response pays that box, even one the layer passes through
//! untouched (about 280 instructions, `BENCHMARKS.md`). [`ConditionalLayer::axum_body`] makes a
//! layer that hands axum its own body instead: a response that passes through keeps the body
//! the handler made, and a 304 or 412 gets an empty body that takes no allocation. Bodies the
//! layer read to tag it are boxed once, as before.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum_core::body::Body;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::body::ConditionalBody;
use crate::future::ResponseFuture;
use crate::layer::ConditionalLayer;
use crate::service::Conditional;

/// A [`ConditionalLayer`] whose services answer with `axum::body::Body`; made by
/// [`ConditionalLayer::axum_body`].
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, StatusCode, header};
/// use tower::ServiceExt;
/// use tower_conditional::ConditionalLayer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app: Router = Router::new()
///     .route("/", get(|| async { "Hello" }))
///     .layer(ConditionalLayer::new().axum_body());
/// let response = app.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// let etag = response.headers()[header::ETAG].clone();
/// let revalidate = Request::get("/").header(header::IF_NONE_MATCH, etag);
/// let response = app.oneshot(revalidate.body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct AxumBodyLayer {
    layer: ConditionalLayer,
}

impl ConditionalLayer {
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    /// The same layer, answering with `axum::body::Body` instead of [`ConditionalBody`]: for
    /// axum's `Router::layer` (or around a `Router`), where it spares every response that
    /// passes through the box axum puts around any other body type (see [`AxumBodyLayer`]).
    /// The inner service must answer with `axum::body::Body`, as axum's routes do. Feature
    /// `axum`.
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
    pub fn axum_body(self) -> AxumBodyLayer {
        AxumBodyLayer { layer: self }
    }
}

impl<S> Layer<S> for AxumBodyLayer {
    type Service = AxumBodyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AxumBodyService {
            inner: self.layer.layer(inner),
        }
    }
}

/// [`Conditional`] answering with `axum::body::Body`; made by [`AxumBodyLayer`].
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, header};
/// use tower::{Layer, ServiceExt};
/// use tower_conditional::{AxumBodyService, ConditionalLayer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let router: Router = Router::new().route("/", get(|| async { "Hello" }));
/// let service: AxumBodyService<_> = ConditionalLayer::new().axum_body().layer(router.with_state(()));
/// let response = service.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// let _: &Body = response.body();
/// assert!(response.headers().contains_key(header::ETAG));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AxumBodyService<S> {
    inner: Conditional<S>,
}

impl<S, ReqBody> Service<Request<ReqBody>> for AxumBodyService<S>
where
    S: Service<Request<ReqBody>, Response = Response<Body>> + Clone,
    ReqBody: Default,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = AxumBodyFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        AxumBodyFuture {
            inner: self.inner.call(request),
        }
    }
}

pin_project! {
    /// Response future of [`AxumBodyService`]: [`ResponseFuture`] with the body turned into
    /// `axum::body::Body`.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, StatusCode};
    /// use tower::{Layer, Service, ServiceExt};
    /// use tower_conditional::{AxumBodyFuture, ConditionalLayer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let router: Router = Router::new().route("/", get(|| async { "Hello" }));
    /// let mut service = ConditionalLayer::new().axum_body().layer(router);
    /// let ready = ServiceExt::<Request<Body>>::ready(&mut service).await.unwrap();
    /// let future: AxumBodyFuture<Router, Body> = ready.call(Request::get("/").body(Body::empty()).unwrap());
    /// assert_eq!(future.await.unwrap().status(), StatusCode::OK);
    /// # }
    /// ```
    pub struct AxumBodyFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        inner: ResponseFuture<S, ReqBody, Body>,
    }
}

impl<S, ReqBody> Future for AxumBodyFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<Body>> + Clone,
    ReqBody: Default,
{
    type Output = Result<Response<Body>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = ready!(self.project().inner.poll_response(cx))?;
        Poll::Ready(Ok(response.map(ConditionalBody::into_axum)))
    }
}
