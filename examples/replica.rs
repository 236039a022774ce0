//! `ADDR=127.0.0.1:3001 NAME=a cargo run --example replica --features axum`
//!
//! The origin server that `scripts/e2e` puts behind curl, headless Chromium and an nginx shared
//! cache: an axum app behind `ConditionalLayer` that prints one line per request on stdout,
//!
//! ```text
//! <NAME> <method> <path> <status> inm=<yes|no> ims=<yes|no>
//! ```
//!
//! (`inm`/`ims`: whether the request carried `If-None-Match` / `If-Modified-Since`), so a script
//! can see which requests were revalidations and what the layer answered. Two processes serve
//! identical bytes, so they compute identical entity tags: either one can answer a revalidation
//! for a response the other sent.
//!
//! Routes:
//! - `/`: an HTML page with `Cache-Control: no-cache` (browsers store it and revalidate each use);
//! - `/dated`: a text page whose handler sets `Last-Modified` (no generated tag);
//! - `/cached`: a text page with `Cache-Control: public, max-age=1` for a shared cache;
//! - `/shared`: a larger text page (196 KB, uncompressed) with the same `Cache-Control`,
//!   for the Varnish cache and the compressing nginx proxy of `scripts/e2e-caches`;
//! - `/shared-weak`: the same page with a weak tag (`weak_tags(true)`), the setting for an
//!   origin behind a proxy that compresses: the proxy's 304s then name the tag clients hold;
//! - `/compressed`: a text page behind tower-http's `CompressionLayer`, placed inside the
//!   conditional layer so gzip and identity responses get different strong tags;
//! - `/report`: a deep-ETag handler written the documented way, behind the same compression:
//!   it declares its representation once (`ETag: "rev-17"`, `Cache-Control: max-age=60`),
//!   answers a matching `If-None-Match` itself with `Preconditions::check` before rendering
//!   (the 304 carries what the 200 does), and returns the representation with the body (the
//!   layer gives the gzip bytes the coded tag `"rev-17-gzip"`). `Preconditions` needs the
//!   `axum` feature, hence `--features axum`.

use std::net::SocketAddr;
use std::sync::{LazyLock, OnceLock};

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, header};
use tokio::net::TcpListener;
use tower_conditional::{ConditionalLayer, Early, EntityTag, Preconditions, Representation};
use tower_http::compression::CompressionLayer;

/// The page Chromium loads; the script looks for this marker in the DOM it dumps.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>replica</title></head>
<body><h1 id="marker">tower-conditional replica page</h1></body>
</html>
"#;

/// This process's name in the log (`$NAME`).
static NAME: OnceLock<String> = OnceLock::new();

/// Repeated into a body worth compressing.
const COMPRESSIBLE: &str = "the same line, gzip or identity\n";

/// Repeated into `/report`'s body, which is long enough for tower-http to compress.
const REPORT_LINE: &str = "revision 17 of the report, rendered only when the client lacks it\n";

/// The body of `/shared`: numbered lines, the same in every process.
static SHARED: LazyLock<String> = LazyLock::new(|| {
    (1..=4000)
        .map(|line| format!("line {line:04} of the page every replica serves alike\n"))
        .collect()
});

/// A fixed modification date, so `If-Modified-Since` with any later date is a 304.
const LAST_MODIFIED: &str = "Wed, 21 Oct 2015 07:28:00 GMT";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::var("ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3001".to_owned())
        .parse()?;
    let name = std::env::var("NAME").unwrap_or_else(|_| "replica".to_owned());
    NAME.get_or_init(|| name);

    let app = Router::new()
        .route(
            "/",
            get(|| async { ([(header::CACHE_CONTROL, "no-cache")], Html(PAGE)) }),
        )
        .route(
            "/dated",
            get(|| async { ([(header::LAST_MODIFIED, LAST_MODIFIED)], "dated content\n") }),
        )
        .route(
            "/cached",
            get(|| async {
                (
                    [(header::CACHE_CONTROL, "public, max-age=1")],
                    "shared-cache content\n",
                )
            }),
        )
        .route(
            "/shared",
            get(|| async {
                (
                    [(header::CACHE_CONTROL, "public, max-age=1")],
                    SHARED.as_str(),
                )
            }),
        )
        .route(
            "/shared-weak",
            get(|| async {
                (
                    [(header::CACHE_CONTROL, "public, max-age=1")],
                    SHARED.as_str(),
                )
            })
            // Tags W/"…" before the outer layer sees the response, which keeps them.
            .layer(ConditionalLayer::new().weak_tags(true)),
        )
        .route(
            "/compressed",
            // Compression inside the conditional layer: each encoding gets its own strong tag.
            get(|| async { COMPRESSIBLE.repeat(100) }).layer(CompressionLayer::new()),
        )
        .route(
            "/report",
            // The same placement: the handler's own 304s pass through the compression too.
            get(report).layer(CompressionLayer::new()),
        )
        .layer(ConditionalLayer::new())
        // Outside the conditional layer, so the log shows the status the client got.
        .layer(middleware::from_fn(log));

    let listener = TcpListener::bind(addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error}"))?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// A deep entity tag, as the `Preconditions` documentation writes it: the representation
/// (its tag, e.g. a revision read from a database, and the headers its 200 carries) is
/// declared once, a request that already has it gets its 304 before the expensive rendering,
/// and the 200 carries the same declaration.
async fn report(preconditions: Preconditions) -> Result<impl IntoResponse, Early> {
    let revision = 17; // e.g. SELECT revision FROM reports WHERE id = $1
    let current = Representation::new()
        .with_etag(EntityTag::strong(format!("rev-{revision}")).expect("a valid entity tag"))
        .with_header(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=60"),
        );
    preconditions.check(Some(&current))?; // 304 (or 412) with the ETag and Cache-Control
    Ok((current, REPORT_LINE.repeat(100)))
}

/// Prints one line per request: who answered, what was asked, and what was answered.
async fn log(request: Request, next: Next) -> Response {
    let name = NAME.get().map_or("replica", String::as_str);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let inm = yes_no(request.headers().contains_key(header::IF_NONE_MATCH));
    let ims = yes_no(request.headers().contains_key(header::IF_MODIFIED_SINCE));
    let response = next.run(request).await;
    println!(
        "{name} {method} {path} {} inm={inm} ims={ims}",
        response.status().as_u16()
    );
    response
}

fn yes_no(present: bool) -> &'static str {
    if present { "yes" } else { "no" }
}
