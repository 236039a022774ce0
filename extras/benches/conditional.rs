//! `cargo bench -p tower-conditional-extras --bench conditional`: the evaluator, and the layer
//! through `tower::ServiceExt::oneshot` beside the same service without it: 200 with a
//! generated tag, 200 with the handler's tag, 304, and a passed-through POST, for single-frame
//! and 16-chunk bodies. Hash functions by body size are in `benches/hashing.rs` (beside this
//! file); allocations per response in the root's `benches/allocations.rs`.

use std::convert::Infallible;
use std::hint::black_box;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::header::{ETAG, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue, Method, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, Empty, StreamBody};
use tower::{Layer, ServiceExt, service_fn};
use tower_conditional::{ConditionalLayer, EntityTag, Preconditions, Representation, TagHash};

fn evaluator(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate");
    let current = Representation::new().with_etag(EntityTag::strong("current").unwrap());
    for tags in [1usize, 10, 1000] {
        // The match is the last tag, so the whole list is read.
        let mut value: Vec<String> = (1..tags).map(|i| format!("\"old-{i}\"")).collect();
        value.push("\"current\"".to_owned());
        let mut request = HeaderMap::new();
        request.insert(
            IF_NONE_MATCH,
            HeaderValue::from_str(&value.join(", ")).unwrap(),
        );
        group.throughput(Throughput::Elements(tags as u64));
        group.bench_with_input(
            BenchmarkId::new("if-none-match", tags),
            &request,
            |b, request| {
                b.iter(|| {
                    Preconditions::new(Method::GET, black_box(request)).evaluate(Some(&current))
                })
            },
        );
    }
    group.finish();
}

type Frames = futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>;
type HandlerResponse = Response<StreamBody<Frames>>;
type MakeRequest<'a> = &'a dyn Fn() -> Request<Empty<Bytes>>;

/// A handler answering 1 KiB in `pieces` chunks, optionally with its own ETag.
fn handler(
    pieces: usize,
    etag: Option<HeaderValue>,
) -> impl tower::Service<
    Request<Empty<Bytes>>,
    Response = HandlerResponse,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    let body = Bytes::from(vec![b'x'; 1024]);
    let chunks: Vec<Bytes> = (0..pieces)
        .map(|i| body.slice(i * 1024 / pieces..(i + 1) * 1024 / pieces))
        .collect();
    service_fn(move |_: Request<Empty<Bytes>>| {
        let frames: Vec<_> = chunks.iter().cloned().map(|c| Ok(Frame::data(c))).collect();
        let etag = etag.clone();
        async move {
            let mut response = Response::new(StreamBody::new(futures_util::stream::iter(frames)));
            if let Some(etag) = etag {
                response.headers_mut().insert(ETAG, etag);
            }
            Ok(response)
        }
    })
}

/// One request through `service`, its body read to the end.
async fn body_of<S, B>(service: S, request: Request<Empty<Bytes>>) -> Bytes
where
    S: tower::Service<Request<Empty<Bytes>>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let response = service.oneshot(request).await.unwrap();
    response.into_body().collect().await.unwrap().to_bytes()
}

fn layer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let body = vec![b'x'; 1024];
    let tag = TagHash::CollisionResistant.entity_tag(&[&body], false);
    let get = || Request::new(Empty::<Bytes>::new());
    let revalidate = || {
        Request::builder()
            .header(IF_NONE_MATCH, HeaderValue::from(&tag))
            .body(Empty::<Bytes>::new())
            .unwrap()
    };
    let post = || {
        Request::builder()
            .method(Method::POST)
            .body(Empty::<Bytes>::new())
            .unwrap()
    };

    let mut group = c.benchmark_group("layer-1KiB");
    for pieces in [1usize, 16] {
        let plain = handler(pieces, None);
        let tagged = ConditionalLayer::new().layer(plain.clone());
        let own = ConditionalLayer::new().layer(handler(pieces, Some(HeaderValue::from(&tag))));
        let cases: [(&str, MakeRequest, u8); 5] = [
            ("no-layer-200", &get, 0),
            ("layer-200", &get, 1),
            ("layer-handler-etag-200", &get, 2),
            ("layer-304", &revalidate, 1),
            ("layer-post", &post, 1),
        ];
        for (name, request, which) in cases {
            group.bench_function(BenchmarkId::new(name, format!("{pieces}-chunks")), |b| {
                b.iter(|| {
                    runtime.block_on(async {
                        let bytes = match which {
                            0 => body_of(plain.clone(), request()).await,
                            1 => body_of(tagged.clone(), request()).await,
                            _ => body_of(own.clone(), request()).await,
                        };
                        black_box(bytes)
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, evaluator, layer);
criterion_main!(benches);
