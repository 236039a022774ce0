//! [`ServiceBuilderExt`]: `ServiceBuilder::new().conditional()`, in the style of tower-http's
//! `ServiceBuilderExt`.

use tower::ServiceBuilder;
use tower::layer::util::Stack;

use crate::ConditionalLayer;

/// Adds [`ConditionalLayer::new()`] to a [`tower::ServiceBuilder`] by name. A configured layer
/// goes in with `.layer(ConditionalLayer::new()…)`, as any layer does.
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, StatusCode, header};
/// use tower::{ServiceBuilder, ServiceExt};
/// use tower_conditional::ServiceBuilderExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let router: Router = Router::new().route("/", get(|| async { "Hello" }));
/// let service = ServiceBuilder::new().conditional().service(router.with_state(()));
///
/// let response = service
///     .oneshot(Request::get("/").body(Body::empty()).unwrap())
///     .await
///     .unwrap();
/// assert_eq!(response.status(), StatusCode::OK);
/// assert!(response.headers().contains_key(header::ETAG));
/// # }
/// ```
pub trait ServiceBuilderExt<L>: sealed::Sealed<L> + Sized {
    /// Adds [`ConditionalLayer::new()`]: the default configuration (the trait's example
    /// serves a request through it).
    ///
    /// ```
    /// use tower::ServiceBuilder;
    /// use tower_conditional::ServiceBuilderExt;
    ///
    /// let builder = ServiceBuilder::new().conditional(); // `.layer(ConditionalLayer::new())`
    /// # let _ = builder;
    /// ```
    fn conditional(self) -> ServiceBuilder<Stack<ConditionalLayer, L>>;
}

impl<L> ServiceBuilderExt<L> for ServiceBuilder<L> {
    fn conditional(self) -> ServiceBuilder<Stack<ConditionalLayer, L>> {
        self.layer(ConditionalLayer::new())
    }
}

// Only `ServiceBuilder` implements the trait, so methods can be added without breaking anyone.
mod sealed {
    pub trait Sealed<L> {}

    impl<L> Sealed<L> for tower::ServiceBuilder<L> {}
}
