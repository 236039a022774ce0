//! The request side of the layer, as plan values that `future.rs` carries out: what the layer
//! keeps of a request to evaluate the response ([`plan_request`]), and what a validator source's
//! answer means before the inner service runs ([`plan_with_source`]).
//!
//! The inner service is asked what the client asked. The only rewrites are the ones a source's
//! answer makes right: a `Range` whose `If-Range` names another version than the current one is
//! removed (RFC 9110 §13.1.5: the range MUST be ignored), and a GET's or HEAD's preconditions,
//! once evaluated against the source's validators, are not handed on to be evaluated again against
//! others (the response carries the source's validators).

use http::header::{
    ACCEPT_ENCODING, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE,
    RANGE,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use crate::rfc::fields::{FieldLines, parse_date, remove_present, validator_seconds};

use crate::Outcome;
use crate::Representation;
use crate::config::WriteRules;
use crate::decision::Decision;
use crate::rfc::precondition::{CONDITIONAL_HEADERS, evaluate};
use crate::rfc::problem::Refusal;
use crate::rfc::range::{if_range_allows_range, may_ask_again};
use crate::rfc::representation::Current;
use crate::rfc::representation::Validators;
use tower::BoxError;

/// What to do with a request the inner service will answer.
#[derive(Debug)]
pub(crate) enum RequestPlan {
    /// Not GET or HEAD: by the time the response is here the inner service has run, so turning its
    /// answer into a 304 or 412 would hide a mutation that happened (trillium #943).
    PassThrough,
    /// Evaluate the request's preconditions against the response.
    Evaluate {
        facts: RequestFacts,
        /// A 206 may be of a version `If-Range` does not name: keep what it takes to ask again
        /// for the whole representation.
        may_ask_again: bool,
        /// The request has an `If-Modified-Since` or `If-Unmodified-Since` at the epoch, which
        /// names no version: remove it, or an inner service that takes the Nix store's epoch
        /// times for validators answers 304 for changed bytes.
        epoch_dates: bool,
    },
}

/// What the response future must know of a GET or HEAD request.
#[derive(Debug)]
pub(crate) struct RequestFacts {
    /// HEAD rather than GET.
    pub(crate) head: bool,
    /// The request's precondition fields, and its `If-Range` when a 206 has to be checked
    /// against it; empty for most requests.
    pub(crate) conditions: Conditions,
    /// Whether responses carry a [`Decision`](crate::decision::Decision) extension.
    pub(crate) decisions: bool,
    /// What only some configurations need, boxed so the common response future stays small.
    pub(crate) rare: Option<Box<RareFacts>>,
}

#[derive(Debug)]
pub(crate) struct RareFacts {
    /// Kept only when a skip predicate wants it.
    pub(crate) uri: Option<Uri>,
    /// The validators and cache headers a source reported, to put on the response.
    pub(crate) representation: Option<Representation>,
}

/// The lines of a request's precondition fields (and `If-Range`), copied in the order they
/// came. Most conditional requests carry one or two lines: a list of them costs one small
/// allocation, where a `HeaderMap` of its own would cost three and a hashed lookup per field.
#[derive(Clone, Debug, Default)]
pub(crate) struct Conditions {
    lines: Vec<(HeaderName, HeaderValue)>,
}

impl Conditions {
    fn push(&mut self, name: &HeaderName, value: &HeaderValue) {
        self.lines.push((name.clone(), value.clone()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The request's precondition fields, its `If-Range`, and its `Accept-Encoding`, which
    /// tells which coded tags its `If-None-Match` may name
    /// ([`coding_counts`](crate::rfc::precondition::coding_counts)), for an evaluation made
    /// before the response exists.
    pub(crate) fn for_handler(headers: &HeaderMap) -> Self {
        let mut conditions = Self::default();
        for (name, value) in headers {
            if CONDITIONAL_HEADERS.contains(name) || name == IF_RANGE || name == ACCEPT_ENCODING {
                conditions.push(name, value);
            }
        }
        conditions
    }

    /// Whether any precondition field is among the lines.
    pub(crate) fn any_precondition(&self) -> bool {
        self.lines
            .iter()
            .any(|(name, _)| CONDITIONAL_HEADERS.contains(name))
    }
}

impl FieldLines for Conditions {
    fn lines<'a>(&'a self, name: &HeaderName) -> impl Iterator<Item = &'a HeaderValue> {
        self.lines
            .iter()
            .filter(move |(line, _)| line == name)
            .map(|(_, value)| value)
    }
}

/// Every line of `headers`, for the table tests of `plan::response`.
#[cfg(test)]
impl From<&HeaderMap> for Conditions {
    fn from(headers: &HeaderMap) -> Self {
        let mut conditions = Self::default();
        for (name, value) in headers {
            conditions.push(name, value);
        }
        conditions
    }
}

impl RequestFacts {
    /// GET or HEAD.
    pub(crate) fn method(&self) -> &'static Method {
        static GET: Method = Method::GET;
        static HEAD: Method = Method::HEAD;
        if self.head { &HEAD } else { &GET }
    }

    /// The request's precondition fields (and `If-Range`), if any.
    pub(crate) fn conditions(&self) -> Option<&Conditions> {
        (!self.conditions.is_empty()).then_some(&self.conditions)
    }

    /// Whether a response to this request is sent as it is: no precondition to evaluate and
    /// no decision to record.
    pub(crate) fn nothing_to_evaluate(&self) -> bool {
        self.conditions.is_empty() && !Decision::wanted(self.decisions)
    }

    pub(crate) fn uri(&self) -> Option<&Uri> {
        self.rare.as_ref()?.uri.as_ref()
    }

    pub(crate) fn representation(&self) -> Option<&Representation> {
        self.rare.as_ref()?.representation.as_ref()
    }

    /// The facts of the same request asked again without `Range` and `If-Range`.
    pub(crate) fn asked_again(mut self) -> Self {
        self.conditions.lines.retain(|(name, _)| name != IF_RANGE);
        self
    }
}

/// What the layer keeps of a request before handing it on, untouched, to the inner service.
/// `uri` is kept for a skip predicate, `decisions` says whether responses record a
/// [`Decision`](crate::decision::Decision), and `representation` is what a validator source
/// vouched for; with it, `If-Range` has been evaluated already.
// Inlined into `call`: the plan is consumed there at once, and returning it costs a copy.
#[inline(always)]
pub(crate) fn plan_request(
    method: &Method,
    headers: &HeaderMap,
    uri: Option<&Uri>,
    decisions: bool,
    representation: Option<Representation>,
) -> RequestPlan {
    if *method != Method::GET && *method != Method::HEAD {
        return RequestPlan::PassThrough;
    }
    // One pass over the fields a request has costs less than a lookup for each it might have.
    let mut conditions = Conditions::default();
    let (mut range, mut if_range, mut epoch_dates) = (false, false, false);
    for (name, value) in headers {
        if CONDITIONAL_HEADERS.contains(name) {
            epoch_dates |=
                (name == IF_MODIFIED_SINCE || name == IF_UNMODIFIED_SINCE) && is_epoch_date(value);
            conditions.push(name, value);
        } else if name == IF_RANGE {
            if_range = true;
        } else if name == RANGE {
            range = true;
        }
    }
    let may_ask_again = representation.is_none() && may_ask_again(method, range, if_range);
    if may_ask_again {
        for value in headers.get_all(IF_RANGE) {
            conditions.push(&IF_RANGE, value);
        }
    }
    let uri = uri.cloned();
    // Matched rather than tested, so that without a source nothing is moved.
    let rare = match representation {
        Some(representation) => Some(Box::new(RareFacts {
            uri,
            representation: Some(representation),
        })),
        None => uri.map(|uri| {
            Box::new(RareFacts {
                uri: Some(uri),
                representation: None,
            })
        }),
    };
    RequestPlan::Evaluate {
        facts: RequestFacts {
            head: *method == Method::HEAD,
            conditions,
            decisions,
            rare,
        },
        may_ask_again,
        epoch_dates,
    }
}

/// A valid HTTP-date that is no validator ([`validator_seconds`]).
fn is_epoch_date(value: &HeaderValue) -> bool {
    parse_date(value).is_some_and(|date| validator_seconds(date).is_none())
}

/// Removes the `If-Modified-Since` and `If-Unmodified-Since` lines that name no version.
pub(crate) fn remove_epoch_dates(headers: &mut HeaderMap) {
    for name in [IF_MODIFIED_SINCE, IF_UNMODIFIED_SINCE] {
        if let http::header::Entry::Occupied(entry) = headers.entry(name) {
            let (name, values) = entry.remove_entry_mult();
            let kept: Vec<HeaderValue> = values.filter(|value| !is_epoch_date(value)).collect();
            for value in kept {
                headers.append(name.clone(), value);
            }
        }
    }
}

/// Removes the fields [`evaluate`] reads.
pub(crate) fn remove_preconditions(headers: &mut HeaderMap) {
    remove_present(headers, &CONDITIONAL_HEADERS);
}

/// Where a request goes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FirstStep {
    /// To the inner service.
    CallInner,
    /// To the validator source; the inner service is called afterwards, if at all.
    AskSource,
    /// Nowhere: a write that must name a version and does not is refused (RFC 6585 §3).
    RequirePrecondition,
}

