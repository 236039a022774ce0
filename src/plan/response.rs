//! What the layer does with the inner service's response to a GET or HEAD, as small plan
//! values that `future.rs` carries out (the way tower-http's `ServeDir` turns `open_file` into
//! an `OpenFileOutput`):
//!
//! 1. [`prepare_head`]: the edits every response gets before it is evaluated (the source's
//!    validators, a future `Last-Modified`, the coded tags of content-coded bodies);
//! 2. [`plan_response`]: pass it on untouched, evaluate it by the validators it carries, or read
//!    its body to generate a tag first;
//! 3. [`after_reading`]: what the body read says (tag it, or send what was read untagged);
//! 4. [`verdict`]: what the request's preconditions make of the response (RFC 9110 §13.2.2,
//!    with `If-Range` checked against a 206).
//!
//! The rule behind every step: the response is the one the app made, except that a 200 (or
//! 206) becomes the 304 or 412 the RFC requires, and validators are added.

use std::time::SystemTime;

use http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, LAST_MODIFIED, TRANSFER_ENCODING,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode, response};
use http_body::SizeHint;

use crate::decision::{PassReason, TagOrigin};
use crate::plan::head::{
    ContentFields, carry_the_held_tag, correct_last_modified, fill_in_representation,
    remove_content_fields, tag_the_coded_bytes,
};
use crate::plan::request::RequestFacts;
use crate::rfc::etag::coding_suffix;
use crate::rfc::fields::{FieldLines, content_codings, has_member, starts_with_ignore_case};
use crate::rfc::precondition::{Outcome, Precondition, ValidatorsRef, evaluate};
use crate::rfc::range::if_range_names;

/// What a response head says, read in one pass over the few fields a response has (cheaper
/// than a lookup for each field it might have).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HeadFields {
    /// Which of the facts below the head has, one bit each.
    found: u8,
    /// Which content fields the head has, for a 304 or 412 to remove.
    pub(crate) content_fields: ContentFields,
    /// The length of the coding suffix [`prepare_head`] gave the tag of coded bytes
    /// (`-gzip`), 0 for none.
    pub(crate) tag_suffix: u8,
}

impl HeadFields {
    pub(crate) const ETAG: u8 = 1 << 0;
    pub(crate) const LAST_MODIFIED: u8 = 1 << 1;
    /// A `Content-Encoding` other than `identity`, on any of its lines.
    pub(crate) const CONTENT_CODED: u8 = 1 << 2;
    /// A type that streams by nature: buffering it would hold back events (rack #1619).
    pub(crate) const STREAMING: u8 = 1 << 3;
    pub(crate) const CONTENT_RANGE: u8 = 1 << 4;
    /// `Cache-Control: no-store`: nothing will revalidate it, so no tag is worth hashing.
    pub(crate) const NO_STORE: u8 = 1 << 5;

    pub(crate) fn has(self, fact: u8) -> bool {
        self.found & fact != 0
    }

    fn add_if(&mut self, fact: u8, found: bool) {
        self.found |= if found { fact } else { 0 };
    }

    /// Fields with `facts` and no content fields (for the table tests).
    #[cfg(test)]
    pub(crate) fn with(facts: u8) -> Self {
        Self {
            found: facts,
            ..Self::default()
        }
    }

    // Inlined with `prepare_head`, its one caller outside tests: what it finds stays in registers.
    #[inline(always)]
    pub(crate) fn read(headers: &HeaderMap) -> Self {
        let mut fields = Self::default();
        for (name, value) in headers {
            if name == ETAG {
                fields.add_if(Self::ETAG, true);
            } else if name == LAST_MODIFIED {
                fields.add_if(Self::LAST_MODIFIED, true);
            } else if name == CONTENT_LENGTH {
                fields.content_fields.add(ContentFields::LENGTH);
            } else if name == CONTENT_ENCODING {
                let coded = content_codings(std::iter::once(value)).next().is_some();
                fields.add_if(Self::CONTENT_CODED, coded);
                fields.content_fields.add(ContentFields::ENCODING);
            } else if name == CONTENT_TYPE {
                fields.add_if(Self::STREAMING, is_streaming(value));
                fields.content_fields.add(ContentFields::TYPE);
            } else if name == CONTENT_RANGE {
                fields.add_if(Self::CONTENT_RANGE, true);
                fields.content_fields.add(ContentFields::RANGE);
            } else if name == CACHE_CONTROL {
                fields.add_if(Self::NO_STORE, has_member(value, b"no-store"));
            } else if name == CONTENT_LANGUAGE {
                fields.content_fields.add(ContentFields::LANGUAGE);
            } else if name == TRANSFER_ENCODING {
                fields.content_fields.add(ContentFields::TRANSFER_ENCODING);
            }
        }
        fields
    }
}

