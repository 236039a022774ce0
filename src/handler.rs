//! Deep entity tags and guarded writes: preconditions evaluated inside a handler, against the
//! representation it reads itself.
//!
//! A handler that knows its resource's version (a row's revision, a file's hash) can answer a
//! conditional request before doing the expensive part: declare the current
//! [`Representation`] once (its validators and the cache headers its 200 carries), ask
//! [`Preconditions::check`], and return the [`Early`] answer it gives, which carries the same
//! headers; otherwise send the representation with the body.
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use axum::http::{HeaderValue, header};
//! use axum::response::IntoResponse;
//! use tower_conditional::{Early, EntityTag, Preconditions, Representation};
//!
//! async fn show_item(preconditions: Preconditions) -> Result<impl IntoResponse, Early> {
//!     let version = 42; // e.g. SELECT version FROM items WHERE id = $1
//!     let current = Representation::new()
//!         .with_etag(EntityTag::strong(format!("v{version}")).unwrap())
//!         .with_header(header::CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
//!     preconditions.check(Some(&current))?; // 304 or 412, with the ETag and Cache-Control
//!     Ok((current, "the expensive rendering"))
//! }
//! # let _ = axum::Router::<()>::new().route("/items/42", axum::routing::get(show_item));
//! # }
//! ```
//!
//! The same call makes a write a compare-and-swap: called where nothing can change the
//! version until the write is done (under the lock the write takes, after `SELECT … FOR
//! UPDATE`, or again after an `UPDATE … WHERE version = $read` that changed no row), against
//! the version read there, it evaluates the request's `If-Match` (or `If-None-Match: *`)
//! against what the write would replace, so of two writers holding one tag exactly one wins
//! ([`Preconditions::check`] shows it with SQL).
//!
//! Without a framework, build it from the request with [`Preconditions::from_parts`].

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Response, StatusCode, request};

use crate::config::{Config, WriteRules};
use crate::plan::head::{refusal_head, representation_not_modified};
use crate::plan::request::Conditions;
use crate::rfc::precondition::evaluate;
use crate::rfc::problem::Refusal;
use crate::rfc::range::if_range_allows_range;
use crate::{Outcome, Representation};

/// A request's method and precondition fields, to evaluate against a representation a handler
/// knows: for an early 304 (deep entity tags), and for a write's compare-and-swap.
///
/// With the `axum` feature it is an extractor. Behind a
/// [`ConditionalLayer`](crate::ConditionalLayer), it follows the layer's
/// [`creating_methods`](crate::ConditionalLayer::creating_methods) and
/// [`problem_details`](crate::ConditionalLayer::problem_details).
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use axum::{Router, body::Body, response::IntoResponse, routing::get};
/// use http::{HeaderValue, Request, StatusCode, header};
/// use tower::ServiceExt;
/// use tower_conditional::{Early, EntityTag, Preconditions, Representation};
///
/// async fn report(preconditions: Preconditions) -> Result<impl IntoResponse, Early> {
///     let version = 17; // e.g. SELECT version FROM reports WHERE id = $1
///     let current = Representation::new()
///         .with_etag(EntityTag::strong(format!("rev-{version}")).unwrap())
///         .with_header(header::CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
///     preconditions.check(Some(&current))?;
///     Ok((current, "the expensive report"))
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
/// // What the 200 carries, declared once.
/// assert_eq!(response.headers()[header::ETAG], "\"rev-17\"");
/// assert_eq!(response.headers()[header::CACHE_CONTROL], "max-age=60");
/// # }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Preconditions {
    method: Method,
    conditions: Conditions,
    /// The layer's settings, when they differ from the defaults.
    settings: Option<HandlerSettings>,
}

/// What [`Preconditions`] follows of the layer in front of the handler, passed as a request
/// extension when it differs from [`WriteRules::DEFAULT`] and the request has a precondition
/// it changes the answer to (without one, `check` lets every request go on).
#[derive(Clone, Debug)]
pub(crate) struct HandlerSettings(Arc<Config>);

/// What a handler follows without a layer's settings.
static DEFAULT_RULES: WriteRules = WriteRules::DEFAULT;

