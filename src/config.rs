//! The layer's settings: what [`ConditionalLayer`](crate::ConditionalLayer)'s builder sets, and
//! what the rest of the layer reads. It imports nothing of the layer's plumbing.

use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, Method, StatusCode, Uri};

use crate::rfc::hash::TagHash;
use crate::source::SharedSource;

/// The default buffer limit: 1 MiB.
pub(crate) const DEFAULT_BUFFER_LIMIT: usize = 1024 * 1024;

/// What a [`ConditionalLayer::skip_when`](crate::ConditionalLayer::skip_when) predicate sees of a request and its response.
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Method, Request, StatusCode, header};
/// use tower::ServiceExt;
/// use tower_conditional::{ConditionalLayer, ResponseInfo};
///
/// // Leave HEAD, non-200 answers, images and everything under /admin/ alone.
/// fn skip(info: &ResponseInfo<'_>) -> bool {
///     info.method() == Method::HEAD
///         || info.status() != StatusCode::OK
///         || info.uri().path().starts_with("/admin/")
///         || info.headers().get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"image/"))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app: Router = Router::new()
///     .route("/", get(|| async { "Hello" }))
///     .route("/admin/stats", get(|| async { "42 users" }))
///     .layer(ConditionalLayer::new().skip_when(skip));
///
/// let request = |uri| Request::get(uri).body(Body::empty()).unwrap();
/// assert!(app.clone().oneshot(request("/")).await.unwrap().headers().contains_key(header::ETAG));
/// assert!(!app.oneshot(request("/admin/stats")).await.unwrap().headers().contains_key(header::ETAG));
/// # }
/// ```
#[derive(Debug)]
pub struct ResponseInfo<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) status: StatusCode,
    pub(crate) headers: &'a HeaderMap,
}

impl ResponseInfo<'_> {
    /// The request method.
    ///
    /// ```
    /// use http::Method;
    /// use tower_conditional::ConditionalLayer;
    ///
    /// let layer = ConditionalLayer::new().skip_when(|info| info.method() == Method::HEAD);
    /// # let _ = layer;
    /// ```
    pub fn method(&self) -> &Method {
        self.method
    }

    /// The request URI.
    ///
    /// ```
    /// use tower_conditional::ConditionalLayer;
    ///
    /// let layer = ConditionalLayer::new().skip_when(|info| info.uri().path().starts_with("/live/"));
    /// # let _ = layer;
    /// ```
    pub fn uri(&self) -> &Uri {
        self.uri
    }

    /// The response status.
    ///
    /// ```
    /// use http::StatusCode;
    /// use tower_conditional::ConditionalLayer;
    ///
    /// // Tag and revalidate only plain 200s, not 203s or 206s.
    /// let layer = ConditionalLayer::new().skip_when(|info| info.status() != StatusCode::OK);
    /// # let _ = layer;
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    ///
    /// ```
    /// use http::header::CONTENT_TYPE;
    /// use tower_conditional::ConditionalLayer;
    ///
    /// let layer = ConditionalLayer::new().skip_when(|info| {
    ///     info.headers().get(CONTENT_TYPE).is_some_and(|value| value.as_bytes().starts_with(b"video/"))
    /// });
    /// # let _ = layer;
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        self.headers
    }
}

/// The layer's settings, shared by every clone of the service.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) buffer_limit: usize,
    pub(crate) weak_tags: bool,
    pub(crate) hash: TagHash,
    pub(crate) skip: Option<Skip>,
    pub(crate) wait_for_body: bool,
    pub(crate) source: Option<SharedSource>,
    pub(crate) decisions: bool,
    /// Which writes may create a resource, which must be conditional, and how refusals read.
    pub(crate) write: WriteRules,
    /// Whether `write` differs from its defaults: one test on the common path instead of three.
    pub(crate) write_rules_set: bool,
}

impl Config {
    /// Sets the write rules, and whether they differ from their defaults.
    pub(crate) fn set_write_rules(&mut self, edit: impl FnOnce(&mut WriteRules)) {
        edit(&mut self.write);
        self.write_rules_set = self.write.any();
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            buffer_limit: DEFAULT_BUFFER_LIMIT,
            weak_tags: false,
            hash: TagHash::default(),
            skip: None,
            wait_for_body: false,
            source: None,
            decisions: false,
            write: WriteRules::default(),
            write_rules_set: false,
        }
    }
}

type SkipFn = dyn Fn(&ResponseInfo<'_>) -> bool + Send + Sync;

#[derive(Clone)]
pub(crate) struct Skip(pub(crate) Arc<SkipFn>);

impl fmt::Debug for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Skip(<predicate>)")
    }
}

/// What the layer's settings say of writes: the methods that may create a missing resource
/// (RFC 9110 §13.2.1), the methods that must be conditional (RFC 6585 §3), and whether refusals
/// carry problem details (RFC 9457).
#[derive(Clone, Debug)]
pub(crate) struct WriteRules {
    /// `None` for the default, PUT.
    pub(crate) creating: Option<Vec<Method>>,
    pub(crate) required: Vec<Method>,
    pub(crate) problem_details: bool,
}

impl Default for WriteRules {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl WriteRules {
    /// The rules of a layer that sets none of them, which a handler's
    /// [`Preconditions`](crate::Preconditions) follows when no layer told it otherwise.
    pub(crate) const DEFAULT: Self = Self {
        creating: None,
        required: Vec::new(),
        problem_details: false,
    };

    /// Whether `method` may create a missing resource.
    pub(crate) fn creates(&self, method: &Method) -> bool {
        match &self.creating {
            Some(methods) => methods.contains(method),
            None => *method == Method::PUT,
        }
    }

    /// Whether `method` needs a precondition (RFC 6585 §3).
    pub(crate) fn requires(&self, method: &Method) -> bool {
        self.required.contains(method)
    }

    /// Whether any rule differs from its default: a request then has more to check before it
    /// goes on.
    pub(crate) fn any(&self) -> bool {
        self.creating.is_some() || !self.required.is_empty() || self.problem_details
    }

    /// Whether a handler's [`Preconditions`](crate::Preconditions) must be told these rules (a
    /// request extension): only when they differ from [`WriteRules::DEFAULT`], which it
    /// assumes.
    pub(crate) fn differ_for_handlers(&self) -> bool {
        self.problem_details || self.creating.is_some()
    }
}
