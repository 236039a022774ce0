//! `files::FileTags` in front of tower-http's `ServeDir`, over real servers on 127.0.0.1 and a
//! raw HTTP/1.1 client: tags of the files' bytes, the same on replicas whose copies have other
//! modification times, never a 304 for changed bytes whose metadata looks the same, no file
//! bytes read to answer a revalidation, and no path that leaves the root.
#![cfg(feature = "fs")]

mod common;
#[path = "common/gzip.rs"]
mod gzip;

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::routing;
use common::{
    RawConnection, RawResponse, TempDir, ask, at, rchar, serve_service, set_mtime, tag_of,
};
use gzip::gzip;
use tokio::sync::RwLock;
use tower::ServiceBuilder;
use tower_conditional::files::{FileTags, SETTLE_TIME};
use tower_conditional::{Conditional, ConditionalLayer};
use tower_http::services::ServeDir;

/// Tests that read files take this for reading; the one that counts the bytes the process
/// reads (`/proc/self/io` is per process) takes it for writing, so nothing else reads then.
static IO: RwLock<()> = RwLock::const_new(());

/// The Nix store's modification time for every file.
fn nix_time() -> SystemTime {
    at(1)
}

/// `FileTags` over `ServeDir::new(root)`, in the recommended stack.
async fn serve_files(root: &Path, tags: FileTags) -> std::net::SocketAddr {
    serve_service(files_service(ServeDir::new(root), tags)).await
}

/// The layer with the source straight in front of `ServeDir`, nothing between them.
fn files_service(serve_dir: ServeDir, tags: FileTags) -> Conditional<ServeDir> {
    ServiceBuilder::new()
        .layer(ConditionalLayer::new().validator_source(tags))
        .service(serve_dir)
}

fn etag(response: &RawResponse) -> String {
    response
        .header("etag")
        .unwrap_or_else(|| panic!("an ETag on {response:?}"))
        .to_owned()
}

/// Waits until files written now have settled, so that their tags are kept.
async fn settle() {
    tokio::time::sleep(SETTLE_TIME + Duration::from_millis(200)).await;
}

const INDEX: &[u8] = b"<!doctype html><h1>index</h1>\n";
const APP: &[u8] = b"console.log('app, version 1');\n";
const NESTED: &[u8] = b"<!doctype html><p>nested index</p>\n";

fn site(name: &str, modified: SystemTime) -> TempDir {
    let dir = TempDir::new(name);
    dir.write("index.html", INDEX, modified);
    dir.write("app.js", APP, modified);
    dir.write("docs/index.html", NESTED, modified);
    dir
}

#[tokio::test]
async fn replicas_with_other_modification_times_agree_and_answer_each_others_tags() {
    let _io = IO.read().await;
    let a = site("replica-a", at(1_600_000_000));
    let b = site("replica-b", at(1_700_000_000));
    let replica_a = serve_files(a.path(), FileTags::new(a.path())).await;
    let replica_b = serve_files(b.path(), FileTags::new(b.path())).await;
    let plain_a = serve_service(ServeDir::new(a.path())).await;
    let plain_b = serve_service(ServeDir::new(b.path())).await;

    for (path, bytes) in [("/", INDEX), ("/app.js", APP), ("/docs/", NESTED)] {
        let from_a = ask(replica_a, "GET", path, &[]).await;
        let from_b = ask(replica_b, "GET", path, &[]).await;
        assert_eq!((from_a.status(), from_b.status()), (200, 200), "{path}");
        assert_eq!(from_a.body, bytes);
        assert_eq!(from_b.body, bytes);
        assert_eq!(etag(&from_a), tag_of(bytes), "{path}");
        assert_eq!(etag(&from_a), etag(&from_b), "{path}");
        // Each replica's own modification time, as Last-Modified.
        assert_eq!(
            from_a.header("last-modified"),
            Some("Sun, 13 Sep 2020 12:26:40 GMT")
        );
        assert_eq!(
            from_b.header("last-modified"),
            Some("Tue, 14 Nov 2023 22:13:20 GMT")
        );
        // What ServeDir alone does: a tag per replica, so a shared cache refetches.
        let own_a = etag(&ask(plain_a, "GET", path, &[]).await);
        let own_b = etag(&ask(plain_b, "GET", path, &[]).await);
        assert_ne!(own_a, own_b, "{path}");

        // A browser's revalidation of the other replica's copy: If-None-Match wins over the
        // older If-Modified-Since (RFC 9110 §13.2.2).
        for (server, other) in [(replica_a, &from_b), (replica_b, &from_a)] {
            let since = other.header("last-modified").unwrap();
            let tag = etag(other);
            let revalidated = ask(
                server,
                "GET",
                path,
                &[("if-none-match", &tag), ("if-modified-since", since)],
            )
            .await;
            assert_eq!(revalidated.status(), 304, "{path}");
            assert_eq!(etag(&revalidated), tag);
            assert!(revalidated.body.is_empty());
        }
    }
}