impl From<&Arc<Config>> for HandlerSettings {
    fn from(config: &Arc<Config>) -> Self {
        Self(Arc::clone(config))
    }
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
        let mut preconditions = Self::new(parts.method.clone(), &parts.headers);
        preconditions.settings = parts.extensions.get::<HandlerSettings>().cloned();
        preconditions
    }

    /// Reads the precondition fields of `headers` for a request with `method`.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Method, header::IF_MATCH};
    /// use tower_conditional::{EntityTag, Outcome, Preconditions, Representation};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(IF_MATCH, HeaderValue::from_static("\"v1\""));
    /// let preconditions = Preconditions::new(Method::PUT, &headers);
    /// let current = Representation::new().with_etag(EntityTag::strong("v2").unwrap());
    /// assert_eq!(preconditions.evaluate(Some(&current)), Outcome::PreconditionFailed);
    /// ```
    pub fn new(method: Method, headers: &HeaderMap) -> Self {
        Self {
            method,
            conditions: Conditions::for_handler(headers),
            settings: None,
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
        self.conditions.any_precondition()
    }

    /// What RFC 9110 §13.2.2 says of the request against `current` (`None`: the resource has
    /// no current representation): `If-Match` (strong comparison; a malformed value is false,
    /// §13.1.1), else `If-Unmodified-Since`; then `If-None-Match` (weak comparison; a malformed
    /// value is true, §13.1.2), else, for GET and HEAD, `If-Modified-Since`. Dates are ignored
    /// when invalid, repeated, or when `current` has no modification date.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Method, header::IF_NONE_MATCH};
    /// use tower_conditional::{EntityTag, Outcome, Preconditions, Representation};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(IF_NONE_MATCH, HeaderValue::from_static("\"v1\""));
    /// let preconditions = Preconditions::new(Method::GET, &headers);
    /// let v1 = Representation::new().with_etag(EntityTag::strong("v1").unwrap());
    /// let v2 = Representation::new().with_etag(EntityTag::strong("v2").unwrap());
    /// assert_eq!(preconditions.evaluate(Some(&v1)), Outcome::NotModified);
    /// assert_eq!(preconditions.evaluate(Some(&v2)), Outcome::Proceed);
    /// ```
    pub fn evaluate(&self, current: Option<&Representation>) -> Outcome {
        evaluate(
            &self.method,
            &self.conditions,
            current.map(|representation| representation.validators().borrowed()),
        )
        .outcome
    }

    /// Step 5 of RFC 9110 §13.2.2, for a handler that serves ranges itself: whether the
    /// request's `Range` may be honoured given its `If-Range`. `true` when there is no
    /// `If-Range`, or when it names `current` (an entity tag equal under the strong comparison,
    /// or exactly its modification date, §13.1.5); otherwise the whole representation is sent,
    /// so that a resumed download is never stitched from two versions.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Method, header::IF_RANGE};
    /// use tower_conditional::{EntityTag, Preconditions, Representation};
    ///
    /// let current = Representation::new().with_etag(EntityTag::strong("v2").unwrap());
    /// let mut request = HeaderMap::new();
    /// request.insert(IF_RANGE, HeaderValue::from_static("\"v1\""));
    /// assert!(!Preconditions::new(Method::GET, &request).if_range_allows(&current));
    /// request.insert(IF_RANGE, HeaderValue::from_static("\"v2\""));
    /// assert!(Preconditions::new(Method::GET, &request).if_range_allows(&current));
    /// ```
    pub fn if_range_allows(&self, current: &Representation) -> bool {
        if_range_allows_range(&self.conditions, current.validators())
    }

    /// `Ok(())` when the handler should go on; otherwise the [`Early`] answer to send instead:
    /// a `304 Not Modified` carrying `current`'s validators and headers (what its 200 carries,
    /// RFC 9110 §15.4.5), or a `412 Precondition Failed` carrying its validators.
    ///
    /// `current` is `None` when the resource does not exist. Preconditions apply only where the
    /// answer without them would be 2xx (RFC 9110 §13.2.1): for a missing resource that only a
    /// write that may create it (`PUT`; the layer's
    /// [`creating_methods`](crate::ConditionalLayer::creating_methods)) turns into a 2xx, so
    /// `check(None)` is `Ok(())` for every other method, and the handler gives its 404.
    ///
    /// A client's tag names the current version verbatim, weakened, or as the coded tag the
    /// layer gave its compressed bytes (`"v1-gzip"` for `"v1"`), so a write from a client that
    /// was sent gzip bytes succeeds with the tag it holds, and a 304 carries that tag.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
    /// use tower_conditional::{EntityTag, Preconditions, Representation};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"v1\""));
    /// let preconditions = Preconditions::new(Method::GET, &headers);
    /// let current = Representation::new()
    ///     .with_etag(EntityTag::strong("v1").unwrap())
    ///     .with_header(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    ///
    /// let early = preconditions.check(Some(&current)).unwrap_err();
    /// assert_eq!(early.status(), StatusCode::NOT_MODIFIED);
    /// assert_eq!(early.headers()[header::ETAG], "\"v1\"");
    /// assert_eq!(early.headers()[header::CACHE_CONTROL], "no-cache");
    /// assert!(preconditions.check(None).is_ok()); // no resource: the handler's 404
    /// ```
    ///
    /// # Compare-and-swap
    ///
    /// The layer's validator source checks a write before the handler, but another writer can
    /// come in between. Check again where the write happens, against the version read under
    /// the same lock or in the same transaction: then exactly one of two writers holding the
    /// same tag wins, and the other gets the 412.
    ///
    /// ```
    /// # #[cfg(feature = "axum")] {
    /// use std::sync::Arc;
    /// use axum::{Router, body::Body, extract::State, routing::put};
    /// use http::{Request, StatusCode, header};
    /// use tokio::sync::Mutex;
    /// use tower::ServiceExt;
    /// use tower_conditional::{Early, EntityTag, Preconditions, Representation};
    ///
    /// // The stored version of one document; its ETag is `"v{version}"`.
    /// type Store = Arc<Mutex<u64>>;
    ///
    /// fn representation(version: u64) -> Representation {
    ///     Representation::new().with_etag(EntityTag::strong(format!("v{version}")).unwrap())
    /// }
    ///
    /// async fn write(State(store): State<Store>, preconditions: Preconditions)
    ///     -> Result<(Representation, StatusCode), Early>
    /// {
    ///     // BEGIN; SELECT version FROM docs WHERE id = $1 FOR UPDATE;
    ///     let mut version = store.lock().await;
    ///     preconditions.check(Some(&representation(*version)))?; // 412 when it moved on
    ///     // UPDATE docs SET body = $2, version = version + 1 WHERE id = $1 AND version = $3; COMMIT;
    ///     *version += 1;
    ///     // The new version's tag, for the client's next write.
    ///     Ok((representation(*version), StatusCode::NO_CONTENT))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let store: Store = Arc::new(Mutex::new(1));
    /// let app = Router::new().route("/doc", put(write)).with_state(store.clone());
    /// let update = || Request::put("/doc").header(header::IF_MATCH, "\"v1\"").body(Body::empty()).unwrap();
    /// let written = app.clone().oneshot(update()).await.unwrap();
    /// assert_eq!(written.status(), StatusCode::NO_CONTENT);
    /// assert_eq!(written.headers()[header::ETAG], "\"v2\"");
    /// // v1 is gone: the second write with the same If-Match is refused, and nothing is written.
    /// assert_eq!(app.oneshot(update()).await.unwrap().status(), StatusCode::PRECONDITION_FAILED);
    /// assert_eq!(*store.lock().await, 2);
    /// # }
    /// # }
    /// ```
    pub fn check(&self, current: Option<&Representation>) -> Result<(), Early> {
        let rules = self
            .settings
            .as_ref()
            .map_or(&DEFAULT_RULES, |settings| &settings.0.write);
        if current.is_none() && !rules.creates(&self.method) {
            return Ok(());
        }
        let validators = current.map(Representation::validators);
        let evaluation = evaluate(
            &self.method,
            &self.conditions,
            validators.map(|validators| validators.borrowed()),
        );
        match (evaluation.outcome, current) {
            (Outcome::NotModified, Some(current)) => Err(Early {
                head: Box::new(representation_not_modified(
                    current,
                    &self.conditions,
                    evaluation.held_form,
                )),
                body: None,
            }),
            (Outcome::NotModified | Outcome::PreconditionFailed, _) => {
                let (head, body) = refusal_head(
                    Refusal::Failed(evaluation.by),
                    validators,
                    rules.problem_details,
                );
                Err(Early {
                    head: Box::new(head),
                    body,
                })
            }
            (Outcome::Proceed | Outcome::PreconditionRequired, _) => Ok(()),
        }
    }
}