fn is_streaming(content_type: &HeaderValue) -> bool {
    let value = content_type.as_bytes();
    starts_with_ignore_case(value, b"text/event-stream")
        || starts_with_ignore_case(value, b"application/grpc")
}

/// The edits a response head gets before it is evaluated, and what it then says:
///
/// - on a 2xx, the validators and cache headers a source vouched for;
/// - on a 2xx or 304, a `Last-Modified` later than now becomes now (RFC 9110 §8.8.2.1), and one
///   at the epoch, which is no validator, is removed;
/// - on a content-coded 2xx, a strong tag from inside becomes the coded tag of its version
///   (`"v1-gzip"`, RFC 9110 §8.8.3.3), or is weakened for a coding without a suffix;
/// - an inner 304 names the tag the client holds, and loses its content fields (a compression
///   layer inside labels 304s `Content-Encoding: gzip`).
// Called once per response, from the response future's poll, where what it finds is used at once.
#[inline(always)]
pub(crate) fn prepare_head(
    head: &mut response::Parts,
    request: &RequestFacts,
) -> (HeadFields, TagOrigin) {
    let mut fields = HeadFields::read(&head.headers);
    let success = head.status.is_success();
    let not_modified = head.status == StatusCode::NOT_MODIFIED;
    let representation = request.representation().filter(|_| success);
    let mut origin = if fields.has(HeadFields::ETAG) {
        TagOrigin::Handler
    } else {
        TagOrigin::None
    };
    // The source's date is already checked: only the inner service's is corrected below.
    let inner_date = fields.has(HeadFields::LAST_MODIFIED);
    if let Some(representation) = representation {
        fill_in_representation(&mut head.headers, representation);
        // Its headers are the application's: any of them may be a content field.
        fields.content_fields = ContentFields::UNKNOWN;
        let validators = representation.validators();
        if validators.etag.is_some() {
            origin = TagOrigin::Source;
        }
        fields.add_if(HeadFields::ETAG, validators.etag.is_some());
        fields.add_if(
            HeadFields::LAST_MODIFIED,
            validators.last_modified.is_some(),
        );
    }
    if inner_date && (success || not_modified) {
        // The clock is read only for responses with a date to check.
        correct_last_modified(&mut head.headers, SystemTime::now());
    }
    if success && fields.has(HeadFields::ETAG) && fields.has(HeadFields::CONTENT_CODED) {
        let suffix = coding_suffix(head.headers.get_all(CONTENT_ENCODING).iter());
        fields.tag_suffix = tag_the_coded_bytes(&mut head.headers, suffix.as_deref());
    } else if not_modified {
        remove_content_fields(head, fields.content_fields);
        if let Some(conditions) = request.conditions() {
            // An inner 304's tag is the version's; a coded form it was evaluated by is named by
            // whoever evaluated it.
            carry_the_held_tag(&mut head.headers, conditions, 0, true);
        }
    }
    (fields, origin)
}

/// What to do with a response before its body is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResponsePlan {
    /// Send it on untouched: preconditions do not apply to it.
    PassThrough(PassReason),
    /// Evaluate the preconditions against the validators its head carries, without reading the
    /// body; the reason no tag is generated, when one could have been.
    Evaluate(Option<PassReason>),
    /// Read the body (within the buffer limit) to generate a tag from its bytes, then evaluate.
    GenerateTag,
    /// A 304 from inside: send it without its body (its head was cleaned by [`prepare_head`]).
    InnerNotModified,
}

