//! Deep entity tags: preconditions judged inside a handler, with its own cheap validator.
//!
//! A handler that knows its resource's version (a row's revision, a file's hash) can answer a
//! conditional request before doing the expensive part: read the version, ask whether the
//! client's copy is current, and return the 304 or 412 built here.
//!
//! With the `axum` feature, [`Preconditions`] is an extractor:
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use axum::response::{IntoResponse, Response};
//! use tower_conditional::{EntityTag, Preconditions, Validators};
//!
//! async fn show_item(preconditions: Preconditions) -> Response {
//!     let version = 42; // e.g. SELECT version FROM items WHERE id = $1
//!     let current = Validators::new().with_etag(EntityTag::strong(format!("v{version}")).unwrap());
//!     if let Err(early) = preconditions.check(Some(&current)) {
//!         return early.into_response(); // 304 or 412, with the ETag
//!     }
//!     let etag = current.etag.unwrap().to_header_value();
//!     ([(http::header::ETAG, etag)], "the expensive rendering").into_response()
//! }
//! # let _ = axum::Router::<()>::new().route("/items/42", axum::routing::get(show_item));
//! # }
//! ```
//!
//! Without a framework, build it from the request with [`Preconditions::from_parts`],
//! or call [`evaluate`](crate::evaluate) directly.

use http::{HeaderMap, Method, Response, StatusCode, request};

use crate::precondition::evaluate_ref;
use crate::request::Conditions;
use crate::response::set_validators;
use crate::{Outcome, Validators};

/// A request's method and precondition fields, to judge against a validator known in a handler.
///
/// With the `axum` feature it is an extractor: the handler judges the request against its own
/// cheap validator and skips the expensive part when the client's copy is current.
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use axum::{Router, body::Body, response::{IntoResponse, Response}, routing::get};
/// use http::{Request, StatusCode, header};
/// use tower::ServiceExt;
/// use tower_conditional::{EntityTag, Preconditions, Validators};
///
/// async fn report(preconditions: Preconditions) -> Response {
///     let version = 17; // e.g. SELECT version FROM reports WHERE id = $1
///     let tag = EntityTag::strong(format!("rev-{version}")).unwrap();
///     let current = Validators::new().with_etag(tag.clone());
///     if let Err(early) = preconditions.check(Some(&current)) {
///         return early.into_response(); // 304 or 412, with the ETag
///     }
///     (tag, "the expensive report").into_response()
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app: Router = Router::new().route("/report", get(report));
/// let request = Request::get("/report")
///     .header(header::IF_NONE_MATCH, "\"rev-17\"")
///     .body(Body::empty())
///     .unwrap();
/// let response = app.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
/// assert_eq!(response.headers()[header::ETAG], "\"rev-17\"");
/// # }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Preconditions {
    method: Method,
    conditions: Conditions,
}

impl Preconditions {
    /// Reads the method and the `If-Match`, `If-None-Match`, `If-Modified-Since` and
    /// `If-Unmodified-Since` fields of a request.
    ///
    /// ```
    /// use http::{Request, header};
    /// use tower_conditional::Preconditions;
    ///
    /// let request = Request::get("/").header(header::IF_NONE_MATCH, "\"v1\"").body(()).unwrap();
    /// let (parts, _body) = request.into_parts();
    /// assert!(Preconditions::from_parts(&parts).is_conditional());
    /// ```
    pub fn from_parts(parts: &request::Parts) -> Self {
        Self::new(parts.method.clone(), &parts.headers)
    }

    /// Reads the precondition fields of `headers` for a request with `method`.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Method, header::IF_MATCH};
    /// use tower_conditional::{EntityTag, Outcome, Preconditions, Validators};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(IF_MATCH, HeaderValue::from_static("\"v1\""));
    /// let preconditions = Preconditions::new(Method::PUT, &headers);
    /// let current = Validators::new().with_etag(EntityTag::strong("v2").unwrap());
    /// assert_eq!(preconditions.evaluate(Some(&current)), Outcome::PreconditionFailed);
    /// ```
    pub fn new(method: Method, headers: &HeaderMap) -> Self {
        Self {
            method,
            conditions: Conditions::preconditions(headers),
        }
    }

    /// Whether the request carries any precondition at all.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Method, header};
    /// use tower_conditional::Preconditions;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
    /// assert!(!Preconditions::new(Method::GET, &headers).is_conditional());
    /// headers.insert(header::IF_MODIFIED_SINCE, HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"));
    /// assert!(Preconditions::new(Method::GET, &headers).is_conditional());
    /// ```
    pub fn is_conditional(&self) -> bool {
        !self.conditions.is_empty()
    }

