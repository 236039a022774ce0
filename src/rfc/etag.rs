//! Entity tags (RFC 9110 §8.8.3) and the entity-tag lists of `If-Match` / `If-None-Match`
//! (RFC 9110 §13.1.1, §13.1.2).
//!
//! ```text
//! entity-tag = [ weak ] opaque-tag
//! weak       = %s"W/"
//! opaque-tag = DQUOTE *etagc DQUOTE
//! etagc      = %x21 / %x23-7E / obs-text
//! ```
//!
//! The list parser is hand-written so that evaluating a long `If-None-Match` is linear and
//! allocation-free; `extras/tests/properties.rs` checks it against the `headers` crate.

use std::fmt;
use std::str::FromStr;

use http::HeaderValue;

use crate::rfc::fields::content_codings;

/// An entity tag: the opaque validator of the `ETag` header (RFC 9110 §8.8.3).
///
/// `PartialEq` is octet-for-octet identity (same weakness, same opaque tag). The two comparison
/// functions that RFC 9110 §8.8.3.2 defines are [`EntityTag::strong_eq`] and
/// [`EntityTag::weak_eq`].
///
/// ```
/// use tower_conditional::EntityTag;
///
/// let strong: EntityTag = "\"v1\"".parse().unwrap();
/// let weak = EntityTag::weak("v1").unwrap();
/// assert!(!strong.is_weak());
/// assert!(weak.is_weak());
/// assert!(strong.weak_eq(&weak));
/// assert!(!strong.strong_eq(&weak));
/// assert_eq!(weak.to_string(), "W/\"v1\"");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EntityTag {
    /// The whole field value, `W/"…"` or `"…"`, ready to be sent.
    value: HeaderValue,
    weak: bool,
}

/// The error returned when a value is not a valid entity tag.
///
/// ```
/// use tower_conditional::{EntityTag, InvalidEntityTag};
///
/// let error: InvalidEntityTag = EntityTag::strong("has space").unwrap_err();
/// assert!(error.to_string().starts_with("invalid entity tag"));
/// assert!("v1".parse::<EntityTag>().is_err()); // no quotes
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidEntityTag {
    _private: (),
}

impl InvalidEntityTag {
    pub(crate) fn new() -> Self {
        Self { _private: () }
    }
}

impl fmt::Display for InvalidEntityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid entity tag: expected `\"opaque\"` or `W/\"opaque\"` (RFC 9110 §8.8.3)")
    }
}

impl std::error::Error for InvalidEntityTag {}

impl EntityTag {
    /// A strong tag with the given opaque value (without quotes).
    ///
    /// Fails if `opaque` contains a double quote, a space, a control character or DEL.
    ///
    /// ```
    /// use tower_conditional::EntityTag;
    ///
    /// let tag = EntityTag::strong("v1").unwrap();
    /// assert_eq!(tag.to_string(), "\"v1\"");
    /// assert!(EntityTag::strong("a \"quoted\" tag").is_err());
    /// // Owned text too, such as a version formatted on the spot.
    /// let version = 7;
    /// assert_eq!(EntityTag::strong(format!("v{version}")).unwrap().to_string(), "\"v7\"");
    /// ```
    pub fn strong(opaque: impl AsRef<str>) -> Result<Self, InvalidEntityTag> {
        Self::from_opaque(false, opaque.as_ref().as_bytes())
    }

    /// A weak tag (`W/"…"`) with the given opaque value (without quotes).
    ///
    /// Fails if `opaque` contains a double quote, a space, a control character or DEL.
    ///
    /// ```
    /// use tower_conditional::EntityTag;
    ///
    /// let tag = EntityTag::weak("v1").unwrap();
    /// assert_eq!(tag.to_string(), "W/\"v1\"");
    /// assert!(tag.is_weak());
    /// ```
    pub fn weak(opaque: impl AsRef<str>) -> Result<Self, InvalidEntityTag> {
        Self::from_opaque(true, opaque.as_ref().as_bytes())
    }

    /// Parses a complete entity tag such as `"abc"` or `W/"abc"`. Surrounding whitespace is
    /// allowed; anything else around the tag is not.
    ///
    /// ```
    /// use tower_conditional::EntityTag;
    ///
    /// assert_eq!(EntityTag::parse(b" W/\"v1\" ").unwrap(), EntityTag::weak("v1").unwrap());
    /// assert!(EntityTag::parse(b"\"v1\", \"v2\"").is_err()); // a list is not one tag
    /// assert!(EntityTag::parse(b"v1").is_err());
    /// ```
    pub fn parse(value: &[u8]) -> Result<Self, InvalidEntityTag> {
        let value = trim_ows(value);
        match parse_entity_tag(value) {
            Some((_, _, b"")) => HeaderValue::from_bytes(value)
                .map(Self::from_validated)
                .map_err(|_| InvalidEntityTag::new()),
            _ => Err(InvalidEntityTag::new()),
        }
    }

