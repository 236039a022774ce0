//! Audits how a route answers conditional requests (RFC 9110 §13), from your own tests, in
//! process, with no network: the checks REDbot makes on a live URL, and the writes it never
//! tries (`If-Match`, 412, 428, two writers at once). Feature `audit`.
//!
//! ```
//! use axum::{Router, routing::get};
//! use tower_conditional::ConditionalLayer;
//! use tower_conditional::audit::Audit;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = Router::new()
//!     .route("/items/1", get(|| async { "the first item" }))
//!     .layer(ConditionalLayer::new());
//!
//! // Panics listing every finding, each naming the RFC section it breaks.
//! Audit::new("/items/1").run(app).await.assert_clean();
//! # }
//! ```
//!
//! [`Audit::run`] treats the service as a black box: it sends requests and reads the answers,
//! the way a client or a cache would. A first `GET` (with `Accept-Encoding: identity`) finds the
//! route's validators, then each check below sends its requests and compares. Every
//! [`Finding`] names the rule, what was sent, what came back and what was expected. The same
//! checks run over HTTP against any server with the `audit` example of the source repository:
//! `cargo run --example audit --features audit -- http://127.0.0.1:3000/items/1`.
//!
//! | check | rule | what is sent | what must come back |
//! |---|---|---|---|
//! | `first-get` | RFC 9110 §9.3.1 | `GET` | `200`, or nothing else can be checked |
//! | `validators` | RFC 9110 §8.8 | `GET` | an `ETag` or a `Last-Modified`, well-formed |
//! | `if-none-match` | RFC 9110 §13.1.2 | `If-None-Match` with the tag; with an unknown tag | `304`; the whole `200` |
//! | `weak-comparison` | RFC 9110 §13.1.2 | `If-None-Match` with the tag's other form (`W/"x"` for `"x"`) | `304` |
//! | `if-modified-since` | RFC 9110 §13.1.3 | `If-Modified-Since` with the `Last-Modified`; with a day earlier | `304`; the whole `200` |
//! | `precedence` | RFC 9110 §13.2.2 | an unknown tag in `If-None-Match` with the current date in `If-Modified-Since` | the whole `200`: the date is ignored |
//! | `304-fields` | RFC 9110 §15.4.5 | every revalidation above | a `304` with each `Cache-Control`, `Content-Location`, `Date`, `ETag`, `Expires`, `Vary` the `200` had (`ETag`, `Vary` unchanged) |
//! | `304-content` | RFC 9110 §15.4.5, §8.6 | every revalidation above | no body, `Content-Encoding`, `Content-Type`, `Content-Range`, `Transfer-Encoding`; `Content-Length` only the `200`'s |
//! | `if-match` | RFC 9110 §13.1.1 | `If-Match` with the strong tag on `GET` | `200` |
//! | `if-match-weak` | RFC 9110 §13.1.1 | `If-Match: W/"x"` on `GET` (and the write) | `412`: a weak tag never matches |
//! | `head` | RFC 9110 §9.3.2 | `HEAD`, then `HEAD` with `If-None-Match` | GET's status and validators (or none: never a tag GET lacks), no body; a `304` |
//! | `strong-tag-per-coding` | RFC 9110 §8.8.3.3 | `GET` with `Accept-Encoding: gzip` | a strong tag other than the identity bytes' one |
//! | `vary` | RFC 9110 §12.5.5 | the gzip and the identity `GET` | `Vary` naming `accept-encoding` on both |
//! | `if-none-match` (gzip) | RFC 9110 §13.1.2 | `If-None-Match` with the gzip tag, `Accept-Encoding: gzip` | a `304` naming it |
//! | `if-range` | RFC 9110 §13.1.5 | `Range: bytes=0-9` with `If-Range`: the tag; an unknown tag | the `206` of those bytes; the whole `200` |
//! | `no-response` | RFC 9110 §15 | any of the above | a response: not a service error, a failed body, or one over 8 MiB |
//!
//! The coding checks run when the gzip answer is content-coded, the range checks when the `200`
//! says `Accept-Ranges: bytes` and has a strong tag; [`Report::skipped`] says what did not run,
//! and why.
//!
//! # Writes (opt-in)
//!
//! [`Audit::write`] gives a sample write (a method and a body) that changes the resource, and
//! turns on the checks a read-only linter cannot make. Each refused write is followed by a `GET`
//! that shows whether anything was written:
//!
//! | check | rule | what is sent | what must come back |
//! |---|---|---|---|
//! | `precondition-required` | RFC 6585 §3 | the write with no precondition (with [`Audit::requires_preconditions`]) | `428`, nothing written |
//! | `stale-write` | RFC 9110 §13.1.1, §15.5.13 | the write with `If-Match` naming an unknown tag | `412`, nothing written |
//! | `if-match-weak` | RFC 9110 §13.1.1 | the write with `If-Match: W/"x"` | `412`, nothing written |
//! | `if-none-match-star` | RFC 9110 §13.1.2 | the write with `If-None-Match: *` | `412`, nothing written |
//! | `if-match` | RFC 9110 §13.1.1 | the write with `If-Match` naming the current tag | `2xx` |
//! | `gzip-write` | RFC 9110 §13.1.1, §8.8.3.3 | the write with `If-Match` naming the tag a gzip client holds | `2xx`; a weak gzip tag is a finding, as no gzip client could ever write |
//! | `lost-update` | RFC 9110 §13.1.1 | two writes at once with one `If-Match`, [`Audit::races`] times | never two `2xx` |
//!
//! The two writers run concurrently on the caller's task (their futures are polled together,
//! not spawned), which is what shows a handler that checks the tag, awaits, and then writes.
//!
//! # What `run` needs
//!
//! - A `tower::Service` of `http::Request<http_body_util::Full<Bytes>>` that is `Clone`: an
//!   axum `Router`, a `ConditionalLayer` stack, a tower-http service, a hyper client. The
//!   request body type is fixed so that `run(router)` needs no type annotation; a service
//!   fixed to another body type takes a `map_request(|r| r.map(Body::new))` in front.
//! - No runtime: it awaits the service, and works under any executor. It sets no timeout
//!   (wrap it in your runtime's, e.g. `tokio::time::timeout`), and reads at most 8 MiB of a
//!   body (more is a finding).
//! - A service error, an unreadable body or a first `GET` that is not `200` is a finding (check
//!   `no-response` or `first-get`), never a panic; after a failed first `GET` nothing else runs.
//!
//! The headers given with [`Audit::header`] (credentials, the write's `Content-Type`) go on
//! every request, and are never shown in findings.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use tower::Service;

use crate::EntityTag;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The most body bytes read of one response.
const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Rounds of two concurrent writers, by default.
const DEFAULT_RACES: usize = 5;

/// A tag no route uses, for "a changed or unknown tag".
const UNKNOWN_TAG: &str = "\"tower-conditional-audit-unknown\"";

/// The content-codings a coded tag may name (`"x-gzip"` for `"x"`, RFC 9110 §8.8.3.3).
const CODINGS: [&str; 7] = [
    "gzip",
    "br",
    "zstd",
    "deflate",
    "compress",
    "x-gzip",
    "x-compress",
];

// The rules, as findings cite them.
const R_VALIDATORS: &str = "RFC 9110 §8.8";
const R_ETAG: &str = "RFC 9110 §8.8.3";
const R_LAST_MODIFIED: &str = "RFC 9110 §8.8.2";
const R_GET: &str = "RFC 9110 §9.3.1";
const R_HEAD: &str = "RFC 9110 §9.3.2";
const R_RESPONSE: &str = "RFC 9110 §15";
const R_IF_MATCH: &str = "RFC 9110 §13.1.1";
const R_IF_NONE_MATCH: &str = "RFC 9110 §13.1.2";
const R_IF_MODIFIED_SINCE: &str = "RFC 9110 §13.1.3";
const R_IF_RANGE: &str = "RFC 9110 §13.1.5";
const R_ORDER: &str = "RFC 9110 §13.2.2";
const R_NOT_MODIFIED: &str = "RFC 9110 §15.4.5";
const R_CONTENT_LENGTH: &str = "RFC 9110 §8.6";
const R_CODED_TAGS: &str = "RFC 9110 §8.8.3.3";
const R_VARY: &str = "RFC 9110 §12.5.5";
const R_PRECONDITION_FAILED: &str = "RFC 9110 §15.5.13";
const R_PRECONDITION_REQUIRED: &str = "RFC 6585 §3";

/// An audit of one route: what to request, and whether to write.
///
/// Built with [`Audit::new`] and the setters, run with [`Audit::run`]; it can run against
/// several services.
///
/// ```
/// use axum::{Router, routing::get};
/// use http::{HeaderValue, header};
/// use tower_conditional::ConditionalLayer;
/// use tower_conditional::audit::Audit;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let audit = Audit::new("/report")
///     .header(header::AUTHORIZATION, HeaderValue::from_static("Bearer test-token"));
/// let app = Router::new()
///     .route("/report", get(|| async { ([(header::CACHE_CONTROL, "no-cache")], "report") }))
///     .layer(ConditionalLayer::new());
/// audit.run(app).await.assert_clean();
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Audit {
    path: String,
    write: Option<(Method, Bytes)>,
    requires_preconditions: bool,
    headers: Vec<(HeaderName, HeaderValue)>,
    races: usize,
}

