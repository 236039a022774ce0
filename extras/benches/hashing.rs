//! `cargo bench -p tower-conditional-extras --bench hashing`: the tag hashes beside memcpy and
//! the hashes other servers use for ETags (SHA-1: Express; MD5: Spring, Django; SHA-256: Rack),
//! by body size.
//!
//! Every candidate runs on the same buffers in one run, so their ratios are comparable even on a
//! noisy machine; absolute numbers are not.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sha1::Digest;
use tower_conditional::TagHash;

const SIZES: [usize; 6] = [
    1024,
    2 * 1024,
    4 * 1024,
    64 * 1024,
    1024 * 1024,
    16 * 1024 * 1024,
];

fn hashing(c: &mut Criterion) {
    let mut group = c.benchmark_group("hash");
    for size in SIZES {
        let body: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        let mut copy = vec![0u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        if size >= 1024 * 1024 {
            group.sample_size(20);
        }
        group.bench_with_input(BenchmarkId::new("memcpy", size), &body, |b, body| {
            b.iter(|| copy.copy_from_slice(black_box(body)))
        });
        group.bench_with_input(BenchmarkId::new("tag-default", size), &body, |b, body| {
            b.iter(|| TagHash::CollisionResistant.entity_tag(&[black_box(body)], false))
        });
        #[cfg(feature = "fast-hash")]
        group.bench_with_input(BenchmarkId::new("tag-fast", size), &body, |b, body| {
            b.iter(|| TagHash::Fast.entity_tag(&[black_box(body)], false))
        });
        group.bench_with_input(BenchmarkId::new("sha1", size), &body, |b, body| {
            b.iter(|| sha1::Sha1::digest(black_box(body)))
        });
        group.bench_with_input(BenchmarkId::new("sha256", size), &body, |b, body| {
            b.iter(|| sha2::Sha256::digest(black_box(body)))
        });
        group.bench_with_input(BenchmarkId::new("sha256-ring", size), &body, |b, body| {
            b.iter(|| ring::digest::digest(&ring::digest::SHA256, black_box(body)))
        });
        group.bench_with_input(BenchmarkId::new("md5", size), &body, |b, body| {
            b.iter(|| md5::Md5::digest(black_box(body)))
        });
        group.bench_with_input(BenchmarkId::new("blake3", size), &body, |b, body| {
            b.iter(|| blake3::hash(black_box(body)))
        });
        #[cfg(feature = "fast-hash")]
        group.bench_with_input(BenchmarkId::new("xxh3-128", size), &body, |b, body| {
            b.iter(|| xxhash_rust::xxh3::xxh3_128(black_box(body)))
        });
    }
    group.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
