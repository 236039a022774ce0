//! `cargo bench --bench conditional`: the evaluator, tag hashing by body size, and the layer
//! through `tower::ServiceExt::oneshot` beside the same service without it.

use std::convert::Infallible;
use std::hint::black_box;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::header::{ETAG, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue, Method, Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use tower::{Layer, ServiceExt, service_fn};
use tower_conditional::{ConditionalLayer, EntityTag, TagHash, Validators, evaluate};

fn evaluator(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate");
    let current = Validators::new().with_etag(EntityTag::strong("current").unwrap());
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
            |b, request| b.iter(|| evaluate(&Method::GET, black_box(request), Some(&current))),
        );
    }
    group.finish();
}

fn hashing(c: &mut Criterion) {
    let mut group = c.benchmark_group("tag");
    for size in [1024usize, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024] {
        let body = Bytes::from(vec![0x5au8; size]);
        group.throughput(Throughput::Bytes(size as u64));
        for (name, hash) in [
            ("collision-resistant", TagHash::CollisionResistant),
            ("fast", TagHash::Fast),
        ] {
            group.bench_with_input(BenchmarkId::new(name, size), &body, |b, body| {
                b.iter(|| hash.entity_tag(std::slice::from_ref(black_box(body)), false))
            });
        }
    }
    group.finish();
}

fn layer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let body = Bytes::from(vec![b'x'; 1024]);
    let handler = {
        let body = body.clone();
        service_fn(move |_: Request<Empty<Bytes>>| {
            let body = body.clone();
            async move { Ok::<_, Infallible>(Response::new(Full::new(body))) }
        })
    };
    let tagged = ConditionalLayer::new().layer(handler.clone());
    let tag = TagHash::CollisionResistant.entity_tag(&[&body], false);

    let mut group = c.benchmark_group("layer-1KiB");
    group.bench_function("no-layer-200", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = handler
                    .clone()
                    .oneshot(Request::new(Empty::new()))
                    .await
                    .unwrap();
                response.into_body().collect().await.unwrap()
            })
        })
    });
    group.bench_function("layer-200", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = tagged
                    .clone()
                    .oneshot(Request::new(Empty::new()))
                    .await
                    .unwrap();
                assert!(response.headers().contains_key(ETAG));
                response.into_body().collect().await.unwrap()
            })
        })
    });
    group.bench_function("layer-304", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let request = Request::builder()
                    .header(IF_NONE_MATCH, tag.to_header_value())
                    .body(Empty::new())
                    .unwrap();
                let response = tagged.clone().oneshot(request).await.unwrap();
                assert_eq!(response.status(), 304);
            })
        })
    });
    group.bench_function("layer-post-passthrough", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let request = Request::builder()
                    .method(Method::POST)
                    .body(Empty::new())
                    .unwrap();
                let response = tagged.clone().oneshot(request).await.unwrap();
                response.into_body().collect().await.unwrap()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, evaluator, hashing, layer);
criterion_main!(benches);
