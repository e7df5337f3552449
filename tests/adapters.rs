//! The tokio and smol adapters: pumping into tokio writers, producers tied to their
//! streams, and SSE over a bare smol TCP stream.

mod support;

use std::{io::Read as _, io::Write as _, time::Duration};

use futures_lite::future::zip;
use sse_pump::{
    adapters::{raw, smol as smol_rt, tokio as tokio_rt},
    decode_reader, Ended, Event, Spawned, Sse,
};
use support::{failing_after, guard, on_smol, on_tokio};

/// Signals on a channel when dropped: tells that a task was aborted.
struct DropSignal(async_channel::Sender<()>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.try_send(());
    }
}

/// A producer that sends one event, then waits on something that never comes.
async fn waits_forever(tx: sse_pump::Sender, dropped: DropSignal) -> Result<(), String> {
    let _dropped = dropped;
    tx.send(Event::new().data("first"))
        .await
        .map_err(|e| e.to_string())?;
    std::future::pending::<()>().await;
    Ok(())
}

/// Once the stream ends (here the client fails), the producer task is aborted even
/// though it is not sending.
async fn stream_end_aborts<T>(spawn: impl FnOnce(DropSignal) -> Spawned<T>)
where
    T: std::future::Future<Output = Result<(), sse_pump::SourceError>> + Unpin,
{
    guard(async {
        let (signal, aborted) = async_channel::bounded(1);
        let events = spawn(DropSignal(signal));
        let (sink, _) = failing_after(0);
        let failed = Sse::new(events).pump(sink).await.unwrap_err();
        assert_eq!(failed.report().ended, Ended::Disconnected);
        aborted.recv().await.unwrap();
    })
    .await
}

/// An error or a panic in the producer ends the stream after what it sent, and the
/// report says why.
async fn failures_are_reported<T>(spawn: impl Fn(&'static str) -> Spawned<T>)
where
    T: std::future::Future<Output = Result<(), sse_pump::SourceError>> + Unpin,
{
    guard(async {
        for (how, expected) in [
            ("error", "the feed broke"),
            ("panic", "producer panicked: boom"),
            ("ok", ""),
        ] {
            let mut wire = Vec::new();
            let report = Sse::new(spawn(how)).pump(&mut wire).await.unwrap();
            assert_eq!(wire, b"data: before\n\n", "{how}");
            assert_eq!(report.events, 1);
            match how {
                "ok" => assert_eq!(
                    (report.ended, report.source_error),
                    (Ended::SourceClosed, None)
                ),
                _ => {
                    assert_eq!(report.ended, Ended::SourceFailed, "{how}");
                    assert_eq!(
                        report.source_error.map(|e| e.to_string()).as_deref(),
                        Some(expected)
                    );
                }
            }
        }
    })
    .await
}

async fn fails(tx: sse_pump::Sender, how: &'static str) -> Result<(), String> {
    tx.send(Event::new().data("before"))
        .await
        .map_err(|e| e.to_string())?;
    match how {
        "error" => Err("the feed broke".into()),
        "panic" => panic!("boom"),
        _ => Ok(()),
    }
}

#[test]
fn tokio_stream_end_aborts_the_producer() {
    on_tokio(stream_end_aborts(|signal| {
        tokio_rt::spawn(1, move |tx| waits_forever(tx, signal))
    }))
}

#[test]
fn smol_stream_end_aborts_the_producer() {
    on_smol(stream_end_aborts(|signal| {
        smol_rt::spawn(1, move |tx| waits_forever(tx, signal))
    }))
}

#[test]
fn tokio_producer_failures_are_reported() {
    on_tokio(failures_are_reported(|how| {
        tokio_rt::spawn(4, move |tx| fails(tx, how))
    }))
}

#[test]
fn smol_producer_failures_are_reported() {
    on_smol(failures_are_reported(|how| {
        smol_rt::spawn(4, move |tx| fails(tx, how))
    }))
}

/// `adapters::tokio::pump` writes into a tokio `TcpStream`.
#[test]
fn tokio_pump_into_a_tcp_stream() {
    on_tokio(guard(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = async {
            let (stream, _) = listener.accept().await.unwrap();
            let events = tokio_rt::spawn(4, |tx| async move {
                for n in 0..3 {
                    tx.send(Event::new().id(n.to_string()).data("t")).await.ok();
                }
                Ok::<_, sse_pump::Error>(())
            });
            tokio_rt::pump(Sse::new(events), stream).await.unwrap()
        };
        let client = async {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut wire = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut wire)
                .await
                .unwrap();
            wire
        };
        let (report, wire) = zip(server, client).await;
        assert_eq!(report.events, 3);
        let events: Vec<_> = decode_reader(&wire[..]).map(Result::unwrap).collect();
        let ids: Vec<_> = events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["0", "1", "2"]);
    }))
}