    fn from_opaque(weak: bool, opaque: &[u8]) -> Result<Self, InvalidEntityTag> {
        if !opaque.iter().all(|&byte| is_etagc(byte)) {
            return Err(InvalidEntityTag::new());
        }
        let prefix: &[u8] = if weak { b"W/\"" } else { b"\"" };
        let mut bytes = Vec::with_capacity(prefix.len() + opaque.len() + 1);
        bytes.extend_from_slice(prefix);
        bytes.extend_from_slice(opaque);
        bytes.push(b'"');
        HeaderValue::from_maybe_shared(bytes::Bytes::from(bytes))
            .map(|value| Self { value, weak })
            .map_err(|_| InvalidEntityTag::new())
    }

    /// Wraps a value that `parse_entity_tag` accepts as a whole.
    pub(crate) fn from_validated(value: HeaderValue) -> Self {
        let weak = value.as_bytes().starts_with(b"W/");
        Self { value, weak }
    }

    /// Whether this is a weak tag (`W/"…"`).
    ///
    /// ```
    /// use tower_conditional::EntityTag;
    ///
    /// assert!(EntityTag::weak("v1").unwrap().is_weak());
    /// assert!(!EntityTag::strong("v1").unwrap().is_weak());
    /// ```
    pub fn is_weak(&self) -> bool {
        self.weak
    }

    /// The opaque tag without the weakness indicator and without quotes.
    ///
    /// ```
    /// use tower_conditional::EntityTag;
    ///
    /// let tag: EntityTag = "W/\"v1\"".parse().unwrap();
    /// assert_eq!(tag.opaque(), b"v1");
    /// ```
    pub fn opaque(&self) -> &[u8] {
        opaque_of(self.value.as_bytes())
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): both strong and octet-identical. Used by
    /// `If-Match` and `If-Range`.
    ///
    /// ```
    /// use tower_conditional::EntityTag;
    ///
    /// let strong = EntityTag::strong("v1").unwrap();
    /// assert!(strong.strong_eq(&EntityTag::strong("v1").unwrap()));
    /// assert!(!strong.strong_eq(&EntityTag::weak("v1").unwrap()));
    /// assert!(!EntityTag::weak("v1").unwrap().strong_eq(&EntityTag::weak("v1").unwrap()));
    /// ```
    pub fn strong_eq(&self, other: &EntityTag) -> bool {
        !self.weak && !other.weak && self.opaque() == other.opaque()
    }

    /// Weak comparison (RFC 9110 §8.8.3.2): opaque tags octet-identical, weakness ignored. Used
    /// by `If-None-Match`.
    ///
    /// ```
    /// use tower_conditional::EntityTag;
    ///
    /// let weak = EntityTag::weak("v1").unwrap();
    /// assert!(weak.weak_eq(&EntityTag::strong("v1").unwrap()));
    /// assert!(weak.weak_eq(&EntityTag::weak("v1").unwrap()));
    /// assert!(!weak.weak_eq(&EntityTag::weak("v2").unwrap()));
    /// ```
    pub fn weak_eq(&self, other: &EntityTag) -> bool {
        self.opaque() == other.opaque()
    }

    /// The weak tag with the same opaque value: `"x"` becomes `W/"x"`, a weak tag stays as it
    /// is. A weak tag still revalidates (`If-None-Match` compares weakly) but no longer promises
    /// byte-for-byte identity (RFC 9110 §8.8.1), which is what a tag must give up when the bytes
    /// it named are re-encoded.
    ///
    /// ```
    /// use tower_conditional::EntityTag;
    ///
    /// let tag = EntityTag::strong("v1").unwrap();
    /// assert_eq!(tag.clone().weaken().to_string(), "W/\"v1\"");
    /// assert!(tag.clone().weaken().weak_eq(&tag));
    /// assert!(!tag.clone().weaken().strong_eq(&tag));
    /// ```
    pub fn weaken(self) -> Self {
        if self.weak {
            return self;
        }
        let weak = HeaderValue::from_maybe_shared(bytes::Bytes::from(
            [b"W/", self.value.as_bytes()].concat(),
        ));
        match weak {
            Ok(value) => Self { value, weak: true },
            // Unreachable: `W/` followed by a valid tag is a valid value.
            Err(_) => self,
        }
    }

    /// A borrowed view of the tag.
    pub(crate) fn as_tag_ref(&self) -> TagRef<'_> {
        let opaque = self.opaque();
        TagRef {
            weak: self.weak,
            opaque,
            version: opaque,
        }
    }
}

/// A borrowed entity tag: what comparisons need, without owning (or allocating) anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TagRef<'a> {
    weak: bool,
    opaque: &'a [u8],
    /// The opaque tag of the version this tag names: `opaque` itself, or, for a coded tag the
    /// layer made (`"v1-gzip"`), `opaque` without its coding suffix (`v1`).
    version: &'a [u8],
}

