//! `axum::serve` itself, with sse-pump's axum pieces: a client that stops reading loses its
//! connection and its producer, and the stream and the `Last-Event-ID` extractor work as
//! axum handlers.

use std::{
    os::fd::AsFd,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    routing::get,
    serve::{ListenerExt, TapIo},
    Router,
};
use futures_lite::StreamExt;
use http::{header, Request, StatusCode};
use http_body_util::BodyStream;
use sse_pump::{
    adapters::axum::{LastEventId, WriteTimeoutListener},
    channel, Ended, Event, ReportHandle, Sse,
};

use crate::{
    assert_connection_closed,
    support::{guard, http::fetch, on_tokio},
};

type Tcp = TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)>;

/// A listener for `axum::serve`: small send buffers, writes limited to `limit`.
async fn listener(limit: Duration) -> (WriteTimeoutListener<Tcp>, std::net::SocketAddr) {
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let tcp = tcp.tap_io(shrink as fn(&mut tokio::net::TcpStream));
    (WriteTimeoutListener::new(tcp, limit), addr)
}

/// Caps the kernel's send buffer, so that a stall shows after kilobytes, not megabytes.
fn shrink(stream: &mut tokio::net::TcpStream) {
    let fd = stream.as_fd();
    socket2::SockRef::from(&fd)
        .set_send_buffer_size(16 * 1024)
        .unwrap();
}

#[test]
fn axum_serve_drops_a_client_that_stops_reading() {
    on_tokio(guard(async {
        let (listener, addr) = listener(Duration::from_secs(1)).await;
        let (done_tx, done) = async_channel::bounded(1);
        let reports = Arc::new(Mutex::new(None::<ReportHandle>));
        let report_slot = reports.clone();
        let events = move || {
            let (tx, rx) = channel(4);
            let done_tx = done_tx.clone();
            tokio::spawn(async move {
                let chunk = "x".repeat(1024);
                let mut sent = 0u64;
                while tx.send(Event::new().data(&chunk)).await.is_ok() {
                    sent += 1;
                }
                done_tx.send(sent).await.unwrap();
            });
            let sse = Sse::new(rx).send_timeout(Duration::from_millis(300));
            let response = sse_pump::response(sse);
            *report_slot.lock().unwrap() = Some(response.body().report());
            async move { response.map(axum::body::Body::new) }
        };
        tokio::spawn(async move {
            axum::serve(listener, Router::new().route("/events", get(events))).await
        });
        let client = crate::paths::stalled_client(addr);
        let sent = done.recv().await.unwrap();
        assert!(sent > 16, "{sent}");
        assert_connection_closed(client).await;
        let report = reports.lock().unwrap().take().unwrap();
        let report = report.wait().await;
        assert_eq!(report.ended, Ended::SendTimeout, "{report:?}");
    }))
}

/// The handler returns `Sse` itself, resuming after the `LastEventId` it extracted; a
/// malformed id is a 400.
#[test]
fn an_sse_handler_with_last_event_id() {
    on_tokio(guard(async {
        async fn events(LastEventId(last): LastEventId) -> Sse<impl sse_pump::Source> {
            let start = last
                .and_then(|id| id.parse::<u64>().ok())
                .map_or(0, |n| n + 1);
            let events =
                (start..start + 2).map(|n| Event::new().id(n.to_string()).data(n.to_string()));
            Sse::from_stream(futures_lite::stream::iter(events)).keep_alive(None)
        }
        let (listener, addr) = listener(Duration::from_secs(5)).await;
        tokio::spawn(async move {
            axum::serve(listener, Router::new().route("/events", get(events))).await
        });
        let request = |id: &str| {
            Request::get(format!("http://{addr}/events"))
                .header(header::HOST, addr.to_string())
                .header("last-event-id", id)
                .body(())
                .unwrap()
        };
        let response = fetch(addr, request("7")).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream; charset=utf-8"
        );
        let mut body = Vec::new();
        let mut frames = BodyStream::new(response.into_body());
        while let Some(frame) = frames.next().await {
            body.extend_from_slice(&frame.unwrap().into_data().unwrap());
        }
        assert_eq!(body, b"id: 8\ndata: 8\n\nid: 9\ndata: 9\n\n");

        let long = "x".repeat(sse_pump::MAX_LAST_EVENT_ID + 1);
        let refused = fetch(addr, request(&long)).await.unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    }))
}
