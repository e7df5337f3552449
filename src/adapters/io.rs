//! futures-io streams (smol's) as hyper IO.

use std::{
    io,
    pin::Pin,
    task::{ready, Context, Poll},
};

use hyper::rt::{Read, ReadBufCursor, Write};

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
