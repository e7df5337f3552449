//! The delivery paths under test, each serving one stream over a real loopback connection on
//! the runtime the test runs in (tokio if there is one, else smol): the pump into a bare TCP
//! stream, the HTTP/1.1 body through hyper, the raw HTTP adapter.

use std::{
    future::Future,
    io::Write as _,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt, Stream, StreamExt};
use http::Request;
use http_body_util::BodyStream;
use sse_pump::{Report, Source, Sse, WriteTimeout};

use crate::support::{
    self,
    http::{fetch, serve, BoxError, Listener},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// `Sse::pump` (or `adapters::tokio::pump`) into the accepted TCP stream.
    Pump,
    /// `response(sse)` served by hyper's HTTP/1.1 connection, read by hyper's client.
    Hyper,
    /// `adapters::raw::respond` (or `adapters::tokio::respond`) after reading the head.
    Raw,
}

pub const ALL: [Path; 3] = [Path::Pump, Path::Hyper, Path::Raw];

pub type Body = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;
pub type ReportFuture = Pin<Box<dyn Future<Output = Report> + Send>>;

/// A stream being served: what the client reads, and how the server saw it end.
pub struct Served {
    pub body: Body,
    pub report: ReportFuture,
}

fn on_tokio() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// How long hyper's connection may wait on one write: longer than the streams' send
/// timeouts in these tests, so that the body's own send timeout is what ends a stall.
const HYPER_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// Serves `sse` on `path`, with a client that reads.
pub async fn serve_one<S: Source + Send + 'static>(path: Path, sse: Sse<S>) -> Served {
    match path {
        Path::Hyper => serve_hyper(sse).await,
        _ => {
            let (addr, report) = serve_tcp(path, sse, None).await;
            let mut client = smol::net::TcpStream::connect(addr).await.unwrap();
            // The pump writes the stream into a bare socket: no request to send (bytes it
            // never reads would make the server's close a reset).
            if path == Path::Raw {
                client
                    .write_all(request_head(addr).as_bytes())
                    .await
                    .unwrap();
            }
            let mut body = bytes_of(client);
            if path == Path::Raw {
                body = skip_head(body).await;
            }
            Served { body, report }
        }
    }
}

/// Serves `sse` on `path` to a client that sends its request and then reads nothing, on a
/// connection whose kernel buffers are small on both sides; returns the client's socket.
pub async fn serve_stalled<S: Source + Send + 'static>(
    path: Path,
    sse: Sse<S>,
) -> (std::net::TcpStream, ReportFuture) {
    let (addr, report) = match path {
        Path::Hyper => serve_hyper_conn(sse, Some(SMALL_BUFFER)).await,
        _ => serve_tcp(path, sse, Some(SMALL_BUFFER)).await,
    };
    (stalled_client(addr), report)
}

/// A client of `addr` with a small receive buffer that sends its request, then reads
/// nothing.
pub fn stalled_client(addr: SocketAddr) -> std::net::TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(SMALL_BUFFER).unwrap();
    socket.connect(&addr.into()).unwrap();
    let mut client: std::net::TcpStream = socket.into();
    client.write_all(request_head(addr).as_bytes()).unwrap();
    client
}

/// The kernel buffer size asked for in stall tests (Linux doubles it).
const SMALL_BUFFER: usize = 16 * 1024;

fn request_head(addr: SocketAddr) -> String {
    format!("GET /events HTTP/1.1\r\nHost: {addr}\r\n\r\n")
}

/// A server for `path` (pump or raw) that serves `sse` on the first connection.
async fn serve_tcp<S: Source + Send + 'static>(
    path: Path,
    sse: Sse<S>,
    send_buffer: Option<usize>,
) -> (SocketAddr, ReportFuture) {
    if on_tokio() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = support::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            shrink(&stream, send_buffer);
            let result = match path {
                Path::Pump => sse_pump::adapters::tokio::pump(sse, &mut stream).await,
                _ => {
                    sse_pump::adapters::tokio::read_request(&mut stream)
                        .await
                        .unwrap();
                    sse_pump::adapters::tokio::respond(stream, sse).await
                }
            };
            result.unwrap_or_else(|failed| failed.report().clone())
        });
        (addr, served)
    } else {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = support::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            shrink(&stream, send_buffer);
            let result = match path {
                Path::Pump => sse.pump(&mut stream).await,
                _ => {
                    sse_pump::adapters::raw::read_request(&mut stream)
                        .await
                        .unwrap();
                    sse_pump::adapters::raw::respond(stream, sse).await
                }
            };
            result.unwrap_or_else(|failed| failed.report().clone())
        });
        (addr, served)
    }
}

