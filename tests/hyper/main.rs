//! The hyper adapter over loopback (what only HTTP has: headers, `Last-Event-ID`, 503s, body
//! frames), each scenario on tokio (`TokioIo`) and on smol (`FuturesIo`), plus axum. The delivery
//! behaviour every path shares is in `tests/delivery`. Tests wait on events, never on sleeps.

#[path = "../support/mod.rs"]
mod support;

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use futures_lite::StreamExt;
use http::{header, Request, StatusCode};
use http_body_util::{BodyExt, Either, Empty, Full};
use sse_pump::{
    channel, client::decode_body, hub::Hub, last_event_id, response, unavailable, Event, Sse,
    SseResponse,
};
use support::{
    guard,
    http::{fetch, serve, Listener},
};

fn get(addr: std::net::SocketAddr) -> http::request::Builder {
    Request::get(format!("http://{addr}/events")).header(header::HOST, addr.to_string())
}

/// Events with ids 1 to 3, and the response headers of an HTTP/1.1 request.
async fn streams_events_with_the_headers() {
    guard(async {
        let listener = Listener::bind().await;
        let addr = listener.addr();
        let server = async move {
            serve(listener.accept().await, |request| {
                let (tx, rx) = channel(8);
                for n in 1..=3 {
                    let event = Event::new().id(n.to_string()).data(format!("n={n}"));
                    tx.try_send(event).unwrap();
                }
                let sse = Sse::new(rx).retry(Duration::from_millis(1500));
                SseResponse::new(sse).version(request.version()).build()
            })
            .await
        };
        let client = async {
            let response = fetch(addr, get(addr).body(()).unwrap()).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let headers = response.headers();
            assert_eq!(
                headers[header::CONTENT_TYPE],
                "text/event-stream; charset=utf-8"
            );
            assert_eq!(headers[header::CACHE_CONTROL], "no-store");
            assert_eq!(headers["x-accel-buffering"], "no");
            assert_eq!(headers[header::CONTENT_ENCODING], "identity");
            assert_eq!(headers[header::CONNECTION], "keep-alive");
            let mut events = decode_body(response.into_body());
            let mut seen = Vec::new();
            while let Some(event) = events.try_next().await.unwrap() {
                seen.push((event.id, event.data));
            }
            let expected = [("1", "n=1"), ("2", "n=2"), ("3", "n=3")];
            assert_eq!(seen, expected.map(|(id, data)| (id.into(), data.into())));
            assert_eq!(
                events.decoder().reconnection_time(),
                Some(Duration::from_millis(1500))
            );
        };
        let (served, ()) = futures_lite::future::zip(server, client).await;
        served.unwrap();
    })
    .await
}

/// The handler sees `Last-Event-ID`, resumes after it, and refuses a bad one with 400.
async fn resumes_from_last_event_id() {
    guard(async {
        let listener = Listener::bind().await;
        let addr = listener.addr();
        let handler = |request: Request<hyper::body::Incoming>| {
            let resume = match last_event_id(request.headers()) {
                Ok(id) => id.and_then(|id| id.parse::<u64>().ok()).unwrap_or(0),
                Err(error) => {
                    let mut refusal =
                        http::Response::new(Full::new(Bytes::from(error.to_string())));
                    *refusal.status_mut() = StatusCode::BAD_REQUEST;
                    return refusal.map(|body| body.map_err(|never| match never {}).boxed());
                }
            };
            let events =
                (resume + 1..=resume + 2).map(|n| Event::new().id(n.to_string()).data("x"));
            let sse = Sse::from_stream(futures_lite::stream::iter(events));
            response(sse).map(|body| body.boxed())
        };
        let server = async move {
            let handler = Arc::new(handler);
            for _ in 0..2 {
                let handler = handler.clone();
                serve(listener.accept().await, move |r| handler(r))
                    .await
                    .unwrap();
            }
        };
        let client = async {
            let request = get(addr).header("last-event-id", "41").body(()).unwrap();
            let body = fetch(addr, request).await.unwrap().into_body();
            let events: Vec<_> = decode_body(body).try_collect().await.unwrap();
            let ids: Vec<_> = events.iter().map(|e| e.id.as_str()).collect();
            assert_eq!(ids, ["42", "43"]);

            let long = "9".repeat(sse_pump::MAX_LAST_EVENT_ID + 1);
            let request = get(addr).header("last-event-id", long).body(()).unwrap();
            let refused = fetch(addr, request).await.unwrap();
            assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
            let text = refused.into_body().collect().await.unwrap().to_bytes();
            assert!(text.starts_with(b"last-event-id of 1025 bytes"), "{text:?}");
        };
        futures_lite::future::zip(server, client).await;
    })
    .await
}

