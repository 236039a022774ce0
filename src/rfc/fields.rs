//! Reading and writing single header fields: the leaf every other module builds on. Nothing
//! here knows about preconditions, bodies or Tower.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue};

/// The one value of a field that must not be repeated; `None` when it is absent or repeated.
pub(crate) fn single_value<'a, F: FieldLines + ?Sized>(
    headers: &'a F,
    name: &HeaderName,
) -> Option<&'a HeaderValue> {
    let mut values = headers.lines(name);
    let value = values.next()?;
    values.next().is_none().then_some(value)
}

/// The field lines of a message, by name: a whole [`HeaderMap`], or the few lines the layer
/// keeps of a request's preconditions (`request::Conditions`), which need no map of their own.
pub(crate) trait FieldLines {
    /// Every line of the field `name`, in order.
    fn lines<'a>(&'a self, name: &HeaderName) -> impl Iterator<Item = &'a HeaderValue>;

    /// Whether the message has the field `name`.
    fn has(&self, name: &HeaderName) -> bool {
        self.lines(name).next().is_some()
    }
}

impl FieldLines for HeaderMap {
    fn lines<'a>(&'a self, name: &HeaderName) -> impl Iterator<Item = &'a HeaderValue> {
        self.get_all(name).iter()
    }

    fn has(&self, name: &HeaderName) -> bool {
        self.contains_key(name)
    }
}

/// Removes every line of each of `names` that `headers` has. A removal costs a lookup: find
/// the few fields a message has in one pass, then remove only those.
#[inline]
pub(crate) fn remove_present<const N: usize>(headers: &mut HeaderMap, names: &[HeaderName; N]) {
    let mut present = [false; N];
    for name in headers.keys() {
        for (field, present) in names.iter().zip(&mut present) {
            *present |= name == field;
        }
    }
    for (field, present) in names.iter().zip(present) {
        if present {
            headers.remove(field);
        }
    }
}

/// An HTTP-date field in any of the three forms of RFC 9110 §5.6.7. Invalid dates (lists of
/// dates, zones other than GMT, years past 9999, repeated fields) count as absent.
pub(crate) fn single_date<F: FieldLines + ?Sized>(
    headers: &F,
    name: &HeaderName,
) -> Option<SystemTime> {
    parse_date(single_value(headers, name)?)
}

/// One HTTP-date value (RFC 9110 §5.6.7), or `None`.
pub(crate) fn parse_date(value: &HeaderValue) -> Option<SystemTime> {
    httpdate::parse_http_date(value.to_str().ok()?).ok()
}

/// The latest time an HTTP-date can express: 9999-12-31T23:59:59Z.
const LAST_HTTP_DATE: u64 = 253_402_300_799;

/// `time` as an HTTP-date (IMF-fixdate), for `Last-Modified`. A time later than `now` is sent
/// as `now`: an origin MUST NOT send a modification date later than the message's origination
/// (RFC 9110 §8.8.2.1). A time that is no validator ([`validator_seconds`]: before 1970, which
/// `httpdate` would panic on, or at the epoch) gives `None`: the field is left out.
pub(crate) fn http_date(time: SystemTime, now: SystemTime) -> Option<HeaderValue> {
    HeaderValue::from_str(&httpdate::fmt_http_date(date_to_send(time, now)?)).ok()
}

/// The modification date [`http_date`] writes for `time`, in whole seconds, or `None` when
/// the field is left out.
pub(crate) fn date_to_send(time: SystemTime, now: SystemTime) -> Option<SystemTime> {
    let seconds = validator_seconds(time.min(now))?.min(LAST_HTTP_DATE);
    Some(UNIX_EPOCH + Duration::from_secs(seconds))
}

