//! The layer's behaviour through a real axum `Router`, in both placements users write:
//! `Router::layer(ConditionalLayer::new())` and `ServiceBuilder` around the whole router.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::response::{AppendHeaders, IntoResponse};
use axum::routing::get;
use bytes::Bytes;
use common::{Counter, Scripted, body_bytes, in_process_placements, oneshot, tag_of};
use http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_LENGTH, CONTENT_LOCATION,
    CONTENT_TYPE, ETAG, EXPIRES, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, SET_COOKIE,
    TRANSFER_ENCODING, VARY,
};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use tower::{Layer, ServiceExt};
use tower_conditional::ConditionalLayer;

const PAGE: &str = "<!doctype html><title>page</title><p>Hello, conditional world.</p>";
const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

fn routes(counter: Counter) -> Router {
    let page_counter = counter.clone();
    Router::new()
        .route(
            "/page",
            get(move || {
                page_counter.hit();
                async {
                    (
                        AppendHeaders([
                            (CONTENT_TYPE, "text/html; charset=utf-8"),
                            (CACHE_CONTROL, "no-cache"),
                            (EXPIRES, "Thu, 01 Dec 2094 16:00:00 GMT"),
                            (VARY, "accept-language"),
                            (CONTENT_LOCATION, "/page.html"),
                            (CONTENT_LANGUAGE, "en"),
                            (SET_COOKIE, "session=abc; HttpOnly"),
                            (SET_COOKIE, "theme=dark"),
                            (HeaderName::from_static("x-request-cost"), "7"),
                        ]),
                        PAGE,
                    )
                }
            }),
        )
        .route(
            "/own-etag",
            get(|| async { ([(ETAG, "\"v1\"")], "handler-tagged") }),
        )
        .route(
            "/dated",
            get(|| async { ([(LAST_MODIFIED, DATE)], "dated body") }),
        )
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "no such thing") }),
        )
        .route("/created", get(|| async { (StatusCode::CREATED, "made") }))
        .route(
            "/private",
            get(|| async { ([(CACHE_CONTROL, "private, no-store")], "secret") }),
        )
        .route(
            "/items",
            get(|| async { "item" })
                .put(move || {
                    counter.hit();
                    async { "stored" }
                })
                .post(|| async { "posted" })
                .delete(|| async { "deleted" }),
        )
}

