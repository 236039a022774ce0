//! The `headers` crate's typed headers (feature `headers`): conversions between [`EntityTag`]
//! and `headers::ETag` (and, on [`Representation`](crate::Representation), `LastModified`).
//!
//! `headers` keeps its own entity-tag type private (hyperium/headers#49), so tags cross over
//! through their field value: [`headers::Header::encode`] and [`headers::Header::decode`] of
//! one `HeaderValue`, which shares the bytes.
//!
//! Typed preconditions (`IfMatch`, `IfNoneMatch`, `IfModifiedSince`, `IfUnmodifiedSince`,
//! which axum-extra's `TypedHeader` extracts) are evaluated as the same fields on the wire:
//! insert them into a [`HeaderMap`](http::HeaderMap) with
//! [`HeaderMapExt::typed_insert`](headers::HeaderMapExt::typed_insert) and read that with
//! [`Preconditions::new`](crate::Preconditions::new).
//!
//! ```
//! use headers::{ETag, HeaderMapExt, IfNoneMatch};
//! use http::{HeaderMap, Method};
//! use tower_conditional::{EntityTag, Outcome, Preconditions, Representation};
//!
//! let current = Representation::new().with_etag(EntityTag::strong("v2").unwrap());
//! let client_has: ETag = "\"v2\"".parse().unwrap();
//!
//! let mut request = HeaderMap::new();
//! request.typed_insert(IfNoneMatch::from(client_has));
//! let preconditions = Preconditions::new(Method::GET, &request);
//! assert_eq!(preconditions.evaluate(Some(&current)), Outcome::NotModified);
//! ```
//!
//! When the request's own header map is at hand, read it directly instead of decoding typed
//! headers from it first: decoding drops a malformed field, and a malformed `If-Match` must
//! fail (412, RFC 9110 §13.1.1) where an absent one lets the request proceed.

use headers::{ETag, Header};
use http::HeaderValue;

use crate::{EntityTag, InvalidEntityTag};

impl TryFrom<&EntityTag> for ETag {
    type Error = InvalidEntityTag;

    fn try_from(tag: &EntityTag) -> Result<Self, Self::Error> {
        let value = HeaderValue::from(tag);
        ETag::decode(&mut std::iter::once(&value)).map_err(|_| InvalidEntityTag::new())
    }
}

/// `headers::ETag` of a tag, as `TryFrom<&EntityTag>`: never fails.
///
/// ```
/// use tower_conditional::{EntityTag, TagHash};
///
/// let tag = TagHash::default().entity_tag(&[b"hello"], false);
/// let typed = headers::ETag::try_from(tag.clone()).unwrap();
/// assert_eq!(EntityTag::try_from(typed).unwrap(), tag);
/// ```
impl TryFrom<EntityTag> for ETag {
    type Error = InvalidEntityTag;

    fn try_from(tag: EntityTag) -> Result<Self, Self::Error> {
        ETag::try_from(&tag)
    }
}

/// The [`EntityTag`] of a `headers::ETag`.
///
/// Fails for the values `headers` lets through and RFC 9110 §8.8.3 does not: a space or a tab
/// between the quotes (`etagc` excludes them; `headers` only checks for them with a
/// `debug_assert!`, so release builds accept them).
///
/// ```
/// use tower_conditional::EntityTag;
///
/// let typed: headers::ETag = "\"xyzzy\"".parse().unwrap();
/// let tag = EntityTag::try_from(&typed).unwrap();
/// assert_eq!(tag, EntityTag::strong("xyzzy").unwrap());
/// ```
impl TryFrom<&ETag> for EntityTag {
    type Error = InvalidEntityTag;

    fn try_from(typed: &ETag) -> Result<Self, Self::Error> {
        let mut values: Vec<HeaderValue> = Vec::with_capacity(1);
        typed.encode(&mut values);
        match values.as_slice() {
            [value] => EntityTag::try_from(value),
            _ => Err(InvalidEntityTag::new()),
        }
    }
}

/// The [`EntityTag`] of a `headers::ETag`, as `TryFrom<&ETag>` (the field value is shared, not
/// copied, either way).
///
/// ```
/// use tower_conditional::EntityTag;
///
/// let typed: headers::ETag = "W/\"7\"".parse().unwrap();
/// assert_eq!(EntityTag::try_from(typed).unwrap(), EntityTag::weak("7").unwrap());
/// ```
impl TryFrom<ETag> for EntityTag {
    type Error = InvalidEntityTag;

