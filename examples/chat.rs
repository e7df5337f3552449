//! A chat in the browser: messages typed in one tab appear in every other tab. One `Hub`
//! holds the conversation; hyper on tokio serves it.
//!
//! ```text
//! cargo run --example chat --features hyper,tokio
//! # open http://127.0.0.1:8008/ in two tabs, or:
//! curl -N http://127.0.0.1:8008/events &
//! curl --data-binary 'hello' http://127.0.0.1:8008/messages
//! ```
//!
//! Set `SSE_ADDR` to listen elsewhere (`127.0.0.1:0` picks a free port; the first line on
//! stdout is `listening on http://ADDR/`).
//!
//! **Scale-out.** With feature `redis` and `REDIS_URL` set, the hub's log is the Redis
//! stream `CHAT_STREAM` (default `chat`): start the example several times, on several
//! ports, against one Redis, and a message posted to any of them reaches the pages of all;
//! a page that reconnects to another one resumes where it was. Ids are then Redis entry
//! ids, and `POST /messages` answers `200` once the message is in Redis (`503` while Redis
//! is unreachable).
//!
//! ```text
//! cargo run --example chat --features hyper,tokio,redis   # with REDIS_URL=redis://127.0.0.1:6379
//! ```
//!
//! - `GET /`: the page. It posts what is typed, and receives every message through an
//!   `EventSource` on `/events`, rendered as text (never as HTML). It records each event in
//!   `window.received`, for `tests/chat.rs`.
//! - `POST /messages`: publishes the body, UTF-8 text of 1 byte to 4 KiB (413 beyond, 400
//!   if empty or not UTF-8), as one event; answers `200` with its id. Nothing is escaped:
//!   `Event::data` turns each line break into a new `data:` line, so no text can forge a
//!   field, and the browser joins the lines back with `\n`.
//! - `GET /events`: subscribes to the hub, resuming after `Last-Event-ID` from the hub's
//!   history (the last 256 messages). `503` with `Retry-After` when the hub has its
//!   10,000 subscribers.
//!
//! **Refresh.** A browser sends `Last-Event-ID` only when its `EventSource` reconnects by
//! itself (the server restarted, the network dropped), never on a page load. So the page
//! keeps the id of the last message it showed, and the messages, in `sessionStorage` (one
//! tab's storage, which survives a reload), and opens `/events?last_event_id=N`; the server
//! takes that query parameter when there is no header. A refreshed tab shows the messages
//! it had, then gets exactly those it missed while it reloaded, then the live ones. A new
//! tab starts live.

use std::{convert::Infallible, time::Duration};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full, LengthLimitError, Limited};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use sse_pump::{
    hub::{Hub, Lag, Subscription},
    last_event_id, unavailable, Event, Sse, SseBody, SseResponse, WriteTimeout, MAX_LAST_EVENT_ID,
};
use tokio::net::TcpListener;

type Body = Either<SseBody<Subscription>, Full<Bytes>>;

/// The id of this run's first message: `CHAT_FIRST_ID` if set (the tests use 1), else the
/// start time in milliseconds, so that ids never repeat across restarts and a tab's saved
/// id from an earlier run is unknown to this one (it gets a `reset`, not someone else's
/// messages).
fn first_id() -> u64 {
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    std::env::var("CHAT_FIRST_ID")
        .ok()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| start.map_or(1, |since| since.as_millis() as u64))
}

/// The largest message accepted, in bytes.
const MAX_MESSAGE: usize = 4 * 1024;

/// How long a refused client is asked to wait before it tries again.
const RETRY_AFTER: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_ADDR").unwrap_or_else(|_| "127.0.0.1:8008".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on http://{}/", listener.local_addr()?);
    let hub = Hub::builder()
        .history(256)
        .subscriber_capacity(64)
        .on_lag(Lag::DropOldest)
        .max_subscribers(10_000)
        .first_id(first_id());
    let hub = match std::env::var("REDIS_URL") {
        Ok(url) => shared(hub, &url)?,
        Err(_) => hub.build(),
    };
    loop {
        let (stream, _) = listener.accept().await?;
        let io = WriteTimeout::new(TokioIo::new(stream), Duration::from_secs(30));
        let hub = hub.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(hub.clone(), request));
            let served = http1::Builder::new().serve_connection(io, service).await;
            // A client that leaves in the middle of its stream is an SSE client's normal end.
            match served {
                Err(e) if !e.is_incomplete_message() => eprintln!("connection ended: {e}"),
                _ => {}
            }
        });
    }
}

/// The hub with its log in Redis (feature `redis`).
#[cfg(feature = "redis")]
fn shared(hub: sse_pump::hub::HubBuilder, url: &str) -> std::io::Result<Hub> {
    let stream = std::env::var("CHAT_STREAM").unwrap_or_else(|_| "chat".into());
    let redis = sse_pump::hub::RedisStreams::new(url, &stream).map_err(std::io::Error::other)?;
    let hub = hub.backend(redis.clone()).build();
    tokio::spawn(async move {
        redis.ready().await;
        println!("following redis stream {stream}"); // for the tests
    });
    Ok(hub)
}

#[cfg(not(feature = "redis"))]
fn shared(_: sse_pump::hub::HubBuilder, _: &str) -> std::io::Result<Hub> {
    Err(std::io::Error::other("REDIS_URL needs the `redis` feature"))
}