/// Decides what to do with a prepared response head. `skipped` asks the user's
/// [`skip_when`](crate::ConditionalLayer::skip_when) predicate, only where it can matter.
pub(crate) fn plan_response(
    status: StatusCode,
    method: &Method,
    fields: HeadFields,
    body: &SizeHint,
    limit: usize,
    skipped: impl FnOnce() -> bool,
) -> ResponsePlan {
    // A 304 from inside (`ServeDir`'s, or a handler's own) is sent as the layer's are.
    if status == StatusCode::NOT_MODIFIED {
        return ResponsePlan::InnerNotModified;
    }
    // RFC 9110 §13.2.1: preconditions apply where the response would be 2xx.
    if !status.is_success() {
        return ResponsePlan::PassThrough(PassReason::Status);
    }
    if fields.has(HeadFields::STREAMING) {
        return ResponsePlan::PassThrough(PassReason::Streaming);
    }
    if skipped() {
        return ResponsePlan::PassThrough(PassReason::Skipped);
    }
    if fields.has(HeadFields::ETAG) {
        return ResponsePlan::Evaluate(None);
    }
    let untagged = if status != StatusCode::OK {
        PassReason::Status
    } else if fields.has(HeadFields::CONTENT_RANGE) {
        PassReason::PartialContent
    } else if fields.has(HeadFields::NO_STORE) {
        PassReason::NoStore
    } else if *method == Method::HEAD {
        // A HEAD response's body, when it has one, is GET's (axum's router runs the GET handler
        // for HEAD and empties the body outside this layer). A HEAD handler's empty body is
        // not: its tag would name no representation (Spring SPR-15261). So only a body known
        // to be non-empty, and small enough, is read; anything else keeps the handler's
        // validators, or none, which RFC 9110 §9.3.2 allows.
        match body.exact() {
            Some(len) if len > 0 && len <= limit as u64 => return ResponsePlan::GenerateTag,
            _ => PassReason::Head,
        }
    } else if body.lower() > limit as u64 {
        PassReason::OverLimit
    } else {
        return ResponsePlan::GenerateTag;
    };
    ResponsePlan::Evaluate(Some(untagged))
}

/// How reading a body for its tag ended.
#[derive(Debug)]
pub(crate) enum ReadEnd<E> {
    /// The body ended.
    Complete,
    /// The body has more bytes than the buffer limit.
    OverLimit,
    /// The next frame is not ready, and the layer does not wait for it.
    NotReady,
    /// The body failed.
    Failed(E),
}

/// What reading a body for its tag came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AfterReading {
    /// The whole body was read: tag it, then evaluate.
    Tag,
    /// Send what was read and the rest of the body without a generated tag, evaluated against
    /// the validators the head carries.
    Evaluate(PassReason),
    /// The body failed: the client must see the failure, not a shorter 200, so no tag and no
    /// 304.
    Fail,
}

/// What a body read for its tag came to, `len` bytes read.
pub(crate) fn after_reading<E>(end: &ReadEnd<E>, method: &Method, len: usize) -> AfterReading {
    match end {
        // An empty HEAD body is no GET body (see `plan_response`).
        ReadEnd::Complete if *method == Method::HEAD && len == 0 => {
            AfterReading::Evaluate(PassReason::Head)
        }
        ReadEnd::Complete => AfterReading::Tag,
        ReadEnd::OverLimit => AfterReading::Evaluate(PassReason::OverLimit),
        ReadEnd::NotReady => AfterReading::Evaluate(PassReason::NotReady),
        ReadEnd::Failed(_) => AfterReading::Fail,
    }
}

/// What the request's preconditions make of a response whose validators are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Send the response.
    Send,
    /// Replace it by a 304; `held_form`: the client holds the current tag in another form,
    /// which the 304 must carry.
    NotModified { held_form: bool },
    /// Replace it by a 412; the precondition that is false.
    PreconditionFailed(Option<Precondition>),
    /// A 206 of another version than the one `If-Range` names: ask again for the whole
    /// representation (RFC 9110 §13.1.5: the range MUST be ignored).
    AskAgain,
}