/// Where a request goes first, given whether the layer has a validator source.
pub(crate) fn first_step(
    method: &Method,
    headers: &HeaderMap,
    has_source: bool,
    rules: &WriteRules,
) -> FirstStep {
    if has_source && consults_source(method, headers, rules) {
        FirstStep::AskSource
    } else if precondition_required(method, headers, rules) {
        // Without a source, the layer cannot know whether the resource exists: a write that
        // must be conditional is refused before it reaches a handler.
        FirstStep::RequirePrecondition
    } else {
        FirstStep::CallInner
    }
}

/// Whether the layer asks its validator source about a request: GET and HEAD always gain from
/// it; other methods when they carry preconditions to protect a write with, or when they must
/// (a write to a missing resource is the handler's 404 before it is a 428). CONNECT, OPTIONS
/// and TRACE select no representation, so preconditions never apply to them.
fn consults_source(method: &Method, headers: &HeaderMap, rules: &WriteRules) -> bool {
    *method == Method::GET
        || *method == Method::HEAD
        || !matches!(*method, Method::CONNECT | Method::OPTIONS | Method::TRACE)
            && (has_write_preconditions(headers) || rules.requires(method))
}

/// Whether a write carries a precondition [`evaluate`] evaluates for it: `If-Match`,
/// `If-None-Match` or `If-Unmodified-Since`. `If-Modified-Since` is for GET and HEAD only
/// (RFC 9110 §13.1.3): on a write it is ignored, so it makes no write conditional.
pub(crate) fn has_write_preconditions(headers: &HeaderMap) -> bool {
    [IF_MATCH, IF_NONE_MATCH, IF_UNMODIFIED_SINCE]
        .iter()
        .any(|name| headers.contains_key(name))
}

