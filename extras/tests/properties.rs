//! Differential property tests.
//!
//! 1. `evaluate` against a small reference model of RFC 9110 §13.2.2 written here from the RFC.
//!    The generator builds request fields from parts whose meaning it knows (valid, near-valid
//!    and garbage entity-tags, `*`, lists over several lines, the three HTTP-date forms, invalid
//!    and repeated dates) and renders them to bytes; the model reads the meaning from the parts,
//!    the crate parses the bytes.
//! 2. Tag-list matching against the `headers` crate's typed `IfNoneMatch` / `IfMatch`, where the
//!    RFC and that crate agree (see `headers_crate_differences`).
//! 3. The same requests through the real layer: the status follows the model.
//! 4. Random bodies in random chunkings through the real layer: the tag is the tag of the whole
//!    body and the body arrives byte for byte.
//!
//! Case counts add up to well over 100k per `cargo test` run.

use std::convert::Infallible;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use headers::HeaderMapExt;
use http::header::{
    ETAG, HeaderName, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE,
    LAST_MODIFIED,
};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use proptest::prelude::*;
use tower::{Layer, ServiceExt, service_fn};
use tower_conditional::{ConditionalLayer, EntityTag, Outcome, Preconditions, Representation};

#[path = "../../tests/common/mod.rs"]
mod common;
use common::{Scripted, tag_of};

// ---------------------------------------------------------------------------------------------
// Generated request fields, with their meaning.

/// One member of an `If-Match` / `If-None-Match` line.
#[derive(Clone, Debug)]
enum Member {
    /// A valid entity tag.
    Tag { weak: bool, opaque: Vec<u8> },
    /// `*`.
    Star,
    /// Something that is neither a tag nor `*`, with an even number of quotes so that it cannot
    /// pair with a quote of a neighbour.
    Garbage(Vec<u8>),
    /// A tag whose closing quote is missing. Only ever the last member of a line, so the line
    /// has an odd number of quotes and cannot be a list of tags.
    Unterminated(Vec<u8>),
}

