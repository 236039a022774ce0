//! Helpers shared by the integration tests, here and in `extras/tests` (which include this file
//! with `#[path = "../../tests/common/mod.rs"] mod common;`): scripted bodies, the tag the layer
//! gives some bytes, servers on 127.0.0.1 in each placement of the layer, a raw HTTP/1.1 client
//! that shows exactly what went over the wire, hyper clients that wait for `ready()`, in-process
//! requests, and temporary directories. Only crates both packages depend on are used here; the
//! gzip helpers, which need `flate2` (the root package's only), are in `gzip.rs`.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceBuilder;
use tower::util::BoxCloneService;
use tower::{Layer, ServiceExt};
use tower_conditional::{ConditionalBody, ConditionalLayer, TagHash};
use tower_http::compression::CompressionLayer;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every wait in the tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(10);

/// The request field of a client that accepts gzip.
pub const GZIP: (&str, &str) = ("accept-encoding", "gzip");

/// The content fields a 304 must not have (RFC 9110 §15.4.5: it has no content).
pub const CONTENT_FIELDS: [&str; 4] = [
    "content-encoding",
    "content-length",
    "content-type",
    "transfer-encoding",
];

/// The tag `ConditionalLayer::new()` generates for a body of `bytes`, as sent in `ETag`: the
/// library's own [`TagHash::entity_tag`] with the default hash, never a copy of its choice of
/// hash function (`src/rfc/hash.rs` pins that choice with known answers).
pub fn tag_of(bytes: &[u8]) -> String {
    tag_with(TagHash::default(), bytes)
}

/// The tag a layer configured with `.hash(hash)` generates for a body of `bytes`.
pub fn tag_with(hash: TagHash, bytes: &[u8]) -> String {
    hash.entity_tag(&[bytes], false).to_string()
}

/// `seconds` after the Unix epoch.
pub fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// Bytes this process has read through `read` and its kin, from `/proc/self/io` (Linux).
pub fn rchar() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").expect("/proc/self/io");
    io.lines()
        .find_map(|line| line.strip_prefix("rchar: "))
        .and_then(|value| value.trim().parse().ok())
        .expect("an rchar line")
}

/// A fresh directory under the system temp dir, removed when dropped (also when a test fails).
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory whose name contains `name`, unique within the run.
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "tower-conditional-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `name` (creating its directories) and sets its modification time.
    pub fn write(&self, name: &str, contents: &[u8], modified: SystemTime) -> PathBuf {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        set_mtime(&path, modified);
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Sets the modification (and access) time of the file at `path`.
pub fn set_mtime(path: &Path, modified: SystemTime) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_times(
        std::fs::FileTimes::new()
            .set_modified(modified)
            .set_accessed(modified),
    )
    .unwrap();
}

/// A body that yields exactly the frames it was given, with a chosen size hint.
pub struct Scripted {
    frames: VecDeque<Result<Frame<Bytes>, BoxError>>,
    hint: SizeHint,
    pub polled: Arc<AtomicUsize>,
}

impl Scripted {
    pub fn chunks<I, C>(chunks: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Bytes>,
    {
        let frames: VecDeque<_> = chunks
            .into_iter()
            .map(|chunk| Ok(Frame::data(chunk.into())))
            .collect();
        Self {
            frames,
            hint: SizeHint::new(),
            polled: Arc::default(),
        }
    }

    pub fn with_trailers(mut self, trailers: HeaderMap) -> Self {
        self.frames.push_back(Ok(Frame::trailers(trailers)));
        self
    }

    pub fn with_error(mut self, message: &'static str) -> Self {
        self.frames.push_back(Err(message.into()));
        self
    }

    /// A size hint that may lie.
    pub fn with_hint(mut self, hint: SizeHint) -> Self {
        self.hint = hint;
        self
    }

    /// The size hint a `Full` body would give.
    pub fn exact(mut self) -> Self {
        let len = self
            .frames
            .iter()
            .filter_map(|frame| {
                frame
                    .as_ref()
                    .ok()?
                    .data_ref()
                    .map(|data| data.len() as u64)
            })
            .sum();
        self.hint = SizeHint::with_exact(len);
        self
    }
}

impl Body for Scripted {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.polled.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(self.frames.pop_front())
    }

    fn is_end_stream(&self) -> bool {
        self.frames.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        self.hint
    }
}

/// Serves an axum router on 127.0.0.1 (an ephemeral port) until the test's runtime ends.
pub async fn serve(app: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Serves any Tower HTTP service (any response body type) with hyper on 127.0.0.1 until the
/// test's runtime ends. Request bodies arrive as `axum::body::Body`, as `axum::serve` hands
/// them over (the layer needs a `Default` request body; hyper's `Incoming` is not one).
pub async fn serve_service<S, B>(service: S) -> SocketAddr
where
    S: tower::Service<http::Request<axum::body::Body>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = hyper_util::service::TowerToHyperService::new(
                tower::ServiceBuilder::new()
                    .map_request(|request: http::Request<hyper::body::Incoming>| {
                        request.map(axum::body::Body::new)
                    })
                    .service(service.clone()),
            );
            tokio::spawn(async move {
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await
            });
        }
    });
    addr
}

