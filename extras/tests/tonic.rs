//! tonic: a gRPC server whose layer stack includes `ConditionalLayer`, called by a real tonic
//! client (and a raw HTTP/2 client, to see the trailers) over 127.0.0.1. gRPC calls are POSTs of
//! `application/grpc`, so they must pass through exactly as they would without the layer.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../examples/grpc/echo.rs"]
mod echo;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use common::{WAIT, send};
use echo::{EchoClient, EchoReply, EchoRequest, EchoServer, FAIL, UNARY};
use http::{HeaderMap, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::{Endpoint, Server};
use tower::ServiceBuilder;
use tower_conditional::ConditionalLayer;

/// Serves `echo.Echo` on 127.0.0.1, with `ConditionalLayer` in the server's `ServiceBuilder`
/// stack or without it, until the test's runtime ends.
async fn serve(service: EchoServer, with_layer: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = TcpListenerStream::new(listener);
    if with_layer {
        let layers = ServiceBuilder::new()
            .layer(ConditionalLayer::new())
            .into_inner();
        let server = Server::builder().layer(layers).add_service(service);
        tokio::spawn(server.serve_with_incoming(incoming));
    } else {
        let server = Server::builder().add_service(service);
        tokio::spawn(server.serve_with_incoming(incoming));
    }
    addr
}

async fn client(addr: SocketAddr) -> EchoClient {
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(WAIT)
        .timeout(WAIT)
        .connect()
        .await
        .unwrap();
    EchoClient::new(channel)
}

fn request(text: &str, count: u32) -> EchoRequest {
    EchoRequest {
        text: text.to_owned(),
        count,
    }
}

#[tokio::test]
async fn unary_calls_pass_through_with_their_status() {
    let addr = serve(EchoServer::new(), true).await;
    let mut client = client(addr).await;

    let reply = timeout(WAIT, client.unary(request("hello", 0)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        reply.get_ref(),
        &EchoReply {
            text: "hello".into(),
            index: 0
        }
    );
    assert!(reply.metadata().get("etag").is_none(), "gRPC got an ETag");

    let status = timeout(WAIT, client.unary(request(FAIL, 0)))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(status.message(), "no echo for you");
}

#[tokio::test]
async fn server_streaming_is_not_buffered_and_ends_with_its_status() {
    const REPLIES: u32 = 4;
    let pace = Arc::new(Semaphore::new(0));
    let addr = serve(EchoServer::paced(pace.clone()), true).await;
    let mut client = client(addr).await;

    let mut stream = timeout(WAIT, client.stream(request(FAIL, REPLIES)))
        .await
        .unwrap()
        .unwrap()
        .into_inner();
    for index in 0..REPLIES {
        // The server sends reply `index` only after this client has received the one before,
        // so a layer that held the body back would stall here and the timeout would fail.
        let reply = timeout(WAIT, stream.message())
            .await
            .unwrap_or_else(|_| panic!("reply {index} never arrived: the stream was held back"))
            .unwrap()
            .unwrap();
        assert_eq!(reply.index, index);
        assert_eq!(reply.text, FAIL);
        pace.add_permits(1);
    }
    // The stream then ends with the status the server set, carried in the trailers.
    let status = timeout(WAIT, stream.message()).await.unwrap().unwrap_err();
    assert_eq!(status.code(), Code::Aborted);
    assert_eq!(status.message(), "stream failed on purpose");
}

/// What a raw HTTP/2 client sees of one unary call: the response headers (less `date`), the
/// body bytes and the trailers.
async fn raw_unary(addr: SocketAddr, text: &str) -> (HeaderMap, Bytes, HeaderMap) {
    let stream = timeout(WAIT, TcpStream::connect(addr))
        .await
        .unwrap()
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);

    // A gRPC message: uncompressed flag, big-endian length, the protobuf bytes.
    let message = request(text, 0).encode_to_vec();
    let mut frame = BytesMut::new();
    frame.put_u8(0);
    frame.put_u32(u32::try_from(message.len()).unwrap());
    frame.put_slice(&message);
    let request = Request::post(format!("http://{addr}{UNARY}"))
        .header(header::CONTENT_TYPE, "application/grpc")
        .header(header::TE, "trailers")
        .body(Full::new(frame.freeze()))
        .unwrap();
    let response = send(&mut sender, request).await;
    let mut headers = response.headers().clone();
    headers.remove(header::DATE);
    let collected = timeout(WAIT, response.into_body().collect())
        .await
        .unwrap()
        .unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    (headers, collected.to_bytes(), trailers)
}

#[tokio::test]
async fn the_wire_is_the_same_with_and_without_the_layer() {
    let with = serve(EchoServer::new(), true).await;
    let without = serve(EchoServer::new(), false).await;

    let (headers, body, trailers) = raw_unary(with, "hello").await;
    assert_eq!(headers["content-type"], "application/grpc");
    assert!(headers.get(header::ETAG).is_none());
    assert_eq!(trailers["grpc-status"], "0", "trailers: {trailers:?}");
    let length = usize::try_from(u32::from_be_bytes(body[1..5].try_into().unwrap())).unwrap();
    assert_eq!(body.len(), 5 + length);
    let reply = EchoReply::decode(&body[5..]).unwrap();
    assert_eq!(reply.text, "hello");

    assert_eq!(
        (headers, body, trailers),
        raw_unary(without, "hello").await,
        "the layer changed a gRPC response"
    );
}

#[tokio::test]
async fn one_layer_stack_serves_rest_routes_and_grpc_side_by_side() {
    let rest = axum::Router::new().route("/page", axum::routing::get(|| async { "rest page" }));
    let routes = Routes::from(rest).add_service(EchoServer::new());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::builder()
        .accept_http1(true)
        .layer(ConditionalLayer::new())
        .add_routes(routes);
    tokio::spawn(server.serve_with_incoming(TcpListenerStream::new(listener)));

    // The REST route is tagged and revalidates to 304 ...
    let mut connection = common::RawConnection::open(addr).await;
    let page = connection.send("GET", "/page", &[]).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.body, b"rest page");
    let etag = page.header("etag").expect("the page is tagged").to_owned();
    let revalidated = connection
        .send("GET", "/page", &[("if-none-match", &etag)])
        .await;
    assert_eq!(revalidated.status(), 304);

    // ... while gRPC on the same server passes through.
    let (headers, _, trailers) = raw_unary(addr, "hello").await;
    assert!(headers.get(header::ETAG).is_none());
    assert_eq!(trailers["grpc-status"], "0");
    let reply = timeout(WAIT, client(addr).await.unary(request("hello", 0)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply.get_ref().text, "hello");
}
