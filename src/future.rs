//! The response future: Tower plumbing that carries out the plans of `plan::request` and
//! `plan::response`. Each state waits for one thing (the source, the inner service, the body,
//! the inner service's readiness to be asked again); what to do once it is there is decided by
//! the plan functions, and built by the head edits of `plan::head`.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower::Service;

use crate::Representation;
use crate::body::{ConditionalBody, Reading, ResponseBody};
use crate::config::{Config, ResponseInfo};
use crate::decision::{Decision, PassReason, TagOrigin};
use crate::handler::HandlerSettings;
use crate::plan::head::{
    ContentFields, carry_the_held_tag, into_not_modified, into_precondition_failed, refusal_head,
    remove_content_fields, representation_not_modified, set_generated_tag,
};
use crate::plan::request::{
    Answer, RequestFacts, RequestPlan, SourcePlan, has_write_preconditions, plan_request,
    plan_with_source, remove_epoch_dates, remove_preconditions,
};
use crate::plan::response::{
    AfterReading, ReadEnd, ResponsePlan, Verdict, after_reading, plan_response, prepare_head,
    verdict,
};
use crate::rfc::fields::content_length;
use crate::rfc::precondition::{Outcome, ValidatorsRef};
use crate::rfc::problem::Refusal;
use crate::rfc::range::{ask_again_request, remove_range};
use crate::source::SourceFuture;

pin_project! {
    /// Response future of [`Conditional`](crate::Conditional).
    ///
    /// What [`Conditional`](crate::Conditional)'s `call` returns; await it for the response.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, StatusCode};
    /// use tower::{Service, ServiceExt};
    /// use tower_conditional::{Conditional, ResponseFuture};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let router: Router = Router::new().route("/", get(|| async { "Hello" }));
    /// let mut service = Conditional::new(router);
    /// let request = Request::get("/").body(Body::empty()).unwrap();
    /// let ready = ServiceExt::<Request<Body>>::ready(&mut service).await.unwrap();
    /// let future: ResponseFuture<Router, Body, Body> = ready.call(request);
    /// assert_eq!(future.await.unwrap().status(), StatusCode::OK);
    /// # }
    /// ```
    pub struct ResponseFuture<S, ReqBody, B, O = ()>
    where
        S: Service<Request<ReqBody>>,
        B: Body,
    {
        // The inner service's future while it runs, beside the state rather than in it: built
        // in place when the response future is.
        #[pin]
        inner: Option<S::Future>,
        state: State<S, ReqBody, B>,
        config: Arc<Config>,
        // What it takes to ask again for the whole representation, for a GET with `Range` and
        // `If-Range` only.
        again: Option<Box<AskAgain<S, ReqBody>>>,
        // The body type of its response (`ConditionalLayer`'s type parameter).
        output: PhantomData<fn() -> O>,
    }
}

enum State<S, ReqBody, B: Body> {
    /// Asking the validator source; the inner service is called afterwards, if at all.
    Lookup {
        lookup: SourceFuture,
        call: Option<(S, Request<ReqBody>)>,
    },
    /// Waiting for the inner service. `request` is `None` when the response passes through.
    Inner { request: Option<RequestFacts> },
    /// Reading the body to generate its tag. `None` once taken to build the response.
    Reading { reading: Option<ReadingResponse<B>> },
    /// Waiting for a clone of the inner service to be ready to be asked again.
    AskingAgain { request: Option<RequestFacts> },
    /// Answered without the inner service; `None` once sent. Boxed: rare, and large beside
    /// the other states.
    Answered {
        response: Option<Box<Response<ConditionalBody<B>>>>,
    },
}

/// A clone of the inner service and the request without `Range`, for when a range turns out to
/// be of a version `If-Range` does not name.
pub(crate) struct AskAgain<S, ReqBody> {
    service: S,
    request: Request<ReqBody>,
}