/// The app served without the layer (first), with `Router::layer`, with the layer around the
/// router, and (feature `axum`) both ways again answering with axum's own body
/// (`ConditionalLayer::axum_body`): each a server on 127.0.0.1, all sharing the app's state.
pub async fn served_placements(
    app: Router,
    layer: ConditionalLayer,
) -> Vec<(&'static str, SocketAddr)> {
    let bare = serve(app.clone()).await;
    let inside = serve(app.clone().layer(layer.clone())).await;
    #[cfg(feature = "axum")]
    let axum_body = serve(app.clone().layer(layer.clone().axum_body())).await;
    #[cfg(feature = "axum")]
    let axum_body_around = serve_service(
        ServiceBuilder::new()
            .layer(layer.clone().axum_body())
            .service(app.clone()),
    )
    .await;
    let around = serve_service(ServiceBuilder::new().layer(layer).service(app)).await;
    vec![
        ("without the layer", bare),
        ("Router::layer", inside),
        ("around the router", around),
        #[cfg(feature = "axum")]
        ("Router::layer, axum_body", axum_body),
        #[cfg(feature = "axum")]
        ("around the router, axum_body", axum_body_around),
    ]
}

/// The README's order in both placements, `CompressionLayer` inside the layer, each a server on
/// 127.0.0.1 over its own `state()` (given back beside it): `routes(state)` behind
/// `layer(&state)`.
pub async fn compressed_placements<T: Clone>(
    state: impl Fn() -> T,
    routes: impl Fn(T) -> Router,
    layer: impl Fn(&T) -> ConditionalLayer,
) -> [(&'static str, SocketAddr, T); 2] {
    let inside = state();
    let inside_addr = serve(
        routes(inside.clone())
            .layer(CompressionLayer::new())
            .layer(layer(&inside)),
    )
    .await;
    let around = state();
    let around_addr = serve_service(
        ServiceBuilder::new()
            .layer(layer(&around))
            .layer(CompressionLayer::new())
            .service(routes(around.clone())),
    )
    .await;
    [
        ("Router::layer", inside_addr, inside),
        ("around the router", around_addr, around),
    ]
}

/// A router or any other service called in process, boxed.
pub type App =
    BoxCloneService<http::Request<axum::body::Body>, http::Response<axum::body::Body>, Infallible>;

/// `routes` in both placements, in process, each as one boxed service with its own counter
/// (handed to `routes`); with the `axum` feature both again answering with axum's own body
/// (`ConditionalLayer::axum_body`).
pub fn in_process_placements(
    routes: impl Fn(Counter) -> Router,
    layer: ConditionalLayer,
) -> Vec<(&'static str, App, Counter)> {
    let inside_counter = Counter::default();
    let inside = routes(inside_counter.clone()).layer(layer.clone());
    #[cfg(feature = "axum")]
    let axum_body_counter = Counter::default();
    #[cfg(feature = "axum")]
    let axum_body = routes(axum_body_counter.clone()).layer(layer.clone().axum_body());
    #[cfg(feature = "axum")]
    let axum_body_around_counter = Counter::default();
    #[cfg(feature = "axum")]
    let axum_body_around = ServiceBuilder::new()
        .layer(layer.clone().axum_body())
        .service(routes(axum_body_around_counter.clone()));
    let outside_counter = Counter::default();
    let outside = ServiceBuilder::new()
        .map_response(|response: http::Response<_>| response.map(axum::body::Body::new))
        .layer(layer)
        .service(routes(outside_counter.clone()));
    vec![
        (
            "Router::layer",
            BoxCloneService::new(inside),
            inside_counter,
        ),
        (
            "ServiceBuilder",
            BoxCloneService::new(outside),
            outside_counter,
        ),
        #[cfg(feature = "axum")]
        (
            "Router::layer, axum_body",
            BoxCloneService::new(axum_body),
            axum_body_counter,
        ),
        #[cfg(feature = "axum")]
        (
            "ServiceBuilder, axum_body",
            BoxCloneService::new(axum_body_around),
            axum_body_around_counter,
        ),
    ]
}

/// Calls `service` in process with `method path` and these header lines, and no body.
pub async fn oneshot<S, B>(
    service: &S,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> http::Response<B>
where
    S: tower::Service<http::Request<axum::body::Body>, Response = http::Response<B>> + Clone,
    S::Error: std::fmt::Debug,
{
    let mut request = http::Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    service
        .clone()
        .oneshot(request.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap()
}

/// Runs one `method /` request, without preconditions, through `layer` around a service that
/// answers it with `response` (once), bounded by [`WAIT`].
pub async fn through<B>(
    layer: ConditionalLayer,
    method: Method,
    response: http::Response<B>,
) -> http::Response<ConditionalBody<B>>
where
    B: Body + Send + 'static,
{
    // The layer needs a `Clone` inner service; this one answers once.
    let response = Arc::new(Mutex::new(Some(response)));
    let service = layer.layer(tower::service_fn(
        move |_: http::Request<http_body_util::Empty<Bytes>>| {
            let response = response.lock().unwrap().take().expect("called once");
            async move { Ok::<_, Infallible>(response) }
        },
    ));
    let request = http::Request::builder()
        .method(method)
        .uri("/")
        .body(http_body_util::Empty::new())
        .unwrap();
    tokio::time::timeout(WAIT, service.oneshot(request))
        .await
        .unwrap()
        .unwrap()
}

/// A hyper HTTP/1.1 client on one new connection to `addr`; the connection is driven by a task
/// that ends with it.
pub async fn http1_client<B>(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
        .await
        .expect("connected in time")
        .unwrap();
    let (sender, connection) = tokio::time::timeout(
        WAIT,
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)),
    )
    .await
    .expect("handshake in time")
    .unwrap();
    tokio::spawn(connection);
    sender
}

/// The request half of a hyper client connection, HTTP/1.1 or HTTP/2, for [`try_send`].
pub trait Sender<B> {
    fn ready(&mut self) -> impl Future<Output = hyper::Result<()>>;

    fn send_request(
        &mut self,
        request: http::Request<B>,
    ) -> impl Future<Output = hyper::Result<hyper::Response<Incoming>>>;
}

impl<B: Body + 'static> Sender<B> for hyper::client::conn::http1::SendRequest<B> {
    fn ready(&mut self) -> impl Future<Output = hyper::Result<()>> {
        hyper::client::conn::http1::SendRequest::ready(self)
    }

    fn send_request(
        &mut self,
        request: http::Request<B>,
    ) -> impl Future<Output = hyper::Result<hyper::Response<Incoming>>> {
        hyper::client::conn::http1::SendRequest::send_request(self, request)
    }
}