    /// RFC 9110 §13.2.2 against `current` (`None`: the resource does not exist).
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Method, header::IF_NONE_MATCH};
    /// use tower_conditional::{EntityTag, Outcome, Preconditions, Validators};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(IF_NONE_MATCH, HeaderValue::from_static("\"v1\""));
    /// let preconditions = Preconditions::new(Method::GET, &headers);
    /// let v1 = Validators::new().with_etag(EntityTag::strong("v1").unwrap());
    /// let v2 = Validators::new().with_etag(EntityTag::strong("v2").unwrap());
    /// assert_eq!(preconditions.evaluate(Some(&v1)), Outcome::NotModified);
    /// assert_eq!(preconditions.evaluate(Some(&v2)), Outcome::Proceed);
    /// ```
    pub fn evaluate(&self, current: Option<&Validators>) -> Outcome {
        evaluate_ref(
            &self.method,
            &self.conditions,
            current.map(Validators::borrowed),
        )
    }

    /// `Ok(())` when the handler should go on; otherwise the [`Early`] answer to send instead:
    /// a `304 Not Modified` or a `412 Precondition Failed` carrying `current`'s validators.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
    /// use tower_conditional::{EntityTag, Preconditions, Validators};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"v1\""));
    /// let preconditions = Preconditions::new(Method::GET, &headers);
    /// let current = Validators::new().with_etag(EntityTag::strong("v1").unwrap());
    ///
    /// let early = preconditions.check(Some(&current)).unwrap_err();
    /// assert_eq!(early.status(), StatusCode::NOT_MODIFIED);
    /// assert_eq!(early.headers()[header::ETAG], "\"v1\"");
    /// let response: Response<String> = early.into(); // or, with axum, `early.into_response()`
    /// assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    /// assert!(preconditions.check(None).is_ok()); // no resource: the handler's 404
    /// ```
    pub fn check(&self, current: Option<&Validators>) -> Result<(), Early> {
        let status = match self.evaluate(current) {
            Outcome::Proceed => return Ok(()),
            Outcome::NotModified => StatusCode::NOT_MODIFIED,
            Outcome::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        };
        Err(Early::new(status, current))
    }
}

/// What a handler sends instead of its normal response when [`Preconditions::check`] says so:
/// a `304 Not Modified` or a `412 Precondition Failed` with the current validators. Add the
/// `Cache-Control`, `Expires`, `Vary` and `Content-Location` a 200 would carry
/// ([`Early::headers_mut`]), then send it: `early.into_response()` with the `axum` feature, or
/// `Response::from(early)` for any body type that has an empty value.
///
/// Through axum, a 304 gets no `Content-Length` at all: a 304's length would have to be the
/// 200's (RFC 9110 §8.6), and axum's router would add `Content-Length: 0` to an empty body.
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use axum::{Router, body::Body, response::{IntoResponse, Response}, routing::get};
/// use http::{HeaderValue, Request, StatusCode, header};
/// use tower::ServiceExt;
/// use tower_conditional::{EntityTag, Preconditions, Validators};
///
/// async fn page(preconditions: Preconditions) -> Response {
///     let current = Validators::new().with_etag(EntityTag::strong("v3").unwrap());
///     if let Err(mut early) = preconditions.check(Some(&current)) {
///         early
///             .headers_mut()
///             .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
///         return early.into_response();
///     }
///     "the page".into_response()
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app: Router = Router::new().route("/", get(page));
/// let request = Request::head("/")
///     .header(header::IF_NONE_MATCH, "\"v3\"")
///     .body(Body::empty())
///     .unwrap();
/// let response = app.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
/// assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
/// assert!(!response.headers().contains_key(header::CONTENT_LENGTH));
/// # }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Early {
    status: StatusCode,
    headers: HeaderMap,
}

impl Early {
    /// A bodiless answer with `status` and `current`'s validators, if any.
    fn new(status: StatusCode, current: Option<&Validators>) -> Self {
        let mut headers = HeaderMap::new();
        if let Some(current) = current {
            set_validators(&mut headers, current);
        }
        Self { status, headers }
    }

    /// `304 Not Modified` or `412 Precondition Failed`.
    ///
    /// ```
    /// use http::{HeaderMap, Method, StatusCode, header};
    /// use tower_conditional::{EntityTag, Preconditions, Validators};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::IF_MATCH, "\"v1\"".parse().unwrap());
    /// let current = Validators::new().with_etag(EntityTag::strong("v2").unwrap());
    /// let early = Preconditions::new(Method::PUT, &headers).check(Some(&current)).unwrap_err();
    /// assert_eq!(early.status(), StatusCode::PRECONDITION_FAILED);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The header fields: the current `ETag` and `Last-Modified`.
    ///
    /// ```
    /// use http::{HeaderMap, Method, header};
    /// use tower_conditional::{EntityTag, Preconditions, Validators};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::IF_NONE_MATCH, "\"v1\"".parse().unwrap());
    /// let current = Validators::new().with_etag(EntityTag::strong("v1").unwrap());
    /// let early = Preconditions::new(Method::GET, &headers).check(Some(&current)).unwrap_err();
    /// assert_eq!(early.headers()[header::ETAG], "\"v1\"");
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The header fields, to add what a 200 would carry (`Cache-Control`, `Vary`, ...).
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Method, Response, header};
    /// use tower_conditional::{EntityTag, Preconditions, Validators};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::IF_NONE_MATCH, "\"v1\"".parse().unwrap());
    /// let current = Validators::new().with_etag(EntityTag::strong("v1").unwrap());
    /// let mut early = Preconditions::new(Method::GET, &headers).check(Some(&current)).unwrap_err();
    /// early.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    /// let response: Response<()> = early.into();
    /// assert_eq!(response.headers()[header::VARY], "accept-encoding");
    /// ```
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }
}

