//! Connection IO for hyper: a write timeout, and futures-io streams (smol's) as hyper IO.

use std::{
    fmt, io,
    pin::Pin,
    task::{ready, Context, Poll},
    time::Duration,
};

use hyper::rt::{Read, ReadBufCursor, Write};

use crate::timer::Deadline;

/// A connection whose writes fail with [`io::ErrorKind::TimedOut`] once they have waited
/// longer than a limit: the way a hyper server drops a client that stopped reading.
///
/// hyper writes a response body into the socket itself and stops polling the body while
/// the socket is full, so a body cannot tell that its client went quiet. The connection
/// can: wrap its IO in `WriteTimeout`, and a write or flush that cannot make progress for
/// `limit` fails, hyper closes the connection, drops the [`SseBody`](crate::SseBody), and
/// the producer's next send fails. Idle streams are not affected: only a write that has to
/// wait starts the clock, so keep-alive pings are what catch a client that reads nothing.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use hyper_util::rt::TokioIo;
/// use sse_pump::WriteTimeout;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let (stream, _) = listener.accept().await?;
/// let io = WriteTimeout::new(TokioIo::new(stream), Duration::from_secs(30));
/// // hyper::server::conn::http1::Builder::new().serve_connection(io, service)
/// # drop(io); Ok(()) }
/// ```
pub struct WriteTimeout<I> {
    inner: I,
    deadline: Deadline,
}

impl<I> WriteTimeout<I> {
    /// `inner`, whose writes may wait at most `limit` each.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let io = sse_pump::WriteTimeout::new(sse_pump::FuturesIo::new(Vec::<u8>::new()), Duration::from_secs(30));
    /// assert_eq!(io.limit(), Duration::from_secs(30));
    /// ```
    pub fn new(inner: I, limit: Duration) -> Self {
        WriteTimeout {
            inner,
            deadline: Deadline::new(Some(limit)),
        }
    }

    /// The limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let io = sse_pump::WriteTimeout::new((), Duration::from_secs(5));
    /// assert_eq!(io.limit(), Duration::from_secs(5));
    /// ```
    pub fn limit(&self) -> Duration {
        self.deadline.limit.unwrap_or(Duration::MAX)
    }

    /// The IO inside.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let io = sse_pump::WriteTimeout::new(7, Duration::from_secs(5));
    /// assert_eq!(io.into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> I {
        self.inner
    }

    /// Ends the wait of a write that made progress, and fails one that waited too long.
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Pending => self.deadline.poll_expired(cx),
            ready => {
                self.deadline.disarm();
                ready
            }
        }
    }
}

impl<I: Read + Unpin> Read for WriteTimeout<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: Write + Unpin> Write for WriteTimeout<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}

impl<I: fmt::Debug> fmt::Debug for WriteTimeout<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteTimeout")
            .field("inner", &self.inner)
            .field("limit", &self.limit())
            .finish()
    }
}

/// A futures-io stream (smol's `TcpStream`, `Async<UnixStream>`, …) as hyper IO, so that
/// hyper serves on smol with no other glue crate.
///
/// # Examples
///
/// ```no_run
/// # smol::block_on(async {
/// let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
/// let (stream, _) = listener.accept().await?;
/// let io = sse_pump::FuturesIo::new(stream);
/// // hyper::server::conn::http1::Builder::new().serve_connection(io, service)
/// # drop(io);
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct FuturesIo<T> {
    inner: T,
}

impl<T> FuturesIo<T> {
    /// Wraps `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// let io = sse_pump::FuturesIo::new(futures_lite::io::Cursor::new(Vec::<u8>::new()));
    /// # drop(io);
    /// ```
    pub fn new(inner: T) -> Self {
        FuturesIo { inner }
    }

    /// The stream inside.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::FuturesIo::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: futures_lite::AsyncRead + Unpin> Read for FuturesIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // hyper hands out uninitialised memory, which safe code cannot read into; an SSE
        // server reads little (request heads), so a bounce buffer costs nothing that shows.
        let mut bounce = [0; 4096];
        let len = bounce.len().min(buf.remaining());
        let n = ready!(Pin::new(&mut self.inner).poll_read(cx, &mut bounce[..len]))?;
        buf.put_slice(&bounce[..n]);
        Poll::Ready(Ok(()))
    }
}

impl<T: futures_lite::AsyncWrite + Unpin> Write for FuturesIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        // futures-io has no way to ask; smol's TcpStream writes vectored.
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