/// The whole seconds since the epoch of a date that can be a validator: HTTP dates have
/// one-second resolution, so a `SystemTime` with a fraction compares equal to the date it is
/// sent as. `None` before 1970, which no HTTP-date this crate sends or reads can be, and at or
/// before 1 s after the epoch: the modification time the Nix store and reproducible builds give
/// every file, which says nothing of the content (a same-size change would revalidate by date
/// forever, NixOS/nixpkgs#25485).
pub(crate) fn validator_seconds(time: SystemTime) -> Option<u64> {
    let seconds = time.duration_since(UNIX_EPOCH).ok()?.as_secs();
    (seconds > 1).then_some(seconds)
}

/// The `Content-Length` of a message, when it is one well-formed line.
pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    single_value(headers, &http::header::CONTENT_LENGTH).and_then(parse_digits)
}

/// `1*DIGIT` (RFC 9110 §8.6, §14.1.2): no sign, no spaces, no overflow.
fn parse_digits(value: &HeaderValue) -> Option<u64> {
    let digits = value.as_bytes();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The members of a comma-separated list field value, without the whitespace around them; a
/// list's empty members are no members (RFC 9110 §5.6.1).
pub(crate) fn members(value: &HeaderValue) -> impl Iterator<Item = &[u8]> {
    value
        .as_bytes()
        .split(|&byte| byte == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|member| !member.is_empty())
}

/// Whether a comma-separated list field value has `token` as one of its members, compared
/// without regard to case (`Cache-Control: private, no-store`).
pub(crate) fn has_member(value: &HeaderValue, token: &[u8]) -> bool {
    members(value).any(|member| member.eq_ignore_ascii_case(token))
}

/// The content codings that `Content-Encoding` lines name, in the order they were applied:
/// every member but `identity`, which is no coding (RFC 9110 §8.4.1).
pub(crate) fn content_codings<'a>(
    lines: impl Iterator<Item = &'a HeaderValue>,
) -> impl Iterator<Item = &'a [u8]> {
    lines
        .flat_map(members)
        .filter(|coding| !coding.eq_ignore_ascii_case(b"identity"))
}

/// The members of `Accept-Encoding` lines with their weights in thousandths (RFC 9110 §12.5.3,
/// §12.4.2): 1000 where none is given; a member whose weight is malformed is left out.
pub(crate) fn weighted_members<'a>(
    lines: impl Iterator<Item = &'a HeaderValue>,
) -> impl Iterator<Item = (&'a str, u16)> {
    lines
        .filter_map(|line| line.to_str().ok())
        .flat_map(|line| line.split(','))
        .filter_map(|member| {
            let (name, weight) = match member.split_once(';') {
                Some((name, weight)) => (name, parse_qvalue(weight.trim())?),
                None => (member, 1000),
            };
            let name = name.trim();
            (!name.is_empty()).then_some((name, weight))
        })
}

/// `q=0`, `q=1`, `q=0.5`, … with at most three decimals, as thousandths (RFC 9110 §12.4.2);
/// anything else is no weight (tower-http drops such a member).
pub(crate) fn parse_qvalue(text: &str) -> Option<u16> {
    let value = text
        .strip_prefix("q=")
        .or_else(|| text.strip_prefix("Q="))?;
    let (whole, fraction) = match value.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (value, ""),
    };
    let whole: u16 = match whole {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    if fraction.len() > 3 || !fraction.bytes().all(|digit| digit.is_ascii_digit()) {
        return None;
    }
    let mut thousandths = 0u16;
    let mut factor = 100u16;
    for digit in fraction.bytes() {
        thousandths += factor * u16::from(digit - b'0');
        factor /= 10;
    }
    let q = whole + thousandths;
    (q <= 1000).then_some(q)
}