impl<S, ReqBody, B, O> ResponseFuture<S, ReqBody, B, O>
where
    S: Service<Request<ReqBody>>,
    B: Body,
{
    /// Calls `service` with `request`. Inlined, the inner service's future is built where the
    /// response future keeps it rather than copied there (axum's route future is 320 bytes).
    #[inline(always)]
    pub(crate) fn call(
        service: &mut S,
        request: Request<ReqBody>,
        facts: Option<RequestFacts>,
        again: Option<Box<AskAgain<S, ReqBody>>>,
        config: Arc<Config>,
    ) -> Self {
        Self {
            inner: Some(service.call(request)),
            state: State::Inner { request: facts },
            config,
            again,
            output: PhantomData,
        }
    }

    /// A future that is ready with `response`: the layer answered without the inner service.
    pub(crate) fn answered(response: Response<ConditionalBody<B>>, config: Arc<Config>) -> Self {
        Self {
            inner: None,
            state: State::Answered {
                response: Some(Box::new(response)),
            },
            config,
            again: None,
            output: PhantomData,
        }
    }

    pub(crate) fn lookup(
        lookup: SourceFuture,
        service: S,
        request: Request<ReqBody>,
        config: Arc<Config>,
    ) -> Self {
        Self {
            inner: None,
            state: State::Lookup {
                lookup,
                call: Some((service, request)),
            },
            config,
            again: None,
            output: PhantomData,
        }
    }
}

/// Carries out [`plan_request`] for a request about to go to `service`: what the response
/// future keeps of it, and, where a 206 may have to be asked again, a clone of the service and
/// of the request without its range. Dates that name no version are removed from it.
pub(crate) fn prepare_request<S, ReqBody>(
    request: &mut Request<ReqBody>,
    service: &S,
    config: &Arc<Config>,
    representation: Option<Representation>,
) -> (Option<RequestFacts>, Option<Box<AskAgain<S, ReqBody>>>)
where
    S: Clone,
    ReqBody: Default,
{
    // `write_rules_set` first: a layer without write rules answers this with one test.
    if config.write_rules_set
        && config.write.differ_for_handlers()
        && has_write_preconditions(request.headers())
    {
        // What a handler's `Preconditions::check` must follow of the layer's settings.
        insert_handler_settings(request, config);
    }
    let uri = config.skip.as_ref().map(|_| request.uri());
    let plan = plan_request(
        request.method(),
        request.headers(),
        uri,
        config.decisions,
        representation,
    );
    match plan {
        RequestPlan::PassThrough => (None, None),
        RequestPlan::Evaluate {
            facts,
            may_ask_again,
            epoch_dates,
        } => {
            if epoch_dates {
                remove_epoch_dates(request.headers_mut());
            }
            let again = may_ask_again.then(|| {
                Box::new(AskAgain {
                    service: service.clone(),
                    request: ask_again_request(request),
                })
            });
            (Some(facts), again)
        }
    }
}

impl<S, ReqBody, B, O> Future for ResponseFuture<S, ReqBody, B, O>
where
    S: Service<Request<ReqBody>, Response = Response<B>> + Clone,
    ReqBody: Default,
    B: Body,
    O: ResponseBody<B>,
{
    type Output = Result<Response<O::Body>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match &mut *this.state {
                State::Lookup { lookup, call } => {
                    if call.is_none() {
                        return Poll::Pending;
                    }
                    let current = ready!(lookup.as_mut().poll(cx));
                    let Some((mut service, mut request)) = call.take() else {
                        return Poll::Pending;
                    };
                    match plan_with_source(
                        current,
                        request.method(),
                        request.headers(),
                        &this.config.write,
                    ) {
                        SourcePlan::Answer(answer) => {
                            Next::Respond(answer_response(answer, request.headers(), this.config))
                        }
                        SourcePlan::Call {
                            representation,
                            stale_range,
                            evaluated,
                        } => {
                            if stale_range {
                                remove_range(request.headers_mut());
                            }
                            if evaluated {
                                remove_preconditions(request.headers_mut());
                            }
                            let (facts, again) = prepare_request(
                                &mut request,
                                &service,
                                this.config,
                                representation,
                            );
                            *this.again = again;
                            this.inner.set(Some(service.call(request)));
                            *this.state = State::Inner { request: facts };
                            continue;
                        }
                    }
                }
                State::Inner { request } => {
                    let Some(future) = this.inner.as_mut().as_pin_mut() else {
                        return Poll::Pending;
                    };
                    let response = ready!(future.poll(cx))?;
                    this.inner.set(None);
                    match request.take() {
                        Some(request) => {
                            respond_to(response, request, this.config, this.again.is_some())
                        }
                        None => Next::Respond(pass_through(response, this.config)),
                    }
                }
                State::Reading { reading } => {
                    let Some(active) = reading.as_mut() else {
                        return Poll::Pending;
                    };
                    let end = ready!(active.reading.poll_read(
                        cx,
                        this.config.buffer_limit,
                        this.config.wait_for_body
                    ));
                    let Some(read) = reading.take() else {
                        return Poll::Pending;
                    };
                    read.respond_after_reading(end, this.config, this.again.is_some())
                }
                State::AskingAgain { request } => {
                    let Some(again) = this.again.as_mut() else {
                        return Poll::Pending;
                    };
                    ready!(again.service.poll_ready(cx))?;
                    let (Some(again), Some(request)) = (this.again.take(), request.take()) else {
                        return Poll::Pending;
                    };
                    let AskAgain {
                        mut service,
                        request: whole,
                    } = *again;
                    this.inner.set(Some(service.call(whole)));
                    *this.state = State::Inner {
                        request: Some(request.asked_again()),
                    };
                    continue;
                }
                State::Answered { response } => match response.take() {
                    Some(response) => Next::Respond(*response),
                    None => return Poll::Pending,
                },
            };
            match next {
                // Every state is left holding nothing once its response is out: polled after
                // completion (the caller's contract violation), the future stays pending.
                Next::Respond(response) => {
                    // Converted where it is built, so that a body sent on is not moved again.
                    return Poll::Ready(Ok(O::from_conditional(response)));
                }
                Next::Read(read) => {
                    *this.state = State::Reading {
                        reading: Some(read),
                    }
                }
                // The 206 is dropped unread: its body stops with it.
                Next::AskAgain(request) => {
                    *this.state = State::AskingAgain {
                        request: Some(request),
                    }
                }
            }
        }
    }
}

