//! Helpers shared by the integration tests: scripted bodies, a server on 127.0.0.1, and a raw
//! HTTP/1.1 client that shows exactly what went over the wire.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every wait in the tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(10);

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

/// A hyper HTTP/1.1 client on one new connection to `addr`; the connection is driven by a task
/// that ends with it.
pub async fn http1_client(
    addr: SocketAddr,
) -> hyper::client::conn::http1::SendRequest<http_body_util::Empty<Bytes>> {
    let stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
        .await
        .expect("connected in time")
        .unwrap();
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    sender
}

/// Sends `request` on `sender` once the connection is ready for it, each step bounded by
/// [`WAIT`]. hyper's HTTP/1.1 `SendRequest` refuses a request with `Canceled` ("connection was
/// not ready") while the connection is still finishing the previous response, which a busy
/// machine makes likely: every request after the first on a connection must wait for `ready()`.
pub async fn send<B>(
    sender: &mut hyper::client::conn::http1::SendRequest<B>,
    request: http::Request<B>,
) -> hyper::Response<hyper::body::Incoming>
where
    B: Body + 'static,
{
    tokio::time::timeout(WAIT, sender.ready())
        .await
        .expect("connection ready in time")
        .expect("connection ready");
    tokio::time::timeout(WAIT, sender.send_request(request))
        .await
        .expect("response in time")
        .expect("response")
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

pub fn infallible<T>(value: T) -> Result<T, Infallible> {
    Ok(value)
}