impl Audit {
    /// An audit of the route at `path` (the request target, e.g. `/items/1?lang=en`), reads
    /// only.
    ///
    /// ```
    /// use tower_conditional::audit::Audit;
    ///
    /// let audit = Audit::new("/items/1");
    /// # let _ = audit;
    /// ```
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            write: None,
            requires_preconditions: false,
            headers: Vec::new(),
            races: DEFAULT_RACES,
        }
    }

    /// Also audits writes, with this sample write: `method` with `body` as its content. It
    /// **changes the resource**, several times (up to `2 × races + 6` writes): audit a
    /// resource made for the test. It must be repeatable and leave the resource in place (a
    /// `PUT`, `PATCH` or `POST` to it, not a `DELETE`), and each write that succeeds should
    /// change its tag (a version that counts writes, or a body that changes), or the
    /// concurrent-writers check cannot tell a lost update from a repeated one and is skipped.
    /// Set its `Content-Type` with [`Audit::header`].
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use axum::{Router, extract::State, routing::get};
    /// use http::{HeaderMap, StatusCode, header};
    /// use tower_conditional::ConditionalLayer;
    /// use tower_conditional::audit::Audit;
    ///
    /// // A counter whose version is its ETag; a PUT with the current tag bumps it.
    /// type Version = Arc<Mutex<u64>>;
    /// fn tag(version: u64) -> String { format!("\"v{version}\"") }
    ///
    /// async fn show(State(version): State<Version>) -> ([(header::HeaderName, String); 1], String) {
    ///     let version = *version.lock().unwrap();
    ///     ([(header::ETAG, tag(version))], format!("version {version}"))
    /// }
    ///
    /// async fn update(State(version): State<Version>, headers: HeaderMap) -> StatusCode {
    ///     let mut version = version.lock().unwrap(); // check and write under one lock
    ///     if headers.contains_key(header::IF_NONE_MATCH) {
    ///         return StatusCode::PRECONDITION_FAILED; // If-None-Match: *: it exists
    ///     }
    ///     match headers.get(header::IF_MATCH) {
    ///         Some(held) if *held == tag(*version) => {
    ///             *version += 1;
    ///             StatusCode::NO_CONTENT
    ///         }
    ///         Some(_) => StatusCode::PRECONDITION_FAILED,
    ///         None => StatusCode::PRECONDITION_REQUIRED,
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app = Router::new()
    ///     .route("/counter", get(show).put(update))
    ///     .with_state(Version::default())
    ///     .layer(ConditionalLayer::new());
    /// Audit::new("/counter")
    ///     .write(http::Method::PUT, "+1")
    ///     .requires_preconditions(true)
    ///     .run(app)
    ///     .await
    ///     .assert_clean();
    /// # }
    /// ```
    pub fn write(mut self, method: Method, body: impl Into<Bytes>) -> Self {
        self.write = Some((method, body.into()));
        self
    }

    /// Whether a write without any precondition must be refused with `428 Precondition
    /// Required` (RFC 6585 §3), as [`ConditionalLayer::require_preconditions`] does. Off by
    /// default: the unconditional write is then not sent at all. Needs [`Audit::write`].
    ///
    /// [`ConditionalLayer::require_preconditions`]: crate::ConditionalLayer::require_preconditions
    ///
    /// ```
    /// use tower_conditional::audit::Audit;
    ///
    /// let audit = Audit::new("/items/1")
    ///     .write(http::Method::PATCH, r#"{"done":true}"#)
    ///     .requires_preconditions(true);
    /// # let _ = audit;
    /// ```
    pub fn requires_preconditions(mut self, required: bool) -> Self {
        self.requires_preconditions = required;
        self
    }

    /// Adds `name: value` to every request the audit sends: credentials, a cookie, the
    /// `Content-Type` of the sample write. A header the check itself sets (`Accept-Encoding`,
    /// the preconditions, `Range`) replaces one of the same name. Never shown in findings.
    ///
    /// ```
    /// use http::{HeaderValue, header};
    /// use tower_conditional::audit::Audit;
    ///
    /// let audit = Audit::new("/items/1")
    ///     .header(header::AUTHORIZATION, HeaderValue::from_static("Bearer test-token"))
    ///     .header(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    /// # let _ = audit;
    /// ```
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// How many times two writers race with the same `If-Match` (default 5). Each round is two
    /// concurrent writes and a `GET`. Needs [`Audit::write`]; `0` skips the check.
    ///
    /// ```
    /// use tower_conditional::audit::Audit;
    ///
    /// let audit = Audit::new("/items/1").write(http::Method::PUT, "{}").races(50);
    /// # let _ = audit;
    /// ```
    pub fn races(mut self, rounds: usize) -> Self {
        self.races = rounds;
        self
    }

    /// Runs the audit against `service` and reports what it found. Calls `service` once per
    /// request, each after `poll_ready`, one request at a time, except the two concurrent
    /// writers, which go to two clones of it.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use http::header;
    /// use tower_conditional::audit::Audit;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // An ETag, and no conditional handling at all.
    /// let app: Router = Router::new().route(
    ///     "/page",
    ///     get(|| async { ([(header::ETAG, "\"v1\"")], "page") }),
    /// );
    /// let report = Audit::new("/page").run(app).await;
    /// assert!(!report.is_clean());
    /// assert!(report.findings().iter().any(|finding| finding.check() == "if-none-match"));
    /// # }
    /// ```
    pub async fn run<S, B>(&self, service: S) -> Report
    where
        S: Service<Request<Full<Bytes>>, Response = Response<B>> + Clone,
        S::Error: Into<BoxError>,
        B: Body,
        B::Error: Into<BoxError>,
    {
        let mut runner = Runner {
            audit: self,
            service,
            findings: Vec::new(),
            skipped: Vec::new(),
        };
        runner.all().await;
        Report {
            path: self.path.clone(),
            findings: runner.findings,
            skipped: runner.skipped,
        }
    }
}

/// What an [`Audit`] found: every [`Finding`], and the checks that did not run.
///
/// ```
/// use axum::{Router, routing::get};
/// use tower_conditional::ConditionalLayer;
/// use tower_conditional::audit::Audit;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = Router::new()
///     .route("/", get(|| async { "home" }))
///     .layer(ConditionalLayer::new());
/// let report = Audit::new("/").run(app).await;
/// assert!(report.is_clean(), "{report}");
/// assert_eq!(report.findings().len(), 0);
/// // No compression and no ranges here: those checks had nothing to check.
/// assert!(report.skipped().iter().any(|why| why.starts_with("strong-tag-per-coding")));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Report {
    path: String,
    findings: Vec<Finding>,
    skipped: Vec<String>,
}

impl Report {
    /// Every finding, in the order the checks ran.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use http::header;
    /// use tower_conditional::audit::Audit;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new().route("/", get(|| async { ([(header::ETAG, "\"v1\"")], "home") }));
    /// let report = Audit::new("/").run(app).await;
    /// let first = &report.findings()[0];
    /// assert_eq!(first.rule(), "RFC 9110 §13.1.2");
    /// # }
    /// ```
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Whether the audit found nothing.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use tower_conditional::ConditionalLayer;
    /// use tower_conditional::audit::Audit;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app = Router::new().route("/", get(|| async { "home" })).layer(ConditionalLayer::new());
    /// assert!(Audit::new("/").run(app).await.is_clean());
    /// # }
    /// ```
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// The checks that did not run, each as `check: why` (`if-range: the 200 does not say
    /// Accept-Ranges: bytes`). Not findings: the route gave them nothing to check.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use tower_conditional::ConditionalLayer;
    /// use tower_conditional::audit::Audit;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app = Router::new().route("/", get(|| async { "home" })).layer(ConditionalLayer::new());
    /// let report = Audit::new("/").run(app).await;
    /// assert!(report.skipped().iter().any(|why| why.starts_with("if-range:")));
    /// # }
    /// ```
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// Panics unless the audit found nothing, with a message listing every finding: the
    /// assertion for tests.
    ///
    /// ```should_panic
    /// use axum::{Router, routing::get};
    /// use http::header;
    /// use tower_conditional::audit::Audit;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // A tag and no conditional handling: "RFC 9110 §13.1.2: if-none-match: GET / (…) → 200 OK …"
    /// let app: Router = Router::new().route("/", get(|| async { ([(header::ETAG, "\"v1\"")], "home") }));
    /// Audit::new("/").run(app).await.assert_clean();
    /// # }
    /// ```
    #[track_caller]
    #[allow(clippy::panic)] // The assertion is the point.
    pub fn assert_clean(&self) {
        if !self.is_clean() {
            panic!(
                "the audit of {} found {} problem(s):\n{}",
                self.path,
                self.findings.len(),
                self
            );
        }
    }
}

