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
//!     if let Err(early) = preconditions.check::<axum::body::Body>(Some(&current)) {
//!         return early; // 304 or 412, with the ETag
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

use crate::fields::fields_where;
use crate::precondition::CONDITIONAL_HEADERS;
use crate::response::set_validators;
use crate::{Outcome, Validators, evaluate};

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
///     if let Err(early) = preconditions.check::<Body>(Some(&current)) {
///         return early; // 304 or 412, with the ETag
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
    conditions: HeaderMap,
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
            conditions: fields_where(headers, |name| CONDITIONAL_HEADERS.contains(name)),
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
        evaluate(&self.method, &self.conditions, current)
    }

    /// `Ok(())` when the handler should go on; otherwise the response to send instead: a
    /// [`not_modified`] or a [`precondition_failed`] response carrying `current`'s validators.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
    /// use tower_conditional::{EntityTag, Preconditions, Validators};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"v1\""));
    /// let preconditions = Preconditions::new(Method::GET, &headers);
    /// let current = Validators::new().with_etag(EntityTag::strong("v1").unwrap());
    ///
    /// let early = preconditions.check::<String>(Some(&current)).unwrap_err();
    /// assert_eq!(early.status(), StatusCode::NOT_MODIFIED);
    /// assert_eq!(early.headers()[header::ETAG], "\"v1\"");
    /// assert!(preconditions.check::<String>(None).is_ok()); // no resource: the handler's 404
    /// ```
    pub fn check<B: Default>(&self, current: Option<&Validators>) -> Result<(), Response<B>> {
        match self.evaluate(current) {
            Outcome::Proceed => Ok(()),
            Outcome::NotModified => Err(not_modified(current.unwrap_or(&Validators::new()))),
            Outcome::PreconditionFailed => Err(precondition_failed(current)),
        }
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
    validator_response(StatusCode::NOT_MODIFIED, Some(current))
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
    validator_response(StatusCode::PRECONDITION_FAILED, current)
}

fn validator_response<B: Default>(status: StatusCode, current: Option<&Validators>) -> Response<B> {
    let mut response = Response::new(B::default());
    *response.status_mut() = status;
    if let Some(current) = current {
        set_validators(response.headers_mut(), current);
    }
    response
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
        let early = get.check::<()>(Some(&current())).unwrap_err();
        assert_eq!(early.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(early.headers()[ETAG], "\"v1\"");

        let put = Preconditions::new(Method::PUT, &headers);
        let early = put.check::<()>(Some(&current())).unwrap_err();
        assert_eq!(early.status(), StatusCode::PRECONDITION_FAILED);
        assert!(put.check::<()>(None).is_ok());

        let mut headers = HeaderMap::new();
        headers.insert(IF_MATCH, HeaderValue::from_static("\"v1\""));
        let delete = Preconditions::new(Method::DELETE, &headers);
        assert!(delete.check::<()>(Some(&current())).is_ok());
        let early = delete.check::<()>(None).unwrap_err();
        assert_eq!(early.status(), StatusCode::PRECONDITION_FAILED);
        assert!(!early.headers().contains_key(ETAG));

        assert!(!Preconditions::new(Method::GET, &HeaderMap::new()).is_conditional());
    }
}