/// A response to a request the layer does not evaluate (not GET or HEAD), sent on as it is; only a
/// 304 loses its content fields and body, as every 304 that leaves the layer does.
fn pass_through<B: Body>(response: Response<B>, config: &Config) -> Response<ConditionalBody<B>> {
    let (mut head, body) = response.into_parts();
    Decision::passed(PassReason::Method).record(&mut head, config.decisions);
    let body = if head.status == StatusCode::NOT_MODIFIED {
        remove_content_fields(&mut head, ContentFields::UNKNOWN);
        ConditionalBody::omitted()
    } else {
        ConditionalBody::pass_through(body)
    };
    Response::from_parts(head, body)
}

/// Tells the handler's `Preconditions` the layer's write rules (a request extension).
#[cold]
#[inline(never)]
fn insert_handler_settings<ReqBody>(request: &mut Request<ReqBody>, config: &Arc<Config>) {
    request
        .extensions_mut()
        .insert(HandlerSettings::from(config));
}

/// What the future does next with a response it has.
// Moved once, right away; boxing the large variant would cost an allocation per response.
#[allow(clippy::large_enum_variant)]
enum Next<B: Body> {
    Respond(Response<ConditionalBody<B>>),
    Read(ReadingResponse<B>),
    AskAgain(RequestFacts),
}

/// Carries out [`prepare_head`] and [`plan_response`] on the inner service's response.
// Inlined into `poll`: the response it returns is built in place, not moved out.
#[inline(always)]
fn respond_to<B: Body>(
    response: Response<B>,
    request: RequestFacts,
    config: &Config,
    ask_again: bool,
) -> Next<B> {
    let (mut head, body) = response.into_parts();
    let (fields, origin) = prepare_head(&mut head, &request);
    let plan = plan_response(
        head.status,
        request.method(),
        fields,
        &body.size_hint(),
        config.buffer_limit,
        || skipped(config, &request, &head),
    );
    match plan {
        ResponsePlan::PassThrough(reason) => Next::Respond(send(
            head,
            ConditionalBody::pass_through(body),
            &request,
            Decision::passed(reason),
        )),
        ResponsePlan::InnerNotModified => Next::Respond(send(
            head,
            ConditionalBody::omitted(),
            &request,
            Decision::passed(PassReason::Status),
        )),
        // Nothing to evaluate, nothing to record: sent as it is.
        ResponsePlan::Evaluate(_) if request.nothing_to_evaluate() => Next::Respond(
            Response::from_parts(head, ConditionalBody::pass_through(body)),
        ),
        ResponsePlan::Evaluate(passed) => {
            let decision = Decision {
                passed,
                ..Decision::new(origin)
            };
            let body = ConditionalBody::pass_through(body);
            let size = || body.size_hint().exact();
            let evaluating = VerdictInputs {
                request: &request,
                ask_again,
                tag_suffix: fields.tag_suffix,
                content_fields: fields.content_fields,
                problem_details: config.write.problem_details,
            };
            let verdict = evaluating.reach_verdict(&mut head, decision, size);
            response_for_verdict(verdict, head, request, config.write.problem_details, || {
                body
            })
        }
        ResponsePlan::GenerateTag => Next::Read(ReadingResponse {
            head,
            content_fields: fields.content_fields,
            reading: Reading::new(body),
            request,
        }),
    }
}