/// One field line: optional leading and trailing separators, members joined by a comma with
/// optional whitespace and empty elements (RFC 9110 §5.6.1: recipients accept them).
#[derive(Clone, Debug)]
struct Line {
    prefix: &'static str,
    members: Vec<(Member, &'static str)>,
    suffix: &'static str,
}

#[derive(Clone, Debug)]
enum DateValue {
    /// A valid HTTP-date: seconds since the epoch, written in one of the three forms.
    Valid { secs: u64, form: DateForm },
    /// Not an HTTP-date; the bytes say why.
    Invalid(Vec<u8>),
}

#[derive(Clone, Copy, Debug)]
enum DateForm {
    Imf,
    Rfc850,
    Asctime,
}

#[derive(Clone, Debug)]
struct Case {
    method: Method,
    /// `None`: the resource has no current representation.
    current: Option<Current>,
    if_match: Vec<Line>,
    if_none_match: Vec<Line>,
    if_modified_since: Vec<DateValue>,
    if_unmodified_since: Vec<DateValue>,
}

#[derive(Clone, Debug)]
struct Current {
    etag: Option<(bool, Vec<u8>)>,
    last_modified: Option<(u64, u32)>,
}

/// The largest second HTTP-date (and httpdate) can express: 9999-12-31T23:59:59Z.
const MAX_DATE: u64 = 253_402_300_799;

// ---------------------------------------------------------------------------------------------
// The reference model: RFC 9110 §13.1 and §13.2.2, read from the generated parts.

#[derive(Debug, PartialEq)]
enum Field {
    Absent,
    Any,
    List(Vec<(bool, Vec<u8>)>),
    /// Neither `*` nor a list of entity tags.
    Malformed,
}

/// `If-Match = "*" / #entity-tag`, the same for `If-None-Match`, over all lines together.
fn field_meaning(lines: &[Line]) -> Field {
    if lines.is_empty() {
        return Field::Absent;
    }
    let members: Vec<&Member> = lines
        .iter()
        .flat_map(|line| line.members.iter().map(|(member, _)| member))
        .collect();
    if members
        .iter()
        .any(|m| matches!(m, Member::Garbage(_) | Member::Unterminated(_)))
    {
        return Field::Malformed;
    }
    let stars = members.iter().filter(|m| matches!(m, Member::Star)).count();
    match (stars, members.len()) {
        (0, _) => Field::List(
            members
                .iter()
                .filter_map(|m| match m {
                    Member::Tag { weak, opaque } => Some((*weak, opaque.clone())),
                    _ => None,
                })
                .collect(),
        ),
        (1, 1) => Field::Any,
        _ => Field::Malformed,
    }
}

/// A date field counts only as a single valid HTTP-date (§13.1.3, §13.1.4).
fn date_meaning(lines: &[DateValue]) -> Option<u64> {
    match lines {
        [DateValue::Valid { secs, .. }] => validator(*secs),
        _ => None,
    }
}

/// A date at or before 1 s after the epoch (what the Nix store gives every file) names no
/// version: it is no validator, in a request or a response.
fn validator(secs: u64) -> Option<u64> {
    (secs > 1).then_some(secs)
}

/// Whether a member's opaque part names the version `version`: verbatim, or as its coded tag
/// (RFC 9110 §8.8.3.3's `"v1-gzip"`): `version` and then one or more `-coding`. The cases carry
/// no `Accept-Encoding`, which accepts every coding.
fn names_version(opaque: &[u8], version: &[u8]) -> bool {
    const CODINGS: [&[u8]; 7] = [
        b"gzip",
        b"br",
        b"zstd",
        b"deflate",
        b"compress",
        b"x-gzip",
        b"x-compress",
    ];
    let Some(mut rest) = opaque.strip_prefix(version) else {
        return false;
    };
    // No coding name is a prefix of another followed by a dash, so the first that fits is the
    // only one that can.
    while let Some(after) = rest.strip_prefix(b"-") {
        match CODINGS.iter().find(|coding| {
            after.starts_with(coding) && matches!(after.get(coding.len()), None | Some(b'-'))
        }) {
            Some(coding) => rest = &after[coding.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

fn model(case: &Case) -> Outcome {
    // §13.2.1: methods that do not select a representation ignore preconditions.
    if matches!(
        case.method,
        Method::CONNECT | Method::OPTIONS | Method::TRACE
    ) {
        return Outcome::Proceed;
    }
    let etag = case.current.as_ref().and_then(|c| c.etag.as_ref());
    let modified = case
        .current
        .as_ref()
        .and_then(|c| c.last_modified.and_then(|(secs, _)| validator(secs)));
    let strong_match = |(weak, opaque): &(bool, Vec<u8>)| {
        etag.is_some_and(|(cw, co)| !weak && !cw && names_version(opaque, co))
    };
    let weak_match =
        |(_, opaque): &(bool, Vec<u8>)| etag.is_some_and(|(_, co)| names_version(opaque, co));

    // Step 1 / 2.
    let if_match = field_meaning(&case.if_match);
    let step1_passes = match &if_match {
        Field::Absent => true,
        Field::Any => case.current.is_some(),
        Field::List(tags) => tags.iter().any(strong_match),
        Field::Malformed => false,
    };
    if !step1_passes {
        return Outcome::PreconditionFailed;
    }
    if if_match == Field::Absent
        && let (Some(since), Some(modified)) = (date_meaning(&case.if_unmodified_since), modified)
        && modified > since
    {
        return Outcome::PreconditionFailed;
    }

    // Step 3 / 4.
    let safe = matches!(case.method, Method::GET | Method::HEAD);
    let if_none_match = field_meaning(&case.if_none_match);
    let step3_passes = match &if_none_match {
        Field::Absent => true,
        Field::Any => case.current.is_none(),
        Field::List(tags) => !tags.iter().any(weak_match),
        Field::Malformed => true,
    };
    if !step3_passes {
        return if safe {
            Outcome::NotModified
        } else {
            Outcome::PreconditionFailed
        };
    }
    if if_none_match == Field::Absent
        && safe
        && let (Some(since), Some(modified)) = (date_meaning(&case.if_modified_since), modified)
        && modified <= since
    {
        return Outcome::NotModified;
    }
    Outcome::Proceed
}

// ---------------------------------------------------------------------------------------------
// Rendering the parts to header bytes.

fn render_tag(weak: bool, opaque: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if weak {
        out.extend_from_slice(b"W/");
    }
    out.push(b'"');
    out.extend_from_slice(opaque);
    out.push(b'"');
    out
}

fn render_line(line: &Line) -> Vec<u8> {
    let mut out = line.prefix.as_bytes().to_vec();
    let count = line.members.len();
    for (index, (member, separator)) in line.members.iter().enumerate() {
        match member {
            Member::Tag { weak, opaque } => out.extend(render_tag(*weak, opaque)),
            Member::Star => out.push(b'*'),
            Member::Garbage(bytes) => out.extend_from_slice(bytes),
            Member::Unterminated(opaque) => {
                out.push(b'"');
                out.extend_from_slice(opaque);
            }
        }
        if index + 1 < count {
            out.extend_from_slice(separator.as_bytes());
        }
    }
    out.extend_from_slice(line.suffix.as_bytes());
    out
}

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const LONG_WEEKDAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// (year, month 1-12, day) of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, usize, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as usize, day)
}

fn render_date(secs: u64, form: DateForm) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    let (year, month, day) = civil(days);
    let weekday = (days % 7) as usize;
    let mon = MONTHS[month - 1];
    match form {
        DateForm::Imf => format!(
            "{}, {day:02} {mon} {year} {h:02}:{m:02}:{s:02} GMT",
            WEEKDAYS[weekday]
        ),
        DateForm::Rfc850 => format!(
            "{}, {day:02}-{mon}-{:02} {h:02}:{m:02}:{s:02} GMT",
            LONG_WEEKDAYS[weekday],
            year % 100
        ),
        DateForm::Asctime => format!(
            "{} {mon} {day:>2} {h:02}:{m:02}:{s:02} {year}",
            WEEKDAYS[weekday]
        ),
    }
}

fn render_date_value(value: &DateValue) -> Vec<u8> {
    match value {
        DateValue::Valid { secs, form } => render_date(*secs, *form).into_bytes(),
        DateValue::Invalid(bytes) => bytes.clone(),
    }
}

fn request_headers(case: &Case) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut add = |name: &HeaderName, bytes: Vec<u8>| {
        headers.append(name.clone(), HeaderValue::from_bytes(&bytes).unwrap());
    };
    for line in &case.if_match {
        add(&IF_MATCH, render_line(line));
    }
    for line in &case.if_none_match {
        add(&IF_NONE_MATCH, render_line(line));
    }
    for value in &case.if_modified_since {
        add(&IF_MODIFIED_SINCE, render_date_value(value));
    }
    for value in &case.if_unmodified_since {
        add(&IF_UNMODIFIED_SINCE, render_date_value(value));
    }
    headers
}

fn current_validators(current: &Current) -> Representation {
    let mut validators = Representation::new();
    if let Some((weak, opaque)) = &current.etag {
        validators = validators.with_etag(EntityTag::parse(&render_tag(*weak, opaque)).unwrap());
    }
    if let Some((secs, nanos)) = current.last_modified {
        validators = validators.with_last_modified(
            UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_nanos(nanos.into()),
        );
    }
    validators
}

/// The crate's evaluation of a request's preconditions (RFC 9110 §13.2.2), from its method and
/// fields, against `current`.
fn evaluate(method: &Method, headers: &HeaderMap, current: Option<&Representation>) -> Outcome {
    Preconditions::new(method.clone(), headers).evaluate(current)
}

// ---------------------------------------------------------------------------------------------
// Strategies.

fn etagc() -> impl Strategy<Value = u8> {
    prop_oneof![Just(0x21u8), 0x23u8..=0x7e, 0x80u8..=0xff]
}

/// Opaque tags from a small pool (so request tags often equal the current one) or random.
fn opaque() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::sample::select(vec![
            b"a".to_vec(),
            b"b".to_vec(),
            Vec::new(),
            b"a,b".to_vec(),
            b"W/a".to_vec(),
            b"*".to_vec(),
            b"\x80\xff".to_vec(),
        ]),
        1 => prop::collection::vec(etagc(), 0..6),
    ]
}

