//! A compressed stream, decompressed by the user's HTTP client, decodes event by event.
//!
//! Our own server (hyper on tokio, over loopback) answers with `SseResponse::compress`,
//! the encoding negotiated from the request's `Accept-Encoding`. The client is reqwest
//! with one codec switched on (so it asks for that one and inflates it), read through
//! `sse_pump::client::get`. The producer sends event `n + 1` only after the client has
//! decoded event `n`: a decompressor or decoder that held bytes back would stall the
//! stream, and the test would fail on its deadline instead of passing.

use std::{convert::Infallible, net::SocketAddr, time::Duration};

use futures_lite::StreamExt;
use hyper::{body::Incoming, server::conn::http1, service::service_fn, Request};
use hyper_util::rt::TokioIo;
use sse_pump::{
    channel,
    client::{self, reqwest::Reqwest},
    Encoding, Event, Sse, SseResponse,
};
use tokio::{net::TcpListener, sync::mpsc};

/// How many events each stream carries.
const EVENTS: usize = 20;

/// How long any one step may take.
const DEADLINE: Duration = Duration::from_secs(10);

/// What the server tells the test: the encoding it chose, then one message per event it
/// is about to send; it waits for the test's go-ahead between events.
struct Server {
    addr: SocketAddr,
    chosen: mpsc::UnboundedReceiver<Encoding>,
    go: async_channel::Sender<()>,
}

/// Serves one compressed stream per connection on 127.0.0.1: over hyper, or over bare
/// TCP with `adapters::tokio::respond_compressed` (the `AsyncWrite` path).
async fn serve() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (chose, chosen) = mpsc::unbounded_channel();
    let (go, go_ahead) = async_channel::bounded(1);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (chose, go_ahead) = (chose.clone(), go_ahead.clone());
            let service = service_fn(move |request: Request<Incoming>| {
                // Brotli too: `OFFERED` leaves it out, but a server may offer it.
                let offered = [Encoding::Zstd, Encoding::Brotli, Encoding::Gzip];
                let encoding = Encoding::negotiate_among(request.headers(), &offered);
                chose.send(encoding).unwrap();
                let (tx, rx) = channel(4);
                tokio::spawn(lockstep(tx, go_ahead.clone()));
                let response = SseResponse::new(Sse::new(rx)).compress(encoding);
                async move { Ok::<_, Infallible>(response) }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(tcp), service));
        }
    });
    Server { addr, chosen, go }
}

/// Serves one compressed stream per connection on 127.0.0.1 with no HTTP stack:
/// `read_request`, then `respond_compressed`, which negotiates from the request.
async fn serve_raw() -> Server {
    use sse_pump::adapters::tokio::{read_request, respond_compressed};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (chose, chosen) = mpsc::unbounded_channel();
    let (go, go_ahead) = async_channel::bounded(1);
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let (chose, go_ahead) = (chose.clone(), go_ahead.clone());
            tokio::spawn(async move {
                let request = read_request(&mut tcp).await.unwrap();
                chose.send(request.negotiate_encoding()).unwrap();
                let (tx, rx) = channel(4);
                tokio::spawn(lockstep(tx, go_ahead));
                respond_compressed(tcp, Sse::new(rx), &request)
                    .await
                    .unwrap();
            });
        }
    });
    Server { addr, chosen, go }
}

/// The producer: event 0 at once, each next one when the client has read the last.
async fn lockstep(tx: sse_pump::Sender, go_ahead: async_channel::Receiver<()>) {
    for n in 0..EVENTS {
        let token = format!(r#"{{"token":"t{n}","pad":"{}"}}"#, "x".repeat(n * 40));
        let event = Event::new().id(n.to_string()).data(token);
        if tx.send(event).await.is_err() || n + 1 == EVENTS {
            return;
        }
        if go_ahead.recv().await.is_err() {
            return;
        }
    }
}

/// reqwest with only `encoding`'s decoder switched on.
fn reqwest_for(encoding: Encoding) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .gzip(encoding == Encoding::Gzip)
        .brotli(encoding == Encoding::Brotli)
        .zstd(encoding == Encoding::Zstd);
    builder.build().unwrap()
}

/// Every event arrives, decoded, before the server sends the next; the end is clean.
async fn decodes_event_by_event(encoding: Encoding) {
    reads_event_by_event(serve().await, encoding, encoding).await;
}

/// As [`decodes_event_by_event`], the client accepting only `encoding` and the server
/// choosing `served`.
async fn reads_event_by_event(mut server: Server, encoding: Encoding, served: Encoding) {
    let url = format!("http://{}/events", server.addr);
    let mut events = client::get(Reqwest::new(reqwest_for(encoding)), url)
        .send()
        .await
        .unwrap();
    let chosen = server.chosen.recv().await;
    assert_eq!(chosen, Some(served), "the server's choice for {encoding}");
    for n in 0..EVENTS {
        let event = tokio::time::timeout(DEADLINE, events.next()).await;
        let event = event.unwrap_or_else(|_| panic!("event {n} held back ({encoding})"));
        let event = event.expect("a stream that goes on").unwrap();
        assert_eq!(event.id, n.to_string());
        let token = format!(r#""token":"t{n}""#);
        assert!(event.data.contains(&token), "{n}: {}", event.data);
        server.go.try_send(()).unwrap();
    }
    let end = tokio::time::timeout(DEADLINE, events.next()).await;
    assert!(end.expect("the end within the deadline").is_none());
}

fn on_tokio(test: impl std::future::Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async { tokio::time::timeout(4 * DEADLINE, test).await.unwrap() });
}

#[test]
fn a_gzip_stream_decodes_event_by_event() {
    on_tokio(decodes_event_by_event(Encoding::Gzip));
}

#[test]
fn a_brotli_stream_decodes_event_by_event() {
    on_tokio(decodes_event_by_event(Encoding::Brotli));
}

#[test]
fn a_zstd_stream_decodes_event_by_event() {
    on_tokio(decodes_event_by_event(Encoding::Zstd));
}

#[test]
fn a_gzip_stream_over_bare_tcp_decodes_event_by_event() {
    let gzip = Encoding::Gzip;
    on_tokio(async { reads_event_by_event(serve_raw().await, gzip, gzip).await });
}

/// zstd is not offered by default (a warm zstd stream is over the 32 KiB a compressed
/// stream may cost): a client that accepts only zstd gets the events uncompressed.
#[test]
fn a_client_accepting_only_zstd_reads_identity_over_bare_tcp() {
    let (zstd, identity) = (Encoding::Zstd, Encoding::Identity);
    on_tokio(async { reads_event_by_event(serve_raw().await, zstd, identity).await });
}