impl<'a> TagRef<'a> {
    /// The tag of an `ETag` field value, if it is exactly one entity tag.
    pub(crate) fn parse(value: &'a HeaderValue) -> Option<Self> {
        match parse_entity_tag(trim_ows(value.as_bytes()))? {
            (weak, opaque, b"") => Some(Self {
                weak,
                opaque,
                version: opaque,
            }),
            _ => None,
        }
    }

    /// The same tag, known to be a coded tag ([`coded_tag`]) whose suffix is `suffix_len`
    /// bytes long.
    pub(crate) fn coded(self, suffix_len: usize) -> Self {
        let version = self
            .opaque
            .get(..self.opaque.len().saturating_sub(suffix_len))
            .unwrap_or(self.opaque);
        Self { version, ..self }
    }

    /// Whether this is a coded tag ([`coded_tag`]) of the version `current` names.
    pub(crate) fn is_coded_form_of(self, current: TagRef<'_>) -> bool {
        is_coded_form(self.opaque, current.version, |_| true)
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): both strong and octet-identical. `If-Range` uses
    /// it as it is: a range is only ever of the very bytes a tag names.
    pub(crate) fn strong_eq(self, other: TagRef<'_>) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// Whether the member `(weak, opaque)` of an `If-Match` / `If-None-Match` list names the
    /// version this tag is the current tag of, under strong or weak comparison: verbatim, or in
    /// another form of the same version: weakened, or the coded tag of content codings that
    /// `coding_counts` allows ([`is_coded_form`]).
    #[inline(always)]
    fn names(
        self,
        comparison: Comparison,
        weak: bool,
        opaque: &[u8],
        coding_counts: impl Fn(&[u8]) -> bool,
    ) -> Named {
        if comparison == Comparison::Strong && (self.weak || weak) {
            return Named::No;
        }
        if opaque == self.opaque {
            return if weak == self.weak {
                Named::Verbatim
            } else {
                Named::Form
            };
        }
        if opaque == self.version || is_coded_form(opaque, self.version, coding_counts) {
            Named::Form
        } else {
            Named::No
        }
    }
}

/// The content codings a coded tag names, lowercase, as IANA's registry spells them.
const CODINGS: [&[u8]; 7] = [
    b"gzip",
    b"br",
    b"zstd",
    b"deflate",
    b"compress",
    b"x-gzip",
    b"x-compress",
];

/// The suffix that makes a representation's strong tag the tag of its content-coded bytes:
/// `"v1"` with `Content-Encoding: gzip` is `"v1-gzip"`, as in RFC 9110 §8.8.3.3. A strong tag
/// names one byte sequence, and the gzip bytes are other bytes than the identity ones: they
/// need a tag of their own (§8.8.3.3, note), distinct from the identity tag, so that a cache
/// never updates or stitches one with the other. Keeping it strong (rather than weakening it,
/// as nginx does) keeps `If-Match` usable for a client that was sent the coded bytes.
///
/// `codings` are the `Content-Encoding` field lines; `identity` is no coding. `None` when a
/// coding is not one of [`CODINGS`]: such a tag is weakened instead.
pub(crate) fn coding_suffix<'a>(codings: impl Iterator<Item = &'a HeaderValue>) -> Option<Vec<u8>> {
    let mut suffix = Vec::new();
    for coding in content_codings(codings) {
        let known = CODINGS
            .iter()
            .find(|known| coding.eq_ignore_ascii_case(known))?;
        suffix.push(b'-');
        suffix.extend_from_slice(known);
    }
    (!suffix.is_empty()).then_some(suffix)
}

/// The coded tag of `tag` for a [`coding_suffix`]: `"v1"` and `-gzip` give `"v1-gzip"`. A weak
/// tag stays as it is: it promises no byte identity, so one weak tag may name every coding.
pub(crate) fn coded_tag(tag: &HeaderValue, suffix: &[u8]) -> Option<HeaderValue> {
    let bytes = tag.as_bytes();
    let opaque = bytes.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    let mut coded = Vec::with_capacity(bytes.len() + suffix.len());
    coded.push(b'"');
    coded.extend_from_slice(opaque);
    coded.extend_from_slice(suffix);
    coded.push(b'"');
    HeaderValue::from_maybe_shared(bytes::Bytes::from(coded)).ok()
}

/// Whether `opaque` is the opaque part of a coded tag of the version `version` names: `version`
/// followed by one or more `-coding` of [`CODINGS`], each of which `coding_counts`. Compared
/// forward (the version, then a known coding), never by cutting a suffix off the client's tag,
/// so a tag of the application's own that happens to end in `-gzip` is still only itself.
pub(crate) fn is_coded_form(
    opaque: &[u8],
    version: &[u8],
    coding_counts: impl Fn(&[u8]) -> bool,
) -> bool {
    let Some(mut rest) = opaque.strip_prefix(version) else {
        return false;
    };
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let Some(after_dash) = rest.strip_prefix(b"-") else {
            return false;
        };
        let Some((coding, next)) = CODINGS.iter().find_map(|coding| {
            let after = after_dash.strip_prefix(*coding)?;
            (after.is_empty() || after.starts_with(b"-")).then_some((*coding, after))
        }) else {
            return false;
        };
        if !coding_counts(coding) {
            return false;
        }
        rest = next;
    }
    true
}

