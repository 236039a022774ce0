//! axum `IntoResponseParts` for [`Representation`], [`EntityTag`] and [`Validators`] (feature
//! `axum`), so a handler returns what its response carries beside its body:
//! `(representation, body)`.

use std::convert::Infallible;

use axum_core::response::{IntoResponseParts, ResponseParts};
use http::header::ETAG;

use crate::response::set_validators;
use crate::{EntityTag, Representation, Validators};

/// Sets the representation's `ETag` and `Last-Modified` (as [`Validators`] does) and its
/// headers, replacing fields of the same names set before: the 200 carries what the
/// representation declares, as the 304 of
/// [`Preconditions::check`](crate::Preconditions::check) does.
///
/// ```
/// use axum::response::IntoResponse;
/// use http::{HeaderValue, header};
/// use tower_conditional::{EntityTag, Representation};
///
/// let current = Representation::new()
///     .with_etag(EntityTag::strong("v7").unwrap())
///     .with_header(header::CACHE_CONTROL, HeaderValue::from_static("max-age=60"))
///     .with_header(header::VARY, HeaderValue::from_static("accept-language"));
/// let response = (current, "body").into_response();
/// assert_eq!(response.headers()[header::ETAG], "\"v7\"");
/// assert_eq!(response.headers()[header::CACHE_CONTROL], "max-age=60");
/// assert_eq!(response.headers()[header::VARY], "accept-language");
/// ```
impl IntoResponseParts for Representation {
    type Error = Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        let headers = res.headers_mut();
        set_validators(headers, self.validators());
        let mut declared = self.into_headers().into_iter();
        // `HeaderMap::into_iter` names a field at its first value only.
        let mut name = None;
        for (next, value) in declared.by_ref() {
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

/// Sets the response's `ETag` field (RFC 9110 §8.8.3), replacing one set before.
///
/// ```
/// use axum::response::IntoResponse;
/// use tower_conditional::EntityTag;
///
/// let response = (EntityTag::weak("v1").unwrap(), "body").into_response();
/// assert_eq!(response.headers()["etag"], "W/\"v1\"");
/// ```
impl IntoResponseParts for EntityTag {
    type Error = Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.headers_mut().insert(ETAG, self.into());
        Ok(res)
    }
}

/// Sets the response's `ETag` (RFC 9110 §8.8.3) and `Last-Modified` (§8.8.2, as an
/// IMF-fixdate) fields from the validators that are present, replacing ones set before.
///
/// A modification date later than now is sent as now (§8.8.2.1: never a `Last-Modified` later
/// than the response's own date); one before 1970, which an HTTP-date cannot express, is left
/// out, as is any date while the clock itself is outside the years 1970 to 9999.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use axum::response::IntoResponse;
/// use tower_conditional::{EntityTag, Validators};
///
/// let validators = Validators::new()
///     .with_etag(EntityTag::strong("v7").unwrap())
///     .with_last_modified(UNIX_EPOCH + Duration::from_secs(784_111_777));
/// let response = (validators, "body").into_response();
/// assert_eq!(response.headers()["etag"], "\"v7\"");
/// assert_eq!(response.headers()["last-modified"], "Sun, 06 Nov 1994 08:49:37 GMT");
///
/// let before_1970 = Validators::new().with_last_modified(UNIX_EPOCH - Duration::from_secs(1));
/// let response = (before_1970, "body").into_response();
/// assert!(!response.headers().contains_key("last-modified"));
/// ```
///
/// Behind [`ConditionalLayer`](crate::ConditionalLayer) they are the response's own
/// validators: the layer does not buffer or hash the body, and answers `If-None-Match` /
/// `If-Modified-Since` with a 304 from them.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use axum::{Router, routing::get};
/// use tower_conditional::{ConditionalLayer, EntityTag, Validators};
///
/// async fn item() -> (Validators, &'static str) {
///     let validators = Validators::new()
///         .with_etag(EntityTag::strong("v42").unwrap())
///         .with_last_modified(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
///     (validators, "item 42, version 42")
/// }
///
/// let app: Router = Router::new()
///     .route("/items/42", get(item))
///     .layer(ConditionalLayer::new());
/// ```
impl IntoResponseParts for Validators {
    type Error = Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        set_validators(res.headers_mut(), &self);
        Ok(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::LAST_MODIFIED;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use http::header::{CONTENT_LENGTH, IF_MODIFIED_SINCE, IF_NONE_MATCH};
    use http::{Request, Response, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use crate::ConditionalLayer;

    const MODIFIED: u64 = 1_700_000_000;

    fn validators() -> Validators {
        Validators::new()
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
                    (Validators::new().with_last_modified(old), "before 1970")
                }),
            )
            .route(
                "/future",
                get(|| async {
                    let far = UNIX_EPOCH + Duration::from_secs(300_000_000_000); // year ~11476
                    (Validators::new().with_last_modified(far), "from the future")
                }),
            )
            .route(
                "/none",
                get(|| async { (Validators::new(), "no validators") }),
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
