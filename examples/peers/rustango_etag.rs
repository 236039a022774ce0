//! Bench-only baseline, not code this crate ships: rustango's ETag middleware.
//!
//! Source: repository ujeenet/rustango, crate rustango 0.62.0, `src/etag.rs` (read from the
//! published crate; `crates/rustango/src/etag.rs` in the repository). rustango 0.62.0 is already
//! on axum 0.8 / http 1, so the types are unchanged. Adapted: the module docs and tests are left
//! out; the unused `Default` impl and `max_body_bytes` setter are dropped (dead code in a
//! benchmark binary), and `pub(crate)` marks what `bench_server` uses. The logic is as published:
//! an `axum::middleware::from_fn` layer that passes everything but GET and HEAD through, keeps a
//! handler's own `ETag` (weak comparison, lists and `*`), skips bodies whose size hint has no
//! upper bound or exceeds 4 MiB, otherwise buffers the body and tags it with base64url of
//! FNV-1a 64 (a byte at a time) and the length, then answers `304` on a match.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::header::{ETAG, IF_NONE_MATCH};
use axum::http::{HeaderValue, Request, Response, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse as _;

/// ETag middleware configuration.
#[derive(Clone)]
pub(crate) struct EtagLayer {
    /// Biggest body to hash. A larger response passes through
    /// unchanged. Default 4 MiB; `None` means no cap.
    pub max_body_bytes: Option<usize>,
}

impl EtagLayer {
    /// Hash responses up to 4 MiB.
    #[must_use]
    pub fn new() -> Self {
        Self {
            max_body_bytes: Some(4 * 1024 * 1024),
        }
    }
}

/// Adds `.etag(layer)` to `Router`.
pub(crate) trait EtagRouterExt {
    #[must_use]
    fn etag(self, layer: EtagLayer) -> Self;
}

impl<S: Clone + Send + Sync + 'static> EtagRouterExt for Router<S> {
    fn etag(self, layer: EtagLayer) -> Self {
        let cfg = Arc::new(layer);
        self.layer(axum::middleware::from_fn(
            move |req: Request<Body>, next: Next| {
                let cfg = cfg.clone();
                async move { handle(cfg, req, next).await }
            },
        ))
    }
}

async fn handle(cfg: Arc<EtagLayer>, req: Request<Body>, next: Next) -> Response<Body> {
    // A 304 answers only a read; a write has already run.
    if !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) {
        return next.run(req).await;
    }
    // Read If-None-Match before the request is consumed.
    let client_etag = req
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let response = next.run(req).await;
    let (parts, body) = response.into_parts();

    // Only 2xx responses get an ETag; a 206 body is a slice, not the representation.
    if !parts.status.is_success() || parts.status == StatusCode::PARTIAL_CONTENT {
        return Response::from_parts(parts, body);
    }
    // The handler's own validator wins (static files): no rehash, no buffering.
    if let Some(etag) = parts.headers.get(ETAG).and_then(|v| v.to_str().ok()) {
        if client_etag.is_some_and(|c| if_none_match(&c, etag)) {
            return not_modified(&Response::from_parts(parts, Body::empty()));
        }
        return Response::from_parts(parts, body);
    }

    // Decide from the size hint, before reading: a stream or an
    // over-cap body passes through intact instead of being blanked.
    let limit = cfg.max_body_bytes.unwrap_or(usize::MAX);
    let fits = axum::body::HttpBody::size_hint(&body)
        .upper()
        .is_some_and(|n| n <= limit as u64);
    if !fits {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = to_bytes(body, limit).await else {
        // The stream failed mid-body; there is nothing honest to send.
        tracing::error!(target: "rustango::error", "etag: response body failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };

    if bytes.is_empty() {
        return Response::from_parts(parts, Body::from(bytes));
    }

    let etag = compute_etag(&bytes);
    let mut response = Response::from_parts(parts, Body::from(bytes));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(ETAG, v);
    }

    if client_etag.is_some_and(|c| if_none_match(&c, &etag)) {
        return not_modified(&response);
    }

    response
}

/// Whether an `If-None-Match` value — a list of etags, or `*` — matches
/// `etag`. A conditional GET uses weak comparison (RFC 7232 §3.2).
pub(crate) fn if_none_match(client: &str, etag: &str) -> bool {
    let ours = normalize_etag(etag);
    client.trim() == "*"
        || client
            .split(',')
            .any(|candidate| normalize_etag(candidate) == ours)
}

/// Drop the body but keep the caching headers a 200 would have sent
/// (RFC 7232 §4.1), so a downstream cache keeps freshness and vary key.
fn not_modified(response: &Response<Body>) -> Response<Body> {
    let mut not_modified = Response::builder()
        .status(StatusCode::NOT_MODIFIED)
        .body(Body::empty())
        .unwrap();
    let carry = [
        ETAG,
        axum::http::header::CACHE_CONTROL,
        axum::http::header::VARY,
        axum::http::header::EXPIRES,
        axum::http::header::CONTENT_LOCATION,
        axum::http::header::DATE,
    ];
    for (k, v) in response.headers() {
        if carry.contains(k) {
            not_modified.headers_mut().insert(k.clone(), v.clone());
        }
    }
    not_modified
}

/// ETag for `bytes`: base64 of a 64-bit FNV-1a hash plus the length.
///
/// Not a cryptographic hash. A collision only means a wrong 304, and
/// hash plus length is good enough for cache validation.
pub(crate) fn compute_etag(bytes: &[u8]) -> String {
    use base64::Engine;
    let hash = fnv1a_64(bytes);
    let len = bytes.len() as u64;
    let mut buf = [0u8; 16];
    buf[..8].copy_from_slice(&hash.to_be_bytes());
    buf[8..].copy_from_slice(&len.to_be_bytes());
    format!(
        "\"{}\"",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
    )
}

/// 64-bit FNV-1a hash. Constants from the FNV reference.
const FNV_OFFSET_64: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME_64: u64 = 0x0000_0100_0000_01b3;

fn fnv1a_64(bytes: &[u8]) -> u64 {
    let mut hash = FNV_OFFSET_64;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(FNV_PRIME_64);
    }
    hash
}

/// Drop the quotes and any `W/` prefix so two etags can be compared.
fn normalize_etag(s: &str) -> &str {
    let s = s.trim();
    let s = s.strip_prefix("W/").unwrap_or(s);
    s.trim_matches('"')
}
