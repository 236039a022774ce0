//! Entity tags computed from the bytes of a body.
//!
//! A generated tag is a function of the body bytes alone: the same bytes give the same tag
//! however they were chunked, in any process and on any machine (no seed, no time, no address),
//! so replicas behind a shared cache agree. The bytes are hashed once, after buffering, when the
//! total length is known; that is what lets the default choose its hash function by size.

use http::HeaderValue;
use sha2::Digest;

use crate::EntityTag;

/// The hash function behind generated entity tags.
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, header};
/// use tower::ServiceExt;
/// use tower_conditional::{ConditionalLayer, TagHash};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// assert_eq!(TagHash::default(), TagHash::CollisionResistant);
/// let app: Router = Router::new()
///     .route("/", get(|| async { "Hello" }))
///     .layer(ConditionalLayer::new().hash(TagHash::CollisionResistant));
/// let response = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// // 43 characters of base64url between the quotes.
/// assert_eq!(response.headers()[header::ETAG].len(), 45);
/// # #[cfg(feature = "fast-hash")]
/// assert_eq!(TagHash::Fast.entity_tag(&[b"Hello"], false).opaque().len(), 22);
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TagHash {
    /// The default: a collision-resistant 256-bit hash, so that someone who can put text into a
    /// page cannot craft a new version whose tag equals an old one's (which would make caches
    /// revalidate the old version). SHA-256 for bodies up to 1.25 KiB, BLAKE3 above: each is the
    /// faster of the two at those sizes (see BENCHMARKS.md). The tag is 43 characters of
    /// base64url.
    #[default]
    CollisionResistant,
    /// XXH3-128, many times faster but not collision-resistant: use it only where whoever
    /// controls the body bytes could as well change the page's validators directly. The tag is
    /// 22 characters of base64url.
    ///
    /// Only with the `fast-hash` feature (on by default), which brings in `xxhash-rust`. Without
    /// it this variant does not exist, so code that asks for it does not compile, rather than
    /// silently getting tags in another format (replicas built with and without the feature
    /// must not disagree on a body's tag).
    #[cfg(feature = "fast-hash")]
    #[cfg_attr(docsrs, doc(cfg(feature = "fast-hash")))]
    Fast,
}

/// Bodies up to this many bytes are hashed with SHA-256, larger ones with BLAKE3.
// Measured (BENCHMARKS.md): BLAKE3 hashes anything from 1 to 2 KiB in about the time SHA-256
// (SHA-NI) takes for 1.3 KiB, and is 2.5x faster from 4 KiB; below, SHA-256 is faster.
pub(crate) const SHA256_MAX_LEN: usize = 1280;

impl TagHash {
    /// The entity tag the layer generates for a body made of `chunks`: the same bytes give the
    /// same tag however they are split.
    ///
    /// Useful to know a tag ahead of time, for example to precompute the tags of static assets
    /// at build time.
    ///
    /// ```
    /// use tower_conditional::TagHash;
    ///
    /// let whole = TagHash::CollisionResistant.entity_tag(&[b"hello world"], false);
    /// let split = TagHash::CollisionResistant.entity_tag(&[&b"hello"[..], b" ", b"world"], false);
    /// assert_eq!(whole, split);
    /// assert_eq!(whole.to_string(), "\"uU0nuZNNPgilLlLX2n2r-sSE7-N6U4DukIj3rOLvzek\"");
    /// ```
    pub fn entity_tag<C: AsRef<[u8]>>(self, chunks: &[C], weak: bool) -> EntityTag {
        EntityTag::from_validated(self.tag_value(chunks.iter().map(AsRef::as_ref), weak))
    }