/// A body being read, with what is needed to build the response afterwards.
struct ReadingResponse<B: Body> {
    head: response::Parts,
    /// The content fields the head has (read in `prepare_head`'s one pass).
    content_fields: ContentFields,
    reading: Reading<B>,
    request: RequestFacts,
}

impl<B: Body> ReadingResponse<B> {
    /// Carries out [`after_reading`].
    fn respond_after_reading(
        self,
        end: ReadEnd<B::Error>,
        config: &Config,
        ask_again: bool,
    ) -> Next<B> {
        let Self {
            mut head,
            content_fields,
            reading,
            request,
        } = self;
        let len = reading.chunks().byte_len();
        let evaluating = VerdictInputs {
            request: &request,
            ask_again,
            tag_suffix: 0,
            content_fields,
            problem_details: config.write.problem_details,
        };
        match after_reading(&end, request.method(), len) {
            AfterReading::Tag => {
                let tag = config
                    .hash
                    .tag_value(reading.chunks().iter(), config.weak_tags);
                let trailers = reading.has_trailers();
                let content_length = content_fields.has(ContentFields::LENGTH);
                set_generated_tag(&mut head.headers, tag, len, trailers, content_length);
                let decision = Decision::new(TagOrigin::Generated);
                let size = || Some(len as u64);
                let verdict = evaluating.reach_verdict(&mut head, decision, size);
                // The body is built only for the response that sends it.
                response_for_verdict(verdict, head, request, config.write.problem_details, || {
                    reading.into_body(end)
                })
            }
            AfterReading::Evaluate(reason) => {
                let body = reading.into_body(end);
                let size = || body.size_hint().exact();
                let decision = Decision::passed(reason);
                let verdict = evaluating.reach_verdict(&mut head, decision, size);
                response_for_verdict(verdict, head, request, config.write.problem_details, || {
                    body
                })
            }
            AfterReading::Fail => Next::Respond(send(
                head,
                reading.into_body(end),
                &request,
                Decision::passed(PassReason::BodyError),
            )),
        }
    }
}

/// What follows a [`VerdictInputs::reach_verdict`]: the response with the body its verdict calls for
/// (`body` is built only when it is sent; `problem` is a 412's problem details), or asking
/// again.
// Inlined, as `respond_to` is: the response is built once, in place.
#[inline(always)]
fn response_for_verdict<B: Body>(
    verdict: Verdict,
    head: response::Parts,
    request: RequestFacts,
    problem_details: bool,
    body: impl FnOnce() -> ConditionalBody<B>,
) -> Next<B> {
    let body = match verdict {
        Verdict::AskAgain => return Next::AskAgain(request),
        Verdict::Send => body(),
        Verdict::NotModified { .. } => ConditionalBody::omitted(),
        Verdict::PreconditionFailed(precondition) => {
            refusal_body(Refusal::Failed(precondition).content(problem_details, &head.headers))
        }
    };
    Next::Respond(Response::from_parts(head, body))
}

/// The body of a 412, 428 or 503 the layer answers: its problem details or text, or none.
fn refusal_body<B: Body>(body: Option<Bytes>) -> ConditionalBody<B> {
    match body {
        Some(bytes) => ConditionalBody::complete(bytes.into(), None),
        None => ConditionalBody::empty(),
    }
}

/// What evaluating a response head needs besides the head.
struct VerdictInputs<'a> {
    request: &'a RequestFacts,
    /// Whether a range of another version can be asked again without `Range`.
    ask_again: bool,
    /// The length of the coding suffix of the head's tag ([`prepare_head`]).
    tag_suffix: u8,
    /// The content fields the head has.
    content_fields: ContentFields,
    /// Whether a 412 carries problem details.
    problem_details: bool,
}

