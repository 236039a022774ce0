//! What a response carries of its representation (RFC 9110 §3.2), declared once: the
//! validators (§8.8) and the headers its 200 carries and its 304 repeats (§15.4.5).

use std::time::SystemTime;

use http::header::{ETAG, LAST_MODIFIED};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::rfc::etag::EntityTag;
use crate::rfc::fields::http_date;
#[cfg(test)]
use crate::rfc::fields::{single_date, single_value};

/// The current representation of a resource as the answers about it carry it: its validators
/// (`ETag`, `Last-Modified`, RFC 9110 §8.8) and the headers its 200 carries and a 304 must
/// repeat (§15.4.5: `Cache-Control`, `Expires`, `Vary`, `Content-Location`).
///
/// Declared once, it is what every answer about that version carries, so the 200 and the 304
/// cannot disagree:
///
/// - a [`ValidatorSource`](crate::source::ValidatorSource) reports it, and the layer's 304s
///   (made without the handler) carry it, as do the 200s the handler sends (where they lack a
///   field);
/// - a handler checks the request against it ([`Preconditions::check`]), whose early 304
///   carries it, and otherwise returns it beside its body: with the `axum` feature it is an
///   `IntoResponseParts`, `(representation, body)`.
///
/// Built with `with_*` setters that take and return `self`, read with getters of the bare
/// names (the Rust API guidelines' C-GETTER); the configuration builders
/// ([`ConditionalLayer`](crate::ConditionalLayer), `files::FileTags`), whose settings are never
/// read back, take tower-http's bare-name setters.
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use axum::{Router, body::Body, response::IntoResponse, routing::get};
/// use http::{HeaderValue, Request, StatusCode, header};
/// use tower::ServiceExt;
/// use tower_conditional::{Early, EntityTag, Preconditions, Representation};
///
/// fn current() -> Representation {
///     Representation::new()
///         .with_etag(EntityTag::strong("v1").unwrap())
///         .with_header(header::CACHE_CONTROL, HeaderValue::from_static("max-age=60"))
/// }
///
/// async fn page(preconditions: Preconditions) -> Result<impl IntoResponse, Early> {
///     let current = current();
///     preconditions.check(Some(&current))?;
///     Ok((current, "the page"))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app: Router = Router::new().route("/", get(page));
/// let full = app.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// let request = Request::get("/").header(header::IF_NONE_MATCH, "\"v1\"").body(Body::empty()).unwrap();
/// let revalidated = app.oneshot(request).await.unwrap();
/// assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
/// for name in [header::ETAG, header::CACHE_CONTROL] {
///     assert_eq!(revalidated.headers()[&name], full.headers()[&name]); // as the 200 carries it
/// }
/// # }
/// # }
/// ```
///
/// [`Preconditions::check`]: crate::Preconditions::check
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Representation {
    validators: Validators,
    headers: HeaderMap,
}

impl Representation {
    /// A representation with no validators and no headers yet.
    ///
    /// ```
    /// use tower_conditional::Representation;
    ///
    /// let representation = Representation::new();
    /// assert!(representation.etag().is_none() && representation.last_modified().is_none());
    /// assert!(representation.headers().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the entity tag (`ETag`, RFC 9110 §8.8.3).
    ///
    /// ```
    /// use tower_conditional::{EntityTag, Representation};
    ///
    /// let representation = Representation::new().with_etag(EntityTag::strong("v1").unwrap());
    /// assert_eq!(representation.etag(), Some(&EntityTag::strong("v1").unwrap()));
    /// ```
    pub fn with_etag(mut self, etag: EntityTag) -> Self {
        self.validators.etag = Some(etag);
        self
    }

    /// Sets the modification date (`Last-Modified`, RFC 9110 §8.8.2), compared at one-second
    /// resolution, as HTTP dates are. One later than now is sent as now (§8.8.2.1); one before
    /// 1970, or at the epoch (the Nix store's, for every file), is no validator and is left
    /// out.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use tower_conditional::Representation;
    ///
    /// let modified = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let representation = Representation::new().with_last_modified(modified);
    /// assert_eq!(representation.last_modified(), Some(modified));
    /// ```
    pub fn with_last_modified(mut self, last_modified: SystemTime) -> Self {
        self.validators.last_modified = Some(last_modified);
        self
    }