/// Bytes a header value may hold, minus `"` and `,`.
fn loose_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(b'\t'),
        0x20u8..=0x21,
        0x23u8..=0x2b,
        0x2du8..=0x7e,
        0x80u8..=0xff
    ]
}

fn garbage() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            b"abc".to_vec(),
            b"W/abc".to_vec(),
            b"w/\"a\"".to_vec(),
            b"W/ \"a\"".to_vec(),
            b"\"a b\"".to_vec(),
            b"\"a\tb\"".to_vec(),
            b"\"a\"b".to_vec(),
            b"\"a\" \"b\"".to_vec(),
            b"\"a\"W/".to_vec(),
            b"**".to_vec(),
            b"*\"a\"".to_vec(),
            b"W/*".to_vec(),
            b"'a'".to_vec(),
            b"\x80".to_vec(),
            b"\xff\"a\"".to_vec(),
        ]),
        // Anything starting outside a quote with a byte that starts no member.
        (
            prop::sample::select(vec![b'x', b'W', b'\x80', b'#', b'/']),
            prop::collection::vec(loose_byte(), 0..12)
        )
            .prop_map(|(first, rest)| {
                let mut bytes = vec![first];
                // `W` followed by `/"` would start a weak tag.
                bytes.extend(rest.into_iter().filter(|&b| b != b'/'));
                bytes
            }),
    ]
}