    /// [`TagHash::entity_tag`] as a header value.
    pub(crate) fn tag_value<'a>(
        self,
        chunks: impl Iterator<Item = &'a [u8]> + Clone,
        weak: bool,
    ) -> HeaderValue {
        let len: usize = chunks.clone().map(<[u8]>::len).sum();
        let mut digest = [0u8; 32];
        let digest: &[u8] = match self {
            TagHash::CollisionResistant if len <= SHA256_MAX_LEN => {
                let mut hasher = sha2::Sha256::new();
                for chunk in chunks {
                    hasher.update(chunk);
                }
                digest.copy_from_slice(&hasher.finalize());
                &digest
            }
            TagHash::CollisionResistant => {
                let mut hasher = blake3::Hasher::new();
                for chunk in chunks {
                    hasher.update(chunk);
                }
                digest = *hasher.finalize().as_bytes();
                &digest
            }
            #[cfg(feature = "fast-hash")]
            TagHash::Fast => {
                let mut rest = chunks.clone();
                // One frame, the usual case: the one-shot function gives the same hash without
                // the streaming state's buffer copies.
                let hash = match (rest.next(), rest.next()) {
                    (None, _) => xxhash_rust::xxh3::xxh3_128(&[]),
                    (Some(only), None) => xxhash_rust::xxh3::xxh3_128(only),
                    _ => {
                        let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
                        for chunk in chunks {
                            hasher.update(chunk);
                        }
                        hasher.digest128()
                    }
                };
                digest_prefix(&mut digest, &hash.to_be_bytes())
            }
        };
        encode_tag(digest, weak)
    }
}

/// [`TagHash::CollisionResistant`] fed piece by piece, for bodies too large to hold at once
/// (files): the tag it finishes with is the one [`TagHash::entity_tag`] gives for the
/// concatenated bytes. The first [`SHA256_MAX_LEN`] bytes are kept until the length shows
/// which hash function the one-shot tag uses; above that, BLAKE3 takes them and the rest.
#[cfg(feature = "fs")]
pub(crate) struct IncrementalTag {
    state: Incremental,
}

#[cfg(feature = "fs")]
enum Incremental {
    /// At most [`SHA256_MAX_LEN`] bytes so far.
    Small(Vec<u8>),
    Large(Box<blake3::Hasher>),
}

#[cfg(feature = "fs")]
impl IncrementalTag {
    pub(crate) fn new() -> Self {
        Self {
            state: Incremental::Small(Vec::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            Incremental::Small(kept) if kept.len() + bytes.len() <= SHA256_MAX_LEN => {
                kept.extend_from_slice(bytes);
            }
            Incremental::Small(kept) => {
                let mut hasher = Box::new(blake3::Hasher::new());
                hasher.update(kept);
                hasher.update(bytes);
                self.state = Incremental::Large(hasher);
            }
            Incremental::Large(hasher) => {
                hasher.update(bytes);
            }
        }
    }

    /// The tag of every byte given to [`IncrementalTag::update`], in order.
    pub(crate) fn finish(self, weak: bool) -> EntityTag {
        match self.state {
            Incremental::Small(kept) => TagHash::CollisionResistant.entity_tag(&[kept], weak),
            Incremental::Large(hasher) => {
                EntityTag::from_validated(encode_tag(hasher.finalize().as_bytes(), weak))
            }
        }
    }
}

#[cfg(feature = "fast-hash")]
fn digest_prefix<'a>(buffer: &'a mut [u8; 32], bytes: &[u8; 16]) -> &'a [u8] {
    let (head, _) = buffer.split_at_mut(bytes.len());
    head.copy_from_slice(bytes);
    head
}

