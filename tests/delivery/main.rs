//! One behaviour matrix for every delivery path: each scenario runs against the pump into a
//! bare TCP stream, the HTTP/1.1 body through hyper, and the raw HTTP adapter, each on smol
//! and on tokio, over real loopback connections. Plus what only HTTP has: a stalled HTTP/2
//! stream among healthy ones, and `axum::serve`.
//!
//! Tests wait on events and channels, never on sleeps, and each is bounded by `guard`.

#[path = "../support/mod.rs"]
mod support;

mod axum_serve;
mod h2;
mod paths;

use std::{io::Read as _, time::Duration};

use sse_pump::{channel, Ended, Event, KeepAlive, LineEnding, Shutdown, Sse};

use paths::{read_to_end, read_until, serve_one, serve_stalled, Path};
use support::guard;

fn numbered(n: u64) -> Event {
    Event::new().id(n.to_string()).data(n.to_string())
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The retry frame, every event in order, then a clean end that the report accounts for.
async fn events_then_a_clean_end(path: Path) {
    let (tx, rx) = channel(8);
    for n in 0..3 {
        tx.send(numbered(n)).await.unwrap();
    }
    drop(tx);
    let sse = Sse::new(rx).keep_alive(None).retry(Duration::from_secs(2));
    let served = serve_one(path, sse).await;
    let (wire, end) = read_to_end(served.body).await;
    end.expect("a clean end");
    let expected = "retry: 2000\n\nid: 0\ndata: 0\n\nid: 1\ndata: 1\n\nid: 2\ndata: 2\n\n";
    assert_eq!(String::from_utf8(wire).unwrap(), expected);
    let report = served.report.await;
    assert_eq!(
        (report.ended, report.events, report.undelivered),
        (Ended::SourceClosed, 3, 0)
    );
    match path {
        Path::Raw => assert!(report.bytes > expected.len() as u64, "the head counts too"),
        _ => assert_eq!(report.bytes, expected.len() as u64),
    }
}

/// A quiet stream pings; a client that leaves ends it as a disconnect.
async fn pings_when_quiet(path: Path) {
    let (tx, rx) = channel(1);
    let sse = Sse::new(rx).keep_alive(KeepAlive::new().interval(Duration::from_millis(20)));
    let mut served = serve_one(path, sse).await;
    let wire = read_until(&mut served.body, |read| read.starts_with(b":\n\n:\n\n")).await;
    assert_eq!(wire, b":\n\n:\n\n");
    drop(served.body);
    tx.closed().await; // the producer learns the client left
    let report = served.report.await;
    assert_eq!(report.ended, Ended::Disconnected);
    assert!(report.pings >= 2, "{report:?}");
}

/// A client that leaves makes the producer's sends fail.
async fn a_departed_client_stops_the_producer(path: Path) {
    let (tx, rx) = channel(4);
    tx.send(numbered(1)).await.unwrap();
    let sse = Sse::new(rx).keep_alive(KeepAlive::new().interval(Duration::from_millis(20)));
    let mut served = serve_one(path, sse).await;
    read_until(&mut served.body, |read| contains(read, "data: 1\n\n")).await;
    drop(served.body);
    tx.closed().await;
    assert!(tx.send(numbered(2)).await.is_err());
    assert_eq!(served.report.await.ended, Ended::Disconnected);
}

/// A shutdown drops what is queued (counted), sends the farewell last and ends cleanly.
async fn shutdown_says_farewell(path: Path) {
    let shutdown = Shutdown::new();
    let (tx, rx) = channel(8);
    tx.send(numbered(1)).await.unwrap();
    let farewell = Event::new().event("bye").data("restarting");
    let sse = (Sse::new(rx).keep_alive(None))
        .shutdown(shutdown.listener())
        .farewell(farewell);
    let mut served = serve_one(path, sse).await;
    let mut wire = read_until(&mut served.body, |read| contains(read, "data: 1\n\n")).await;
    tx.send(numbered(2)).await.unwrap(); // may be queued when the shutdown comes
    shutdown.trigger();
    let (rest, end) = read_to_end(served.body).await;
    end.expect("a clean end");
    wire.extend_from_slice(&rest);
    let wire = String::from_utf8(wire).unwrap();
    assert!(
        wire.ends_with("event: bye\ndata: restarting\n\n"),
        "{wire:?}"
    );
    let report = served.report.await;
    assert_eq!(report.ended, Ended::Shutdown);
    let second = u64::from(contains(wire.as_bytes(), "data: 2\n\n"));
    assert_eq!(
        report.events,
        2 + second,
        "the event, the farewell, maybe the second"
    );
    assert_eq!(report.undelivered, 1 - second);
    assert!(tx.is_closed());
}

/// Every line of every frame ends with the chosen line ending.
async fn line_endings_apply_to_every_frame(path: Path) {
    let (tx, rx) = channel(4);
    tx.send(Event::new().data("a\nb")).await.unwrap();
    drop(tx);
    let sse = (Sse::new(rx).keep_alive(None))
        .retry(Duration::from_millis(1500))
        .line_ending(LineEnding::CrLf);
    let served = serve_one(path, sse).await;
    let (wire, end) = read_to_end(served.body).await;
    end.unwrap();
    assert_eq!(wire, b"retry: 1500\r\n\r\ndata: a\r\ndata: b\r\n\r\n");
}

/// A client that reads nothing, fed by a fast producer: within the send timeout the
/// producer is stopped and the report says so, and the connection is closed.
async fn a_client_that_stops_reading_is_dropped(path: Path) {
    let (tx, rx) = channel(4);
    let (done_tx, done) = async_channel::bounded(1);
    support::detach(async move {
        let chunk = "x".repeat(1024);
        let mut sent = 0u64;
        while tx.send(Event::new().data(&chunk)).await.is_ok() {
            sent += 1;
        }
        done_tx.send(sent).await.unwrap();
    });
    let sse = Sse::new(rx).send_timeout(Duration::from_millis(300));
    let (client, report) = serve_stalled(path, sse).await;
    let sent = done.recv().await.unwrap();
    assert!(sent > 16, "the kernel buffers filled first: {sent} events");
    let report = report.await;
    assert_eq!(report.ended, Ended::SendTimeout, "{report:?}");
    assert!(report.undelivered > 0, "{report:?}");
    assert_connection_closed(client).await;
}

/// Reading what is left on `client` ends (the server closed the connection) rather than
/// waiting for more.
async fn assert_connection_closed(mut client: std::net::TcpStream) {
    let reader = std::thread::spawn(move || {
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = vec![0; 64 * 1024];
        loop {
            match client.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    });
    let closed = smol::unblock(move || reader.join().unwrap()).await;
    closed.expect("the server closed the connection");
}

/// A producer that fails ends the stream after what it sent, as a failure the report
/// names; over HTTP the response is aborted, so the client sees a truncated body.
async fn a_failed_producer_aborts_the_stream(path: Path) {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => {
            failed(
                path,
                sse_pump::adapters::tokio::spawn(4, two_then(Err("broke"))),
            )
            .await
        }
        Err(_) => {
            failed(
                path,
                sse_pump::adapters::smol::spawn(4, two_then(Err("broke"))),
            )
            .await
        }
    }
}

async fn failed<S: sse_pump::Source + Send + 'static>(path: Path, events: S) {
    let served = serve_one(path, Sse::new(events).keep_alive(None)).await;
    let (wire, end) = read_to_end(served.body).await;
    assert_eq!(wire, b"data: 0\n\ndata: 1\n\n");
    match path {
        Path::Hyper => assert!(end.is_err(), "an aborted body, not a finished one"),
        // A raw stream ends by closing the connection either way (`Connection: close`).
        _ => end.unwrap(),
    }
    let report = served.report.await;
    assert_eq!(report.ended, Ended::SourceFailed);
    assert_eq!(
        report.source_error.map(|e| e.to_string()).as_deref(),
        Some("broke")
    );
}

