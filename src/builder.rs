//! [`ServiceBuilderExt`]: `ServiceBuilder::new().conditional()`, in the style of tower-http's
//! `ServiceBuilderExt`.

use tower::ServiceBuilder;
use tower::layer::util::Stack;

use crate::ConditionalLayer;

/// Adds [`ConditionalLayer`] to a [`tower::ServiceBuilder`] by name.
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, StatusCode, header};
/// use tower::{ServiceBuilder, ServiceExt};
/// use tower_conditional::{ConditionalLayer, ServiceBuilderExt, TagHash};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let router: Router = Router::new().route("/", get(|| async { "Hello" }));
/// let service = ServiceBuilder::new().conditional().service(router.clone());
///
/// let response = service
///     .oneshot(Request::get("/").body(Body::empty()).unwrap())
///     .await
///     .unwrap();
/// assert_eq!(response.status(), StatusCode::OK);
/// assert!(response.headers().contains_key(header::ETAG));
///
/// // A configured layer:
/// let service = ServiceBuilder::new()
///     .conditional_with(ConditionalLayer::new().hash(TagHash::CollisionResistant).weak_tags(true))
///     .service(router);
/// # let _ = service;
/// # }
/// ```
pub trait ServiceBuilderExt<L>: sealed::Sealed<L> + Sized {
    /// Adds [`ConditionalLayer::new()`]: the default configuration.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, header};
    /// use tower::{ServiceBuilder, ServiceExt};
    /// use tower_conditional::ServiceBuilderExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let router: Router = Router::new().route("/", get(|| async { "Hello" }));
    /// let service = ServiceBuilder::new().conditional().service(router.with_state(()));
    /// let response = service.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// assert!(response.headers().contains_key(header::ETAG));
    /// # }
    /// ```
    fn conditional(self) -> ServiceBuilder<Stack<ConditionalLayer, L>> {
        self.conditional_with(ConditionalLayer::new())
    }

    /// Adds a configured [`ConditionalLayer`].
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, header};
    /// use tower::{ServiceBuilder, ServiceExt};
    /// use tower_conditional::{ConditionalLayer, ServiceBuilderExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let router: Router = Router::new().route("/", get(|| async { "Hello" }));
    /// let service = ServiceBuilder::new()
    ///     .conditional_with(ConditionalLayer::new().weak_tags(true))
    ///     .service(router.with_state(()));
    /// let response = service.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// assert!(response.headers()[header::ETAG].as_bytes().starts_with(b"W/"));
    /// # }
    /// ```
    fn conditional_with(
        self,
        layer: ConditionalLayer,
    ) -> ServiceBuilder<Stack<ConditionalLayer, L>>;
}

impl<L> ServiceBuilderExt<L> for ServiceBuilder<L> {
    fn conditional_with(
        self,
        layer: ConditionalLayer,
    ) -> ServiceBuilder<Stack<ConditionalLayer, L>> {
        self.layer(layer)
    }
}

// Only `ServiceBuilder` implements the trait, so methods can be added without breaking anyone.
mod sealed {
    pub trait Sealed<L> {}

    impl<L> Sealed<L> for tower::ServiceBuilder<L> {}
}
