//! The `headers` crate's typed headers (feature `headers`): conversions between
//! [`EntityTag`] / [`Validators`] and `headers::ETag` / `headers::LastModified`, and
//! [`TypedPreconditions`] to run [`evaluate`] on typed `IfMatch`, `IfNoneMatch`,
//! `IfModifiedSince` and `IfUnmodifiedSince` values.
//!
//! `headers` keeps its own entity-tag type private (hyperium/headers#49), so tags cross over
//! through their field value: [`headers::Header::encode`] and [`headers::Header::decode`] of
//! one `HeaderValue`, which shares the bytes: no string is formatted, the receiving side only
//! checks the bytes once.

use std::time::SystemTime;

use headers::{
    ETag, Header, HeaderMapExt, IfMatch, IfModifiedSince, IfNoneMatch, IfUnmodifiedSince,
    LastModified,
};
use http::{HeaderMap, HeaderValue, Method};

use crate::fields::date_to_send;
use crate::{EntityTag, InvalidEntityTag, Outcome, Validators, evaluate};

/// `headers::ETag` of a tag.
///
/// Never fails: `headers` accepts every RFC 9110 `entity-tag` (§8.8.3), and an [`EntityTag`]
/// always holds one. The `Result` is there because `headers::ETag` has no
/// infallible constructor to build it with, and this crate does not panic.
///
/// ```
/// use tower_conditional::EntityTag;
///
/// let tag = EntityTag::weak("v1").unwrap();
/// let typed = headers::ETag::try_from(&tag).unwrap();
/// assert!(typed.is_weak());
/// assert_eq!(typed, "W/\"v1\"".parse::<headers::ETag>().unwrap());
/// ```
impl TryFrom<&EntityTag> for ETag {
    type Error = InvalidEntityTag;

