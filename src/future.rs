use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, IF_RANGE, RANGE,
};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower::Service;

use crate::body::{Chunks, ConditionalBody};
use crate::decision::{Decision, PassReason, TagOrigin};
use crate::etag::{Comparison, TagCondition, TagRef, evaluate_tag_field};
use crate::layer::{Config, ResponseInfo};
use crate::precondition::{
    Outcome, Validators, ValidatorsRef, evaluate, evaluate_ref, if_range_allows_range, single_value,
};
use crate::range::single_byte_range;
use crate::response::{into_not_modified, into_precondition_failed};
use crate::service::{RequestFacts, has_preconditions, request_facts};
use crate::source::{BoxError, Current, PreconditionCheck, Representation, SourceFuture};

pin_project! {
    /// Response future of [`Conditional`](crate::Conditional).
    pub struct ResponseFuture<S, ReqBody, B>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, ReqBody, B>,
        config: Arc<Config>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqBody, B>
    where
        S: Service<Request<ReqBody>>,
    {
        /// Asking the validator source; the inner service is called afterwards, if at all.
        Lookup { lookup: SourceFuture, call: Option<(S, Request<ReqBody>)> },
        /// Waiting for the inner service. `request` is `None` when the response passes through.
        Inner { #[pin] future: S::Future, request: Option<RequestFacts> },
        /// Reading the body to compute its tag. `None` once taken to build the response.
        Buffering { buffering: Option<Buffering<B>> },
        Done,
    }
}

impl<S, ReqBody, B> ResponseFuture<S, ReqBody, B>
where
    S: Service<Request<ReqBody>>,
{
    pub(crate) fn new(
        future: S::Future,
        request: Option<RequestFacts>,
        config: Arc<Config>,
    ) -> Self {
        Self {
            state: State::Inner { future, request },
            config,
        }
    }

    pub(crate) fn lookup(
        lookup: SourceFuture,
        service: S,
        request: Request<ReqBody>,
        config: Arc<Config>,
    ) -> Self {
        Self {
            state: State::Lookup {
                lookup,
                call: Some((service, request)),
            },
            config,
        }
    }
}

impl<S, ReqBody, B> Future for ResponseFuture<S, ReqBody, B>
where
    S: Service<Request<ReqBody>, Response = Response<B>>,
    B: Body,
{
    type Output = Result<Response<ConditionalBody<B>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Lookup { lookup, call } => {
                    let current = ready!(lookup.as_mut().poll(cx));
                    let Some((mut service, request)) = call.take() else {
                        return Poll::Pending;
                    };
                    match judge_before_handler(current, request, this.config.decisions) {
                        BeforeHandler::Answer(response) => {
                            this.state.set(State::Done);
                            return Poll::Ready(Ok(response));
                        }
                        BeforeHandler::Call(mut request, representation) => {
                            let facts = request_facts(&mut request, this.config, representation);
                            this.state.set(State::Inner {
                                future: service.call(request),
                                request: facts,
                            });
                        }
                    }
                }
                StateProj::Inner { future, request } => {
                    let response = ready!(future.poll(cx))?;
                    let next = match request.take() {
                        None => {
                            let (mut head, body) = response.into_parts();
                            Decision::passed(PassReason::Method)
                                .record(&mut head, this.config.decisions);
                            Next::Respond(Response::from_parts(
                                head,
                                ConditionalBody::pass_through(body),
                            ))
                        }
                        Some(request) => start(response, request, this.config),
                    };
                    match next {
                        Next::Respond(response) => {
                            this.state.set(State::Done);
                            return Poll::Ready(Ok(response));
                        }
                        Next::Buffer(buffering) => this.state.set(State::Buffering {
                            buffering: Some(buffering),
                        }),
                    }
                }
                StateProj::Buffering { buffering } => {
                    let Some(active) = buffering.as_mut() else {
                        return Poll::Pending;
                    };
                    let end = ready!(active.poll_body(cx, this.config.buffer_limit));
                    let response = buffering
                        .take()
                        .map(|buffering| buffering.finish(end, this.config));
                    this.state.set(State::Done);
                    if let Some(response) = response {
                        return Poll::Ready(Ok(response));
                    }
                }
                // Polled after completion: a contract violation of the caller; stay pending
                // rather than panic.
                StateProj::Done => return Poll::Pending,
            }
        }
    }
}

enum BeforeHandler<ReqBody, B: Body> {
    /// Answer without calling the inner service.
    Answer(Response<ConditionalBody<B>>),
    /// Call the inner service, with what the source said of the resource, if it knew.
    Call(Request<ReqBody>, Option<Representation>),
}

