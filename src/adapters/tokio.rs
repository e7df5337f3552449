//! tokio: pump into a `tokio::io::AsyncWrite`, and spawn producers tied to their stream.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{ready, Context, Poll},
    time::Duration,
};

use tokio::task::JoinHandle;
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

use crate::{
    adapters::{
        raw::{self, Request},
        request::RequestError,
    },
    deliver::{channel, PumpError, Report, Sender, Source, SourceError, Spawned, Sse},
};

/// Pumps `sse` into a tokio writer: a `TcpStream` or one of its halves, a `UnixStream`, a
/// `DuplexStream`, … Everything else is [`Sse::pump`].
///
/// # Errors
///
/// As [`Sse::pump`]: the writer failed or a write took longer than the send timeout.
///
/// # Examples
///
/// ```
/// use sse_pump::{adapters::tokio::pump, channel, Event, Sse};
/// use tokio::io::AsyncReadExt;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (mut client, server) = tokio::io::duplex(1024);
/// let (tx, rx) = channel(4);
/// tx.send(Event::new().data("over a pipe")).await?;
/// drop(tx);
/// pump(Sse::new(rx), server).await?;
/// let mut wire = String::new();
/// client.read_to_string(&mut wire).await?;
/// assert_eq!(wire, "data: over a pipe\n\n");
/// # Ok(()) }
/// ```
pub async fn pump<S, W>(sse: Sse<S>, writer: W) -> Result<Report, PumpError>
where
    S: Source,
    W: tokio::io::AsyncWrite + Unpin,
{
    sse.pump(writer.compat_write()).await
}

/// [`raw::read_request`] on a tokio stream: reads an HTTP/1.x request head, for SSE over
/// a bare `TcpStream` with [`respond`], within [`raw::HEAD_TIMEOUT`] (5 s).
///
/// # Errors
///
/// As [`raw::read_request`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut wire = &b"GET /events HTTP/1.1\r\n\r\n"[..];
/// let request = sse_pump::adapters::tokio::read_request(&mut wire).await?;
/// assert_eq!(request.path(), "/events");
/// # Ok(()) }
/// ```
pub async fn read_request<R>(stream: &mut R) -> Result<Request, RequestError>
where
    R: tokio::io::AsyncRead + Unpin,
{
    raw::read_request(&mut stream.compat()).await
}

/// [`read_request`] with another deadline than [`raw::HEAD_TIMEOUT`].
///
/// # Errors
///
/// As [`raw::read_request_within`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::{adapters::tokio::read_request_within, RequestError};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (mut server, _client) = tokio::io::duplex(64); // a client that says nothing
/// let error = read_request_within(&mut server, Duration::from_millis(10)).await.unwrap_err();
/// assert!(matches!(error, RequestError::Timeout(_)));
/// # }
/// ```
pub async fn read_request_within<R>(
    stream: &mut R,
    timeout: Duration,
) -> Result<Request, RequestError>
where
    R: tokio::io::AsyncRead + Unpin,
{
    raw::read_request_within(&mut stream.compat(), timeout).await
}

/// [`raw::respond`] on a tokio stream: writes the SSE response head, then pumps `sse`,
/// ending as soon as the client closes its side.
///
/// # Errors
///
/// As [`Sse::pump`].
///
/// # Examples
///
/// ```
/// use tokio::io::AsyncReadExt;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (mut client, server) = tokio::io::duplex(4096);
/// let (tx, rx) = sse_pump::channel(1);
/// drop(tx);
/// sse_pump::adapters::tokio::respond(server, sse_pump::Sse::new(rx)).await?;
/// let mut wire = String::new();
/// client.read_to_string(&mut wire).await?;
/// assert!(wire.starts_with("HTTP/1.1 200 OK\r\n"));
/// # Ok(()) }
/// ```
pub async fn respond<S, T>(stream: T, sse: Sse<S>) -> Result<Report, PumpError>
where
    S: Source,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    raw::respond(stream.compat(), sse).await
}

/// [`raw::respond_compressed`] on a tokio stream: the SSE response compressed with the
/// coding `request` prefers (within the process-wide budget), each frame flushed at once.
///
/// # Errors
///
/// As [`raw::respond_compressed`].
///
/// # Examples
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (mut client, mut server) = tokio::io::duplex(4096);
/// client.write_all(b"GET / HTTP/1.1\r\nAccept-Encoding: gzip, zstd\r\n\r\n").await?;
/// let request = sse_pump::adapters::tokio::read_request(&mut server).await?;
/// let (tx, rx) = sse_pump::channel(1);
/// drop(tx);
/// sse_pump::adapters::tokio::respond_compressed(server, sse_pump::Sse::new(rx), &request).await?;
/// let mut wire = Vec::new();
/// client.read_to_end(&mut wire).await?;
/// assert!(String::from_utf8_lossy(&wire).contains("content-encoding: gzip\r\n"));
/// # Ok(()) }
/// ```
#[cfg(feature = "compression")]
pub async fn respond_compressed<S, T>(
    stream: T,
    sse: Sse<S>,
    request: &Request,
) -> Result<Report, PumpError>
where
    S: Source,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    raw::respond_compressed(stream.compat(), sse, request).await
}

/// Spawns `producer` on the current tokio runtime with the sending half of a
/// [`channel`] of `capacity` events, and returns its events as a
/// [`Spawned`]: the task is aborted when the stream ends, and the stream
/// ends when the task does; an error or a panic is reported as
/// [`Ended::SourceFailed`](crate::Ended::SourceFailed).
///
/// # Panics
///
/// Outside a tokio runtime, as `tokio::spawn`; and if `capacity` is 0.
///
/// # Examples
///
/// ```
/// use sse_pump::{adapters::tokio::spawn, Ended, Event, Sse};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let events = spawn(8, |tx| async move {
///     tx.send(Event::new().data("one")).await.map_err(|_| "client gone")?;
///     Err("the feed broke")
/// });
/// let mut wire = Vec::new();
/// let report = Sse::new(events).pump(&mut wire).await.unwrap();
/// assert_eq!(wire, b"data: one\n\n");
/// assert_eq!(report.ended, Ended::SourceFailed);
/// assert_eq!(report.source_error.map(|e| e.to_string()).as_deref(), Some("the feed broke"));
/// # }
/// ```
pub fn spawn<F, Fut, E>(capacity: usize, producer: F) -> Spawned<Task>
where
    F: FnOnce(Sender) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (tx, rx) = channel(capacity);
    let run = producer(tx);
    let handle = tokio::spawn(async move { run.await.map_err(SourceError::new) });
    Spawned::new(rx, Task { handle })
}

/// A tokio producer task, aborted when dropped; see [`spawn`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let events: sse_pump::Spawned<sse_pump::adapters::tokio::Task> =
///     sse_pump::adapters::tokio::spawn(1, |_tx| async { Ok::<_, String>(()) });
/// # drop(events);
/// # }
/// ```
pub struct Task {
    handle: JoinHandle<Result<(), SourceError>>,
}

impl Future for Task {
    type Output = Result<(), SourceError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(match ready!(Pin::new(&mut self.handle).poll(cx)) {
            Ok(outcome) => outcome,
            Err(error) if error.is_panic() => Err(super::panicked(&*error.into_panic())),
            Err(_) => Err(SourceError::new("producer was cancelled")),
        })
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("finished", &self.handle.is_finished())
            .finish()
    }
}
