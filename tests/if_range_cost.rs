//! If-Range costs no more than the range (issue: the last 100 bytes of a large `ServeDir` file
//! with `If-Range` once read the whole file). The layer forwards `Range` and `If-Range`, checks
//! the 206's validators, and asks again without `Range` only when they name another version.
//!
//! Bytes read are counted with `/proc/self/io`'s `rchar`: server and client run in this
//! process, and this file holds one test, so nothing else reads meanwhile.

mod common;

use std::net::SocketAddr;
use std::time::SystemTime;

use axum::Router;
use common::{RawConnection, RawResponse, TempDir, ask, rchar, serve, serve_service};
use tower::ServiceBuilder;
use tower_conditional::ConditionalLayer;
use tower_http::services::ServeDir;

const SIZE: usize = 32 * 1024 * 1024;

/// A GET of `/big.bin` on a new connection, and the bytes this process read meanwhile.
async fn get_counting_reads(addr: SocketAddr, headers: &[(&str, &str)]) -> (RawResponse, u64) {
    let mut connection = RawConnection::open(addr).await;
    let before = rchar();
    let response = connection.send("GET", "/big.bin", headers).await;
    (response, rchar() - before)
}

#[tokio::test(flavor = "current_thread")]
async fn a_range_with_if_range_reads_the_range_only() {
    let dir = TempDir::new("if-range-cost");
    let contents: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    dir.write("big.bin", &contents, SystemTime::now());

    let files = || Router::new().fallback_service(ServeDir::new(dir.path()));
    let bare = serve(files()).await;
    let inside = serve(files().layer(ConditionalLayer::new())).await;
    let around = serve_service(
        ServiceBuilder::new()
            .layer(ConditionalLayer::new())
            .service(files()),
    )
    .await;
    // ServeDir's own tag, from a HEAD that reads no file bytes.
    let head = ask(bare, "HEAD", "/big.bin", &[]).await;
    let tag = head
        .header("etag")
        .expect("ServeDir tags its files")
        .to_owned();

    for (range, first) in [
        ("bytes=-100", SIZE - 100),
        ("bytes=16000000-16000099", 16_000_000),
    ] {
        let (_, without) = get_counting_reads(bare, &[("range", range)]).await;
        for (placement, addr) in [("Router::layer", inside), ("around the router", around)] {
            let (response, read) =
                get_counting_reads(addr, &[("range", range), ("if-range", &tag)]).await;
            assert_eq!(response.status(), 206, "{placement} {range}");
            assert_eq!(
                response.body,
                contents[first..first + 100],
                "{placement} {range}"
            );
            assert!(
                read <= without + 64 * 1024,
                "{placement} {range}: read {read} bytes, {without} without the layer"
            );
        }
    }

    // A range of another version: asked again without Range, the whole file, read once.
    for (placement, addr) in [("Router::layer", inside), ("around the router", around)] {
        let (response, read) = get_counting_reads(
            addr,
            &[("range", "bytes=-100"), ("if-range", "\"another version\"")],
        )
        .await;
        assert_eq!(response.status(), 200, "{placement}");
        assert_eq!(response.body.len(), SIZE, "{placement}");
        assert!(response.body == contents, "{placement}: not the file");
        assert!(
            read < 2 * SIZE as u64 + 1024 * 1024,
            "{placement}: read {read} bytes for a {SIZE}-byte file"
        );
    }
}
