//! The answers given instead of the handler's to a request that may not proceed: 412, 428, and
//! the 503 of a conditional write whose preconditions could not be checked; with their RFC 9457
//! problem details (`application/problem+json`) when the layer is configured to send them.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::rfc::precondition::Precondition;

/// Why a request gets no answer from the handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 412 (RFC 9110 §15.5.13): this precondition is false.
    Failed(Option<Precondition>),
    /// 428 (RFC 6585 §3): the request must be conditional and is not.
    Required,
    /// 503: a conditional write whose preconditions could not be checked is not performed.
    Unchecked,
}

/// The text of [`Refusal::Unchecked`].
const UNCHECKED: &str =
    "The request's preconditions could not be checked, so it was not performed. Retry later.";

/// The text of [`Refusal::Required`]: RFC 6585 §3 says the answer should explain how to
/// resubmit the request.
const REQUIRED: &str = "This request must be conditional: send If-Match with the ETag of the \
     version it changes (If-None-Match: * to create a resource that must not exist yet).";

impl Refusal {
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Self::Failed(_) => StatusCode::PRECONDITION_FAILED,
            Self::Required => StatusCode::PRECONDITION_REQUIRED,
            Self::Unchecked => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn detail(self) -> &'static str {
        match self {
            Self::Failed(Some(Precondition::IfMatch)) => {
                "If-Match names no current version of the resource: GET it again, then retry with its ETag."
            }
            Self::Failed(Some(Precondition::IfUnmodifiedSince)) => {
                "The resource was modified after the If-Unmodified-Since date: GET it again, then retry."
            }
            Self::Failed(Some(Precondition::IfNoneMatch)) => {
                "If-None-Match names a current version of the resource (If-None-Match: * fails where it exists)."
            }
            Self::Failed(_) => "A precondition of the request is false.",
            Self::Required => REQUIRED,
            Self::Unchecked => UNCHECKED,
        }
    }

    /// The precondition the problem names: the false one of a 412, the one a 428 asks for.
    fn precondition(self) -> Option<&'static str> {
        match self {
            Self::Failed(precondition) => precondition.map(Precondition::field_name),
            Self::Required => Some(Precondition::IfMatch.field_name()),
            Self::Unchecked => None,
        }
    }

    /// The body for this answer, given the fields of its head (a 412's carry the current
    /// `ETag`), to which it adds those that describe the body ([`Refusal::describe`] and
    /// [`Refusal::content`] in one).
    pub(crate) fn body(self, problem_details: bool, headers: &mut HeaderMap) -> Option<Bytes> {
        self.describe(problem_details, headers);
        self.content(problem_details, headers)
    }

    /// The fields that describe this answer's body: `application/problem+json` with
    /// `problem_details`, otherwise `text/plain` for the 428 and 503 (RFC 6585 §3 asks the 428
    /// to say how to resubmit); a 412 without problem details has no body to describe. A 428
    /// or 503 is never stored by a cache (`no-store`).
    pub(crate) fn describe(self, problem_details: bool, headers: &mut HeaderMap) {
        if !matches!(self, Self::Failed(_)) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        let content_type = match (problem_details, self) {
            (true, _) => "application/problem+json",
            (false, Self::Failed(_)) => return,
            (false, Self::Required | Self::Unchecked) => "text/plain; charset=utf-8",
        };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }

    /// This answer's body, for a head with these fields (a 412's carry the current `ETag`):
    /// the problem details with `problem_details`, otherwise a line of text for the 428 and 503
    /// and nothing for a 412.
    pub(crate) fn content(self, problem_details: bool, headers: &HeaderMap) -> Option<Bytes> {
        if problem_details {
            return Some(self.problem(headers.get(ETAG)));
        }
        match self {
            Self::Failed(_) => None,
            Self::Required | Self::Unchecked => Some(Bytes::from(format!("{}\n", self.detail()))),
        }
    }

    /// The RFC 9457 object: `type` `about:blank` (§4.2.1: the status says what happened),
    /// `title` the status's reason phrase, `status`, `detail`, and the extension members
    /// `precondition` and, on a 412, `etag` (the current tag, or `null` when the resource has
    /// none).
    fn problem(self, etag: Option<&HeaderValue>) -> Bytes {
        let status = self.status();
        let mut json = String::with_capacity(256);
        json.push_str("{\"type\":\"about:blank\",\"title\":");
        push_json_string(&mut json, status.canonical_reason().unwrap_or_default());
        json.push_str(",\"status\":");
        json.push_str(status.as_str());
        json.push_str(",\"detail\":");
        push_json_string(&mut json, self.detail());
        if let Some(precondition) = self.precondition() {
            json.push_str(",\"precondition\":");
            push_json_string(&mut json, precondition);
        }
        if let Self::Failed(_) = self {
            json.push_str(",\"etag\":");
            match etag {
                // obs-text bytes are legal in a tag but not UTF-8 on their own.
                Some(etag) => {
                    push_json_string(&mut json, &String::from_utf8_lossy(etag.as_bytes()))
                }
                None => json.push_str("null"),
            }
        }
        json.push('}');
        Bytes::from(json)
    }
}

/// Appends `text` as a JSON string (RFC 8259 §7): quoted, with `"`, `\\` and the control
/// characters escaped.
fn push_json_string(json: &mut String, text: &str) {
    json.push('"');
    for character in text.chars() {
        match character {
            '"' => json.push_str("\\\""),
            '\\' => json.push_str("\\\\"),
            '\n' => json.push_str("\\n"),
            '\r' => json.push_str("\\r"),
            '\t' => json.push_str("\\t"),
            control if u32::from(control) < 0x20 => {
                json.push_str(&format!("\\u{:04x}", u32::from(control)));
            }
            other => json.push(other),
        }
    }
    json.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut json = String::new();
        push_json_string(&mut json, "W/\"a\\b\"\n\u{1}é");
        assert_eq!(json, r#""W/\"a\\b\"\n\u0001é""#);
    }

    #[test]
    fn problems_name_the_precondition_and_the_current_tag() {
        let failed = Refusal::Failed(Some(Precondition::IfMatch));
        assert_eq!(failed.status(), StatusCode::PRECONDITION_FAILED);
        let mut headers = HeaderMap::new();
        headers.insert(ETAG, HeaderValue::from_static("\"v2\""));
        let body = failed.body(true, &mut headers).unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            body.starts_with(
                r#"{"type":"about:blank","title":"Precondition Failed","status":412,"#
            ),
            "{body}"
        );
        assert!(
            body.ends_with(r#","precondition":"If-Match","etag":"\"v2\""}"#),
            "{body}"
        );
        assert_eq!(headers[CONTENT_TYPE], "application/problem+json");
        assert!(!headers.contains_key(CACHE_CONTROL));

        let mut headers = HeaderMap::new();
        let required = Refusal::Required.body(true, &mut headers).unwrap();
        let required = String::from_utf8(required.to_vec()).unwrap();
        assert!(
            required.contains(r#""status":428"#) && !required.contains("etag"),
            "{required}"
        );
        assert_eq!(headers[CACHE_CONTROL], "no-store");

        let mut headers = HeaderMap::new();
        assert_eq!(failed.body(false, &mut headers), None);
        assert!(headers.is_empty());
        let text = Refusal::Required.body(false, &mut headers).unwrap();
        assert!(text.starts_with(b"This request must be conditional"));
        assert_eq!(headers[CONTENT_TYPE], "text/plain; charset=utf-8");
    }
}