async fn handle(hub: Hub, request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    Ok(match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => page(),
        (&Method::GET, "/events") => events(&hub, &request),
        (&Method::POST, "/messages") => post(&hub, request).await,
        (_, "/" | "/events" | "/messages") => plain(StatusCode::METHOD_NOT_ALLOWED, "no"),
        _ => plain(StatusCode::NOT_FOUND, "try /"),
    })
}

/// The stream, resuming after the `Last-Event-ID` header, or else the `last_event_id`
/// query parameter.
fn events(hub: &Hub, request: &Request<Incoming>) -> Response<Body> {
    let header = match last_event_id(request.headers()) {
        Ok(id) => id,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let query = (request.uri().query().unwrap_or(""))
        .split('&')
        .find_map(|pair| pair.strip_prefix("last_event_id="))
        .filter(|id| id.len() <= MAX_LAST_EVENT_ID);
    let subscription = match hub.subscribe(header.or(query)) {
        Ok(subscription) => subscription,
        // Full, still loading a shared log's history (a resume it cannot resolve yet), or
        // closed: come back later.
        Err(_) => return unavailable(RETRY_AFTER).map(Either::Right),
    };
    let sse = Sse::new(subscription).retry(Duration::from_secs(1));
    let response = SseResponse::new(sse).version(request.version()).build();
    response.map(Either::Left)
}

/// Publishes the request's body as one message.
async fn post(hub: &Hub, request: Request<Incoming>) -> Response<Body> {
    let declared = request.headers().get(header::CONTENT_LENGTH);
    let declared = declared.and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_MESSAGE as u64) {
        return too_large();
    }
    let body = match Limited::new(request.into_body(), MAX_MESSAGE)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return too_large(),
        Err(e) => return plain(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return plain(StatusCode::BAD_REQUEST, "a message is UTF-8 text");
    };
    if text.trim().is_empty() {
        return plain(StatusCode::BAD_REQUEST, "a message has some text");
    }
    // Waits for Redis to confirm, with a shared log; at once in process.
    match hub.publish_async(Event::new().data(text)).await {
        Ok(id) => plain(StatusCode::OK, &id.to_string()),
        Err(e) if e.is_unavailable() => plain(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        Err(_) => plain(StatusCode::SERVICE_UNAVAILABLE, "the chat is closed"),
    }
}

fn too_large() -> Response<Body> {
    let limit = format!("a message is at most {MAX_MESSAGE} bytes");
    plain(StatusCode::PAYLOAD_TOO_LARGE, &limit)
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::from(text.to_owned()))));
    *response.status_mut() = status;
    let content_type = HeaderValue::from_static("text/plain; charset=utf-8");
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    response
}

fn page() -> Response<Body> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::from_static(PAGE))));
    let content_type = HeaderValue::from_static("text/html; charset=utf-8");
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    response
}

const PAGE: &[u8] = br#"<!doctype html>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width">
<title>sse-pump chat</title>
<style>
body{font:16px system-ui;margin:2em;max-width:40em}
#messages{list-style:none;padding:0}
#messages li{white-space:pre-wrap;border-bottom:1px solid #ddd;padding:.3em 0}
#text{width:30em}
</style>
<h1>sse-pump chat</h1>
<form id="form"><input id="text" autocomplete="off" autofocus placeholder="Say something">
<button>Send</button> <span id="status">connecting</span></form>
<ul id="messages"></ul>
<script>
const $ = (id) => document.getElementById(id);
// What this tab has shown, kept across a reload (sessionStorage is per tab).
const saved = JSON.parse(sessionStorage.getItem("chat") || '{"lastId":"","shown":[]}');
const show = (text) => {
  const li = document.createElement("li");
  li.textContent = text; // text, never HTML
  $("messages").append(li);
};
saved.shown.forEach(show);
const received = (window.received = []);
const record = (e) => received.push(e instanceof MessageEvent
  ? { type: e.type, data: e.data, lastEventId: e.lastEventId } : { type: e.type });
// A browser sends Last-Event-ID when it reconnects by itself, not on a reload: say it.
const resume = saved.lastId ? "?last_event_id=" + encodeURIComponent(saved.lastId) : "";
const source = (window.source = new EventSource("/events" + resume));
source.onopen = (e) => { record(e); $("status").textContent = "connected"; };
source.onerror = (e) => {
  record(e);
  $("status").textContent = source.readyState === EventSource.CLOSED
    ? "disconnected: reload to try again" : "reconnecting";
};
source.onmessage = (e) => {
  record(e);
  show(e.data);
  saved.lastId = e.lastEventId;
  saved.shown = saved.shown.concat([e.data]).slice(-256);
  sessionStorage.setItem("chat", JSON.stringify(saved));
};
source.addEventListener("gap", (e) => { record(e); show(`(${e.data} messages missed)`); });
source.addEventListener("reset", (e) => { record(e); show("(some messages were missed)"); });
$("form").onsubmit = async (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text.trim()) return;
  const response = await fetch("/messages", { method: "POST", body: text });
  if (response.ok) $("text").value = "";
  else $("status").textContent = `not sent: ${response.status} ${await response.text()}`;
};
</script>
"#;