    /// Adds a header the 200 carries and a 304 must repeat, such as `Cache-Control`. Content
    /// fields (`Content-Type`, `Content-Encoding`, ...) are left off 304s and 412s.
    ///
    /// ```
    /// use http::{HeaderValue, header};
    /// use tower_conditional::Representation;
    ///
    /// let representation = Representation::new()
    ///     .with_header(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))
    ///     .with_header(header::VARY, HeaderValue::from_static("accept-encoding"));
    /// assert_eq!(representation.headers()[header::VARY], "accept-encoding");
    /// ```
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The entity tag, if any.
    ///
    /// ```
    /// use tower_conditional::{EntityTag, Representation};
    ///
    /// let tag = EntityTag::weak("v1").unwrap();
    /// assert_eq!(Representation::new().with_etag(tag.clone()).etag(), Some(&tag));
    /// assert_eq!(Representation::new().etag(), None);
    /// ```
    pub fn etag(&self) -> Option<&EntityTag> {
        self.validators.etag.as_ref()
    }

    /// The modification date, if any.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use tower_conditional::Representation;
    ///
    /// let now = SystemTime::now();
    /// assert_eq!(Representation::new().with_last_modified(now).last_modified(), Some(now));
    /// ```
    pub fn last_modified(&self) -> Option<SystemTime> {
        self.validators.last_modified
    }

    /// The headers besides the validators.
    ///
    /// ```
    /// use http::{HeaderValue, header};
    /// use tower_conditional::Representation;
    ///
    /// let representation =
    ///     Representation::new().with_header(header::CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
    /// assert_eq!(representation.headers()[header::CACHE_CONTROL], "max-age=60");
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub(crate) fn validators(&self) -> &Validators {
        &self.validators
    }

    /// Sets `ETag` and `Last-Modified` on `headers`, replacing what is there. A date before
    /// 1970 is left out, one later than now is sent as now (RFC 9110 §8.8.2.1).
    pub(crate) fn set_validators(&self, headers: &mut HeaderMap) {
        self.validators.set_on(headers);
    }
}

/// What a [`ValidatorSource`](crate::source::ValidatorSource) knows of a resource.
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, StatusCode, header};
/// use tower::ServiceExt;
/// use tower::BoxError;
/// use tower_conditional::{ConditionalLayer, EntityTag, Representation};
/// use tower_conditional::source::Current;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let source = |request: &http::request::Parts| {
///     let path = request.uri.path().to_owned();
///     async move {
///         Ok::<_, BoxError>(match path.as_str() {
///             "/items/1" => Current::Exists(Representation::new().with_etag(EntityTag::strong("v1")?)),
///             "/items/2" => Current::Missing,
///             _ => Current::Unknown, // the layer behaves as without a source
///         })
///     }
/// };
/// let app: Router = Router::new()
///     .route("/items/{id}", get(|| async { "item" }).put(|| async { StatusCode::CREATED }))
///     .layer(ConditionalLayer::new().validator_source(source));
///
/// // Create only: `If-None-Match: *` passes on a missing resource and fails on an existing one.
/// let create = |uri| Request::put(uri).header(header::IF_NONE_MATCH, "*").body(Body::empty()).unwrap();
/// assert_eq!(app.clone().oneshot(create("/items/2")).await.unwrap().status(), StatusCode::CREATED);
/// assert_eq!(
///     app.oneshot(create("/items/1")).await.unwrap().status(),
///     StatusCode::PRECONDITION_FAILED
/// );
/// # }
/// ```
#[derive(Clone, Debug)]
pub enum Current {
    /// The resource exists with this representation.
    Exists(Representation),
    /// The resource does not exist: for a write, `If-Match` fails and `If-None-Match: *`
    /// passes; a GET or HEAD goes to the handler, whose answer (a 404) preconditions do not
    /// apply to (RFC 9110 §13.2.1).
    Missing,
    /// The source cannot tell for this request: the layer behaves as without a source.
    Unknown,
}

/// The validators of a representation (RFC 9110 §8.8), as the rules of §13 compare them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Validators {
    pub(crate) etag: Option<EntityTag>,
    pub(crate) last_modified: Option<SystemTime>,
}

impl Validators {
    /// The `ETag` and `Last-Modified` of a response; a field that is missing, repeated or
    /// malformed counts as absent.
    #[cfg(test)]
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            etag: single_value(headers, &ETAG).and_then(|value| EntityTag::try_from(value).ok()),
            last_modified: single_date(headers, &LAST_MODIFIED),
        }
    }

    /// Sets `ETag` and `Last-Modified` from these, replacing what is there.
    pub(crate) fn set_on(&self, headers: &mut HeaderMap) {
        if let Some(etag) = &self.etag {
            headers.insert(ETAG, HeaderValue::from(etag));
        }
        if let Some(value) = self
            .last_modified
            .and_then(|modified| http_date(modified, SystemTime::now()))
        {
            headers.insert(LAST_MODIFIED, value);
        }
    }
}

