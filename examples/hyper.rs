//! `cargo run --example hyper`
//!
//! The layer around a bare hyper 1 service, no framework: `ServiceBuilder` makes the Tower
//! service, `hyper_util::service::TowerToHyperService` hands it to hyper's HTTP/1 connection.
//! Request bodies are boxed first: the layer needs one it can make empty (`Default`).
//! Listens on `$ADDR` (default 127.0.0.1:3002). Try:
//!
//! ```sh
//! curl -i http://127.0.0.1:3002/hello
//! curl -i -H 'If-None-Match: <the etag>' http://127.0.0.1:3002/hello
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tower_conditional::ServiceBuilderExt;

async fn hello(
    request: Request<BoxBody<Bytes, hyper::Error>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("Hello from {} via bare hyper\n", request.uri().path());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3002".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error} (set ADDR)"))?;
    println!(
        "bare hyper with ConditionalLayer on http://{}",
        listener.local_addr()?
    );
    // The layer may ask again for a GET whose range turned out stale, with an empty request
    // body: it needs a body type that has one (`Default`), which hyper's `Incoming` is not, so
    // it is boxed first.
    let service = ServiceBuilder::new()
        .map_request(|request: Request<Incoming>| request.map(BodyExt::boxed))
        .conditional()
        .service_fn(hello);
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection error: {error}");
            }
        });
    }
}
