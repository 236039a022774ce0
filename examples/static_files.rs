//! `cargo run --example static_files --features fs -- [DIR]`
//!
//! tower-http's `ServeDir` behind compression and the layer, in the order that keeps strong
//! tags honest: `ConditionalLayer` outside `CompressionLayer`, and each encoding revalidates to
//! a 304 that keeps `Vary: accept-encoding`. The layer adds the `If-Range` handling `ServeDir`
//! lacks.
//!
//! With the `fs` feature, `files::FileTags` tags every file by its bytes instead of
//! `ServeDir`'s modification time and size, so replicas serving copies made at different times
//! agree on every tag, and a file changed to bytes of the same size under the same modification
//! time (the Nix store's) gets a new one. The identity bytes carry the strong content tag; a
//! gzip copy the compression layer made carries the coded tag of the same version, `"…-gzip"`
//! (RFC 9110 §8.8.3.3: one strong tag never names two byte sequences), and revalidates to a
//! 304 with that tag. Nothing else sits between the layer and `ServeDir`: the layer evaluates
//! the preconditions against the content tags and does not hand them on for `ServeDir` to
//! evaluate again against its metadata tag. Without the feature `ServeDir`'s own validators are
//! used.
//!
//! Serves DIR (or `$ROOT`; default: this crate's folder) on `$ADDR` (default 127.0.0.1:3003;
//! port 0 takes a free one, printed on the first line). `MAX_AGE=N` adds
//! `Cache-Control: max-age=N` to every answer (`scripts/e2e-static` puts two of these behind
//! nginx's cache).
//!
//! ```sh
//! curl -i http://127.0.0.1:3003/README.md -o /dev/null                  # identity: content tag
//! curl -i --compressed http://127.0.0.1:3003/README.md -o /dev/null     # gzip: W/ of it
//! curl -i -H 'If-None-Match: <the etag>' http://127.0.0.1:3003/README.md     # 304
//! curl -i -H 'Range: bytes=0-99' -H 'If-Range: <the etag>' http://127.0.0.1:3003/README.md
//! ```

use axum::body::Body;
use http::{HeaderValue, header::CACHE_CONTROL};
use tower::ServiceBuilder;
use tower_conditional::{ConditionalBody, ConditionalLayer};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("ROOT").ok())
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").to_owned());
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3003".to_owned());
    let max_age = match std::env::var("MAX_AGE") {
        Ok(seconds) => {
            let seconds: u32 = seconds.parse().map_err(|_| "MAX_AGE must be seconds")?;
            Some(HeaderValue::from_str(&format!("max-age={seconds}"))?)
        }
        Err(_) => None,
    };
    let service = ServiceBuilder::new()
        // axum::serve wants axum's body type.
        .map_response(|response: http::Response<ConditionalBody<_>>| response.map(Body::new))
        // Outside, so that 304s carry it too (RFC 9110 §15.4.5).
        .option_layer(
            max_age.map(|value| SetResponseHeaderLayer::if_not_present(CACHE_CONTROL, value)),
        )
        .layer(conditional_layer(&dir)) // outside: the tags of the bytes that are sent
        .layer(CompressionLayer::new()) // inside
        .service(ServeDir::new(&dir));
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error} (set ADDR)"))?;
    println!("serving {dir} on http://{}", listener.local_addr()?);
    axum::serve(listener, tower::make::Shared::new(service)).await?;
    Ok(())
}

/// With `fs`: the tags of the files' bytes, known before `ServeDir` runs.
#[cfg(feature = "fs")]
fn conditional_layer(dir: &str) -> ConditionalLayer {
    use http::header::VARY;
    use tower_conditional::files::FileTags;

    // The compression layer inside adds `Vary: accept-encoding` to the 200s; the 304s the
    // layer answers before the handler must repeat it (RFC 9110 §15.4.5).
    let tags = FileTags::new(dir).header(VARY, HeaderValue::from_static("accept-encoding"));
    ConditionalLayer::new().validator_source(tags)
}

#[cfg(not(feature = "fs"))]
fn conditional_layer(_dir: &str) -> ConditionalLayer {
    ConditionalLayer::new()
}