#[tokio::test]
async fn same_size_change_with_nix_store_times_is_never_a_304() {
    let _io = IO.read().await;
    let dir = TempDir::new("files-nix");
    let file = dir.write("app.js", APP, nix_time());
    let tags = FileTags::new(dir.path());
    let layered = serve_files(dir.path(), tags.clone()).await;
    let plain = serve_service(ServeDir::new(dir.path())).await;
    settle().await;

    let first = ask(layered, "GET", "/app.js", &[]).await;
    assert_eq!(first.status(), 200);
    let old_tag = etag(&first);
    assert_eq!(old_tag, tag_of(APP));
    // 1970-01-01T00:00:01Z is every file's date: no validator, so no Last-Modified, not even
    // ServeDir's.
    assert_eq!(first.header("last-modified"), None);
    let plain_first = ask(plain, "GET", "/app.js", &[]).await;
    let serve_dir_tag = etag(&plain_first);
    let serve_dir_date = plain_first.header("last-modified").unwrap().to_owned();
    assert_eq!(serve_dir_date, "Thu, 01 Jan 1970 00:00:01 GMT");
    assert_eq!(tags.files_hashed(), 1);
    assert_eq!(tags.cached_entries(), 1);

    // New bytes of the same size, in place (same inode), and the same modification time.
    let new = b"console.log('app, version 2');\n";
    assert_eq!(new.len(), APP.len());
    File::options()
        .write(true)
        .truncate(true)
        .open(&file)
        .unwrap()
        .write_all(new)
        .unwrap();
    set_mtime(&file, nix_time());
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        nix_time()
    );

    // ServeDir alone still calls it the same version: the bug this source fixes. Were the
    // layer to hand these preconditions on, ServeDir would answer the same 304 behind it.
    for condition in [
        ("if-none-match", serve_dir_tag.as_str()),
        ("if-modified-since", serve_dir_date.as_str()),
    ] {
        let plain_again = ask(plain, "GET", "/app.js", &[condition]).await;
        assert_eq!(plain_again.status(), 304, "{condition:?}");
        assert_eq!(
            plain_again.header("last-modified"),
            Some("Thu, 01 Jan 1970 00:00:01 GMT")
        );
    }

    for condition in [
        ("if-none-match", old_tag.as_str()),
        // What caches hold from before the source was deployed.
        ("if-none-match", serve_dir_tag.as_str()),
        ("if-modified-since", serve_dir_date.as_str()),
        ("if-modified-since", "Thu, 01 Jan 1970 00:00:01 GMT"),
    ] {
        let response = ask(layered, "GET", "/app.js", &[condition]).await;
        assert_eq!(response.status(), 200, "{condition:?}");
        assert_eq!(response.body, new, "{condition:?}");
        assert_eq!(etag(&response), tag_of(new));
        assert_eq!(response.header("last-modified"), None);
    }
    assert_ne!(tag_of(new), old_tag);
    // The change time told the versions apart.
    assert!(tags.files_hashed() >= 2);
    // And the new tag revalidates, with a 304 that has no Last-Modified either (HEAD too).
    for method in ["GET", "HEAD"] {
        let revalidated = ask(
            layered,
            method,
            "/app.js",
            &[("if-none-match", &tag_of(new))],
        )
        .await;
        assert_eq!(revalidated.status(), 304, "{method}");
        assert_eq!(etag(&revalidated), tag_of(new), "{method}");
        assert_eq!(revalidated.header("last-modified"), None, "{method}");
    }

    // A file over the size limit is not hashed: ServeDir judges the preconditions against its
    // own validators and answers the 304 itself, and the layer removes its epoch date from
    // that 304 as from the 200.
    let unhashed = serve_files(dir.path(), FileTags::new(dir.path()).max_file_size(4)).await;
    let own = ask(unhashed, "GET", "/app.js", &[]).await;
    assert_eq!(own.status(), 200);
    let own_tag = etag(&own);
    assert_ne!(own_tag, tag_of(new));
    assert_eq!(own.header("last-modified"), None);
    let own_304 = ask(unhashed, "GET", "/app.js", &[("if-none-match", &own_tag)]).await;
    assert_eq!(own_304.status(), 304);
    assert_eq!(etag(&own_304), own_tag);
    assert_eq!(own_304.header("last-modified"), None);
}