/// RFC 9110 §13.2.2 with the validators a source reported, before the handler runs.
fn judge_before_handler<ReqBody, B: Body>(
    current: Result<Current, BoxError>,
    mut request: Request<ReqBody>,
    attach: bool,
) -> BeforeHandler<ReqBody, B> {
    let method = request.method();
    let safe = *method == Method::GET || *method == Method::HEAD;
    let representation = match current {
        Ok(Current::Exists(representation)) => Some(representation),
        Ok(Current::Missing) => None,
        Ok(Current::Unknown) => return BeforeHandler::Call(request, None),
        // A conditional write must not happen unchecked; a read can be judged after the
        // handler instead.
        Err(_) if !safe && has_preconditions(request.headers()) => {
            return BeforeHandler::Answer(source_unavailable(attach));
        }
        Err(_) => return BeforeHandler::Call(request, None),
    };
    let validators = representation.as_ref().map(Representation::validators);
    match evaluate(method, request.headers(), validators) {
        Outcome::NotModified => {
            let mut head = empty_head(StatusCode::NOT_MODIFIED);
            if let Some(representation) = &representation {
                representation.fill_in(&mut head.headers);
            }
            answered_by_source(Outcome::NotModified, &mut head, attach);
            BeforeHandler::Answer(Response::from_parts(head, ConditionalBody::omitted()))
        }
        Outcome::PreconditionFailed => {
            let mut head = empty_head(StatusCode::PRECONDITION_FAILED);
            if let Some(validators) = validators {
                Representation::from(validators.clone()).fill_in(&mut head.headers);
            }
            answered_by_source(Outcome::PreconditionFailed, &mut head, attach);
            BeforeHandler::Answer(Response::from_parts(head, ConditionalBody::empty()))
        }
        Outcome::Proceed => {
            if *request.method() == Method::GET
                && let Some(validators) = validators
                && !if_range_allows_range(request.headers(), validators)
            {
                request.headers_mut().remove(RANGE);
                request.headers_mut().remove(IF_RANGE);
            }
            request.extensions_mut().insert(PreconditionCheck {
                current: validators.cloned(),
            });
            // A missing resource's response is the handler's to make (a 404, or a creation).
            BeforeHandler::Call(request, representation)
        }
    }
}

fn answered_by_source(outcome: Outcome, head: &mut response::Parts, attach: bool) {
    Decision {
        outcome,
        handler_ran: false,
        ..Decision::new(TagOrigin::Source)
    }
    .record(head, attach);
}

fn empty_head(status: StatusCode) -> response::Parts {
    let mut head = Response::new(()).into_parts().0;
    head.status = status;
    head
}

/// The answer to a conditional write whose preconditions could not be checked.
fn source_unavailable<B: Body>(attach: bool) -> Response<ConditionalBody<B>> {
    const MESSAGE: &str =
        "The request's preconditions could not be checked, so it was not performed. Retry later.\n";
    let mut head = empty_head(StatusCode::SERVICE_UNAVAILABLE);
    head.headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    head.headers
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Decision {
        handler_ran: false,
        ..Decision::passed(PassReason::SourceFailed)
    }
    .record(&mut head, attach);
    let body = ConditionalBody::complete(Bytes::from_static(MESSAGE.as_bytes()).into(), None);
    Response::from_parts(head, body)
}

// Moved once, right away; boxing the large variant would cost an allocation per response.
#[allow(clippy::large_enum_variant)]
enum Next<B: Body> {
    Respond(Response<ConditionalBody<B>>),
    Buffer(Buffering<B>),
}

