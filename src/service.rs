use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{IF_RANGE, RANGE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, Uri};
use http_body::Body;
use tower::Service;

use crate::body::ConditionalBody;
use crate::future::ResponseFuture;
use crate::layer::{ConditionalLayer, Config};
use crate::precondition::{CONDITIONAL_HEADERS, fields_where};
use crate::source::Representation;

/// Middleware that gives GET/HEAD responses entity tags and answers conditional requests with
/// `304 Not Modified` or `412 Precondition Failed` (RFC 9110 §13).
///
/// Build it with [`ConditionalLayer`]; see the [crate docs](crate) for the behaviour.
#[derive(Clone, Debug)]
pub struct Conditional<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> Conditional<S> {
    /// Wraps `inner` with the default settings of [`ConditionalLayer::new`].
    pub fn new(inner: S) -> Self {
        Self::with_config(inner, Arc::default())
    }

    pub(crate) fn with_config(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }

    /// A [`ConditionalLayer`] with the default settings.
    pub fn layer() -> ConditionalLayer {
        ConditionalLayer::new()
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Conditional<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ResBody: Body,
{
    type Response = Response<ConditionalBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        if let Some(source) = &self.config.source
            && consults_source(&request)
        {
            let (parts, body) = request.into_parts();
            let lookup = source.0.current(&parts);
            // The service that was polled ready goes with the request; its clone stays here
            // for the next `poll_ready`.
            let ready = self.inner.clone();
            let ready = std::mem::replace(&mut self.inner, ready);
            return ResponseFuture::lookup(
                lookup,
                ready,
                Request::from_parts(parts, body),
                Arc::clone(&self.config),
            );
        }
        let facts = request_facts(&mut request, &self.config, None);
        ResponseFuture::new(self.inner.call(request), facts, Arc::clone(&self.config))
    }
}

/// GET and HEAD always gain from the source; other methods only when they are conditional.
fn consults_source<B>(request: &Request<B>) -> bool {
    let method = request.method();
    *method == Method::GET
        || *method == Method::HEAD
        || !matches!(*method, Method::CONNECT | Method::OPTIONS | Method::TRACE)
            && has_preconditions(request.headers())
}

/// What the response future must know of `request`, which it readies for the inner service
/// (a HEAD may become a GET, a `Range` may be held back). `None`: the response passes through.
/// `representation` is what a validator source said of the resource, when it knew.
pub(crate) fn request_facts<ReqBody>(
    request: &mut Request<ReqBody>,
    config: &Config,
    representation: Option<Representation>,
) -> Option<RequestFacts> {
    let method = request.method().clone();
    // Other methods have run by the time the response is here: turning their answer into a
    // 304 or 412 would hide a mutation that happened (trillium #943).
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let head_as_get = method == Method::HEAD && config.head_as_get;
    if head_as_get {
        *request.method_mut() = Method::GET;
    }
    // RFC 9110 §13.1.5 without a source to vouch for the current version: ask for the whole
    // representation, then cut the range out of it if If-Range names that very version.
    let may_defer_range = method == Method::GET && representation.is_none();
    let conditions = fields_where(request.headers(), |name| {
        CONDITIONAL_HEADERS.contains(name) || may_defer_range && name == IF_RANGE
    });
    let deferred_range = if may_defer_range && conditions.contains_key(IF_RANGE) {
        let headers = request.headers_mut();
        headers.remove(IF_RANGE);
        let mut ranges = match headers.entry(RANGE) {
            http::header::Entry::Occupied(entry) => entry.remove_entry_mult().1.collect(),
            http::header::Entry::Vacant(_) => Vec::new(),
        };
        // One Range field, or none worth honouring.
        ranges.pop().filter(|_| ranges.is_empty())
    } else {
        None
    };
    let uri = config.skip.as_ref().map(|_| request.uri().clone());
    let rare = (uri.is_some() || deferred_range.is_some() || representation.is_some()).then(|| {
        Box::new(RareFacts {
            uri,
            deferred_range,
            representation,
        })
    });
    Some(RequestFacts {
        conditions: (!conditions.is_empty()).then(|| Box::new(conditions)),
        method,
        head_as_get,
        decisions: config.decisions,
        rare,
    })
}

/// What the response future needs to know of the request.
#[derive(Debug)]
pub(crate) struct RequestFacts {
    /// The method the client sent.
    pub(crate) method: Method,
    /// The request's precondition fields, and its `If-Range` when a range may be held back;
    /// `None` when it has none, as most requests do (boxed, so the response future stays small).
    pub(crate) conditions: Option<Box<HeaderMap>>,
    /// A HEAD forwarded as GET: the response body is GET's and must not reach the client.
    pub(crate) head_as_get: bool,
    /// Whether responses carry a [`Decision`](crate::Decision) extension.
    pub(crate) decisions: bool,
    /// What only some configurations need, boxed so the common response future stays small.
    pub(crate) rare: Option<Box<RareFacts>>,
}

#[derive(Debug)]
pub(crate) struct RareFacts {
    /// Kept only when a skip predicate wants it.
    pub(crate) uri: Option<Uri>,
    /// The `Range` of a GET with `If-Range`, held back from the inner service.
    pub(crate) deferred_range: Option<HeaderValue>,
    /// The validators and cache headers a source reported, to fill in on the response.
    pub(crate) representation: Option<Representation>,
}

impl RequestFacts {
    /// The request's precondition fields (and `If-Range`), if any.
    pub(crate) fn conditions(&self) -> Option<&HeaderMap> {
        self.conditions.as_deref()
    }

    /// Whether the response is a GET response whose body can be hashed.
    pub(crate) fn has_get_body(&self) -> bool {
        self.method == Method::GET || self.head_as_get
    }

    pub(crate) fn uri(&self) -> Option<&Uri> {
        self.rare.as_ref()?.uri.as_ref()
    }

    pub(crate) fn deferred_range(&self) -> Option<&HeaderValue> {
        self.rare.as_ref()?.deferred_range.as_ref()
    }

    pub(crate) fn representation(&self) -> Option<&Representation> {
        self.rare.as_ref()?.representation.as_ref()
    }
}

/// Whether a request carries any of the preconditions [`evaluate`](crate::evaluate) reads.
pub(crate) fn has_preconditions(headers: &HeaderMap) -> bool {
    CONDITIONAL_HEADERS
        .iter()
        .any(|name| headers.contains_key(name))
}
