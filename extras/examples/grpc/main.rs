//! `cargo run -p tower-conditional-extras --example grpc`
//!
//! A tonic gRPC server whose layer stack includes `ConditionalLayer`, called by a real tonic
//! client over 127.0.0.1. gRPC calls are POSTs with `application/grpc` bodies, so the layer lets
//! them through untouched: no entity tag, nothing buffered (the streamed replies arrive one by
//! one), `grpc-status` trailers intact. That is what lets one `ServiceBuilder` serve a REST
//! router and gRPC services side by side.

mod echo;

use std::time::Duration;

use echo::{EchoClient, EchoRequest, EchoServer, FAIL};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Endpoint, Server};
use tower::ServiceBuilder;
use tower_conditional::ConditionalLayer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let layers = ServiceBuilder::new()
        .layer(ConditionalLayer::new())
        .into_inner();
    tokio::spawn(
        Server::builder()
            .layer(layers)
            .add_service(EchoServer::new())
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    println!("gRPC server on http://{addr} with ConditionalLayer in its layer stack");

    let channel = Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await?;
    let mut client = EchoClient::new(channel);

    let reply = client
        .unary(EchoRequest {
            text: "hello".into(),
            count: 0,
        })
        .await?;
    println!("Unary(hello)     -> {:?}", reply.get_ref());
    let etag = reply.metadata().get("etag");
    println!("  etag header    -> {etag:?} (none: gRPC passes through)");

    let status = client
        .unary(EchoRequest {
            text: FAIL.into(),
            count: 0,
        })
        .await
        .err()
        .ok_or("the failing call succeeded")?;
    println!(
        "Unary(fail)      -> {:?}: {}",
        status.code(),
        status.message()
    );

    let mut stream = client
        .stream(EchoRequest {
            text: "tick".into(),
            count: 3,
        })
        .await?
        .into_inner();
    while let Some(reply) = stream.message().await? {
        println!("Stream(tick, 3)  -> {reply:?}");
    }
    Ok(())
}