/// Decides what to do with the inner service's response to a GET or HEAD.
// Inlined into `poll`, the response it returns is built in place rather than copied out
// (measured: 120 fewer instructions per request).
#[inline(always)]
fn start<B: Body>(response: Response<B>, request: RequestFacts, config: &Config) -> Next<B> {
    let (mut head, body) = response.into_parts();
    let mut handler_tag = None;
    if head.status.is_success()
        && let Some(representation) = request.representation()
    {
        handler_tag = Some(head.headers.contains_key(ETAG));
        representation.fill_in(&mut head.headers);
    }
    let fields = HeadFields::read(&head.headers);
    let origin = match (fields.etag, handler_tag) {
        (false, _) => TagOrigin::None,
        (true, Some(false)) => TagOrigin::Source,
        (true, _) => TagOrigin::Handler,
    };
    if config.weaken_encoded_tags {
        if origin != TagOrigin::None && head.status.is_success() {
            if fields.content_coded {
                weaken(&mut head.headers);
            }
        } else if head.status == StatusCode::NOT_MODIFIED
            && let Some(conditions) = request.conditions()
        {
            keep_the_clients_weak_tag(&mut head.headers, conditions);
        }
    }

    // RFC 9110 §13.2.1: preconditions apply where the response would be 2xx.
    let untouched = if !head.status.is_success() {
        Some(PassReason::Status)
    } else if fields.streaming {
        Some(PassReason::Streaming)
    } else if skipped(config, &request, &head) {
        Some(PassReason::Skipped)
    } else {
        None
    };
    if let Some(reason) = untouched {
        let body = ConditionalBody::pass_through(body);
        return Next::Respond(finish_head(head, body, &request, Decision::passed(reason)));
    }

    let no_generation = if origin != TagOrigin::None {
        Some(None)
    } else if !request.has_get_body() {
        Some(Some(PassReason::Head))
    } else if head.status != StatusCode::OK {
        Some(Some(PassReason::Status))
    } else if fields.content_range {
        Some(Some(PassReason::PartialContent))
    } else if fields.no_store {
        Some(Some(PassReason::NoStore))
    } else if body.size_hint().lower() > config.buffer_limit as u64 {
        Some(Some(PassReason::OverLimit))
    } else {
        None
    };
    if let Some(passed) = no_generation {
        let decision = Decision {
            passed,
            ..Decision::new(origin)
        };
        let body = ConditionalBody::pass_through(body);
        return Next::Respond(respond(head, body, &request, decision));
    }

    // The body is read even when only dates are compared: a 304 must carry the ETag the 200
    // would have (RFC 9110 §15.4.5), and that tag is the hash of the body.
    Next::Buffer(Buffering {
        head,
        body: Box::pin(body),
        chunks: Chunks::default(),
        trailers: None,
        request,
    })
}

/// A body being read, with everything needed to build the response afterwards.
struct Buffering<B> {
    head: response::Parts,
    body: Pin<Box<B>>,
    chunks: Chunks,
    trailers: Option<Box<HeaderMap>>,
    request: RequestFacts,
}

/// How the reading of a body ended.
enum BodyEnd<E> {
    Complete,
    OverLimit,
    Failed(E),
}

impl<B: Body> Buffering<B> {
    /// Reads frames until the body ends, fails, or has more than `limit` bytes.
    fn poll_body(&mut self, cx: &mut Context<'_>, limit: usize) -> Poll<BodyEnd<B::Error>> {
        loop {
            let frame = match ready!(self.body.as_mut().poll_frame(cx)) {
                None => return Poll::Ready(BodyEnd::Complete),
                Some(Err(error)) => return Poll::Ready(BodyEnd::Failed(error)),
                Some(Ok(frame)) => frame,
            };
            match frame.into_data() {
                Ok(mut data) => {
                    // Moves the buffer for `Bytes` data: chunks are kept as they came.
                    self.chunks.push(data.copy_to_bytes(data.remaining()));
                    if self.chunks.byte_len() > limit {
                        return Poll::Ready(BodyEnd::OverLimit);
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        match &mut self.trailers {
                            Some(existing) => existing.extend(trailers),
                            None => self.trailers = Some(Box::new(trailers)),
                        }
                    }
                }
            }
        }
    }

    fn finish(self, end: BodyEnd<B::Error>, config: &Config) -> Response<ConditionalBody<B>> {
        let Self {
            mut head,
            body,
            chunks,
            trailers,
            request,
        } = self;
        match end {
            BodyEnd::Complete => {
                let len = chunks.byte_len();
                let tag = config.hash.tag_value(chunks.iter(), config.weak_tags);
                head.headers.insert(ETAG, tag);
                // The body's exact size hint gives servers the length. A length the handler
                // claimed is replaced by the true one (or dropped, with trailers, which need a
                // chunked body on HTTP/1.1).
                if head.headers.contains_key(CONTENT_LENGTH) {
                    if trailers.is_some() {
                        head.headers.remove(CONTENT_LENGTH);
                    } else if single_value(&head.headers, &CONTENT_LENGTH).and_then(parse_length)
                        != Some(len as u64)
                    {
                        // `insert` replaces every line, repeated ones included.
                        head.headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
                    }
                }
                let body = ConditionalBody::complete(chunks, trailers);
                respond(head, body, &request, Decision::new(TagOrigin::Generated))
            }
            BodyEnd::OverLimit => {
                let body = ConditionalBody::resume(chunks, body);
                respond(
                    head,
                    body,
                    &request,
                    Decision::passed(PassReason::OverLimit),
                )
            }
            // The client must see the failure, not a shorter 200: no tag, no 304. A HEAD
            // forwarded as GET still gets no body at all.
            BodyEnd::Failed(error) => {
                let body = ConditionalBody::failed(chunks, error);
                finish_head(
                    head,
                    body,
                    &request,
                    Decision::passed(PassReason::BodyError),
                )
            }
        }
    }
}

