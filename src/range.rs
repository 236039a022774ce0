//! The one `Range` form the layer serves itself: a single byte range (RFC 9110 §14.1.2).

use http::HeaderValue;

/// The first and last byte positions of a single satisfiable byte range of a `total`-byte
/// representation, or `None` for anything else: other units, several ranges, syntax errors,
/// ranges starting past the end. `bytes=0-499`, `bytes=500-`, `bytes=-500` are accepted.
pub(crate) fn single_byte_range(value: &HeaderValue, total: u64) -> Option<(u64, u64)> {
    let (unit, set) = value.to_str().ok()?.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let (first, last) = set.trim().split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let last_byte = total.checked_sub(1)?;
    if first.is_empty() {
        let suffix = parse_position(last)?;
        if suffix == 0 {
            return None;
        }
        return Some((total.saturating_sub(suffix), last_byte));
    }
    let first = parse_position(first)?;
    let last = if last.is_empty() {
        last_byte
    } else {
        parse_position(last)?.min(last_byte)
    };
    (first <= last).then_some((first, last))
}

/// `1*DIGIT`, without the sign `u64::from_str` would accept.
fn parse_position(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_table() {
        type Case = (&'static str, u64, Option<(u64, u64)>);
        let cases: &[Case] = &[
            ("bytes=0-499", 1000, Some((0, 499))),
            ("bytes=500-999", 1000, Some((500, 999))),
            ("bytes=500-", 1000, Some((500, 999))),
            ("bytes=-200", 1000, Some((800, 999))),
            ("bytes=-2000", 1000, Some((0, 999))),
            ("bytes=900-5000", 1000, Some((900, 999))),
            ("BYTES = 1-1", 1000, Some((1, 1))),
            ("bytes=999-", 1000, Some((999, 999))),
            ("bytes=1000-", 1000, None),
            ("bytes=5-4", 1000, None),
            ("bytes=-0", 1000, None),
            ("bytes=0-1,5-6", 1000, None),
            ("bytes=+1-2", 1000, None),
            ("bytes=a-b", 1000, None),
            ("items=0-1", 1000, None),
            ("bytes=0-0", 0, None),
            ("bytes", 1000, None),
        ];
        for (value, total, expected) in cases {
            assert_eq!(
                single_byte_range(&HeaderValue::from_static(value), *total),
                *expected,
                "{value} of {total}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]

        /// Any visible-ASCII value and any length: no panic, and a range is always inside the
        /// representation.
        #[test]
        fn ranges_stay_inside_the_representation(value in "[ -~]{0,40}", total in 0u64..5000) {
            if let Ok(value) = HeaderValue::from_str(&value)
                && let Some((first, last)) = single_byte_range(&value, total)
            {
                proptest::prop_assert!(first <= last && last < total);
            }
        }

        /// Well-formed single ranges agree with a direct reading of RFC 9110 §14.1.2.
        #[test]
        fn well_formed_ranges_match_the_rfc(
            first in proptest::option::of(0u64..3000),
            last in proptest::option::of(0u64..3000),
            total in 0u64..3000,
        ) {
            let spec = format!(
                "bytes={}-{}",
                first.map(|n| n.to_string()).unwrap_or_default(),
                last.map(|n| n.to_string()).unwrap_or_default()
            );
            let expected = match (first, last) {
                (None, None) => None,
                (None, Some(0)) => None,
                (None, Some(suffix)) if total > 0 => Some((total.saturating_sub(suffix), total - 1)),
                (Some(first), last) if first < total => {
                    let last = last.unwrap_or(total - 1).min(total - 1);
                    (first <= last).then_some((first, last))
                }
                _ => None,
            };
            let value = HeaderValue::from_str(&spec).unwrap();
            proptest::prop_assert_eq!(single_byte_range(&value, total), expected, "{}", spec);
        }
    }
}
