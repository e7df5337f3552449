//! A live page and its event stream, on smol over plain TCP (`adapters::raw`: no HTTP
//! stack, the request head read with httparse).
//!
//! ```text
//! cargo run --example demo --features json,smol
//! ```
//!
//! Open http://127.0.0.1:8000/ in a browser, or `curl -N http://127.0.0.1:8000/events`.
//! The stream carries a clock (`event: clock`), a counter with ids (plain messages) and a
//! JSON event (`event: stats`), one round a second. Reload the page: the browser sends
//! `Last-Event-ID` and the counter resumes where it stopped.
//!
//! For tests (`tests/browser.rs`, `tests/clients.rs`) and the curious:
//! - `SSE_DEMO_ADDR` sets the address (`127.0.0.1:0` picks a free port); the first line on
//!   stdout is always `listening on http://ADDR/`.
//! - `/events?limit=N` ends the stream after N rounds (the `retry: 1000` it sent first
//!   tells the browser to reconnect a second later); `/?limit=N` is the page on that stream,
//!   so it shows the reconnection every N seconds.
//! - A request with a numeric `Last-Event-ID` prints `resumed from Last-Event-ID: N`.
//! - The page keeps every event it receives in `window.received` (`type`, and `data` and
//!   `lastEventId` for messages).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smol::{
    io::AsyncWriteExt,
    net::{TcpListener, TcpStream},
};
use sse_pump::{
    adapters::{raw, smol::spawn},
    Event, KeepAlive, SendError, Sender, Sse,
};

/// The page: an `EventSource` on `/events`, shared with the `https` example.
const PAGE: &str = include_str!("demo_page.html");

pub fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_DEMO_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".into());
    smol::block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        let addr = listener.local_addr()?;
        println!("listening on http://{addr}/");
        println!("open it in a browser, or run: curl -N http://{addr}/events");
        loop {
            let (stream, _) = listener.accept().await?;
            smol::spawn(async move {
                if let Err(e) = serve(stream).await {
                    eprintln!("connection: {e}");
                }
            })
            .detach();
        }
    })
}

/// Reads one request head and answers it: the page, the stream, or 404.
async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let request = match raw::read_request(&mut stream).await {
        Ok(request) => request,
        Err(raw::RequestError::Io(e)) => return Err(e),
        Err(_) => return reply(stream, "400 Bad Request", "").await,
    };
    let (path, query) = request
        .path()
        .split_once('?')
        .unwrap_or((request.path(), ""));
    let limit = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("limit="))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    match path {
        "/" => reply(stream, "200 OK", PAGE).await,
        "/events" => {
            let last_id = request.last_event_id().ok().flatten();
            let last_id = last_id.and_then(|id| id.parse::<u64>().ok());
            if let Some(id) = last_id {
                println!("resumed from Last-Event-ID: {id}");
            }
            let start = last_id.map_or(0, |id| id.saturating_add(1));
            let events = spawn(16, move |tx| produce(tx, start, limit));
            let sse = Sse::new(events)
                .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
                .send_timeout(Duration::from_secs(10))
                .retry(Duration::from_secs(1));
            let report = raw::respond(stream, sse).await;
            println!("stream from {start} ended: {report:?}");
            Ok(())
        }
        _ => reply(stream, "404 Not Found", "").await,
    }
}

/// A response with an HTML body, then the connection closes.
async fn reply(mut stream: TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await
}

/// The producer: one task per client, stopping when the client is gone or after `limit`
/// rounds (dropping `tx` ends the stream once the pump has written what was sent). An event
/// that refused a field is an error: the stream ends as failed, and the report says why.
async fn produce(tx: Sender, start: u64, limit: u64) -> Result<(), SendError> {
    let end = start.saturating_add(limit);
    for n in start..end {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let clock = Event::new()
            .event("clock")
            .data(format!("{}", now.as_secs()));
        let counter = Event::new().id(n.to_string()).data(n.to_string());
        let stats = Event::new().event("stats").json(&serde_json_value(n, now));
        for event in [clock, counter, stats] {
            match tx.send(event).await {
                Ok(()) => {}
                Err(e) if e.is_closed() => return Ok(()), // the client left
                Err(e) => return Err(e),
            }
        }
        if n + 1 < end {
            smol::Timer::after(Duration::from_secs(1)).await;
        }
    }
    Ok(())
}

fn serde_json_value(n: u64, now: Duration) -> serde_json::Value {
    serde_json::json!({ "count": n, "unix_ms": now.as_millis() as u64, "even": n % 2 == 0 })
}