/// Evaluates the request's preconditions against the response's validators and applies the
/// outcome.
fn respond<B: Body>(
    head: response::Parts,
    body: ConditionalBody<B>,
    request: &RequestFacts,
    decision: Decision,
) -> Response<ConditionalBody<B>> {
    let outcome = outcome(&head, request);
    apply(outcome, head, body, request, decision)
}

fn outcome(head: &response::Parts, request: &RequestFacts) -> Outcome {
    let Some(conditions) = request.conditions() else {
        return Outcome::Proceed;
    };
    let validators = ValidatorsRef::from_headers(&head.headers);
    match evaluate_ref(&request.method, conditions, Some(validators)) {
        // A 304 stands in for a 200 only (RFC 9110 §15.4.5); a 206 or 204 is sent as it is.
        Outcome::NotModified if head.status != StatusCode::OK => Outcome::Proceed,
        outcome => outcome,
    }
}

fn apply<B: Body>(
    outcome: Outcome,
    mut head: response::Parts,
    body: ConditionalBody<B>,
    request: &RequestFacts,
    mut decision: Decision,
) -> Response<ConditionalBody<B>> {
    decision.outcome = outcome;
    match outcome {
        Outcome::Proceed => match (request.deferred_range(), request.conditions()) {
            // A range is held back only when the request has an If-Range, which is among the
            // conditions: both are there.
            (Some(range), Some(conditions)) if head.status == StatusCode::OK => {
                let (head, body) = serve_range(head, body, range, conditions);
                finish_head(head, body, request, decision)
            }
            _ => finish_head(head, body, request, decision),
        },
        Outcome::NotModified => {
            // A HEAD saves nothing: it would not have had a body anyway.
            decision.saved_bytes = if request.method == Method::HEAD {
                Some(0)
            } else if Decision::wanted(request.decisions) {
                content_length(&head.headers).or(body.size_hint().exact())
            } else {
                None
            };
            into_not_modified(&mut head);
            decision.record(&mut head, request.decisions);
            Response::from_parts(head, ConditionalBody::omitted())
        }
        Outcome::PreconditionFailed => {
            into_precondition_failed(&mut head);
            decision.record(&mut head, request.decisions);
            Response::from_parts(head, ConditionalBody::empty())
        }
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH).and_then(parse_length)
}