/// Whether a request carries a precondition that guards a write against a lost update, as
/// [`ConditionalLayer::require_preconditions`](crate::ConditionalLayer::require_preconditions)
/// asks (RFC 6585 §3): `If-Match`; `If-None-Match: *` (create only; a list of tags only says
/// which versions not to overwrite); or `If-Unmodified-Since` where the resource has a
/// modification date, without which it is ignored (§13.1.4).
pub(crate) fn guards_write(headers: &HeaderMap, last_modified_known: bool) -> bool {
    headers.contains_key(IF_MATCH)
        || headers
            .get_all(IF_NONE_MATCH)
            .iter()
            .any(|value| value.as_bytes().trim_ascii() == b"*")
        || last_modified_known && headers.contains_key(IF_UNMODIFIED_SINCE)
}

/// A request that must be conditional and is not, where no modification date is known (no
/// source, or a source that knows of no resource): 428 before the inner service runs. Only
/// `If-Match` and `If-None-Match: *` count.
fn precondition_required(method: &Method, headers: &HeaderMap, rules: &WriteRules) -> bool {
    rules.requires(method) && !guards_write(headers, false)
}

/// What a validator source's answer means for a request, before the inner service runs.
#[derive(Debug)]
pub(crate) enum SourcePlan {
    /// Answer without calling the inner service.
    Answer(Answer),
    /// Call the inner service.
    Call {
        /// What the source vouched for, to put on the response; `None` when it did not know.
        representation: Option<Representation>,
        /// `If-Range` names another version: remove `Range` (RFC 9110 §13.1.5).
        stale_range: bool,
        /// The preconditions of a GET or HEAD were evaluated against the source's validators:
        /// remove them, so that an inner service with validators of its own (`ServeDir`'s
        /// metadata tag beside a source's content tag) does not evaluate them again by other ones.
        evaluated: bool,
    },
}