/// Where the source does not vouch (`Current::Unknown`: here a file over `max_file_size`;
/// likewise any layer without a source), an `If-Modified-Since` at the epoch names no version
/// and is removed before `ServeDir` runs: otherwise `ServeDir` would compare it with the file's
/// epoch modification time and answer 304 for changed bytes.
#[tokio::test]
async fn epoch_if_modified_since_is_ignored_for_files_the_source_does_not_tag() {
    let _io = IO.read().await;
    let dir = TempDir::new("files-nix-unknown");
    dir.write("app.js", b"console.log('app, version 2');\n", nix_time());
    let addr = serve_files(dir.path(), FileTags::new(dir.path()).max_file_size(4)).await;
    let response = ask(
        addr,
        "GET",
        "/app.js",
        &[("if-modified-since", "Thu, 01 Jan 1970 00:00:01 GMT")],
    )
    .await;
    assert_eq!(
        response.status(),
        200,
        "ServeDir's 304 for a date that is no validator"
    );
    assert_eq!(response.body, b"console.log('app, version 2');\n");
}

#[tokio::test]
async fn revalidating_a_large_file_reads_none_of_it() {
    const SIZE: usize = 8 * 1024 * 1024;
    let large: Vec<u8> = (0..SIZE).map(|i| (i * 31 % 251) as u8).collect();
    let dir = TempDir::new("files-large");
    dir.write("large.bin", &large, at(1_700_000_000));
    let tags = FileTags::new(dir.path());
    let addr = serve_files(dir.path(), tags.clone()).await;
    settle().await;
    let _io = IO.write().await;

    let mut connection = RawConnection::open(addr).await;
    let before_first = rchar();
    let started = Instant::now();
    let first = connection.send("GET", "/large.bin", &[]).await;
    let first_took = started.elapsed();
    let first_read = rchar() - before_first;
    assert_eq!(first.status(), 200);
    assert_eq!(first.body.len(), SIZE);
    let tag = etag(&first);
    assert_eq!(tag, tag_of(&large));
    assert_eq!(tags.files_hashed(), 1, "hashed once");
    // Read to hash it (8 MiB) and by ServeDir to send it (8 MiB); the client's socket reads
    // are `recv` calls, which `rchar` does not count.
    assert!(first_read >= 2 * SIZE as u64, "{first_read}");

    let before = rchar();
    let revalidated = connection
        .send("GET", "/large.bin", &[("if-none-match", &tag)])
        .await;
    let read = rchar() - before;
    assert_eq!(revalidated.status(), 304);
    assert!(read < 64 * 1024, "a revalidation read {read} bytes");
    let before_head = rchar();
    let head = connection
        .send("HEAD", "/large.bin", &[("if-none-match", &tag)])
        .await;
    let head_read = rchar() - before_head;
    assert_eq!(head.status(), 304);
    assert!(
        head_read < 64 * 1024,
        "a HEAD revalidation read {head_read} bytes"
    );
    assert_eq!(tags.files_hashed(), 1, "not hashed again");
    eprintln!(
        "8 MiB: first GET read {first_read} bytes in {first_took:?}; revalidation read {read} \
         bytes, HEAD revalidation {head_read}"
    );

    // The hash alone, on a fresh source (HEAD: ServeDir reads nothing), from the page cache.
    let fresh = FileTags::new(dir.path());
    let fresh_addr = serve_files(dir.path(), fresh.clone()).await;
    let started = Instant::now();
    let head = ask(fresh_addr, "HEAD", "/large.bin", &[]).await;
    eprintln!(
        "8 MiB: HEAD that hashes the file took {:?}",
        started.elapsed()
    );
    assert_eq!(etag(&head), tag);
    assert_eq!(fresh.files_hashed(), 1);
}