/// One finding per line, each starting with its rule.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, finding) in self.findings.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{finding}")?;
        }
        Ok(())
    }
}

/// One thing a route did that the rule it names forbids, or did not do that it requires.
///
/// Displayed on one line: `rule: check: sent → received; expected: …`.
///
/// ```
/// use axum::{Router, routing::get};
/// use http::header;
/// use tower_conditional::audit::Audit;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app: Router = Router::new().route("/", get(|| async { ([(header::ETAG, "\"v1\"")], "home") }));
/// let report = Audit::new("/").run(app).await;
/// let finding = &report.findings()[0];
/// assert_eq!(finding.check(), "if-none-match");
/// assert_eq!(finding.sent(), "GET / (Accept-Encoding: identity, If-None-Match: \"v1\")");
/// assert!(finding.received().starts_with("200 OK"));
/// assert!(finding.to_string().starts_with("RFC 9110 §13.1.2: if-none-match: GET /"));
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    rule: &'static str,
    check: &'static str,
    sent: String,
    received: String,
    expected: String,
}

impl Finding {
    fn new(
        rule: &'static str,
        check: &'static str,
        sent: impl Into<String>,
        received: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Self {
            rule,
            check,
            sent: one_line(sent.into()),
            received: one_line(received.into()),
            expected: one_line(expected.into()),
        }
    }

    /// The rule broken: `RFC 9110 §15.4.5`, `RFC 6585 §3`, …
    ///
    /// ```
    /// # use axum::{Router, routing::get};
    /// # use http::header;
    /// # use tower_conditional::audit::Audit;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let app: Router = Router::new().route("/", get(|| async { ([(header::ETAG, "\"v1\"")], "home") }));
    /// let report = Audit::new("/").run(app).await;
    /// assert!(report.findings().iter().all(|finding| finding.rule().starts_with("RFC ")));
    /// # }
    /// ```
    pub fn rule(&self) -> &str {
        self.rule
    }

    /// The check's short name (`304-fields`, `lost-update`, …; the module documentation lists
    /// them), stable for tests to match on.
    ///
    /// ```
    /// # use axum::{Router, routing::get};
    /// # use http::header;
    /// # use tower_conditional::audit::Audit;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let app: Router = Router::new().route("/", get(|| async { ([(header::ETAG, "\"v1\"")], "home") }));
    /// let report = Audit::new("/").run(app).await;
    /// assert!(report.findings().iter().any(|finding| finding.check() == "weak-comparison"));
    /// # }
    /// ```
    pub fn check(&self) -> &str {
        self.check
    }

    /// What was sent: the method, the target, and the headers the check set (never those
    /// given with [`Audit::header`]).
    ///
    /// ```
    /// # use axum::{Router, routing::get};
    /// # use http::header;
    /// # use tower_conditional::audit::Audit;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let app: Router = Router::new().route("/", get(|| async { ([(header::ETAG, "\"v1\"")], "home") }));
    /// let report = Audit::new("/").run(app).await;
    /// assert!(report.findings()[0].sent().starts_with("GET / ("));
    /// # }
    /// ```
    pub fn sent(&self) -> &str {
        &self.sent
    }

    /// What came back: the status and the fields that matter to the check.
    ///
    /// ```
    /// # use axum::{Router, routing::get};
    /// # use http::header;
    /// # use tower_conditional::audit::Audit;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let app: Router = Router::new().route("/", get(|| async { ([(header::ETAG, "\"v1\"")], "home") }));
    /// let report = Audit::new("/").run(app).await;
    /// assert!(report.findings()[0].received().starts_with("200 OK"));
    /// # }
    /// ```
    pub fn received(&self) -> &str {
        &self.received
    }

    /// What the rule requires instead.
    ///
    /// ```
    /// # use axum::{Router, routing::get};
    /// # use http::header;
    /// # use tower_conditional::audit::Audit;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let app: Router = Router::new().route("/", get(|| async { ([(header::ETAG, "\"v1\"")], "home") }));
    /// let report = Audit::new("/").run(app).await;
    /// assert!(report.findings()[0].expected().contains("304"));
    /// # }
    /// ```
    pub fn expected(&self) -> &str {
        &self.expected
    }
}

/// `rule: check: sent → received; expected: expected`, on one line.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {} → {}; expected: {}",
            self.rule, self.check, self.sent, self.received, self.expected
        )
    }
}

fn one_line(text: String) -> String {
    if text.contains(['\n', '\r']) {
        text.replace(['\n', '\r'], " ")
    } else {
        text
    }
}

// ---------------------------------------------------------------------------------------------
// Requests and answers.

/// A request a check sends: the method, the headers the check sets, the content.
#[derive(Clone, Debug)]
struct Probe {
    method: Method,
    headers: Vec<(HeaderName, String)>,
    body: Bytes,
}