fn member(with_garbage: bool) -> BoxedStrategy<Member> {
    let valid = prop_oneof![
        8 => (any::<bool>(), opaque()).prop_map(|(weak, opaque)| Member::Tag { weak, opaque }),
        1 => Just(Member::Star),
    ];
    if with_garbage {
        prop_oneof![10 => valid, 1 => garbage().prop_map(Member::Garbage)].boxed()
    } else {
        valid.boxed()
    }
}

fn line(with_garbage: bool) -> impl Strategy<Value = Line> {
    let separator = prop::sample::select(vec![",", ", ", " ,", " ,\t", ",,", ", ,", "\t,"]);
    (
        prop::sample::select(vec!["", "", " ", ",", " , ", "\t"]),
        prop::collection::vec((member(with_garbage), separator), 0..4),
        prop::sample::select(vec!["", "", " ", ",", ", "]),
        if with_garbage {
            prop::option::weighted(0.03, prop::collection::vec(etagc(), 0..4)).boxed()
        } else {
            Just(None).boxed()
        },
    )
        .prop_map(|(prefix, mut members, suffix, unterminated)| {
            if let Some(opaque) = unterminated {
                members.push((Member::Unterminated(opaque), ","));
            }
            Line {
                prefix,
                members,
                suffix,
            }
        })
}

fn tag_field(with_garbage: bool) -> impl Strategy<Value = Vec<Line>> {
    prop_oneof![
        2 => Just(Vec::new()),
        3 => prop::collection::vec(line(with_garbage), 1..2),
        1 => prop::collection::vec(line(with_garbage), 2..4),
    ]
}

