//! The demo: a live dashboard and the streams behind it, on smol over plain TCP
//! (`adapters::raw`: no HTTP stack, the request head read with httparse).
//!
//! ```text
//! cargo run -p sse-pump-demo        # or: cargo run --example demo --features json,smol
//! ```
//!
//! Open http://127.0.0.1:8000/ in a browser (in two tabs, to see the broadcast), or
//! `curl -N http://127.0.0.1:8000/events`.
//!
//! **The dashboard** (`GET /`, the page is `examples/demo/page.html`: plain JavaScript and
//! a canvas, no framework, no build step, nothing fetched from elsewhere). Everything it
//! shows comes through one `EventSource` per tab on `GET /live`, a subscription to one
//! [`Hub`](sse_pump::hub::Hub) with a history (see `examples/demo/live.rs`):
//! - `metric`: a synthetic latency metric (p50, p90, p99, in ms), five points a second,
//!   drawn as a line chart;
//! - `stats`: the hub's own figures (subscribers, published, retained, lagged), once a second;
//! - `broadcast`: what someone typed in any tab (`POST /broadcast?tab=NAME`, the text as
//!   the body, 1 to 1024 bytes of UTF-8).
//!
//! Every event has the hub's id. "Drop connection" (`POST /drop?tab=NAME`) ends that tab's
//! stream on the server; the browser reconnects by itself with `Last-Event-ID` and the hub
//! replays what was published meanwhile: the chart has no hole, the ids no gap and no
//! repeat. `GET /live?backlog=N` starts a new tab N events back, so its chart starts full.
//!
//! **The plain stream** (`GET /events`, one producer task per client): a clock
//! (`event: clock`), a counter with ids (plain messages) and a JSON event (`event: stats`),
//! one round a second; it resumes the counter after a numeric `Last-Event-ID`.
//! `GET /plain` is the smallest page on it (`examples/demo_page.html`, which the `https`
//! example serves too).
//!
//! For tests (`tests/browser.rs`, `tests/clients.rs`, `tests/examples.rs`) and the curious:
//! - `SSE_DEMO_ADDR` sets the address (`127.0.0.1:0` picks a free port); the first line on
//!   stdout is always `listening on http://ADDR/`.
//! - `/events?limit=N` ends the stream after N rounds (the `retry: 1000` it sent first
//!   tells the browser to reconnect a second later); `/plain?limit=N` (also `/?limit=N`)
//!   is the small page on that stream, so it shows the reconnection every N seconds.
//! - A request to `/events` or `/live` with a `Last-Event-ID` prints `resumed from
//!   Last-Event-ID: N`.
//! - Both pages keep the events they receive in `window.received` (`type`, and `data` and
//!   `lastEventId` for messages; the dashboard adds the arrival time `at`, in ms).

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use smol::{
    io::AsyncWriteExt,
    net::{TcpListener, TcpStream},
};
use sse_pump::{
    adapters::{raw, smol::spawn},
    Event, KeepAlive, SendError, Sender, Sse,
};

#[path = "demo/live.rs"]
mod live;

/// The dashboard.
const PAGE: &str = include_str!("demo/page.html");

/// The smallest page: an `EventSource` on `/events`, shared with the `https` example.
const PLAIN_PAGE: &str = include_str!("demo_page.html");

pub fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_DEMO_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".into());
    smol::block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        let addr = listener.local_addr()?;
        println!("listening on http://{addr}/");
        println!("open it in a browser, or run: curl -N http://{addr}/events");
        let app = Arc::new(live::Live::new());
        smol::spawn(live::tick(app.clone())).detach();
        loop {
            let (stream, _) = listener.accept().await?;
            let app = app.clone();
            smol::spawn(async move {
                if let Err(e) = serve(&app, stream).await {
                    eprintln!("connection: {e}");
                }
            })
            .detach();
        }
    })
}

/// Reads one request head and answers it: a page, a stream, a POST, or 404.
async fn serve(app: &live::Live, mut stream: TcpStream) -> std::io::Result<()> {
    let request = match raw::read_request(&mut stream).await {
        Ok(request) => request,
        Err(sse_pump::RequestError::Io(e)) => return Err(e),
        Err(_) => return reply(stream, "400 Bad Request", "").await,
    };
    let (path, query) = request
        .path()
        .split_once('?')
        .unwrap_or((request.path(), ""));
    let query = query.to_owned();
    match (request.method(), path) {
        ("GET", "/") if param(&query, "limit").is_none() => html(stream, PAGE).await,
        ("GET", "/" | "/plain") => html(stream, PLAIN_PAGE).await,
        ("GET", "/events") => events(stream, &request, &query).await,
        ("GET", "/live") => live::stream(app, stream, &request, &query).await,
        ("POST", "/broadcast") => live::broadcast(app, stream, &request, &query).await,
        ("POST", "/drop") => live::drop_tab(app, stream, &query).await,
        (_, "/" | "/plain" | "/events" | "/live" | "/broadcast" | "/drop") => {
            reply(stream, "405 Method Not Allowed", "").await
        }
        _ => reply(stream, "404 Not Found", "").await,
    }
}

/// The value of query parameter `name`, as sent (the demo's values need no decoding).
fn param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// `/events`: the plain stream, from the counter after a numeric `Last-Event-ID`.
async fn events(stream: TcpStream, request: &raw::Request, query: &str) -> std::io::Result<()> {
    let limit = param(query, "limit")
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
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

/// An HTML page, then the connection closes.
async fn html(stream: TcpStream, page: &str) -> std::io::Result<()> {
    respond(stream, "200 OK", "text/html; charset=utf-8", page).await
}

/// A status with a short plain-text body, then the connection closes.
async fn reply(stream: TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    respond(stream, status, "text/plain; charset=utf-8", body).await
}

async fn respond(
    mut stream: TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await
}

/// The producer of `/events`: one task per client, stopping when the client is gone or
/// after `limit` rounds (dropping `tx` ends the stream once the pump has written what was
/// sent). An event that refused a field is an error: the stream ends as failed, and the
/// report says why.
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