/// What a handler sends instead of its normal response when [`Preconditions::check`] says so:
/// a `304 Not Modified` carrying the representation's validators and the headers its 200
/// carries, or a `412 Precondition Failed` with its validators (and, behind a layer with
/// [`problem_details`](crate::ConditionalLayer::problem_details), an RFC 9457 body). Send it
/// with `early.into_response()` (feature `axum`; it is also the error of a handler returning
/// `Result<_, Early>`), or `Response::from(early)` for any body type made from `Bytes`.
///
/// Through axum, a 304 gets no `Content-Length` at all: a 304's length would have to be the
/// 200's (RFC 9110 §8.6), and axum's router would add `Content-Length: 0` to an empty body.
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use axum::{Router, body::Body, response::IntoResponse, routing::get};
/// use http::{HeaderValue, Request, StatusCode, header};
/// use tower::ServiceExt;
/// use tower_conditional::{Early, EntityTag, Preconditions, Representation};
///
/// async fn page(preconditions: Preconditions) -> Result<impl IntoResponse, Early> {
///     let current = Representation::new()
///         .with_etag(EntityTag::strong("v3").unwrap())
///         .with_header(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
///     preconditions.check(Some(&current))?;
///     Ok((current, "the page"))
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
    // Boxed: handlers return it as the error of a `Result` that is otherwise small.
    head: Box<http::response::Parts>,
    /// A 412's problem details, if any.
    body: Option<Bytes>,
}