/// Sets the representation's `ETag` and `Last-Modified` and its headers, replacing fields of
/// the same names set before: the 200 carries what the representation declares, as the 304 of
/// [`Preconditions::check`](crate::Preconditions::check) does.
///
/// A modification date later than now is sent as now (RFC 9110 §8.8.2.1: never a
/// `Last-Modified` later than the response's own date); one before 1970, which an HTTP-date
/// cannot express, is left out.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use axum::response::IntoResponse;
/// use http::{HeaderValue, header};
/// use tower_conditional::{EntityTag, Representation};
///
/// let current = Representation::new()
///     .with_etag(EntityTag::strong("v7").unwrap())
///     .with_last_modified(UNIX_EPOCH + Duration::from_secs(784_111_777))
///     .with_header(header::CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
/// let response = (current, "body").into_response();
/// assert_eq!(response.headers()[header::ETAG], "\"v7\"");
/// assert_eq!(response.headers()[header::LAST_MODIFIED], "Sun, 06 Nov 1994 08:49:37 GMT");
/// assert_eq!(response.headers()[header::CACHE_CONTROL], "max-age=60");
/// ```
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum_core::response::IntoResponseParts for Representation {
    type Error = std::convert::Infallible;

    fn into_response_parts(
        self,
        mut res: axum_core::response::ResponseParts,
    ) -> Result<axum_core::response::ResponseParts, Self::Error> {
        let headers = res.headers_mut();
        self.validators.set_on(headers);
        // `HeaderMap::into_iter` names a field at its first value only.
        let mut name = None;
        for (next, value) in self.headers {
            if let Some(next) = next {
                headers.insert(next.clone(), value);
                name = Some(next);
            } else if let Some(name) = &name {
                headers.append(name.clone(), value);
            }
        }
        Ok(res)
    }
}

/// Conversions with the `headers` crate's typed `ETag` and `LastModified` (feature
/// `headers`): axum-extra's `TypedHeader` extracts and sets these.
#[cfg(feature = "headers")]
#[cfg_attr(docsrs, doc(cfg(feature = "headers")))]
impl Representation {
    /// The representation with these typed validators; a tag the `headers` crate accepts but
    /// RFC 9110 does not (it is lax about spaces) is left out.
    ///
    /// ```
    /// use headers::{ETag, LastModified};
    /// use tower_conditional::{EntityTag, Representation};
    ///
    /// let etag: ETag = "\"v1\"".parse().unwrap();
    /// let modified = LastModified::from(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000));
    /// let representation = Representation::from_typed(Some(&etag), Some(&modified));
    /// assert_eq!(representation.etag(), Some(&EntityTag::strong("v1").unwrap()));
    /// assert!(representation.last_modified().is_some());
    /// ```
    pub fn from_typed(
        etag: Option<&headers::ETag>,
        last_modified: Option<&headers::LastModified>,
    ) -> Self {
        Self {
            validators: Validators {
                etag: etag.and_then(|etag| EntityTag::try_from(etag).ok()),
                last_modified: last_modified.map(|&date| SystemTime::from(date)),
            },
            headers: HeaderMap::new(),
        }
    }

    /// The entity tag as the `headers` crate's `ETag`.
    ///
    /// ```
    /// use tower_conditional::{EntityTag, Representation};
    ///
    /// let representation = Representation::new().with_etag(EntityTag::weak("v1").unwrap());
    /// assert!(representation.typed_etag().unwrap().is_weak());
    /// ```
    pub fn typed_etag(&self) -> Option<headers::ETag> {
        self.etag()
            .and_then(|tag| headers::ETag::try_from(tag).ok())
    }

    /// The modification date as the `headers` crate's `LastModified`, as it would be sent (a
    /// date later than now as now; none before 1970 or at the epoch).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use tower_conditional::Representation;
    ///
    /// let modified = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let representation = Representation::new().with_last_modified(modified);
    /// assert_eq!(std::time::SystemTime::from(representation.typed_last_modified().unwrap()), modified);
    /// ```
    pub fn typed_last_modified(&self) -> Option<headers::LastModified> {
        let modified = crate::rfc::fields::date_to_send(self.last_modified()?, SystemTime::now())?;
        Some(headers::LastModified::from(modified))
    }
}