    fn try_from(typed: ETag) -> Result<Self, Self::Error> {
        EntityTag::try_from(&typed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use headers::{HeaderMapExt, IfMatch, IfModifiedSince, IfNoneMatch, IfUnmodifiedSince};
    use http::{HeaderMap, Method};

    use crate::{Outcome, Preconditions, Representation, TagHash};

    #[test]
    fn entity_tags_survive_the_round_trip() {
        let obs_text = EntityTag::parse(b"\"caf\xc3\xa9\"").unwrap();
        let tags = [
            EntityTag::strong("").unwrap(),
            EntityTag::weak("").unwrap(),
            EntityTag::strong("!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").unwrap(),
            EntityTag::weak("W/").unwrap(),
            obs_text,
            TagHash::default().entity_tag(&[b"body"], true),
        ];
        for tag in tags {
            let typed = ETag::try_from(&tag).unwrap();
            assert_eq!(typed.is_weak(), tag.is_weak(), "{tag}");
            assert_eq!(EntityTag::try_from(&typed).unwrap(), tag);
            let mut map = HeaderMap::new();
            map.typed_insert(typed);
            assert_eq!(map["etag"], HeaderValue::from(&tag));
        }
    }

    /// `headers` checks these bytes with a `debug_assert!` only, so they get this far in release
    /// builds alone (`cargo test --release`).
    #[cfg(not(debug_assertions))]
    #[test]
    fn lax_typed_tags_are_refused() {
        for lax in ["\"a b\"", "\"a\tb\""] {
            let typed: ETag = lax.parse().unwrap();
            assert!(EntityTag::try_from(&typed).is_err(), "{lax:?}");
            assert_eq!(Representation::from_typed(Some(&typed), None).etag(), None);
        }
    }

    #[test]
    fn typed_preconditions_read_as_the_same_fields_on_the_wire() {
        let modified = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let current = Representation::new()
            .with_etag(EntityTag::strong("v2").unwrap())
            .with_last_modified(modified);
        let v1: ETag = "\"v1\"".parse().unwrap();
        let v2: ETag = "W/\"v2\"".parse().unwrap();
        let earlier = modified - Duration::from_secs(1);
        let typed = |insert: &dyn Fn(&mut HeaderMap)| {
            let mut headers = HeaderMap::new();
            insert(&mut headers);
            Preconditions::new(Method::GET, &headers).evaluate(Some(&current))
        };
        assert_eq!(typed(&|_| {}), Outcome::Proceed);
        assert_eq!(
            typed(&|h| h.typed_insert(IfNoneMatch::from(v2.clone()))),
            Outcome::NotModified
        );
        // §13.2.2 step 4 only without If-None-Match.
        assert_eq!(
            typed(&|h| {
                h.typed_insert(IfNoneMatch::from(v1.clone()));
                h.typed_insert(IfModifiedSince::from(modified));
            }),
            Outcome::Proceed
        );
        assert_eq!(
            typed(&|h| h.typed_insert(IfModifiedSince::from(earlier))),
            Outcome::Proceed
        );
        // Strong comparison: a weak tag never matches (§13.1.1).
        assert_eq!(
            typed(&|h| h.typed_insert(IfMatch::from(v2.clone()))),
            Outcome::PreconditionFailed
        );
        // If-Unmodified-Since only without If-Match (§13.2.2 step 2).
        assert_eq!(
            typed(&|h| {
                h.typed_insert(IfMatch::any());
                h.typed_insert(IfUnmodifiedSince::from(earlier));
            }),
            Outcome::Proceed
        );
        assert_eq!(
            typed(&|h| h.typed_insert(IfUnmodifiedSince::from(earlier))),
            Outcome::PreconditionFailed
        );
    }

    #[test]
    fn representations_to_typed_and_back() {
        let modified = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let representation = Representation::new()
            .with_etag(EntityTag::weak("x").unwrap())
            .with_last_modified(modified);
        let etag = representation.typed_etag().unwrap();
        let last_modified = representation.typed_last_modified().unwrap();
        assert_eq!(
            Representation::from_typed(Some(&etag), Some(&last_modified)),
            representation
        );
        assert_eq!(
            Representation::from_typed(None, None),
            Representation::new()
        );
        // Years past 9999 do not panic: a future date is sent as now (§8.8.2.1).
        let far =
            Representation::new().with_last_modified(UNIX_EPOCH + Duration::from_secs(1 << 40));
        let sent = SystemTime::from(far.typed_last_modified().unwrap());
        assert!(sent <= SystemTime::now());
    }
}