/// `"<base64url>"` or `W/"<base64url>"`: every base64url character is a valid `etagc`.
fn encode_tag(digest: &[u8], weak: bool) -> HeaderValue {
    // Written on the stack, so the header value's own buffer is the only allocation: W/, two
    // quotes and 43 characters for 32 bytes.
    let mut tag = [0u8; 48];
    let prefix: &[u8] = if weak { b"W/\"" } else { b"\"" };
    let mut end = 0;
    if let Some((head, rest)) = tag.split_at_mut_checked(prefix.len()) {
        head.copy_from_slice(prefix);
        end = prefix.len() + encode_base64url(digest, rest);
    }
    if let Some(quote) = tag.get_mut(end) {
        *quote = b'"';
    }
    // Cannot fail: the bytes are visible ASCII. The fallback keeps the no-panic rule.
    tag.get(..=end)
        .and_then(|tag| HeaderValue::from_bytes(tag).ok())
        .unwrap_or_else(|| HeaderValue::from_static("\"\""))
}

/// The base64url alphabet (RFC 4648 §5).
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Writes `bytes` as base64url without padding (RFC 4648 §5) at the start of `out` and returns
/// the number of characters written: none when `out` has no room for all of them.
///
/// Hand-written for the one use here, a digest of 16 or 32 bytes: the `base64` crate's general
/// engine costs about twice as many instructions for it. The tests compare the two on every
/// length up to 100 bytes.
fn encode_base64url(bytes: &[u8], out: &mut [u8]) -> usize {
    let Some(out) = out.get_mut(..(bytes.len() * 4).div_ceil(3)) else {
        return 0;
    };
    // Each group of 3 bytes is 24 bits, read most significant first, and 4 characters.
    let mut groups = bytes.chunks_exact(3);
    let mut slots = out.chunks_exact_mut(4);
    let mut written = 0;
    for (group, slot) in (&mut groups).zip(&mut slots) {
        if let ([a, b, c], [w, x, y, z]) = (group, slot) {
            let bits = u32::from(*a) << 16 | u32::from(*b) << 8 | u32::from(*c);
            (*w, *x, *y, *z) = (
                sextet(bits >> 18),
                sextet(bits >> 12),
                sextet(bits >> 6),
                sextet(bits),
            );
            written += 4;
        }
    }
    // 1 or 2 bytes left give 2 or 3 characters, without padding.
    let (bits, len) = match groups.remainder() {
        [a] => (u32::from(*a) << 16, 2),
        [a, b] => (u32::from(*a) << 16 | u32::from(*b) << 8, 3),
        _ => return written,
    };
    let rest = out.get_mut(written..).unwrap_or_default();
    for (slot, shift) in rest.iter_mut().zip([18, 12, 6]).take(len) {
        *slot = sextet(bits >> shift);
        written += 1;
    }
    written
}