#[tokio::test]
async fn concurrent_first_requests_hash_the_file_once() {
    let _io = IO.read().await;
    let large: Vec<u8> = (0..2 * 1024 * 1024).map(|i| (i % 241) as u8).collect();
    let dir = TempDir::new("files-concurrent");
    dir.write("large.bin", &large, at(1_700_000_000));
    let tags = FileTags::new(dir.path());
    let addr = serve_files(dir.path(), tags.clone()).await;
    settle().await;
    let requests: Vec<_> = (0..16)
        .map(|_| tokio::spawn(async move { ask(addr, "GET", "/large.bin", &[]).await }))
        .collect();
    for request in requests {
        let response = request.await.unwrap();
        assert_eq!(etag(&response), tag_of(&large));
    }
    assert_eq!(tags.files_hashed(), 1);
}

#[tokio::test]
async fn the_cache_is_bounded_and_forgets_the_least_recently_used() {
    let _io = IO.read().await;
    let dir = TempDir::new("files-bounded");
    for name in ["a", "b", "c"] {
        dir.write(name, name.repeat(100).as_bytes(), at(1_700_000_000));
    }
    let tags = FileTags::new(dir.path()).max_entries(2);
    let addr = serve_files(dir.path(), tags.clone()).await;
    settle().await;

    let tag = |name: &str| tag_of(name.repeat(100).as_bytes());
    for name in ["a", "b"] {
        assert_eq!(
            etag(&ask(addr, "GET", &format!("/{name}"), &[]).await),
            tag(name)
        );
    }
    assert_eq!((tags.files_hashed(), tags.cached_entries()), (2, 2));
    // `a` is used again, so `b` is the least recently used when `c` comes.
    let revalidate = |name: &'static str| {
        let tag = tag(name);
        async move {
            ask(addr, "GET", &format!("/{name}"), &[("if-none-match", &tag)])
                .await
                .status()
        }
    };
    assert_eq!(revalidate("a").await, 304);
    assert_eq!(tags.files_hashed(), 2);
    assert_eq!(etag(&ask(addr, "GET", "/c", &[]).await), tag("c"));
    assert_eq!((tags.files_hashed(), tags.cached_entries()), (3, 2));
    assert_eq!(revalidate("a").await, 304);
    assert_eq!(revalidate("c").await, 304);
    assert_eq!(tags.files_hashed(), 3, "a and c were kept");
    assert_eq!(revalidate("b").await, 304);
    assert_eq!((tags.files_hashed(), tags.cached_entries()), (4, 2));

    // With no cache, every request reads its file.
    let uncached = FileTags::new(dir.path()).max_entries(0);
    let addr = serve_files(dir.path(), uncached.clone()).await;
    for _ in 0..3 {
        assert_eq!(
            ask(addr, "GET", "/a", &[("if-none-match", &tag("a"))])
                .await
                .status(),
            304
        );
    }
    assert_eq!((uncached.files_hashed(), uncached.cached_entries()), (3, 0));
}

#[tokio::test]
async fn paths_never_leave_the_root() {
    let _io = IO.read().await;
    let outside = TempDir::new("files-escape");
    let secret = b"outside the root";
    outside.write("secret.txt", secret, at(1_700_000_000));
    outside.write("root/sub/inside.txt", b"inside", at(1_700_000_000));
    let root = outside.path().join("root");
    let tags = FileTags::new(&root);
    let addr = serve_files(&root, tags.clone()).await;

    for path in [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/sub/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/sub%2F..%2F..%2Fsecret.txt",
        "/%2F..%2Fsecret.txt",
        "//..//secret.txt",
        "/%5C..%5Csecret.txt",
    ] {
        for headers in [&[][..], &[("if-none-match", "*")][..]] {
            let response = ask(addr, "GET", path, headers).await;
            assert_ne!(response.status(), 200, "{path}");
            assert_ne!(response.status(), 304, "{path}");
            assert_ne!(response.body, secret, "{path}");
            assert_ne!(
                response.header("etag"),
                Some(tag_of(secret).as_str()),
                "{path}"
            );
        }
    }
    assert_eq!(tags.files_hashed(), 0, "nothing was read");

    // An encoded slash inside the root separates segments, as in ServeDir.
    let inside = ask(addr, "GET", "/sub%2Finside.txt", &[]).await;
    assert_eq!(inside.status(), 200);
    assert_eq!(etag(&inside), tag_of(b"inside"));
}

