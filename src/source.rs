//! Validators known before the handler runs.
//!
//! A database row version, a file's metadata or a cache key often tells the current validators
//! of a resource far more cheaply than producing it. Given a [`ValidatorSource`], the layer asks
//! it first and then:
//!
//! - answers a GET/HEAD whose preconditions say "not modified" with a 304 **without calling the
//!   inner service**;
//! - answers any request whose `If-Match` / `If-Unmodified-Since` is false, or a PUT/POST/...
//!   whose `If-None-Match` is false (`If-None-Match: *` on an existing resource: "create only"),
//!   with a 412 **without calling the inner service**: the lost-update protection of RFC 9110
//!   §13.1.1 and §13.1.4;
//! - gives a proceeding GET response without an `ETag` the source's tag (and `Last-Modified` and
//!   cache headers), so no buffering or hashing is needed;
//! - honours `If-Range` (§13.1.5) by removing a `Range` whose `If-Range` no longer matches;
//! - hands the handler a [`PreconditionCheck`] request extension saying which version the
//!   check saw, for an atomic compare-and-swap: the check and the write are two steps, and
//!   another writer can come in between.
//!
//! When the source fails (its future returns an error; give it a timeout of your runtime's to
//! turn a slow lookup into one), a request that carries preconditions on a method other than
//! GET/HEAD is refused with `503 Service Unavailable` and the handler does not run: a write the
//! client made conditional must not happen unchecked. GET and HEAD fall back to the ordinary
//! path (the handler runs and its response is judged as without a source).
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use tower_conditional::{ConditionalLayer, Current, EntityTag, Representation};
//!
//! let layer = ConditionalLayer::new().validator_source(|request: &http::request::Parts| {
//!     // Look the version up cheaply; here it is derived from the path.
//!     let version = request.uri.path().len();
//!     async move {
//!         let tag = EntityTag::strong(&format!("v{version}"))?;
//!         Ok::<_, tower_conditional::BoxError>(Current::Exists(
//!             Representation::new()
//!                 .etag(tag)
//!                 .last_modified(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
//!                 .header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-cache")),
//!         ))
//!     }
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use http::header::{ETAG, LAST_MODIFIED};
use http::{HeaderMap, HeaderName, HeaderValue, request};

use crate::{EntityTag, Validators};

/// The error type a [`ValidatorSource`] may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The future a [`ValidatorSource`] returns.
pub type SourceFuture = Pin<Box<dyn Future<Output = Result<Current, BoxError>> + Send>>;

/// Tells the current validators of a request's target resource before the handler runs.
///
/// Implemented for closures `Fn(&http::request::Parts) -> impl Future<Output = Result<Current,
/// E>>` where `E: Into<BoxError>`. The future must be `'static`: clone from the request what it
/// needs.
pub trait ValidatorSource: Send + Sync + 'static {
    /// Looks up the current state of the resource `request` targets.
    fn current(&self, request: &request::Parts) -> SourceFuture;
}

impl<F, Fut, E> ValidatorSource for F
where
    F: Fn(&request::Parts) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Current, E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn current(&self, request: &request::Parts) -> SourceFuture {
        let future = self(request);
        Box::pin(async move { future.await.map_err(Into::into) })
    }
}

/// What a [`ValidatorSource`] knows of a resource.
#[derive(Clone, Debug)]
pub enum Current {
    /// The resource exists with this representation.
    Exists(Representation),
    /// The resource does not exist: `If-Match` fails, `If-None-Match: *` passes.
    Missing,
    /// The source cannot tell for this request: the layer behaves as without a source.
    Unknown,
}

/// The validators of a resource's current representation, and the cache headers its 200 would
/// carry, which a 304 must repeat (RFC 9110 §15.4.5): `Cache-Control`, `Expires`, `Vary`,
/// `Content-Location`.
#[derive(Clone, Debug, Default)]
pub struct Representation {
    validators: Validators,
    headers: HeaderMap,
}

impl Representation {
    /// A representation with no validators and no headers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the entity tag.
    pub fn etag(mut self, etag: EntityTag) -> Self {
        self.validators.etag = Some(etag);
        self
    }

    /// Sets the modification date.
    pub fn last_modified(mut self, last_modified: SystemTime) -> Self {
        self.validators.last_modified = Some(last_modified);
        self
    }

    /// Adds a header the 200 would carry and a 304 must repeat, such as `Cache-Control`.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The validators.
    pub fn validators(&self) -> &Validators {
        &self.validators
    }

    /// The cache headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Puts the source's validators on a response head: its `ETag` and `Last-Modified`
    /// replace the response's (the source's tag is the one clients revalidate and `If-Range`
    /// is judged against, so a handler's own tag for the same bytes, such as `ServeDir`'s
    /// metadata tag, must not be sent beside or instead of it: RFC 9110 §8.8.3, §13.1.5). A
    /// validator the source does not know leaves the response's as it is. The other headers
    /// of the representation are only added where the response lacks that header name:
    /// whatever the handler set for those wins.
    pub(crate) fn fill_in(&self, headers: &mut HeaderMap) {
        if let Some(etag) = &self.validators.etag {
            headers.insert(ETAG, etag.to_header_value());
        }
        if let Some(modified) = self.validators.last_modified
            && let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(modified))
        {
            headers.insert(LAST_MODIFIED, value);
        }
        for name in self.headers.keys() {
            if !headers.contains_key(name) {
                for value in self.headers.get_all(name) {
                    headers.append(name.clone(), value.clone());
                }
            }
        }
    }
}

impl From<Validators> for Representation {
    fn from(validators: Validators) -> Self {
        Self {
            validators,
            headers: HeaderMap::new(),
        }
    }
}

/// Request extension the layer adds when a [`ValidatorSource`] checked the request's
/// preconditions and the request goes on to the handler.
///
/// The check and the handler's write are two steps; another writer can change the resource in
/// between. Make the write a compare-and-swap against the version the check saw: write only if
/// the resource's tag is still [`PreconditionCheck::etag`] (or it is still missing, when
/// [`PreconditionCheck::existed`] is `false`), and answer 412 otherwise.
#[derive(Clone, Debug)]
pub struct PreconditionCheck {
    pub(crate) current: Option<Validators>,
}

impl PreconditionCheck {
    /// Whether the resource existed when checked.
    pub fn existed(&self) -> bool {
        self.current.is_some()
    }

    /// The validators the check saw, `None` when the resource did not exist.
    pub fn validators(&self) -> Option<&Validators> {
        self.current.as_ref()
    }

    /// The entity tag the check saw, if the resource existed and had one.
    pub fn etag(&self) -> Option<&EntityTag> {
        self.current.as_ref()?.etag.as_ref()
    }
}

/// A shared, type-erased [`ValidatorSource`].
#[derive(Clone)]
pub(crate) struct SharedSource(pub(crate) Arc<dyn ValidatorSource>);

impl fmt::Debug for SharedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ValidatorSource")
    }
}
