//! Soak: a real axum server with the layer on 127.0.0.1 and 32 concurrent hyper clients, each on
//! its own kept-alive connection, mixing 200, 304, 412, HEAD, bodies over the limit, streams and a
//! resource that changes while it is read. Every response is checked:
//!
//! - a generated tag is the hash of the very body it came with (never another body's);
//! - a handler's tag comes with the body of that version;
//! - a 304 only where the request's `If-None-Match` holds the tag the 304 carries, a 412 only
//!   where `If-Match` does not hold the current tag;
//! - no lost or truncated body (exact lengths and contents).
//!
//! Zero errors is the pass mark. Bounded: a fixed number of requests, every wait timed out, and
//! the whole run under 60 s.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::response::sse::{Event, Sse};
use axum::routing::get;
use bytes::Bytes;
use common::{Reply, http1_client, serve, tag_of, try_send};
use futures_util::StreamExt;
use http::header::{CONTENT_LENGTH, ETAG, IF_MATCH, IF_NONE_MATCH};
use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use tower_conditional::ConditionalLayer;

const CLIENTS: u64 = 32;
const REQUESTS_PER_CLIENT: u64 = 300;
const LIMIT: usize = 64 * 1024;
const LARGE: usize = 200 * 1024;
const EVENTS: usize = 5;

/// The body of `/page/{n}`: deterministic, 0 to ~6 KiB, across the SHA-256/BLAKE3 boundary.
fn page(n: u64) -> Vec<u8> {
    let len = (n * 997 % 6000) as usize;
    (0..len)
        .map(|i| b'a' + ((i as u64 + n) % 26) as u8)
        .collect()
}

fn large(n: u64) -> Vec<u8> {
    (0..LARGE).map(|i| (i as u64 * 31 + n) as u8).collect()
}

fn app(version: Arc<AtomicU64>, mutable_hits: Arc<AtomicU64>) -> Router {
    Router::new()
        .route(
            "/page/{n}",
            get(|Path(n): Path<u64>| async move { page(n) }),
        )
        .route(
            "/large/{n}",
            get(|Path(n): Path<u64>| async move { large(n) }),
        )
        .route(
            "/versioned",
            get(move || {
                let version = version.load(Ordering::SeqCst);
                async move {
                    (
                        [(ETAG, format!("\"v{version}\""))],
                        format!("version {version}"),
                    )
                }
            }),
        )
        .route(
            "/mutable",
            get(move || {
                // The content changes every 40 requests to it.
                let generation = mutable_hits.fetch_add(1, Ordering::SeqCst) / 40;
                async move { format!("mutable generation {generation}") }
            }),
        )
        .route(
            "/events",
            get(|| async {
                let stream = futures_util::stream::iter(0..EVENTS).then(|i| async move {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    Ok::<_, std::convert::Infallible>(Event::default().data(format!("e{i}")))
                });
                Sse::new(stream)
            }),
        )
        .layer(ConditionalLayer::new().buffer_limit(LIMIT))
}

/// xorshift64*: a deterministic mix of requests per client.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// One request on the client's connection through `common::try_send`, read whole: a failure is
/// an error the run counts and reports with the others, not a panic, and the whole exchange is
/// bounded by 20 s.
async fn send(
    sender: &mut Sender,
    method: Method,
    path: &str,
    fields: &[(http::HeaderName, HeaderValue)],
) -> Result<Reply, String> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1");
    for (name, value) in fields {
        request = request.header(name, value);
    }
    let request = request.body(Empty::new()).unwrap();
    let exchange = async {
        let response = try_send(sender, request)
            .await
            .map_err(|e| format!("send: {e}"))?;
        let (head, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok::<_, String>(Reply {
            status: head.status,
            headers: head.headers,
            body,
        })
    };
    tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .map_err(|_| format!("{path}: timed out"))?
}

/// What the run went through, so that a pass cannot be vacuous.
#[derive(Default, Debug)]
struct Seen {
    not_modified: u64,
    precondition_failed: u64,
    mutable_unchanged: u64,
    mutable_changed: u64,
}

