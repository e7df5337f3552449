//! The memory-channel pattern (no generators): one stream, several producer tasks, each
//! holding a clone of the same `Sender`. Each event is one channel message, so the
//! producers never interleave fields; the stream ends when the last producer drops its
//! sender, and every producer stops once the client is gone (`closed()` resolves).
//!
//! ```text
//! cargo run --example memory_channel --features hyper,tokio
//! curl -N http://127.0.0.1:8007/events
//! ```
//!
//! Set `SSE_ADDR` to listen elsewhere.

use std::{convert::Infallible, time::Duration};

use http::{Request, Response};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use sse_pump::{channel, Event, Sender, Sse, SseBody, SseResponse, WriteTimeout};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_ADDR").unwrap_or_else(|_| "127.0.0.1:8007".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on http://{}/events", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let io = WriteTimeout::new(TokioIo::new(stream), Duration::from_secs(30));
        tokio::spawn(http1::Builder::new().serve_connection(io, service_fn(handle)));
    }
}

async fn handle(request: Request<Incoming>) -> Result<Response<SseBody>, Infallible> {
    let (tx, rx) = channel(32);
    // Three producers, one stream. The first two run until the client leaves; the third
    // sends a few events and drops its sender, which does not end the stream.
    tokio::spawn(every(tx.clone(), "clock", Duration::from_secs(1), u64::MAX));
    tokio::spawn(every(
        tx.clone(),
        "heartbeat",
        Duration::from_millis(2500),
        u64::MAX,
    ));
    tokio::spawn(every(tx, "welcome", Duration::from_millis(300), 3));
    Ok(SseResponse::new(Sse::new(rx))
        .version(request.version())
        .build())
}

/// Sends `count` events of type `name`, one every `period`; stops early when the client
/// is gone, even while waiting for the next tick.
async fn every(tx: Sender, name: &'static str, period: Duration, count: u64) {
    let mut tick = tokio::time::interval(period);
    for n in 0..count {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tx.closed() => return,
        }
        let event = Event::new().event(name).data(format!("{name} #{n}"));
        if tx.send(event).await.is_err() {
            return;
        }
    }
}
