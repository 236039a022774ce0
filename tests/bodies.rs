//! What the layer does to bodies: chunks forwarded as they came, trailers kept, errors delivered
//! as errors, the buffer limit held on real bytes, and streams never buffered.

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::response::sse::{Event, Sse};
use axum::routing::get;
use bytes::Bytes;
use common::{
    BoxError, Scripted, WAIT, body_bytes, data_until_error, http1_client, serve, through, try_send,
};
use futures_util::StreamExt;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, SizeHint};
use http_body_util::{BodyExt, Empty, Full};
use tower::{Layer, ServiceExt, service_fn};
use tower_conditional::ConditionalLayer;

static STATIC_BODY: [u8; 16 * 1024] = [b'z'; 16 * 1024];

#[tokio::test]
async fn chunks_are_forwarded_as_the_same_buffers() {
    // A single-frame body comes out as the very same bytes, not a copy.
    let response = through(
        ConditionalLayer::new(),
        Method::GET,
        Response::new(Full::new(Bytes::from_static(&STATIC_BODY))),
    )
    .await;
    assert!(response.headers().contains_key(ETAG));
    let mut body = response.into_body();
    let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(frame.as_ptr(), STATIC_BODY.as_ptr());
    assert_eq!(frame.len(), STATIC_BODY.len());
    assert!(body.frame().await.is_none());

    // A chunked body comes out in its own chunks.
    let response = through(
        ConditionalLayer::new(),
        Method::GET,
        Response::new(Scripted::chunks(
            STATIC_BODY.chunks(1024).map(Bytes::from_static),
        )),
    )
    .await;
    assert!(response.headers().contains_key(ETAG));
    let mut body = response.into_body();
    let mut frames = 0;
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap();
        assert_eq!(data.as_ptr(), STATIC_BODY[frames * 1024..].as_ptr());
        assert_eq!(data.len(), 1024);
        frames += 1;
    }
    assert_eq!(frames, 16);
}

#[tokio::test]
async fn empty_frames_do_not_change_the_tag() {
    let plain = through(
        ConditionalLayer::new(),
        Method::GET,
        Response::new(Scripted::chunks(["ab", "cd"])),
    )
    .await;
    let with_empty = through(
        ConditionalLayer::new(),
        Method::GET,
        Response::new(Scripted::chunks(["", "ab", "", "", "cd", ""])),
    )
    .await;
    assert_eq!(plain.headers()[ETAG], with_empty.headers()[ETAG]);
    assert_eq!(body_bytes(with_empty.into_body()).await, "abcd".as_bytes());
}

#[tokio::test]
async fn trailers_pass_through_and_keep_the_body_chunked() {
    let mut trailers = HeaderMap::new();
    trailers.insert("x-checksum", HeaderValue::from_static("42"));
    let response = through(
        ConditionalLayer::new(),
        Method::GET,
        Response::new(Scripted::chunks(["hello ", "world"]).with_trailers(trailers)),
    )
    .await;
    assert!(response.headers().contains_key(ETAG));
    // A Content-Length would force HTTP/1.1 to drop the trailers.
    assert!(!response.headers().contains_key(CONTENT_LENGTH));
    assert_eq!(response.body().size_hint().exact(), None);
    let collected = response.into_body().collect().await.unwrap();
    assert_eq!(collected.trailers().unwrap()["x-checksum"], "42");
    assert_eq!(collected.to_bytes(), "hello world".as_bytes());
}

