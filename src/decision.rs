//! What the layer did with a response, told to outer layers (a response extension) and to
//! `tracing` subscribers (with the `tracing` feature).

use http::response;

use crate::Outcome;

/// Response extension set by [`Conditional`](crate::Conditional), when
/// [`ConditionalLayer::decisions`](crate::ConditionalLayer::decisions) asks for it, on every
/// response it makes or passes on: what it did and why.
///
/// ```
/// # use tower_conditional::{Outcome, decision::Decision};
/// # fn log(response: &http::Response<()>) {
/// if let Some(decision) = response.extensions().get::<Decision>() {
///     if decision.outcome == Outcome::NotModified {
///         println!("304 saved {:?} bytes", decision.saved_bytes);
///     }
/// }
/// # }
/// ```
///
/// A 304 and what it saved:
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, header};
/// use tower::ServiceExt;
/// use tower_conditional::{ConditionalLayer, Outcome};
/// use tower_conditional::decision::Decision;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app: Router = Router::new()
///     .route("/", get(|| async { "Hello" }))
///     .layer(ConditionalLayer::new().decisions(true));
/// let response = app.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// let etag = response.headers()[header::ETAG].clone();
///
/// let request = Request::get("/").header(header::IF_NONE_MATCH, etag).body(Body::empty()).unwrap();
/// let response = app.oneshot(request).await.unwrap();
/// let decision = response.extensions().get::<Decision>().unwrap();
/// assert_eq!(decision.outcome, Outcome::NotModified);
/// assert_eq!(decision.saved_bytes, Some(5)); // "Hello"
/// assert_eq!(decision.passed, None);
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// What the preconditions said: `Proceed` also for responses they did not apply to.
    pub outcome: Outcome,
    /// Where the response's entity tag came from.
    pub etag: TagOrigin,
    /// Why the response was passed on without a generated tag or a precondition check, if it
    /// was.
    pub passed: Option<PassReason>,
    /// Whether the inner service ran (`false` when a validator source's answer sufficed).
    pub handler_ran: bool,
    /// For a 304: the body bytes not sent, when known (the buffered length or the
    /// representation's `Content-Length`).
    pub saved_bytes: Option<u64>,
}

/// Where a response's entity tag came from.
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, header};
/// use tower::ServiceExt;
/// use tower_conditional::ConditionalLayer;
/// use tower_conditional::decision::{Decision, TagOrigin};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app: Router = Router::new()
///     .route("/hashed", get(|| async { "Hello" }))
///     .route("/tagged", get(|| async { ([(header::ETAG, "\"v1\"")], "Hello") }))
///     .layer(ConditionalLayer::new().decisions(true));
///
/// let origin = |response: &http::Response<Body>| response.extensions().get::<Decision>().unwrap().etag;
/// let request = |uri| Request::get(uri).body(Body::empty()).unwrap();
/// assert_eq!(origin(&app.clone().oneshot(request("/hashed")).await.unwrap()), TagOrigin::Generated);
/// assert_eq!(origin(&app.oneshot(request("/tagged")).await.unwrap()), TagOrigin::Handler);
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TagOrigin {
    /// The layer hashed the body.
    Generated,
    /// The inner service set it.
    Handler,
    /// The validator source reported it.
    Source,
    /// The response has none.
    None,
}

/// Why the layer passed a response on as it was (no generated tag, or no precondition check).
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, StatusCode};
/// use tower::ServiceExt;
/// use tower_conditional::ConditionalLayer;
/// use tower_conditional::decision::{Decision, PassReason};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app: Router = Router::new()
///     .route("/", get(|| async { "Hello" }).post(|| async { "Posted" }))
///     .route("/gone", get(|| async { (StatusCode::NOT_FOUND, "Gone") }))
///     .layer(ConditionalLayer::new().decisions(true));
///
/// let passed = |response: &http::Response<Body>| response.extensions().get::<Decision>().unwrap().passed;
/// let post = Request::post("/").body(Body::empty()).unwrap();
/// assert_eq!(passed(&app.clone().oneshot(post).await.unwrap()), Some(PassReason::Method));
/// let missing = Request::get("/gone").body(Body::empty()).unwrap();
/// assert_eq!(passed(&app.oneshot(missing).await.unwrap()), Some(PassReason::Status));
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PassReason {
    /// Not GET or HEAD: the handler has run, so its answer stands.
    Method,
    /// Not 2xx (preconditions do not apply), or 2xx but not 200 (no tag generated).
    Status,
    /// `text/event-stream` or gRPC.
    Streaming,
    /// The `skip_when` predicate said so.
    Skipped,
    /// `Cache-Control: no-store`: no tag worth computing.
    NoStore,
    /// A partial (`Content-Range`) response.
    PartialContent,
    /// The body is larger than the buffer limit.
    OverLimit,
    /// The body failed while being read; the client sees the error.
    BodyError,
    /// A HEAD response without GET's body to hash (its route answers HEAD itself, or the body
    /// was emptied before the layer): it keeps the handler's validators, or has none.
    Head,
    /// The body's next frame was not ready: what was read went out at once, and the rest as it
    /// came, without a generated tag (see
    /// [`ConditionalLayer::wait_for_body`](crate::ConditionalLayer::wait_for_body)).
    NotReady,
    /// The validator source failed on a conditional write: answered 503.
    SourceFailed,
}

impl Decision {
    pub(crate) fn new(etag: TagOrigin) -> Self {
        Self {
            outcome: Outcome::Proceed,
            etag,
            passed: None,
            handler_ran: true,
            saved_bytes: None,
        }
    }

    pub(crate) fn passed(reason: PassReason) -> Self {
        Self {
            passed: Some(reason),
            ..Self::new(TagOrigin::None)
        }
    }

    /// Reports the decision to `tracing`, and attaches it to the response when `attach`.
    pub(crate) fn record(mut self, head: &mut response::Parts, attach: bool) {
        if !Self::wanted(attach) {
            return;
        }
        if self.etag == TagOrigin::None && head.headers.contains_key(http::header::ETAG) {
            self.etag = TagOrigin::Handler;
        }
        #[cfg(feature = "tracing")]
        tracing::debug!(
            target: "tower_conditional",
            status = head.status.as_u16(),
            outcome = ?self.outcome,
            etag = ?self.etag,
            passed = ?self.passed,
            handler_ran = self.handler_ran,
            saved_bytes = self.saved_bytes,
            "conditional request decided"
        );
        if attach {
            head.extensions.insert(self);
        }
    }

    /// Whether a decision is attached or traced at all; when not, nothing is worth working out
    /// for it.
    pub(crate) fn wanted(attach: bool) -> bool {
        #[cfg(feature = "tracing")]
        let traced = tracing::enabled!(target: "tower_conditional", tracing::Level::DEBUG);
        #[cfg(not(feature = "tracing"))]
        let traced = false;
        attach || traced
    }
}
