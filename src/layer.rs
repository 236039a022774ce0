use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, Method, StatusCode, Uri};
use tower::Layer;

use crate::TagHash;
use crate::service::Conditional;
use crate::source::{SharedSource, ValidatorSource};

/// The default [`ConditionalLayer::buffer_limit`]: 1 MiB.
pub const DEFAULT_BUFFER_LIMIT: usize = 1024 * 1024;

/// Applies [`Conditional`] to a service: entity tags for GET/HEAD responses, and
/// `304 Not Modified` / `412 Precondition Failed` answers per RFC 9110 §13.
///
/// See the [crate docs](crate) for what it does and where to put it.
///
/// ```
/// use tower_conditional::{ConditionalLayer, TagHash};
///
/// let layer = ConditionalLayer::new()
///     .buffer_limit(256 * 1024)
///     .weak_tags(false)
///     .hash(TagHash::CollisionResistant)
///     .skip_when(|response| response.uri().path().starts_with("/live/"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ConditionalLayer {
    // Shared with every service the layer makes: `layer` is called per route, and by some
    // routers per request.
    config: Arc<Config>,
}

impl ConditionalLayer {
    /// The default behaviour: strong tags from [`TagHash::CollisionResistant`] for bodies up to
    /// [`DEFAULT_BUFFER_LIMIT`] that are ready to be read, nothing skipped beyond the built-in
    /// rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// The most body bytes buffered to compute a tag (default [`DEFAULT_BUFFER_LIMIT`]). A larger
    /// body, whether its size hint says so up front or it turns out larger midway, is sent on
    /// untouched and without a generated tag: the chunks read so far first, then the rest as it
    /// streams. A body is never held while its next frame is not ready, unless
    /// [`wait_for_body`](Self::wait_for_body) says so.
    pub fn buffer_limit(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.config).buffer_limit = bytes;
        self
    }

    /// Generate weak tags (`W/"…"`) instead of strong ones (default `false`).
    ///
    /// A strong tag promises byte-for-byte identity; choose weak tags when the layer sits
    /// inside something that re-encodes the body, such as compression placed outside it.
    pub fn weak_tags(mut self, weak: bool) -> Self {
        Arc::make_mut(&mut self.config).weak_tags = weak;
        self
    }

    /// The hash function for generated tags (default [`TagHash::CollisionResistant`]).
    pub fn hash(mut self, hash: TagHash) -> Self {
        Arc::make_mut(&mut self.config).hash = hash;
        self
    }

    /// Leave responses for which `predicate` returns `true` untouched: no tag, no 304, no 412,
    /// the body passed through as it is. It sees the request's method and URI and the response's
    /// status and headers, so it can skip by path or by content type.
    ///
    /// Already skipped, whatever the predicate says: requests other than GET and HEAD,
    /// non-2xx responses, and streaming types (`text/event-stream`, `application/grpc*`).
    pub fn skip_when<F>(mut self, predicate: F) -> Self
    where
        F: Fn(&ResponseInfo<'_>) -> bool + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.config).skip = Some(Skip(Arc::new(predicate)));
        self
    }

    /// Ask `source` for the current validators before calling the inner service, to answer 304
    /// and 412 without running the handler, protect writes from lost updates, and honour
    /// `If-Range`. See [`ValidatorSource`](crate::ValidatorSource) and the [`source`
    /// module](crate::source) for the rules.
    ///
    /// The source is consulted for GET and HEAD, and for other methods when they carry
    /// preconditions (`If-Match`, `If-None-Match`, `If-Unmodified-Since`).
    pub fn validator_source<V: ValidatorSource>(mut self, source: V) -> Self {
        Arc::make_mut(&mut self.config).source = Some(SharedSource(Arc::new(source)));
        self
    }

    /// Attach a [`Decision`](crate::Decision) extension to every response, telling outer
    /// layers (metrics, logging) what the layer did, why, and the bytes a 304 saved (default
    /// `false`: the extension map costs an allocation per response).
    pub fn decisions(mut self, enabled: bool) -> Self {
        Arc::make_mut(&mut self.config).decisions = enabled;
        self
    }

    /// Weaken strong tags that come from inside the layer on content-coded responses (default
    /// `true`).
    ///
    /// A compression layer placed inside this one keeps the `ETag` the handler (or `ServeDir`)
    /// computed for the identity bytes on the gzip bytes too: one strong tag for two byte
    /// sequences. The layer cannot tell that apart from a handler that tagged a precompressed
    /// file on purpose, so it weakens every such tag (`"x"` becomes `W/"x"`), as nginx does when
    /// it compresses: revalidation still works, `If-Match` and `If-Range` no longer treat the two
    /// encodings as one. Tags the layer generates itself hash the encoded bytes and stay strong.
    pub fn weaken_encoded_tags(mut self, enabled: bool) -> Self {
        Arc::make_mut(&mut self.config).weaken_encoded_tags = enabled;
        self
    }

    /// Keep reading a body whose next frame is not ready yet, to generate its tag (default
    /// `false`).
    ///
    /// By default the layer reads a body only while its frames are ready: a body built in
    /// memory is read at once and tagged, while a live stream (server-sent events under another
    /// type, NDJSON, a slow database cursor) is sent on the moment it has to wait, with what
    /// was read so far first and without a generated tag. With `true` the layer waits for
    /// such bodies until they end or pass [`buffer_limit`](Self::buffer_limit): they get a tag
    /// and can be answered with a 304, but the client sees nothing until then, and an endless
    /// stream sends nothing until the limit. Choose it only for bodies that are slow but
    /// finite.
    ///
    /// ```
    /// use tower_conditional::ConditionalLayer;
    ///
    /// // A service whose responses stream from a database, slowly but to an end.
    /// let layer = ConditionalLayer::new().wait_for_body(true);
    /// # let _ = layer;
    /// ```
    pub fn wait_for_body(mut self, wait: bool) -> Self {
        Arc::make_mut(&mut self.config).wait_for_body = wait;
        self
    }
}

impl<S> Layer<S> for ConditionalLayer {
    type Service = Conditional<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Conditional::with_config(inner, Arc::clone(&self.config))
    }
}

/// What a [`ConditionalLayer::skip_when`] predicate sees of a request and its response.
#[derive(Debug)]
pub struct ResponseInfo<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) status: StatusCode,
    pub(crate) headers: &'a HeaderMap,
}

impl ResponseInfo<'_> {
    /// The request method.
    pub fn method(&self) -> &Method {
        self.method
    }

    /// The request URI.
    pub fn uri(&self) -> &Uri {
        self.uri
    }

    /// The response status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.headers
    }
}

/// The layer's settings, shared by every clone of the service.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) buffer_limit: usize,
    pub(crate) weak_tags: bool,
    pub(crate) hash: TagHash,
    pub(crate) skip: Option<Skip>,
    pub(crate) wait_for_body: bool,
    pub(crate) source: Option<SharedSource>,
    pub(crate) decisions: bool,
    pub(crate) weaken_encoded_tags: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            buffer_limit: DEFAULT_BUFFER_LIMIT,
            weak_tags: false,
            hash: TagHash::default(),
            skip: None,
            wait_for_body: false,
            source: None,
            decisions: false,
            weaken_encoded_tags: true,
        }
    }
}

type SkipFn = dyn Fn(&ResponseInfo<'_>) -> bool + Send + Sync;

#[derive(Clone)]
pub(crate) struct Skip(pub(crate) Arc<SkipFn>);

impl fmt::Debug for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Skip(<predicate>)")
    }
}