impl<B: Default> From<Early> for Response<B> {
    fn from(early: Early) -> Self {
        let mut response = Response::new(B::default());
        *response.status_mut() = early.status;
        *response.headers_mut() = early.headers;
        response
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for Early {
    fn into_response(self) -> axum_core::response::Response {
        use crate::body::ConditionalBody;
        // A 304's content is the 200's, unsent: a body of no stated length, so that nothing
        // adds a `Content-Length: 0` that contradicts the representation's (RFC 9110 §8.6).
        let body = if self.status == StatusCode::NOT_MODIFIED {
            ConditionalBody::<axum_core::body::Body>::omitted()
        } else {
            ConditionalBody::empty()
        };
        let mut response = Response::new(axum_core::body::Body::new(body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

/// A `304 Not Modified` carrying `current`'s `ETag` and `Last-Modified` (RFC 9110 §15.4.5).
/// Add the `Cache-Control`, `Expires`, `Vary` and `Content-Location` the 200 would carry.
///
/// ```
/// use http::{HeaderValue, Response, StatusCode, header};
/// use tower_conditional::{EntityTag, Validators, not_modified};
///
/// let current = Validators::new().with_etag(EntityTag::strong("v1").unwrap());
/// let mut response: Response<String> = not_modified(&current);
/// response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
/// assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
/// assert_eq!(response.headers()[header::ETAG], "\"v1\"");
/// assert!(response.body().is_empty());
/// ```
pub fn not_modified<B: Default>(current: &Validators) -> Response<B> {
    Early::new(StatusCode::NOT_MODIFIED, Some(current)).into()
}

/// A `412 Precondition Failed` with an empty body, carrying `current`'s validators when the
/// resource exists (RFC 9110 §15.5.13).
///
/// ```
/// use http::{Response, StatusCode, header};
/// use tower_conditional::{EntityTag, Validators, precondition_failed};
///
/// let current = Validators::new().with_etag(EntityTag::strong("v2").unwrap());
/// let response: Response<String> = precondition_failed(Some(&current));
/// assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
/// assert_eq!(response.headers()[header::ETAG], "\"v2\""); // the version the client lacks
///
/// // The resource does not exist: no validators to send.
/// let response: Response<String> = precondition_failed(None);
/// assert!(!response.headers().contains_key(header::ETAG));
/// ```
pub fn precondition_failed<B: Default>(current: Option<&Validators>) -> Response<B> {
    Early::new(StatusCode::PRECONDITION_FAILED, current).into()
}

#[cfg(feature = "axum")]
impl<S: Send + Sync> axum_core::extract::FromRequestParts<S> for Preconditions {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EntityTag;
    use http::HeaderValue;
    use http::header::{ETAG, IF_MATCH, IF_NONE_MATCH};

    fn current() -> Validators {
        Validators::new().with_etag(EntityTag::strong("v1").unwrap())
    }

    #[test]
    fn check_builds_the_early_responses() {
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_static("\"v1\""));
        let get = Preconditions::new(Method::GET, &headers);
        assert!(get.is_conditional());
        let early = get.check(Some(&current())).unwrap_err();
        assert_eq!(early.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(early.headers()[ETAG], "\"v1\"");

        let put = Preconditions::new(Method::PUT, &headers);
        let early = put.check(Some(&current())).unwrap_err();
        assert_eq!(early.status(), StatusCode::PRECONDITION_FAILED);
        assert!(put.check(None).is_ok());

        let mut headers = HeaderMap::new();
        headers.insert(IF_MATCH, HeaderValue::from_static("\"v1\""));
        let delete = Preconditions::new(Method::DELETE, &headers);
        assert!(delete.check(Some(&current())).is_ok());
        let early = delete.check(None).unwrap_err();
        assert_eq!(early.status(), StatusCode::PRECONDITION_FAILED);
        assert!(!early.headers().contains_key(ETAG));

        assert!(!Preconditions::new(Method::GET, &HeaderMap::new()).is_conditional());
    }
}