/// How a member of a request's tag list names the current tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Named {
    /// Not at all.
    No,
    /// In another form of the same version: weakened (`W/"v1"` for `"v1"`), or coded
    /// (`"v1-gzip"`). A 304 must then carry that form, the tag the client holds.
    Form,
    /// Verbatim.
    Verbatim,
}

impl fmt::Debug for EntityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for EntityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // obs-text bytes are legal in a tag but are not UTF-8 on their own.
        f.write_str(&String::from_utf8_lossy(self.value.as_bytes()))
    }
}

impl FromStr for EntityTag {
    type Err = InvalidEntityTag;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s.as_bytes())
    }
}

/// The tag as an `ETag` field value.
///
/// ```
/// use http::{HeaderValue, Response, header::ETAG};
/// use tower_conditional::EntityTag;
///
/// let tag = EntityTag::strong("v1").unwrap();
/// let response = Response::builder().header(ETAG, HeaderValue::from(tag)).body(()).unwrap();
/// assert_eq!(response.headers()[ETAG], "\"v1\"");
/// ```
impl From<EntityTag> for HeaderValue {
    fn from(tag: EntityTag) -> Self {
        tag.value
    }
}

/// The tag as an `ETag` field value, sharing its bytes.
///
/// ```
/// use http::HeaderValue;
/// use tower_conditional::EntityTag;
///
/// let tag = EntityTag::weak("v1").unwrap();
/// assert_eq!(HeaderValue::from(&tag), "W/\"v1\"");
/// ```
impl From<&EntityTag> for HeaderValue {
    fn from(tag: &EntityTag) -> Self {
        tag.value.clone()
    }
}

/// Reads the entity tag of an `ETag` field value.
///
/// ```
/// use http::{HeaderMap, HeaderValue, header::ETAG};
/// use tower_conditional::EntityTag;
///
/// let mut headers = HeaderMap::new();
/// headers.insert(ETAG, HeaderValue::from_static("\"abc\""));
/// let tag = EntityTag::try_from(&headers[ETAG]).unwrap();
/// assert_eq!(tag, EntityTag::strong("abc").unwrap());
/// assert!(EntityTag::try_from(&HeaderValue::from_static("abc")).is_err()); // no quotes
/// ```
impl TryFrom<&HeaderValue> for EntityTag {
    type Error = InvalidEntityTag;

    fn try_from(value: &HeaderValue) -> Result<Self, Self::Error> {
        match parse_entity_tag(value.as_bytes()) {
            // The common case: share the value instead of copying it.
            Some((_, _, b"")) => Ok(Self::from_validated(value.clone())),
            _ => Self::parse(value.as_bytes()),
        }
    }
}

/// Sets the response's `ETag` field (RFC 9110 §8.8.3), replacing one set before (feature
/// `axum`).
///
/// ```
/// use axum::response::IntoResponse;
/// use tower_conditional::EntityTag;
///
/// let response = (EntityTag::weak("v1").unwrap(), "body").into_response();
/// assert_eq!(response.headers()["etag"], "W/\"v1\"");
/// ```
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum_core::response::IntoResponseParts for EntityTag {
    type Error = std::convert::Infallible;

    fn into_response_parts(
        self,
        mut res: axum_core::response::ResponseParts,
    ) -> Result<axum_core::response::ResponseParts, Self::Error> {
        res.headers_mut().insert(http::header::ETAG, self.into());
        Ok(res)
    }
}

/// Which comparison function of RFC 9110 §8.8.3.2 a list is matched with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comparison {
    Strong,
    Weak,
}

/// What an `If-Match` / `If-None-Match` field (all its lines together) says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TagCondition {
    /// The field value is `*`.
    Any,
    /// The field value is a list of entity tags; how its best member names the current tag.
    List(Named),
    /// The field value is a list without a member (empty, or only commas and spaces; `""` is
    /// a member, the empty tag): it names no tag, whatever the current one is.
    Empty,
    /// The field value is neither `*` nor a list of entity tags.
    Invalid,
}

