//! `cargo run --example demo`
//!
//! Serves an HTML page on http://127.0.0.1:3000 (or `$ADDR`) behind `ConditionalLayer`, shows a
//! first request (200 with an ETag) and a revalidation (304, no body) made over real TCP, then
//! keeps serving for curl or a browser until Ctrl-C.

use std::net::SocketAddr;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tower_conditional::ConditionalLayer;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>tower-conditional demo</title></head>
<body>
  <h1>Hello from tower-conditional</h1>
  <p>This page has no ETag of its own: the layer hashed its bytes and added one.</p>
  <p>Reload it with the network panel open: the browser revalidates with
     <code>If-None-Match</code> and the server answers <code>304 Not Modified</code>
     without sending the page again.</p>
</body>
</html>
"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::var("ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
        .parse()?;
    let app = Router::new()
        .route(
            "/",
            get(|| async {
                // no-cache: browsers store the page but revalidate it on every use.
                ([(header::CACHE_CONTROL, "no-cache")], Html(PAGE))
            }),
        )
        .layer(ConditionalLayer::new());

    let listener = TcpListener::bind(addr).await.map_err(|error| {
        format!("cannot listen on {addr}: {error} (set ADDR to another address)")
    })?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    println!("Serving http://{addr}/ with ConditionalLayer\n");

    walk_through(addr).await?;

    println!("\nStill serving. Try it yourself:");
    println!("  curl -i http://{addr}/");
    println!("  curl -i -H 'If-None-Match: <the etag>' http://{addr}/");
    println!("  curl --etag-save /tmp/etag http://{addr}/ -o /dev/null && \\");
    println!("    curl -i --etag-compare /tmp/etag http://{addr}/");
    println!("or open http://{addr}/ in a browser and reload. Ctrl-C stops.");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// A first GET, then a revalidation with the tag it returned, over one real connection.
async fn walk_through(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);

    let request = Request::get("/")
        .header(header::HOST, addr.to_string())
        .body(Empty::<Bytes>::new())?;
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let etag = response
        .headers()
        .get(header::ETAG)
        .cloned()
        .ok_or("the layer did not tag the page")?;
    let status = response.status();
    let full = response.into_body().collect().await?.to_bytes().len();
    println!("1. GET /                      -> {status}, {full} body bytes");
    println!("   ETag: {}", etag.to_str()?);

    let request = Request::get("/")
        .header(header::HOST, addr.to_string())
        .header(header::IF_NONE_MATCH, etag.clone())
        .body(Empty::<Bytes>::new())?;
    // hyper refuses a request ("connection was not ready") while the connection is still
    // finishing the previous response: wait until it can take the next one.
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let sent = response.into_body().collect().await?.to_bytes().len();
    println!("2. GET / with If-None-Match   -> {status}, {sent} body bytes");
    println!(
        "   {} bytes saved: the client already has this version.",
        full - sent
    );
    Ok(())
}