/// A producer that finishes ends the stream cleanly on every path.
async fn a_finished_producer_ends_cleanly(path: Path) {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => finished(path, sse_pump::adapters::tokio::spawn(4, two_then(Ok(())))).await,
        Err(_) => finished(path, sse_pump::adapters::smol::spawn(4, two_then(Ok(())))).await,
    }
}

async fn finished<S: sse_pump::Source + Send + 'static>(path: Path, events: S) {
    let served = serve_one(path, Sse::new(events).keep_alive(None)).await;
    let (wire, end) = read_to_end(served.body).await;
    end.expect("a clean end");
    assert_eq!(wire, b"data: 0\n\ndata: 1\n\n");
    assert_eq!(served.report.await.ended, Ended::SourceClosed);
}

/// A producer that sends two events, then returns `outcome`.
fn two_then(
    outcome: Result<(), &'static str>,
) -> impl FnOnce(
    sse_pump::Sender,
)
    -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), &'static str>> + Send>> {
    move |tx| {
        Box::pin(async move {
            for n in 0..2u64 {
                tx.send(Event::new().data(n.to_string()))
                    .await
                    .map_err(|_| "gone")?;
            }
            outcome
        })
    }
}

macro_rules! matrix {
    ($($name:ident),* $(,)?) => {
        mod smol_rt {
            $(mod $name {
                #[test] fn pump() { crate::run_smol(super::super::$name(crate::Path::Pump)) }
                #[test] fn hyper() { crate::run_smol(super::super::$name(crate::Path::Hyper)) }
                #[test] fn raw() { crate::run_smol(super::super::$name(crate::Path::Raw)) }
            })*
        }
        mod tokio_rt {
            $(mod $name {
                #[test] fn pump() { crate::run_tokio(super::super::$name(crate::Path::Pump)) }
                #[test] fn hyper() { crate::run_tokio(super::super::$name(crate::Path::Hyper)) }
                #[test] fn raw() { crate::run_tokio(super::super::$name(crate::Path::Raw)) }
            })*
        }
    };
}

fn run_smol(scenario: impl std::future::Future<Output = ()>) {
    support::on_smol(guard(scenario))
}

fn run_tokio(scenario: impl std::future::Future<Output = ()>) {
    support::on_tokio(guard(scenario))
}

matrix!(
    events_then_a_clean_end,
    pings_when_quiet,
    a_departed_client_stops_the_producer,
    shutdown_says_farewell,
    line_endings_apply_to_every_frame,
    a_client_that_stops_reading_is_dropped,
    a_failed_producer_aborts_the_stream,
    a_finished_producer_ends_cleanly,
);

/// Every path on both runtimes at once, in threads of their own.
#[test]
fn every_path_on_both_runtimes_at_once() {
    let threads: Vec<_> = (paths::ALL.into_iter())
        .flat_map(|path| {
            [
                std::thread::spawn(move || run_smol(events_then_a_clean_end(path))),
                std::thread::spawn(move || run_tokio(events_then_a_clean_end(path))),
            ]
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}
