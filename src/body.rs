//! The response body of [`Conditional`](crate::Conditional).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::plan::response::ReadEnd;

pin_project! {
    /// Response body of [`Conditional`](crate::Conditional): the inner body as it was, the
    /// chunks the layer read (in their original order and sizes, not copied) followed by
    /// whatever the inner body still has, or nothing (304, 412, HEAD).
    ///
    /// ```
    /// use http::{Request, Response, StatusCode, header};
    /// use http_body_util::BodyExt;
    /// use tower::{ServiceExt, service_fn};
    /// use tower_conditional::{Conditional, ConditionalBody};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let service = Conditional::new(service_fn(|_: Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(Response::new(String::from("Hello")))
    /// }));
    ///
    /// let response: Response<ConditionalBody<String>> =
    ///     service.clone().oneshot(Request::get("/").body(String::new()).unwrap()).await.unwrap();
    /// let etag = response.headers()[header::ETAG].clone();
    /// assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "Hello");
    ///
    /// // A 304's body is empty.
    /// let request = Request::get("/").header(header::IF_NONE_MATCH, etag).body(String::new()).unwrap();
    /// let response = service.oneshot(request).await.unwrap();
    /// assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    /// assert!(response.into_body().collect().await.unwrap().to_bytes().is_empty());
    /// # }
    /// ```
    pub struct ConditionalBody<B: Body> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B: Body> {
        PassThrough { #[pin] inner: B },
        // A body read whole in one frame (or none), the usual one read; `None` once sent.
        Whole { data: Option<Bytes> },
        // Any other read body. Boxed: a response is moved several times on its way out, and
        // most pass through.
        Read { read: Box<ReadBody<B>> },
        // A 412's own empty content.
        Empty,
        // The content of a 304 or of a HEAD response: not sent, and of a length this message does
        // not tell. Its size hint is left open so that nothing (axum's router does) adds a
        // `Content-Length: 0` that would contradict the representation's length.
        Omitted,
    }
}

/// The chunks read, in order. Most bodies are one frame, which needs no list: the first chunk
/// is held apart, and only the second one allocates the list. The list is only appended to
/// while the body is read, and only taken from the front while it is sent: `sent` chunks of it
/// are gone (a plain list costs less to drop, the usual case, than a ring buffer).
#[derive(Debug, Default)]
pub(crate) struct Chunks {
    first: Option<Bytes>,
    rest: Vec<Bytes>,
    sent: usize,
    /// Their total length, in bytes.
    len: usize,
}

impl Chunks {
    /// Appends `chunk`; an empty one is no chunk at all.
    pub(crate) fn push(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        self.len = self.len.saturating_add(chunk.len());
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some(chunk);
        } else {
            self.rest.push(chunk);
        }
    }

    fn pop_front(&mut self) -> Option<Bytes> {
        let chunk = match self.first.take() {
            Some(chunk) => chunk,
            None => {
                let chunk = std::mem::take(self.rest.get_mut(self.sent)?);
                self.sent += 1;
                chunk
            }
        };
        self.len = self.len.saturating_sub(chunk.len());
        Some(chunk)
    }

    /// The chunks of the list not sent yet.
    fn unsent(&self) -> &[Bytes] {
        self.rest.get(self.sent..).unwrap_or_default()
    }

    /// The total length of the chunks, in bytes.
    pub(crate) fn byte_len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.first.is_none() && self.unsent().is_empty()
    }

    /// The chunks in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> + Clone {
        self.first
            .iter()
            .chain(self.unsent())
            .map(|chunk| &chunk[..])
    }
}

impl From<Bytes> for Chunks {
    fn from(chunk: Bytes) -> Self {
        let mut chunks = Self::default();
        chunks.push(chunk);
        chunks
    }
}

/// What follows the chunks read.
struct ReadBody<B: Body> {
    chunks: Chunks,
    rest: Rest<B>,
}

