//! `Last-Modified` values for outgoing responses (RFC 9110 §8.8.2, HTTP-date §5.6.7), for the
//! integrations that write the field themselves (`IntoResponseParts`, typed headers).
//!
//! `httpdate` formats only the years 1970 to 9999 and panics outside them, so every time goes
//! through [`last_modified_to_send`] first.

use std::time::{SystemTime, UNIX_EPOCH};

/// 10000-01-01T00:00:00Z in seconds since 1970: the first instant an HTTP-date cannot express
/// (`date1 = day SP month SP year`, `year = 4DIGIT`, RFC 9110 §5.6.7).
const YEAR_10000: u64 = 253_402_300_800;

/// The modification date to send for `modified` in a response generated at `now`, or `None`
/// when the field has to be left out.
///
/// - Later than `now`: `now` (RFC 9110 §8.8.2.1: an origin server with a clock must not send a
///   `Last-Modified` later than the message's origination date, and replaces a future one with
///   that date).
/// - Before 1970, or still not expressible as an HTTP-date (a clock set past year 9999): `None`,
///   the field is skipped rather than sent wrong.
pub(crate) fn last_modified_to_send(modified: SystemTime, now: SystemTime) -> Option<SystemTime> {
    let sent = modified.min(now);
    let seconds = sent.duration_since(UNIX_EPOCH).ok()?.as_secs();
    (seconds < YEAR_10000).then_some(sent)
}

/// [`last_modified_to_send`] formatted as an IMF-fixdate, the form a sender must generate
/// (RFC 9110 §5.6.7).
#[cfg(feature = "axum")]
pub(crate) fn last_modified_value(
    modified: SystemTime,
    now: SystemTime,
) -> Option<http::HeaderValue> {
    let sent = last_modified_to_send(modified, now)?;
    http::HeaderValue::from_str(&httpdate::fmt_http_date(sent)).ok()
}

#[cfg(all(test, feature = "axum"))]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_range_httpdate_formats_is_respected() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let before_1970 = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(last_modified_to_send(before_1970, now), None);
        assert_eq!(
            last_modified_value(UNIX_EPOCH, now).unwrap(),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        let past = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            last_modified_value(past, now).unwrap(),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        // Future dates, even past year 9999, are sent as now.
        let year_10000 = UNIX_EPOCH + Duration::from_secs(YEAR_10000);
        assert_eq!(last_modified_to_send(year_10000, now), Some(now));
        assert_eq!(
            last_modified_to_send(now + Duration::from_secs(5), now),
            Some(now)
        );
        // A clock past year 9999 cannot write any date.
        let last_second = UNIX_EPOCH + Duration::from_secs(YEAR_10000 - 1);
        assert_eq!(
            last_modified_value(last_second, year_10000 + Duration::from_secs(1)).unwrap(),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(last_modified_to_send(year_10000, year_10000), None);
        // A clock before 1970 cannot either.
        assert_eq!(last_modified_to_send(past, before_1970), None);
    }
}