    fn try_from(tag: &EntityTag) -> Result<Self, Self::Error> {
        let value = tag.to_header_value();
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
            [value] => EntityTag::from_header_value(value),
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

/// Typed-header constructors and views (feature `headers`).
impl Validators {
    /// The validators a response with these typed `ETag` and `Last-Modified` fields carries.
    ///
    /// An `ETag` that is not a valid RFC 9110 entity tag (see `EntityTag`'s `TryFrom<&ETag>`)
    /// counts as absent, as a malformed field does in [`Validators::from_headers`].
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use headers::{ETag, LastModified};
    /// use tower_conditional::{EntityTag, Validators};
    ///
    /// let modified = UNIX_EPOCH + Duration::from_secs(784_111_777);
    /// let etag: ETag = "\"v7\"".parse().unwrap();
    /// let validators = Validators::from_typed(Some(&etag), Some(&LastModified::from(modified)));
    /// assert_eq!(validators.etag, Some(EntityTag::strong("v7").unwrap()));
    /// assert_eq!(validators.last_modified, Some(modified));
    /// ```
    pub fn from_typed(etag: Option<&ETag>, last_modified: Option<&LastModified>) -> Self {
        Self {
            etag: etag.and_then(|etag| EntityTag::try_from(etag).ok()),
            last_modified: last_modified.map(|&date| SystemTime::from(date)),
        }
    }

    /// The entity tag as a typed `ETag` header, if there is one.
    ///
    /// ```
    /// use headers::HeaderMapExt;
    /// use tower_conditional::{EntityTag, Validators};
    ///
    /// let validators = Validators::new().with_etag(EntityTag::strong("v7").unwrap());
    /// let mut response = http::HeaderMap::new();
    /// if let Some(etag) = validators.typed_etag() {
    ///     response.typed_insert(etag);
    /// }
    /// assert_eq!(response["etag"], "\"v7\"");
    /// assert_eq!(Validators::new().typed_etag(), None);
    /// ```
    pub fn typed_etag(&self) -> Option<ETag> {
        self.etag.as_ref().and_then(|tag| ETag::try_from(tag).ok())
    }

    /// The modification date as a typed `Last-Modified` header for a response sent now, if it
    /// can be sent.
    ///
    /// `headers::LastModified::from(SystemTime)` panics for times before 1970 or after year
    /// 9999; this does not: a date later than now becomes now (RFC 9110 §8.8.2.1), and a date
    /// before 1970 gives `None` (the field is left out).
    ///
    /// ```
    /// use std::time::{Duration, SystemTime, UNIX_EPOCH};
    /// use headers::LastModified;
    /// use tower_conditional::Validators;
    ///
    /// let modified = UNIX_EPOCH + Duration::from_secs(784_111_777);
    /// let validators = Validators::new().with_last_modified(modified);
    /// assert_eq!(validators.typed_last_modified(), Some(LastModified::from(modified)));
    ///
    /// let before_1970 = Validators::new().with_last_modified(UNIX_EPOCH - Duration::from_secs(1));
    /// assert_eq!(before_1970.typed_last_modified(), None);
    ///
    /// let tomorrow = SystemTime::now() + Duration::from_secs(86_400);
    /// let future = Validators::new().with_last_modified(tomorrow);
    /// let sent = SystemTime::from(future.typed_last_modified().unwrap());
    /// assert!(sent <= SystemTime::now());
    /// ```
    pub fn typed_last_modified(&self) -> Option<LastModified> {
        let modified = date_to_send(self.last_modified?, SystemTime::now())?;
        Some(LastModified::from(modified))
    }
}

/// A request's preconditions as typed headers, for [`evaluate`].
///
/// A field left `None` is absent from the request. [`TypedPreconditions::evaluate`] encodes the
/// fields into a [`HeaderMap`] with `typed_insert` and runs [`evaluate`] on it, so the outcome
/// is exactly the one the same fields on the wire would get (RFC 9110 §13.2.2).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use headers::{ETag, IfMatch, IfModifiedSince};
/// use http::Method;
/// use tower_conditional::{EntityTag, Outcome, TypedPreconditions, Validators};
///
/// let modified = UNIX_EPOCH + Duration::from_secs(784_111_777);
/// let current = Validators::new()
///     .with_etag(EntityTag::strong("v2").unwrap())
///     .with_last_modified(modified);
///
/// // A revalidation by date: not modified since.
/// let revalidate = TypedPreconditions {
///     if_modified_since: Some(IfModifiedSince::from(modified)),
///     ..TypedPreconditions::default()
/// };
/// assert_eq!(revalidate.evaluate(&Method::GET, Some(&current)), Outcome::NotModified);
///
/// // A write on a version the server no longer has.
/// let stale: ETag = "\"v1\"".parse().unwrap();
/// let write = TypedPreconditions {
///     if_match: Some(IfMatch::from(stale)),
///     ..TypedPreconditions::default()
/// };
/// assert_eq!(write.evaluate(&Method::PUT, Some(&current)), Outcome::PreconditionFailed);
/// ```
///
/// # How typed headers compose with [`evaluate`]
///
/// [`evaluate`] reads the request's fields from a [`HeaderMap`]; typed values get there with
/// [`headers::HeaderMapExt::typed_insert`], which is what [`TypedPreconditions::to_headers`]
/// and [`TypedPreconditions::evaluate`] do:
///
/// ```
/// use headers::{ETag, HeaderMapExt, IfNoneMatch};
/// use http::{HeaderMap, Method};
/// use tower_conditional::{EntityTag, Outcome, Validators, evaluate};
///
/// let current = Validators::new().with_etag(EntityTag::strong("v2").unwrap());
/// let client_has: ETag = "\"v2\"".parse().unwrap();
///
/// let mut request = HeaderMap::new();
/// request.typed_insert(IfNoneMatch::from(client_has));
/// assert_eq!(evaluate(&Method::GET, &request, Some(&current)), Outcome::NotModified);
/// ```
///
/// When the request's own [`HeaderMap`] is at hand, give it to [`evaluate`] (or to
/// [`Preconditions`](crate::Preconditions)) directly instead of decoding typed headers from it
/// first: decoding drops a malformed field, and a malformed `If-Match` must fail (412, RFC 9110
/// §13.1.1) where an absent one lets the request proceed.
///
/// With axum, axum-extra's `TypedHeader` extracts these types in a handler
/// (`Option<TypedHeader<IfMatch>>` and so on: make sure the version you use rejects a malformed
/// field rather than reading it as absent) and `TypedHeader(etag)` sets one on a response. The
/// [`Preconditions`](crate::Preconditions) extractor (feature `axum`) reads all four raw fields
/// at once without that detour, and `(validators, body)` sets `ETag` and `Last-Modified`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TypedPreconditions {
    /// `If-Match` (RFC 9110 §13.1.1).
    pub if_match: Option<IfMatch>,
    /// `If-None-Match` (RFC 9110 §13.1.2).
    pub if_none_match: Option<IfNoneMatch>,
    /// `If-Modified-Since` (RFC 9110 §13.1.3).
    pub if_modified_since: Option<IfModifiedSince>,
    /// `If-Unmodified-Since` (RFC 9110 §13.1.4).
    pub if_unmodified_since: Option<IfUnmodifiedSince>,
}

impl TypedPreconditions {
    /// The fields as request headers, each encoded with `typed_insert`.
    ///
    /// ```
    /// use headers::IfNoneMatch;
    /// use tower_conditional::TypedPreconditions;
    ///
    /// let conditions = TypedPreconditions {
    ///     if_none_match: Some(IfNoneMatch::any()),
    ///     ..TypedPreconditions::default()
    /// };
    /// let headers = conditions.to_headers();
    /// assert_eq!(headers["if-none-match"], "*");
    /// assert_eq!(headers.len(), 1);
    /// ```
    pub fn to_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(field) = &self.if_match {
            headers.typed_insert(field.clone());
        }
        if let Some(field) = &self.if_none_match {
            headers.typed_insert(field.clone());
        }
        if let Some(&field) = self.if_modified_since.as_ref() {
            headers.typed_insert(field);
        }
        if let Some(&field) = self.if_unmodified_since.as_ref() {
            headers.typed_insert(field);
        }
        headers
    }

