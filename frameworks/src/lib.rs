//! What the `actix` and `poem` servers share: their settings, read from the environment,
//! and the producer of the demo's counter. Each server makes the stream itself, with
//! `Sse::into_stream()`, which is the part to copy into another framework.
//!
//! The environment:
//! - `SSE_ADDR`: where to listen (default `127.0.0.1:8000`; `127.0.0.1:0` picks a free
//!   port). The first line on stdout is always `listening on http://ADDR/`.
//! - `SSE_TICK_MS`: the time between two events (default 1000; 0 sends as fast as the
//!   client reads).
//! - `SSE_KEEP_ALIVE_MS`: the quiet time after which a `:` ping is sent (default 15000;
//!   0 sends none).
//! - `SSE_SEND_TIMEOUT_MS`: how long the server may take to write one frame before the
//!   stream gives up on the client (default 10000; 0 waits forever).
//!
//! On stdout, besides the first line: `resumed from Last-Event-ID: N` for a reconnecting
//! client, `producer from N ended after K events: WHY` when a producer stops, and
//! `stream from N ended: ...` with the stream's report once the server has dropped it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::{
    fmt,
    io::{self, Write},
    time::Duration,
};

use sse_pump::{Event, KeepAlive, ReportHandle, Sender};

/// The servers' settings, from the environment.
#[derive(Clone)]
pub struct Settings {
    /// Where to listen (`SSE_ADDR`).
    pub addr: String,
    /// The time between two events (`SSE_TICK_MS`).
    pub tick: Duration,
    /// The keep-alive pings (`SSE_KEEP_ALIVE_MS`), `None` for none.
    pub keep_alive: Option<KeepAlive>,
    /// The send timeout (`SSE_SEND_TIMEOUT_MS`), `None` for none.
    pub send_timeout: Option<Duration>,
}

impl Settings {
    /// Reads the settings from the environment.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when a `*_MS` variable is not a number of milliseconds.
    pub fn from_env() -> io::Result<Settings> {
        Ok(Settings {
            addr: std::env::var("SSE_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".into()),
            tick: millis("SSE_TICK_MS", 1000)?,
            keep_alive: Some(millis("SSE_KEEP_ALIVE_MS", 15_000)?)
                .filter(|every| !every.is_zero())
                .map(|every| KeepAlive::new().interval(every)),
            send_timeout: Some(millis("SSE_SEND_TIMEOUT_MS", 10_000)?).filter(|t| !t.is_zero()),
        })
    }
}

/// The duration in milliseconds of the variable `name`, or `default` if it is not set.
fn millis(name: &str, default: u64) -> io::Result<Duration> {
    let Ok(value) = std::env::var(name) else {
        return Ok(Duration::from_millis(default));
    };
    let ms = value.trim().parse().map_err(|e| {
        let message = format!("{name}={value} is not a number of milliseconds ({e})");
        io::Error::new(io::ErrorKind::InvalidInput, message)
    })?;
    Ok(Duration::from_millis(ms))
}

/// The first id to send a client whose `Last-Event-ID` header is `header`: the one after
/// it. A new client, or one with an id that is not one of ours (not a number), starts
/// at 0.
pub fn first_id(header: Option<&[u8]>) -> u64 {
    let last = header
        .and_then(|id| std::str::from_utf8(id).ok())
        .and_then(|id| id.parse::<u64>().ok());
    if let Some(id) = last {
        say(format_args!("resumed from Last-Event-ID: {id}"));
    }
    last.map_or(0, |id| id.saturating_add(1))
}

/// The `limit=N` of a query string: how many events to send before ending the stream
/// (the client reconnects then, with its `Last-Event-ID`). Unlimited without one.
pub fn limit(query: &str) -> u64 {
    let limit = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("limit="));
    limit.and_then(|n| n.parse().ok()).unwrap_or(u64::MAX)
}

/// The producer of one client's stream: events with ids `first`, `first + 1`, ..., each
/// with its id as data, one every `tick`, `limit` of them. It stops as soon as the stream
/// is gone (a send fails, or the channel closes while it waits), then reports how the
/// stream ended (`report`) on stdout.
pub async fn counter(tx: Sender, first: u64, limit: u64, tick: Duration, report: ReportHandle) {
    let mut sent = 0;
    let mut why = "limit reached";
    for n in first..first.saturating_add(limit) {
        let event = Event::new().id(n.to_string()).data(n.to_string());
        if (sent > 0 && !pause(&tx, tick).await) || tx.send(event).await.is_err() {
            why = "the stream closed its channel";
            break;
        }
        sent += 1;
    }
    say(format_args!(
        "producer from {first} ended after {sent} events: {why}"
    ));
    drop(tx); // a stream past its limit ends once it has written what was sent
    let report = report.wait().await;
    say(format_args!(
        "stream from {first} ended: {:?}, {} events, {} pings, {} undelivered",
        report.ended, report.events, report.pings, report.undelivered
    ));
}

/// Waits `tick`, or less if the stream goes away meanwhile; says whether it is still there.
async fn pause(tx: &Sender, tick: Duration) -> bool {
    if tick.is_zero() {
        return !tx.is_closed();
    }
    let slept = async {
        tokio::time::sleep(tick).await;
        true
    };
    let closed = async {
        tx.closed().await;
        false
    };
    futures_lite::future::or(slept, closed).await
}

/// Prints a line on stdout, flushed at once, for the tests and the curious. A closed
/// stdout is no reason to stop serving, so a failed write is ignored.
pub fn say(line: fmt::Arguments<'_>) {
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}
