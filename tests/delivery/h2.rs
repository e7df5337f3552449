//! HTTP/2: one stream stalled (its client never reads it, so its flow-control window stays
//! shut) among healthy ones on the same connection. Its producer ends within the send
//! timeout, with bounded memory, while the other stream goes on.

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::Bytes;
use futures_lite::StreamExt;
use http::Request;
use http_body_util::{BodyStream, Empty};
use sse_pump::{channel, Ended, Event, ReportHandle, Sender, Sse};

use crate::support::{self, guard, http::Listener};

/// hyper's executor for HTTP/2 tasks, on whichever runtime the test runs in.
#[derive(Clone, Copy)]
struct Exec;

impl<F> hyper::rt::Executor<F> for Exec
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, fut: F) {
        support::detach(fut);
    }
}

async fn a_stalled_stream_ends_its_producer_only() {
    guard(stalled_stream()).await
}

async fn stalled_stream() {
    let listener = Listener::bind().await;
    let addr = listener.addr();
    // Each request gets its own channel; the server hands the test each sender and report.
    let (streams_tx, streams) = async_channel::unbounded::<(Sender, ReportHandle)>();
    support::detach(async move {
        let io = listener.accept().await;
        let service = hyper::service::service_fn(move |_request| {
            let (tx, rx) = channel(4);
            let sse = Sse::new(rx)
                .keep_alive(None)
                .send_timeout(Duration::from_millis(300));
            let response = sse_pump::response(sse);
            streams_tx.try_send((tx, response.body().report())).unwrap();
            async move { Ok::<_, std::convert::Infallible>(response) }
        });
        let _ = hyper::server::conn::http2::Builder::new(Exec)
            .serve_connection(io, service)
            .await;
    });
    let io = support::http::connect(addr).await;
    // A 64 KiB stream window (hyper's client default is 2 MiB): what a stalled stream
    // holds in flight is the window, so this keeps the test's numbers small.
    let (mut client, conn) = hyper::client::conn::http2::Builder::new(Exec)
        .initial_stream_window_size(64 * 1024)
        .handshake(io)
        .await
        .unwrap();
    support::detach(async move {
        let _ = conn.await;
    });
    let get = |path: &str| {
        let uri = format!("http://{addr}{path}");
        Request::get(uri).body(Empty::<Bytes>::new()).unwrap()
    };
    let stalled = client.send_request(get("/stalled")).await.unwrap();
    let (stalled_tx, stalled_report) = streams.recv().await.unwrap();
    let healthy = client.send_request(get("/healthy")).await.unwrap();
    let (healthy_tx, healthy_report) = streams.recv().await.unwrap();
    assert_eq!(
        healthy.headers().get("connection"),
        None,
        "no Connection on HTTP/2"
    );

    // A fast producer on the stream nobody reads: it is stopped by the send timeout.
    let chunk = "x".repeat(1024);
    let mut sent = 0u64;
    while stalled_tx.send(Event::new().data(&chunk)).await.is_ok() {
        sent += 1;
    }
    // What it got in is bounded by the stream's window and hyper's send buffer (400 KiB by
    // default) plus the channel, not by how fast it produced.
    assert!((16..600).contains(&sent), "{sent} events of 1 KiB");

    // The other stream on the same connection still delivers.
    healthy_tx
        .send(Event::new().data("still here"))
        .await
        .unwrap();
    let mut body = BodyStream::new(healthy.into_body());
    let frame = body.next().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(frame, "data: still here\n\n");

    // The client gives up on the stalled stream (a reset): its report says why it ended.
    drop(stalled);
    let report = stalled_report.wait().await;
    assert_eq!(report.ended, Ended::SendTimeout, "{report:?}");
    assert!(report.undelivered > 0);
    drop(healthy_tx);
    while let Some(frame) = body.next().await {
        let frame = frame.expect("the healthy stream ends cleanly");
        assert!(
            frame.data_ref().is_none_or(|data| data.is_empty()),
            "{frame:?}"
        );
    }
    assert_eq!(healthy_report.wait().await.ended, Ended::SourceClosed);
}

/// A producer that fails resets its HTTP/2 stream: the client sees an error, not an end.
async fn a_failed_producer_resets_its_stream() {
    guard(failed_producer()).await
}

async fn failed_producer() {
    let producer = |tx: Sender| async move {
        tx.send(Event::new().data("one"))
            .await
            .map_err(|_| "gone")?;
        Err::<(), _>("the feed broke")
    };
    match tokio::runtime::Handle::try_current() {
        Ok(_) => reset_by(sse_pump::adapters::tokio::spawn(4, producer)).await,
        Err(_) => reset_by(sse_pump::adapters::smol::spawn(4, producer)).await,
    }
}

async fn reset_by<S: sse_pump::Source + Send + 'static>(events: S) {
    let listener = Listener::bind().await;
    let addr = listener.addr();
    let events = Arc::new(Mutex::new(Some(events)));
    support::detach(async move {
        let io = listener.accept().await;
        let service = hyper::service::service_fn(move |_request| {
            let events = events.lock().unwrap().take().expect("one request");
            let response = sse_pump::response(Sse::new(events).keep_alive(None));
            async move { Ok::<_, std::convert::Infallible>(response) }
        });
        let _ = hyper::server::conn::http2::Builder::new(Exec)
            .serve_connection(io, service)
            .await;
    });
    let io = support::http::connect(addr).await;
    let (mut client, conn) = hyper::client::conn::http2::handshake(Exec, io)
        .await
        .unwrap();
    support::detach(async move {
        let _ = conn.await;
    });
    let request = Request::get(format!("http://{addr}/"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = client.send_request(request).await.unwrap();
    let mut body = BodyStream::new(response.into_body());
    let first = body.next().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "data: one\n\n");
    let end = body.next().await.expect("an error, not an end");
    assert!(end.is_err(), "the stream was reset");
}

crate::on_both!(
    a_stalled_stream_ends_its_producer_only,
    a_failed_producer_resets_its_stream
);