impl VerdictInputs<'_> {
    /// Carries out the head edits of a [`verdict`] (a 304's or a 412's) and records the
    /// decision. `AskAgain` is returned only when the request can be asked again;
    /// `size` is the body's length, when known.
    fn reach_verdict(
        &self,
        head: &mut response::Parts,
        mut decision: Decision,
        size: impl FnOnce() -> Option<u64>,
    ) -> Verdict {
        let request = self.request;
        if request.nothing_to_evaluate() {
            return Verdict::Send;
        }
        let suffix = usize::from(self.tag_suffix);
        let validators = || {
            let mut validators = ValidatorsRef::from_headers(&head.headers);
            if suffix > 0 {
                validators.etag = validators.etag.map(|tag| tag.coded(suffix));
            }
            validators
        };
        let verdict = match verdict(
            head.status,
            request.method(),
            request.conditions(),
            validators,
        ) {
            // Without a clone of the service and the request, the range is sent as it is.
            Verdict::AskAgain if !self.ask_again => Verdict::Send,
            verdict => verdict,
        };
        match verdict {
            Verdict::AskAgain => return verdict,
            Verdict::Send => {}
            Verdict::NotModified { held_form } => {
                decision.outcome = Outcome::NotModified;
                // A HEAD saves nothing: it would not have had a body anyway.
                decision.saved_bytes = if request.head {
                    Some(0)
                } else if Decision::wanted(request.decisions) {
                    content_length(&head.headers).or_else(size)
                } else {
                    None
                };
                into_not_modified(head, self.content_fields);
                if held_form && let Some(conditions) = request.conditions() {
                    carry_the_held_tag(&mut head.headers, conditions, suffix, true);
                }
            }
            Verdict::PreconditionFailed(precondition) => {
                decision.outcome = Outcome::PreconditionFailed;
                into_precondition_failed(head, self.content_fields);
                Refusal::Failed(precondition).describe(self.problem_details, &mut head.headers);
            }
        }
        decision.record(head, request.decisions);
        verdict
    }
}

fn send<B: Body>(
    mut head: response::Parts,
    body: ConditionalBody<B>,
    request: &RequestFacts,
    decision: Decision,
) -> Response<ConditionalBody<B>> {
    decision.record(&mut head, request.decisions);
    Response::from_parts(head, body)
}

/// Builds the answer a validator source's verdict stands for, without the inner service.
fn answer_response<B: Body>(
    answer: Answer,
    conditions: &HeaderMap,
    config: &Config,
) -> Response<ConditionalBody<B>> {
    let (mut head, body, decision) = match answer {
        Answer::NotModified {
            representation,
            held_form,
        } => (
            representation_not_modified(&representation, conditions, held_form),
            ConditionalBody::omitted(),
            Decision {
                outcome: Outcome::NotModified,
                handler_ran: false,
                ..Decision::new(TagOrigin::Source)
            },
        ),
        Answer::Refused(refusal, validators) => {
            let (head, body) =
                refusal_head(refusal, validators.as_ref(), config.write.problem_details);
            let decision = match refusal {
                Refusal::Failed(_) => Decision {
                    outcome: Outcome::PreconditionFailed,
                    ..Decision::new(TagOrigin::Source)
                },
                Refusal::Required => Decision {
                    outcome: Outcome::PreconditionRequired,
                    ..Decision::new(TagOrigin::None)
                },
                Refusal::Unchecked => Decision::passed(PassReason::SourceFailed),
            };
            let decision = Decision {
                handler_ran: false,
                ..decision
            };
            (head, refusal_body(body), decision)
        }
    };
    decision.record(&mut head, config.decisions);
    Response::from_parts(head, body)
}

/// The 428 for a request that must be conditional and is not, before the inner service runs.
pub(crate) fn precondition_required_response<B: Body>(
    config: &Config,
) -> Response<ConditionalBody<B>> {
    answer_response(
        Answer::Refused(Refusal::Required, None),
        &HeaderMap::new(),
        config,
    )
}

fn skipped(config: &Config, request: &RequestFacts, head: &response::Parts) -> bool {
    match (&config.skip, request.uri()) {
        (Some(skip), Some(uri)) => (skip.0)(&ResponseInfo {
            method: request.method(),
            uri,
            status: head.status,
            headers: &head.headers,
        }),
        _ => false,
    }
}