#[tokio::test]
async fn what_serve_dir_does_not_serve_as_a_file_gets_its_own_answer() {
    let _io = IO.read().await;
    let dir = site("unknown", at(1_700_000_000));
    let tags = FileTags::new(dir.path()).max_file_size(16);
    let addr = serve_files(dir.path(), tags.clone()).await;
    let plain = serve_service(ServeDir::new(dir.path())).await;

    // Missing: ServeDir's 404, never a 304 for If-None-Match: *.
    let missing = ask(addr, "GET", "/missing.js", &[("if-none-match", "*")]).await;
    assert_eq!(missing.status(), 404);
    // A directory without its slash: ServeDir's redirect.
    let redirect = ask(addr, "GET", "/docs", &[]).await;
    assert_eq!(redirect.status(), 307);
    assert_eq!(redirect.header("location"), Some("/docs/"));
    // A file path with a slash: 404.
    assert_eq!(ask(addr, "GET", "/app.js/", &[]).await.status(), 404);
    // Other methods: ServeDir's 405, also with preconditions.
    let post = ask(
        addr,
        "POST",
        "/app.js",
        &[("if-match", "*"), ("content-length", "0")],
    )
    .await;
    assert_eq!(post.status(), 405);

    // Over the size limit: not hashed; ServeDir's own validators, judged by the layer.
    let large = ask(addr, "GET", "/app.js", &[]).await;
    let own = etag(&ask(plain, "GET", "/app.js", &[]).await);
    assert_eq!(etag(&large), own);
    assert_eq!(
        ask(addr, "GET", "/app.js", &[("if-none-match", &own)])
            .await
            .status(),
        304
    );
    assert_eq!(tags.files_hashed(), 0);
}

#[tokio::test]
async fn if_match_and_if_range_are_judged_against_the_tag_of() {
    let _io = IO.read().await;
    let dir = site("if-range", at(1_700_000_000));
    let tag = tag_of(APP);
    let addr = serve_files(dir.path(), FileTags::new(dir.path())).await;

    // ServeDir alone judges If-Match against its metadata tag: 412 for the content tag. The
    // layer judged it against the source's tag and does not hand it on to be judged again.
    let plain = serve_service(ServeDir::new(dir.path())).await;
    assert_eq!(
        ask(plain, "GET", "/app.js", &[("if-match", &tag)])
            .await
            .status(),
        412
    );
    for method in ["GET", "HEAD"] {
        for condition in [
            ("if-match", tag.as_str()),
            ("if-match", "*"),
            ("if-unmodified-since", "Tue, 14 Nov 2023 22:13:20 GMT"),
        ] {
            let matched = ask(addr, method, "/app.js", &[condition]).await;
            assert_eq!(matched.status(), 200, "{method} {condition:?}");
            assert_eq!(etag(&matched), tag, "{method} {condition:?}");
        }
    }
    let matched = ask(addr, "GET", "/app.js", &[("if-match", &tag)]).await;
    assert_eq!(matched.body, APP);
    assert_eq!(
        ask(addr, "GET", "/app.js", &[("if-match", "\"other\"")])
            .await
            .status(),
        412
    );

    let range = ask(
        addr,
        "GET",
        "/app.js",
        &[("range", "bytes=0-6"), ("if-range", &tag)],
    )
    .await;
    assert_eq!(range.status(), 206);
    assert_eq!(range.body, &APP[..7]);
    assert_eq!(etag(&range), tag, "the 206 carries the content tag");
    let stale = ask(
        addr,
        "GET",
        "/app.js",
        &[("range", "bytes=0-6"), ("if-range", "\"old version\"")],
    )
    .await;
    assert_eq!(stale.status(), 200);
    assert_eq!(stale.body, APP);
    // If-Match with a Range: judged once, then the range of the current version.
    let both = ask(
        addr,
        "GET",
        "/app.js",
        &[
            ("range", "bytes=0-6"),
            ("if-match", &tag),
            ("if-range", &tag),
        ],
    )
    .await;
    assert_eq!(both.status(), 206);
    assert_eq!(both.body, &APP[..7]);
}

