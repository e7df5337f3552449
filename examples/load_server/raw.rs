//! The modes without an HTTP stack: sse-pump's smol adapter over a bare TCP stream, and
//! the ceiling, which writes pre-encoded events in 64 KiB writes.

use std::io::Write as _;

use futures_lite::AsyncWriteExt as _;
use sse_pump::{
    adapters::{
        raw::{read_request, respond},
        smol::spawn,
    },
    Sse,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::{
    pump_capacity,
    stats::{self, now_ns, Live, Route},
    WRITE_TIMEOUT,
};

fn plain_response(status: &str, text: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    )
}

pub async fn serve_smol(listener: smol::net::TcpListener) -> std::io::Result<()> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let conn = Live::new(&stats::CONNS);
        smol::spawn(async move {
            let _conn = conn;
            let Ok(request) = read_request(&mut stream).await else {
                return;
            };
            let live = Live::new(&stats::PRODUCERS);
            let route = stats::route(request.path());
            drop(request); // not held for the stream's life
            let capacity = pump_capacity(&route);
            let events = match route {
                Route::Events(n) => spawn(capacity, move |tx| async move {
                    let _live = live;
                    stats::produce_events(&tx, n, crate::batch()).await
                }),
                Route::Idle => spawn(capacity, move |tx| async move {
                    let _live = live;
                    tx.closed().await;
                    Ok::<_, &str>(())
                }),
                route => {
                    drop(live);
                    let response = match route {
                        Route::Stats => plain_response("200 OK", &stats::report()),
                        _ => plain_response("404 Not Found", "not found\n"),
                    };
                    let _ = stream.write_all(response.as_bytes()).await;
                    return;
                }
            };
            let _stream = Live::new(&stats::STREAMS);
            let sse = (Sse::new(events))
                .keep_alive(crate::keep_alive())
                .send_timeout(WRITE_TIMEOUT);
            let _ = respond(stream, sse).await;
        })
        .detach();
    }
}

/// Reads a request head, at most 8 KiB; `None` if the client closed first.
async fn read_head(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > 8192 {
            return None;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = head.split(|&b| b == b'\n').next()?;
    let target = String::from_utf8_lossy(line).split(' ').nth(1)?.to_owned();
    Some(target)
}

const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\nconnection: close\r\n\r\n";
const WRITE: usize = 64 * 1024;

/// Appends `data: <seq> <time>\n\n` without allocating: the same bytes as every mode.
fn encode(buf: &mut Vec<u8>, seq: u64, time: u64) {
    buf.extend_from_slice(b"data: ");
    let _ = write!(buf, "{seq} {time}");
    buf.extend_from_slice(b"\n\n");
}

pub async fn serve_ceiling(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let conn = Live::new(&stats::CONNS);
        tokio::spawn(async move {
            let _conn = conn;
            let Some(target) = read_head(&mut stream).await else {
                return;
            };
            match stats::route(&target) {
                Route::Events(n) => {
                    let _stream = Live::new(&stats::STREAMS);
                    if stream.write_all(HEAD).await.is_err() {
                        return;
                    }
                    let mut buf = Vec::with_capacity(WRITE + 64);
                    let mut seq = 0;
                    while seq < n {
                        buf.clear();
                        let time = now_ns();
                        while seq < n && buf.len() < WRITE - 40 {
                            encode(&mut buf, seq, time);
                            seq += 1;
                        }
                        let write = stream.write_all(&buf);
                        match tokio::time::timeout(WRITE_TIMEOUT, write).await {
                            Ok(Ok(())) => {}
                            _ => return,
                        }
                    }
                }
                Route::Idle => {
                    let _stream = Live::new(&stats::STREAMS);
                    if stream.write_all(HEAD).await.is_err() {
                        return;
                    }
                    // Held until the client closes; no pings, the bare minimum.
                    let mut buf = [0; 64];
                    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
                }
                route => {
                    let response = match route {
                        Route::Stats => plain_response("200 OK", &stats::report()),
                        _ => plain_response("404 Not Found", "not found\n"),
                    };
                    let _ = stream.write_all(response.as_bytes()).await;
                }
            }
        });
    }
}
