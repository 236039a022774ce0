//! An independent reading of the RFC 9110 grammar, written differently from the crate's parser
//! (split at commas outside quotes, then match each element whole), for the fuzz targets to
//! compare against.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, Method};
use tower_conditional::{Outcome, Representation};

/// `etagc = %x21 / %x23-7E / obs-text`
pub fn is_etagc(byte: u8) -> bool {
    byte == 0x21 || (0x23..=0x7e).contains(&byte) || byte >= 0x80
}

/// `entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE`, the whole of `element`:
/// `(weak, opaque)`.
pub fn entity_tag(element: &[u8]) -> Option<(bool, &[u8])> {
    let (weak, rest) = match element.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, element),
    };
    if rest.len() < 2 || rest[0] != b'"' || rest[rest.len() - 1] != b'"' {
        return None;
    }
    let opaque = &rest[1..rest.len() - 1];
    opaque
        .iter()
        .all(|&b| is_etagc(b))
        .then_some((weak, opaque))
}

pub fn trim_ows(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

#[derive(Debug, PartialEq)]
pub enum Field {
    Absent,
    Any,
    List(Vec<(bool, Vec<u8>)>),
    Malformed,
}

/// `"*" / #entity-tag` over all lines of a field.
pub fn tag_field(headers: &HeaderMap, name: &HeaderName) -> Field {
    let mut lines = headers.get_all(name).iter().peekable();
    if lines.peek().is_none() {
        return Field::Absent;
    }
    let mut tags = Vec::new();
    let mut stars = 0;
    for line in lines {
        let bytes = line.as_bytes();
        let mut elements = Vec::new();
        let mut start = 0;
        let mut quoted = false;
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'"' => quoted = !quoted,
                b',' if !quoted => {
                    elements.push(&bytes[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        if quoted {
            return Field::Malformed;
        }
        elements.push(&bytes[start..]);
        for element in elements {
            let element = trim_ows(element);
            if element.is_empty() {
                continue;
            }
            if element == b"*" {
                stars += 1;
            } else if let Some((weak, opaque)) = entity_tag(element) {
                tags.push((weak, opaque.to_vec()));
            } else {
                return Field::Malformed;
            }
        }
    }
    match (stars, tags.len()) {
        (0, _) => Field::List(tags),
        (1, 0) => Field::Any,
        _ => Field::Malformed,
    }
}

/// One valid HTTP-date, or nothing.
pub fn date_field(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    let mut lines = headers.get_all(name).iter();
    let line = lines.next()?;
    if lines.next().is_some() {
        return None;
    }
    let time = httpdate::parse_http_date(line.to_str().ok()?).ok()?;
    seconds(time)
}

/// A date as a validator: whole seconds, and none at or before 1 s after the epoch (what the
/// Nix store gives every file: it names no version).
pub fn seconds(time: SystemTime) -> Option<u64> {
    let secs = time.duration_since(UNIX_EPOCH).ok()?.as_secs();
    (secs > 1).then_some(secs)
}

/// The content codings whose coded tags name a version (the crate's scheme, after RFC 9110
/// §8.8.3.3's example: `"v1-gzip"` is the gzip copy of `"v1"`).
pub const CODINGS: [&str; 7] = [
    "gzip",
    "br",
    "zstd",
    "deflate",
    "compress",
    "x-gzip",
    "x-compress",
];

/// Whether `opaque` names the version `version`: itself, or a coded tag of it, `version`
/// followed by `-coding` once or more (every coding counts: the fuzzed requests carry no
/// `Accept-Encoding`, which accepts any).
pub fn names_version(opaque: &[u8], version: &[u8]) -> bool {
    fn only_codings(rest: &[u8]) -> bool {
        rest.is_empty()
            || CODINGS.iter().any(|coding| {
                let suffix = format!("-{coding}");
                rest.starts_with(suffix.as_bytes()) && only_codings(&rest[suffix.len()..])
            })
    }
    opaque.starts_with(version) && only_codings(&opaque[version.len()..])
}

/// RFC 9110 §13.2.2, step by step.
pub fn evaluate(method: &Method, headers: &HeaderMap, current: Option<&Representation>) -> Outcome {
    use http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE};
    if matches!(*method, Method::CONNECT | Method::OPTIONS | Method::TRACE) {
        return Outcome::Proceed;
    }
    let etag = current.and_then(|c| c.etag());
    let modified = current.and_then(|c| c.last_modified()).and_then(seconds);
    let if_match = tag_field(headers, &IF_MATCH);
    let passes = match &if_match {
        Field::Absent => true,
        Field::Any => current.is_some(),
        Field::List(tags) => tags.iter().any(|(weak, opaque)| {
            etag.is_some_and(|e| !weak && !e.is_weak() && names_version(opaque, e.opaque()))
        }),
        Field::Malformed => false,
    };
    if !passes {
        return Outcome::PreconditionFailed;
    }
    if if_match == Field::Absent
        && let (Some(since), Some(modified)) = (date_field(headers, &IF_UNMODIFIED_SINCE), modified)
        && modified > since
    {
        return Outcome::PreconditionFailed;
    }
    let safe = matches!(*method, Method::GET | Method::HEAD);
    let if_none_match = tag_field(headers, &IF_NONE_MATCH);
    let passes = match &if_none_match {
        Field::Absent => true,
        Field::Any => current.is_none(),
        Field::List(tags) => !tags
            .iter()
            .any(|(_, opaque)| etag.is_some_and(|e| names_version(opaque, e.opaque()))),
        Field::Malformed => true,
    };
    if !passes {
        return if safe {
            Outcome::NotModified
        } else {
            Outcome::PreconditionFailed
        };
    }
    if if_none_match == Field::Absent
        && safe
        && let (Some(since), Some(modified)) = (date_field(headers, &IF_MODIFIED_SINCE), modified)
        && modified <= since
    {
        return Outcome::NotModified;
    }
    Outcome::Proceed
}
