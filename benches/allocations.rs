//! `cargo bench --bench allocations`: heap allocations per response, counted by a global
//! allocator, with and without the layer, by body size and chunking. Counts, unlike timings,
//! are exact on a noisy machine.
//!
//! What it shows: the layer's allocations per buffered response do not grow with the body (the
//! chunks are kept, not copied; only the list that holds them grows with their number), and
//! evaluating a 1000-tag `If-None-Match` allocates nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::header::IF_NONE_MATCH;
use http::{HeaderMap, HeaderValue, Method, Request, Response};
use http_body_util::{BodyExt, Empty, StreamBody};
use tower::{Layer, ServiceExt, service_fn};
use tower_conditional::{ConditionalLayer, EntityTag, Preconditions, Representation};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn counted<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let (a, b) = (
        ALLOCATIONS.load(Ordering::SeqCst),
        BYTES.load(Ordering::SeqCst),
    );
    let value = f();
    let (a2, b2) = (
        ALLOCATIONS.load(Ordering::SeqCst),
        BYTES.load(Ordering::SeqCst),
    );
    (value, a2 - a, b2 - b)
}

/// Allocations and bytes allocated for one response of `chunks`, read to the end.
fn per_response(
    runtime: &tokio::runtime::Runtime,
    layered: bool,
    chunks: &[Bytes],
) -> (usize, usize) {
    let chunks = chunks.to_vec();
    let handler = service_fn(move |_: Request<Empty<Bytes>>| {
        let frames = chunks
            .clone()
            .into_iter()
            .map(|chunk| Ok::<_, Infallible>(http_body::Frame::data(chunk)));
        let body = StreamBody::new(futures_util::stream::iter(frames));
        async move { Ok::<_, Infallible>(Response::new(body)) }
    });
    let run = |runtime: &tokio::runtime::Runtime| {
        runtime.block_on(async {
            let response = if layered {
                let service = ConditionalLayer::new().layer(handler.clone());
                let response = service.oneshot(Request::new(Empty::new())).await.unwrap();
                response.map(http_body_util::Either::Left)
            } else {
                let response = handler
                    .clone()
                    .oneshot(Request::new(Empty::new()))
                    .await
                    .unwrap();
                response.map(http_body_util::Either::Right)
            };
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .len()
        })
    };
    run(runtime); // warm-up: lazily initialised state is not the layer's cost
    let (_, allocations, bytes) = counted(|| run(runtime));
    (allocations, bytes)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    println!("heap allocations per response, read to the end (collect() itself allocates too)");
    println!(
        "{:>10} {:>7} | {:>12} {:>12} | {:>12} {:>12} | {:>10}",
        "body", "chunks", "allocs", "bytes", "allocs+layer", "bytes+layer", "layer adds"
    );
    for size in [1024usize, 64 * 1024, 1024 * 1024] {
        for pieces in [1usize, 16] {
            let body = Bytes::from(vec![7u8; size]);
            let chunks: Vec<Bytes> = (0..pieces)
                .map(|i| body.slice(i * size / pieces..(i + 1) * size / pieces))
                .collect();
            let (a0, b0) = per_response(&runtime, false, &chunks);
            let (a1, b1) = per_response(&runtime, true, &chunks);
            println!(
                "{:>10} {:>7} | {:>12} {:>12} | {:>12} {:>12} | {:>4} allocs, {:>5} bytes",
                size,
                pieces,
                a0,
                b0,
                a1,
                b1,
                a1 as isize - a0 as isize,
                b1 as isize - b0 as isize
            );
        }
    }

    let current = Representation::new().with_etag(EntityTag::strong("current").unwrap());
    let list: Vec<String> = (0..1000).map(|i| format!("\"old-{i}\"")).collect();
    let mut request = HeaderMap::new();
    request.insert(
        IF_NONE_MATCH,
        HeaderValue::from_str(&list.join(", ")).unwrap(),
    );
    // Reading the request's precondition fields (one list of their lines) is counted apart
    // from evaluating them.
    let (preconditions, allocations, bytes) = counted(|| Preconditions::new(Method::GET, &request));
    println!(
        "\nPreconditions::new() with a 1000-tag If-None-Match: {allocations} allocations, {bytes} bytes"
    );
    let (outcome, allocations, bytes) = counted(|| preconditions.evaluate(Some(&current)));
    println!(
        "evaluate() with a 1000-tag If-None-Match: {outcome:?}, {allocations} allocations, {bytes} bytes"
    );
}