/// RFC 9110 §13.2.2 applied to a 2xx response: steps 1 to 4 by [`evaluate`], then step 5
/// (`If-Range`) for a 206. The validators are read only for a request with preconditions.
#[inline]
pub(crate) fn verdict<'a>(
    status: StatusCode,
    method: &Method,
    conditions: Option<&(impl FieldLines + ?Sized)>,
    validators: impl FnOnce() -> ValidatorsRef<'a>,
) -> Verdict {
    let Some(conditions) = conditions else {
        return Verdict::Send;
    };
    let validators = validators();
    let partial = status == StatusCode::PARTIAL_CONTENT;
    let evaluation = evaluate(method, conditions, Some(validators));
    match evaluation.outcome {
        // A 304 stands for the 200 the request would get (§15.4.5); the preconditions come
        // before `Range` (§13.2.2), so it stands for a 206 too. Other 2xx are no
        // representation to be current: sent as they are.
        Outcome::NotModified if status == StatusCode::OK || partial => Verdict::NotModified {
            held_form: evaluation.held_form,
        },
        Outcome::NotModified => Verdict::Send,
        Outcome::PreconditionFailed => Verdict::PreconditionFailed(evaluation.by),
        Outcome::Proceed | Outcome::PreconditionRequired
            if partial && !if_range_names(conditions, validators) =>
        {
            Verdict::AskAgain
        }
        Outcome::Proceed | Outcome::PreconditionRequired => Verdict::Send,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EntityTag;
    use crate::rfc::representation::Representation;
    use crate::rfc::representation::Validators;
    use http::Response;
    use http::header::IF_MODIFIED_SINCE;
    use std::time::{Duration, UNIX_EPOCH};

    fn parts(status: u16, fields: &[(&str, &str)]) -> response::Parts {
        let mut head = Response::new(()).into_parts().0;
        head.status = StatusCode::from_u16(status).unwrap();
        for (name, value) in fields {
            head.headers.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        head
    }

    fn map(fields: &[(&str, &str)]) -> HeaderMap {
        parts(200, fields).headers
    }

    fn exact(len: u64) -> SizeHint {
        SizeHint::with_exact(len)
    }

    fn open(lower: u64) -> SizeHint {
        let mut hint = SizeHint::new();
        hint.set_lower(lower);
        hint
    }

    use PassReason as Why;
    use ResponsePlan::{Evaluate, GenerateTag, PassThrough};

    #[test]
    fn response_plan_table() {
        let get = Method::GET;
        let head_ = Method::HEAD;
        let tagged = HeadFields::with(HeadFields::ETAG);
        let plain = HeadFields::default();
        let with = HeadFields::with;
        type Case = (
            &'static str,
            u16,
            Method,
            HeadFields,
            SizeHint,
            bool,
            ResponsePlan,
        );
        let cases: Vec<Case> = vec![
            (
                "a 200 is tagged from its bytes",
                200,
                get.clone(),
                plain,
                exact(10),
                false,
                GenerateTag,
            ),
            (
                "a body of unknown size too",
                200,
                get.clone(),
                plain,
                open(0),
                false,
                GenerateTag,
            ),
            (
                "the handler's tag is used as it is",
                200,
                get.clone(),
                tagged,
                exact(10),
                false,
                Evaluate(None),
            ),
            (
                "a 206 with a tag is evaluated",
                206,
                get.clone(),
                tagged,
                exact(10),
                false,
                Evaluate(None),
            ),
            (
                "404 passes",
                404,
                get.clone(),
                plain,
                exact(10),
                false,
                PassThrough(Why::Status),
            ),
            (
                "a 304 from inside is sent as the layer's are",
                304,
                get.clone(),
                tagged,
                exact(0),
                false,
                ResponsePlan::InnerNotModified,
            ),
            (
                "500 passes",
                500,
                get.clone(),
                tagged,
                exact(0),
                false,
                PassThrough(Why::Status),
            ),
            (
                "event streams pass",
                200,
                get.clone(),
                with(HeadFields::STREAMING),
                open(0),
                false,
                PassThrough(Why::Streaming),
            ),
            (
                "skipped",
                200,
                get.clone(),
                tagged,
                exact(1),
                true,
                PassThrough(Why::Skipped),
            ),
            (
                "201 is evaluated, not tagged",
                201,
                get.clone(),
                plain,
                exact(1),
                false,
                Evaluate(Some(Why::Status)),
            ),
            (
                "a 206 without a tag is evaluated",
                206,
                get.clone(),
                with(HeadFields::CONTENT_RANGE),
                exact(1),
                false,
                Evaluate(Some(Why::Status)),
            ),
            (
                "a 200 with Content-Range",
                200,
                get.clone(),
                with(HeadFields::CONTENT_RANGE),
                exact(1),
                false,
                Evaluate(Some(Why::PartialContent)),
            ),
            (
                "no-store",
                200,
                get.clone(),
                with(HeadFields::NO_STORE),
                exact(1),
                false,
                Evaluate(Some(Why::NoStore)),
            ),
            (
                "over the limit by its size hint",
                200,
                get.clone(),
                plain,
                open(101),
                false,
                Evaluate(Some(Why::OverLimit)),
            ),
            (
                "at the limit",
                200,
                get.clone(),
                plain,
                exact(100),
                false,
                GenerateTag,
            ),
            // HEAD: only GET's body, when the layer sees one, is hashed.
            (
                "HEAD with GET's body",
                200,
                head_.clone(),
                plain,
                exact(10),
                false,
                GenerateTag,
            ),
            (
                "HEAD with an empty body",
                200,
                head_.clone(),
                plain,
                exact(0),
                false,
                Evaluate(Some(Why::Head)),
            ),
            (
                "HEAD with a body of unknown size",
                200,
                head_.clone(),
                plain,
                open(1),
                false,
                Evaluate(Some(Why::Head)),
            ),
            (
                "HEAD over the limit",
                200,
                head_.clone(),
                plain,
                exact(101),
                false,
                Evaluate(Some(Why::Head)),
            ),
            (
                "HEAD with the handler's tag",
                200,
                head_.clone(),
                tagged,
                exact(0),
                false,
                Evaluate(None),
            ),
        ];
        for (case, status, method, fields, hint, skipped, expected) in cases {
            let status = StatusCode::from_u16(status).unwrap();
            let plan = plan_response(status, &method, fields, &hint, 100, || skipped);
            assert_eq!(plan, expected, "{case}");
        }
    }

    #[test]
    fn the_skip_predicate_is_asked_only_for_2xx_that_are_not_streams() {
        let ask = |status: u16, fields: HeadFields| {
            let mut asked = false;
            let status = StatusCode::from_u16(status).unwrap();
            let _ = plan_response(status, &Method::GET, fields, &exact(1), 100, || {
                asked = true;
                false
            });
            asked
        };
        assert!(ask(200, HeadFields::default()));
        assert!(!ask(404, HeadFields::default()));
        let stream = HeadFields::with(HeadFields::STREAMING);
        assert!(!ask(200, stream));
    }

    #[test]
    fn after_reading_table() {
        let get = Method::GET;
        let head_ = Method::HEAD;
        let cases: Vec<(ReadEnd<()>, &Method, usize, AfterReading)> = vec![
            (ReadEnd::Complete, &get, 10, AfterReading::Tag),
            (ReadEnd::Complete, &get, 0, AfterReading::Tag),
            (ReadEnd::Complete, &head_, 10, AfterReading::Tag),
            (
                ReadEnd::Complete,
                &head_,
                0,
                AfterReading::Evaluate(Why::Head),
            ),
            (
                ReadEnd::OverLimit,
                &get,
                101,
                AfterReading::Evaluate(Why::OverLimit),
            ),
            (
                ReadEnd::NotReady,
                &get,
                3,
                AfterReading::Evaluate(Why::NotReady),
            ),
            (
                ReadEnd::NotReady,
                &head_,
                0,
                AfterReading::Evaluate(Why::NotReady),
            ),
            (ReadEnd::Failed(()), &get, 3, AfterReading::Fail),
        ];
        for (end, method, len, expected) in cases {
            assert_eq!(after_reading(&end, method, len), expected, "{method} {len}");
        }
    }

    #[test]
    fn verdict_table() {
        use Verdict::{AskAgain as Again, Send};
        const N304: Verdict = Verdict::NotModified { held_form: false };
        const HELD: Verdict = Verdict::NotModified { held_form: true };
        const P412: Verdict = Verdict::PreconditionFailed(Some(Precondition::IfMatch));
        let get = Method::GET;
        type Case = (
            &'static str,
            u16,
            &'static [(&'static str, &'static str)],
            &'static [(&'static str, &'static str)],
            Verdict,
        );
        let tag_a: &[(&str, &str)] = &[("etag", "\"a\"")];
        let cases: &[Case] = &[
            ("no preconditions", 200, &[], tag_a, Send),
            ("current", 200, &[("if-none-match", "\"a\"")], tag_a, N304),
            ("changed", 200, &[("if-none-match", "\"b\"")], tag_a, Send),
            ("If-Match false", 200, &[("if-match", "\"b\"")], tag_a, P412),
            // The client holds the current tag in another form: the 304 names it.
            (
                "weakened",
                200,
                &[("if-none-match", "W/\"a\"")],
                tag_a,
                HELD,
            ),
            (
                // A response's coding is known: a coded tag names only the coded response
                // itself (a gzip copy is no use to a client this identity response goes to).
                "coded",
                200,
                &[("if-none-match", "\"a-gzip\"")],
                tag_a,
                Send,
            ),
            (
                "coded write",
                200,
                &[("if-match", "\"a-gzip\"")],
                tag_a,
                Send,
            ),
            (
                "If-Unmodified-Since false",
                200,
                &[("if-unmodified-since", "Sun, 06 Nov 1994 08:49:36 GMT")],
                &[("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT")],
                Verdict::PreconditionFailed(Some(Precondition::IfUnmodifiedSince)),
            ),
            // A response without a tag may have one the layer could not compute (a HEAD
            // around the router): a list of tags is evaluated against neither, and an
            // If-Match list leaves the rest unevaluated.
            (
                "untagged If-Match",
                200,
                &[("if-match", "\"a\"")],
                &[],
                Send,
            ),
            (
                "untagged If-None-Match",
                200,
                &[("if-none-match", "\"a\"")],
                &[],
                Send,
            ),
            ("untagged If-Match *", 200, &[("if-match", "*")], &[], Send),
            (
                "untagged If-None-Match *",
                200,
                &[("if-none-match", "*")],
                &[],
                N304,
            ),
            (
                "untagged malformed If-Match",
                200,
                &[("if-match", "junk")],
                &[],
                P412,
            ),
            // Unknown whether If-Match passed, a 304 by date would be a guess.
            (
                "untagged with a date",
                200,
                &[
                    ("if-match", "\"a\""),
                    ("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT"),
                ],
                &[("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT")],
                Send,
            ),
            (
                "untagged, a date, no If-Match",
                200,
                &[("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT")],
                &[("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT")],
                N304,
            ),
            // §13.2.2: preconditions before Range, so a 206 of the current version is a 304.
            (
                "206 of a current copy",
                206,
                &[("if-none-match", "\"a\"")],
                tag_a,
                N304,
            ),
            (
                "206 by date",
                206,
                &[("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT")],
                &[("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT")],
                N304,
            ),
            (
                "206 with If-Match false",
                206,
                &[("if-match", "\"b\"")],
                tag_a,
                P412,
            ),
            // Other 2xx are not a representation a 304 can stand for.
            ("204", 204, &[("if-none-match", "\"a\"")], tag_a, Send),
            (
                "201 with If-Match false",
                201,
                &[("if-match", "\"b\"")],
                tag_a,
                P412,
            ),
            // Step 5: If-Range against the 206's own validators.
            (
                "206 of the If-Range version",
                206,
                &[("if-range", "\"a\"")],
                tag_a,
                Send,
            ),
            (
                "206 of another version",
                206,
                &[("if-range", "\"b\"")],
                tag_a,
                Again,
            ),
            (
                "206 with a weak If-Range",
                206,
                &[("if-range", "W/\"a\"")],
                tag_a,
                Again,
            ),
            (
                "206 without validators",
                206,
                &[("if-range", "\"a\"")],
                &[],
                Again,
            ),
            (
                "206 by exact date",
                206,
                &[("if-range", "Sun, 06 Nov 1994 08:49:37 GMT")],
                &[("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT")],
                Send,
            ),
            (
                "206 by another date",
                206,
                &[("if-range", "Sun, 06 Nov 1994 08:49:38 GMT")],
                &[("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT")],
                Again,
            ),
            (
                "a 200 answering If-Range is the whole representation",
                200,
                &[("if-range", "\"b\"")],
                tag_a,
                Send,
            ),
            (
                "304 before If-Range",
                206,
                &[("if-none-match", "\"a\""), ("if-range", "\"b\"")],
                tag_a,
                N304,
            ),
        ];
        for (case, status, request, response, expected) in cases {
            let request = map(request);
            let response = map(response);
            let got = verdict(
                StatusCode::from_u16(*status).unwrap(),
                &get,
                Some(&request),
                || ValidatorsRef::from_headers(&response),
            );
            assert_eq!(got, *expected, "{case}");
        }
        assert_eq!(
            verdict(
                StatusCode::OK,
                &get,
                None::<&HeaderMap>,
                ValidatorsRef::default
            ),
            Send
        );
    }

    fn facts(conditions: &[(&str, &str)], representation: Option<Representation>) -> RequestFacts {
        RequestFacts {
            head: false,
            conditions: crate::plan::request::Conditions::from(&map(conditions)),
            decisions: false,
            rare: representation.map(|representation| {
                Box::new(crate::plan::request::RareFacts {
                    uri: None,
                    representation: Some(representation),
                })
            }),
        }
    }

    fn names(head: &response::Parts) -> Vec<String> {
        head.headers
            .iter()
            .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
            .collect()
    }

    #[test]
    fn prepare_head_table() {
        let source = Representation::new()
            .with_etag(EntityTag::strong("src").unwrap())
            .with_last_modified(UNIX_EPOCH + Duration::from_secs(784_111_777))
            .with_header(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        type Case = (
            &'static str,
            u16,
            &'static [(&'static str, &'static str)],
            Option<Representation>,
            &'static [(&'static str, &'static str)],
            &'static [&'static str],
            TagOrigin,
        );
        let cases: Vec<Case> = vec![
            (
                "untouched",
                200,
                &[("etag", "\"a\"")],
                None,
                &[],
                &["etag: \"a\""],
                TagOrigin::Handler,
            ),
            (
                "no tag",
                200,
                &[("x", "1")],
                None,
                &[],
                &["x: 1"],
                TagOrigin::None,
            ),
            (
                "the source's validators replace the handler's, its cache headers only fill in",
                200,
                &[("etag", "\"inner\""), ("cache-control", "max-age=5")],
                Some(source.clone()),
                &[],
                &[
                    "etag: \"src\"",
                    "cache-control: max-age=5",
                    "last-modified: Sun, 06 Nov 1994 08:49:37 GMT",
                ],
                TagOrigin::Source,
            ),
            (
                "not on a 404",
                404,
                &[("x", "1")],
                Some(source.clone()),
                &[],
                &["x: 1"],
                TagOrigin::None,
            ),
            (
                "a content-coded strong tag becomes the coded tag of its version",
                200,
                &[("etag", "\"a\""), ("content-encoding", "gzip")],
                None,
                &[],
                &["etag: \"a-gzip\"", "content-encoding: gzip"],
                TagOrigin::Handler,
            ),
            (
                "the source's tag too",
                200,
                &[("content-encoding", "br")],
                Some(Representation::new().with_etag(EntityTag::strong("src").unwrap())),
                &[],
                &["content-encoding: br", "etag: \"src-br\""],
                TagOrigin::Source,
            ),
            (
                "a coding without a suffix weakens it",
                200,
                &[("etag", "\"a\""), ("content-encoding", "exi")],
                None,
                &[],
                &["etag: W/\"a\"", "content-encoding: exi"],
                TagOrigin::Handler,
            ),
            (
                "a weak tag stays as it is",
                200,
                &[("etag", "W/\"a\""), ("content-encoding", "gzip")],
                None,
                &[],
                &["etag: W/\"a\"", "content-encoding: gzip"],
                TagOrigin::Handler,
            ),
            (
                "an inner 304 keeps no content fields",
                304,
                &[
                    ("etag", "\"a\""),
                    ("content-encoding", "gzip"),
                    ("vary", "accept-encoding"),
                ],
                None,
                &[("if-none-match", "\"a\"")],
                &["etag: \"a\"", "vary: accept-encoding"],
                TagOrigin::Handler,
            ),
            (
                "an inner 304 names the weakened tag the client holds",
                304,
                &[("etag", "\"a\"")],
                None,
                &[("if-none-match", "\"b\", W/\"a\"")],
                &["etag: W/\"a\""],
                TagOrigin::Handler,
            ),
            (
                "a coded form is named by whoever evaluated it, not renamed",
                304,
                &[("etag", "\"a\"")],
                None,
                &[("if-none-match", "\"a-gzip\"")],
                &["etag: \"a\""],
                TagOrigin::Handler,
            ),
            (
                "identity is no coding",
                200,
                &[("etag", "\"a\""), ("content-encoding", "identity")],
                None,
                &[],
                &["etag: \"a\"", "content-encoding: identity"],
                TagOrigin::Handler,
            ),
            // Nor is a list without a member (found by fuzzing).
            (
                "an empty coding list is no coding",
                200,
                &[("etag", "\"a\""), ("content-encoding", " , ")],
                None,
                &[],
                &["etag: \"a\"", "content-encoding:  , "],
                TagOrigin::Handler,
            ),
            (
                "identity listed twice is no coding",
                200,
                &[
                    ("etag", "\"a\""),
                    ("content-encoding", "identity, identity"),
                ],
                None,
                &[],
                &["etag: \"a\"", "content-encoding: identity, identity"],
                TagOrigin::Handler,
            ),
            (
                "an inner 304 keeps the client's weak tag",
                304,
                &[("etag", "\"a\"")],
                None,
                &[("if-none-match", "W/\"a\"")],
                &["etag: W/\"a\""],
                TagOrigin::Handler,
            ),
            (
                "an inner 304 for the strong tag stays strong",
                304,
                &[("etag", "\"a\"")],
                None,
                &[("if-none-match", "\"a\"")],
                &["etag: \"a\""],
                TagOrigin::Handler,
            ),
            (
                "a past Last-Modified stays",
                200,
                &[("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT")],
                None,
                &[],
                &["last-modified: Sun, 06 Nov 1994 08:49:37 GMT"],
                TagOrigin::None,
            ),
            (
                "a malformed Last-Modified stays as it is",
                200,
                &[("last-modified", "soon")],
                None,
                &[],
                &["last-modified: soon"],
                TagOrigin::None,
            ),
            (
                "a Last-Modified at the epoch (the Nix store's) is no validator",
                200,
                &[
                    ("last-modified", "Thu, 01 Jan 1970 00:00:01 GMT"),
                    ("etag", "\"a\""),
                ],
                None,
                &[],
                &["etag: \"a\""],
                TagOrigin::Handler,
            ),
            (
                "a future Last-Modified on a 404 is the app's",
                404,
                &[("last-modified", "Fri, 31 Dec 9999 23:59:59 GMT")],
                None,
                &[],
                &["last-modified: Fri, 31 Dec 9999 23:59:59 GMT"],
                TagOrigin::None,
            ),
        ];
        for (case, status, fields, representation, conditions, expected, origin) in cases {
            let mut head = parts(status, fields);
            let request = facts(conditions, representation);
            let (_, got_origin) = prepare_head(&mut head, &request);
            assert_eq!(names(&head), *expected, "{case}");
            assert_eq!(got_origin, origin, "{case}");
        }
    }

    #[test]
    fn a_future_last_modified_becomes_now() {
        for status in [200, 304] {
            let mut head = parts(
                status,
                &[("last-modified", "Fri, 01 Jan 2100 00:00:00 GMT")],
            );
            let before = SystemTime::now() - Duration::from_secs(1);
            prepare_head(&mut head, &facts(&[], None));
            let sent = Validators::from_headers(&head.headers)
                .last_modified
                .unwrap();
            assert!(
                sent >= before && sent <= SystemTime::now(),
                "{status}: {sent:?}"
            );
        }
        // A source's future date too, and one past year 9999 does not panic.
        let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        let source = Representation::new().with_last_modified(far);
        let mut head = parts(200, &[]);
        prepare_head(&mut head, &facts(&[], Some(source)));
        let sent = Validators::from_headers(&head.headers)
            .last_modified
            .unwrap();
        assert!(sent <= SystemTime::now());
        // Judged by what was sent: a revalidation with an older date is a 200.
        let request = map(&[(IF_MODIFIED_SINCE.as_str(), "Sun, 06 Nov 1994 08:49:37 GMT")]);
        assert_eq!(
            verdict(StatusCode::OK, &Method::GET, Some(&request), || {
                ValidatorsRef::from_headers(&head.headers)
            }),
            Verdict::Send
        );
        // A source's date before 1970 is left out.
        let before = Representation::new().with_last_modified(UNIX_EPOCH - Duration::from_secs(5));
        let mut head2 = parts(200, &[]);
        prepare_head(&mut head2, &facts(&[], Some(before)));
        assert!(!head2.headers.contains_key(LAST_MODIFIED));
    }
}