impl Early {
    /// `304 Not Modified` or `412 Precondition Failed`.
    ///
    /// ```
    /// use http::{HeaderMap, Method, StatusCode, header};
    /// use tower_conditional::{EntityTag, Preconditions, Representation};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::IF_MATCH, "\"v1\"".parse().unwrap());
    /// let current = Representation::new().with_etag(EntityTag::strong("v2").unwrap());
    /// let early = Preconditions::new(Method::PUT, &headers).check(Some(&current)).unwrap_err();
    /// assert_eq!(early.status(), StatusCode::PRECONDITION_FAILED);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.head.status
    }

    /// The header fields: the current `ETag` and `Last-Modified`, and on a 304 the headers of
    /// the representation.
    ///
    /// ```
    /// use http::{HeaderMap, Method, header};
    /// use tower_conditional::{EntityTag, Preconditions, Representation};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::IF_NONE_MATCH, "\"v1\"".parse().unwrap());
    /// let current = Representation::new().with_etag(EntityTag::strong("v1").unwrap());
    /// let early = Preconditions::new(Method::GET, &headers).check(Some(&current)).unwrap_err();
    /// assert_eq!(early.headers()[header::ETAG], "\"v1\"");
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.head.headers
    }

    /// The header fields, to add one that is not the representation's (a `Set-Cookie`, say).
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Method, Response, header};
    /// use tower_conditional::{EntityTag, Preconditions, Representation};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::IF_NONE_MATCH, "\"v1\"".parse().unwrap());
    /// let current = Representation::new().with_etag(EntityTag::strong("v1").unwrap());
    /// let mut early = Preconditions::new(Method::GET, &headers).check(Some(&current)).unwrap_err();
    /// early.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static("seen=1"));
    /// let response: Response<Vec<u8>> = early.into();
    /// assert_eq!(response.headers()[header::SET_COOKIE], "seen=1");
    /// ```
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.head.headers
    }
}