/// A bare smol server: reads the head, answers with the SSE headers, streams, and sees
/// `Last-Event-ID`; a real client reads it over loopback.
#[test]
fn smol_serves_sse_on_a_bare_tcp_stream() {
    on_smol(guard(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = async {
            let (mut stream, _) = listener.accept().await.unwrap();
            let request = raw::read_request(&mut stream).await.unwrap();
            assert_eq!((request.method(), request.path()), ("GET", "/events"));
            let after: u64 = request.last_event_id().unwrap().unwrap().parse().unwrap();
            let events = smol_rt::spawn(4, move |tx| async move {
                for n in after + 1..=after + 2 {
                    tx.send(Event::new().id(n.to_string()).data("s")).await.ok();
                }
                Ok::<_, sse_pump::Error>(())
            });
            let sse = Sse::new(events).retry(Duration::from_secs(2));
            raw::respond(stream, sse).await.unwrap()
        };
        let client = smol::unblock(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            write!(stream, "GET /events HTTP/1.1\r\nLast-Event-ID: 9\r\n\r\n").unwrap();
            let mut wire = Vec::new();
            stream.read_to_end(&mut wire).unwrap();
            wire
        });
        let (report, wire) = zip(server, client).await;
        assert_eq!((report.ended, report.events), (Ended::SourceClosed, 2));
        let wire = String::from_utf8(wire).unwrap();
        let (head, body) = wire.split_once("\r\n\r\n").unwrap();
        let mut lines = head.lines();
        assert_eq!(lines.next(), Some("HTTP/1.1 200 OK"));
        let mut headers: Vec<_> = lines.collect();
        headers.sort();
        assert_eq!(
            headers,
            [
                "cache-control: no-store",
                "connection: close",
                "content-encoding: identity",
                "content-type: text/event-stream; charset=utf-8",
                "x-accel-buffering: no",
            ]
        );
        assert_eq!(
            body,
            "retry: 2000\n\nid: 10\ndata: s\n\nid: 11\ndata: s\n\n"
        );
    }))
}

/// Bad request heads get typed errors, not panics.
#[test]
fn bad_request_heads_are_typed_errors() {
    use raw::{read_request, MAX_HEAD};
    use sse_pump::RequestError;
    on_smol(async {
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        let error = read_request(&mut huge.as_bytes()).await.unwrap_err();
        assert!(matches!(error, RequestError::TooLarge), "{error}");
        let error = read_request(&mut &b"NOT HTTP\r\n\r\n"[..])
            .await
            .unwrap_err();
        assert!(matches!(error, RequestError::Malformed(_)), "{error}");
        let twice = b"GET / HTTP/1.1\r\nLast-Event-ID: 1\r\nLast-Event-ID: 2\r\n\r\n";
        let request = read_request(&mut &twice[..]).await.unwrap();
        assert!(matches!(
            request.last_event_id(),
            Err(RequestError::LastEventIdRepeated)
        ));
    })
}

/// A client that closes an idle stream ends `respond` at once (and so its producer),
/// rather than at the second keep-alive ping after the close, when a write would fail.
#[test]
fn raw_respond_ends_when_an_idle_client_leaves() {
    on_smol(guard(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = smol::net::TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = zip(client, listener.accept()).await;
        let (stream, _) = accepted.unwrap();
        let (tx, rx) = sse_pump::channel(1); // a producer with nothing to say
        let served = raw::respond(stream, Sse::new(rx).keep_alive(None));
        let leave = async {
            let mut client = client.unwrap();
            let mut head = [0; 64]; // the response head arrives, then the client leaves
            futures_lite::AsyncReadExt::read(&mut client, &mut head)
                .await
                .unwrap();
            drop(client);
        };
        let (failed, ()) = zip(served, leave).await;
        let failed = failed.unwrap_err();
        assert_eq!(failed.report().ended, Ended::Disconnected);
        assert!(tx.is_closed(), "the producer learns it at once");
    }))
}

/// The same on tokio, through `adapters::tokio::respond`.
#[test]
fn tokio_respond_ends_when_an_idle_client_leaves() {
    on_tokio(guard(async {
        let (client, server) = tokio::io::duplex(4096);
        let (tx, rx) = sse_pump::channel(1);
        let served = tokio_rt::respond(server, Sse::new(rx).keep_alive(None));
        let leave = async move {
            let mut client = client;
            let mut head = [0; 64];
            tokio::io::AsyncReadExt::read(&mut client, &mut head)
                .await
                .unwrap();
            drop(client);
        };
        let (failed, ()) = zip(served, leave).await;
        assert_eq!(failed.unwrap_err().report().ended, Ended::Disconnected);
        assert!(tx.is_closed());
    }))
}