impl<B: Body + 'static> Sender<B> for hyper::client::conn::http2::SendRequest<B> {
    fn ready(&mut self) -> impl Future<Output = hyper::Result<()>> {
        hyper::client::conn::http2::SendRequest::ready(self)
    }

    fn send_request(
        &mut self,
        request: http::Request<B>,
    ) -> impl Future<Output = hyper::Result<hyper::Response<Incoming>>> {
        hyper::client::conn::http2::SendRequest::send_request(self, request)
    }
}

/// Sends `request` on `sender` once the connection is ready for it, and gives hyper's answer,
/// an error included (a response whose body fails may be aborted before its head is out);
/// unbounded, so the caller bounds it. hyper's HTTP/1.1 `SendRequest` refuses a request with
/// `Canceled` ("connection was not ready") while the connection is still finishing the previous
/// response, which a busy machine makes likely: every request on a hyper client connection goes
/// through here.
pub async fn try_send<S, B>(
    sender: &mut S,
    request: http::Request<B>,
) -> hyper::Result<hyper::Response<Incoming>>
where
    S: Sender<B>,
{
    sender.ready().await?;
    sender.send_request(request).await
}

/// [`try_send`], bounded by [`WAIT`], failing the test on an error.
pub async fn send<S, B>(sender: &mut S, request: http::Request<B>) -> hyper::Response<Incoming>
where
    S: Sender<B>,
{
    tokio::time::timeout(WAIT, try_send(sender, request))
        .await
        .expect("response in time")
        .expect("response")
}

/// A response as a hyper client received it, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The bytes as sent (gzip when `Content-Encoding: gzip`).
    pub body: Bytes,
}

impl Reply {
    /// Reads `response` whole, bounded by [`WAIT`], failing the test on a body error.
    pub async fn read<B>(response: http::Response<B>) -> Self
    where
        B: Body,
        B::Error: std::fmt::Debug,
    {
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status,
            headers: parts.headers,
            body: body_bytes(body).await,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect()
    }
}

/// One request on a new HTTP/1.1 connection to `addr` (hyper's client), read whole, every step
/// bounded by [`WAIT`]. `request` names the path only; `Host` is added.
pub async fn fetch<B>(addr: SocketAddr, mut request: http::Request<B>) -> Reply
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    request.headers_mut().insert(
        http::header::HOST,
        http::HeaderValue::from_static("127.0.0.1"),
    );
    let mut sender = http1_client(addr).await;
    Reply::read(send(&mut sender, request).await).await
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    pub status_line: String,
    /// Header lines as sent, names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn status(&self) -> u16 {
        self.status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap()
    }
}