#[tokio::test]
async fn precompressed_variants_never_carry_the_identity_strong_tag() {
    let _io = IO.read().await;
    let dir = site("precompressed", at(1_700_000_000));
    let gz = gzip(APP);
    dir.write("app.js.gz", &gz, at(1_700_000_000));
    let identity = tag_of(APP);
    let gzip_accepted = [("accept-encoding", "gzip")];

    // FileTags told of the variant: the tag of the gzip bytes, sent as a coded tag.
    let configured = serve_service(files_service(
        ServeDir::new(dir.path()).precompressed_gzip(),
        FileTags::new(dir.path()).precompressed_gzip(),
    ))
    .await;
    let encoded = ask(configured, "GET", "/app.js", &gzip_accepted).await;
    assert_eq!(encoded.status(), 200);
    assert_eq!(encoded.header("content-encoding"), Some("gzip"));
    assert_eq!(encoded.body, gz);
    let coded = coded_tag(&tag_of(&gz));
    assert_eq!(etag(&encoded), coded);
    assert_eq!(encoded.header("vary"), Some("accept-encoding"));
    let revalidated = ask(
        configured,
        "GET",
        "/app.js",
        &[("accept-encoding", "gzip"), ("if-none-match", &coded)],
    )
    .await;
    assert_eq!(revalidated.status(), 304);
    assert_eq!(etag(&revalidated), coded);
    assert_eq!(revalidated.header("vary"), Some("accept-encoding"));
    let plain = ask(configured, "GET", "/app.js", &[]).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(etag(&plain), identity);
    assert_eq!(plain.header("vary"), Some("accept-encoding"));
    // The gzip tag does not revalidate the identity copy, nor the other way round.
    assert_eq!(
        ask(configured, "GET", "/app.js", &[("if-none-match", &coded)])
            .await
            .status(),
        200
    );
    assert_eq!(
        ask(
            configured,
            "GET",
            "/app.js",
            &[("accept-encoding", "gzip"), ("if-none-match", &identity)]
        )
        .await
        .status(),
        200
    );

    // FileTags not told: the gzip bytes get the coded tag of the identity version, never its
    // strong tag, and the 304 for it names it.
    let unconfigured = serve_service(files_service(
        ServeDir::new(dir.path()).precompressed_gzip(),
        FileTags::new(dir.path()),
    ))
    .await;
    let encoded = ask(unconfigured, "GET", "/app.js", &gzip_accepted).await;
    assert_eq!(encoded.header("content-encoding"), Some("gzip"));
    assert_eq!(encoded.body, gz);
    let tag = etag(&encoded);
    assert_eq!(tag, coded_tag(&identity));
    let revalidated = ask(
        unconfigured,
        "GET",
        "/app.js",
        &[("accept-encoding", "gzip"), ("if-none-match", &tag)],
    )
    .await;
    assert_eq!(revalidated.status(), 304);
    assert_eq!(etag(&revalidated), tag);
}

/// The coded tag the layer sends for a strong tag on gzip bytes: `"x"` becomes `"x-gzip"`.
fn coded_tag(strong: &str) -> String {
    format!("{}-gzip\"", strong.strip_suffix('"').unwrap())
}

/// A compression layer between the layer and `ServeDir`, as in `examples/static_files.rs`:
/// the gzip bytes carry the coded content tag, and their revalidation gets a 304 with that tag
/// (the layer answers it from the source, before `ServeDir` runs).
#[tokio::test]
async fn a_compression_layer_inside_gets_the_coded_content_tag_on_200_and_304() {
    let _io = IO.read().await;
    let big = APP.repeat(64);
    let dir = TempDir::new("files-compression");
    dir.write("big.js", &big, at(1_700_000_000));
    let strong = tag_of(&big);
    let coded = coded_tag(&strong);
    let addr = serve_service(
        ServiceBuilder::new()
            .layer(ConditionalLayer::new().validator_source(FileTags::new(dir.path())))
            .layer(tower_http::compression::CompressionLayer::new())
            .service(ServeDir::new(dir.path())),
    )
    .await;
    let gzip_accepted = ("accept-encoding", "gzip");

    let encoded = ask(addr, "GET", "/big.js", &[gzip_accepted]).await;
    assert_eq!(encoded.status(), 200);
    assert_eq!(encoded.header("content-encoding"), Some("gzip"));
    assert_ne!(encoded.body, big);
    assert_eq!(etag(&encoded), coded);
    let identity = ask(addr, "GET", "/big.js", &[]).await;
    assert_eq!(identity.header("content-encoding"), None);
    assert_eq!(identity.body, big);
    assert_eq!(etag(&identity), strong);

    for method in ["GET", "HEAD"] {
        let revalidated = ask(
            addr,
            method,
            "/big.js",
            &[gzip_accepted, ("if-none-match", &coded)],
        )
        .await;
        assert_eq!(revalidated.status(), 304, "{method}");
        assert_eq!(
            etag(&revalidated),
            coded,
            "{method}: the tag the client holds"
        );
        assert_eq!(
            revalidated.header("vary"),
            Some("accept-encoding"),
            "{method}"
        );
        // The identity copy's strong tag revalidates to its own strong tag.
        let revalidated = ask(addr, method, "/big.js", &[("if-none-match", &strong)]).await;
        assert_eq!(revalidated.status(), 304, "{method}");
        assert_eq!(etag(&revalidated), strong, "{method}");
    }
}