fn invalid_date() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            b"yesterday".to_vec(),
            Vec::new(),
            b"Sun, 06 Nov 1994 08:49:37".to_vec(),
            b"Sun, 06 Nov 1994 08:49:37 PST".to_vec(),
            b"Sun, 06 Nov 1994 08:49:37 UTC".to_vec(),
            b"Sun, 06 Nov 1994 08:49:37 +0000".to_vec(),
            b"Sun, 06 Nov 1994 08:49:60 GMT".to_vec(),
            b"Sun, 06 Nov 1994 24:00:00 GMT".to_vec(),
            b"Sat, 01 Jan 10000 00:00:00 GMT".to_vec(),
            b"Mon, 30 Feb 2015 00:00:00 GMT".to_vec(),
            b"Sun, 06 nov 1994 08:49:37 GMT".to_vec(),
            b"Mon, 06 Nov 1994 08:49:37 GMT".to_vec(),
            b"Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT".to_vec(),
            b"Sun, 6 Nov 1994 08:49:37 GMT".to_vec(),
            b"Sunday, 06-Nov-1994 08:49:37 GMT".to_vec(),
            b"Sun Nov 6 08:49:37 1994".to_vec(),
            b"784111777".to_vec(),
            b"Sun, 06 Nov 1994 \xff\xfe:49:37 GMT".to_vec(),
        ]),
        prop::collection::vec(loose_byte(), 0..40),
    ]
}

/// Date lines near `pivot`: absent, one, or repeated.
fn date_field(pivot: u64) -> impl Strategy<Value = Vec<DateValue>> {
    let value = prop_oneof![
        6 => (-2i64..=2, prop::sample::select(vec![DateForm::Imf, DateForm::Rfc850, DateForm::Asctime]))
            .prop_map(move |(delta, form)| {
                let secs = pivot.saturating_add_signed(delta).min(MAX_DATE);
                // Two-digit years read as 1970-2069 (httpdate, and RFC 9110 §5.6.7 for now).
                let form = match form {
                    DateForm::Rfc850 if secs >= 3_155_760_000 => DateForm::Imf,
                    form => form,
                };
                DateValue::Valid { secs, form }
            }),
        1 => invalid_date().prop_map(DateValue::Invalid),
    ];
    prop_oneof![
        3 => Just(Vec::new()),
        4 => prop::collection::vec(value.clone(), 1..2),
        1 => prop::collection::vec(value, 2..3),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![
        Method::GET,
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::CONNECT,
        Method::OPTIONS,
        Method::TRACE,
        Method::from_bytes(b"PURGE").unwrap(),
    ])
}

fn pivot() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(784_111_777u64),
        Just(MAX_DATE),
        Just(3_155_759_999u64),
        0..=MAX_DATE,
    ]
}

fn case(with_garbage: bool) -> impl Strategy<Value = Case> {
    pivot().prop_flat_map(move |pivot| {
        let current = prop::option::weighted(
            0.9,
            (
                prop::option::weighted(0.8, (any::<bool>(), opaque())),
                prop::option::weighted(
                    0.6,
                    (
                        (-2i64..=2).prop_map(move |d| pivot.saturating_add_signed(d).min(MAX_DATE)),
                        0u32..1_000_000_000,
                    ),
                ),
            )
                .prop_map(|(etag, last_modified)| Current {
                    etag,
                    last_modified,
                }),
        );
        (
            method(),
            current,
            tag_field(with_garbage),
            tag_field(with_garbage),
            date_field(pivot),
            date_field(pivot),
        )
            .prop_map(
                |(method, current, if_match, if_none_match, ims, ius)| Case {
                    method,
                    current,
                    if_match,
                    if_none_match,
                    if_modified_since: ims,
                    if_unmodified_since: ius,
                },
            )
    })
}