/// Evaluates the `If-Match` or `If-None-Match` lines of a request against the current tag.
///
/// Every line is parsed to the end, even after a match, so a field with a malformed member is
/// reported as [`TagCondition::Invalid`] whatever it contains. `*` must be the only member of the
/// whole field (`If-Match = "*" / #entity-tag`). Empty list elements and optional whitespace are
/// accepted (RFC 9110 §5.6.1).
pub(crate) fn evaluate_tag_field<'a>(
    lines: impl IntoIterator<Item = &'a HeaderValue>,
    current: Option<TagRef<'_>>,
    comparison: Comparison,
    coding_counts: impl Fn(&[u8]) -> bool + Copy,
) -> TagCondition {
    let mut members = 0usize;
    let mut star = false;
    let mut named = Named::No;
    for line in lines {
        let mut rest = line.as_bytes();
        loop {
            rest = skip_separators(rest);
            if rest.is_empty() {
                break;
            }
            let after = if let Some(after) = rest.strip_prefix(b"*") {
                star = true;
                after
            } else if let Some((weak, opaque, after)) = parse_entity_tag(rest) {
                if let Some(tag) = current {
                    named = named.max(tag.names(comparison, weak, opaque, coding_counts));
                }
                after
            } else {
                return TagCondition::Invalid;
            };
            members += 1;
            // A member ends at a comma or at the end of the line.
            rest = trim_leading_ows(after);
            if !(rest.is_empty() || rest.starts_with(b",")) {
                return TagCondition::Invalid;
            }
        }
    }
    match (star, members) {
        (true, 1) => TagCondition::Any,
        (true, _) => TagCondition::Invalid,
        (false, 0) => TagCondition::Empty,
        (false, _) => TagCondition::List(named),
    }
}

/// The first member of the `If-None-Match` lines that names the current tag (as
/// [`evaluate_tag_field`] matches them under the weak comparison), as an `ETag` value: the tag
/// the client holds, which a 304 must carry (RFC 9111 §4.3.4: a cache updates only the stored
/// response whose strong validator the 304 names).
pub(crate) fn held_tag<'a>(
    lines: impl IntoIterator<Item = &'a HeaderValue>,
    current: TagRef<'_>,
    coding_counts: impl Fn(&[u8]) -> bool + Copy,
) -> Option<HeaderValue> {
    for line in lines {
        let mut rest = line.as_bytes();
        loop {
            rest = skip_separators(rest);
            let (weak, opaque, after) = parse_entity_tag(rest)?;
            if current.names(Comparison::Weak, weak, opaque, coding_counts) != Named::No {
                let end = rest.len() - after.len();
                return HeaderValue::from_bytes(rest.get(..end)?).ok();
            }
            rest = trim_leading_ows(after);
            if rest.is_empty() {
                break;
            }
        }
    }
    None
}

/// Parses one entity tag at the start of `input`: `(weak, opaque without quotes, rest)`.
fn parse_entity_tag(input: &[u8]) -> Option<(bool, &[u8], &[u8])> {
    let (weak, quoted) = match input.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let inner = quoted.strip_prefix(b"\"")?;
    // The closing quote is the first byte that is not an etagc.
    let (opaque, closing) = inner.split_at_checked(etagc_run(inner))?;
    Some((weak, opaque, closing.strip_prefix(b"\"")?))
}

/// The length of the run of etagc bytes at the start of `bytes`.
fn etagc_run(bytes: &[u8]) -> usize {
    // Checked a block at a time, each block's bytes without an early exit, which compiles to
    // vector compares and a mask whose lowest set byte is where the run ends.
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut run = 0;
    for block in &mut blocks {
        let Some(block) = block.first_chunk::<BLOCK>() else {
            break;
        };
        let ends = non_etagc_bits(block);
        if ends != 0 {
            return run + (ends.trailing_zeros() / 8) as usize;
        }
        run += BLOCK;
    }
    let tail = blocks.remainder();
    if tail.is_empty() {
        return run;
    }
    // The tail is checked as the end of the last whole block of `bytes` where there is one
    // (its bytes before the tail were checked already), or padded with a DQUOTE.
    let (block, skip) = match bytes.last_chunk::<BLOCK>() {
        Some(last) => (*last, BLOCK - tail.len()),
        None => {
            let mut padded = [b'"'; BLOCK];
            if let Some(start) = padded.get_mut(..tail.len()) {
                start.copy_from_slice(tail);
            }
            (padded, 0)
        }
    };
    let ends = non_etagc_bits(&block) >> (8 * skip);
    run + (ends.trailing_zeros() / 8).min(tail.len() as u32) as usize
}

const BLOCK: usize = 16;

/// Byte `i` of the result is 0xff where byte `i` of `block` is no etagc, 0 where it is one.
#[inline]
fn non_etagc_bits(block: &[u8; BLOCK]) -> u128 {
    u128::from_le_bytes(block.map(|byte| if is_etagc(byte) { 0 } else { 0xff }))
}

/// The opaque part of a value that `parse_entity_tag` accepted.
fn opaque_of(value: &[u8]) -> &[u8] {
    let quoted = value.strip_prefix(b"W/").unwrap_or(value);
    quoted
        .strip_prefix(b"\"")
        .and_then(|inner| inner.strip_suffix(b"\""))
        .unwrap_or_default()
}