#[tokio::test]
async fn a_body_error_reaches_the_client_as_an_error_not_a_tagged_200() {
    for error_after in [vec![], vec!["a"], vec!["abc", "def"]] {
        let response = through(
            ConditionalLayer::new().buffer_limit(1024),
            Method::GET,
            Response::new(Scripted::chunks(error_after).with_error("disk on fire")),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(!response.headers().contains_key(ETAG));
        let result = response.into_body().collect().await;
        assert_eq!(result.unwrap_err().to_string(), "disk on fire");
    }
    // Past the limit the rest streams through, error included.
    let response = through(
        ConditionalLayer::new().buffer_limit(4),
        Method::GET,
        Response::new(Scripted::chunks(["abc", "def", "ghi"]).with_error("late failure")),
    )
    .await;
    assert!(!response.headers().contains_key(ETAG));
    let (seen, error) = data_until_error(&mut response.into_body()).await;
    assert_eq!(seen, b"abcdefghi");
    assert_eq!(error.to_string(), "late failure");
}

#[tokio::test]
async fn a_body_error_over_tcp_aborts_the_response() {
    let app = Router::new()
        .route(
            "/",
            get(|| async {
                axum::body::Body::new(Scripted::chunks(["partial "]).with_error("broken"))
            }),
        )
        .layer(ConditionalLayer::new());
    let addr = serve(app).await;
    let mut sender = http1_client(addr).await;
    let response = tokio::time::timeout(
        WAIT,
        try_send(
            &mut sender,
            Request::get("/")
                .header("host", "127.0.0.1")
                .body(Empty::<Bytes>::new())
                .unwrap(),
        ),
    )
    .await
    .unwrap();
    // hyper may abort before or after the head is out; either way no complete body arrives.
    if let Ok(response) = response {
        assert_eq!(response.status(), StatusCode::OK);
        assert!(!response.headers().contains_key(ETAG));
        let result = tokio::time::timeout(WAIT, response.into_body().collect())
            .await
            .unwrap();
        assert!(result.is_err(), "the client must not see a complete body");
    }
}

#[tokio::test]
async fn the_limit_holds_on_real_bytes_whatever_the_size_hint_says() {
    let limit = 4096;
    let total = Arc::new(AtomicUsize::new(0));
    for hint in [SizeHint::with_exact(10), SizeHint::new()] {
        let polled = Arc::new(AtomicUsize::new(0));
        let mut body = Scripted::chunks(vec![vec![9u8; 1000]; 10]).with_hint(hint);
        body.polled = polled.clone();
        let response = through(
            ConditionalLayer::new().buffer_limit(limit),
            Method::GET,
            Response::new(body),
        )
        .await;
        assert!(!response.headers().contains_key(ETAG));
        // Read up to the first chunk past the limit, no further.
        assert_eq!(polled.load(Ordering::SeqCst), 5);
        let bytes = body_bytes(response.into_body()).await;
        assert_eq!(bytes.len(), 10_000);
        total.fetch_add(bytes.len(), Ordering::SeqCst);
    }
    assert_eq!(total.load(Ordering::SeqCst), 20_000);

    // Exactly at the limit is still tagged.
    let response = through(
        ConditionalLayer::new().buffer_limit(4000),
        Method::GET,
        Response::new(Scripted::chunks(vec![vec![9u8; 1000]; 4])),
    )
    .await;
    assert!(response.headers().contains_key(ETAG));
}

#[tokio::test]
async fn head_over_the_limit_has_no_tag_and_its_body_left_to_the_server() {
    let response = through(
        ConditionalLayer::new().buffer_limit(100),
        Method::HEAD,
        Response::new(Scripted::chunks(vec![vec![1u8; 80]; 3]).exact()),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response.headers().contains_key(ETAG));
    // The server omits a HEAD body (hyper does, axum's router does); its length still says
    // what GET would send, as without the layer.
    assert!(!response.headers().contains_key(CONTENT_LENGTH));
    assert_eq!(response.body().size_hint().exact(), Some(240));
}

#[tokio::test]
async fn grpc_and_event_streams_are_not_read_by_the_layer() {
    for content_type in [
        "application/grpc",
        "application/grpc+proto",
        "text/event-stream; charset=utf-8",
        "TEXT/EVENT-STREAM",
    ] {
        let polled = Arc::new(AtomicUsize::new(0));
        let mut body = Scripted::chunks(["data: 1\n\n"]);
        body.polled = polled.clone();
        let mut response = Response::new(body);
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        let response = through(ConditionalLayer::new(), Method::GET, response).await;
        assert_eq!(polled.load(Ordering::SeqCst), 0, "{content_type} was read");
        assert!(!response.headers().contains_key(ETAG), "{content_type}");
    }
}

#[tokio::test]
async fn server_sent_events_arrive_while_the_stream_is_open() {
    let (events, receiver) = tokio::sync::mpsc::channel::<&'static str>(4);
    let receiver = Arc::new(tokio::sync::Mutex::new(Some(receiver)));
    let app = Router::new()
        .route(
            "/events",
            get(move || {
                let receiver = receiver.clone();
                async move {
                    let receiver = receiver.lock().await.take().unwrap();
                    let stream = tokio_stream_from(receiver)
                        .map(|data| Ok::<_, Infallible>(Event::default().data(data)));
                    Sse::new(stream)
                }
            }),
        )
        .layer(ConditionalLayer::new());
    let addr = serve(app).await;
    let mut sender = http1_client(addr).await;
    events.send("first").await.unwrap();
    let response = tokio::time::timeout(
        WAIT,
        try_send(
            &mut sender,
            Request::get("/events")
                .header("host", "127.0.0.1")
                .body(Empty::<Bytes>::new())
                .unwrap(),
        ),
    )
    .await
    .expect("headers arrive while the stream is open")
    .unwrap();
    assert!(!response.headers().contains_key(ETAG));
    let mut body = response.into_body();
    let frame = tokio::time::timeout(WAIT, body.frame())
        .await
        .expect("first event arrives while the stream is open")
        .unwrap()
        .unwrap();
    assert_eq!(frame.into_data().unwrap(), "data: first\n\n");
    // The stream is still open: the sender is alive, so nothing more has come.
    assert!(
        tokio::time::timeout(Duration::from_millis(50), body.frame())
            .await
            .is_err()
    );
    events.send("second").await.unwrap();
    let frame = tokio::time::timeout(WAIT, body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(frame.into_data().unwrap(), "data: second\n\n");
}

/// A stream of the channel's messages, ending when every sender is gone.
fn tokio_stream_from<T: Send + 'static>(
    receiver: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
}

#[tokio::test]
async fn inner_errors_pass_through() {
    let service = ConditionalLayer::new().layer(service_fn(|_: Request<Empty<Bytes>>| async {
        Err::<Response<Empty<Bytes>>, BoxError>("inner failed".into())
    }));
    let error = service
        .oneshot(Request::get("/").body(Empty::new()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "inner failed");
}

#[tokio::test]
async fn a_precondition_on_a_large_streamed_body_still_sees_the_handler_tag() {
    // The handler's tag needs no buffering, whatever the size.
    let mut response = Response::new(Scripted::chunks(vec![vec![0u8; 1000]; 100]));
    response
        .headers_mut()
        .insert(ETAG, HeaderValue::from_static("\"big-v1\""));
    let response = through(
        ConditionalLayer::new().buffer_limit(10),
        Method::GET,
        response,
    )
    .await;
    assert_eq!(response.headers()[ETAG], "\"big-v1\"");
    assert_eq!(body_bytes(response.into_body()).await.len(), 100_000);

    let service = ConditionalLayer::new().layer(service_fn(|_: Request<Empty<Bytes>>| async {
        let mut response = Response::new(Scripted::chunks(vec![vec![0u8; 1000]; 100]));
        response
            .headers_mut()
            .insert(ETAG, HeaderValue::from_static("\"big-v1\""));
        Ok::<_, Infallible>(response)
    }));
    let request = Request::get("/")
        .header(IF_NONE_MATCH, "\"big-v1\"")
        .body(Empty::new())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
}