/// The layer around the router, added with `Router::layer`, and inside the nest, with
/// `nest_service` and `fallback_service`, always straight in front of `ServeDir`: the source is
/// given the path it sees in each, and `ServeDir` never judges the preconditions again.
#[tokio::test]
async fn nest_service_and_fallback_service_in_both_placements() {
    let _io = IO.read().await;
    let dir = site("placements", at(1_700_000_000));
    let root = dir.path();
    let api = || routing::get(|| async { "api" });
    let inner = || ServeDir::new(root);
    let conditional = |tags: FileTags| ConditionalLayer::new().validator_source(tags);
    let layered = |tags: FileTags| files_service(ServeDir::new(root), tags);
    let around = |tags: FileTags, router: Router| {
        ServiceBuilder::new()
            .layer(ConditionalLayer::new().validator_source(tags))
            .service(router)
    };

    let nested_inside = serve_service(
        Router::new()
            .route("/api", api())
            .nest_service("/static", layered(FileTags::new(root))),
    )
    .await;
    let nested_around = serve_service(around(
        FileTags::new(root).strip_prefix("/static"),
        Router::new()
            .route("/api", api())
            .nest_service("/static", inner()),
    ))
    .await;
    let fallback_inside = serve_service(
        Router::new()
            .route("/api", api())
            .fallback_service(layered(FileTags::new(root))),
    )
    .await;
    let fallback_around = serve_service(around(
        FileTags::new(root),
        Router::new().route("/api", api()).fallback_service(inner()),
    ))
    .await;
    // `Router::layer` wraps the nest's prefix stripping: it sees the full path.
    let nested_router_layer = serve_service(
        Router::new()
            .route("/api", api())
            .nest_service("/static", inner())
            .layer(conditional(FileTags::new(root).strip_prefix("/static"))),
    )
    .await;
    let fallback_router_layer = serve_service(
        Router::new()
            .route("/api", api())
            .fallback_service(inner())
            .layer(conditional(FileTags::new(root))),
    )
    .await;
    let metadata_tag = etag(&ask(serve_service(inner()).await, "GET", "/app.js", &[]).await);

    for (name, addr, prefix) in [
        ("nested inside", nested_inside, "/static"),
        ("nested around", nested_around, "/static"),
        ("nested, Router::layer", nested_router_layer, "/static"),
        ("fallback inside", fallback_inside, ""),
        ("fallback around", fallback_around, ""),
        ("fallback, Router::layer", fallback_router_layer, ""),
    ] {
        for (path, bytes) in [("/app.js", APP), ("/docs/", NESTED), ("/", INDEX)] {
            let path = format!("{prefix}{path}");
            let response = ask(addr, "GET", &path, &[]).await;
            assert_eq!(response.status(), 200, "{name}: {path}");
            assert_eq!(response.body, bytes, "{name}: {path}");
            let tag = etag(&response);
            assert_eq!(tag, tag_of(bytes), "{name}: {path}");
            let revalidated = ask(addr, "GET", &path, &[("if-none-match", &tag)]).await;
            assert_eq!(revalidated.status(), 304, "{name}: {path}");
            assert_eq!(etag(&revalidated), tag);
            // The content tag matches If-Match, not ServeDir's 412.
            let matched = ask(addr, "GET", &path, &[("if-match", &tag)]).await;
            assert_eq!(matched.status(), 200, "{name}: {path}");
            assert_eq!(matched.body, bytes, "{name}: {path}");
        }
        // ServeDir's metadata tag is no current tag: the file, not ServeDir's 304.
        let path = format!("{prefix}/app.js");
        let old = ask(addr, "GET", &path, &[("if-none-match", &metadata_tag)]).await;
        assert_eq!(old.status(), 200, "{name}");
        assert_eq!(etag(&old), tag_of(APP), "{name}");
        assert_eq!(ask(addr, "GET", "/api", &[]).await.body, b"api");
    }

    // Around the router without the prefix, the source looks for `static/app.js` under the
    // root, finds nothing, and ServeDir's metadata tag goes out.
    let unprefixed = serve_service(around(
        FileTags::new(root),
        Router::new().nest_service("/static", inner()),
    ))
    .await;
    let response = ask(unprefixed, "GET", "/static/app.js", &[]).await;
    assert_eq!(response.status(), 200);
    assert_ne!(etag(&response), tag_of(APP));
}

