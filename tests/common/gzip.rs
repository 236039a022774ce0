//! gzip helpers for the root package's tests (`flate2` is a dev-dependency there only, so
//! `mod.rs`, which `extras/tests` include too, cannot hold them). Include with
//! `#[path = "common/gzip.rs"] mod gzip;`.
#![allow(dead_code)]

use std::io::{Read, Write};

/// Decodes gzip bytes that hold UTF-8 text.
pub fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// Encodes `bytes` with gzip at the best compression.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}