/// An answer made from what the source said, without the inner service.
#[derive(Debug)]
pub(crate) enum Answer {
    /// 304, with the representation's validators and cache headers; `held_form`: the client
    /// holds the current tag in another form, which the 304 carries.
    NotModified {
        representation: Representation,
        held_form: bool,
    },
    /// 412, 428 or 503, with the current validators when the resource exists.
    Refused(Refusal, Option<Validators>),
}

impl SourcePlan {
    /// The inner service answers as if there were no source.
    const UNCHECKED: Self = Self::Call {
        representation: None,
        stale_range: false,
        evaluated: false,
    };

    fn refused(refusal: Refusal, validators: Option<&Validators>) -> Self {
        Self::Answer(Answer::Refused(refusal, validators.cloned()))
    }
}

/// RFC 9110 §13.2.2 with the validators a source reported, before the inner service runs, and the
/// write rules of the layer's configuration: which methods may create a missing resource
/// (§13.2.1), and which must be conditional (RFC 6585 §3).
pub(crate) fn plan_with_source(
    current: Result<Current, BoxError>,
    method: &Method,
    headers: &HeaderMap,
    rules: &WriteRules,
) -> SourcePlan {
    let safe = *method == Method::GET || *method == Method::HEAD;
    let representation = match current {
        Ok(Current::Exists(representation)) => representation,
        // RFC 9110 §13.2.1: preconditions apply only where the response would be 2xx (or
        // 412) without them. A GET, HEAD, DELETE or PATCH of a missing resource gets its 404
        // from the inner service; a method that may create the resource (PUT) is evaluated.
        Ok(Current::Missing) if safe || !rules.creates(method) => {
            return SourcePlan::UNCHECKED;
        }
        Ok(Current::Missing) => {
            if precondition_required(method, headers, rules) {
                return SourcePlan::refused(Refusal::Required, None);
            }
            let evaluation = evaluate(method, headers, None);
            return match evaluation.outcome {
                Outcome::PreconditionFailed => {
                    SourcePlan::refused(Refusal::Failed(evaluation.by), None)
                }
                _ => SourcePlan::UNCHECKED,
            };
        }
        // A conditional write must not happen unchecked; a read is evaluated after the inner service
        // instead.
        Err(_) if !safe && has_write_preconditions(headers) => {
            return SourcePlan::refused(Refusal::Unchecked, None);
        }
        Ok(Current::Unknown) | Err(_) => {
            if precondition_required(method, headers, rules) {
                return SourcePlan::refused(Refusal::Required, None);
            }
            return SourcePlan::UNCHECKED;
        }
    };
    let validators = representation.validators();
    if rules.requires(method) && !guards_write(headers, validators.last_modified.is_some()) {
        return SourcePlan::refused(Refusal::Required, Some(validators));
    }
    let evaluation = evaluate(method, headers, Some(validators.borrowed()));
    match evaluation.outcome {
        Outcome::NotModified => SourcePlan::Answer(Answer::NotModified {
            representation,
            held_form: evaluation.held_form,
        }),
        Outcome::PreconditionFailed => {
            SourcePlan::refused(Refusal::Failed(evaluation.by), Some(validators))
        }
        Outcome::Proceed | Outcome::PreconditionRequired => SourcePlan::Call {
            stale_range: *method == Method::GET && !if_range_allows_range(headers, validators),
            evaluated: safe,
            representation: Some(representation),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EntityTag;
    use http::HeaderValue;
    use http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH};

    fn headers(fields: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in fields {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn exists(tag: &str) -> Result<Current, BoxError> {
        Ok(Current::Exists(
            Representation::new().with_etag(EntityTag::strong(tag).unwrap()),
        ))
    }

    /// A short name for each verdict, so the table reads row by row.
    fn name(verdict: &SourcePlan) -> String {
        match verdict {
            SourcePlan::Answer(Answer::NotModified { held_form, .. }) => {
                if *held_form { "304 held form" } else { "304" }.into()
            }
            SourcePlan::Answer(Answer::Refused(refusal, validators)) => {
                let status = refusal.status().as_u16();
                match (refusal, validators) {
                    (Refusal::Failed(Some(by)), Some(_)) => {
                        format!("{status} {} with validators", by.field_name())
                    }
                    (Refusal::Failed(Some(by)), None) => format!("{status} {}", by.field_name()),
                    _ => status.to_string(),
                }
            }
            SourcePlan::Call {
                representation,
                stale_range,
                evaluated,
            } => format!(
                "call{}{}{}",
                if representation.is_some() {
                    " vouched"
                } else {
                    ""
                },
                if *evaluated { " evaluated" } else { "" },
                if *stale_range { " without range" } else { "" }
            ),
        }
    }

    #[test]
    fn source_verdict_table() {
        let failed = || -> Result<Current, BoxError> { Err("down".into()) };
        let dated = || -> Result<Current, BoxError> {
            Ok(Current::Exists(
                Representation::new()
                    .with_etag(EntityTag::strong("a").unwrap())
                    .with_last_modified(
                        std::time::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777),
                    ),
            ))
        };
        let plain = WriteRules::default();
        let required = WriteRules {
            required: vec![Method::PUT, Method::PATCH, Method::DELETE],
            ..WriteRules::default()
        };
        let post_creates = WriteRules {
            creating: Some(vec![Method::PUT, Method::POST]),
            ..WriteRules::default()
        };
        type Case<'a> = (
            &'static str,
            Method,
            &'static [(&'static str, &'static str)],
            Result<Current, BoxError>,
            &'a WriteRules,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            (
                "revalidation",
                Method::GET,
                &[("if-none-match", "\"a\"")],
                exists("a"),
                &plain,
                "304",
            ),
            (
                "HEAD revalidation",
                Method::HEAD,
                &[("if-none-match", "\"a\"")],
                exists("a"),
                &plain,
                "304",
            ),
            // RFC 9110 §8.8.3.3: the gzip bytes' tag names the same version.
            (
                "coded revalidation",
                Method::GET,
                &[("if-none-match", "\"a-gzip\"")],
                exists("a"),
                &plain,
                "304 held form",
            ),
            // A gzip copy is no use to a client that does not accept gzip (RFC 9110 §12.5.3).
            (
                "coded revalidation, gzip refused",
                Method::GET,
                &[
                    ("accept-encoding", "identity"),
                    ("if-none-match", "\"a-gzip\""),
                ],
                exists("a"),
                &plain,
                "call vouched evaluated",
            ),
            (
                "coded revalidation, gzip accepted",
                Method::GET,
                &[
                    ("accept-encoding", "br, gzip"),
                    ("if-none-match", "\"a-gzip\""),
                ],
                exists("a"),
                &plain,
                "304 held form",
            ),
            (
                "changed",
                Method::GET,
                &[("if-none-match", "\"b\"")],
                exists("a"),
                &plain,
                "call vouched evaluated",
            ),
            (
                "stale write",
                Method::PUT,
                &[("if-match", "\"b\"")],
                exists("a"),
                &plain,
                "412 If-Match with validators",
            ),
            (
                "current write",
                Method::PUT,
                &[("if-match", "\"a\"")],
                exists("a"),
                &plain,
                "call vouched",
            ),
            (
                "a write with the coded tag the client holds",
                Method::PATCH,
                &[("if-match", "\"a-gzip\"")],
                exists("a"),
                &plain,
                "call vouched",
            ),
            (
                "a stale coded tag",
                Method::PATCH,
                &[("if-match", "\"b-gzip\"")],
                exists("a"),
                &plain,
                "412 If-Match with validators",
            ),
            (
                "a weak tag never satisfies If-Match",
                Method::PUT,
                &[("if-match", "W/\"a\"")],
                exists("a"),
                &plain,
                "412 If-Match with validators",
            ),
            (
                "create only, exists",
                Method::PUT,
                &[("if-none-match", "*")],
                exists("a"),
                &plain,
                "412 If-None-Match with validators",
            ),
            (
                "stale by date",
                Method::PUT,
                &[("if-unmodified-since", "Sun, 06 Nov 1994 08:49:36 GMT")],
                dated(),
                &plain,
                "412 If-Unmodified-Since with validators",
            ),
            // §13.2.1: a GET or HEAD of a missing resource gets the handler's 404.
            (
                "GET missing with If-Match",
                Method::GET,
                &[("if-match", "\"a\"")],
                Ok(Current::Missing),
                &plain,
                "call",
            ),
            (
                "HEAD missing with If-Match",
                Method::HEAD,
                &[("if-match", "*")],
                Ok(Current::Missing),
                &plain,
                "call",
            ),
            (
                "GET missing",
                Method::GET,
                &[],
                Ok(Current::Missing),
                &plain,
                "call",
            ),
            // So does a write that cannot create it.
            (
                "DELETE missing with If-Match",
                Method::DELETE,
                &[("if-match", "\"a\"")],
                Ok(Current::Missing),
                &plain,
                "call",
            ),
            (
                "PATCH missing with If-Match *",
                Method::PATCH,
                &[("if-match", "*")],
                Ok(Current::Missing),
                &plain,
                "call",
            ),
            // A write that may create is evaluated.
            (
                "PUT missing with If-Match",
                Method::PUT,
                &[("if-match", "\"a\"")],
                Ok(Current::Missing),
                &plain,
                "412 If-Match",
            ),
            (
                "PUT missing, create only",
                Method::PUT,
                &[("if-none-match", "*")],
                Ok(Current::Missing),
                &plain,
                "call",
            ),
            (
                "POST missing, POST does not create by default",
                Method::POST,
                &[("if-match", "\"a\"")],
                Ok(Current::Missing),
                &plain,
                "call",
            ),
            (
                "POST missing, where POST creates",
                Method::POST,
                &[("if-match", "\"a\"")],
                Ok(Current::Missing),
                &post_creates,
                "412 If-Match",
            ),
            (
                "unknown",
                Method::GET,
                &[("if-none-match", "\"a\"")],
                Ok(Current::Unknown),
                &plain,
                "call",
            ),
            (
                "unknown write",
                Method::PUT,
                &[("if-match", "\"a\"")],
                Ok(Current::Unknown),
                &plain,
                "call",
            ),
            (
                "failed conditional write",
                Method::PUT,
                &[("if-match", "\"a\"")],
                failed(),
                &plain,
                "503",
            ),
            (
                "failed unconditional write",
                Method::PUT,
                &[],
                failed(),
                &plain,
                "call",
            ),
            (
                "failed read",
                Method::GET,
                &[("if-none-match", "\"a\"")],
                failed(),
                &plain,
                "call",
            ),
            // RFC 6585 §3: 428 where preconditions are required and none guards the write.
            (
                "required, none sent",
                Method::PUT,
                &[],
                exists("a"),
                &required,
                "428",
            ),
            (
                "required, If-Match sent",
                Method::PUT,
                &[("if-match", "\"a\"")],
                exists("a"),
                &required,
                "call vouched",
            ),
            (
                "required, If-None-Match * sent",
                Method::PUT,
                &[("if-none-match", "*")],
                Ok(Current::Missing),
                &required,
                "call",
            ),
            (
                "required, If-None-Match with a tag does not guard",
                Method::PUT,
                &[("if-none-match", "\"b\"")],
                exists("a"),
                &required,
                "428",
            ),
            (
                "required, If-Unmodified-Since without a Last-Modified does not guard",
                Method::PUT,
                &[("if-unmodified-since", "Sun, 06 Nov 1994 08:49:37 GMT")],
                exists("a"),
                &required,
                "428",
            ),
            (
                "required, If-Unmodified-Since with a Last-Modified guards",
                Method::PUT,
                &[("if-unmodified-since", "Sun, 06 Nov 1994 08:49:37 GMT")],
                dated(),
                &required,
                "call vouched",
            ),
            (
                "required, but missing and not created: the handler's 404 first",
                Method::DELETE,
                &[],
                Ok(Current::Missing),
                &required,
                "call",
            ),
            (
                "required, missing, may create",
                Method::PUT,
                &[],
                Ok(Current::Missing),
                &required,
                "428",
            ),
            (
                "required, unknown",
                Method::PATCH,
                &[],
                Ok(Current::Unknown),
                &required,
                "428",
            ),
            (
                "required, the source failed",
                Method::PATCH,
                &[],
                failed(),
                &required,
                "428",
            ),
            (
                "required does not touch GET",
                Method::GET,
                &[],
                exists("a"),
                &required,
                "call vouched evaluated",
            ),
            // If-Range (§13.1.5): a range of another version is not served.
            (
                "range of this version",
                Method::GET,
                &[("range", "bytes=0-1"), ("if-range", "\"a\"")],
                exists("a"),
                &plain,
                "call vouched evaluated",
            ),
            (
                "range of another version",
                Method::GET,
                &[("range", "bytes=0-1"), ("if-range", "\"b\"")],
                exists("a"),
                &plain,
                "call vouched evaluated without range",
            ),
            // A range is of one coding's bytes: never stitched across codings.
            (
                "range of the coded bytes",
                Method::GET,
                &[("range", "bytes=0-1"), ("if-range", "\"a-gzip\"")],
                exists("a"),
                &plain,
                "call vouched evaluated without range",
            ),
            (
                "HEAD range is the handler's",
                Method::HEAD,
                &[("range", "bytes=0-1"), ("if-range", "\"b\"")],
                exists("a"),
                &plain,
                "call vouched evaluated",
            ),
        ];
        for (case, method, fields, current, rules, expected) in cases {
            let verdict = plan_with_source(current, &method, &headers(fields), rules);
            assert_eq!(name(&verdict), expected, "{case}");
        }
    }

    #[test]
    fn first_step_table() {
        use FirstStep::{AskSource, CallInner, RequirePrecondition};
        let plain = WriteRules::default();
        let required = WriteRules {
            required: vec![Method::PUT, Method::DELETE],
            ..WriteRules::default()
        };
        type Case<'a> = (
            &'static str,
            Method,
            &'static [(&'static str, &'static str)],
            bool,
            &'a WriteRules,
            FirstStep,
        );
        let cases: Vec<Case> = vec![
            (
                "GET, no source",
                Method::GET,
                &[],
                false,
                &required,
                CallInner,
            ),
            (
                "GET asks a source",
                Method::GET,
                &[],
                true,
                &plain,
                AskSource,
            ),
            (
                "HEAD asks a source",
                Method::HEAD,
                &[],
                true,
                &plain,
                AskSource,
            ),
            ("unguarded POST", Method::POST, &[], true, &plain, CallInner),
            (
                "If-Match PUT asks",
                Method::PUT,
                &[("if-match", "\"a\"")],
                true,
                &plain,
                AskSource,
            ),
            // A write that must be conditional asks the source: a missing resource is a 404
            // before it is a 428.
            (
                "required PUT asks",
                Method::PUT,
                &[],
                true,
                &required,
                AskSource,
            ),
            (
                "required PUT, no source",
                Method::PUT,
                &[],
                false,
                &required,
                RequirePrecondition,
            ),
            (
                "guarded PUT, no source",
                Method::PUT,
                &[("if-match", "*")],
                false,
                &required,
                CallInner,
            ),
            (
                "create-only PUT",
                Method::PUT,
                &[("if-none-match", "*")],
                false,
                &required,
                CallInner,
            ),
            // A list of tags says which versions not to overwrite, not which one to replace.
            (
                "If-None-Match list",
                Method::PUT,
                &[("if-none-match", "\"a\"")],
                false,
                &required,
                RequirePrecondition,
            ),
            // Without a source the modification date is unknown: If-Unmodified-Since is ignored.
            (
                "If-Unmodified-Since",
                Method::DELETE,
                &[("if-unmodified-since", "Sun, 06 Nov 1994 08:49:37 GMT")],
                false,
                &required,
                RequirePrecondition,
            ),
            (
                "OPTIONS never asks",
                Method::OPTIONS,
                &[("if-match", "*")],
                true,
                &plain,
                CallInner,
            ),
            (
                "PATCH not required",
                Method::PATCH,
                &[],
                false,
                &required,
                CallInner,
            ),
        ];
        for (case, method, fields, has_source, rules, expected) in cases {
            let step = first_step(&method, &headers(fields), has_source, rules);
            assert_eq!(step, expected, "{case}");
        }
    }

    #[test]
    fn request_plan_table() {
        type Case = (
            Method,
            &'static [(&'static str, &'static str)],
            bool,
            Option<(&'static [&'static str], bool)>,
        );
        let cases: &[Case] = &[
            (Method::POST, &[("if-none-match", "\"a\"")], false, None),
            (Method::PUT, &[], false, None),
            (Method::GET, &[], false, Some((&[], false))),
            (
                Method::HEAD,
                &[("if-none-match", "\"a\"")],
                false,
                Some((&["if-none-match"], false)),
            ),
            (
                Method::GET,
                &[
                    ("if-modified-since", "x"),
                    ("accept", "*/*"),
                    ("if-match", "y"),
                ],
                false,
                Some((&["if-match", "if-modified-since"], false)),
            ),
            // If-Range is kept to check a 206 against, and only where there is a Range.
            (
                Method::GET,
                &[("range", "bytes=0-1"), ("if-range", "\"a\"")],
                false,
                Some((&["if-range"], true)),
            ),
            (
                Method::GET,
                &[("if-range", "\"a\"")],
                false,
                Some((&[], false)),
            ),
            (
                Method::GET,
                &[("range", "bytes=0-1")],
                false,
                Some((&[], false)),
            ),
            (
                Method::HEAD,
                &[("range", "bytes=0-1"), ("if-range", "\"a\"")],
                false,
                Some((&[], false)),
            ),
            // A source vouched for the version: If-Range was evaluated before the inner service.
            (
                Method::GET,
                &[("range", "bytes=0-1"), ("if-range", "\"a\"")],
                true,
                Some((&[], false)),
            ),
        ];
        for (method, fields, vouched, expected) in cases {
            let representation = vouched.then(Representation::new);
            let plan = plan_request(method, &headers(fields), None, false, representation);
            let got = match plan {
                RequestPlan::PassThrough => None,
                RequestPlan::Evaluate {
                    facts,
                    may_ask_again,
                    ..
                } => {
                    let mut names: Vec<String> = facts
                        .conditions()
                        .map(|conditions| {
                            conditions
                                .lines
                                .iter()
                                .map(|(name, _)| name.to_string())
                                .collect()
                        })
                        .unwrap_or_default();
                    names.sort();
                    Some((names, may_ask_again))
                }
            };
            let expected = expected
                .map(|(names, again)| (names.iter().map(|name| name.to_string()).collect(), again));
            assert_eq!(got, expected, "{method} {fields:?} vouched={vouched}");
        }
        // Dates at the epoch name no version: flagged, and removed line by line.
        let epoch = "Thu, 01 Jan 1970 00:00:01 GMT";
        let real = "Sun, 06 Nov 1994 08:49:37 GMT";
        for (fields, flagged) in [
            (&[("if-modified-since", epoch)][..], true),
            (&[("if-unmodified-since", epoch)][..], true),
            (&[("if-modified-since", real)][..], false),
            (&[("if-modified-since", "junk")][..], false),
            (&[("range", epoch)][..], false),
        ] {
            let plan = plan_request(&Method::GET, &headers(fields), None, false, None);
            let RequestPlan::Evaluate { epoch_dates, .. } = plan else {
                panic!("a GET is evaluated");
            };
            assert_eq!(epoch_dates, flagged, "{fields:?}");
        }
        let mut request = headers(&[
            ("if-modified-since", epoch),
            ("if-unmodified-since", real),
            ("if-unmodified-since", epoch),
            ("if-none-match", "\"a\""),
        ]);
        remove_epoch_dates(&mut request);
        assert!(!request.contains_key(IF_MODIFIED_SINCE));
        assert_eq!(
            request
                .get_all(IF_UNMODIFIED_SINCE)
                .iter()
                .collect::<Vec<_>>(),
            [real]
        );
        assert!(request.contains_key(IF_NONE_MATCH));

        // Asked again, the request has no If-Range left to check.
        let plan = plan_request(
            &Method::GET,
            &headers(&[
                ("range", "bytes=0-1"),
                ("if-range", "\"a\""),
                ("if-none-match", "\"b\""),
            ]),
            None,
            false,
            None,
        );
        let RequestPlan::Evaluate { facts, .. } = plan else {
            panic!("a GET is evaluated");
        };
        let again = facts.asked_again();
        let conditions = again.conditions().unwrap();
        assert!(conditions.has(&IF_NONE_MATCH));
        assert!(!conditions.has(&IF_RANGE));
        assert!(!conditions.has(&IF_MATCH) && !conditions.has(&IF_MODIFIED_SINCE));
    }
}