enum Rest<B: Body> {
    /// The inner body ended, possibly with trailers (boxed: rare, and large beside the rest).
    End(Option<Box<HeaderMap>>),
    /// The inner body was not read to the end (it exceeded the buffer limit, or had to wait),
    /// with the trailers read before it stopped, if any (boxed: rare).
    Body {
        trailers: Option<Box<HeaderMap>>,
        body: Pin<Box<B>>,
    },
    /// The inner body failed after the chunks read.
    Error(Option<B::Error>),
}

impl<B: Body> ConditionalBody<B> {
    #[inline]
    pub(crate) fn pass_through(inner: B) -> Self {
        Self {
            kind: Kind::PassThrough { inner },
        }
    }

    /// An empty body of length zero.
    #[inline]
    pub(crate) fn empty() -> Self {
        Self { kind: Kind::Empty }
    }

    /// No body, for a 304 or a HEAD response.
    #[inline]
    pub(crate) fn omitted() -> Self {
        Self {
            kind: Kind::Omitted,
        }
    }

    /// A fully read body: its chunks, then its trailers.
    #[inline]
    pub(crate) fn complete(chunks: Chunks, trailers: Option<Box<HeaderMap>>) -> Self {
        if trailers.is_none() && chunks.rest.is_empty() {
            return Self {
                kind: Kind::Whole { data: chunks.first },
            };
        }
        Self::read(chunks, Rest::End(trailers))
    }

    /// The chunks and trailers read so far, then the rest of `body`.
    pub(crate) fn resume(
        chunks: Chunks,
        trailers: Option<Box<HeaderMap>>,
        body: Pin<Box<B>>,
    ) -> Self {
        Self::read(chunks, Rest::Body { trailers, body })
    }

    /// The chunks read before `error`, then `error`.
    pub(crate) fn failed(chunks: Chunks, error: B::Error) -> Self {
        Self::read(chunks, Rest::Error(Some(error)))
    }

    fn read(chunks: Chunks, rest: Rest<B>) -> Self {
        Self {
            kind: Kind::Read {
                read: Box::new(ReadBody { chunks, rest }),
            },
        }
    }
}

impl<B: Body> Body for ConditionalBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    #[inline]
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.project().kind.project() {
            KindProj::PassThrough { inner } => inner.poll_frame(cx).map(into_bytes_frame),
            KindProj::Read { read } => {
                let ReadBody { chunks, rest } = &mut **read;
                if let Some(chunk) = chunks.pop_front() {
                    return Poll::Ready(Some(Ok(Frame::data(chunk))));
                }
                match rest {
                    Rest::End(trailers) => Poll::Ready(
                        trailers
                            .take()
                            .map(|trailers| Ok(Frame::trailers(*trailers))),
                    ),
                    Rest::Body { trailers, body } => match trailers.take() {
                        Some(trailers) => Poll::Ready(Some(Ok(Frame::trailers(*trailers)))),
                        None => body.as_mut().poll_frame(cx).map(into_bytes_frame),
                    },
                    Rest::Error(error) => Poll::Ready(error.take().map(Err)),
                }
            }
            KindProj::Whole { data } => Poll::Ready(data.take().map(|data| Ok(Frame::data(data)))),
            KindProj::Empty | KindProj::Omitted => Poll::Ready(None),
        }
    }

    #[inline]
    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::PassThrough { inner } => inner.is_end_stream(),
            Kind::Read { read } => {
                let ReadBody { chunks, rest } = &**read;
                chunks.is_empty()
                    && match rest {
                        Rest::End(trailers) => trailers.is_none(),
                        Rest::Body { trailers, body } => trailers.is_none() && body.is_end_stream(),
                        Rest::Error(error) => error.is_none(),
                    }
            }
            Kind::Whole { data } => data.is_none(),
            Kind::Empty | Kind::Omitted => true,
        }
    }

    #[inline]
    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::PassThrough { inner } => inner.size_hint(),
            Kind::Read { read } => {
                let ReadBody { chunks, rest } = &**read;
                let read = chunks.byte_len() as u64;
                match rest {
                    Rest::End(None) => SizeHint::with_exact(read),
                    // An exact length would make HTTP/1.1 servers use Content-Length, which
                    // cannot carry trailers.
                    Rest::End(Some(_)) => {
                        let mut hint = SizeHint::new();
                        hint.set_lower(read);
                        hint
                    }
                    Rest::Body { trailers, body } => {
                        let rest = body.size_hint();
                        let mut hint = SizeHint::new();
                        hint.set_lower(rest.lower().saturating_add(read));
                        // No exact length with trailers to come (see `Rest::End`).
                        if let Some(upper) = rest.upper().filter(|_| trailers.is_none()) {
                            hint.set_upper(upper.saturating_add(read));
                        }
                        hint
                    }
                    // The client will see an error, not a length.
                    Rest::Error(_) => {
                        let mut hint = SizeHint::new();
                        hint.set_lower(read);
                        hint
                    }
                }
            }
            Kind::Whole { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |data| data.len() as u64))
            }
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Omitted => SizeHint::new(),
        }
    }
}