impl<B: From<Bytes>> From<Early> for Response<B> {
    fn from(early: Early) -> Self {
        Response::from_parts(*early.head, B::from(early.body.unwrap_or_default()))
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for Early {
    fn into_response(self) -> axum_core::response::Response {
        use crate::body::ConditionalBody;
        let body = match self.body {
            Some(body) => ConditionalBody::<axum_core::body::Body>::complete(body.into(), None),
            // A 304's content is the 200's, unsent: a body of no stated length, so that
            // nothing adds a `Content-Length: 0` that contradicts the representation's (RFC
            // 9110 §8.6).
            None if self.head.status == StatusCode::NOT_MODIFIED => ConditionalBody::omitted(),
            None => ConditionalBody::empty(),
        };
        Response::from_parts(*self.head, axum_core::body::Body::new(body))
    }
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
    use http::header::{
        ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH, VARY,
    };

    fn current() -> Representation {
        Representation::new()
            .with_etag(EntityTag::strong("v1").unwrap())
            .with_header(CACHE_CONTROL, HeaderValue::from_static("max-age=60"))
            .with_header(CONTENT_TYPE, HeaderValue::from_static("text/html"))
    }

    fn with(name: http::HeaderName, value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn check_builds_the_early_responses() {
        let headers = with(IF_NONE_MATCH, "\"v1\"");
        let get = Preconditions::new(Method::GET, &headers);
        assert!(get.is_conditional());
        let early = get.check(Some(&current())).unwrap_err();
        assert_eq!(early.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(early.headers()[ETAG], "\"v1\"");
        // What the 200 carries, less its content fields.
        assert_eq!(early.headers()[CACHE_CONTROL], "max-age=60");
        assert!(!early.headers().contains_key(CONTENT_TYPE));

        let put = Preconditions::new(Method::PUT, &headers);
        let early = put.check(Some(&current())).unwrap_err();
        assert_eq!(early.status(), StatusCode::PRECONDITION_FAILED);
        assert_eq!(early.headers()[ETAG], "\"v1\"");
        assert!(!early.headers().contains_key(CACHE_CONTROL));
        assert!(put.check(None).is_ok());

        // §13.2.1: a missing resource is the handler's 404, unless the method may create it.
        let headers = with(IF_MATCH, "\"v1\"");
        let delete = Preconditions::new(Method::DELETE, &headers);
        assert!(delete.check(Some(&current())).is_ok());
        assert!(delete.check(None).is_ok());
        let put = Preconditions::new(Method::PUT, &headers);
        let early = put.check(None).unwrap_err();
        assert_eq!(early.status(), StatusCode::PRECONDITION_FAILED);
        assert!(!early.headers().contains_key(ETAG));
        let create = Preconditions::new(Method::PUT, &with(IF_NONE_MATCH, "*"));
        assert!(create.check(None).is_ok());
        assert!(create.check(Some(&current())).is_err());

        assert!(!Preconditions::new(Method::GET, &HeaderMap::new()).is_conditional());
    }

    #[test]
    fn coded_tags_name_their_version() {
        // A client sent the gzip bytes, tagged "v1-gzip" by the layer: its write succeeds.
        let put = Preconditions::new(Method::PUT, &with(IF_MATCH, "\"v1-gzip\""));
        assert!(put.check(Some(&current())).is_ok());
        let stale = Preconditions::new(Method::PUT, &with(IF_MATCH, "\"v0-gzip\""));
        assert!(stale.check(Some(&current())).is_err());
        // Its revalidation gets a 304 naming the tag it holds, varying by coding.
        let mut headers = with(IF_NONE_MATCH, "\"v1-gzip\"");
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip, br"));
        let get = Preconditions::new(Method::GET, &headers);
        let early = get.check(Some(&current())).unwrap_err();
        assert_eq!(early.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(early.headers()[ETAG], "\"v1-gzip\"");
        assert_eq!(early.headers()[VARY], "accept-encoding");
        // Not from a client that refuses gzip: the gzip copy is no use to it.
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        let get = Preconditions::new(Method::GET, &headers);
        assert!(get.check(Some(&current())).is_ok());
        assert!(Preconditions::new(Method::GET, &headers).is_conditional());
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        assert!(!Preconditions::new(Method::GET, &headers).is_conditional());
        // A weak tag never satisfies If-Match (strong comparison).
        let weak = Preconditions::new(Method::PUT, &with(IF_MATCH, "W/\"v1\""));
        assert!(weak.check(Some(&current())).is_err());
    }
}
