//! Validators known before the handler (issue: skip the handler, stop lost updates), through the
//! `versioned_store` example (on SQLite, in memory or in a file) served on 127.0.0.1 and a real
//! hyper client. `scripts/e2e-postgres` runs the same store on PostgreSQL, two replicas at once.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../examples/versioned_store.rs"]
#[allow(dead_code)]
mod versioned_store;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use common::{Counter, Reply, WAIT, serve};
use http::header::{
    CACHE_CONTROL, CONTENT_LOCATION, ETAG, EXPIRES, IF_MATCH, IF_NONE_MATCH, LAST_MODIFIED, VARY,
};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tower::BoxError;
use tower_conditional::source::Current;
use tower_conditional::{ConditionalLayer, EntityTag, Representation};
use versioned_store::{Store, app, app_with, layer, store_source, version_tag};

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn send(
    client: &HttpClient,
    method: Method,
    url: &str,
    headers: &[(&http::HeaderName, &str)],
    body: &str,
) -> Reply {
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if !body.is_empty() {
        request = request.header(http::header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .unwrap();
    let response = tokio::time::timeout(WAIT, client.request(request))
        .await
        .expect("answer in time")
        .unwrap();
    Reply::read(response).await
}

fn in_memory() -> Arc<Store> {
    Arc::new(Store::sqlite_in_memory().expect("SQLite in memory"))
}

async fn stored(store: &Store, id: &str) -> Option<serde_json::Value> {
    let item = store.get(id).await.expect("the database answers");
    item.map(|item| item.value)
}

async fn store_server() -> (Arc<Store>, String) {
    let store = in_memory();
    let addr = serve(app(store.clone())).await;
    (store, format!("http://{addr}/items"))
}

#[tokio::test]
async fn handlers_do_not_run_for_304_and_412() {
    let (store, items) = store_server().await;
    let client = client();
    let url = format!("{items}/1");

    let created = send(
        &client,
        Method::PUT,
        &url,
        &[(&IF_NONE_MATCH, "*")],
        r#"{"name":"one"}"#,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let tag = created.headers[ETAG].to_str().unwrap().to_owned();

    let shown = send(&client, Method::GET, &url, &[], "").await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.headers[ETAG], tag.as_str());
    assert_eq!(shown.body, r#"{"name":"one"}"#.as_bytes());
    assert_eq!(store.gets.load(Ordering::SeqCst), 1);

    for method in [Method::GET, Method::HEAD] {
        let revalidated = send(&client, method, &url, &[(&IF_NONE_MATCH, &tag)], "").await;
        assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
        assert_eq!(revalidated.headers[ETAG], tag.as_str());
        assert_eq!(revalidated.headers[CACHE_CONTROL], "no-cache");
    }
    assert_eq!(
        store.gets.load(Ordering::SeqCst),
        1,
        "GET handler ran for a 304"
    );

    let writes = store.writes.load(Ordering::SeqCst);
    let stale = send(
        &client,
        Method::PUT,
        &url,
        &[(&IF_MATCH, "\"v999\"")],
        r#"{"x":1}"#,
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        stale.headers[ETAG],
        tag.as_str(),
        "the 412 tells the current tag"
    );
    let stale = send(
        &client,
        Method::DELETE,
        &url,
        &[(&IF_MATCH, "\"v999\"")],
        "",
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        store.writes.load(Ordering::SeqCst),
        writes,
        "a write handler ran for a 412"
    );
    // RFC 9110 §13.2.1: a DELETE or PATCH of a missing item is the handler's 404, whatever
    // its preconditions say; a PUT, which may create it, is judged.
    for method in [Method::DELETE, Method::PATCH] {
        let missing = send(
            &client,
            method.clone(),
            &format!("{items}/nope"),
            &[(&IF_MATCH, "*")],
            "{}",
        )
        .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{method}");
    }
    let missing = send(
        &client,
        Method::PUT,
        &format!("{items}/nope"),
        &[(&IF_MATCH, "\"v1\"")],
        "{}",
    )
    .await;
    assert_eq!(missing.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stored(&store, "nope").await, None);
    // The 404s came from the handlers; the 412 did not.
    assert_eq!(store.writes.load(Ordering::SeqCst), writes + 2);
    let writes = writes + 2;
    assert_eq!(stored(&store, "1").await.unwrap()["name"], "one");

    // A matching If-Match goes through, and the handler runs once.
    let updated = send(
        &client,
        Method::PUT,
        &url,
        &[(&IF_MATCH, &tag)],
        r#"{"name":"two"}"#,
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(store.writes.load(Ordering::SeqCst), writes + 1);
    let old = send(&client, Method::GET, &url, &[(&IF_NONE_MATCH, &tag)], "").await;
    assert_eq!(
        old.status,
        StatusCode::OK,
        "the old tag no longer revalidates"
    );
    assert_eq!(old.body, r#"{"name":"two"}"#.as_bytes());
}

// Two worker threads, so both writers can pass the check before either writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_with_the_same_if_match_lose_nothing() {
    let (store, items) = store_server().await;
    let client = client();
    for round in 0..300 {
        let url = format!("{items}/race-{round}");
        let created = send(
            &client,
            Method::PUT,
            &url,
            &[(&IF_NONE_MATCH, "*")],
            r#"{"writer":"none"}"#,
        )
        .await;
        let tag = created.headers[ETAG].to_str().unwrap().to_owned();
        let writers = ["a", "b"].map(|writer| {
            let client = client.clone();
            let url = url.clone();
            let tag = tag.clone();
            tokio::spawn(async move {
                let body = format!(r#"{{"writer":"{writer}"}}"#);
                let answer = send(&client, Method::PUT, &url, &[(&IF_MATCH, &tag)], &body).await;
                (writer, answer.status)
            })
        });
        let mut winners = Vec::new();
        for writer in writers {
            let (name, status) = writer.await.unwrap();
            match status {
                StatusCode::OK => winners.push(name),
                StatusCode::PRECONDITION_FAILED => {}
                other => panic!("round {round}: unexpected {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        // The stored value is the winner's: the loser was told (412), nothing was overwritten.
        let value = stored(&store, &format!("race-{round}")).await.unwrap();
        assert_eq!(value["writer"], winners[0], "round {round}");
    }
}

#[tokio::test]
async fn if_none_match_star_creates_once() {
    let (store, items) = store_server().await;
    let client = client();
    let url = format!("{items}/only-once");
    let first = send(
        &client,
        Method::PUT,
        &url,
        &[(&IF_NONE_MATCH, "*")],
        r#"{"n":1}"#,
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED);
    for attempt in 0..3 {
        let again = send(
            &client,
            Method::PUT,
            &url,
            &[(&IF_NONE_MATCH, "*")],
            r#"{"n":2}"#,
        )
        .await;
        assert_eq!(
            again.status,
            StatusCode::PRECONDITION_FAILED,
            "attempt {attempt}"
        );
    }
    assert_eq!(stored(&store, "only-once").await.unwrap()["n"], 1);
}

#[tokio::test]
async fn an_item_deleted_and_created_again_never_reuses_a_tag() {
    let (store, items) = store_server().await;
    let client = client();
    let url = format!("{items}/again");
    let first = send(
        &client,
        Method::PUT,
        &url,
        &[(&IF_NONE_MATCH, "*")],
        r#"{"life":1}"#,
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let old_tag = first.headers[ETAG].to_str().unwrap().to_owned();
    let deleted = send(&client, Method::DELETE, &url, &[(&IF_MATCH, &old_tag)], "").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = send(&client, Method::GET, &url, &[], "").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(stored(&store, "again").await, None);

    let second = send(
        &client,
        Method::PUT,
        &url,
        &[(&IF_NONE_MATCH, "*")],
        r#"{"life":2}"#,
    )
    .await;
    assert_eq!(second.status, StatusCode::CREATED);
    let new_tag = second.headers[ETAG].to_str().unwrap().to_owned();
    assert_ne!(
        new_tag, old_tag,
        "the second life reuses the first one's tag"
    );
    // A copy of the first life does not revalidate, nor does a write based on it go through.
    let old = send(
        &client,
        Method::GET,
        &url,
        &[(&IF_NONE_MATCH, &old_tag)],
        "",
    )
    .await;
    assert_eq!(old.status, StatusCode::OK);
    assert_eq!(old.body, r#"{"life":2}"#.as_bytes());
    let stale = send(
        &client,
        Method::PUT,
        &url,
        &[(&IF_MATCH, &old_tag)],
        r#"{"life":1}"#,
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stored(&store, "again").await.unwrap()["life"], 2);
}

/// Where writes need not be conditional (the layer without `require_preconditions`), only a
/// request with preconditions may get a 412: unconditional writes racing each other all
/// succeed (the last one wins), exactly one of them creating the item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unconditional_writes_all_succeed() {
    let store = in_memory();
    let layer = ConditionalLayer::new().validator_source(store_source(store.clone()));
    let items = format!(
        "http://{}/items",
        serve(app_with(store.clone(), layer)).await
    );
    let client = client();
    for round in 0..100 {
        let url = format!("{items}/free-{round}");
        let writers = ["a", "b"].map(|writer| {
            let client = client.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let body = format!(r#"{{"writer":"{writer}"}}"#);
                (writer, send(&client, Method::PUT, &url, &[], &body).await)
            })
        });
        let mut statuses = Vec::new();
        let mut tags = Vec::new();
        for writer in writers {
            let (name, answer) = writer.await.unwrap();
            statuses.push(answer.status);
            tags.push((answer.headers[ETAG].to_str().unwrap().to_owned(), name));
        }
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CREATED],
            "round {round}"
        );
        // The last write, the one with the newer version, is the one stored.
        tags.sort();
        let value = stored(&store, &format!("free-{round}")).await.unwrap();
        assert_eq!(value["writer"], tags[1].1, "round {round}: {tags:?}");
        assert_eq!(tags[0].0, "\"v1\"", "round {round}");
        assert_eq!(tags[1].0, "\"v2\"", "round {round}");
    }
}

/// Two replicas, each with its own connection to one SQLite file: there is no lock in the
/// process to fall back on, and the compare-and-swap in SQL still lets exactly one of two
/// writers with the same `If-Match` win; the other replica then revalidates the winner's tag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_a_sqlite_file_lose_nothing() {
    let path = std::env::temp_dir().join(format!(
        "tower-conditional-store-{}-{}.db",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let path_text = path.to_str().unwrap().to_owned();
    /// Removes the database files however the test ends.
    struct RemoveOnDrop(String);
    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0));
            }
        }
    }
    let _remove = RemoveOnDrop(path_text.clone());
    let stores = [(); 2].map(|()| Arc::new(Store::sqlite_file(&path_text).expect("SQLite file")));
    let mut replicas = Vec::new();
    for store in &stores {
        replicas.push(format!("http://{}/items", serve(app(store.clone())).await));
    }
    let client = client();
    for round in 0..100 {
        let urls = replicas
            .iter()
            .map(|items| format!("{items}/shared-{round}"))
            .collect::<Vec<_>>();
        let created = send(
            &client,
            Method::PUT,
            &urls[round % 2],
            &[(&IF_NONE_MATCH, "*")],
            r#"{"w":"-"}"#,
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "round {round}");
        let tag = created.headers[ETAG].to_str().unwrap().to_owned();
        let writers = urls.iter().enumerate().map(|(writer, url)| {
            let client = client.clone();
            let url = url.clone();
            let tag = tag.clone();
            tokio::spawn(async move {
                let body = format!(r#"{{"w":"{writer}"}}"#);
                let answer = send(&client, Method::PUT, &url, &[(&IF_MATCH, &tag)], &body).await;
                (writer, answer)
            })
        });
        let mut winners = Vec::new();
        for writer in writers.collect::<Vec<_>>() {
            let (writer, answer) = writer.await.unwrap();
            match answer.status {
                StatusCode::OK => winners.push((writer, answer.headers[ETAG].clone())),
                StatusCode::PRECONDITION_FAILED => {}
                other => panic!("round {round}: unexpected {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}");
        let (winner, winning_tag) = &winners[0];
        for store in &stores {
            let value = stored(store, &format!("shared-{round}")).await.unwrap();
            assert_eq!(value["w"], winner.to_string(), "round {round}");
        }
        // Either replica knows the winner's version.
        for url in &urls {
            let answer = send(
                &client,
                Method::GET,
                url,
                &[(&IF_NONE_MATCH, winning_tag.to_str().unwrap())],
                "",
            )
            .await;
            assert_eq!(answer.status, StatusCode::NOT_MODIFIED, "round {round}");
        }
    }
}

#[tokio::test]
async fn a_failing_source_refuses_conditional_writes_and_keeps_reads_working() {
    let store = in_memory();
    let healthy = serve(app(store.clone())).await;
    let failing = serve(app_with(
        store.clone(),
        layer(|_: &http::request::Parts| async {
            Err::<Current, BoxError>("database unreachable".into())
        }),
    ))
    .await;
    let slow = serve(app_with(
        store.clone(),
        layer(|_: &http::request::Parts| async {
            // A lookup that never finishes, bounded by the caller's timeout: a timeout is an
            // error.
            tokio::time::timeout(Duration::from_millis(50), std::future::pending::<Current>())
                .await
                .map_err(|elapsed| -> BoxError { Box::new(elapsed) })
        }),
    ))
    .await;
    let client = client();
    let created = send(
        &client,
        Method::PUT,
        &format!("http://{healthy}/items/kept"),
        &[(&IF_NONE_MATCH, "*")],
        r#"{"k":1}"#,
    )
    .await;
    let tag = created.headers[ETAG].to_str().unwrap().to_owned();

    for addr in [failing, slow] {
        let url = format!("http://{addr}/items/kept");
        let writes = store.writes.load(Ordering::SeqCst);
        let refused = send(&client, Method::DELETE, &url, &[(&IF_MATCH, &tag)], "").await;
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(String::from_utf8_lossy(&refused.body).contains("not performed"));
        let refused = send(
            &client,
            Method::PUT,
            &url,
            &[(&IF_MATCH, &tag)],
            r#"{"k":2}"#,
        )
        .await;
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            store.writes.load(Ordering::SeqCst),
            writes,
            "a handler ran unchecked"
        );
        assert_eq!(
            stored(&store, "kept").await.unwrap()["k"],
            1,
            "the item is still there"
        );

        // Reads fall back to judging the handler's response.
        let read = send(&client, Method::GET, &url, &[(&IF_NONE_MATCH, &tag)], "").await;
        assert_eq!(read.status, StatusCode::NOT_MODIFIED);
        let read = send(&client, Method::GET, &url, &[], "").await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(read.body, r#"{"k":1}"#.as_bytes());
    }
}

/// The same page behind the layer with a source and without: a client ends with the same cached
/// state whichever path made its 304.
#[tokio::test]
async fn a_304_from_the_source_updates_a_cache_like_one_from_the_handler() {
    const MODIFIED: u64 = 1_700_000_000;
    fn page_headers() -> [(http::HeaderName, &'static str); 4] {
        [
            (CACHE_CONTROL, "max-age=60"),
            (EXPIRES, "Thu, 01 Dec 2094 16:00:00 GMT"),
            (VARY, "accept-language"),
            (CONTENT_LOCATION, "/page.en"),
        ]
    }
    let tag = EntityTag::strong("page-3").unwrap();
    let runs = Counter::default();
    let routes = |runs: Counter, tag: EntityTag| {
        Router::new().route(
            "/page",
            get(move || {
                runs.hit();
                let tag = HeaderValue::from(&tag);
                async move {
                    let modified =
                        httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(MODIFIED));
                    let mut headers = HeaderMap::new();
                    for (name, value) in page_headers() {
                        headers.insert(name, value.parse().unwrap());
                    }
                    headers.insert(ETAG, tag);
                    headers.insert(LAST_MODIFIED, modified.parse().unwrap());
                    (headers, "page body")
                }
            }),
        )
    };
    let core = serve(routes(Counter::default(), tag.clone()).layer(ConditionalLayer::new())).await;
    let source_tag = tag.clone();
    let sourced = serve(routes(runs.clone(), tag.clone()).layer(
        ConditionalLayer::new().validator_source(move |_: &http::request::Parts| {
            let mut representation = Representation::new()
                .with_etag(source_tag.clone())
                .with_last_modified(UNIX_EPOCH + Duration::from_secs(MODIFIED));
            for (name, value) in page_headers() {
                representation = representation.with_header(name, value.parse().unwrap());
            }
            async move { Ok::<_, BoxError>(Current::Exists(representation)) }
        }),
    ))
    .await;
    let client = client();
    let validator = tag.to_string();
    let mut answers = Vec::new();
    for addr in [core, sourced] {
        let answer = send(
            &client,
            Method::GET,
            &format!("http://{addr}/page"),
            &[(&IF_NONE_MATCH, &validator)],
            "",
        )
        .await;
        assert_eq!(answer.status, StatusCode::NOT_MODIFIED);
        answers.push(answer.headers);
    }
    assert_eq!(runs.get(), 0, "the sourced handler ran for a 304");
    for name in [
        ETAG,
        LAST_MODIFIED,
        CACHE_CONTROL,
        EXPIRES,
        VARY,
        CONTENT_LOCATION,
    ] {
        assert_eq!(answers[0].get(&name), answers[1].get(&name), "{name}");
        assert!(answers[0].contains_key(&name), "{name} missing");
    }
}

#[tokio::test]
async fn proceeding_responses_get_the_sources_validators_without_hashing() {
    let tag = EntityTag::strong("from-source").unwrap();
    let source_tag = tag.clone();
    let app = Router::new()
        .route("/", get(|| async { "no tag from the handler" }))
        .layer(
            ConditionalLayer::new().validator_source(move |_: &http::request::Parts| {
                let representation = Representation::new()
                    .with_etag(source_tag.clone())
                    .with_header(CACHE_CONTROL, "no-cache".parse().unwrap());
                async move { Ok::<_, BoxError>(Current::Exists(representation)) }
            }),
        );
    let addr = serve(app).await;
    let client = client();
    let answer = send(&client, Method::GET, &format!("http://{addr}/"), &[], "").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers[ETAG], tag.to_string().as_str());
    assert_eq!(answer.headers[CACHE_CONTROL], "no-cache");
    assert_eq!(answer.body, "no tag from the handler".as_bytes());
    let head = send(&client, Method::HEAD, &format!("http://{addr}/"), &[], "").await;
    assert_eq!(head.headers[ETAG], tag.to_string().as_str());
}

#[tokio::test]
async fn unknown_resources_fall_back_to_the_handler() {
    let store = in_memory();
    // Paths outside /items/ are Unknown to the store's source.
    let app = Router::new()
        .route("/about", get(|| async { "about page" }))
        .layer(ConditionalLayer::new().validator_source(store_source(store)));
    let addr = serve(app).await;
    let client = client();
    let answer = send(
        &client,
        Method::GET,
        &format!("http://{addr}/about"),
        &[],
        "",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let tag = answer.headers[ETAG].to_str().unwrap().to_owned();
    assert_ne!(tag, version_tag(0).to_string());
    let answer = send(
        &client,
        Method::GET,
        &format!("http://{addr}/about"),
        &[(&IF_NONE_MATCH, &tag)],
        "",
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_MODIFIED);
}
