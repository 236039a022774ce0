//! If-Range (RFC 9110 §13.1.5) in front of `tower_http::services::ServeDir`, which ignores it:
//! a resumed download of a file that changed must get the whole new file, never a range of it
//! stitched onto the old one.

mod common;

use std::time::SystemTime;

use common::{RawConnection, RawResponse, TempDir, at, serve_service};
use tower::{BoxError, ServiceBuilder};
use tower_conditional::source::Current;
use tower_conditional::{ConditionalLayer, Representation};
use tower_http::services::ServeDir;

fn version(byte: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| byte.wrapping_add((i % 13) as u8))
        .collect()
}

async fn get(connection: &mut RawConnection, headers: &[(&str, &str)]) -> RawResponse {
    connection.send("GET", "/download.bin", headers).await
}

#[tokio::test]
async fn without_a_source_a_changed_file_is_sent_whole() {
    let dir = TempDir::new("if-range-core");
    let old = version(1, 5000);
    dir.write("download.bin", &old, at(1_700_000_000));
    let addr = serve_service(
        ServiceBuilder::new()
            .layer(ConditionalLayer::new())
            .service(ServeDir::new(dir.path())),
    )
    .await;
    let mut connection = RawConnection::open(addr).await;

    let first = get(&mut connection, &[]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.body, old);
    let etag = first.header("etag").unwrap().to_owned();
    let modified = first.header("last-modified").unwrap().to_owned();

    // Unchanged: the range is served, and it is the right part of the file.
    for validator in [etag.as_str(), modified.as_str()] {
        let resumed = get(
            &mut connection,
            &[("range", "bytes=1000-"), ("if-range", validator)],
        )
        .await;
        assert_eq!(resumed.status(), 206, "If-Range: {validator}");
        assert_eq!(
            resumed.header("content-range"),
            Some("bytes 1000-4999/5000")
        );
        assert_eq!(resumed.body, old[1000..]);
    }
    let middle = get(
        &mut connection,
        &[("range", "bytes=10-19"), ("if-range", &etag)],
    )
    .await;
    assert_eq!(middle.status(), 206);
    assert_eq!(middle.body, old[10..20]);
    let suffix = get(
        &mut connection,
        &[("range", "bytes=-7"), ("if-range", &etag)],
    )
    .await;
    assert_eq!(suffix.body, old[4993..]);

    // The file changes between the two requests: same size, new content, new time.
    let new = version(2, 5000);
    dir.write("download.bin", &new, at(1_700_000_100));
    for validator in [etag.as_str(), modified.as_str()] {
        let resumed = get(
            &mut connection,
            &[("range", "bytes=1000-"), ("if-range", validator)],
        )
        .await;
        assert_eq!(
            resumed.status(),
            200,
            "If-Range: {validator} names the old file"
        );
        assert_eq!(resumed.header("content-range"), None);
        assert_eq!(resumed.body, new, "the whole new file, not a stitched one");
    }

    // A weak tag never satisfies If-Range; neither does garbage.
    let fresh = get(&mut connection, &[]).await;
    let weak = format!("W/{}", fresh.header("etag").unwrap());
    for validator in [weak.as_str(), "garbage", "\"unterminated"] {
        let resumed = get(
            &mut connection,
            &[("range", "bytes=0-9"), ("if-range", validator)],
        )
        .await;
        assert_eq!(resumed.status(), 200, "If-Range: {validator}");
        assert_eq!(resumed.body, new);
    }

    // Without If-Range, ServeDir's own range handling is left alone.
    let plain = get(&mut connection, &[("range", "bytes=0-9")]).await;
    assert_eq!(plain.status(), 206);
    assert_eq!(plain.body, new[..10]);
}

#[tokio::test]
async fn with_a_source_the_range_is_kept_or_dropped_before_serve_dir_runs() {
    let dir = TempDir::new("if-range-source");
    let old = version(3, 3000);
    let file = dir.write("download.bin", &old, at(1_700_000_000));
    // The source knows the file's modification time, as ServeDir will report it.
    let source = move |_: &http::request::Parts| {
        let file = file.clone();
        async move {
            let modified: SystemTime = std::fs::metadata(&file)?.modified()?;
            Ok::<_, BoxError>(Current::Exists(
                Representation::new().with_last_modified(modified),
            ))
        }
    };
    let addr = serve_service(
        ServiceBuilder::new()
            .layer(ConditionalLayer::new().validator_source(source))
            .service(ServeDir::new(dir.path())),
    )
    .await;
    let mut connection = RawConnection::open(addr).await;
    let first = get(&mut connection, &[]).await;
    let modified = first.header("last-modified").unwrap().to_owned();

    let resumed = get(
        &mut connection,
        &[("range", "bytes=100-199"), ("if-range", &modified)],
    )
    .await;
    assert_eq!(resumed.status(), 206);
    assert_eq!(resumed.body, old[100..200]);

    let new = version(4, 3000);
    dir.write("download.bin", &new, at(1_700_000_100));
    let resumed = get(
        &mut connection,
        &[("range", "bytes=100-199"), ("if-range", &modified)],
    )
    .await;
    assert_eq!(resumed.status(), 200);
    assert_eq!(resumed.body, new);
}
