//! The routes of the `https` example: the demo page and stream, the many-streams page, the
//! paced stream and its acknowledgements.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::Mutex,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use sse_pump::{
    adapters::tokio::{spawn, Task},
    last_event_id, CompressedBody, Encoding, Event, KeepAlive, Sender, Spawned, Sse, SseResponse,
};
use tokio::sync::watch;

pub type Body = Either<CompressedBody<Spawned<Task>>, Full<Bytes>>;

const DEMO_PAGE: &str = include_str!("../demo_page.html");

/// `/many?n=N`: N `EventSource`s on the demo stream, each counting its messages in
/// `window.counts[i]`; `window.sources` holds them (their `readyState`).
const MANY_PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>many streams</title>
<pre id="log"></pre>
<script>
const n = Number(new URLSearchParams(location.search).get("n") || 12);
window.counts = []; window.sources = [];
for (let i = 0; i < n; i++) {
  counts.push(0);
  const source = new EventSource("/events?stream=" + i);
  source.onmessage = () => { counts[i]++; document.getElementById("log").textContent = counts.join(" "); };
  sources.push(source);
}
</script>
"#;

/// `/paced.html?run=R&count=N`: keeps each `token` event's data in `window.received` and
/// acknowledges it at once, which releases the next.
const PACED_PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>paced stream</title>
<script>
const query = new URLSearchParams(location.search);
const run = query.get("run"), count = query.get("count");
window.received = [];
const source = new EventSource(`/paced?run=${run}&count=${count}`);
source.addEventListener("token", (e) => {
  received.push(e.data);
  fetch(`/ack?run=${run}&n=${e.lastEventId}`);
});
source.onerror = () => { source.close(); window.ended = true; };
</script>
"#;

/// What the routes share: whether to compress, and each paced run's acknowledgements.
pub struct App {
    compress: bool,
    acks: Mutex<HashMap<String, watch::Sender<u64>>>,
}

impl App {
    pub fn new(compress: bool) -> App {
        App {
            compress,
            acks: Mutex::new(HashMap::new()),
        }
    }

    pub async fn handle(&self, request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
        let query = request.uri().query().unwrap_or("").to_owned();
        let number = |name: &str| param(&query, name).and_then(|v| v.parse::<u64>().ok());
        Ok(match request.uri().path() {
            "/" => html(DEMO_PAGE),
            "/many" => html(MANY_PAGE),
            "/paced.html" => html(PACED_PAGE),
            "/events" => {
                let start = match last_event_id(request.headers()) {
                    Ok(id) => id
                        .and_then(|id| id.parse::<u64>().ok())
                        .map_or(0, |id| id + 1),
                    Err(e) => return Ok(plain(StatusCode::BAD_REQUEST, e.to_string())),
                };
                let limit = number("limit").unwrap_or(u64::MAX);
                let events = spawn(16, move |tx| demo(tx, start, limit));
                let sse = Sse::new(events)
                    .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
                    .retry(Duration::from_secs(1));
                self.stream(&request, sse)
            }
            "/paced" => {
                let run = param(&query, "run").unwrap_or("").to_owned();
                let acked = self.acks(&run).subscribe();
                let count = number("count").unwrap_or(10);
                let events = spawn(4, move |tx| paced(tx, acked, count));
                // No pings: nothing but the next event may push a held-back one out.
                self.stream(&request, Sse::new(events).keep_alive(None))
            }
            "/ack" => {
                let run = param(&query, "run").unwrap_or("");
                let n = number("n").unwrap_or(0);
                self.acks(run)
                    .send_modify(|acked| *acked = (*acked).max(n + 1));
                plain(StatusCode::NO_CONTENT, String::new())
            }
            _ => plain(StatusCode::NOT_FOUND, "not found".into()),
        })
    }

    /// The response streaming `sse`, compressed as the client accepts (unless turned
    /// off); the stream's open and end are printed.
    fn stream(&self, request: &Request<Incoming>, sse: Sse<Spawned<Task>>) -> Response<Body> {
        let encoding = match self.compress {
            true => Encoding::negotiate(request.headers()),
            false => Encoding::Identity,
        };
        // An HTTP/2 request's URI is absolute: print its path alone, as for HTTP/1.1.
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let version = request.version();
        println!("stream opened: {path} ({version:?}, {encoding})");
        let response = SseResponse::new(sse).version(version).compress(encoding);
        let report = response.body().report();
        tokio::spawn(async move {
            println!("stream ended: {path} {:?}", report.wait().await);
        });
        response.map(Either::Left)
    }

    fn acks(&self, run: &str) -> watch::Sender<u64> {
        let mut acks = self.acks.lock().unwrap_or_else(|e| e.into_inner());
        let entry = acks.entry(run.to_owned());
        entry.or_insert_with(|| watch::channel(0).0).clone()
    }
}

/// The demo's rounds (see `examples/demo.rs`): a clock, a counter with ids, a JSON event.
async fn demo(tx: Sender, start: u64, limit: u64) -> Result<(), sse_pump::FieldError> {
    let end = start.saturating_add(limit);
    for n in start..end {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let clock = Event::new().event("clock").data(now.as_secs().to_string());
        let counter = Event::new().id(n.to_string()).data(n.to_string());
        let stats = serde_json::json!({
            "count": n, "unix_ms": now.as_millis() as u64, "even": n % 2 == 0
        });
        let stats = Event::new().event("stats").json(&stats);
        for event in [clock, counter, stats] {
            if tx.send(event).await.is_err() {
                return Ok(()); // the client left
            }
        }
        if n + 1 < end {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    Ok(())
}

/// `count` token events, each sent only once the client acknowledged the one before.
async fn paced(
    tx: Sender,
    mut acked: watch::Receiver<u64>,
    count: u64,
) -> Result<(), sse_pump::FieldError> {
    for k in 0..count {
        tokio::select! {
            seen = acked.wait_for(|&acked| acked >= k) => if seen.is_err() { return Ok(()) },
            _ = tx.closed() => return Ok(()),
        }
        let data = format!(
            r#"{{"token":"t{k}","index":{k},"done":{}}}"#,
            k + 1 == count
        );
        let event = Event::new().event("token").id(k.to_string()).data(data);
        if tx.send(event).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// The value of `name` in a query string.
fn param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

fn html(page: &'static str) -> Response<Body> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::from_static(
        page.as_bytes(),
    ))));
    let value = HeaderValue::from_static("text/html; charset=utf-8");
    response.headers_mut().insert(header::CONTENT_TYPE, value);
    response
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::from(text))));
    *response.status_mut() = status;
    response
}