/// `Content-Length = 1*DIGIT` (RFC 9110 §8.6): no sign, no spaces.
fn parse_length(value: &HeaderValue) -> Option<u64> {
    let digits = value.as_bytes();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A HEAD forwarded as GET gets GET's head without GET's body; `Content-Length` says how long
/// the body would have been when that is known.
fn finish_head<B: Body>(
    mut head: response::Parts,
    body: ConditionalBody<B>,
    request: &RequestFacts,
    decision: Decision,
) -> Response<ConditionalBody<B>> {
    decision.record(&mut head, request.decisions);
    if !request.head_as_get {
        return Response::from_parts(head, body);
    }
    if !head.headers.contains_key(CONTENT_LENGTH)
        && let Some(len) = body.size_hint().exact()
    {
        head.headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
    Response::from_parts(head, ConditionalBody::omitted())
}

/// Cuts the held-back `Range` out of a full 200 when `If-Range` names this very representation
/// (RFC 9110 §13.1.5, §14.2). Anything else (If-Range false, several ranges, an unknown length,
/// a range outside the body) keeps the whole 200, which a server may always send.
fn serve_range<B: Body>(
    mut head: response::Parts,
    body: ConditionalBody<B>,
    range: &HeaderValue,
    conditions: &HeaderMap,
) -> (response::Parts, ConditionalBody<B>) {
    if !if_range_allows_range(conditions, &Validators::from_headers(&head.headers)) {
        return (head, body);
    }
    let total = content_length(&head.headers).or(body.size_hint().exact());
    let Some((first, last)) = total.and_then(|total| single_byte_range(range, total)) else {
        return (head, body);
    };
    let total = total.unwrap_or_default();
    let len = last - first + 1;
    head.status = StatusCode::PARTIAL_CONTENT;
    if let Ok(value) = HeaderValue::from_str(&format!("bytes {first}-{last}/{total}")) {
        head.headers.insert(CONTENT_RANGE, value);
    }
    head.headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    (head, ConditionalBody::slice(body, first, len))
}

fn skipped(config: &Config, request: &RequestFacts, head: &response::Parts) -> bool {
    match (&config.skip, request.uri()) {
        (Some(skip), Some(uri)) => (skip.0)(&ResponseInfo {
            method: &request.method,
            uri,
            status: head.status,
            headers: &head.headers,
        }),
        _ => false,
    }
}

/// What [`start`] reads of a response head, in one pass over the few fields a response has
/// (cheaper than a lookup for each field it might have).
#[derive(Default)]
struct HeadFields {
    etag: bool,
    content_coded: bool,
    streaming: bool,
    content_range: bool,
    no_store: bool,
}

impl HeadFields {
    fn read(headers: &HeaderMap) -> Self {
        let mut fields = Self::default();
        for (name, value) in headers {
            if name == ETAG {
                fields.etag = true;
            } else if name == CONTENT_ENCODING {
                fields.content_coded |= is_content_coding(value);
            } else if name == CONTENT_TYPE {
                fields.streaming |= is_streaming(value);
            } else if name == CONTENT_RANGE {
                fields.content_range = true;
            } else if name == CACHE_CONTROL {
                fields.no_store |= has_no_store(value);
            }
        }
        fields
    }
}

/// A `Content-Encoding` other than `identity`.
fn is_content_coding(value: &HeaderValue) -> bool {
    let coding = value.as_bytes().trim_ascii();
    !coding.is_empty() && !coding.eq_ignore_ascii_case(b"identity")
}

/// A strong tag that came from inside, on a content-coded body: a compression layer between
/// the handler and this layer (tower-http's `CompressionLayer` around `ServeDir`, say) copies the
/// identity bytes' strong tag onto the gzip bytes, so one strong tag would name two byte
/// sequences (RFC 9110 §8.8.1). Weakened, it still revalidates (If-None-Match compares weakly) but
/// promises no byte identity, as nginx does when it compresses.
fn weaken(headers: &mut HeaderMap) {
    // Several ETag lines are malformed: left as they are.
    let Some(tag) = single_value(headers, &ETAG) else {
        return;
    };
    if tag.as_bytes().starts_with(b"\"")
        && TagRef::parse(tag).is_some()
        && let Ok(weak) = HeaderValue::from_bytes(&[b"W/", tag.as_bytes()].concat())
    {
        headers.insert(ETAG, weak);
    }
}

/// A 304 the inner service made itself (`ServeDir` does) carries its strong tag, even when the
/// client revalidated the weakened tag of an encoded copy: answer with the tag the client holds,
/// so that a cache updating its stored gzip response does not make it strong again.
fn keep_the_clients_weak_tag(headers: &mut HeaderMap, conditions: &HeaderMap) {
    // Several ETag lines are malformed: left as they are.
    let Some(tag) = single_value(headers, &ETAG) else {
        return;
    };
    let Some(current) = TagRef::parse(tag) else {
        return;
    };
    let lines = || conditions.get_all(IF_NONE_MATCH);
    let named = |comparison| {
        matches!(
            evaluate_tag_field(lines(), Some(current), comparison),
            TagCondition::List { matched: true }
        )
    };
    // Named weakly (as W/"x"), never strongly: the client holds the weakened tag.
    if !current.is_weak()
        && named(Comparison::Weak)
        && !named(Comparison::Strong)
        && let Ok(weak) = HeaderValue::from_bytes(&[b"W/", tag.as_bytes()].concat())
    {
        headers.insert(ETAG, weak);
    }
}

/// A `Content-Type` of responses that stream by nature: buffering them would hold back events
/// (rack #1619).
fn is_streaming(content_type: &HeaderValue) -> bool {
    let value = content_type.as_bytes();
    starts_with_ignore_case(value, b"text/event-stream")
        || starts_with_ignore_case(value, b"application/grpc")
}

/// A `Cache-Control` line with `no-store`: nothing will revalidate the response, so no tag is
/// worth hashing.
fn has_no_store(cache_control: &HeaderValue) -> bool {
    cache_control
        .as_bytes()
        .split(|&byte| byte == b',')
        .any(|directive| directive.trim_ascii().eq_ignore_ascii_case(b"no-store"))
}

fn starts_with_ignore_case(value: &[u8], prefix: &[u8]) -> bool {
    value
        .get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}
