//! Over real TCP on 127.0.0.1: what a 304 looks like on the wire, that the connection goes on
//! serving, and the layer around a bare hyper 1 service.

mod common;

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use common::{RawConnection, WAIT, send, serve, serve_service};
use http::{Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceBuilder;
use tower_conditional::ConditionalLayer;

const PAGE: &str = "<!doctype html><h1>wire</h1>";

fn app() -> Router {
    Router::new().route(
        "/",
        get(|| async {
            (
                [
                    (header::CACHE_CONTROL, "max-age=0, must-revalidate"),
                    (header::SET_COOKIE, "seen=1"),
                    (header::CONTENT_TYPE, "text/html"),
                ],
                PAGE,
            )
        }),
    )
}

/// The layer inside the router and around it, each served on its own port.
async fn servers() -> Vec<(&'static str, std::net::SocketAddr)> {
    let inside = serve(app().layer(ConditionalLayer::new())).await;
    let outside = serve_service(
        ServiceBuilder::new()
            .layer(ConditionalLayer::new())
            .service(app()),
    )
    .await;
    vec![("Router::layer", inside), ("ServiceBuilder", outside)]
}

#[tokio::test]
async fn the_304_on_the_wire_and_the_next_request_on_the_same_connection() {
    for (placement, addr) in servers().await {
        let mut connection = RawConnection::open(addr).await;
        let first = connection.send("GET", "/", &[]).await;
        assert_eq!(first.status(), 200, "{placement}");
        assert_eq!(first.body, PAGE.as_bytes());
        let etag = first.header("etag").unwrap().to_owned();
        assert_eq!(
            first.header("content-length"),
            Some(PAGE.len().to_string().as_str())
        );

        let second = connection
            .send("GET", "/", &[("if-none-match", &etag)])
            .await;
        assert_eq!(
            second.status_line, "HTTP/1.1 304 Not Modified",
            "{placement}"
        );
        assert_eq!(second.header("etag"), Some(etag.as_str()));
        assert_eq!(
            second.header("cache-control"),
            Some("max-age=0, must-revalidate")
        );
        assert_eq!(second.all("set-cookie"), ["seen=1"]);
        assert!(second.header("date").is_some(), "{placement}");
        for absent in ["content-length", "transfer-encoding", "content-type"] {
            assert_eq!(second.header(absent), None, "{placement}: 304 has {absent}");
        }

        // The connection is still good, and the next answer is read correctly after the 304.
        let third = connection.send("GET", "/", &[]).await;
        assert_eq!(third.status(), 200, "{placement}");
        assert_eq!(third.body, PAGE.as_bytes());

        // HEAD: inside the router the layer sees GET's body (axum empties it outside the
        // layer) and tags it; around the router the body is gone before the layer sees it, so
        // HEAD has no tag (RFC 9110 §9.3.2 allows it) and cannot be answered with a 304. The
        // length is GET's in both.
        let inside = placement == "Router::layer";
        let head = connection.send("HEAD", "/", &[]).await;
        assert_eq!(head.status(), 200, "{placement}");
        assert_eq!(
            head.header("etag"),
            inside.then_some(etag.as_str()),
            "{placement}"
        );
        assert_eq!(
            head.header("content-length"),
            Some(PAGE.len().to_string().as_str())
        );
        let head = connection
            .send("HEAD", "/", &[("if-none-match", &etag)])
            .await;
        if inside {
            assert_eq!(head.status(), 304, "{placement}");
            assert_eq!(head.header("content-length"), None, "{placement}");
        } else {
            assert_eq!(head.status(), 200, "{placement}");
            assert_eq!(
                head.header("content-length"),
                Some(PAGE.len().to_string().as_str())
            );
        }

        let last = connection
            .send("GET", "/", &[("if-none-match", "\"other\"")])
            .await;
        assert_eq!(last.status(), 200, "{placement}");
        assert_eq!(last.body, PAGE.as_bytes());
    }
}

#[tokio::test]
async fn a_hyper_client_revalidates_over_one_kept_alive_connection() {
    for (placement, addr) in servers().await {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        let driver = tokio::spawn(connection);

        let mut etag = None;
        for round in 0..5 {
            let mut request = Request::get("/").header(header::HOST, "127.0.0.1");
            if let Some(tag) = &etag {
                request = request.header(header::IF_NONE_MATCH, tag);
            }
            // The connection may still be finishing the previous response: `send` waits for
            // `ready()` first.
            let response = send(&mut sender, request.body(Empty::<Bytes>::new()).unwrap()).await;
            let status = response.status();
            let tag = response.headers()[header::ETAG].clone();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            if round == 0 {
                assert_eq!(status, StatusCode::OK, "{placement}");
                assert_eq!(body, PAGE.as_bytes());
                etag = Some(tag);
            } else {
                assert_eq!(
                    status,
                    StatusCode::NOT_MODIFIED,
                    "{placement} round {round}"
                );
                assert!(body.is_empty());
                assert_eq!(Some(tag), etag);
            }
        }
        drop(sender);
        tokio::time::timeout(WAIT, driver)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

#[tokio::test]
async fn around_a_bare_hyper_service() {
    // The layer asks for request bodies it can make empty (`Default`); hyper's `Incoming` is
    // boxed into one first.
    let service = ServiceBuilder::new()
        .map_request(|request: Request<Incoming>| request.map(BodyExt::boxed))
        .layer(ConditionalLayer::new())
        .service_fn(
            |request: Request<BoxBody<Bytes, hyper::Error>>| async move {
                let body = format!("you asked for {}", request.uri().path());
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
            },
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // Serve a bounded number of connections, then stop.
        for _ in 0..2 {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });

    let mut connection = RawConnection::open(addr).await;
    let first = connection.send("GET", "/hyper", &[]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.body, b"you asked for /hyper");
    let etag = first.header("etag").unwrap().to_owned();
    let second = connection
        .send("GET", "/hyper", &[("if-none-match", &etag)])
        .await;
    assert_eq!(second.status_line, "HTTP/1.1 304 Not Modified");
    assert_eq!(second.header("content-length"), None);
    assert_eq!(second.header("transfer-encoding"), None);
    let other = connection
        .send("GET", "/other", &[("if-none-match", &etag)])
        .await;
    assert_eq!(other.status(), 200);
    assert_eq!(other.body, b"you asked for /other");

    // A second client gets the same tag for the same bytes.
    let mut again = RawConnection::open(addr).await;
    let response = again.send("HEAD", "/hyper", &[]).await;
    assert_eq!(response.header("etag"), Some(etag.as_str()));
    assert_eq!(response.header("content-length"), Some("20"));
    tokio::time::sleep(Duration::from_millis(1)).await;
}
