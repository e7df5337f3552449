//! A write timeout for connection IO: how a server drops a client that stopped reading.

use std::{
    fmt, io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

#[cfg(feature = "hyper")]
use hyper::rt::{Read, ReadBufCursor, Write};

use crate::timer::Deadline;

/// A connection whose writes fail with [`io::ErrorKind::TimedOut`] once they have waited
/// longer than a limit: the way a server drops a client that stopped reading.
///
/// A server writes a response body into the socket itself and stops polling the body while
/// the socket is full. The [`SseBody`](crate::SseBody) notices that on its own (its
/// producers stop after the send timeout), but only the connection can be closed: wrap its
/// IO in `WriteTimeout`, and a write or flush that cannot make progress for `limit` fails,
/// the server closes the connection and drops the body. Idle streams are not affected:
/// only a write that has to wait starts the clock, so keep-alive pings are what catch a
/// client that reads nothing.
///
/// It is hyper IO (feature `hyper`) over hyper IO, and tokio IO (feature `tokio`) over
/// tokio IO; with axum, wrap the listener instead:
/// [`WriteTimeoutListener`](crate::adapters::axum::WriteTimeoutListener).
///
/// # What "stops reading" means on TCP
///
/// A write waits only once the kernel's buffers are full: the server's send buffer (on
/// Linux, autotuned up to `net.ipv4.tcp_wmem`'s maximum, 4 MiB by default) and the
/// client's receive buffer (up to `tcp_rmem`'s, 6 MiB). A client that reads nothing can
/// so absorb several megabytes before the clock starts, and then the connection is dropped
/// `limit` later. To bound that, cap the accepted socket's send buffer (`SO_SNDBUF`, for
/// example with socket2's `SockRef::set_send_buffer_size`, or axum's `tap_io`): the
/// kernel then holds at most that much (doubled, on Linux) per connection.
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
        self.deadline.limit().unwrap_or(Duration::MAX)
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

#[cfg(feature = "hyper")]
impl<I: Read + Unpin> Read for WriteTimeout<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

/// hyper's and tokio's write traits have the same methods: every one is passed to the
/// inner IO, and what it returns is watched.
macro_rules! watched_write {
    ($write:path) => {
        impl<I: $write + Unpin> $write for WriteTimeout<I> {
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

            fn poll_shutdown(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                let poll = Pin::new(&mut self.inner).poll_shutdown(cx);
                self.watch(cx, poll)
            }
        }
    };
}

#[cfg(feature = "hyper")]
watched_write!(Write);

#[cfg(feature = "tokio")]
impl<I: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for WriteTimeout<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[cfg(feature = "tokio")]
watched_write!(tokio::io::AsyncWrite);

impl<I: fmt::Debug> fmt::Debug for WriteTimeout<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteTimeout")
            .field("inner", &self.inner)
            .field("limit", &self.limit())
            .finish()
    }
}