fn shrink<T: std::os::fd::AsFd>(stream: &T, send_buffer: Option<usize>) {
    if let Some(size) = send_buffer {
        socket2::SockRef::from(stream)
            .set_send_buffer_size(size)
            .unwrap();
    }
}

/// hyper serving `sse` on one connection, its IO under a write timeout; the address and
/// the body's report.
async fn serve_hyper_conn<S: Source + Send + 'static>(
    sse: Sse<S>,
    send_buffer: Option<usize>,
) -> (SocketAddr, ReportFuture) {
    let listener = Listener::bind().await;
    let addr = listener.addr();
    let (report_tx, report_rx) = async_channel::bounded(1);
    let sse = Arc::new(Mutex::new(Some(sse)));
    support::detach(async move {
        let io = listener
            .accept_with(|socket| shrink(&socket, send_buffer))
            .await;
        let io = WriteTimeout::new(io, HYPER_WRITE_TIMEOUT);
        let _ = serve(io, move |request| {
            let sse = sse.lock().unwrap().take().expect("one request");
            let response = sse_pump::SseResponse::new(sse)
                .version(request.version())
                .build();
            report_tx.try_send(response.body().report()).unwrap();
            response
        })
        .await;
    });
    let report = Box::pin(async move { report_rx.recv().await.unwrap().wait().await });
    (addr, report)
}

async fn serve_hyper<S: Source + Send + 'static>(sse: Sse<S>) -> Served {
    let (addr, report) = serve_hyper_conn(sse, None).await;
    let request = Request::get(format!("http://{addr}/events"))
        .header(http::header::HOST, addr.to_string())
        .body(())
        .unwrap();
    let response = fetch(addr, request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = BodyStream::new(response.into_body()).filter_map(|frame| match frame {
        Ok(frame) => frame.into_data().ok().map(Ok),
        Err(error) => Some(Err(BoxError::from(error))),
    });
    Served {
        body: Box::pin(body),
        report,
    }
}

/// The bytes a client reads from `stream`, chunk by chunk.
fn bytes_of(stream: smol::net::TcpStream) -> Body {
    Box::pin(futures_lite::stream::unfold(
        Some(stream),
        |stream| async move {
            let mut stream = stream?;
            let mut buf = vec![0; 16 * 1024];
            match stream.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => Some((Ok(Bytes::copy_from_slice(&buf[..n])), Some(stream))),
                Err(error) => Some((Err(BoxError::from(error)), None)),
            }
        },
    ))
}

/// `body` after the raw response's head, which must be a `200 OK` with the SSE headers.
async fn skip_head(mut body: Body) -> Body {
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        head.extend_from_slice(&body.next().await.expect("a head").unwrap());
    }
    let end = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let text = String::from_utf8_lossy(&head[..end]).to_string();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("content-type: text/event-stream"), "{text}");
    let rest = Bytes::copy_from_slice(&head[end..]);
    Box::pin(futures_lite::stream::once(Ok(rest)).chain(body))
}

/// Reads `body` until what was read satisfies `done`; returns all of it.
pub async fn read_until(body: &mut Body, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let mut read = Vec::new();
    while !done(&read) {
        let chunk = body.next().await.expect("the stream ended early");
        read.extend_from_slice(&chunk.expect("the stream failed"));
    }
    read
}

/// Reads `body` to its end: everything read, and whether it ended cleanly or in error.
pub async fn read_to_end(mut body: Body) -> (Vec<u8>, Result<(), BoxError>) {
    let mut read = Vec::new();
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => read.extend_from_slice(&chunk),
            Err(error) => return (read, Err(error)),
        }
    }
    (read, Ok(()))
}
