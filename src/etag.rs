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

    /// Reads the entity tag of an `ETag` header value.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, header::ETAG};
    /// use tower_conditional::EntityTag;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(ETAG, HeaderValue::from_static("\"abc\""));
    /// let tag = EntityTag::from_header_value(&headers[ETAG]).unwrap();
    /// assert_eq!(tag, EntityTag::strong("abc").unwrap());
    /// ```
    pub fn from_header_value(value: &HeaderValue) -> Result<Self, InvalidEntityTag> {
        match parse_entity_tag(value.as_bytes()) {
            // The common case: share the value instead of copying it.
            Some((_, _, b"")) => Ok(Self::from_validated(value.clone())),
            _ => Self::parse(value.as_bytes()),
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

    /// The tag as a header value for `ETag`.
    ///
    /// ```
    /// use http::{Response, header::ETAG};
    /// use tower_conditional::EntityTag;
    ///
    /// let tag = EntityTag::strong("v1").unwrap();
    /// let response = Response::builder().header(ETAG, tag.to_header_value()).body(()).unwrap();
    /// assert_eq!(response.headers()[ETAG], "\"v1\"");
    /// ```
    pub fn to_header_value(&self) -> HeaderValue {
        self.value.clone()
    }

    /// A borrowed view of the tag.
    pub(crate) fn as_tag_ref(&self) -> TagRef<'_> {
        TagRef {
            weak: self.weak,
            opaque: self.opaque(),
        }
    }
}

/// A borrowed entity tag: what comparisons need, without owning (or allocating) anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TagRef<'a> {
    weak: bool,
    opaque: &'a [u8],
}

impl<'a> TagRef<'a> {
    /// The tag of an `ETag` field value, if it is exactly one entity tag.
    pub(crate) fn parse(value: &'a HeaderValue) -> Option<Self> {
        match parse_entity_tag(trim_ows(value.as_bytes()))? {
            (weak, opaque, b"") => Some(Self { weak, opaque }),
            _ => None,
        }
    }

    pub(crate) fn is_weak(self) -> bool {
        self.weak
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): both strong and octet-identical.
    pub(crate) fn strong_eq(self, other: TagRef<'_>) -> bool {
        self.matches(Comparison::Strong, other.weak, other.opaque)
    }

    /// Whether `self` matches the member `(weak, opaque)` of a request list, under strong or weak
    /// comparison.
    fn matches(self, comparison: Comparison, weak: bool, opaque: &[u8]) -> bool {
        match comparison {
            Comparison::Strong => !self.weak && !weak && self.opaque == opaque,
            Comparison::Weak => self.opaque == opaque,
        }
    }
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

impl From<EntityTag> for HeaderValue {
    fn from(tag: EntityTag) -> Self {
        tag.value
    }
}

impl TryFrom<&HeaderValue> for EntityTag {
    type Error = InvalidEntityTag;

    fn try_from(value: &HeaderValue) -> Result<Self, Self::Error> {
        Self::from_header_value(value)
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
    /// The field value is a list of entity tags; `matched` tells whether one of them matches.
    List { matched: bool },
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
) -> TagCondition {
    let mut members = 0usize;
    let mut star = false;
    let mut matched = false;
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
                matched |= current.is_some_and(|tag| tag.matches(comparison, weak, opaque));
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
        (false, _) => TagCondition::List { matched },
    }
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
    // Whole blocks are checked without an early exit, which compiles to vector instructions;
    // only the block where the run ends is scanned byte by byte.
    const BLOCK: usize = 16;
    let mut run = 0;
    for block in bytes.chunks_exact(BLOCK) {
        if !block.iter().fold(true, |all, &byte| all & is_etagc(byte)) {
            break;
        }
        run += BLOCK;
    }
    let tail = bytes.get(run..).unwrap_or_default();
    run + tail
        .iter()
        .position(|&byte| !is_etagc(byte))
        .unwrap_or(tail.len())
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
    // Every byte above SP but DQUOTE and DEL.
    byte > b' ' && byte != b'"' && byte != 0x7f
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
        assert_eq!(tag.to_header_value(), "W/\"x\"");
        assert_eq!(format!("{tag:?}"), "W/\"x\"");
        let round: EntityTag = tag.to_string().parse().unwrap();
        assert_eq!(round, tag);
    }

    #[test]
    fn from_header_value_accepts_only_one_tag() {
        let ok = HeaderValue::from_static("\"a\"");
        assert_eq!(EntityTag::try_from(&ok).unwrap().opaque(), b"a");
        for bad in ["a", "\"a\", \"b\"", "*", "W/a"] {
            assert!(
                EntityTag::from_header_value(&HeaderValue::from_static(bad)).is_err(),
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
        )
    }

    #[test]
    fn list_table() {
        use Comparison::{Strong, Weak};
        use TagCondition::{Any, Invalid, List};
        let hit = List { matched: true };
        let miss = List { matched: false };
        let cases: &[(&[&[u8]], &str, Comparison, TagCondition)] = &[
            (&[b"\"a\""], "\"a\"", Weak, hit),
            (&[b"\"a\""], "\"b\"", Weak, miss),
            (&[b"W/\"a\""], "\"a\"", Weak, hit),
            (&[b"W/\"a\""], "\"a\"", Strong, miss),
            (&[b"\"a\""], "W/\"a\"", Strong, miss),
            (&[b"\"a\""], "\"a\"", Strong, hit),
            (&[b"\"x\", \"a\""], "\"a\"", Weak, hit),
            (&[b"\"x\",\"a\""], "\"a\"", Weak, hit),
            (&[b"\"x\" ,\t\"a\" "], "\"a\"", Weak, hit),
            (&[b"\"x\"", b"\"a\""], "\"a\"", Weak, hit),
            (&[b", ,\"a\",,"], "\"a\"", Weak, hit),
            (&[b"\"a,b\""], "\"a,b\"", Weak, hit),
            (&[b"\"a,b\""], "\"a\"", Weak, miss),
            (&[b""], "\"a\"", Weak, miss),
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
                Comparison::Weak
            ),
            TagCondition::List { matched: true }
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
                Comparison::Weak
            ),
            TagCondition::List { matched: true }
        );
        value.push_str("bad");
        headers.insert(IF_NONE_MATCH, HeaderValue::from_str(&value).unwrap());
        assert_eq!(
            evaluate_tag_field(
                headers.get_all(IF_NONE_MATCH),
                Some(current.as_tag_ref()),
                Comparison::Weak
            ),
            TagCondition::Invalid
        );
    }
}
