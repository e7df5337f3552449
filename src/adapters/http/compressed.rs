//! A compressed SSE body: every frame of the stream compressed and flushed on its own.

use std::{
    fmt,
    io::{self, Write},
    pin::Pin,
    task::{ready, Context, Poll},
};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::{BodyError, BodyReport, Encoding, SseBody};
use crate::deliver::{Receiver, Source};

/// gzip's level: flate2's default, a fair trade on small flushed frames.
const GZIP_LEVEL: u32 = 6;
/// Brotli's quality and window (2^16 = 64 KiB).
const BROTLI_QUALITY: u32 = 4;
const BROTLI_WINDOW: u32 = 16;
/// zstd's level, window (2^16 = 64 KiB) and match tables (2^15 entries each): level 3's
/// own tables (2^17 and 2^16) would keep about 1 MiB per stream.
const ZSTD_LEVEL: i32 = 3;
const ZSTD_WINDOW: u32 = 16;
const ZSTD_TABLES: u32 = 15;

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
/// chunk leaves as about 10 bytes with zstd). The cost is memory per stream, about 300 KiB
/// (gzip), 375 KiB (zstd) or 650 KiB (Brotli) once the window is full, against 4 KiB
/// uncompressed, and one to four microseconds of CPU per frame: see
/// `benches/compression-results.md`. Compress streams that carry a lot, not mostly idle
/// ones.
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
    encoding: Encoding,
    encoder: Encoder,
}

impl<S: Source> CompressedBody<S> {
    /// `body`, compressed with `encoding` ([`Encoding::Identity`] passes it through).
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
            encoding,
            encoder: Encoder::new(encoding),
        }
    }

    /// The encoding it compresses with.
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
        self.encoding
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
    pub fn report(&self) -> BodyReport {
        self.body.report()
    }
}

impl<S: Source> Body for CompressedBody<S> {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        if matches!(this.encoder, Encoder::Finished) {
            return Poll::Ready(None);
        }
        let compressed = match ready!(Pin::new(&mut this.body).poll_frame(cx)) {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => this.encoder.frame(data),
                Err(other) => return Poll::Ready(Some(Ok(other))),
            },
            Some(Err(error)) => return Poll::Ready(Some(Err(error))),
            None => this.encoder.finish(),
        };
        match compressed {
            Ok(Some(data)) => Poll::Ready(Some(Ok(Frame::data(data)))),
            Ok(None) => Poll::Ready(None),
            Err(error) => {
                this.encoder = Encoder::Finished;
                Poll::Ready(Some(Err(BodyError::Compression(error.to_string()))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self.encoder {
            Encoder::Finished => true,
            // Only an identity body may end with its last frame: a compressor has a
            // closing frame still to come.
            Encoder::Identity => self.body.is_end_stream(),
            _ => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl<S: Source> fmt::Debug for CompressedBody<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompressedBody")
            .field("body", &self.body)
            .field("encoding", &self.encoding)
            .finish()
    }
}

/// A compressor writing into a buffer that each frame empties.
enum Encoder {
    Identity,
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    // Boxed: Brotli's state is large, and the others are not.
    Brotli(Box<brotli::CompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
    /// zstd could not start (out of memory): the first frame reports it.
    Failed(io::ErrorKind),
    Finished,
}

impl Encoder {
    fn new(encoding: Encoding) -> Encoder {
        match encoding {
            Encoding::Identity => Encoder::Identity,
            Encoding::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::new(GZIP_LEVEL),
            )),
            Encoding::Brotli => Encoder::Brotli(Box::new(brotli::CompressorWriter::new(
                Vec::new(),
                4096,
                BROTLI_QUALITY,
                BROTLI_WINDOW,
            ))),
            Encoding::Zstd => match zstd_encoder() {
                Ok(encoder) => Encoder::Zstd(encoder),
                Err(error) => Encoder::Failed(error.kind()),
            },
        }
    }

    /// `data` compressed and flushed: everything a decoder needs to decode it, now.
    fn frame(&mut self, data: Bytes) -> io::Result<Option<Bytes>> {
        fn flushed<W: Write>(
            w: &mut W,
            data: &[u8],
            out: fn(&mut W) -> &mut Vec<u8>,
        ) -> io::Result<Option<Bytes>> {
            w.write_all(data)?;
            w.flush()?;
            Ok(Some(Bytes::from(std::mem::take(out(w)))))
        }
        match self {
            Encoder::Identity => Ok(Some(data)),
            Encoder::Gzip(w) => flushed(w, &data, |w| w.get_mut()),
            Encoder::Brotli(w) => flushed(&mut **w, &data, |w| w.get_mut()),
            Encoder::Zstd(w) => flushed(w, &data, |w| w.get_mut()),
            Encoder::Failed(kind) => Err((*kind).into()),
            Encoder::Finished => Ok(None),
        }
    }

    /// The closing frame of the compressed stream, if it has one.
    fn finish(&mut self) -> io::Result<Option<Bytes>> {
        let tail = match std::mem::replace(self, Encoder::Finished) {
            Encoder::Gzip(w) => w.finish()?,
            Encoder::Brotli(w) => w.into_inner(),
            Encoder::Zstd(w) => w.finish()?,
            Encoder::Failed(kind) => return Err(kind.into()),
            Encoder::Identity | Encoder::Finished => return Ok(None),
        };
        Ok(Some(Bytes::from(tail)))
    }
}

fn zstd_encoder() -> io::Result<zstd::stream::write::Encoder<'static, Vec<u8>>> {
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), ZSTD_LEVEL)?;
    encoder.window_log(ZSTD_WINDOW)?;
    use zstd::stream::raw::CParameter;
    encoder.set_parameter(CParameter::HashLog(ZSTD_TABLES))?;
    encoder.set_parameter(CParameter::ChainLog(ZSTD_TABLES))?;
    Ok(encoder)
}
