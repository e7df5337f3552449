//! A live page and its event stream, on smol over plain TCP.
//!
//! ```text
//! cargo run --example demo --features json
//! ```
//!
//! Open http://127.0.0.1:8000/ in a browser, or `curl -N http://127.0.0.1:8000/events`.
//! The stream carries a clock (`event: clock`), a counter with ids (plain messages) and a
//! JSON event (`event: stats`). Reload the page: the browser sends `Last-Event-ID` and the
//! counter resumes where it stopped. Set `SSE_DEMO_ADDR` to listen elsewhere.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smol::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use sse_pump::{channel, Event, KeepAlive, Sender, Sse};

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>sse-pump demo</title>
<style>body{font:16px system-ui;margin:2em} output{font:700 2em monospace}</style>
<h1>sse-pump demo</h1>
<p>Clock: <output id="clock">…</output></p>
<p>Counter: <output id="count">…</output> (id <span id="lastid"></span>)</p>
<p>Stats: <code id="stats">…</code></p>
<p>Status: <span id="status">connecting</span></p>
<script>
const source = new EventSource("/events");
const $ = (id) => document.getElementById(id);
source.onopen = () => { $("status").textContent = "open"; };
source.onerror = () => { $("status").textContent = "reconnecting"; };
source.onmessage = (e) => { $("count").textContent = e.data; $("lastid").textContent = e.lastEventId; };
source.addEventListener("clock", (e) => { $("clock").textContent = e.data; });
source.addEventListener("stats", (e) => { $("stats").textContent = JSON.stringify(JSON.parse(e.data)); });
</script>
"#;

fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_DEMO_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".into());
    smol::block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        println!("open http://{addr}/ or run: curl -N http://{addr}/events");
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
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let (path, last_id) = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {
                let last_id = request
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("last-event-id"))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                break (request.path.unwrap_or("/").to_owned(), last_id);
            }
            Ok(httparse::Status::Partial) => continue,
            Err(_) => {
                return stream
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await
            }
        }
    };
    match path.as_str() {
        "/" => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                PAGE.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(PAGE.as_bytes()).await
        }
        "/events" => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n\
                      cache-control: no-store\r\nx-accel-buffering: no\r\nconnection: close\r\n\r\n",
                )
                .await?;
            let (tx, rx) = channel(16);
            let start = last_id.map_or(0, |id| id + 1);
            smol::spawn(produce(tx, start)).detach();
            let report = Sse::new(rx)
                .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
                .send_timeout(Duration::from_secs(10))
                .retry(Duration::from_secs(1))
                .pump(&mut stream)
                .await;
            println!("stream from {start} ended: {report:?}");
            Ok(())
        }
        _ => {
            stream
                .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                .await
        }
    }
}

/// The producer: one task per client, stopping when the client is gone.
async fn produce(tx: Sender, start: u64) -> Result<(), sse_pump::Error> {
    for n in start.. {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let clock = Event::new()
            .event("clock")?
            .data(format!("{}", now.as_secs()));
        let counter = Event::new().id(n.to_string())?.data(n.to_string());
        let stats = Event::new()
            .event("stats")?
            .json(&serde_json_value(n, now))?;
        for event in [clock, counter, stats] {
            if tx.send(event).await.is_err() {
                return Ok(()); // the client left
            }
        }
        smol::Timer::after(Duration::from_secs(1)).await;
    }
    Ok(())
}

fn serde_json_value(n: u64, now: Duration) -> serde_json::Value {
    serde_json::json!({ "count": n, "unix_ms": now.as_millis() as u64, "even": n % 2 == 0 })
}