impl Probe {
    fn new(method: Method) -> Self {
        Self {
            method,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A GET of the identity bytes.
    fn get() -> Self {
        Self::new(Method::GET).with(header::ACCEPT_ENCODING, "identity")
    }

    fn head() -> Self {
        Self::new(Method::HEAD).with(header::ACCEPT_ENCODING, "identity")
    }

    fn gzip() -> Self {
        Self::new(Method::GET).with(header::ACCEPT_ENCODING, "gzip")
    }

    /// Sets `name` (replacing any value the probe had for it).
    fn with(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.retain(|(other, _)| *other != name);
        self.headers.push((name, value.into()));
        self
    }

    fn body(mut self, body: Bytes) -> Self {
        self.body = body;
        self
    }

    /// `GET /path (Accept-Encoding: identity, If-None-Match: "x")`.
    fn describe(&self, path: &str) -> String {
        let mut parts: Vec<String> = self
            .headers
            .iter()
            .map(|(name, value)| format!("{}: {value}", title_case(name.as_str())))
            .collect();
        if !self.body.is_empty() {
            parts.push(format!("{}-byte body", self.body.len()));
        }
        if parts.is_empty() {
            format!("{} {path}", self.method)
        } else {
            format!("{} {path} ({})", self.method, parts.join(", "))
        }
    }
}

/// `if-none-match` → `If-None-Match` (and `etag` → `ETag`).
fn title_case(name: &str) -> String {
    if name == "etag" {
        return "ETag".to_owned();
    }
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// An answer, its body read.
#[derive(Clone, Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    /// The first `name` field, if it is text.
    fn header(&self, name: &HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The `ETag`, if there is one and it parses.
    fn tag(&self) -> Option<EntityTag> {
        self.header(&header::ETAG)?.trim().parse().ok()
    }

    /// The `Vary` tokens, lowercased, without repeats, in order.
    fn vary(&self) -> Vec<String> {
        let mut tokens: Vec<String> = Vec::new();
        for value in self.headers.get_all(header::VARY) {
            let Ok(value) = value.to_str() else { continue };
            for token in value.split(',') {
                let token = token.trim().to_ascii_lowercase();
                if !token.is_empty() && !tokens.contains(&token) {
                    tokens.push(token);
                }
            }
        }
        tokens
    }

    fn varies_by_coding(&self) -> bool {
        self.vary()
            .iter()
            .any(|token| token == "accept-encoding" || token == "*")
    }

    fn coded(&self) -> bool {
        self.header(&header::CONTENT_ENCODING)
            .is_some_and(|coding| !coding.trim().eq_ignore_ascii_case("identity"))
    }

    /// `304 Not Modified, 0-byte body`, then `Name: value` of each of `names` it has (`no
    /// Name` for those it lacks).
    fn describe(&self, names: &[HeaderName]) -> String {
        let mut parts = vec![format!("{}, {}-byte body", self.status, self.body.len())];
        for name in names {
            let values: Vec<&str> = self
                .headers
                .get_all(name)
                .iter()
                .map(|value| value.to_str().unwrap_or("(not text)"))
                .collect();
            if values.is_empty() {
                parts.push(format!("no {}", title_case(name.as_str())));
            } else {
                parts.push(format!(
                    "{}: {}",
                    title_case(name.as_str()),
                    values.join(", ")
                ));
            }
        }
        parts.join(", ")
    }
}

/// Sends `request` once `service` is ready, and reads the whole answer (at most
/// [`BODY_LIMIT`] bytes).
async fn exchange<S, B>(service: &mut S, request: Request<Full<Bytes>>) -> Result<Reply, String>
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
{
    poll_fn(|cx| service.poll_ready(cx))
        .await
        .map_err(|error| format!("the service was not ready: {}", chain(&error.into())))?;
    let response = service
        .call(request)
        .await
        .map_err(|error| format!("the service failed: {}", chain(&error.into())))?;
    let (parts, body) = response.into_parts();
    let body = Limited::new(body, BODY_LIMIT)
        .collect()
        .await
        .map_err(|error| {
            let why = if error.is::<LengthLimitError>() {
                format!(
                    "it is longer than the {} MiB the audit reads",
                    BODY_LIMIT >> 20
                )
            } else {
                format!("it failed: {}", chain(&error))
            };
            format!("{}, and then the body: {why}", parts.status)
        })?
        .to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

/// An error and its sources: `client error (Connect): tcp connect error: Connection refused`.
fn chain(error: &BoxError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Polls both futures on this task until both are done: two requests in flight at once,
/// without a runtime to spawn them on.
async fn join<A: Future, C: Future>(a: A, c: C) -> (A::Output, C::Output) {
    let mut a = pin!(a);
    let mut c = pin!(c);
    let mut out_a = None;
    let mut out_c = None;
    poll_fn(|cx| {
        if out_a.is_none()
            && let Poll::Ready(output) = a.as_mut().poll(cx)
        {
            out_a = Some(output);
        }
        if out_c.is_none()
            && let Poll::Ready(output) = c.as_mut().poll(cx)
        {
            out_c = Some(output);
        }
        match (out_a.take(), out_c.take()) {
            (Some(a), Some(c)) => Poll::Ready((a, c)),
            (a, c) => {
                out_a = a;
                out_c = c;
                Poll::Pending
            }
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The checks: each looks at what came back and says what is wrong with it.

/// Whether `held` names the same version as `current`: the same tag, its other strength, or
/// one of them the coded tag of the other (`"x-gzip"` and `"x"`, RFC 9110 §8.8.3.3).
fn same_version(held: &EntityTag, current: &EntityTag) -> bool {
    fn coded_of(coded: &[u8], plain: &[u8]) -> bool {
        coded
            .strip_prefix(plain)
            .and_then(|rest| rest.strip_prefix(b"-"))
            .is_some_and(|coding| CODINGS.iter().any(|name| name.as_bytes() == coding))
    }
    held.weak_eq(current)
        || coded_of(held.opaque(), current.opaque())
        || coded_of(current.opaque(), held.opaque())
}

/// RFC 9110 §15.4.5: a 304 carries each of these fields the 200 would carry.
fn kept_on_304() -> [HeaderName; 6] {
    [
        header::CACHE_CONTROL,
        header::CONTENT_LOCATION,
        header::DATE,
        header::ETAG,
        header::EXPIRES,
        header::VARY,
    ]
}

/// Fields that describe content, which a 304 has none of.
fn content_fields() -> [HeaderName; 4] {
    [
        header::CONTENT_ENCODING,
        header::CONTENT_TYPE,
        header::CONTENT_RANGE,
        header::TRANSFER_ENCODING,
    ]
}

/// A `304` against the `200` it stands for (RFC 9110 §15.4.5): the `200`'s `Cache-Control`,
/// `Content-Location`, `Date`, `ETag`, `Expires` and `Vary` all there, `ETag` and `Vary`
/// unchanged (the `ETag` may be `sent_tag`, the tag the client sent, when that names the same
/// version); no body and no content fields; `Content-Length` only the `200`'s body length
/// (§8.6). `full_length`: the length of the `200`'s body (a HEAD's `200` has none).
fn not_modified_contents(
    sent: &str,
    full: &Reply,
    full_length: usize,
    not_modified: &Reply,
    sent_tag: Option<&EntityTag>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut problems = Vec::new();
    for name in kept_on_304() {
        if full.headers.contains_key(&name) && !not_modified.headers.contains_key(&name) {
            problems.push(format!(
                "no {} (the 200 has {})",
                title_case(name.as_str()),
                full.header(&name).unwrap_or("it")
            ));
        }
    }
    if let (Some(full_value), Some(value)) = (
        full.header(&header::ETAG),
        not_modified.header(&header::ETAG),
    ) {
        let acceptable = full_value == value
            || match (value.parse::<EntityTag>(), full.tag(), sent_tag) {
                (Ok(named), Some(current), Some(sent)) => {
                    named == *sent && same_version(sent, &current)
                }
                _ => false,
            };
        if !acceptable {
            problems.push(format!("ETag: {value} (the 200 has {full_value})"));
        }
    }
    if full.headers.contains_key(header::VARY) && not_modified.headers.contains_key(header::VARY) {
        let (mut was, mut is) = (full.vary(), not_modified.vary());
        was.sort();
        is.sort();
        if was != is {
            problems.push(format!(
                "Vary: {} (the 200 has {})",
                is.join(", "),
                was.join(", ")
            ));
        }
    }
    if !problems.is_empty() {
        findings.push(Finding::new(
            R_NOT_MODIFIED,
            "304-fields",
            sent,
            format!("{}: {}", not_modified.status, problems.join(", ")),
            "the 304 carries every Cache-Control, Content-Location, Date, ETag, Expires and Vary \
             field the 200 carries, ETag and Vary unchanged",
        ));
    }

    let mut content = Vec::new();
    for name in content_fields() {
        if let Some(value) = not_modified.header(&name) {
            content.push(format!("{}: {value}", title_case(name.as_str())));
        }
    }
    if !not_modified.body.is_empty() {
        content.push(format!("a {}-byte body", not_modified.body.len()));
    }
    if !content.is_empty() {
        findings.push(Finding::new(
            R_NOT_MODIFIED,
            "304-content",
            sent,
            format!("{} with {}", not_modified.status, content.join(", ")),
            "a 304 without content: no body, Content-Encoding, Content-Type, Content-Range or \
             Transfer-Encoding",
        ));
    }
    if let Some(length) = not_modified.header(&header::CONTENT_LENGTH)
        && length.trim() != full_length.to_string()
    {
        findings.push(Finding::new(
            R_CONTENT_LENGTH,
            "304-content",
            sent,
            format!(
                "{} with Content-Length: {length} (the 200's body is {full_length} bytes)",
                not_modified.status
            ),
            "no Content-Length on a 304, or the 200's",
        ));
    }
    findings
}

/// A revalidation that must give a 304.
fn revalidated(rule: &'static str, check: &'static str, sent: &str, reply: &Reply) -> Vec<Finding> {
    if reply.status == StatusCode::NOT_MODIFIED {
        return Vec::new();
    }
    vec![Finding::new(
        rule,
        check,
        sent,
        reply.describe(&[header::ETAG]),
        "304 Not Modified: the client's copy is current",
    )]
}

/// A request whose precondition lets it through to the whole `200` (same body as `full`).
fn whole(
    rule: &'static str,
    check: &'static str,
    sent: &str,
    full: &Reply,
    reply: &Reply,
    expected: &str,
) -> Vec<Finding> {
    if reply.status != StatusCode::OK {
        return vec![Finding::new(
            rule,
            check,
            sent,
            reply.describe(&[header::ETAG]),
            expected,
        )];
    }
    if reply.body != full.body {
        return vec![Finding::new(
            rule,
            check,
            sent,
            format!(
                "{}, {}-byte body, not the {}-byte body of the 200",
                reply.status,
                reply.body.len(),
                full.body.len()
            ),
            expected,
        )];
    }
    Vec::new()
}

/// A request that must not be performed: `412 Precondition Failed` (or `expected`).
fn refused(
    rule: &'static str,
    check: &'static str,
    sent: &str,
    reply: &Reply,
    expected: StatusCode,
    why: &str,
) -> Vec<Finding> {
    if reply.status == expected {
        return Vec::new();
    }
    let rule = if reply.status.is_success() || expected != StatusCode::PRECONDITION_FAILED {
        rule
    } else {
        // Refused, with the wrong status (a 409, a 400).
        R_PRECONDITION_FAILED
    };
    vec![Finding::new(
        rule,
        check,
        sent,
        reply.describe(&[header::ETAG]),
        format!("{expected}: {why}"),
    )]
}

/// HEAD against GET (RFC 9110 §9.3.2): the same status, the same validators where HEAD has
/// them (never a tag GET lacks, such as the tag of an empty body), no body.
fn head_agrees(sent: &str, get: &Reply, head: &Reply) -> Vec<Finding> {
    let mut problems = Vec::new();
    if head.status != get.status {
        problems.push(format!("status {} (GET: {})", head.status, get.status));
    }
    for name in [header::ETAG, header::LAST_MODIFIED] {
        match (get.header(&name), head.header(&name)) {
            (Some(on_get), Some(on_head)) if on_get != on_head => problems.push(format!(
                "{}: {on_head} (GET: {on_get})",
                title_case(name.as_str())
            )),
            (None, Some(on_head)) => problems.push(format!(
                "{}: {on_head} (GET has none)",
                title_case(name.as_str())
            )),
            _ => {}
        }
    }
    if !head.body.is_empty() {
        problems.push(format!("a {}-byte body", head.body.len()));
    }
    if problems.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        R_HEAD,
        "head",
        sent,
        format!("{}: {}", head.status, problems.join(", ")),
        "GET's status and header fields (validators only GET's, or none), and no body",
    )]
}

/// The gzip and identity answers of one resource (both `200`, the gzip one content-coded):
/// no strong tag names both byte sequences (RFC 9110 §8.8.3.3), and both say they vary by
/// `Accept-Encoding` (§12.5.5).
fn codings(path: &str, identity: &Reply, gzip: &Reply) -> Vec<Finding> {
    let mut findings = Vec::new();
    let sent =
        format!("GET {path} (Accept-Encoding: gzip), GET {path} (Accept-Encoding: identity)");
    if let (Some(identity_tag), Some(gzip_tag)) = (identity.tag(), gzip.tag())
        && identity_tag.strong_eq(&gzip_tag)
    {
        findings.push(Finding::new(
            R_CODED_TAGS,
            "strong-tag-per-coding",
            &sent,
            format!(
                "the strong tag {gzip_tag} on the gzip bytes ({} bytes, Content-Encoding: {}) \
                     and on the identity bytes ({} bytes)",
                gzip.body.len(),
                gzip.header(&header::CONTENT_ENCODING).unwrap_or("?"),
                identity.body.len()
            ),
            "a strong tag names one sequence of bytes: a tag of the gzip bytes' own (such \
                 as the coded tag \"x-gzip\"), or a weak one",
        ));
    }
    for (which, reply) in [("gzip", gzip), ("identity", identity)] {
        if !reply.varies_by_coding() {
            findings.push(Finding::new(
                R_VARY,
                "vary",
                format!("GET {path} (Accept-Encoding: {which})"),
                reply.describe(&[header::CONTENT_ENCODING, header::VARY]),
                "Vary naming accept-encoding: the answer depends on it",
            ));
        }
    }
    findings
}

/// A range under `If-Range` naming the current tag (RFC 9110 §13.1.5): the `206` of the first
/// bytes of the `200`.
fn range_of(sent: &str, full: &Reply, reply: &Reply) -> Vec<Finding> {
    let length = full.body.len();
    let end = length.min(10);
    let expected_range = format!("bytes 0-{}/{length}", end.saturating_sub(1));
    let expected = format!(
        "206 Partial Content with the first {end} bytes of the 200 (Content-Range: {expected_range})"
    );
    let first = full.body.get(..end).unwrap_or_default();
    let content_range = reply.header(&header::CONTENT_RANGE).map(str::trim);
    if reply.status != StatusCode::PARTIAL_CONTENT
        || reply.body != first
        || content_range != Some(expected_range.as_str())
    {
        return vec![Finding::new(
            R_IF_RANGE,
            "if-range",
            sent,
            reply.describe(&[header::CONTENT_RANGE, header::ETAG]),
            expected,
        )];
    }
    Vec::new()
}

/// After a refused write: the resource as it was.
fn unchanged(
    rule: &'static str,
    check: &'static str,
    sent: &str,
    refusal: &Reply,
    before: &Reply,
    after: &Reply,
) -> Vec<Finding> {
    if after.status == before.status
        && after.header(&header::ETAG) == before.header(&header::ETAG)
        && after.body == before.body
    {
        return Vec::new();
    }
    vec![Finding::new(
        rule,
        check,
        sent,
        format!(
            "{}, but the next GET gives {} (before: {})",
            refusal.status,
            after.describe(&[header::ETAG]),
            before.describe(&[header::ETAG])
        ),
        "a refused write writes nothing",
    )]
}

// ---------------------------------------------------------------------------------------------
// The run.

struct Runner<'a, S> {
    audit: &'a Audit,
    service: S,
    findings: Vec<Finding>,
    skipped: Vec<String>,
}

impl<S, B> Runner<'_, S>
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
{
    fn sent(&self, probe: &Probe) -> String {
        probe.describe(&self.audit.path)
    }

    fn skip(&mut self, check: &str, why: impl fmt::Display) {
        self.skipped.push(format!("{check}: {why}"));
    }

    /// Skips the checks only a sample write runs, from `first` on: the resource lost its strong
    /// tag on the way, so there is no version left to write with.
    fn skip_writes_from(&mut self, first: &str) {
        // In the order `write_checks` runs them; `if-match-weak` and `if-match` are read checks
        // too, which ran.
        const WRITES: [&str; 6] = [
            "stale-write",
            "if-match-weak",
            "if-none-match-star",
            "if-match",
            "gzip-write",
            "lost-update",
        ];
        let from = WRITES.iter().position(|check| *check == first).unwrap_or(0);
        for check in WRITES.iter().skip(from) {
            if !check.starts_with("if-match") {
                self.skip(check, "the resource has no strong ETag any more");
            }
        }
    }

    fn found(&mut self, findings: Vec<Finding>) {
        self.findings.extend(findings);
    }

    fn request(&self, probe: &Probe) -> Result<Request<Full<Bytes>>, String> {
        let mut request = Request::builder()
            .method(probe.method.clone())
            .uri(self.audit.path.as_str())
            .body(Full::new(probe.body.clone()))
            .map_err(|error| format!("the audit could not build the request: {error}"))?;
        let headers = request.headers_mut();
        for (name, value) in &self.audit.headers {
            headers.append(name.clone(), value.clone());
        }
        for (name, value) in &probe.headers {
            let value = HeaderValue::from_str(value)
                .map_err(|error| format!("the audit could not build the request: {error}"))?;
            headers.insert(name.clone(), value);
        }
        Ok(request)
    }

    /// Sends `probe`; a failure is a `no-response` finding, and `None`.
    async fn send(&mut self, probe: &Probe) -> Option<Reply> {
        let result = match self.request(probe) {
            Ok(request) => exchange(&mut self.service, request).await,
            Err(error) => Err(error),
        };
        match result {
            Ok(reply) => Some(reply),
            Err(error) => {
                let sent = self.sent(probe);
                self.found(vec![Finding::new(
                    R_RESPONSE,
                    "no-response",
                    sent,
                    error,
                    "a complete response",
                )]);
                None
            }
        }
    }

    /// Sends `probe`, which must give a 304; with `against` (the 200, the length of its body,
    /// the tag the client sent), what the 304 carries is checked too.
    async fn expect_304(
        &mut self,
        probe: &Probe,
        rule: &'static str,
        check: &'static str,
        against: Option<(&Reply, usize, Option<&EntityTag>)>,
    ) {
        let Some(reply) = self.send(probe).await else {
            return;
        };
        let sent = self.sent(probe);
        let wrong = revalidated(rule, check, &sent, &reply);
        if !wrong.is_empty() {
            self.found(wrong);
        } else if let Some((full, length, sent_tag)) = against {
            self.found(not_modified_contents(&sent, full, length, &reply, sent_tag));
        }
    }

    /// Sends `probe`, whose answer must be the whole 200 that `full` is ([`whole`]).
    async fn expect_whole(
        &mut self,
        probe: &Probe,
        rule: &'static str,
        check: &'static str,
        full: &Reply,
        expected: &str,
    ) {
        let Some(reply) = self.send(probe).await else {
            return;
        };
        let sent = self.sent(probe);
        self.found(whole(rule, check, &sent, full, &reply, expected));
    }

    async fn all(&mut self) {
        let Some(full) = self.send(&Probe::get()).await else {
            return;
        };
        if full.status != StatusCode::OK {
            let sent = self.sent(&Probe::get());
            self.found(vec![Finding::new(
                R_GET,
                "first-get",
                sent,
                full.describe(&[]),
                "200 OK: the audit learns the route's validators from it, and checks nothing \
                 else without it",
            )]);
            return;
        }
        let tag = self.validators(&full);
        let modified = full
            .header(&header::LAST_MODIFIED)
            .and_then(|date| httpdate::parse_http_date(date.trim()).ok());

        if let Some(tag) = &tag {
            self.tag_checks(&full, tag).await;
        } else {
            for check in ["if-none-match", "weak-comparison", "if-match-weak"] {
                self.skip(check, "the 200 has no ETag");
            }
        }
        if let Some(modified) = modified {
            self.date_checks(&full, tag.as_ref(), modified).await;
        } else {
            self.skip("if-modified-since", "the 200 has no Last-Modified");
        }
        self.head_checks(&full).await;
        let gzip = self.coding_checks(&full).await;
        self.range_checks(&full, tag.as_ref()).await;
        if self.audit.write.is_some() {
            self.write_checks(full, gzip).await;
        } else {
            self.skip("writes", "no sample write (Audit::write)");
        }
    }

    /// The 200's `ETag`, if well-formed; a finding for a malformed one or no validator at all.
    fn validators(&mut self, full: &Reply) -> Option<EntityTag> {
        let sent = self.sent(&Probe::get());
        let tags = full.headers.get_all(header::ETAG).iter().count();
        if tags > 1 {
            self.found(vec![Finding::new(
                R_ETAG,
                "validators",
                &sent,
                format!("{} with {tags} ETag fields", full.status),
                "one ETag field",
            )]);
        }
        let tag = match full.header(&header::ETAG) {
            None => None,
            Some(value) => match value.trim().parse::<EntityTag>() {
                Ok(tag) => Some(tag),
                Err(_) => {
                    self.found(vec![Finding::new(
                        R_ETAG,
                        "validators",
                        &sent,
                        format!("{}, ETag: {value}", full.status),
                        "an entity-tag: a quoted string, W/ before it when weak",
                    )]);
                    None
                }
            },
        };
        let modified = full.header(&header::LAST_MODIFIED);
        if let Some(date) = modified
            && httpdate::parse_http_date(date.trim()).is_err()
        {
            self.found(vec![Finding::new(
                R_LAST_MODIFIED,
                "validators",
                &sent,
                format!("{}, Last-Modified: {date}", full.status),
                "an HTTP-date",
            )]);
        }
        if !full.headers.contains_key(header::ETAG) && modified.is_none() {
            self.found(vec![Finding::new(
                R_VALIDATORS,
                "validators",
                &sent,
                full.describe(&[header::ETAG, header::LAST_MODIFIED]),
                "an ETag or a Last-Modified, so that clients and caches can revalidate",
            )]);
        }
        tag
    }

    /// If-None-Match (the tag, its other form, an unknown tag) and If-Match on GET.
    async fn tag_checks(&mut self, full: &Reply, tag: &EntityTag) {
        let current = tag.to_string();
        let probe = Probe::get().with(header::IF_NONE_MATCH, current.as_str());
        self.expect_304(
            &probe,
            R_IF_NONE_MATCH,
            "if-none-match",
            Some((full, full.body.len(), Some(tag))),
        )
        .await;

        // The weak comparison (RFC 9110 §8.8.3.2): the other strength matches too.
        let other = if tag.is_weak() {
            format!("\"{}\"", String::from_utf8_lossy(tag.opaque()))
        } else {
            weak_form(tag)
        };
        let probe = Probe::get().with(header::IF_NONE_MATCH, other.as_str());
        self.expect_304(&probe, R_IF_NONE_MATCH, "weak-comparison", None)
            .await;

        let probe = Probe::get().with(header::IF_NONE_MATCH, unknown_tag(tag));
        self.expect_whole(
            &probe,
            R_IF_NONE_MATCH,
            "if-none-match",
            full,
            "200 OK with the whole body: the client's tag is not the current one",
        )
        .await;

        // If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches, and the GET
        // must not be performed.
        let weak = weak_form(tag);
        let probe = Probe::get().with(header::IF_MATCH, weak.as_str());
        if let Some(reply) = self.send(&probe).await {
            let sent = self.sent(&probe);
            self.found(refused(
                R_IF_MATCH,
                "if-match-weak",
                &sent,
                &reply,
                StatusCode::PRECONDITION_FAILED,
                "If-Match uses the strong comparison, which a weak tag never passes",
            ));
        }
        if !tag.is_weak() {
            let probe = Probe::get().with(header::IF_MATCH, current.as_str());
            self.expect_whole(
                &probe,
                R_IF_MATCH,
                "if-match",
                full,
                "200 OK: If-Match names the current tag",
            )
            .await;
        }
    }

    /// If-Modified-Since, and its precedence below If-None-Match.
    async fn date_checks(&mut self, full: &Reply, tag: Option<&EntityTag>, modified: SystemTime) {
        let date = httpdate::fmt_http_date(modified);
        let probe = Probe::get().with(header::IF_MODIFIED_SINCE, date.as_str());
        self.expect_304(
            &probe,
            R_IF_MODIFIED_SINCE,
            "if-modified-since",
            Some((full, full.body.len(), None)),
        )
        .await;
        match modified.checked_sub(Duration::from_secs(86_400)) {
            Some(earlier) if earlier > SystemTime::UNIX_EPOCH => {
                let probe =
                    Probe::get().with(header::IF_MODIFIED_SINCE, httpdate::fmt_http_date(earlier));
                self.expect_whole(
                    &probe,
                    R_IF_MODIFIED_SINCE,
                    "if-modified-since",
                    full,
                    "200 OK with the whole body: modified since that date",
                )
                .await;
            }
            _ => self.skip(
                "if-modified-since",
                "the Last-Modified is too close to 1970 for an earlier date",
            ),
        }
        if let Some(tag) = tag {
            let probe = Probe::get()
                .with(header::IF_NONE_MATCH, unknown_tag(tag))
                .with(header::IF_MODIFIED_SINCE, date.as_str());
            self.expect_whole(
                &probe,
                R_ORDER,
                "precedence",
                full,
                "200 OK with the whole body: If-Modified-Since is ignored when the request has \
                 If-None-Match (RFC 9110 §13.1.3)",
            )
            .await;
        } else {
            self.skip("precedence", "the 200 has no ETag");
        }
    }

    /// HEAD as GET, and its revalidation when it carries a tag.
    async fn head_checks(&mut self, full: &Reply) {
        let probe = Probe::head();
        let Some(head) = self.send(&probe).await else {
            return;
        };
        let sent = self.sent(&probe);
        self.found(head_agrees(&sent, full, &head));
        let Some(tag) = head.tag().filter(|_| head.status == StatusCode::OK) else {
            self.skip("head", "HEAD carries no ETag to revalidate with");
            return;
        };
        let probe = Probe::head().with(header::IF_NONE_MATCH, tag.to_string());
        self.expect_304(
            &probe,
            R_IF_NONE_MATCH,
            "head",
            Some((&head, full.body.len(), Some(&tag))),
        )
        .await;
    }

    /// The gzip answer against the identity one; its tag revalidates. Returns the gzip answer
    /// when it was content-coded.
    async fn coding_checks(&mut self, full: &Reply) -> Option<Reply> {
        let probe = Probe::gzip();
        let gzip = self.send(&probe).await?;
        if gzip.status != StatusCode::OK {
            self.skip(
                "strong-tag-per-coding",
                format_args!("the gzip GET got {}", gzip.status),
            );
            return None;
        }
        if !gzip.coded() {
            self.skip(
                "strong-tag-per-coding",
                "the answer to Accept-Encoding: gzip is not content-coded",
            );
            return None;
        }
        let path = self.audit.path.clone();
        self.found(codings(&path, full, &gzip));
        if let Some(tag) = gzip.tag() {
            let probe = Probe::gzip().with(header::IF_NONE_MATCH, tag.to_string());
            self.expect_304(
                &probe,
                R_IF_NONE_MATCH,
                "if-none-match",
                Some((&gzip, gzip.body.len(), Some(&tag))),
            )
            .await;
        } else {
            self.skip("if-none-match", "the gzip answer has no ETag");
        }
        Some(gzip)
    }

    /// If-Range with the current and with an unknown tag.
    async fn range_checks(&mut self, full: &Reply, tag: Option<&EntityTag>) {
        let ranges = full
            .headers
            .get_all(header::ACCEPT_RANGES)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|unit| unit.trim().eq_ignore_ascii_case("bytes"));
        if !ranges {
            self.skip("if-range", "the 200 does not say Accept-Ranges: bytes");
            return;
        }
        let Some(tag) = tag.filter(|tag| !tag.is_weak()) else {
            self.skip(
                "if-range",
                "the 200 has no strong ETag (If-Range needs one)",
            );
            return;
        };
        if full.body.is_empty() {
            self.skip("if-range", "the 200 has no body to take a range of");
            return;
        }
        let probe = Probe::get()
            .with(header::RANGE, "bytes=0-9")
            .with(header::IF_RANGE, tag.to_string());
        if let Some(reply) = self.send(&probe).await {
            let sent = self.sent(&probe);
            self.found(range_of(&sent, full, &reply));
        }
        let probe = Probe::get()
            .with(header::RANGE, "bytes=0-9")
            .with(header::IF_RANGE, unknown_tag(tag));
        self.expect_whole(
            &probe,
            R_IF_RANGE,
            "if-range",
            full,
            "200 OK with the whole body: the range is of another version",
        )
        .await;
    }

    /// A sample write with `probe`'s headers.
    fn write_probe(&self) -> Probe {
        let (method, body) = self
            .audit
            .write
            .clone()
            .unwrap_or((Method::PUT, Bytes::new()));
        Probe::new(method)
            .with(header::ACCEPT_ENCODING, "identity")
            .body(body)
    }

    /// A write that must be refused with `status`, and write nothing. Returns the resource as it
    /// is afterwards, from which the next check starts (a write that went through moved its
    /// tag); `None` when the service gave no answer (a finding of its own).
    async fn refused_write(
        &mut self,
        probe: Probe,
        before: &Reply,
        rule: &'static str,
        check: &'static str,
        status: StatusCode,
        why: &str,
    ) -> Option<Reply> {
        let reply = self.send(&probe).await?;
        let sent = self.sent(&probe);
        self.found(refused(rule, check, &sent, &reply, status, why));
        let after = self.send(&Probe::get()).await?;
        // A write that went through said so: only a refusal must have left it unchanged.
        if !reply.status.is_success() {
            self.found(unchanged(rule, check, &sent, &reply, before, &after));
        }
        Some(after)
    }

    async fn write_checks(&mut self, full: Reply, gzip: Option<Reply>) {
        if full.tag().is_none_or(|tag| tag.is_weak()) {
            let sent = self.sent(&Probe::get());
            self.found(vec![Finding::new(
                R_IF_MATCH,
                "if-match",
                sent,
                full.describe(&[header::ETAG]),
                "a strong ETag, which a write's If-Match can name (a weak tag never matches)",
            )]);
            return;
        }
        let mut current = full;

        if self.audit.requires_preconditions {
            let probe = self.write_probe();
            let Some(after) = self
                .refused_write(
                    probe,
                    &current,
                    R_PRECONDITION_REQUIRED,
                    "precondition-required",
                    StatusCode::PRECONDITION_REQUIRED,
                    "the write names no version, and preconditions are required",
                )
                .await
            else {
                return;
            };
            current = after;
        } else {
            self.skip(
                "precondition-required",
                "preconditions are not required (Audit::requires_preconditions)",
            );
        }

        // Each refusal is checked against the resource as the previous check left it, with
        // its current tag.
        type Value = fn(&EntityTag) -> String;
        let refusals: [(&'static str, &'static str, HeaderName, Value, &str); 3] = [
            (
                R_IF_MATCH,
                "stale-write",
                header::IF_MATCH,
                |tag| unknown_tag(tag).to_owned(),
                "If-Match names a version that is not the current one",
            ),
            (
                R_IF_MATCH,
                "if-match-weak",
                header::IF_MATCH,
                weak_form,
                "If-Match uses the strong comparison, which a weak tag never passes",
            ),
            (
                R_IF_NONE_MATCH,
                "if-none-match-star",
                header::IF_NONE_MATCH,
                |_| "*".to_owned(),
                "If-None-Match: * asks to create, and the resource exists",
            ),
        ];
        for (rule, check, name, value, why) in refusals {
            let Some(tag) = current.tag().filter(|tag| !tag.is_weak()) else {
                self.skip_writes_from(check);
                return;
            };
            let probe = self.write_probe().with(name, value(&tag));
            let status = StatusCode::PRECONDITION_FAILED;
            let Some(after) = self
                .refused_write(probe, &current, rule, check, status, why)
                .await
            else {
                return;
            };
            current = after;
        }

        // A write naming the current version goes through.
        let before = current;
        let Some(tag) = before.tag().filter(|tag| !tag.is_weak()) else {
            self.skip_writes_from("if-match");
            return;
        };
        let probe = self.write_probe().with(header::IF_MATCH, tag.to_string());
        let Some(reply) = self.send(&probe).await else {
            return;
        };
        let sent = self.sent(&probe);
        if !reply.status.is_success() {
            self.found(vec![Finding::new(
                R_IF_MATCH,
                "if-match",
                sent,
                reply.describe(&[header::ETAG]),
                "2xx: If-Match names the current tag, so the write proceeds",
            )]);
            return;
        }
        let Some(after) = self.send(&Probe::get()).await else {
            return;
        };
        let changes = after.header(&header::ETAG) != before.header(&header::ETAG);

        // A client that was sent gzip bytes writes with the tag it holds.
        if gzip.is_some() {
            self.gzip_write().await;
        } else {
            self.skip("gzip-write", "the route sends no content-coded answer");
        }

        if self.audit.races == 0 {
            self.skip("lost-update", "no rounds (Audit::races(0))");
        } else if !changes {
            self.skip(
                "lost-update",
                "a write leaves the tag as it was, so two writes cannot be told from one",
            );
        } else {
            self.races().await;
        }
    }

    async fn gzip_write(&mut self) {
        let Some(gzip) = self.send(&Probe::gzip()).await else {
            return;
        };
        let (Some(tag), true) = (gzip.tag(), gzip.coded()) else {
            self.skip("gzip-write", "the gzip answer has no ETag");
            return;
        };
        let sent = self.sent(&Probe::gzip());
        if tag.is_weak() {
            self.found(vec![Finding::new(
                R_IF_MATCH,
                "gzip-write",
                sent,
                gzip.describe(&[header::CONTENT_ENCODING, header::ETAG]),
                "a strong tag on the gzip bytes (the coded tag \"x-gzip\", RFC 9110 §8.8.3.3): \
                 If-Match compares strongly, so a client holding a weak one can never write",
            )]);
            return;
        }
        let probe = self
            .write_probe()
            .with(header::ACCEPT_ENCODING, "gzip")
            .with(header::IF_MATCH, tag.to_string());
        let Some(reply) = self.send(&probe).await else {
            return;
        };
        if !reply.status.is_success() {
            let sent = self.sent(&probe);
            self.found(vec![Finding::new(
                R_CODED_TAGS,
                "gzip-write",
                sent,
                reply.describe(&[header::ETAG]),
                "2xx: the gzip client's If-Match names the current version",
            )]);
        }
    }

    /// Two writers with one tag, `races` times: never both through.
    async fn races(&mut self) {
        let rounds = self.audit.races;
        let mut both = Vec::new();
        let mut neither = Vec::new();
        let mut sent = String::new();
        // A round that cannot be run ends the rounds; those run so far are still reported.
        for round in 1..=rounds {
            let Some(current) = self.send(&Probe::get()).await else {
                break;
            };
            let Some(tag) = current.tag().filter(|tag| !tag.is_weak()) else {
                if round == 1 {
                    self.skip_writes_from("lost-update");
                }
                break;
            };
            let probe = self.write_probe().with(header::IF_MATCH, tag.to_string());
            sent = format!("two concurrent {}", self.sent(&probe));
            let exchanged = match (self.request(&probe), self.request(&probe)) {
                (Ok(first), Ok(second)) => {
                    let mut a = self.service.clone();
                    let mut b = self.service.clone();
                    match join(exchange(&mut a, first), exchange(&mut b, second)).await {
                        (Ok(first), Ok(second)) => Ok((first, second)),
                        (Err(error), _) | (_, Err(error)) => Err(error),
                    }
                }
                (Err(error), _) | (_, Err(error)) => Err(error),
            };
            let (first, second) = match exchanged {
                Ok(replies) => replies,
                Err(error) => {
                    self.found(vec![Finding::new(
                        R_RESPONSE,
                        "no-response",
                        &sent,
                        error,
                        "a complete response",
                    )]);
                    break;
                }
            };
            let statuses = format!(
                "round {round}: {} and {}",
                first.status.as_u16(),
                second.status.as_u16()
            );
            match (first.status.is_success(), second.status.is_success()) {
                (true, true) => both.push(statuses),
                (false, false) => neither.push(statuses),
                _ => {}
            }
        }
        if !both.is_empty() {
            self.found(vec![Finding::new(
                R_IF_MATCH,
                "lost-update",
                &sent,
                format!(
                    "both writers succeeded in {} of {rounds} rounds ({})",
                    both.len(),
                    both.join("; ")
                ),
                "one 2xx and one 412 each round: the second write names a version the first \
                 replaced, and would lose its update",
            )]);
        }
        if !neither.is_empty() {
            self.found(vec![Finding::new(
                R_IF_MATCH,
                "if-match",
                &sent,
                format!(
                    "neither writer succeeded in {} of {rounds} rounds ({})",
                    neither.len(),
                    neither.join("; ")
                ),
                "one 2xx each round: one of them names the current version",
            )]);
        }
    }
}

/// The weak form of `tag`: `W/"x"` for `"x"` or `W/"x"`.
fn weak_form(tag: &EntityTag) -> String {
    format!("W/\"{}\"", String::from_utf8_lossy(tag.opaque()))
}

/// A tag that names no version of anything: [`UNKNOWN_TAG`], or another if `tag` is that.
fn unknown_tag(tag: &EntityTag) -> &'static str {
    if tag.opaque() == UNKNOWN_TAG.trim_matches('"').as_bytes() {
        "\"tower-conditional-audit-unknown-2\""
    } else {
        UNKNOWN_TAG
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: Bytes::copy_from_slice(body.as_bytes()),
        }
    }

    fn checks(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(Finding::check).collect()
    }

    fn tag(text: &str) -> EntityTag {
        text.parse().unwrap()
    }

    #[test]
    fn what_a_304_must_carry() {
        let full = reply(
            200,
            &[
                ("etag", "\"v1\""),
                ("cache-control", "max-age=60"),
                ("vary", "accept-encoding"),
                ("content-type", "text/plain"),
            ],
            "hello",
        );
        let v1 = tag("\"v1\"");
        // (the 304, the tag the client sent, the checks found)
        let table: [(Reply, Option<&EntityTag>, &[&str]); 7] = [
            (
                reply(
                    304,
                    &[
                        ("etag", "\"v1\""),
                        ("cache-control", "max-age=60"),
                        ("vary", "Accept-Encoding"),
                    ],
                    "",
                ),
                Some(&v1),
                &[],
            ),
            (
                reply(304, &[("etag", "\"v1\""), ("vary", "accept-encoding")], ""),
                Some(&v1),
                &["304-fields"],
            ),
            (
                reply(
                    304,
                    &[
                        ("etag", "\"v2\""),
                        ("cache-control", "max-age=60"),
                        ("vary", "accept-encoding"),
                    ],
                    "",
                ),
                Some(&v1),
                &["304-fields"],
            ),
            (
                reply(
                    304,
                    &[
                        ("etag", "\"v1\""),
                        ("cache-control", "max-age=60"),
                        ("vary", "accept-encoding"),
                        ("content-encoding", "gzip"),
                    ],
                    "",
                ),
                Some(&v1),
                &["304-content"],
            ),
            (
                reply(
                    304,
                    &[
                        ("etag", "\"v1\""),
                        ("cache-control", "max-age=60"),
                        ("vary", "accept-encoding"),
                        ("content-length", "0"),
                    ],
                    "",
                ),
                Some(&v1),
                &["304-content"],
            ),
            (
                reply(
                    304,
                    &[
                        ("etag", "\"v1\""),
                        ("cache-control", "max-age=60"),
                        ("vary", "accept-encoding"),
                        ("content-length", "5"),
                    ],
                    "",
                ),
                Some(&v1),
                &[],
            ),
            (
                reply(
                    304,
                    &[
                        ("etag", "W/\"v1\""),
                        ("cache-control", "max-age=60"),
                        ("vary", "accept-encoding"),
                    ],
                    "",
                ),
                None,
                &["304-fields"],
            ),
        ];
        for (index, (not_modified, sent_tag, expected)) in table.iter().enumerate() {
            let found = not_modified_contents("GET /", &full, 5, not_modified, *sent_tag);
            assert_eq!(checks(&found), *expected, "row {index}: {found:?}");
        }
    }

    #[test]
    fn a_304_may_name_the_form_of_the_tag_the_client_sent() {
        let full = reply(200, &[("etag", "\"v1-gzip\"")], "gzip bytes");
        for sent in ["\"v1\"", "W/\"v1-gzip\"", "\"v1-gzip\""] {
            let sent = tag(sent);
            let not_modified = reply(304, &[("etag", &sent.to_string())], "");
            let found = not_modified_contents("GET /", &full, 10, &not_modified, Some(&sent));
            assert!(found.is_empty(), "{sent}: {found:?}");
        }
        // A tag of another version, even when the client sent it: a forged 304.
        let other = tag("\"v2\"");
        let not_modified = reply(304, &[("etag", "\"v2\"")], "");
        let found = not_modified_contents("GET /", &full, 10, &not_modified, Some(&other));
        assert_eq!(checks(&found), ["304-fields"]);
    }

    #[test]
    fn codings_need_their_own_strong_tags_and_vary() {
        let identity = reply(
            200,
            &[("etag", "\"x\""), ("vary", "accept-encoding")],
            "abc",
        );
        let table: [(Reply, &[&str]); 4] = [
            (
                reply(
                    200,
                    &[
                        ("etag", "\"x-gzip\""),
                        ("content-encoding", "gzip"),
                        ("vary", "accept-encoding"),
                    ],
                    "zz",
                ),
                &[],
            ),
            (
                reply(
                    200,
                    &[
                        ("etag", "\"x\""),
                        ("content-encoding", "gzip"),
                        ("vary", "accept-encoding"),
                    ],
                    "zz",
                ),
                &["strong-tag-per-coding"],
            ),
            (
                reply(
                    200,
                    &[
                        ("etag", "W/\"x\""),
                        ("content-encoding", "gzip"),
                        ("vary", "Accept-Language, Accept-Encoding"),
                    ],
                    "zz",
                ),
                &[],
            ),
            (
                reply(
                    200,
                    &[("etag", "\"y\""), ("content-encoding", "gzip")],
                    "zz",
                ),
                &["vary"],
            ),
        ];
        for (index, (gzip, expected)) in table.iter().enumerate() {
            let found = codings("/", &identity, gzip);
            assert_eq!(checks(&found), *expected, "row {index}: {found:?}");
        }
        let no_vary = reply(200, &[("etag", "\"x\"")], "abc");
        let found = codings("/", &no_vary, &table[0].0);
        assert_eq!(checks(&found), ["vary"]);
    }

    #[test]
    fn head_must_agree_with_get() {
        let get = reply(
            200,
            &[
                ("etag", "\"x\""),
                ("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ],
            "abc",
        );
        let table: [(Reply, bool); 5] = [
            (reply(200, &[("etag", "\"x\"")], ""), true),
            (reply(200, &[], ""), true),
            (reply(200, &[("etag", "\"empty\"")], ""), false),
            (reply(405, &[], ""), false),
            (reply(200, &[("etag", "\"x\"")], "abc"), false),
        ];
        for (index, (head, clean)) in table.iter().enumerate() {
            let found = head_agrees("HEAD /", &get, head);
            assert_eq!(found.is_empty(), *clean, "row {index}: {found:?}");
        }
        let untagged = reply(200, &[], "abc");
        let found = head_agrees("HEAD /", &untagged, &reply(200, &[("etag", "\"e\"")], ""));
        assert_eq!(checks(&found), ["head"]);
    }

    #[test]
    fn ranges_and_refusals() {
        let full = reply(200, &[("etag", "\"x\"")], "0123456789abcdef");
        let good = reply(206, &[("content-range", "bytes 0-9/16")], "0123456789");
        assert!(range_of("GET /", &full, &good).is_empty());
        let whole_body = reply(200, &[], "0123456789abcdef");
        assert_eq!(checks(&range_of("GET /", &full, &whole_body)), ["if-range"]);
        let short = reply(200, &[("etag", "\"x\"")], "0123");
        let short_range = reply(206, &[("content-range", "bytes 0-3/4")], "0123");
        assert!(range_of("GET /", &short, &short_range).is_empty());

        let ok = StatusCode::PRECONDITION_FAILED;
        assert!(
            refused(
                R_IF_MATCH,
                "stale-write",
                "PUT /",
                &reply(412, &[], ""),
                ok,
                ""
            )
            .is_empty()
        );
        let written = refused(
            R_IF_MATCH,
            "stale-write",
            "PUT /",
            &reply(204, &[], ""),
            ok,
            "",
        );
        assert_eq!(written[0].rule(), R_IF_MATCH);
        let conflict = refused(
            R_IF_MATCH,
            "stale-write",
            "PUT /",
            &reply(409, &[], ""),
            ok,
            "",
        );
        assert_eq!(conflict[0].rule(), R_PRECONDITION_FAILED);

        let before = reply(200, &[("etag", "\"v1\"")], "a");
        let same = reply(200, &[("etag", "\"v1\"")], "a");
        let moved = reply(200, &[("etag", "\"v2\"")], "b");
        let refusal = reply(412, &[], "");
        assert!(unchanged(R_IF_MATCH, "stale-write", "PUT /", &refusal, &before, &same).is_empty());
        assert_eq!(
            checks(&unchanged(
                R_IF_MATCH,
                "stale-write",
                "PUT /",
                &refusal,
                &before,
                &moved
            )),
            ["stale-write"]
        );
    }

    #[test]
    fn versions_and_forms() {
        assert!(same_version(&tag("\"x-gzip\""), &tag("\"x\"")));
        assert!(same_version(&tag("\"x\""), &tag("\"x-br\"")));
        assert!(same_version(&tag("W/\"x\""), &tag("\"x\"")));
        assert!(!same_version(&tag("\"x-foo\""), &tag("\"x\"")));
        assert!(!same_version(&tag("\"xgzip\""), &tag("\"x\"")));
        assert_eq!(weak_form(&tag("\"x\"")), "W/\"x\"");
        assert_eq!(weak_form(&tag("W/\"x\"")), "W/\"x\"");
        assert_ne!(unknown_tag(&tag(UNKNOWN_TAG)), UNKNOWN_TAG);
        assert_eq!(
            Probe::get()
                .with(header::IF_NONE_MATCH, "\"x\"")
                .describe("/a"),
            "GET /a (Accept-Encoding: identity, If-None-Match: \"x\")"
        );
        let finding = Finding::new(R_VARY, "vary", "GET /", "200 OK\nX", "Vary");
        assert_eq!(
            finding.to_string(),
            "RFC 9110 §12.5.5: vary: GET / → 200 OK X; expected: Vary"
        );
    }

    #[test]
    fn two_futures_run_at_once() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::task::{Context, Wake, Waker};

        struct Noop;
        impl Wake for Noop {
            fn wake(self: Arc<Self>) {}
        }
        // Each future waits (once) until the other has started: only a join that polls both
        // finishes.
        let started = Arc::new(AtomicUsize::new(0));
        let step = |started: Arc<AtomicUsize>, value: u8| {
            let mut seen = false;
            poll_fn(move |cx| {
                if !seen {
                    seen = true;
                    started.fetch_add(1, Ordering::SeqCst);
                }
                if started.load(Ordering::SeqCst) == 2 {
                    Poll::Ready(value)
                } else {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            })
        };
        let mut joined = pin!(join(step(started.clone(), 1), step(started.clone(), 2)));
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        for _ in 0..3 {
            if let Poll::Ready(both) = joined.as_mut().poll(&mut cx) {
                assert_eq!(both, (1, 2));
                return;
            }
        }
        panic!("the join did not finish");
    }
}