/// For every path and configuration, the stack with FileTags answers with ServeDir's status,
/// and a file ServeDir serves carries its content tag: the source maps paths as ServeDir does.
#[tokio::test]
async fn paths_map_to_the_files_serve_dir_serves() {
    let _io = IO.read().await;
    let dir = site("mapping", at(1_700_000_000));
    dir.write("page.html", b"<p>page</p>", at(1_700_000_000));
    dir.write("a b.txt", b"spaced", at(1_700_000_000));
    let root = dir.path();
    type Configure = fn(ServeDir, FileTags) -> (ServeDir, FileTags);
    let configurations: [(&str, Configure); 3] = [
        ("default", |serve, tags| (serve, tags)),
        ("html as default extension", |serve, tags| {
            (
                serve.html_as_default_extension(true),
                tags.html_as_default_extension(true),
            )
        }),
        ("no index.html", |serve, tags| {
            (
                serve.append_index_html_on_directories(false),
                tags.append_index_html_on_directories(false),
            )
        }),
    ];
    let paths = [
        "/",
        "/index.html",
        "/app.js",
        "/app.js?version=1",
        "/docs",
        "/docs/",
        "/docs/index.html",
        "/page",
        "/page.html",
        "/app.js/",
        "/missing",
        "/docs/missing/",
        "/./app.js",
        "/docs/../app.js",
        "/a%70p.js",
        "/%2E/app.js",
        "//app.js",
        "/a%20b.txt",
        "/a b.txt",
    ];
    let contents = [
        ("index.html", INDEX),
        ("app.js", APP),
        ("docs/index.html", NESTED),
        ("page.html", &b"<p>page</p>"[..]),
        ("a b.txt", b"spaced"),
    ];
    let mut served = 0;
    for (name, configure) in configurations {
        let (serve, tags) = configure(ServeDir::new(root), FileTags::new(root));
        let (plain_serve, _) = configure(ServeDir::new(root), FileTags::new(root));
        let layered = serve_service(files_service(serve, tags)).await;
        let plain = serve_service(plain_serve).await;
        for path in paths {
            let expected = ask(plain, "GET", path, &[]).await;
            let response = ask(layered, "GET", path, &[]).await;
            assert_eq!(response.status(), expected.status(), "{name}: {path}");
            assert_eq!(response.body, expected.body, "{name}: {path}");
            if expected.status() == 200 {
                served += 1;
                let tag = etag(&response);
                assert_eq!(tag, tag_of(&expected.body), "{name}: {path}");
                assert!(
                    contents.iter().any(|(_, bytes)| *bytes == expected.body),
                    "{name}: {path}"
                );
                // And it revalidates before ServeDir runs.
                let revalidated = ask(layered, "GET", path, &[("if-none-match", &tag)]).await;
                assert_eq!(revalidated.status(), 304, "{name}: {path}");
            } else {
                // Never a 304 for what ServeDir does not serve.
                let star = ask(layered, "GET", path, &[("if-none-match", "*")]).await;
                assert_eq!(star.status(), expected.status(), "{name}: {path}");
            }
        }
    }
    // The table covers served files in every configuration.
    assert!(served >= 20, "{served}");
}