/// The base64url character of the low 6 bits of `bits`.
fn sextet(bits: u32) -> u8 {
    BASE64URL.get((bits & 63) as usize).copied().unwrap_or(b'A')
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn base64url_is_the_base64_crates() {
        // Every length up to 100 bytes, of bytes covering every 6-bit value in every position.
        let bytes: Vec<u8> = (0..100u32).map(|i| (i * 97 + 13) as u8).collect();
        for len in 0..=bytes.len() {
            let input = &bytes[..len];
            let mut out = [0u8; 200];
            let written = encode_base64url(input, &mut out);
            assert_eq!(
                &out[..written],
                URL_SAFE_NO_PAD.encode(input).as_bytes(),
                "{len}"
            );
        }
        // Every byte value in each of the three positions of a group.
        for byte in 0..=255u8 {
            for input in [[byte, 0, 0], [0, byte, 0], [0, 0, byte], [byte; 3]] {
                let mut out = [0u8; 4];
                assert_eq!(encode_base64url(&input, &mut out), 4);
                assert_eq!(&out[..], URL_SAFE_NO_PAD.encode(input).as_bytes());
            }
        }
        // A buffer too short for the whole encoding gets none of it.
        let mut out = [0u8; 7];
        assert_eq!(encode_base64url(&[0xff; 6], &mut out), 0);
        assert_eq!(out, [0; 7]);
        assert_eq!(encode_base64url(&[0xff; 6], &mut [0u8; 8]), 8);
    }

    const HASHES: &[TagHash] = &[
        TagHash::CollisionResistant,
        #[cfg(feature = "fast-hash")]
        TagHash::Fast,
    ];

    fn tag(hash: TagHash, chunks: &[&[u8]], weak: bool) -> String {
        hash.entity_tag(chunks, weak).to_string()
    }

    /// Known answers: the tag format and hash functions are part of the contract between
    /// replicas and versions, so changing them must be deliberate.
    #[test]
    fn known_answers() {
        let cases = [
            // SHA-256("")
            (
                TagHash::CollisionResistant,
                &b""[..],
                "\"47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU\"",
            ),
            // SHA-256("abc")
            (
                TagHash::CollisionResistant,
                b"abc",
                "\"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0\"",
            ),
            // XXH3-128("") = 99aa06d3014798d86001c324468d497f
            #[cfg(feature = "fast-hash")]
            (TagHash::Fast, b"", "\"maoG0wFHmNhgAcMkRo1Jfw\""),
        ];
        for (hash, body, expected) in cases {
            assert_eq!(tag(hash, &[body], false), expected, "{hash:?} {body:?}");
        }
    }

    #[test]
    fn blake3_above_the_sha256_range() {
        let body = vec![7u8; SHA256_MAX_LEN + 1];
        let expected = URL_SAFE_NO_PAD.encode(blake3::hash(&body).as_bytes());
        assert_eq!(
            tag(TagHash::CollisionResistant, &[&body], false),
            format!("\"{expected}\"")
        );
        let small = vec![7u8; SHA256_MAX_LEN];
        let expected = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&small));
        assert_eq!(
            tag(TagHash::CollisionResistant, &[&small], false),
            format!("\"{expected}\"")
        );
    }

    #[cfg(feature = "fs")]
    #[test]
    fn incremental_tag_equals_the_one_shot_tag() {
        let body: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 253) as u8).collect();
        let sizes = [
            0,
            1,
            13,
            SHA256_MAX_LEN - 1,
            SHA256_MAX_LEN,
            SHA256_MAX_LEN + 1,
            4096,
        ];
        for size in sizes.into_iter().chain([65_536, 300_000]) {
            let whole = TagHash::CollisionResistant.entity_tag(&[&body[..size]], false);
            for piece in [1, 7, 1000, SHA256_MAX_LEN, 65_536] {
                let mut incremental = IncrementalTag::new();
                for chunk in body[..size].chunks(piece) {
                    incremental.update(chunk);
                }
                assert_eq!(
                    incremental.finish(false),
                    whole,
                    "{size} in pieces of {piece}"
                );
            }
            let mut weak = IncrementalTag::new();
            weak.update(&body[..size]);
            assert_eq!(
                weak.finish(true).to_string(),
                format!("W/{whole}"),
                "{size} weak"
            );
        }
    }

    #[test]
    fn independent_of_chunking() {
        let body: Vec<u8> = (0..20_000u32).map(|i| (i * 31 % 251) as u8).collect();
        for &hash in HASHES {
            for size in [body.len(), SHA256_MAX_LEN, 20_000, 1000, 64, 7, 1, 0] {
                let whole = tag(hash, &[&body[..size]], false);
                let pieces: Vec<&[u8]> = body[..size].chunks(13).collect();
                assert_eq!(tag(hash, &pieces, false), whole, "{hash:?} {size}");
            }
        }
    }

    #[test]
    fn different_bytes_give_different_tags_and_valid_entity_tags() {
        for &hash in HASHES {
            let a = tag(hash, &[b"hello"], false);
            let b = tag(hash, &[b"hellp"], false);
            assert_ne!(a, b);
            let weak = tag(hash, &[b"hello"], true);
            assert_eq!(weak, format!("W/{a}"));
            let parsed: EntityTag = weak.parse().unwrap();
            assert!(parsed.is_weak());
        }
    }
}
