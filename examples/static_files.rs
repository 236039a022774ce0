//! `cargo run --example static_files -- [DIR]`
//!
//! tower-http's `ServeDir` behind compression and the layer, in the order that keeps strong
//! tags honest: `ConditionalLayer` outside `CompressionLayer`, so gzip and identity bodies get
//! different tags, and each revalidates to a 304 that keeps `Vary: accept-encoding`. `ServeDir`'s
//! own `ETag` and `Last-Modified` are used for files it serves uncompressed; the layer adds the
//! `If-Range` handling `ServeDir` lacks. Serves DIR (default: this crate's folder) on `$ADDR`
//! (default 127.0.0.1:3003).
//!
//! ```sh
//! curl -i http://127.0.0.1:3003/README.md -o /dev/null                  # identity: ServeDir's tag
//! curl -i --compressed http://127.0.0.1:3003/README.md -o /dev/null     # gzip: its own strong tag
//! curl -i -H 'Range: bytes=0-99' -H 'If-Range: <the etag>' http://127.0.0.1:3003/README.md
//! ```

use axum::body::Body;
use tower::ServiceBuilder;
use tower_conditional::{ConditionalBody, ConditionalLayer};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").to_owned());
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3003".to_owned());
    let service = ServiceBuilder::new()
        // axum::serve wants axum's body type.
        .map_response(|response: http::Response<ConditionalBody<_>>| response.map(Body::new))
        .layer(ConditionalLayer::new()) // outside: tags the bytes that are sent
        .layer(CompressionLayer::new()) // inside
        .service(ServeDir::new(&dir));
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error} (set ADDR)"))?;
    println!("serving {dir} on http://{}", listener.local_addr()?);
    axum::serve(listener, tower::make::Shared::new(service)).await?;
    Ok(())
}
