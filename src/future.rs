use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG};
use http::{HeaderMap, HeaderValue, Response, StatusCode, response};
use http_body::Body;
use pin_project_lite::pin_project;

use crate::body::ConditionalBody;
use crate::layer::{Config, ResponseInfo};
use crate::precondition::{Outcome, Validators, evaluate};
use crate::response::{into_not_modified, into_precondition_failed};
use crate::service::RequestFacts;

pin_project! {
    /// Response future of [`Conditional`](crate::Conditional).
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
        config: Arc<Config>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        /// Waiting for the inner service. `request` is `None` when the response passes through.
        Inner { #[pin] future: F, request: Option<RequestFacts> },
        /// Reading the body to compute its tag. `None` once taken to build the response.
        Buffering { buffering: Option<Buffering<B>> },
        Done,
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn new(future: F, request: RequestFacts, config: Arc<Config>) -> Self {
        Self {
            state: State::Inner {
                future,
                request: Some(request),
            },
            config,
        }
    }

    pub(crate) fn pass_through(future: F) -> Self {
        Self {
            state: State::Inner {
                future,
                request: None,
            },
            config: Arc::default(),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
{
    type Output = Result<Response<ConditionalBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Inner { future, request } => {
                    let response = ready!(future.poll(cx))?;
                    let next = match request.take() {
                        None => Next::Respond(response.map(ConditionalBody::pass_through)),
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

// Moved once, right away; boxing the large variant would cost an allocation per response.
#[allow(clippy::large_enum_variant)]
enum Next<B: Body> {
    Respond(Response<ConditionalBody<B>>),
    Buffer(Buffering<B>),
}

/// Decides what to do with the inner service's response to a GET or HEAD.
fn start<B: Body>(response: Response<B>, request: RequestFacts, config: &Config) -> Next<B> {
    let (head, body) = response.into_parts();

    // RFC 9110 §13.2.1: preconditions apply where the response would be 2xx.
    if !head.status.is_success() || is_streaming(&head.headers) || skipped(config, &request, &head)
    {
        return Next::Respond(finish_head(
            head,
            ConditionalBody::pass_through(body),
            &request,
        ));
    }

    let generate = request.has_get_body()
        && head.status == StatusCode::OK
        && !head.headers.contains_key(ETAG)
        && !head.headers.contains_key(CONTENT_RANGE)
        && !has_no_store(&head.headers)
        && body.size_hint().lower() <= config.buffer_limit as u64;
    if !generate {
        return Next::Respond(respond(head, ConditionalBody::pass_through(body), &request));
    }

    // The body is read even when only dates are compared: a 304 must carry the ETag the 200
    // would have (RFC 9110 §15.4.5), and that tag is the hash of the body.
    Next::Buffer(Buffering {
        head,
        body: Box::pin(body),
        chunks: VecDeque::new(),
        len: 0,
        trailers: None,
        request,
    })
}

/// A body being read, with everything needed to build the response afterwards.
struct Buffering<B> {
    head: response::Parts,
    body: Pin<Box<B>>,
    chunks: VecDeque<Bytes>,
    len: usize,
    trailers: Option<HeaderMap>,
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
                    let chunk = data.copy_to_bytes(data.remaining());
                    if chunk.is_empty() {
                        continue;
                    }
                    self.len = self.len.saturating_add(chunk.len());
                    self.chunks.push_back(chunk);
                    if self.len > limit {
                        return Poll::Ready(BodyEnd::OverLimit);
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        match &mut self.trailers {
                            Some(existing) => existing.extend(trailers),
                            None => self.trailers = Some(trailers),
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
            mut chunks,
            len,
            trailers,
            request,
        } = self;
        match end {
            BodyEnd::Complete => {
                let tag = config
                    .hash
                    .tag_value(chunks.make_contiguous(), config.weak_tags);
                head.headers.insert(ETAG, tag);
                // The true length, whatever the handler claimed. With trailers the body must be
                // chunked on HTTP/1.1, so no length then.
                if trailers.is_none() {
                    head.headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
                }
                respond(head, ConditionalBody::complete(chunks, trailers), &request)
            }
            BodyEnd::OverLimit => respond(head, ConditionalBody::resume(chunks, body), &request),
            // The client must see the failure, not a shorter 200: no tag, no 304. A HEAD
            // forwarded as GET still gets no body at all.
            BodyEnd::Failed(error) => {
                finish_head(head, ConditionalBody::failed(chunks, error), &request)
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
) -> Response<ConditionalBody<B>> {
    let outcome = outcome(&head, request);
    apply(outcome, head, body, request)
}

fn outcome(head: &response::Parts, request: &RequestFacts) -> Outcome {
    if request.conditions.is_empty() {
        return Outcome::Proceed;
    }
    let validators = Validators::from_headers(&head.headers);
    match evaluate(&request.method, &request.conditions, Some(&validators)) {
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
) -> Response<ConditionalBody<B>> {
    match outcome {
        Outcome::Proceed => finish_head(head, body, request),
        Outcome::NotModified => {
            into_not_modified(&mut head);
            Response::from_parts(head, ConditionalBody::omitted())
        }
        Outcome::PreconditionFailed => {
            into_precondition_failed(&mut head);
            Response::from_parts(head, ConditionalBody::empty())
        }
    }
}

/// A HEAD forwarded as GET gets GET's head without GET's body; `Content-Length` says how long
/// the body would have been when that is known.
fn finish_head<B: Body>(
    mut head: response::Parts,
    body: ConditionalBody<B>,
    request: &RequestFacts,
) -> Response<ConditionalBody<B>> {
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

fn skipped(config: &Config, request: &RequestFacts, head: &response::Parts) -> bool {
    match (&config.skip, &request.uri) {
        (Some(skip), Some(uri)) => (skip.0)(&ResponseInfo {
            method: &request.method,
            uri,
            status: head.status,
            headers: &head.headers,
        }),
        _ => false,
    }
}

/// Responses that stream by nature: buffering them would hold back events (rack #1619).
fn is_streaming(headers: &HeaderMap) -> bool {
    headers.get(CONTENT_TYPE).is_some_and(|value| {
        let value = value.as_bytes();
        starts_with_ignore_case(value, b"text/event-stream")
            || starts_with_ignore_case(value, b"application/grpc")
    })
}

/// `Cache-Control: no-store`: nothing will revalidate the response, so no tag is worth hashing.
fn has_no_store(headers: &HeaderMap) -> bool {
    headers.get_all(CACHE_CONTROL).iter().any(|value| {
        value
            .as_bytes()
            .split(|&byte| byte == b',')
            .any(|directive| directive.trim_ascii().eq_ignore_ascii_case(b"no-store"))
    })
}

fn starts_with_ignore_case(value: &[u8], prefix: &[u8]) -> bool {
    value
        .get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}