/// One client: its requests, each response checked. Returns the errors it saw.
async fn client(addr: std::net::SocketAddr, id: u64) -> (Vec<String>, Seen) {
    let mut errors = Vec::new();
    let mut seen = Seen::default();
    let mut sender = http1_client(addr).await;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (id + 1));
    let mut last_mutable_tag: Option<HeaderValue> = None;
    let mut check = |ok: bool, what: String| {
        if !ok {
            errors.push(format!("client {id}: {what}"));
        }
    };
    for _ in 0..REQUESTS_PER_CLIENT {
        let previous_mutable_tag = last_mutable_tag.clone();
        let n = rng.next() % 64;
        let kind = rng.next() % 10;
        let result = match kind {
            // A plain GET: the tag is the hash of this body.
            0 | 1 => {
                let path = format!("/page/{n}");
                send(&mut sender, Method::GET, &path, &[]).await.map(|a| {
                    let expected = page(n);
                    check(a.status == StatusCode::OK, format!("{path}: {}", a.status));
                    check(a.body == expected, format!("{path}: wrong body"));
                    check(
                        a.headers
                            .get(ETAG)
                            .is_some_and(|tag| *tag == tag_of(&a.body)),
                        format!("{path}: tag is not its body's"),
                    );
                    check(
                        a.headers.get(CONTENT_LENGTH) == Some(&HeaderValue::from(expected.len())),
                        format!("{path}: content-length"),
                    );
                })
            }
            // Revalidation with the right tag (in a list): 304, bodiless, the same tag.
            2 => {
                let path = format!("/page/{n}");
                let tag = tag_of(&page(n));
                let list = format!("\"nope\", {tag}");
                let fields = [(IF_NONE_MATCH, HeaderValue::from_str(&list).unwrap())];
                send(&mut sender, Method::GET, &path, &fields)
                    .await
                    .map(|a| {
                        check(
                            a.status == StatusCode::NOT_MODIFIED,
                            format!("{path}: {} to a matching tag", a.status),
                        );
                        check(a.body.is_empty(), format!("{path}: 304 with a body"));
                        check(
                            a.headers.get(ETAG).is_some_and(|etag| *etag == tag),
                            format!("{path}: 304 tag"),
                        );
                    })
            }
            // A tag of another page: the full 200.
            3 => {
                let path = format!("/page/{n}");
                let other = HeaderValue::try_from(tag_of(&page(n + 1))).unwrap();
                let fields = [(IF_NONE_MATCH, other)];
                send(&mut sender, Method::GET, &path, &fields)
                    .await
                    .map(|a| {
                        check(
                            a.status == StatusCode::OK,
                            format!("{path}: {} to another page's tag", a.status),
                        );
                        check(a.body == page(n), format!("{path}: wrong body"));
                        check(
                            a.headers
                                .get(ETAG)
                                .is_some_and(|tag| *tag == tag_of(&a.body)),
                            format!("{path}: tag is not its body's"),
                        );
                    })
            }
            // If-Match with a stale or the current tag: 412 or 200.
            4 => {
                let path = format!("/page/{n}");
                let current = rng.next().is_multiple_of(2);
                let tag = HeaderValue::try_from(if current {
                    tag_of(&page(n))
                } else {
                    tag_of(b"stale")
                })
                .unwrap();
                send(&mut sender, Method::GET, &path, &[(IF_MATCH, tag)])
                    .await
                    .map(|a| {
                        let expected = if current {
                            StatusCode::OK
                        } else {
                            StatusCode::PRECONDITION_FAILED
                        };
                        check(
                            a.status == expected,
                            format!("{path}: If-Match {}", a.status),
                        );
                        if current {
                            check(a.body == page(n), format!("{path}: wrong body"));
                        } else {
                            check(a.body.is_empty(), format!("{path}: 412 with a body"));
                        }
                    })
            }
            // HEAD: GET's tag and length, no body. The layer sees GET's body under
            // `Router::layer`; an empty one is no evidence of GET's bytes (a HEAD handler's body is
            // empty too), so it gets no tag, which RFC 9110 §9.3.2 allows.
            5 => {
                let path = format!("/page/{n}");
                send(&mut sender, Method::HEAD, &path, &[]).await.map(|a| {
                    let expected = page(n);
                    check(
                        a.status == StatusCode::OK,
                        format!("HEAD {path}: {}", a.status),
                    );
                    let tag = (!expected.is_empty()).then(|| tag_of(&expected));
                    check(
                        a.headers.get(ETAG).map(HeaderValue::as_bytes)
                            == tag.as_ref().map(String::as_bytes),
                        format!("HEAD {path}: not GET's tag"),
                    );
                    check(
                        a.headers.get(CONTENT_LENGTH) == Some(&HeaderValue::from(expected.len())),
                        format!("HEAD {path}: not GET's length"),
                    );
                    check(a.body.is_empty(), format!("HEAD {path}: a body"));
                })
            }
            // Over the limit: untagged, whole, even when asked conditionally.
            6 => {
                let path = format!("/large/{n}");
                let fields = [(
                    IF_NONE_MATCH,
                    HeaderValue::try_from(tag_of(&large(n))).unwrap(),
                )];
                send(&mut sender, Method::GET, &path, &fields)
                    .await
                    .map(|a| {
                        check(a.status == StatusCode::OK, format!("{path}: {}", a.status));
                        check(!a.headers.contains_key(ETAG), format!("{path}: tagged"));
                        check(
                            a.body == large(n),
                            format!("{path}: {} bytes", a.body.len()),
                        );
                    })
            }
            // A stream: untagged, every event.
            7 => send(&mut sender, Method::GET, "/events", &[])
                .await
                .map(|a| {
                    let expected: String = (0..EVENTS).map(|i| format!("data: e{i}\n\n")).collect();
                    check(a.status == StatusCode::OK, format!("/events: {}", a.status));
                    check(!a.headers.contains_key(ETAG), "/events: tagged".into());
                    check(a.body == expected.as_bytes(), "/events: lost events".into());
                }),
            // A handler tag on a changing resource: tag and body of the same version.
            8 => send(&mut sender, Method::GET, "/versioned", &[])
                .await
                .map(|a| {
                    let tag = a.headers.get(ETAG).and_then(|t| t.to_str().ok());
                    let version = tag.and_then(|t| t.strip_prefix("\"v")?.strip_suffix('"'));
                    check(
                        version.is_some_and(|v| a.body == format!("version {v}").as_bytes()),
                        format!("/versioned: tag {tag:?} with another version's body"),
                    );
                }),
            // A changing resource revalidated with the last tag seen: a 304 only when that
            // tag is the one the 304 carries; a 200 always with its own body's tag.
            _ => {
                let fields: Vec<_> = last_mutable_tag
                    .iter()
                    .map(|tag| (IF_NONE_MATCH, tag.clone()))
                    .collect();
                send(&mut sender, Method::GET, "/mutable", &fields)
                    .await
                    .map(|a| match a.status {
                        StatusCode::NOT_MODIFIED => {
                            check(
                                last_mutable_tag.is_some()
                                    && a.headers.get(ETAG) == last_mutable_tag.as_ref(),
                                "/mutable: 304 without a matching precondition".into(),
                            );
                            check(a.body.is_empty(), "/mutable: 304 with a body".into());
                        }
                        StatusCode::OK => {
                            check(
                                a.body.starts_with(b"mutable generation "),
                                "/mutable: wrong body".into(),
                            );
                            let tag = HeaderValue::try_from(tag_of(&a.body)).unwrap();
                            check(
                                a.headers.get(ETAG) == Some(&tag),
                                "/mutable: tag is not its body's".into(),
                            );
                            check(
                                last_mutable_tag.as_ref() != Some(&tag),
                                "/mutable: 200 although the tag matched".into(),
                            );
                            last_mutable_tag = Some(tag);
                        }
                        other => check(false, format!("/mutable: {other}")),
                    })
            }
        };
        match result {
            Ok(()) => {}
            Err(error) => check(false, error),
        }
        match kind {
            2 => seen.not_modified += 1,
            4 => seen.precondition_failed += 1,
            9 if last_mutable_tag == previous_mutable_tag => seen.mutable_unchanged += 1,
            9 => seen.mutable_changed += 1,
            _ => {}
        }
    }
    (errors, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_mixed_traffic_with_zero_errors() {
    let version = Arc::new(AtomicU64::new(0));
    let addr = serve(app(version.clone(), Arc::default())).await;
    // The versioned resource changes while it is read.
    let bumper = tokio::spawn({
        let version = version.clone();
        async move {
            for _ in 0..10_000 {
                tokio::time::sleep(Duration::from_millis(2)).await;
                version.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let run = async {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| tokio::spawn(client(addr, id)))
            .collect();
        let mut errors = Vec::new();
        let mut total = Seen::default();
        for client in clients {
            let (client_errors, seen) = client.await.unwrap();
            errors.extend(client_errors);
            total.not_modified += seen.not_modified;
            total.precondition_failed += seen.precondition_failed;
            total.mutable_unchanged += seen.mutable_unchanged;
            total.mutable_changed += seen.mutable_changed;
        }
        (errors, total)
    };
    let (errors, seen) = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the soak run ends within 60 s");
    bumper.abort();
    assert!(
        version.load(Ordering::SeqCst) > 0,
        "the versioned resource never changed"
    );
    // Every kind of answer happened (kinds 2 and 4 are checked per response above).
    assert!(
        seen.not_modified > 0
            && seen.precondition_failed > 0
            && seen.mutable_unchanged > 0
            && seen.mutable_changed > 0,
        "{seen:?}"
    );
    eprintln!("soak: {seen:?}");
    assert!(
        errors.is_empty(),
        "{} errors in {} requests, first: {:#?}",
        errors.len(),
        CLIENTS * REQUESTS_PER_CLIENT,
        &errors[..errors.len().min(10)]
    );
}