/// A hub with `max_subscribers(1)`: the first client streams, the second is refused with
/// `503` and `Retry-After` (2.5 s, rounded up to 3), and the first still gets what is
/// published afterwards.
async fn a_full_hub_answers_503_with_retry_after() {
    guard(async {
        let listener = Listener::bind().await;
        let addr = listener.addr();
        let hub = Hub::builder().max_subscribers(1).build();
        let handler = {
            let hub = hub.clone();
            move |_request: Request<hyper::body::Incoming>| match hub.subscribe(None) {
                Ok(rx) => response(Sse::new(rx)).map(Either::Left),
                Err(_) => {
                    unavailable::<Empty<Bytes>>(Duration::from_millis(2500)).map(Either::Right)
                }
            }
        };
        let server = async move {
            let handler = Arc::new(handler);
            let mut connections = Vec::new();
            for _ in 0..2 {
                let handler = handler.clone();
                connections.push(serve(listener.accept().await, move |r| handler(r)));
            }
            connections
        };
        let client = async {
            let first = fetch(addr, get(addr).body(()).unwrap()).await.unwrap();
            assert_eq!(first.status(), StatusCode::OK);
            assert_eq!(hub.stats().subscribers, 1);

            let refused = fetch(addr, get(addr).body(()).unwrap()).await.unwrap();
            assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(refused.headers()[header::RETRY_AFTER], "3");
            let body = refused.into_body().collect().await.unwrap().to_bytes();
            assert!(body.is_empty(), "{body:?}");
            let stats = hub.stats();
            assert_eq!((stats.subscribers, stats.refused), (1, 1));

            hub.publish(Event::new().data("still here")).unwrap();
            let mut events = decode_body(first.into_body());
            let event = events.try_next().await.unwrap().unwrap();
            assert_eq!(
                (event.id.as_str(), event.data.as_str()),
                ("1", "still here")
            );
            events
        };
        let (connections, mut events) = futures_lite::future::zip(server, client).await;
        hub.close(None);
        assert!(events.try_next().await.unwrap().is_none());
        for connection in connections {
            connection.await.unwrap();
        }
    })
    .await
}

on_both!(
    streams_events_with_the_headers,
    a_full_hub_answers_503_with_retry_after,
    resumes_from_last_event_id,
);

/// Queued events leave in one body frame, no larger than the coalescing limit.
#[test]
fn queued_events_share_a_frame() {
    futures_lite::future::block_on(async {
        let (tx, rx) = channel(200);
        for n in 0..100 {
            tx.try_send(Event::new().data(format!("{n:03}"))).unwrap();
        }
        drop(tx);
        let mut body = sse_pump::SseBody::new(Sse::new(rx).coalesce(10 * 11));
        let mut frames = Vec::new();
        while let Some(frame) = body.frame().await {
            frames.push(frame.unwrap().into_data().unwrap());
        }
        assert_eq!(frames.len(), 10, "100 frames of 11 bytes, 10 to a frame");
        assert!(frames.iter().all(|f| f.len() == 110));
        let wire: Vec<u8> = frames.concat();
        let expected: String = (0..100).map(|n| format!("data: {n:03}\n\n")).collect();
        assert_eq!(wire, expected.as_bytes());
    })
}

/// axum serves the body as it is.
#[tokio::test]
async fn axum_serves_the_body() {
    use axum::{routing::get as route_get, Router};
    guard(async {
        let app = Router::new().route(
            "/events",
            route_get(|| async {
                let events = (1..=2).map(|n| Event::new().data(format!("axum {n}")));
                response(Sse::from_stream(futures_lite::stream::iter(events)))
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let response = fetch(addr, get(addr).body(()).unwrap()).await.unwrap();
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream; charset=utf-8"
        );
        let events: Vec<_> = decode_body(response.into_body())
            .try_collect()
            .await
            .unwrap();
        let data: Vec<_> = events.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["axum 1", "axum 2"]);
    })
    .await
}

/// The body's report counts the bytes hyper was given, after line-ending conversion.
#[test]
fn the_report_counts_the_bytes_sent() {
    futures_lite::future::block_on(async {
        let (tx, rx) = channel(8);
        tx.try_send(Event::new().data("a\nb")).unwrap();
        tx.try_send(Event::new().data("c")).unwrap();
        drop(tx);
        let sse = Sse::new(rx)
            .retry(Duration::from_secs(1))
            .line_ending(sse_pump::LineEnding::CrLf);
        let body = sse_pump::SseBody::new(sse);
        let report = body.report();
        let wire = body.collect().await.unwrap().to_bytes();
        assert_eq!(
            wire,
            "retry: 1000\r\n\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n"
        );
        let report = report.wait().await;
        assert_eq!((report.bytes, report.events), (wire.len() as u64, 2));
    })
}
