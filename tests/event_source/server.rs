//! The test server (raw HTTP/1.1 on tokio, on its own thread) and the clients
//! (hyper's `conn::http1` on tokio and on smol).

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::mpsc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures_lite::StreamExt;
use http_body_util::Full;
use hyper::body::Incoming;
use sse_pump::{
    client::{Backoff, Error, EventSourceItem},
    FuturesIo,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::compat::TokioAsyncReadCompatExt;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body the test fetches send: none, or bytes.
pub(crate) trait SendBody {
    fn into_bytes(self) -> Bytes;
}

impl SendBody for () {
    fn into_bytes(self) -> Bytes {
        Bytes::new()
    }
}

impl SendBody for Bytes {
    fn into_bytes(self) -> Bytes {
        self
    }
}

/// A fetch on tokio: one connection per request.
pub(crate) async fn fetch_tokio<Q: SendBody>(
    addr: SocketAddr,
    request: http::Request<Q>,
) -> Result<http::Response<Incoming>, BoxError> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(FuturesIo::new(stream.compat())).await?;
    tokio::spawn(conn);
    Ok(sender
        .send_request(request.map(|body| Full::new(body.into_bytes())))
        .await?)
}

/// The same fetch on smol.
pub(crate) async fn fetch_smol<Q: SendBody>(
    addr: SocketAddr,
    request: http::Request<Q>,
) -> Result<http::Response<Incoming>, BoxError> {
    let stream = smol::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(FuturesIo::new(stream)).await?;
    smol::spawn(conn).detach();
    Ok(sender
        .send_request(request.map(|body| Full::new(body.into_bytes())))
        .await?)
}

/// What the server does with the n-th connection.
pub(crate) enum Reply {
    /// Write this response, then close. An empty one closes at once: a network error.
    Close(String),
    /// Write this response, keep the connection until the client drops it, and say so.
    Hold(String),
    /// Write this head, then each chunk after a pause (a server's pacing), then close.
    Drip(String, Vec<String>, Duration),
}

/// What the server saw.
#[derive(Debug)]
pub(crate) enum Note {
    Request {
        at: Instant,
        headers: HashMap<String, String>,
    },
    Dropped,
}

pub(crate) fn sse(body: &str) -> Reply {
    Reply::Close(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n{body}"
    ))
}

pub(crate) fn no_content() -> Reply {
    Reply::Close("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".into())
}

pub(crate) fn drop_connection() -> Reply {
    Reply::Close(String::new())
}

/// Serves `replies` in order (then drops every connection), on its own thread and runtime.
pub(crate) fn serve(replies: Vec<Reply>) -> (SocketAddr, mpsc::Receiver<Note>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let mut replies = replies.into_iter();
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                let reply = replies.next().unwrap_or_else(drop_connection);
                tokio::spawn(answer(socket, reply, tx.clone()));
            }
        });
    });
    (addr, rx)
}

async fn answer(mut socket: tokio::net::TcpStream, reply: Reply, notes: mpsc::Sender<Note>) {
    let mut head = Vec::new();
    let mut buf = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let mut parsed = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut parsed);
    request.parse(&head).unwrap();
    let headers = request
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let mut headers: HashMap<String, String> = headers;
    let body_start = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut body = head.split_off(body_start);
    let length = headers
        .get("content-length")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    while body.len() < length {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    headers.insert(":body".into(), String::from_utf8_lossy(&body).into_owned());
    let at = Instant::now();
    notes.send(Note::Request { at, headers }).unwrap();
    match reply {
        Reply::Close(response) => {
            let _ = socket.write_all(response.as_bytes()).await;
        }
        Reply::Drip(head, chunks, pause) => {
            let _ = socket.write_all(head.as_bytes()).await;
            for chunk in chunks {
                tokio::time::sleep(pause).await;
                if socket.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
        Reply::Hold(response) => {
            let _ = socket.write_all(response.as_bytes()).await;
            while !matches!(socket.read(&mut buf).await, Ok(0) | Err(_)) {}
            let _ = notes.send(Note::Dropped);
        }
    }
}

/// The next request the server saw: when, and its headers.
pub(crate) fn next_request(notes: &mpsc::Receiver<Note>) -> (Instant, HashMap<String, String>) {
    match notes.recv_timeout(Duration::from_secs(10)) {
        Ok(Note::Request { at, headers }) => (at, headers),
        other => panic!("expected a request, got {other:?}"),
    }
}

/// Asserts that the server sees no further request (it would come within milliseconds).
pub(crate) fn no_more_requests(notes: &mpsc::Receiver<Note>) {
    if let Ok(note) = notes.recv_timeout(Duration::from_millis(200)) {
        panic!("unexpected {note:?}");
    }
}

pub(crate) fn request(addr: SocketAddr) -> http::Request<()> {
    http::Request::get(format!("http://{addr}/events"))
        .body(())
        .unwrap()
}

/// Fast, jitter-free reconnects.
pub(crate) fn quick() -> Backoff {
    Backoff::exponential(Duration::from_millis(1), Duration::from_millis(1))
}

/// Collects everything the source yields, up to `limit` items, as short strings.
pub(crate) async fn drain<S>(source: &mut S, limit: usize) -> Vec<String>
where
    S: futures_lite::Stream<Item = Result<EventSourceItem, Error>> + Unpin,
{
    let mut seen = Vec::new();
    while let Some(item) = source.next().await {
        seen.push(describe(item));
        assert!(seen.len() <= limit, "too many items: {seen:?}");
    }
    seen
}

pub(crate) fn describe(item: Result<EventSourceItem, Error>) -> String {
    match item {
        Ok(EventSourceItem::Open) => "open".into(),
        Ok(EventSourceItem::Event(e)) => format!("event {} {}", e.id, e.data),
        Ok(EventSourceItem::Reconnecting { after, attempt, .. }) => {
            format!("reconnecting #{attempt} {}ms", after.as_millis())
        }
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("error {e}"),
    }
}

pub(crate) async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .expect("test timed out")
}

/// Runs `future` on smol, within 20 s.
pub(crate) fn on_smol<T>(future: impl std::future::Future<Output = T>) -> T {
    smol::block_on(async {
        let timeout = async {
            smol::Timer::after(Duration::from_secs(20)).await;
            panic!("test timed out")
        };
        smol::future::or(future, timeout).await
    })
}
