//! A small gRPC service, `echo.Echo`, written by hand the way `tonic-build` would generate it
//! from this definition, so neither `protoc` nor a build script is needed:
//!
//! ```proto
//! syntax = "proto3";
//! package echo;
//! service Echo {
//!   rpc Unary(EchoRequest) returns (EchoReply);
//!   rpc Stream(EchoRequest) returns (stream EchoReply);
//! }
//! message EchoRequest { string text = 1; uint32 count = 2; }
//! message EchoReply { string text = 1; uint32 index = 2; }
//! ```
//!
//! Shared by `examples/grpc/main.rs` and `tests/tonic.rs`.
#![allow(dead_code)]

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::uri::PathAndQuery;
use tokio::sync::{Semaphore, mpsc};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};
use tonic_prost::ProstCodec;

/// `message EchoRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoRequest {
    #[prost(string, tag = "1")]
    pub text: String,
    /// How many replies `Stream` sends.
    #[prost(uint32, tag = "2")]
    pub count: u32,
}

/// `message EchoReply`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoReply {
    #[prost(string, tag = "1")]
    pub text: String,
    #[prost(uint32, tag = "2")]
    pub index: u32,
}

pub const UNARY: &str = "/echo.Echo/Unary";
pub const STREAM: &str = "/echo.Echo/Stream";

/// The text that makes `Unary` fail with `NOT_FOUND`, and `Stream` end with `ABORTED` after its
/// replies: errors travel in `grpc-status` / `grpc-message`, which must reach the client intact.
pub const FAIL: &str = "fail";

/// How long a paced stream waits for the client before giving up.
const PACE_TIMEOUT: Duration = Duration::from_secs(10);

/// The server side of `echo.Echo`.
#[derive(Clone, Default)]
pub struct EchoServer {
    pace: Option<Arc<Semaphore>>,
}

impl EchoServer {
    /// Replies to `Stream` as fast as they can be sent.
    pub fn new() -> Self {
        Self::default()
    }

    /// `Stream` sends its first reply at once and each following reply only after `pace` gets
    /// a permit, which a client adds when it has received the previous reply. A layer that
    /// buffered the response would hold the first reply back, and the stream would stall.
    pub fn paced(pace: Arc<Semaphore>) -> Self {
        Self { pace: Some(pace) }
    }

    async fn unary(request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        let request = request.into_inner();
        if request.text == FAIL {
            return Err(Status::not_found("no echo for you"));
        }
        Ok(Response::new(EchoReply {
            text: request.text,
            index: 0,
        }))
    }

    async fn stream(&self, request: Request<EchoRequest>) -> Result<Response<ReplyStream>, Status> {
        let request = request.into_inner();
        let (sender, receiver) = mpsc::channel(1);
        let pace = self.pace.clone();
        tokio::spawn(async move {
            for index in 0..request.count {
                if index > 0
                    && let Some(pace) = &pace
                {
                    let permit = tokio::time::timeout(PACE_TIMEOUT, pace.acquire()).await;
                    match permit {
                        Ok(Ok(permit)) => permit.forget(),
                        _ => {
                            let stalled = Status::deadline_exceeded("the client never got a reply");
                            let _ = sender.send(Err(stalled)).await;
                            return;
                        }
                    }
                }
                let reply = EchoReply {
                    text: request.text.clone(),
                    index,
                };
                if sender.send(Ok(reply)).await.is_err() {
                    return;
                }
            }
            if request.text == FAIL {
                let _ = sender
                    .send(Err(Status::aborted("stream failed on purpose")))
                    .await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }
}

type ReplyStream = Pin<Box<dyn Stream<Item = Result<EchoReply, Status>> + Send>>;

impl NamedService for EchoServer {
    const NAME: &'static str = "echo.Echo";
}

impl tower::Service<http::Request<Body>> for EchoServer {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let codec = ProstCodec::<EchoReply, EchoRequest>::default();
            let mut grpc = tonic::server::Grpc::new(codec);
            let response = match request.uri().path() {
                UNARY => {
                    grpc.unary(tower::service_fn(EchoServer::unary), request)
                        .await
                }
                STREAM => {
                    let stream = tower::service_fn(move |request| {
                        let this = this.clone();
                        async move { this.stream(request).await }
                    });
                    grpc.server_streaming(stream, request).await
                }
                _ => Status::new(Code::Unimplemented, "no such method").into_http(),
            };
            Ok(response)
        })
    }
}

/// The client side of `echo.Echo`.
#[derive(Clone)]
pub struct EchoClient {
    grpc: tonic::client::Grpc<Channel>,
}

impl EchoClient {
    pub fn new(channel: Channel) -> Self {
        Self {
            grpc: tonic::client::Grpc::new(channel),
        }
    }

    pub async fn unary(&mut self, request: EchoRequest) -> Result<Response<EchoReply>, Status> {
        self.ready().await?;
        let codec = ProstCodec::<EchoRequest, EchoReply>::default();
        let path = PathAndQuery::from_static(UNARY);
        self.grpc.unary(Request::new(request), path, codec).await
    }

    pub async fn stream(
        &mut self,
        request: EchoRequest,
    ) -> Result<Response<tonic::Streaming<EchoReply>>, Status> {
        self.ready().await?;
        let codec = ProstCodec::<EchoRequest, EchoReply>::default();
        let path = PathAndQuery::from_static(STREAM);
        self.grpc
            .server_streaming(Request::new(request), path, codec)
            .await
    }

    async fn ready(&mut self) -> Result<(), Status> {
        self.grpc
            .ready()
            .await
            .map_err(|error| Status::unavailable(error.to_string()))
    }
}
