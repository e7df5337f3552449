//! A compressed SSE body: every frame of the stream compressed and flushed on its own.

use std::{
    fmt, io,
    pin::Pin,
    task::{ready, Context, Poll},
};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::{Encoding, SseBody};
use crate::{
    adapters::compression::Encoder,
    deliver::{Error, Receiver, ReportHandle, Source},
};

/// An [`SseBody`] compressed with one [`Encoding`]: each frame the stream yields (a batch
/// of events, a keep-alive ping, the `retry` frame, the farewell) is compressed and the
/// compressor flushed, so each frame leaves compressed as soon as it would have left
/// uncompressed; nothing waits in the compressor for the next event. When the stream ends
/// cleanly, one last frame closes the compressed stream (gzip's trailer, the final Brotli
/// or zstd block); when it fails, the error passes through unchanged, so the response is
/// aborted and the client sees a truncated stream.
///
/// Build it with [`SseResponse::compress`](crate::SseResponse::compress), which also sets
/// `Content-Encoding` and `Vary`. The compressor keeps its window between frames, so
/// repeated field names and JSON keys shrink to a few bytes each (a 111-byte JSON token
/// chunk leaves as about 9 bytes with gzip, 10 with zstd). The cost is memory per stream,
/// about 22 KiB (gzip: our own encoder, a 4 KiB window), 80 KiB (zstd: a 16 KiB window)
/// or 700 KiB (Brotli) once warm, against a few KiB uncompressed, and a few microseconds of CPU
/// per frame: see `benches/compression-results.md`. A process-wide budget
/// ([`set_max_streams`](crate::adapters::compression::set_max_streams)) bounds the sum:
/// past it, new bodies pass the stream through uncompressed.
///
/// **Security**: compression leaks the length of what compresses well. If one stream
/// carries a secret (a token, a session id) and data an attacker chooses, the attacker can
/// guess the secret byte by byte from the compressed sizes (BREACH). Do not compress such a
/// stream, or keep secrets out of it.
///
/// # Examples
///
/// ```
/// use std::io::Read;
/// use http_body_util::BodyExt;
/// use sse_pump::{channel, CompressedBody, Encoding, Event, Sse, SseBody};
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = channel(8);
/// tx.send(Event::new().data("hello")).await?;
/// drop(tx);
/// let body = CompressedBody::new(SseBody::new(Sse::new(rx)), Encoding::Gzip);
/// let gzipped = body.collect().await?.to_bytes();
/// let mut text = String::new();
/// flate2::read::GzDecoder::new(&gzipped[..]).read_to_string(&mut text)?;
/// assert_eq!(text, "data: hello\n\n");
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub struct CompressedBody<S: Source = Receiver> {
    body: SseBody<S>,
    encoder: Encoder,
    /// The body has ended: its closing frame, or an error, was returned.
    done: bool,
}

impl<S: Source> CompressedBody<S> {
    /// `body`, compressed with `encoding` ([`Encoding::Identity`] passes it through). Past
    /// the process-wide budget of compressed streams
    /// ([`set_max_streams`](crate::adapters::compression::set_max_streams)) it passes the
    /// body through too: see [`CompressedBody::encoding`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{channel, CompressedBody, Encoding, Sse, SseBody};
    /// let (_tx, rx) = channel(8);
    /// let body = CompressedBody::new(SseBody::new(Sse::new(rx)), Encoding::Zstd);
    /// assert_eq!(body.encoding(), Encoding::Zstd);
    /// ```
    pub fn new(body: SseBody<S>, encoding: Encoding) -> Self {
        CompressedBody {
            body,
            encoder: Encoder::new(encoding),
            done: false,
        }
    }

    /// The encoding it compresses with: [`Encoding::Identity`] when the budget of
    /// compressed streams was spent. `Content-Encoding` must say this one.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{channel, CompressedBody, Encoding, Sse, SseBody};
    /// let (_tx, rx) = channel(8);
    /// let body = CompressedBody::new(SseBody::new(Sse::new(rx)), Encoding::Brotli);
    /// assert_eq!(body.encoding().as_str(), "br");
    /// ```
    pub fn encoding(&self) -> Encoding {
        self.encoder.encoding()
    }

    /// The inner body's [`SseBody::report`]; its `bytes` are the stream's bytes before
    /// compression.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{channel, CompressedBody, Encoding, Sse, SseBody};
    /// let (_tx, rx) = channel(8);
    /// let body = CompressedBody::new(SseBody::new(Sse::new(rx)), Encoding::Gzip);
    /// let report = body.report();
    /// drop(body);
    /// assert_eq!(report.get().unwrap().ended, sse_pump::Ended::Disconnected);
    /// ```
    pub fn report(&self) -> ReportHandle {
        self.body.report()
    }
}

impl<S: Source> CompressedBody<S> {
    /// `data` compressed and flushed: everything a decoder needs to decode it, now.
    fn compress(&mut self, data: Bytes) -> io::Result<Bytes> {
        if self.encoder.is_identity() {
            return Ok(data);
        }
        self.encoder.compress(&data, true)?;
        Ok(self.take_output())
    }

    /// The closing frame of the compressed stream, if it has one.
    fn finish(&mut self) -> io::Result<Option<Bytes>> {
        self.done = true;
        if self.encoder.is_identity() {
            return Ok(None);
        }
        self.encoder.finish()?;
        Ok(Some(self.take_output()))
    }

    fn take_output(&mut self) -> Bytes {
        Bytes::from(
            self.encoder
                .output()
                .map(std::mem::take)
                .unwrap_or_default(),
        )
    }
}

impl<S: Source> Body for CompressedBody<S> {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let compressed = match ready!(Pin::new(&mut this.body).poll_frame(cx)) {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => this.compress(data).map(Some),
                Err(other) => return Poll::Ready(Some(Ok(other))),
            },
            Some(Err(error)) => {
                this.done = true;
                return Poll::Ready(Some(Err(error)));
            }
            None => this.finish(),
        };
        match compressed {
            Ok(Some(data)) => Poll::Ready(Some(Ok(Frame::data(data)))),
            Ok(None) => Poll::Ready(None),
            Err(error) => {
                this.done = true;
                Poll::Ready(Some(Err(Error::Compression(error))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        // Only an identity body may end with its last frame: a compressor has a closing
        // frame still to come.
        self.done || (self.encoder.is_identity() && self.body.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl<S: Source> fmt::Debug for CompressedBody<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompressedBody")
            .field("body", &self.body)
            .field("encoding", &self.encoder.encoding())
            .finish()
    }
}
