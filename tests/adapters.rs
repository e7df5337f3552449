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
    T: std::future::Future<Output = Result<(), String>> + Unpin,
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
    T: std::future::Future<Output = Result<(), String>> + Unpin,
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
                    assert_eq!(report.source_error.as_deref(), Some(expected));
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
    use raw::{read_request, RequestError, MAX_HEAD};
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
        assert_eq!(
            request.last_event_id(),
            Err(sse_pump::LastEventIdError::Repeated)
        );
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