    /// [`evaluate`] on these fields for a request with `method`, against `current` (`None`: the
    /// resource has no current representation).
    ///
    /// ```
    /// use headers::IfNoneMatch;
    /// use http::Method;
    /// use tower_conditional::{EntityTag, Outcome, TypedPreconditions, Validators};
    ///
    /// // `If-None-Match: *` on a PUT: create only if nothing is there (RFC 9110 §13.1.2).
    /// let create_only = TypedPreconditions {
    ///     if_none_match: Some(IfNoneMatch::any()),
    ///     ..TypedPreconditions::default()
    /// };
    /// let existing = Validators::new().with_etag(EntityTag::strong("v1").unwrap());
    /// assert_eq!(create_only.evaluate(&Method::PUT, None), Outcome::Proceed);
    /// assert_eq!(
    ///     create_only.evaluate(&Method::PUT, Some(&existing)),
    ///     Outcome::PreconditionFailed
    /// );
    /// ```
    pub fn evaluate(&self, method: &Method, current: Option<&Validators>) -> Outcome {
        evaluate(method, &self.to_headers(), current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    use crate::TagHash;

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
            assert_eq!(map["etag"], tag.to_header_value());
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
            assert_eq!(Validators::from_typed(Some(&typed), None).etag, None);
        }
    }

    #[test]
    fn typed_preconditions_match_the_same_fields_on_the_wire() {
        let modified = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let current = Validators::new()
            .with_etag(EntityTag::strong("v2").unwrap())
            .with_last_modified(modified);
        let v1: ETag = "\"v1\"".parse().unwrap();
        let v2: ETag = "W/\"v2\"".parse().unwrap();
        let earlier = modified - Duration::from_secs(1);
        let cases = [
            (TypedPreconditions::default(), Outcome::Proceed),
            (
                TypedPreconditions {
                    if_none_match: Some(IfNoneMatch::from(v2.clone())),
                    ..Default::default()
                },
                Outcome::NotModified,
            ),
            (
                TypedPreconditions {
                    if_none_match: Some(IfNoneMatch::from(v1.clone())),
                    if_modified_since: Some(IfModifiedSince::from(modified)),
                    ..Default::default()
                },
                // §13.2.2 step 4 only without If-None-Match.
                Outcome::Proceed,
            ),
            (
                TypedPreconditions {
                    if_modified_since: Some(IfModifiedSince::from(earlier)),
                    ..Default::default()
                },
                Outcome::Proceed,
            ),
            (
                TypedPreconditions {
                    if_match: Some(IfMatch::from(v2)),
                    ..Default::default()
                },
                // Strong comparison: a weak tag never matches (§13.1.1).
                Outcome::PreconditionFailed,
            ),
            (
                TypedPreconditions {
                    if_match: Some(IfMatch::any()),
                    if_unmodified_since: Some(IfUnmodifiedSince::from(earlier)),
                    ..Default::default()
                },
                // If-Unmodified-Since only without If-Match (§13.2.2 step 2).
                Outcome::Proceed,
            ),
            (
                TypedPreconditions {
                    if_unmodified_since: Some(IfUnmodifiedSince::from(earlier)),
                    ..Default::default()
                },
                Outcome::PreconditionFailed,
            ),
        ];
        for (conditions, expected) in cases {
            assert_eq!(
                conditions.evaluate(&Method::GET, Some(&current)),
                expected,
                "{conditions:?}"
            );
        }
    }

    #[test]
    fn validators_to_typed_and_back() {
        let modified = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let validators = Validators::new()
            .with_etag(EntityTag::weak("x").unwrap())
            .with_last_modified(modified);
        let etag = validators.typed_etag().unwrap();
        let last_modified = validators.typed_last_modified().unwrap();
        assert_eq!(
            Validators::from_typed(Some(&etag), Some(&last_modified)),
            validators
        );
        assert_eq!(Validators::from_typed(None, None), Validators::new());
        // Years past 9999 do not panic: a future date is sent as now (§8.8.2.1).
        let far = Validators::new().with_last_modified(UNIX_EPOCH + Duration::from_secs(1 << 40));
        let sent = SystemTime::from(far.typed_last_modified().unwrap());
        assert!(sent <= SystemTime::now());
    }
}