// ---------------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig { cases: 60_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// The evaluator agrees with the RFC model on every generated request.
    #[test]
    fn evaluate_agrees_with_the_rfc_model(case in case(true)) {
        let headers = request_headers(&case);
        let current = case.current.as_ref().map(current_validators);
        let outcome = evaluate(&case.method, &headers, current.as_ref());
        prop_assert_eq!(outcome, model(&case), "headers {:?}", headers);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 30_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Without garbage, lists are what decides: the same comparison against the model.
    #[test]
    fn evaluate_agrees_with_the_rfc_model_on_well_formed_lists(case in case(false)) {
        let headers = request_headers(&case);
        let current = case.current.as_ref().map(current_validators);
        prop_assert_eq!(evaluate(&case.method, &headers, current.as_ref()), model(&case));
    }

    /// `EntityTag::parse` accepts exactly the rendered valid tags, with surrounding whitespace.
    #[test]
    fn entity_tag_parse_agrees_with_the_grammar(
        member in member(true),
        ows in prop::sample::select(vec!["", " ", "\t", " \t "]),
    ) {
        let mut bytes = ows.as_bytes().to_vec();
        bytes.extend(render_line(&Line { prefix: "", members: vec![(member.clone(), "")], suffix: "" }));
        bytes.extend_from_slice(ows.as_bytes());
        let parsed = EntityTag::parse(&bytes);
        match member {
            Member::Tag { weak, opaque } => {
                let tag = parsed.unwrap();
                prop_assert_eq!(tag.is_weak(), weak);
                prop_assert_eq!(tag.opaque(), &opaque[..]);
                prop_assert_eq!(HeaderValue::from(&tag).as_bytes().to_vec(), render_tag(weak, &opaque));
            }
            _ => prop_assert!(parsed.is_err(), "{:?} parsed", bytes),
        }
    }
}