fn etag(response: &Response<Body>) -> Option<&str> {
    response.headers().get(ETAG).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn get_is_tagged_from_its_bytes_and_revalidates_to_a_bodiless_304() {
    for (placement, app, counter) in in_process_placements(routes, ConditionalLayer::new()) {
        let response = oneshot(&app, Method::GET, "/page", &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{placement}");
        let tag = etag(&response).unwrap().to_owned();
        // Strong, and a function of the bytes alone: the library's tag of the body.
        assert_eq!(tag, tag_of(PAGE.as_bytes()), "{placement}");
        assert_eq!(response.headers()[CONTENT_LENGTH], PAGE.len().to_string());
        assert_eq!(body_bytes(response.into_body()).await, PAGE.as_bytes());

        let response = oneshot(&app, Method::GET, "/page", &[("if-none-match", &tag)]).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{placement}");
        let headers = response.headers().clone();
        assert_eq!(headers[ETAG], tag.as_str());
        assert_eq!(headers[CACHE_CONTROL], "no-cache");
        assert_eq!(headers[EXPIRES], "Thu, 01 Dec 2094 16:00:00 GMT");
        assert_eq!(headers[VARY], "accept-language");
        assert_eq!(headers[CONTENT_LOCATION], "/page.html");
        assert_eq!(headers["x-request-cost"], "7");
        let cookies: Vec<_> = headers.get_all(SET_COOKIE).iter().collect();
        assert_eq!(
            cookies,
            ["session=abc; HttpOnly", "theme=dark"],
            "{placement}"
        );
        for gone in [
            CONTENT_TYPE,
            CONTENT_LENGTH,
            CONTENT_ENCODING,
            CONTENT_LANGUAGE,
            TRANSFER_ENCODING,
        ] {
            assert!(!headers.contains_key(&gone), "{placement}: 304 kept {gone}");
        }
        assert!(body_bytes(response.into_body()).await.is_empty());
        // The handler ran for both: the layer judges its response.
        assert_eq!(counter.get(), 2, "{placement}");
    }
}

#[tokio::test]
async fn if_none_match_uses_weak_comparison_lists_and_several_lines() {
    for (placement, app, _) in in_process_placements(routes, ConditionalLayer::new()) {
        let tag = tag_of(PAGE.as_bytes());
        let weak = format!("W/{tag}");
        let list = format!("\"other\", {weak} ,\"x\"");
        for value in [tag.as_str(), &weak, &list, "*"] {
            let response = oneshot(&app, Method::GET, "/page", &[("if-none-match", value)]).await;
            assert_eq!(
                response.status(),
                StatusCode::NOT_MODIFIED,
                "{placement}: {value}"
            );
        }
        let response = oneshot(
            &app,
            Method::GET,
            "/page",
            &[("if-none-match", "\"other\""), ("if-none-match", &tag)],
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::NOT_MODIFIED,
            "{placement}: two lines"
        );

        for value in ["\"other\"", "W/\"other\", \"x\""] {
            let response = oneshot(&app, Method::GET, "/page", &[("if-none-match", value)]).await;
            assert_eq!(response.status(), StatusCode::OK, "{placement}: {value}");
            assert_eq!(body_bytes(response.into_body()).await, PAGE.as_bytes());
        }
    }
}

#[tokio::test]
async fn malformed_or_hostile_if_none_match_gets_the_full_200() {
    let tag = tag_of(PAGE.as_bytes());
    let unquoted = tag.trim_matches('"').to_owned();
    // 64 KiB of tags, then a member that is not one: the whole field is malformed.
    let huge = format!("{}{tag}, junk", "\"x\", ".repeat(64 * 1024 / 5));
    let trailing_garbage = format!("{tag}, garbage");
    let star_and_tag = format!("*, {tag}");
    for (placement, app, _) in in_process_placements(routes, ConditionalLayer::new()) {
        for value in [&unquoted, &trailing_garbage, &star_and_tag, &huge] {
            let response = oneshot(&app, Method::GET, "/page", &[("if-none-match", value)]).await;
            assert_eq!(
                response.status(),
                StatusCode::OK,
                "{placement}: {:.40}",
                value
            );
            assert_eq!(body_bytes(response.into_body()).await, PAGE.as_bytes());
        }
        // The same 64 KiB list without the junk is valid, and its last tag matches.
        let long_valid = huge.trim_end_matches(", junk");
        let response = oneshot(&app, Method::GET, "/page", &[("if-none-match", long_valid)]).await;
        assert_eq!(
            response.status(),
            StatusCode::NOT_MODIFIED,
            "{placement}: long list"
        );
        // obs-text bytes cannot be written through `&str`; build the header by hand.
        let request = Request::get("/page")
            .header(
                IF_NONE_MATCH,
                HeaderValue::from_bytes(b"\"\xff\xfe\", \x80junk").unwrap(),
            )
            .header(IF_MODIFIED_SINCE, HeaderValue::from_bytes(b"\xff").unwrap())
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{placement}: obs-text");
    }
}

#[tokio::test]
async fn if_match_and_if_unmodified_since_give_412_on_get() {
    let tag = tag_of(PAGE.as_bytes());
    for (placement, app, _) in in_process_placements(routes, ConditionalLayer::new()) {
        let response = oneshot(&app, Method::GET, "/page", &[("if-match", "\"stale\"")]).await;
        assert_eq!(
            response.status(),
            StatusCode::PRECONDITION_FAILED,
            "{placement}"
        );
        assert_eq!(etag(&response), Some(tag.as_str()));
        assert!(!response.headers().contains_key(CACHE_CONTROL));
        assert!(!response.headers().contains_key(CONTENT_TYPE));
        assert_eq!(response.headers().get_all(SET_COOKIE).iter().count(), 2);
        assert!(body_bytes(response.into_body()).await.is_empty());

        let response = oneshot(&app, Method::GET, "/page", &[("if-match", &tag)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{placement}");
        // A weak tag never passes If-Match (strong comparison).
        let weak = format!("W/{tag}");
        let response = oneshot(&app, Method::GET, "/page", &[("if-match", &weak)]).await;
        assert_eq!(
            response.status(),
            StatusCode::PRECONDITION_FAILED,
            "{placement}"
        );

        let response = oneshot(
            &app,
            Method::GET,
            "/dated",
            &[("if-unmodified-since", "Sun, 06 Nov 1994 08:49:36 GMT")],
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::PRECONDITION_FAILED,
            "{placement}"
        );
        let response = oneshot(
            &app,
            Method::GET,
            "/dated",
            &[("if-unmodified-since", DATE)],
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{placement}");
    }
}

#[tokio::test]
async fn if_modified_since_uses_the_handlers_last_modified_in_all_date_forms() {
    for (placement, app, _) in in_process_placements(routes, ConditionalLayer::new()) {
        for since in [
            DATE,
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Mon, 07 Nov 1994 00:00:00 GMT",
        ] {
            let response =
                oneshot(&app, Method::GET, "/dated", &[("if-modified-since", since)]).await;
            assert_eq!(
                response.status(),
                StatusCode::NOT_MODIFIED,
                "{placement}: {since}"
            );
            assert_eq!(response.headers()[LAST_MODIFIED], DATE);
        }
        for since in [
            "Sun, 06 Nov 1994 08:49:36 GMT",
            "Sun, 06 Nov 1994 08:49:37 CET",
            "Sun, 06 Nov 1994 08:49:60 GMT",
            "Sat, 01 Jan 10000 00:00:00 GMT",
            "yesterday",
        ] {
            let response =
                oneshot(&app, Method::GET, "/dated", &[("if-modified-since", since)]).await;
            assert_eq!(response.status(), StatusCode::OK, "{placement}: {since}");
            assert_eq!(
                body_bytes(response.into_body()).await,
                "dated body".as_bytes()
            );
        }
        // Ignored on a response without Last-Modified, and hidden by If-None-Match.
        let response = oneshot(&app, Method::GET, "/page", &[("if-modified-since", DATE)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{placement}");
        let response = oneshot(
            &app,
            Method::GET,
            "/dated",
            &[("if-modified-since", DATE), ("if-none-match", "\"nope\"")],
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{placement}");
    }
}

#[tokio::test]
async fn handler_validators_are_kept_as_they_are() {
    for (placement, app, _) in in_process_placements(routes, ConditionalLayer::new()) {
        let response = oneshot(&app, Method::GET, "/own-etag", &[]).await;
        assert_eq!(etag(&response), Some("\"v1\""), "{placement}");
        assert_eq!(
            body_bytes(response.into_body()).await,
            "handler-tagged".as_bytes()
        );
        let response = oneshot(
            &app,
            Method::GET,
            "/own-etag",
            &[("if-none-match", "W/\"v1\"")],
        )
        .await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{placement}");
        // The 304 names the tag the client holds (a proxy weakened it): a cache freshens only
        // the stored response whose validator the 304 carries (RFC 9111 §4.3.4).
        assert_eq!(etag(&response), Some("W/\"v1\""), "{placement}");

        // A Last-Modified alone still gets a generated tag beside it.
        let response = oneshot(&app, Method::GET, "/dated", &[]).await;
        assert_eq!(etag(&response), Some(tag_of(b"dated body").as_str()));
        assert_eq!(response.headers()[LAST_MODIFIED], DATE);
    }
}

#[tokio::test]
async fn other_methods_and_other_statuses_pass_through() {
    let tag = tag_of(b"item");
    for (placement, app, counter) in in_process_placements(routes, ConditionalLayer::new()) {
        for method in [Method::PUT, Method::POST, Method::DELETE] {
            for headers in [
                [("if-none-match", "*")],
                [("if-match", "\"stale\"")],
                [("if-none-match", tag.as_str())],
            ] {
                let response = oneshot(&app, method.clone(), "/items", &headers).await;
                assert_eq!(
                    response.status(),
                    StatusCode::OK,
                    "{placement}: {method} {headers:?}"
                );
                assert_eq!(etag(&response), None, "{placement}: {method} tagged");
            }
        }
        // The PUT handler ran every time: the layer never hid a write behind a 304 or 412.
        assert_eq!(counter.get(), 3, "{placement}");

        let response = oneshot(&app, Method::GET, "/missing", &[("if-none-match", "*")]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{placement}");
        assert_eq!(etag(&response), None);
        assert_eq!(
            body_bytes(response.into_body()).await,
            "no such thing".as_bytes()
        );
        let response = oneshot(&app, Method::GET, "/missing", &[("if-match", "\"x\"")]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{placement}");

        // A 201 is not a 200: no tag, and If-None-Match cannot make it a 304.
        let response = oneshot(&app, Method::GET, "/created", &[("if-none-match", "*")]).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{placement}");
        assert_eq!(etag(&response), None);

        // no-store responses are never revalidated, so nothing is hashed.
        let response = oneshot(&app, Method::GET, "/private", &[]).await;
        assert_eq!(etag(&response), None, "{placement}");
    }
}

#[tokio::test]
async fn settings_weak_tags_fast_hash_and_skip_predicate() {
    let layer = ConditionalLayer::new().weak_tags(true);
    for (placement, app, _) in in_process_placements(routes, layer) {
        let response = oneshot(&app, Method::GET, "/page", &[]).await;
        let weak = etag(&response).unwrap().to_owned();
        assert_eq!(
            weak,
            format!("W/{}", tag_of(PAGE.as_bytes())),
            "{placement}"
        );
        // Weak comparison: the strong form of the same tag revalidates too.
        let strong = weak.trim_start_matches("W/");
        let response = oneshot(&app, Method::GET, "/page", &[("if-none-match", strong)]).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{placement}");
        // ...but a weak tag can never satisfy If-Match.
        let response = oneshot(&app, Method::GET, "/page", &[("if-match", &weak)]).await;
        assert_eq!(
            response.status(),
            StatusCode::PRECONDITION_FAILED,
            "{placement}"
        );
    }

    #[cfg(feature = "fast-hash")]
    let layer = ConditionalLayer::new().hash(tower_conditional::TagHash::Fast);
    #[cfg(feature = "fast-hash")]
    for (placement, app, _) in in_process_placements(routes, layer) {
        let response = oneshot(&app, Method::GET, "/page", &[]).await;
        let tag = etag(&response).unwrap().to_owned();
        assert_eq!(
            tag,
            common::tag_with(tower_conditional::TagHash::Fast, PAGE.as_bytes()),
            "{placement}"
        );
    }

    let layer = ConditionalLayer::new()
        .skip_when(|info| info.uri().path() == "/page" || info.headers().contains_key(ETAG));
    for (placement, app, _) in in_process_placements(routes, layer) {
        let response = oneshot(&app, Method::GET, "/page", &[]).await;
        assert_eq!(etag(&response), None, "{placement}");
        let response = oneshot(
            &app,
            Method::GET,
            "/own-etag",
            &[("if-none-match", "\"v1\"")],
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{placement}: skipped by header"
        );
        let response = oneshot(&app, Method::GET, "/items", &[]).await;
        assert!(etag(&response).is_some(), "{placement}: not skipped");
    }
}

/// Bodies from the handler as axum users write them: a chunked stream.
#[tokio::test]
async fn chunked_handler_bodies_get_the_tag_of_their_bytes() {
    let whole: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let expected = tag_of(&whole);
    for chunk in [whole.len(), 4096, 1000, 37, 1] {
        let body = whole.clone();
        let app = Router::new()
            .route(
                "/",
                get(move || {
                    let chunks: Vec<Bytes> =
                        body.chunks(chunk).map(Bytes::copy_from_slice).collect();
                    async move { Body::new(Scripted::chunks(chunks)).into_response() }
                }),
            )
            .layer(ConditionalLayer::new());
        let response = app
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(
            response.headers()[ETAG],
            expected.as_str(),
            "chunks of {chunk}"
        );
        assert_eq!(body_bytes(response.into_body()).await, whole);
    }
}

#[tokio::test]
async fn bodies_over_the_limit_pass_through_untagged_and_whole() {
    let whole: Vec<u8> = (0..10_000u32).map(|i| (i % 7) as u8).collect();
    let layer = ConditionalLayer::new().buffer_limit(4096);
    // Discovered midway: no size hint.
    let body = whole.clone();
    let app = Router::new()
        .route(
            "/",
            get(move || {
                let chunks: Vec<Bytes> = body.chunks(1000).map(Bytes::copy_from_slice).collect();
                async move { Body::new(Scripted::chunks(chunks)) }
            }),
        )
        .layer(layer.clone());
    let response = app
        .oneshot(
            Request::get("/")
                .header(IF_NONE_MATCH, "\"some-tag\"")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get(ETAG), None);
    assert_eq!(body_bytes(response.into_body()).await, whole);

    // Known up front: the body is not read before the response is handed on.
    let polled = Arc::new(AtomicUsize::new(0));
    let service = layer.layer(tower::service_fn({
        let polled = polled.clone();
        move |_: Request<Body>| {
            let mut body = Scripted::chunks([vec![1u8; 5000]]).exact();
            body.polled = polled.clone();
            async move { common::infallible(Response::new(body)) }
        }
    }));
    let response = service
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        polled.load(Ordering::SeqCst),
        0,
        "read a body known to be too large"
    );
    assert_eq!(response.headers().get(ETAG), None);
    assert_eq!(body_bytes(response.into_body()).await.len(), 5000);
}

/// The layer is `Clone + Debug + Send + Sync`, the service `Clone` with its inner service, and
/// the response future `Send` when the inner one is: what axum and hyper require.
#[test]
fn layer_service_and_future_have_the_promised_traits() {
    fn layer_traits<T: Clone + std::fmt::Debug + Send + Sync + 'static>() {}
    fn service_traits<T: Clone + Send + Sync>() {}
    fn future_send<T: Send>(_: &T) {}
    layer_traits::<ConditionalLayer>();
    service_traits::<tower_conditional::Conditional<axum::routing::Route>>();
    let mut service =
        ConditionalLayer::new().layer(Router::new().route("/", get(|| async { "x" })));
    future_send(&tower::Service::call(
        &mut service,
        Request::get("/").body(Body::empty()).unwrap(),
    ));
}
