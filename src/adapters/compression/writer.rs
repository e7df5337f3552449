//! Compression on the `AsyncWrite` path: a writer that compresses what goes through it.

use std::{
    fmt, io,
    pin::Pin,
    task::{ready, Context, Poll},
};

use futures_lite::AsyncWrite;

use super::encoder::Encoder;
use crate::adapters::http::Encoding;

/// An `AsyncWrite` that compresses what is written into it with one [`Encoding`] before
/// passing it to `inner`, and flushes the compressor on every `flush`: [`Sse::pump`]
/// flushes after every frame, so each event leaves compressed as soon as it would have
/// left uncompressed. `close` writes the closing bytes of the compressed stream (gzip's
/// trailer, the last zstd or Brotli block), then closes `inner`; [`Sse::pump`] does not
/// close its writer, so close this one when the pump ends (a client that only reads
/// events needs no trailer, but a strict decoder checks it).
///
/// Whether it compresses is up to the process-wide budget
/// ([`set_max_streams`](super::set_max_streams)): past it, [`CompressedWriter::encoding`]
/// is [`Encoding::Identity`] and bytes pass through as they are, so build it before
/// writing a `Content-Encoding` header and write that header from `encoding()`.
/// [`raw::respond_compressed`](crate::adapters::raw::respond_compressed) does all of this
/// for a bare TCP connection.
///
/// [`Sse::pump`]: crate::Sse::pump
///
/// # Examples
///
/// ```
/// use std::io::Read;
/// use futures_lite::AsyncWriteExt;
/// use sse_pump::{adapters::compression::CompressedWriter, channel, Encoding, Event, Sse};
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = channel(8);
/// tx.send(Event::new().data("hello")).await?;
/// drop(tx);
/// let mut writer = CompressedWriter::new(Vec::new(), Encoding::Gzip);
/// assert_eq!(writer.encoding(), Encoding::Gzip);
/// Sse::new(rx).pump(&mut writer).await?;
/// writer.close().await?;
/// let mut text = String::new();
/// flate2::read::GzDecoder::new(&writer.into_inner()[..]).read_to_string(&mut text)?;
/// assert_eq!(text, "data: hello\n\n");
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub struct CompressedWriter<W> {
    inner: W,
    encoder: Encoder,
    /// How much of the encoder's output is already written to `inner`.
    sent: usize,
    /// Bytes still to pass through uncompressed before compression starts (a response
    /// head written through the same writer).
    plain: usize,
    /// Bytes compressed since the last flush of the compressor.
    unflushed: bool,
}

impl<W: AsyncWrite + Unpin> CompressedWriter<W> {
    /// `inner`, behind a compressor for `encoding` if the budget has room (identity
    /// otherwise, and for [`Encoding::Identity`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{adapters::compression::CompressedWriter, Encoding};
    /// let writer = CompressedWriter::new(Vec::new(), Encoding::Identity);
    /// assert_eq!(writer.encoding(), Encoding::Identity);
    /// ```
    pub fn new(inner: W, encoding: Encoding) -> Self {
        CompressedWriter {
            inner,
            encoder: Encoder::new(encoding),
            sent: 0,
            plain: 0,
            unflushed: false,
        }
    }

    /// Passes the next `len` bytes through uncompressed: a response head written through
    /// the same writer as the body.
    #[cfg(any(feature = "smol", feature = "tokio"))]
    pub(crate) fn pass_through(&mut self, len: usize) {
        self.plain = len;
    }

    /// The encoding it compresses with: [`Encoding::Identity`] when the budget was spent.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{adapters::compression::CompressedWriter, Encoding};
    /// let writer = CompressedWriter::new(Vec::new(), Encoding::Zstd);
    /// assert!(matches!(writer.encoding(), Encoding::Zstd | Encoding::Identity));
    /// ```
    pub fn encoding(&self) -> Encoding {
        self.encoder.encoding()
    }

    /// The writer it writes into, by reference.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{adapters::compression::CompressedWriter, Encoding};
    /// let writer = CompressedWriter::new(Vec::<u8>::new(), Encoding::Zstd);
    /// assert!(writer.get_ref().is_empty());
    /// ```
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The writer it writes into.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{adapters::compression::CompressedWriter, Encoding};
    /// let writer = CompressedWriter::new(Vec::<u8>::new(), Encoding::Gzip);
    /// assert!(writer.into_inner().is_empty()); // nothing written yet, not even a header
    /// ```
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// Writes the encoder's output that `inner` has not taken yet.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(out) = self.encoder.output() {
            let Some(rest) = out.get(self.sent..).filter(|rest| !rest.is_empty()) else {
                break;
            };
            match ready!(Pin::new(&mut self.inner).poll_write(cx, rest)) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.sent += n,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        self.encoder.written();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for CompressedWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.plain > 0 || this.encoder.is_identity() {
            let plain = if this.plain > 0 {
                this.plain
            } else {
                buf.len()
            };
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..plain.min(buf.len())]))?;
            this.plain = this.plain.saturating_sub(n);
            return Poll::Ready(Ok(n));
        }
        // What the compressor made of earlier writes goes first: the output stays bounded
        // by one write's worth, and `inner`'s backpressure reaches the caller.
        ready!(this.drain(cx))?;
        this.encoder.compress(buf, false)?;
        this.unflushed = true;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.unflushed {
            this.encoder.compress(&[], true)?;
            this.unflushed = false;
        }
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.encoder.is_finished() {
            this.unflushed = false;
            this.encoder.finish()?;
        }
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_close(cx)
    }
}

impl<W: fmt::Debug> fmt::Debug for CompressedWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompressedWriter")
            .field("inner", &self.inner)
            .field("encoding", &self.encoder.encoding())
            .finish()
    }
}