/// Whether a request's `Accept-Encoding` lines accept the content coding `coding` (RFC 9110
/// §12.5.3): listed, or covered by `*`, with a weight above 0; any coding when the request has
/// no `Accept-Encoding`. `x-gzip` is `gzip` (§8.4.1.3).
pub(crate) fn accepts_coding<'a>(
    lines: impl Iterator<Item = &'a HeaderValue>,
    coding: &[u8],
) -> bool {
    // `x-gzip` is `gzip`; otherwise names compare without regard to case.
    fn canonical(name: &[u8]) -> &[u8] {
        if name.eq_ignore_ascii_case(b"x-gzip") {
            b"gzip"
        } else {
            name
        }
    }
    let wanted = canonical(coding);
    let mut lines = lines.peekable();
    if lines.peek().is_none() {
        return true;
    }
    let (mut listed, mut star) = (None, None);
    for (name, q) in weighted_members(lines) {
        if name == "*" {
            star = Some(q);
        } else if canonical(name.as_bytes()).eq_ignore_ascii_case(wanted) {
            listed = Some(q);
        }
    }
    listed.or(star).is_some_and(|q| q > 0)
}

/// Whether `value` starts with `prefix`, compared without regard to case.
pub(crate) fn starts_with_ignore_case(value: &[u8], prefix: &[u8]) -> bool {
    let Some(start) = value.get(..prefix.len()) else {
        return false;
    };
    // The last byte first: the values checked (a `Content-Type` against the streaming types)
    // mostly share their start with the prefix (`text/`, `application/`) and differ there.
    start.last().map(u8::to_ascii_lowercase) == prefix.last().map(u8::to_ascii_lowercase)
        && start.eq_ignore_ascii_case(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn dates_outside_what_http_can_say_never_panic() {
        let now = at(1_700_000_000);
        type Case = (SystemTime, Option<&'static str>);
        let cases: &[Case] = &[
            (at(784_111_777), Some("Sun, 06 Nov 1994 08:49:37 GMT")),
            (
                at(784_111_777) + Duration::from_millis(999),
                Some("Sun, 06 Nov 1994 08:49:37 GMT"),
            ),
            (
                UNIX_EPOCH + Duration::from_secs(2),
                Some("Thu, 01 Jan 1970 00:00:02 GMT"),
            ),
            // At or before 1 s after the epoch, or before 1970: no validator, left out.
            (UNIX_EPOCH, None),
            (UNIX_EPOCH + Duration::from_millis(1999), None),
            (UNIX_EPOCH - Duration::from_secs(1), None),
            (UNIX_EPOCH - Duration::from_secs(86_400 * 365 * 500), None),
            // Later than now, even past year 9999: sent as now (RFC 9110 §8.8.2.1).
            (at(1_700_000_001), Some("Tue, 14 Nov 2023 22:13:20 GMT")),
            (
                at(LAST_HTTP_DATE + 1),
                Some("Tue, 14 Nov 2023 22:13:20 GMT"),
            ),
            (at(u64::MAX / 4), Some("Tue, 14 Nov 2023 22:13:20 GMT")),
        ];
        for (time, expected) in cases {
            let formatted = http_date(*time, now);
            assert_eq!(
                formatted.as_ref().map(|value| value.to_str().unwrap()),
                *expected,
                "{time:?}"
            );
        }
        // A clock past 9999 still gets a date, the last one there is.
        assert_eq!(
            http_date(at(u64::MAX / 4), at(u64::MAX / 4)).unwrap(),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
    }

    #[test]
    fn digits_table() {
        type Case = (&'static [u8], Option<u64>);
        let cases: &[Case] = &[
            (b"0", Some(0)),
            (b"1234", Some(1234)),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b"", None),
            (b"+1", None),
            (b"-1", None),
            (b" 1", None),
            (b"1 ", None),
            (b"1,1", None),
            (b"0x10", None),
        ];
        for (value, expected) in cases {
            let value = HeaderValue::from_bytes(value).unwrap();
            assert_eq!(parse_digits(&value), *expected, "{value:?}");
        }
    }

    #[test]
    fn single_values_and_list_members() {
        let mut headers = HeaderMap::new();
        headers.append("a", HeaderValue::from_static("1"));
        headers.append("b", HeaderValue::from_static("1"));
        headers.append("b", HeaderValue::from_static("2"));
        assert_eq!(
            single_value(&headers, &HeaderName::from_static("a")).unwrap(),
            "1"
        );
        assert_eq!(single_value(&headers, &HeaderName::from_static("b")), None);
        assert_eq!(single_value(&headers, &HeaderName::from_static("c")), None);
        let cache_control = HeaderValue::from_static("private, No-Store ,max-age=0");
        assert!(has_member(&cache_control, b"no-store"));
        assert!(!has_member(&cache_control, b"no-cache"));
        assert!(!has_member(
            &HeaderValue::from_static("no-store-ish"),
            b"no-store"
        ));
        assert!(starts_with_ignore_case(
            b"Text/Event-Stream; x",
            b"text/event-stream"
        ));
        assert!(!starts_with_ignore_case(b"text", b"text/event-stream"));
    }

    #[test]
    fn accepted_codings() {
        let accepts = |lines: &[&'static str], coding: &[u8]| {
            let lines: Vec<HeaderValue> = lines
                .iter()
                .map(|line| HeaderValue::from_static(line))
                .collect();
            accepts_coding(lines.iter(), coding)
        };
        assert!(accepts(&[], b"gzip"), "no Accept-Encoding: any coding");
        assert!(accepts(&["gzip"], b"gzip"));
        assert!(accepts(&["deflate, GZIP;q=0.5"], b"gzip"));
        assert!(accepts(&["x-gzip"], b"gzip"));
        assert!(accepts(&["gzip"], b"x-gzip"));
        assert!(accepts(&["br", "gzip"], b"gzip"));
        assert!(accepts(&["*"], b"zstd"));
        assert!(!accepts(&["identity"], b"gzip"));
        assert!(!accepts(&["gzip;q=0"], b"gzip"));
        assert!(!accepts(&["*, gzip;q=0"], b"gzip"));
        assert!(accepts(&["*;q=0, gzip"], b"gzip"));
        assert!(
            !accepts(&["gzip;q=2"], b"gzip"),
            "a malformed weight drops the member"
        );
        assert!(!accepts(&[""], b"gzip"));
        assert!(accepts(&["X-GZIP;q=0.5"], b"gzip"));
        assert!(accepts(&["gzip"], b"x-gzip"));
    }

    #[test]
    fn q_values() {
        assert_eq!(parse_qvalue("q=0.5"), Some(500));
        assert_eq!(parse_qvalue("q=1"), Some(1000));
        assert_eq!(parse_qvalue("q=0.25"), Some(250));
        assert_eq!(parse_qvalue("Q=1.000"), Some(1000));
        assert_eq!(parse_qvalue("q=1.001"), None);
        assert_eq!(parse_qvalue("q=0.1234"), None);
        assert_eq!(parse_qvalue("q=.5"), None);
    }

    #[test]
    fn list_members() {
        let codings = |lines: &[&'static str]| -> Vec<Vec<u8>> {
            let lines: Vec<HeaderValue> = lines
                .iter()
                .map(|line| HeaderValue::from_static(line))
                .collect();
            content_codings(lines.iter()).map(<[u8]>::to_vec).collect()
        };
        assert_eq!(codings(&["gzip"]), [b"gzip".to_vec()]);
        assert_eq!(
            codings(&[" gzip , br", "zstd"]),
            [b"gzip".to_vec(), b"br".to_vec(), b"zstd".to_vec()]
        );
        assert!(codings(&["", " , ", "identity", "IDENTITY, "]).is_empty());
        let weighted = |line: &'static str| -> Vec<(String, u16)> {
            let line = HeaderValue::from_static(line);
            weighted_members(std::iter::once(&line))
                .map(|(name, q)| (name.to_owned(), q))
                .collect()
        };
        assert_eq!(
            weighted("gzip;q=0.5, br , ,zstd;q=2, *;q=0"),
            [
                ("gzip".to_owned(), 500),
                ("br".to_owned(), 1000),
                ("*".to_owned(), 0)
            ]
        );
    }
}