/// A body being read to generate its tag: the chunks so far and the rest of the body.
pub(crate) struct Reading<B: Body> {
    body: Pin<Box<B>>,
    chunks: Chunks,
    trailers: Option<Box<HeaderMap>>,
}

impl<B: Body> Reading<B> {
    pub(crate) fn new(body: B) -> Self {
        Self {
            body: Box::pin(body),
            chunks: Chunks::default(),
            trailers: None,
        }
    }

    /// Reads frames until the body ends, fails, or has more than `limit` bytes; or, unless
    /// `wait`, until its next frame is not ready: a live stream is never held back.
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        limit: usize,
        wait: bool,
    ) -> Poll<ReadEnd<B::Error>> {
        loop {
            let frame = match self.body.as_mut().poll_frame(cx) {
                Poll::Pending if wait => return Poll::Pending,
                Poll::Pending => return Poll::Ready(ReadEnd::NotReady),
                Poll::Ready(None) => return Poll::Ready(ReadEnd::Complete),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(ReadEnd::Failed(error)),
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            match frame.into_data() {
                Ok(mut data) => {
                    // Moves the buffer for `Bytes` data: chunks are kept as they came.
                    self.chunks.push(data.copy_to_bytes(data.remaining()));
                    if self.chunks.byte_len() > limit {
                        return Poll::Ready(ReadEnd::OverLimit);
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

    /// The bytes read so far.
    pub(crate) fn chunks(&self) -> &Chunks {
        &self.chunks
    }

    /// Whether trailers were read.
    pub(crate) fn has_trailers(&self) -> bool {
        self.trailers.is_some()
    }

    /// The body to send after reading ended with `end`: the chunks read, then the trailers,
    /// the rest of the body, or the error.
    pub(crate) fn into_body(self, end: ReadEnd<B::Error>) -> ConditionalBody<B> {
        let Self {
            body,
            chunks,
            trailers,
        } = self;
        match end {
            ReadEnd::Complete => ConditionalBody::complete(chunks, trailers),
            ReadEnd::OverLimit | ReadEnd::NotReady => {
                ConditionalBody::resume(chunks, trailers, body)
            }
            ReadEnd::Failed(error) => ConditionalBody::failed(chunks, error),
        }
    }
}

/// The body type the layer answers with, named by the layer's second type parameter: `()` for
/// [`ConditionalBody`] around the inner service's body (any inner service), [`AxumBody`] for
/// axum's own body type.
pub trait ResponseBody<B: Body>: output::Sealed {
    /// The body of the layer's responses.
    type Body;

    /// A response the layer made, with this body.
    fn from_conditional(response: http::Response<ConditionalBody<B>>)
    -> http::Response<Self::Body>;
}

mod output {
    /// Only this crate's body types answer: the layer's responses are the ones it builds.
    pub trait Sealed {}

    impl Sealed for () {}

    #[cfg(feature = "axum")]
    impl Sealed for super::AxumBody {}
}

/// [`ConditionalBody`] around the inner service's body: the layer's default.
impl<B: Body> ResponseBody<B> for () {
    type Body = ConditionalBody<B>;

    #[inline(always)]
    fn from_conditional(
        response: http::Response<ConditionalBody<B>>,
    ) -> http::Response<Self::Body> {
        response
    }
}

/// The layer answering with axum's own body type, `axum::body::Body` (feature `axum`):
/// [`ConditionalLayer::axum_body`](crate::ConditionalLayer::axum_body) makes it.
///
/// axum's `Router::layer` turns every layer's response body into `axum::body::Body`, boxing it
/// once more unless it already is one. With this, a response the layer sends on keeps the body
/// the inner service made, the content of a 304 or 412 is an empty body of no size (a box of it takes
/// no allocation), and only a body the layer read to tag it is boxed.
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, StatusCode, header};
/// use tower::ServiceExt;
/// use tower_conditional::{AxumBody, ConditionalLayer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer: ConditionalLayer<AxumBody> = ConditionalLayer::new().axum_body();
/// let app: Router = Router::new().route("/", get(|| async { "Hello" })).layer(layer);
/// let response = app.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// let etag = response.headers()[header::ETAG].clone();
/// let revalidate = Request::get("/").header(header::IF_NONE_MATCH, etag);
/// let response = app.oneshot(revalidate.body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
/// # }
/// ```
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[derive(Clone, Copy, Debug, Default)]
pub struct AxumBody;

#[cfg(feature = "axum")]
impl ResponseBody<axum_core::body::Body> for AxumBody {
    type Body = axum_core::body::Body;

    // Inlined where the response is built, so a body sent on is not matched again.
    #[inline(always)]
    fn from_conditional(
        response: http::Response<ConditionalBody<axum_core::body::Body>>,
    ) -> http::Response<Self::Body> {
        use axum_core::body::Body as Axum;
        response.map(|body| match body.kind {
            Kind::PassThrough { inner } => inner,
            Kind::Empty => Axum::empty(),
            Kind::Omitted => Axum::new(Omitted),
            kind => Axum::new(ConditionalBody { kind }),
        })
    }
}

/// The content of a 304 or of a HEAD response as its own type, with the open size hint of
/// [`Kind::Omitted`]; a type of no size, so axum's box of it allocates nothing.
#[cfg(feature = "axum")]
struct Omitted;

#[cfg(feature = "axum")]
impl Body for Omitted {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        true
    }
}

fn into_bytes_frame<D: Buf, E>(
    frame: Option<Result<Frame<D>, E>>,
) -> Option<Result<Frame<Bytes>, E>> {
    frame.map(|frame| {
        frame.map(|frame| frame.map_data(|mut data| data.copy_to_bytes(data.remaining())))
    })
}

impl<B: Body> fmt::Debug for ConditionalBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::PassThrough { .. } => "PassThrough",
            Kind::Whole { .. } | Kind::Read { .. } => "Read",
            Kind::Empty => "Empty",
            Kind::Omitted => "Omitted",
        };
        f.debug_struct("ConditionalBody")
            .field("kind", &kind)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_their_order_and_skip_empty_ones() {
        let mut chunks = Chunks::default();
        assert!(chunks.is_empty());
        for chunk in ["", "a", "", "bc", "def"] {
            chunks.push(Bytes::from_static(chunk.as_bytes()));
        }
        assert_eq!(chunks.byte_len(), 6);
        assert_eq!(
            chunks.iter().collect::<Vec<_>>(),
            [&b"a"[..], b"bc", b"def"]
        );
        let mut popped = Vec::new();
        while let Some(chunk) = chunks.pop_front() {
            popped.push(chunk);
            assert_eq!(
                chunks.byte_len(),
                chunks.iter().map(<[u8]>::len).sum::<usize>()
            );
        }
        assert_eq!(popped, ["a", "bc", "def"]);
        assert!(chunks.is_empty());
        assert_eq!(Chunks::from(Bytes::new()).byte_len(), 0);
        assert!(Chunks::from(Bytes::new()).is_empty());
    }
}