/// One HTTP/1.1 connection driven by hand, so tests see the exact bytes.
pub struct RawConnection {
    stream: TcpStream,
    buffered: Vec<u8>,
}

impl RawConnection {
    pub async fn open(addr: SocketAddr) -> Self {
        let stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
            .await
            .unwrap()
            .unwrap();
        Self {
            stream,
            buffered: Vec::new(),
        }
    }

    /// Sends `method path` with the given extra header lines and reads the response. The body is
    /// read by `Content-Length` or chunked encoding, or not at all for HEAD, 304 and 204.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> RawResponse {
        let mut request = format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        tokio::time::timeout(WAIT, self.stream.write_all(request.as_bytes()))
            .await
            .unwrap()
            .unwrap();
        tokio::time::timeout(WAIT, self.read_response(method == "HEAD"))
            .await
            .expect("response in time")
    }

    async fn fill(&mut self) {
        let mut buf = [0u8; 8192];
        let n = self.stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed early");
        self.buffered.extend_from_slice(&buf[..n]);
    }

    async fn take_until(&mut self, delimiter: &[u8]) -> Vec<u8> {
        loop {
            if let Some(at) = self
                .buffered
                .windows(delimiter.len())
                .position(|window| window == delimiter)
            {
                let taken: Vec<u8> = self.buffered.drain(..at + delimiter.len()).collect();
                return taken[..at].to_vec();
            }
            self.fill().await;
        }
    }

    async fn take_exact(&mut self, len: usize) -> Vec<u8> {
        while self.buffered.len() < len {
            self.fill().await;
        }
        self.buffered.drain(..len).collect()
    }

    async fn read_response(&mut self, head_request: bool) -> RawResponse {
        let head = String::from_utf8(self.take_until(b"\r\n\r\n").await).unwrap();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap().to_owned();
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (name, value) = line.split_once(':').unwrap();
                (name.to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        let mut response = RawResponse {
            status_line,
            headers,
            body: Vec::new(),
        };
        let status = response.status();
        if head_request || status == 304 || status == 204 {
            return response;
        }
        if let Some(len) = response.header("content-length") {
            let len: usize = len.parse().unwrap();
            response.body = self.take_exact(len).await;
        } else if response.header("transfer-encoding") == Some("chunked") {
            loop {
                let size_line = String::from_utf8(self.take_until(b"\r\n").await).unwrap();
                let size = usize::from_str_radix(size_line.trim(), 16).unwrap();
                if size == 0 {
                    // Trailers (if any) up to the blank line.
                    loop {
                        let line = self.take_until(b"\r\n").await;
                        if line.is_empty() {
                            break;
                        }
                        let line = String::from_utf8(line).unwrap();
                        let (name, value) = line.split_once(':').unwrap();
                        response
                            .headers
                            .push((name.to_ascii_lowercase(), value.trim().to_owned()));
                    }
                    break;
                }
                let chunk = self.take_exact(size).await;
                response.body.extend_from_slice(&chunk);
                self.take_until(b"\r\n").await;
            }
        }
        response
    }
}

/// Sends `method path` with these extra header lines on a new raw connection to `addr`, and
/// reads the response (see [`RawConnection::send`]).
pub async fn ask(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> RawResponse {
    RawConnection::open(addr)
        .await
        .send(method, path, headers)
        .await
}

/// Counts calls to a handler.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    pub fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Reads a whole body, failing the test on a body error.
pub async fn body_bytes<B>(body: B) -> Bytes
where
    B: Body,
    B::Error: std::fmt::Debug,
{
    use http_body_util::BodyExt;
    tokio::time::timeout(WAIT, body.collect())
        .await
        .unwrap()
        .unwrap()
        .to_bytes()
}

/// Reads `body` frame by frame up to its error, which must come before the end: the data
/// before it, and the error.
pub async fn data_until_error<B>(body: &mut B) -> (Vec<u8>, B::Error)
where
    B: Body<Data = Bytes> + Unpin,
{
    use http_body_util::BodyExt;
    let mut seen = Vec::new();
    loop {
        match body.frame().await.expect("an error before the end") {
            Ok(frame) => seen.extend_from_slice(&frame.into_data().unwrap()),
            Err(error) => return (seen, error),
        }
    }
}

pub fn infallible<T>(value: T) -> Result<T, Infallible> {
    Ok(value)
}

/// Whether the audit ran `check`: no "check: …" line among the skipped.
#[cfg(feature = "audit")]
pub fn ran(report: &tower_conditional::audit::Report, check: &str) -> bool {
    !report
        .skipped()
        .iter()
        .any(|why| why.starts_with(&format!("{check}:")))
}
