//! The dashboard's server side: one [`Hub`] carries everything the page shows (the
//! metric, the hub's own figures, the broadcast messages), so each tab needs one
//! connection (a browser opens at most six per host over HTTP/1.1) and one
//! `Last-Event-ID` resumes all of it.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::json;
use smol::{io::AsyncReadExt, net::TcpStream, stream::StreamExt};
use sse_pump::{
    adapters::raw,
    hub::{Hub, HubStats},
    Event, KeepAlive, Shutdown, Sse,
};

use super::{param, reply};

/// Events kept for replay: ten minutes of the metric and the figures, with room for
/// messages.
const HISTORY: usize = 4096;

/// How often the metric gets a point; the hub's figures go out every `STATS_EVERY` points.
const TICK: Duration = Duration::from_millis(200);
const STATS_EVERY: u64 = 5;

/// Points published at start, dated in the past, so that the first tab's chart starts full.
const BACKFILL: u64 = 150;

/// The longest broadcast message, in bytes.
const MAX_MESSAGE: usize = 1024;

/// How long a client may take to send a POST body.
const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// The hub and the open streams of each tab (so that "Drop connection" can end them).
pub struct Live {
    hub: Hub,
    /// The first id this run's hub assigns.
    first_id: u64,
    /// The id of the last event published.
    last_id: AtomicU64,
    /// Each open `/live` stream: its tab and the switch that ends it.
    streams: Mutex<HashMap<u64, (String, Shutdown)>>,
    next_stream: AtomicU64,
}

impl Live {
    /// Ids start at this run's start time in milliseconds, so that they never repeat across
    /// restarts: a tab still open from an earlier run comes back with an id this hub does
    /// not know, and gets a `reset` instead of someone else's events.
    pub fn new() -> Live {
        let first_id = unix_ms().max(1);
        Live {
            hub: Hub::builder().history(HISTORY).first_id(first_id).build(),
            first_id,
            last_id: AtomicU64::new(first_id - 1),
            streams: Mutex::new(HashMap::new()),
            next_stream: AtomicU64::new(0),
        }
    }

    /// Publishes `event`, keeping its id for [`Live::resume_from`].
    fn publish(&self, event: Event) -> Result<u64, sse_pump::hub::PublishError> {
        let id = self.hub.publish(event)?;
        // An in-process hub numbers its events and says the number at once.
        let id = id
            .and_then(|id| id.as_str().parse().ok())
            .unwrap_or_default();
        self.last_id.fetch_max(id, Ordering::Relaxed);
        Ok(id)
    }

    /// The id to subscribe after: the client's `Last-Event-ID`, or for a new client that
    /// asks for a `backlog`, the id that many events back (at most the history), so that
    /// its chart starts full; `None`: live events only.
    fn resume_from(&self, last_id: Option<&str>, backlog: Option<u64>) -> Option<String> {
        if let Some(id) = last_id {
            println!("resumed from Last-Event-ID: {id}");
            return Some(id.to_owned());
        }
        // The id to resume after must still be in the hub's history (an id it no longer
        // holds, or one it never gave, is answered with `reset`): at most the history's
        // oldest, so a new tab gets one event less than the whole history.
        let events = backlog?.min(HISTORY as u64 - 1);
        let last = self.last_id.load(Ordering::Relaxed);
        if last < self.first_id {
            return None; // nothing published yet: live events only
        }
        Some(last.saturating_sub(events).max(self.first_id).to_string())
    }

