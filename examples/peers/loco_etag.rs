//! Bench-only baseline, not code this crate ships: loco-rs's ETag middleware.
//!
//! Source: repository loco-rs/loco, `src/controller/middleware/etag.rs`, crate loco-rs 1.2.0
//! (read from the published crate). loco-rs 1.2.0 is already on axum 0.8 / http 1, so the types
//! are unchanged. Adapted: only loco's framework glue is left out (the `Etag` config struct with
//! serde, `MiddlewareLayer` and its `apply`, which does `app.layer(EtagLayer)` on a
//! `Router<AppContext>`); `EtagLayer` is made `pub(crate)` so that `bench_server` can apply it
//! with `Router::layer` in the same way. The service is as published, quirks included: the
//! handler's `ETag` is compared with `If-None-Match` byte for byte (no list, no `*`, no weak
//! comparison), no tag is generated, and any method, POST included, can be answered `304`.

use std::task::{Context, Poll};

use axum::{
    body::Body,
    extract::Request,
    http::{
        StatusCode,
        header::{CACHE_CONTROL, CONTENT_LOCATION, DATE, ETAG, EXPIRES, IF_NONE_MATCH, VARY},
    },
    response::Response,
};
use futures_util::future::BoxFuture;
use tower::{Layer, Service};

/// [`EtagLayer`] struct for adding `ETag` functionality as a Tower service
/// layer.
#[derive(Default, Clone)]
pub(crate) struct EtagLayer;

impl<S> Layer<S> for EtagLayer {
    type Service = EtagMiddleware<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EtagMiddleware { inner }
    }
}

#[derive(Clone)]
pub(crate) struct EtagMiddleware<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for EtagMiddleware<S>
where
    S: Service<Request, Response = Response> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    // `BoxFuture` is a type alias for `Pin<Box<dyn Future + Send + 'a>>`
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let ifnm = request.headers().get(IF_NONE_MATCH).cloned();

        let future = self.inner.call(request);

        let res_fut = async move {
            let response = future.await?;
            let etag_from_response = response.headers().get(ETAG).cloned();
            if let Some(etag_in_request) = ifnm
                && let Some(etag_from_response) = etag_from_response
                && etag_in_request == etag_from_response
            {
                // RFC 7232 §4.1: a 304 response must carry the header fields that a
                // 200 would have sent for cache validation. Re-emit the validator and
                // freshness headers from the inner response rather than dropping them.
                let mut builder = Response::builder().status(StatusCode::NOT_MODIFIED);
                if let Some(headers) = builder.headers_mut() {
                    for name in [ETAG, CACHE_CONTROL, VARY, EXPIRES, DATE, CONTENT_LOCATION] {
                        if let Some(value) = response.headers().get(&name) {
                            headers.insert(name, value.clone());
                        }
                    }
                }
                return Ok(builder.body(Body::empty()).unwrap());
            }
            Ok(response)
        };
        Box::pin(res_fut)
    }
}