#[cfg(all(test, feature = "axum"))]
mod tests {
    use super::*;
    use crate::EntityTag;
    use http::header::{ETAG, LAST_MODIFIED};
    use std::time::{Duration, UNIX_EPOCH};

    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use http::header::{CONTENT_LENGTH, IF_MODIFIED_SINCE, IF_NONE_MATCH};
    use http::{Request, Response, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use crate::ConditionalLayer;

    const MODIFIED: u64 = 1_700_000_000;

    fn validators() -> Representation {
        Representation::new()
            .with_etag(EntityTag::strong("v42").unwrap())
            .with_last_modified(UNIX_EPOCH + Duration::from_secs(MODIFIED))
    }

    fn app() -> Router {
        Router::new()
            .route(
                "/tag",
                get(|| async { (EntityTag::weak("w1").unwrap(), "tagged") }),
            )
            .route("/item", get(|| async { (validators(), "item 42") }))
            .route(
                "/old",
                get(|| async {
                    let old = UNIX_EPOCH - Duration::from_secs(86_400);
                    (Representation::new().with_last_modified(old), "before 1970")
                }),
            )
            .route(
                "/future",
                get(|| async {
                    let far = UNIX_EPOCH + Duration::from_secs(300_000_000_000); // year ~11476
                    (
                        Representation::new().with_last_modified(far),
                        "from the future",
                    )
                }),
            )
            .route(
                "/none",
                get(|| async { (Representation::new(), "no validators") }),
            )
    }

    async fn get_with(router: Router, uri: &str, headers: &[(&str, &str)]) -> Response<Body> {
        let mut request = Request::get(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        router
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    async fn body(response: Response<Body>) -> Vec<u8> {
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    #[tokio::test]
    async fn handlers_return_their_validators_with_the_body() {
        let response = get_with(app(), "/tag", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[ETAG], "W/\"w1\"");
        assert!(!response.headers().contains_key(LAST_MODIFIED));
        assert_eq!(body(response).await, b"tagged");

        let response = get_with(app(), "/item", &[]).await;
        assert_eq!(response.headers()[ETAG], "\"v42\"");
        assert_eq!(
            response.headers()[LAST_MODIFIED],
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
        assert_eq!(body(response).await, b"item 42");

        let response = get_with(app(), "/none", &[]).await;
        assert!(!response.headers().contains_key(ETAG));
        assert!(!response.headers().contains_key(LAST_MODIFIED));
    }

    #[tokio::test]
    async fn dates_outside_what_an_http_date_says_do_not_panic() {
        // Before 1970: left out.
        let response = get_with(app(), "/old", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(!response.headers().contains_key(LAST_MODIFIED));
        assert_eq!(body(response).await, b"before 1970");

        // After year 9999 (so after now): sent as now (RFC 9110 §8.8.2.1).
        let before = SystemTime::now() - Duration::from_secs(1);
        let response = get_with(app(), "/future", &[]).await;
        let after = SystemTime::now();
        let sent = response.headers()[LAST_MODIFIED].to_str().unwrap();
        let sent = httpdate::parse_http_date(sent).unwrap();
        assert!(before <= sent && sent <= after, "{sent:?}");
    }

    #[tokio::test]
    async fn the_layer_answers_304_from_the_returned_validators() {
        let app = app().layer(ConditionalLayer::new());

        let response = get_with(app.clone(), "/item", &[(IF_NONE_MATCH.as_str(), "\"v42\"")]).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers()[ETAG], "\"v42\"");
        assert!(!response.headers().contains_key(CONTENT_LENGTH));
        assert!(body(response).await.is_empty());

        let response = get_with(
            app.clone(),
            "/item",
            &[(IF_MODIFIED_SINCE.as_str(), "Tue, 14 Nov 2023 22:13:20 GMT")],
        )
        .await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);

        // The handler's tag is used as it is: no tag generated from the body.
        let response = get_with(app.clone(), "/item", &[(IF_NONE_MATCH.as_str(), "\"v41\"")]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[ETAG], "\"v42\"");
        assert_eq!(body(response).await, b"item 42");

        // Weak comparison for If-None-Match (RFC 9110 §13.1.2).
        let response = get_with(app, "/tag", &[(IF_NONE_MATCH.as_str(), "\"w1\"")]).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    }
}
