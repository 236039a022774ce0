//! `cargo run --example hyper`
//!
//! The layer around a bare hyper 1 service, no framework: `ServiceBuilder` makes the Tower
//! service, `hyper_util::service::TowerToHyperService` hands it to hyper's HTTP/1 connection.
//! Listens on `$ADDR` (default 127.0.0.1:3002). Try:
//!
//! ```sh
//! curl -i http://127.0.0.1:3002/hello
//! curl -i -H 'If-None-Match: <the etag>' http://127.0.0.1:3002/hello
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tower_conditional::ServiceBuilderExt;

async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
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
    let service = ServiceBuilder::new().conditional().service_fn(hello);
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