/// `etagc = %x21 / %x23-7E / obs-text`
fn is_etagc(byte: u8) -> bool {
    // Every byte above SP but DQUOTE and DEL. As a signed byte, obs-text is negative: signed
    // comparisons are the ones SSE2 has, so a block of bytes is checked at once.
    let signed = byte as i8;
    (signed > b' ' as i8 || signed < 0) && byte != b'"' && byte != 0x7f
}

fn is_ows(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

fn trim_leading_ows(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&byte| !is_ows(byte))
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

fn trim_ows(bytes: &[u8]) -> &[u8] {
    let bytes = trim_leading_ows(bytes);
    let end = bytes
        .iter()
        .rposition(|&byte| !is_ows(byte))
        .map_or(0, |last| last + 1);
    bytes.get(..end).unwrap_or_default()
}

/// Skips whitespace and the commas of empty list elements.
fn skip_separators(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&byte| !is_ows(byte) && byte != b',')
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;
    use http::header::IF_NONE_MATCH;

    #[test]
    fn etagc_run_agrees_with_a_byte_by_byte_scan() {
        let naive = |bytes: &[u8]| bytes.iter().take_while(|&&byte| is_etagc(byte)).count();
        for len in 0..50 {
            let valid: Vec<u8> = (0..len).map(|i| b"aZ09-_!~\x80\xff"[i % 10]).collect();
            assert_eq!(etagc_run(&valid), len);
            for at in 0..len {
                for bad in [b'"', 0x7f, b' ', b'\t', 0x00] {
                    let mut bytes = valid.clone();
                    bytes[at] = bad;
                    assert_eq!(etagc_run(&bytes), naive(&bytes), "{bytes:?}");
                    assert_eq!(etagc_run(&bytes), at);
                }
            }
        }
        for byte in 0..=255u8 {
            let rfc = byte == 0x21 || (0x23..=0x7e).contains(&byte) || byte >= 0x80;
            assert_eq!(is_etagc(byte), rfc, "{byte:#x}");
        }
    }

    #[test]
    fn parse_table() {
        // (input, Some((weak, opaque)) when valid)
        type Case<'a> = (&'a [u8], Option<(bool, &'a [u8])>);
        let cases: &[Case] = &[
            (b"\"abc\"", Some((false, b"abc"))),
            (b"W/\"abc\"", Some((true, b"abc"))),
            (b"\"\"", Some((false, b""))),
            (b"W/\"\"", Some((true, b""))),
            (b"  \"abc\"\t", Some((false, b"abc"))),
            (b"\"a,b\"", Some((false, b"a,b"))),
            (b"\"W/x\"", Some((false, b"W/x"))),
            (b"\"caf\xc3\xa9\"", Some((false, b"caf\xc3\xa9"))),
            (b"\"\x80\xff\"", Some((false, b"\x80\xff"))),
            (b"abc", None),
            (b"\"abc", None),
            (b"abc\"", None),
            (b"w/\"abc\"", None),
            (b"W/abc", None),
            (b"W/ \"abc\"", None),
            (b"\"a b\"", None),
            (b"\"a\tb\"", None),
            (b"\"a\x7fb\"", None),
            (b"\"a\"b\"", None),
            (b"\"abc\" x", None),
            (b"\"a\", \"b\"", None),
            (b"*", None),
            (b"", None),
            (b"W/", None),
        ];
        for (input, expected) in cases {
            let parsed = EntityTag::parse(input);
            match expected {
                Some((weak, opaque)) => {
                    let tag = parsed.unwrap_or_else(|_| panic!("{input:?} should parse"));
                    assert_eq!(tag.is_weak(), *weak, "{input:?}");
                    assert_eq!(tag.opaque(), *opaque, "{input:?}");
                }
                None => assert!(parsed.is_err(), "{input:?} should not parse"),
            }
        }
    }

    #[test]
    fn constructors_and_display() {
        assert_eq!(EntityTag::strong("v1").unwrap().to_string(), "\"v1\"");
        assert_eq!(EntityTag::weak("v1").unwrap().to_string(), "W/\"v1\"");
        assert_eq!(EntityTag::strong("").unwrap().to_string(), "\"\"");
        for bad in ["a\"b", "a b", "a\u{7f}", "tab\t", "nl\n"] {
            assert!(EntityTag::strong(bad).is_err(), "{bad:?}");
            assert!(EntityTag::weak(bad).is_err(), "{bad:?}");
        }
        let tag = EntityTag::weak("x").unwrap();
        assert_eq!(HeaderValue::from(tag.clone()), "W/\"x\"");
        assert_eq!(HeaderValue::from(&tag), "W/\"x\"");
        assert_eq!(format!("{tag:?}"), "W/\"x\"");
        let round: EntityTag = tag.to_string().parse().unwrap();
        assert_eq!(round, tag);
    }

    #[test]
    fn a_field_value_is_one_tag_or_none() {
        let ok = HeaderValue::from_static("\"a\"");
        assert_eq!(EntityTag::try_from(&ok).unwrap().opaque(), b"a");
        for bad in ["a", "\"a\", \"b\"", "*", "W/a"] {
            assert!(
                EntityTag::try_from(&HeaderValue::from_static(bad)).is_err(),
                "{bad}"
            );
        }
    }

    /// The comparison table of RFC 9110 §8.8.3.2.
    #[test]
    fn comparison_table() {
        let cases = [
            ("W/\"1\"", "W/\"1\"", false, true),
            ("W/\"1\"", "W/\"2\"", false, false),
            ("W/\"1\"", "\"1\"", false, true),
            ("\"1\"", "\"1\"", true, true),
        ];
        for (a, b, strong, weak) in cases {
            let a: EntityTag = a.parse().unwrap();
            let b: EntityTag = b.parse().unwrap();
            assert_eq!(a.strong_eq(&b), strong, "{a} {b} strong");
            assert_eq!(b.strong_eq(&a), strong, "{b} {a} strong");
            assert_eq!(a.weak_eq(&b), weak, "{a} {b} weak");
            assert_eq!(b.weak_eq(&a), weak, "{b} {a} weak");
        }
    }

    fn field(lines: &[&[u8]], current: &str, comparison: Comparison) -> TagCondition {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(IF_NONE_MATCH, HeaderValue::from_bytes(line).unwrap());
        }
        let current: EntityTag = current.parse().unwrap();
        evaluate_tag_field(
            headers.get_all(IF_NONE_MATCH),
            Some(current.as_tag_ref()),
            comparison,
            |coding| coding != b"br",
        )
    }

    #[test]
    fn list_table() {
        use Comparison::{Strong, Weak};
        use TagCondition::{Any, Empty, Invalid, List};
        let hit = List(Named::Verbatim);
        let form = List(Named::Form);
        let miss = List(Named::No);
        let cases: &[(&[&[u8]], &str, Comparison, TagCondition)] = &[
            (&[b"\"a\""], "\"a\"", Weak, hit),
            (&[b"\"a\""], "\"b\"", Weak, miss),
            (&[b"W/\"a\""], "\"a\"", Weak, form),
            (&[b"W/\"a\""], "\"a\"", Strong, miss),
            (&[b"\"a\""], "W/\"a\"", Weak, form),
            (&[b"W/\"a\", \"a\""], "\"a\"", Weak, hit),
            // Coded tags name their version (RFC 9110 §8.8.3.3), under either comparison.
            (&[b"\"a-gzip\""], "\"a\"", Strong, form),
            (&[b"\"a-zstd\""], "\"a\"", Weak, form),
            // A coding the caller does not count (here: br) names nothing.
            (&[b"\"a-br\""], "\"a\"", Weak, miss),
            (&[b"\"a-gzip-br\""], "\"a\"", Weak, miss),
            (&[b"W/\"a-gzip\""], "\"a\"", Weak, form),
            (&[b"W/\"a-gzip\""], "\"a\"", Strong, miss),
            (&[b"\"a-gzip-deflate\""], "\"a\"", Strong, form),
            (&[b"\"a-x-gzip\""], "\"a\"", Strong, form),
            (&[b"\"a-gzip\""], "W/\"a\"", Strong, miss),
            (&[b"\"a-gz\""], "\"a\"", Strong, miss),
            (&[b"\"a-gzipx\""], "\"a\"", Strong, miss),
            (&[b"\"a-\""], "\"a\"", Strong, miss),
            (&[b"\"a--gzip\""], "\"a\"", Strong, miss),
            (&[b"\"ab-gzip\""], "\"a\"", Strong, miss),
            (&[b"\"a\""], "\"a-gzip\"", Strong, miss),
            (&[b"\"a\""], "W/\"a\"", Strong, miss),
            (&[b"\"a\""], "\"a\"", Strong, hit),
            (&[b"\"x\", \"a\""], "\"a\"", Weak, hit),
            (&[b"\"x\",\"a\""], "\"a\"", Weak, hit),
            (&[b"\"x\" ,\t\"a\" "], "\"a\"", Weak, hit),
            (&[b"\"x\"", b"\"a\""], "\"a\"", Weak, hit),
            (&[b", ,\"a\",,"], "\"a\"", Weak, hit),
            (&[b"\"a,b\""], "\"a,b\"", Weak, hit),
            (&[b"\"a,b\""], "\"a\"", Weak, miss),
            // A list without a member names no tag, whatever the current one is.
            (&[b""], "\"a\"", Weak, Empty),
            (&[b" , ,"], "\"a\"", Strong, Empty),
            (&[b"*"], "\"a\"", Weak, Any),
            (&[b" * "], "\"a\"", Strong, Any),
            (&[b"*, \"a\""], "\"a\"", Weak, Invalid),
            (&[b"*", b"*"], "\"a\"", Weak, Invalid),
            (&[b"*", b"\"a\""], "\"a\"", Weak, Invalid),
            (&[b"**"], "\"a\"", Weak, Invalid),
            (&[b"a"], "\"a\"", Weak, Invalid),
            (&[b"\"a\" \"b\""], "\"a\"", Weak, Invalid),
            (&[b"\"a\", b"], "\"a\"", Weak, Invalid),
            (&[b"\"a\"", b"garbage"], "\"a\"", Weak, Invalid),
            (&[b"\"a"], "\"a\"", Weak, Invalid),
            (&[b"w/\"a\""], "\"a\"", Weak, Invalid),
        ];
        for (lines, current, comparison, expected) in cases {
            assert_eq!(
                field(lines, current, *comparison),
                *expected,
                "{lines:?} vs {current} ({comparison:?})"
            );
        }
    }

    #[test]
    fn obs_text_tags_match_bytewise() {
        let mut headers = HeaderMap::new();
        headers.insert(
            IF_NONE_MATCH,
            HeaderValue::from_bytes(b"\"\x80\xfe\"").unwrap(),
        );
        let current = EntityTag::parse(b"\"\x80\xfe\"").unwrap();
        assert_eq!(
            evaluate_tag_field(
                headers.get_all(IF_NONE_MATCH),
                Some(current.as_tag_ref()),
                Comparison::Weak,
                |_| true,
            ),
            TagCondition::List(Named::Verbatim)
        );
    }

    #[test]
    fn long_lists_are_parsed_to_the_end() {
        let mut value = String::new();
        for i in 0..10_000 {
            value.push_str(&format!("\"t{i}\", "));
        }
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_str(&value).unwrap());
        let current: EntityTag = "\"t9999\"".parse().unwrap();
        assert_eq!(
            evaluate_tag_field(
                headers.get_all(IF_NONE_MATCH),
                Some(current.as_tag_ref()),
                Comparison::Weak,
                |_| true,
            ),
            TagCondition::List(Named::Verbatim)
        );
        value.push_str("bad");
        headers.insert(IF_NONE_MATCH, HeaderValue::from_str(&value).unwrap());
        assert_eq!(
            evaluate_tag_field(
                headers.get_all(IF_NONE_MATCH),
                Some(current.as_tag_ref()),
                Comparison::Weak,
                |_| true,
            ),
            TagCondition::Invalid
        );
    }

    #[test]
    fn coded_tags() {
        let value = |text: &'static str| HeaderValue::from_static(text);
        let suffix = |lines: &[&'static str]| {
            coding_suffix(
                lines
                    .iter()
                    .map(|line| value(line))
                    .collect::<Vec<_>>()
                    .iter(),
            )
        };
        assert_eq!(suffix(&["gzip"]).as_deref(), Some(&b"-gzip"[..]));
        assert_eq!(suffix(&["GZip"]).as_deref(), Some(&b"-gzip"[..]));
        assert_eq!(suffix(&["gzip, br"]).as_deref(), Some(&b"-gzip-br"[..]));
        assert_eq!(
            suffix(&["identity", "zstd"]).as_deref(),
            Some(&b"-zstd"[..])
        );
        assert_eq!(suffix(&["identity"]), None);
        assert_eq!(suffix(&[""]), None);
        assert_eq!(suffix(&["exi"]), None);
        assert_eq!(suffix(&["gzip", "exi"]), None);
        let coded = coded_tag(&value("\"v1\""), b"-gzip").unwrap();
        assert_eq!(coded, "\"v1-gzip\"");
        assert_eq!(coded_tag(&value("W/\"v1\""), b"-gzip"), None);
        let any = |_: &[u8]| true;
        assert!(is_coded_form(b"v1-gzip", b"v1", any));
        assert!(is_coded_form(b"v1-gzip-br", b"v1", any));
        assert!(!is_coded_form(b"v1-gzip-br", b"v1", |coding| coding == b"gzip"));
        assert!(!is_coded_form(b"v1", b"v1", any));
        assert!(!is_coded_form(b"v1-gzip", b"v2", any));
        assert!(!is_coded_form(b"v1-", b"v1", any));
        assert!(!is_coded_form(b"v1-unknown", b"v1", any));
    }

    #[test]
    fn the_tag_the_client_holds() {
        let current = EntityTag::strong("v1").unwrap();
        let held = |line: &'static str| {
            let lines = [HeaderValue::from_static(line)];
            held_tag(lines.iter(), current.as_tag_ref(), |_| true)
        };
        assert_eq!(held("\"v1\"").unwrap(), "\"v1\"");
        assert_eq!(held("\"v0\", W/\"v1\"").unwrap(), "W/\"v1\"");
        assert_eq!(held("\"v0\",\"v1-gzip\" , \"v1\"").unwrap(), "\"v1-gzip\"");
        assert_eq!(held("\"v0\""), None);
        assert_eq!(held("\"v0\", junk"), None);
        assert_eq!(held("*"), None);
    }
}
