//! Bounded memory, measured: a counting global allocator (this test binary only) tracks live
//! heap bytes and their peak while responses are driven by hand on the test thread.
//!
//! - A body over the limit streams through: the peak stays near the limit, however large the
//!   body (64 MiB here), also with several responses in flight at once.
//! - `text/event-stream` and gRPC bodies are never buffered: the response is ready before the
//!   body is polled, and the first event is readable while the stream stays open.
//! - The control: a body under the limit is held whole, and the counter sees it.
//!
//! The tests take a lock so that only one measures at a time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, ETAG};
use http::{HeaderValue, Request, Response};
use http_body::{Body, Frame};
use http_body_util::Empty;
use tower::{Layer, Service, service_fn};
use tower_conditional::{ConditionalBody, ConditionalLayer};

// ---------------------------------------------------------------------------------------------
// The counting allocator: `System`, plus two counters.

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = LIVE.fetch_add(bytes, Ordering::SeqCst) + bytes;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the `GlobalAlloc`
// contract; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block this allocator (that is, `System`) gave out.
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
            grew(new_size);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static MEASURING: Mutex<()> = Mutex::new(());

/// Runs `f` and returns its result and the peak of live heap bytes above the level at the start.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let result = f();
    let peak = PEAK.load(Ordering::SeqCst).saturating_sub(base);
    eprintln!("peak live heap: {peak} bytes");
    (result, peak)
}

// ---------------------------------------------------------------------------------------------
// A body that makes its chunks as it is read, so it holds nothing itself.

const CHUNK: usize = 64 * 1024;
const LIMIT: usize = 256 * 1024;

struct Generated {
    remaining: usize,
    /// Stay pending (stream open) once the chunks run out, instead of ending.
    stay_open: bool,
}

impl Body for Generated {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return if self.stay_open {
                Poll::Pending
            } else {
                Poll::Ready(None)
            };
        }
        self.remaining -= 1;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'e'; CHUNK])))))
    }
}

type Future_ =
    Pin<Box<dyn Future<Output = Result<Response<ConditionalBody<Generated>>, Infallible>> + Send>>;

/// A response future of the layer around a handler that answers with `chunks` generated chunks.
fn respond(chunks: usize, content_type: Option<&'static str>, stay_open: bool) -> Future_ {
    let mut service = ConditionalLayer::new()
        .buffer_limit(LIMIT)
        .layer(service_fn(move |_: Request<Empty<Bytes>>| {
            let mut response = Response::new(Generated {
                remaining: chunks,
                stay_open,
            });
            if let Some(content_type) = content_type {
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            }
            std::future::ready(Ok::<_, Infallible>(response))
        }));
    let request = Request::get("/").body(Empty::new()).unwrap();
    Box::pin(service.call(request))
}

fn context() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

/// Reads a body to its end, dropping each frame; returns the bytes seen.
fn drain<B: Body<Data = Bytes> + Unpin>(body: &mut B) -> usize
where
    B::Error: std::fmt::Debug,
{
    let mut cx = context();
    let mut seen = 0;
    loop {
        match Pin::new(&mut *body).poll_frame(&mut cx) {
            Poll::Ready(Some(frame)) => {
                seen += frame.unwrap().into_data().map_or(0, |data| data.len());
            }
            Poll::Ready(None) => return seen,
            Poll::Pending => panic!("generated bodies are always ready"),
        }
    }
}

#[test]
fn a_64_mib_body_over_the_limit_never_holds_more_than_the_limit() {
    let _lock = MEASURING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let chunks = 64 * 1024 * 1024 / CHUNK;
    let ((), peak) = peak_during(|| {
        let mut cx = context();
        let Poll::Ready(Ok(response)) = respond(chunks, None, false).as_mut().poll(&mut cx) else {
            panic!("ready at once: the body never waits");
        };
        assert!(!response.headers().contains_key(ETAG));
        let mut body = response.into_body();
        assert_eq!(drain(&mut body), chunks * CHUNK);
    });
    // The limit, the chunk that crossed it, the chunk being read, and bookkeeping.
    let bound = LIMIT + 2 * CHUNK + 64 * 1024;
    assert!(peak <= bound, "peak {peak} bytes > {bound}");
    assert!(
        peak >= LIMIT,
        "peak {peak}: the buffered prefix was not seen"
    );
}

#[test]
fn eight_responses_in_flight_hold_at_most_the_limit_each() {
    let _lock = MEASURING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let chunks = 8 * 1024 * 1024 / CHUNK;
    let responses = 8;
    let ((), peak) = peak_during(|| {
        let mut cx = context();
        let mut bodies: Vec<_> = (0..responses)
            .map(
                |_| match respond(chunks, None, false).as_mut().poll(&mut cx) {
                    Poll::Ready(Ok(response)) => response.into_body(),
                    _ => panic!("ready at once"),
                },
            )
            .collect();
        // Read them round-robin, one frame each in turn, so all are open together.
        let mut seen = vec![0usize; responses];
        let mut open = responses;
        while open > 0 {
            open = 0;
            for (body, seen) in bodies.iter_mut().zip(&mut seen) {
                if let Poll::Ready(Some(frame)) = Pin::new(&mut *body).poll_frame(&mut cx) {
                    *seen += frame.unwrap().into_data().unwrap().len();
                    open += 1;
                }
            }
        }
        assert!(seen.iter().all(|&seen| seen == chunks * CHUNK));
    });
    let bound = responses * (LIMIT + 2 * CHUNK) + 128 * 1024;
    assert!(peak <= bound, "peak {peak} bytes > {bound}");
}

#[test]
fn event_streams_and_grpc_are_never_buffered() {
    let _lock = MEASURING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for content_type in ["text/event-stream", "application/grpc"] {
        let ((), peak) = peak_during(|| {
            let mut cx = context();
            // 100 chunks are waiting, and then the stream stays open.
            let Poll::Ready(Ok(response)) = respond(100, Some(content_type), true)
                .as_mut()
                .poll(&mut cx)
            else {
                panic!("{content_type}: the head must not wait for the body");
            };
            assert!(!response.headers().contains_key(ETAG));
            let mut body = response.into_body();
            // The first event is there while the stream is open.
            let Poll::Ready(Some(Ok(first))) = Pin::new(&mut body).poll_frame(&mut cx) else {
                panic!("{content_type}: the first event must be readable");
            };
            assert_eq!(first.into_data().unwrap().len(), CHUNK);
            for _ in 1..100 {
                assert!(matches!(
                    Pin::new(&mut body).poll_frame(&mut cx),
                    Poll::Ready(Some(Ok(_)))
                ));
            }
            assert!(Pin::new(&mut body).poll_frame(&mut cx).is_pending());
        });
        // One event at a time: nothing accumulates.
        let bound = 2 * CHUNK + 32 * 1024;
        assert!(peak <= bound, "{content_type}: peak {peak} bytes > {bound}");
    }
}

#[test]
fn control_a_body_under_the_limit_is_held_whole() {
    let _lock = MEASURING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let chunks = LIMIT / CHUNK;
    let ((), peak) = peak_during(|| {
        let mut cx = context();
        let Poll::Ready(Ok(response)) = respond(chunks, None, false).as_mut().poll(&mut cx) else {
            panic!("ready at once");
        };
        assert!(response.headers().contains_key(ETAG));
        let mut body = response.into_body();
        assert_eq!(drain(&mut body), LIMIT);
    });
    assert!(
        peak >= LIMIT,
        "peak {peak}: the counter missed the buffered body"
    );
}