/// A head that never completes (a client that connects and waits, or trickles) is a
/// typed error once the deadline passes, on smol and on tokio.
#[test]
fn a_request_head_that_never_completes_times_out() {
    use sse_pump::RequestError;
    let limit = Duration::from_millis(100);
    on_smol(guard(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = smol::net::TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = zip(client, listener.accept()).await;
        let mut client = client.unwrap();
        futures_lite::AsyncWriteExt::write_all(&mut client, b"GET / HTTP/1.1\r\n")
            .await
            .unwrap();
        let (mut stream, _) = accepted.unwrap();
        let error = raw::read_request_within(&mut stream, limit)
            .await
            .unwrap_err();
        assert!(
            matches!(error, RequestError::Timeout(t) if t == limit),
            "{error}"
        );
    }));
    on_tokio(guard(async {
        let (mut client, mut server) = tokio::io::duplex(64);
        tokio::io::AsyncWriteExt::write_all(&mut client, b"GET")
            .await
            .unwrap();
        let error = tokio_rt::read_request_within(&mut server, limit)
            .await
            .unwrap_err();
        assert!(
            matches!(error, RequestError::Timeout(t) if t == limit),
            "{error}"
        );
    }));
    assert_eq!(raw::HEAD_TIMEOUT, Duration::from_secs(5));
}

/// A blank line before any request line is not a request with an empty method and path.
#[test]
fn a_head_without_a_request_line_is_an_error() {
    use raw::read_request;
    use sse_pump::RequestError;
    on_smol(async {
        for head in [&b"\r\n\r\n"[..], b"\r\n\r\nGET / HTTP/1.1\r\n\r\n"] {
            let error = read_request(&mut &head[..]).await.unwrap_err();
            assert!(matches!(error, RequestError::Incomplete), "{error}");
        }
        // One leading blank line is tolerated (RFC 9112 2.2), as httparse does.
        let request = read_request(&mut &b"\r\nGET / HTTP/1.1\r\n\r\n"[..]).await;
        assert_eq!(request.unwrap().method(), "GET");
    })
}

/// A client connection whose bytes never run dry: reads are always ready, writes always
/// succeed. Counts its reads.
struct Flood(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl futures_lite::AsyncRead for Flood {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        buf.fill(b'x');
        std::task::Poll::Ready(Ok(buf.len()))
    }
}

impl futures_lite::AsyncWrite for Flood {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// Runs `scenario` on its own thread: a scenario whose executor thread is held by one
/// task never returns, and the test fails here instead of hanging.
fn on_own_thread<T: Send + 'static>(scenario: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(scenario());
    });
    outcome
        .recv_timeout(Duration::from_secs(10))
        .expect("the executor's thread was held: a neighbour starved")
}

/// One client flooding its connection after the head shares the executor's thread with
/// a neighbour (its `respond` yields after every read) and is cut off after
/// `MAX_AFTER_HEAD` bytes; on smol's executor and on tokio's.
#[test]
fn a_flooding_client_does_not_starve_its_neighbour() {
    use std::sync::{atomic::AtomicUsize, atomic::Ordering, Arc};
    let reads_before_neighbour = |spawn_both: fn(Flood) -> (Result<Ended, Ended>, usize)| {
        let reads = Arc::new(AtomicUsize::new(0));
        let flood = Flood(reads.clone());
        let (ended, seen) = on_own_thread(move || spawn_both(flood));
        assert_eq!(ended, Err(Ended::Disconnected), "the flood was cut off");
        let cap = raw::MAX_AFTER_HEAD / 64 + 1;
        assert!(
            seen < cap,
            "the neighbour ran after {seen} reads of the flood"
        );
        assert!(reads.load(Ordering::Relaxed) <= cap, "reads past the cap");
    };
    fn ended(outcome: Result<sse_pump::Report, sse_pump::PumpError>) -> Result<Ended, Ended> {
        match outcome {
            Ok(report) => Ok(report.ended),
            Err(e) => Err(e.report().ended),
        }
    }
    reads_before_neighbour(|flood| {
        let executor = smol::LocalExecutor::new();
        let count = flood.0.clone();
        let (_tx, rx) = sse_pump::channel(1);
        let served = executor.spawn(raw::respond(flood, Sse::new(rx).keep_alive(None)));
        let neighbour = executor.spawn(async move {
            for _ in 0..3 {
                futures_lite::future::yield_now().await;
            }
            count.load(std::sync::atomic::Ordering::Relaxed)
        });
        futures_lite::future::block_on(executor.run(async {
            let seen = neighbour.await;
            (ended(served.await), seen)
        }))
    });
    reads_before_neighbour(|flood| {
        on_tokio(async move {
            let count = flood.0.clone();
            let (_tx, rx) = sse_pump::channel(1);
            let flood = tokio_util::compat::FuturesAsyncReadCompatExt::compat(flood);
            let served = tokio::spawn(tokio_rt::respond(flood, Sse::new(rx).keep_alive(None)));
            let neighbour = tokio::spawn(async move {
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                count.load(std::sync::atomic::Ordering::Relaxed)
            });
            let seen = neighbour.await.unwrap();
            (ended(served.await.unwrap()), seen)
        })
    });
}