/// A well-formed list in ASCII (the `headers` crate reads fields as text), over 1-3 lines.
fn ascii_list() -> impl Strategy<Value = Vec<Line>> {
    let opaque = prop_oneof![
        3 => prop::sample::select(vec![b"a".to_vec(), b"b".to_vec(), Vec::new(), b"a,b".to_vec(), b"W/a".to_vec()]),
        1 => prop::collection::vec(prop_oneof![Just(0x21u8), 0x23u8..=0x7e], 0..6),
    ];
    let member = (any::<bool>(), opaque).prop_map(|(weak, opaque)| Member::Tag { weak, opaque });
    let separator = prop::sample::select(vec![",", ", ", " ,", " ,\t", ",,", ", ,", "\t,"]);
    let line = (
        prop::sample::select(vec!["", "", " ", ",", " , ", "\t"]),
        prop::collection::vec((member, separator), 0..4),
        prop::sample::select(vec!["", "", " ", ",", ", "]),
    )
        .prop_map(|(prefix, members, suffix)| Line {
            prefix,
            members,
            suffix,
        });
    prop_oneof![
        9 => prop::collection::vec(line, 1..4),
        1 => Just(vec![Line { prefix: "", members: vec![(Member::Star, "")], suffix: "" }]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Where the RFC and the `headers` crate agree (a well-formed list, or exactly `*`, in
    /// ASCII), both say the same.
    #[test]
    fn tag_lists_agree_with_the_headers_crate(
        lines in ascii_list(),
        current in (any::<bool>(), prop::sample::select(vec![b"a".to_vec(), b"b".to_vec(), Vec::new(), b"a,b".to_vec(), b"W/a".to_vec()])),
    ) {
        let mut request = HeaderMap::new();
        for line in &lines {
            let bytes = render_line(line);
            request.append(IF_NONE_MATCH, HeaderValue::from_bytes(&bytes).unwrap());
            request.append(IF_MATCH, HeaderValue::from_bytes(&bytes).unwrap());
        }
        let current_bytes = render_tag(current.0, &current.1);
        let etag: headers::ETag = std::str::from_utf8(&current_bytes).unwrap().parse().unwrap();
        let if_none_match: headers::IfNoneMatch = request.typed_get().unwrap();
        let if_match: headers::IfMatch = request.typed_get().unwrap();
        let ours = Representation::new().with_etag(EntityTag::parse(&current_bytes).unwrap());
        let only = |name: &HeaderName| {
            let mut map = HeaderMap::new();
            for value in request.get_all(name) {
                map.append(name.clone(), value.clone());
            }
            map
        };
        let inm = evaluate(&Method::GET, &only(&IF_NONE_MATCH), Some(&ours));
        prop_assert_eq!(inm == Outcome::Proceed, if_none_match.precondition_passes(&etag));
        let im = evaluate(&Method::GET, &only(&IF_MATCH), Some(&ours));
        prop_assert_eq!(im == Outcome::Proceed, if_match.precondition_passes(&etag));
    }
}

/// Where the `headers` crate and RFC 9110 part ways; the crate follows the RFC.
#[test]
fn headers_crate_differences() {
    let etag: headers::ETag = "\"a\"".parse().unwrap();
    let ours = Representation::new().with_etag(EntityTag::strong("a").unwrap());
    let cases: &[(&[u8], bool, Outcome)] = &[
        // headers drops the unparseable member and matches "a": a 304. The field is malformed,
        // so §13.1.2 makes it true: the full 200.
        (b"junk, \"a\"", false, Outcome::Proceed),
        // headers takes `*` only as the whole field; inside a list it is dropped, and the "a"
        // matches. A list mixing `*` and tags is malformed here.
        (b"*, \"a\"", false, Outcome::Proceed),
        // headers reads the field as text: obs-text makes the whole field empty, nothing
        // matches, and it says "passes"; here the "a" matches.
        (b"\"\xff\", \"a\"", true, Outcome::NotModified),
    ];
    for (value, headers_passes, expected) in cases {
        let mut request = HeaderMap::new();
        request.insert(IF_NONE_MATCH, HeaderValue::from_bytes(value).unwrap());
        let typed: headers::IfNoneMatch = request.typed_get().unwrap();
        assert_eq!(
            typed.precondition_passes(&etag),
            *headers_passes,
            "{value:?}"
        );
        assert_eq!(
            evaluate(&Method::GET, &request, Some(&ours)),
            *expected,
            "{value:?}"
        );
    }
    // If-Match: headers drops "junk" and lets the write through on "a"; a malformed If-Match
    // is false here (§13.1.1): 412.
    let mut request = HeaderMap::new();
    request.insert(IF_MATCH, HeaderValue::from_static("junk, \"a\""));
    let typed: headers::IfMatch = request.typed_get().unwrap();
    assert!(typed.precondition_passes(&etag));
    assert_eq!(
        evaluate(&Method::PUT, &request, Some(&ours)),
        Outcome::PreconditionFailed
    );
}

// ---------------------------------------------------------------------------------------------
// Through the real layer.

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// The layer applies the model's outcome to GET/HEAD 200s (validators from the handler, or
    /// generated from the body), and leaves every other method's response alone.
    #[test]
    fn the_layer_answers_what_the_model_says(mut case in case(true)) {
        let body = Bytes::from_static(b"hello");
        let generated: EntityTag = tag_of(&body).parse().unwrap();
        let current = case.current.get_or_insert(Current { etag: None, last_modified: None });
        let handler_etag = current.etag.as_ref().map(|(weak, opaque)| render_tag(*weak, opaque));
        let handler_date = current.last_modified.map(|(secs, _)| render_date(secs, DateForm::Imf));
        // What the layer sees: the handler's tag, or the one it generates.
        let seen_etag = match &current.etag {
            Some(tag) => tag.clone(),
            None => (false, generated.opaque().to_vec()),
        };
        current.etag = Some(seen_etag);
        // A modification date later than now is sent, and judged, as now (RFC 9110 §8.8.2.1).
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        current.last_modified = current
            .last_modified
            .map(|(secs, nanos)| if secs > now { (now, 0) } else { (secs, nanos) });
        let expected = match case.method {
            Method::GET | Method::HEAD => match model(&case) {
                Outcome::Proceed => StatusCode::OK,
                Outcome::NotModified => StatusCode::NOT_MODIFIED,
                Outcome::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
                Outcome::PreconditionRequired => unreachable!("not a judgement of preconditions"),
            },
            _ => StatusCode::OK,
        };

        let service = ConditionalLayer::new().layer(service_fn(move |_: Request<Empty<Bytes>>| {
            let mut response = Response::new(Full::new(body.clone()));
            if let Some(tag) = &handler_etag {
                response.headers_mut().insert(ETAG, HeaderValue::from_bytes(tag).unwrap());
            }
            if let Some(date) = &handler_date {
                response.headers_mut().insert(LAST_MODIFIED, HeaderValue::from_str(date).unwrap());
            }
            async move { Ok::<_, Infallible>(response) }
        }));
        let mut request = Request::new(Empty::new());
        *request.method_mut() = case.method.clone();
        *request.headers_mut() = request_headers(&case);
        let response = RUNTIME.with(|rt| rt.block_on(service.oneshot(request))).unwrap();
        prop_assert_eq!(response.status(), expected);
        if response.status() == StatusCode::NOT_MODIFIED {
            prop_assert!(response.headers().contains_key(ETAG));
        }
    }
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = runtime();
}

/// A body and the chunk boundaries to cut it at (empty chunks included).
fn chunked_body() -> impl Strategy<Value = (Vec<u8>, Vec<Vec<u8>>)> {
    let len = prop_oneof![0usize..64, 0usize..5000, 4090usize..4100, 0usize..12_000];
    len.prop_flat_map(|len| {
        (
            prop::collection::vec(any::<u8>(), len),
            prop::collection::vec(0..=len, 0..12),
        )
    })
    .prop_map(|(body, mut cuts)| {
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for cut in cuts {
            chunks.push(body[start..cut].to_vec());
            start = cut;
        }
        chunks.push(body[start..].to_vec());
        (body, chunks)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_500, failure_persistence: None, ..ProptestConfig::default() })]

    /// However a body is chunked, the tag is the tag of the whole body, and the body arrives
    /// byte for byte; over the limit it arrives whole and untagged.
    #[test]
    fn the_generated_tag_is_the_tag_of_the_whole_body(
        (body, chunks) in chunked_body(),
        limit in prop_oneof![Just(ConditionalLayer::DEFAULT_BUFFER_LIMIT), 0usize..12_000],
        exact_hint in any::<bool>(),
    ) {
        let service = ConditionalLayer::new()
            .buffer_limit(limit)
            .layer(service_fn(move |_: Request<Empty<Bytes>>| {
                let scripted = Scripted::chunks(chunks.clone());
                let scripted = if exact_hint { scripted.exact() } else { scripted };
                async move { Ok::<_, Infallible>(Response::new(scripted)) }
            }));
        let (status, etag, received) = RUNTIME.with(|rt| {
            rt.block_on(async {
                let response = service.oneshot(Request::new(Empty::new())).await.unwrap();
                let status = response.status();
                let etag = response.headers().get(ETAG).cloned();
                let received = response.into_body().collect().await.unwrap().to_bytes();
                (status, etag, received)
            })
        });
        prop_assert_eq!(status, StatusCode::OK);
        prop_assert_eq!(&received[..], &body[..]);
        if body.len() <= limit {
            let expected = HeaderValue::try_from(tag_of(&body)).unwrap();
            prop_assert_eq!(etag, Some(expected));
        } else {
            prop_assert_eq!(etag, None);
        }
    }
}

#[test]
fn rendered_dates_are_http_dates() {
    // The renderer itself, against known dates and httpdate.
    assert_eq!(
        render_date(784_111_777, DateForm::Imf),
        "Sun, 06 Nov 1994 08:49:37 GMT"
    );
    assert_eq!(
        render_date(784_111_777, DateForm::Rfc850),
        "Sunday, 06-Nov-94 08:49:37 GMT"
    );
    assert_eq!(
        render_date(784_111_777, DateForm::Asctime),
        "Sun Nov  6 08:49:37 1994"
    );
    assert_eq!(
        render_date(MAX_DATE, DateForm::Imf),
        "Fri, 31 Dec 9999 23:59:59 GMT"
    );
    for secs in [0, 951_782_400, 1_709_164_800, MAX_DATE] {
        let expected = UNIX_EPOCH + Duration::from_secs(secs);
        for form in [DateForm::Imf, DateForm::Asctime] {
            let parsed = httpdate::parse_http_date(&render_date(secs, form)).unwrap();
            assert_eq!(parsed, expected, "{secs} {form:?}");
        }
    }
}