    fn streams(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (String, Shutdown)>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The publisher: a point of the metric every [`TICK`], the hub's figures every second.
/// Runs for the life of the server.
pub async fn tick(live: std::sync::Arc<Live>) {
    let start = unix_ms();
    let step = TICK.as_millis() as u64;
    for k in 0..BACKFILL {
        let _ = live.publish(metric(k, start - (BACKFILL - k) * step));
    }
    let mut timer = smol::Timer::interval(TICK);
    for k in BACKFILL.. {
        timer.next().await;
        if live.publish(metric(k, unix_ms())).is_err() {
            return; // closed: nothing more to do
        }
        if k % STATS_EVERY == 0 {
            let _ = live.publish(stats(live.hub.stats()));
        }
    }
}

/// Point `k` of the metric, dated `t` (Unix ms): latency percentiles of an imaginary
/// service, a function of `k` alone (slow waves, jitter, the odd spike).
fn metric(k: u64, t: u64) -> Event {
    let x = k as f64;
    let jitter = |salt: u64| noise(k.wrapping_mul(3).wrapping_add(salt));
    let p50 = 22.0 + 5.0 * (x / 37.0).sin() + 2.5 * (x / 9.0).sin() + 3.0 * jitter(0);
    let p90 = p50 * 1.7 + 6.0 * (x / 23.0 + 1.0).sin() + 6.0 * jitter(1);
    let spike = if noise(k / 4 + 7) > 0.93 { 45.0 } else { 0.0 };
    let p99 = p90 * 1.45 + 12.0 * (x / 61.0).sin().max(0.0) + 14.0 * jitter(2) + spike;
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let point = json!({ "k": k, "t": t, "p50": round(p50), "p90": round(p90), "p99": round(p99) });
    Event::new().event("metric").json(&point)
}

/// A number in [0, 1) that depends on `n` alone (splitmix64).
fn noise(n: u64) -> f64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// The hub's figures as an event.
fn stats(stats: HubStats) -> Event {
    Event::new().event("stats").json(&json!({
        "subscribers": stats.subscribers,
        "published": stats.published,
        "retained": stats.retained,
        "lagged": stats.lagged_events,
        "lag_disconnects": stats.lag_disconnects,
    }))
}

/// `GET /live?tab=NAME&backlog=N`: a subscription to the hub. With a `Last-Event-ID`, it
/// resumes after it; without, it starts `backlog` events back (default 0: live).
pub async fn stream(
    live: &Live,
    stream: TcpStream,
    request: &raw::Request,
    query: &str,
) -> std::io::Result<()> {
    let Ok(last_id) = request.last_event_id() else {
        return reply(stream, "400 Bad Request", "malformed Last-Event-ID").await;
    };
    let tab = param(query, "tab").unwrap_or("").to_owned();
    if !valid_tab(&tab) {
        return reply(stream, "400 Bad Request", "tab: 0 to 32 of A-Z a-z 0-9 - _").await;
    }
    let backlog = param(query, "backlog").and_then(|n| n.parse().ok());
    let from = live.resume_from(last_id, backlog);
    let subscription = match live.hub.subscribe(from.as_deref()) {
        Ok(subscription) => subscription,
        Err(_) => return reply(stream, "503 Service Unavailable", "the hub is full").await,
    };
    let shutdown = Shutdown::new();
    let key = live.next_stream.fetch_add(1, Ordering::Relaxed);
    live.streams().insert(key, (tab, shutdown.clone()));
    let sse = Sse::new(subscription)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .send_timeout(Duration::from_secs(10))
        .retry(Duration::from_secs(1))
        .shutdown(shutdown.listener())
        .farewell(
            Event::new()
                .event("dropped")
                .data("the server ended this stream"),
        );
    let report = raw::respond(stream, sse).await;
    let (tab, _) = live.streams().remove(&key).unwrap_or_default();
    // A tab closed or dropped is how streams end here; the report says which.
    let ended = report
        .as_ref()
        .map_or_else(|e| e.report().ended, |r| r.ended);
    println!("/live stream of tab {tab:?} ended: {ended:?}");
    Ok(())
}

/// `POST /drop?tab=NAME`: ends that tab's streams, as a lost connection would.
pub async fn drop_tab(live: &Live, stream: TcpStream, query: &str) -> std::io::Result<()> {
    let tab = param(query, "tab").unwrap_or("");
    if tab.is_empty() || !valid_tab(tab) {
        return reply(stream, "400 Bad Request", "tab: 1 to 32 of A-Z a-z 0-9 - _").await;
    }
    let mut dropped = 0;
    for (owner, shutdown) in live.streams().values() {
        if owner == tab {
            shutdown.trigger();
            dropped += 1;
        }
    }
    println!("dropped {dropped} stream(s) of tab {tab}");
    reply(stream, "200 OK", &dropped.to_string()).await
}

/// `POST /broadcast?tab=NAME`: publishes the body (1 to [`MAX_MESSAGE`] bytes of UTF-8
/// text) to every tab, as `{"from": NAME, "text": TEXT}`; answers with its id.
pub async fn broadcast(
    live: &Live,
    mut stream: TcpStream,
    request: &raw::Request,
    query: &str,
) -> std::io::Result<()> {
    // The body first: closing with unread bytes would reset the connection, and the
    // client might never see the answer.
    let body = match read_body(&mut stream, request).await {
        Ok(body) => body,
        Err(status) => return reply(stream, status, "").await,
    };
    let tab = param(query, "tab").unwrap_or("");
    if !valid_tab(tab) {
        return reply(stream, "400 Bad Request", "tab: 0 to 32 of A-Z a-z 0-9 - _").await;
    }
    let text = match String::from_utf8(body) {
        Ok(text) if !text.trim().is_empty() => text,
        _ => return reply(stream, "400 Bad Request", "empty or not UTF-8").await,
    };
    let message = json!({ "from": tab, "text": text });
    match live.publish(Event::new().event("broadcast").json(&message)) {
        Ok(id) => reply(stream, "200 OK", &id.to_string()).await,
        Err(_) => reply(stream, "503 Service Unavailable", "the hub is closed").await,
    }
}

/// The request's body, by its `Content-Length`, within [`BODY_TIMEOUT`]; the status to
/// answer with when it is missing, too large or late.
async fn read_body(
    stream: &mut TcpStream,
    request: &raw::Request,
) -> Result<Vec<u8>, &'static str> {
    let length = request
        .header("content-length")
        .ok_or("411 Length Required")?;
    let length = std::str::from_utf8(length)
        .ok()
        .and_then(|l| l.trim().parse::<usize>().ok());
    let length = length.ok_or("400 Bad Request")?;
    if length > MAX_MESSAGE {
        return Err("413 Content Too Large");
    }
    let mut body = vec![0; length];
    let read = async {
        stream
            .read_exact(&mut body)
            .await
            .map_err(|_| "400 Bad Request")
    };
    let late = async {
        smol::Timer::after(BODY_TIMEOUT).await;
        Err("408 Request Timeout")
    };
    smol::future::or(read, late).await?;
    Ok(body)
}

/// A tab name: at most 32 of `A-Z a-z 0-9 - _` (it is echoed in events and logs).
fn valid_tab(tab: &str) -> bool {
    tab.len() <= 32
        && tab
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn unix_ms() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH);
    now.map_or(0, |since| since.as_millis() as u64)
}
