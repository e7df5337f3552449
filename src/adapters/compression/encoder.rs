//! One stream's compressor, shared by the HTTP body and the `AsyncWrite` wrapper: its
//! settings, its place in the budget, and its output buffer.

use std::io::{self, Write};

use super::{budget::Permit, deflate::GzipWriter};
use crate::adapters::http::Encoding;

/// Brotli's quality and window (2^16 = 64 KiB). Brotli has no setting that is both small
/// and compresses across flushed frames (qualities 0 and 1 do not reach back into
/// earlier frames; 2 and up keep hash tables of 256 KiB or more), which is why
/// [`Encoding::OFFERED`] leaves it out.
const BROTLI_QUALITY: u32 = 4;
const BROTLI_WINDOW: u32 = 16;
/// Brotli's input buffer: events are small, and each is flushed at once.
const BROTLI_BUFFER: usize = 1024;
/// zstd's level, window (2^14 = 16 KiB) and match tables (2^10 entries each).
const ZSTD_LEVEL: i32 = 2;
const ZSTD_WINDOW: u32 = 14;
const ZSTD_TABLES: u32 = 10;

/// An output buffer grown past this by one large frame is let go once written, so one
/// large event does not stay in a warm stream's memory.
const KEEP_OUTPUT: usize = 4096;

/// A compressor writing into a buffer that the caller empties.
pub(crate) struct Encoder {
    state: State,
    /// The stream's place in the budget: held while compressing.
    _permit: Option<Permit>,
}

enum State {
    Identity,
    /// Ours: a 4 KiB window, about 20 KiB in all (see `deflate.rs` for why not zlib's).
    Gzip(GzipWriter),
    // Boxed: Brotli's state is large, and the others are not.
    Brotli(Box<brotli::CompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
    /// zstd could not start (out of memory): the first frame reports it.
    Failed(Encoding, io::ErrorKind),
    /// Closed: the closing bytes, until taken.
    Finished(Encoding, Vec<u8>),
}

impl Encoder {
    /// A compressor for `encoding`, if the process-wide budget has room; otherwise an
    /// identity one (see [`Encoder::encoding`]).
    pub(crate) fn new(encoding: Encoding) -> Encoder {
        if encoding == Encoding::Identity {
            return Encoder::identity();
        }
        let Some(permit) = Permit::acquire() else {
            return Encoder::identity();
        };
        let state = match encoding {
            Encoding::Gzip => State::Gzip(GzipWriter::new()),
            Encoding::Brotli => State::Brotli(Box::new(brotli::CompressorWriter::new(
                Vec::new(),
                BROTLI_BUFFER,
                BROTLI_QUALITY,
                BROTLI_WINDOW,
            ))),
            _ => match zstd_encoder() {
                Ok(encoder) => State::Zstd(encoder),
                Err(error) => State::Failed(encoding, error.kind()),
            },
        };
        Encoder {
            state,
            _permit: Some(permit),
        }
    }

    fn identity() -> Encoder {
        Encoder {
            state: State::Identity,
            _permit: None,
        }
    }

    /// The encoding it compresses with: [`Encoding::Identity`] when the budget was spent.
    pub(crate) fn encoding(&self) -> Encoding {
        match &self.state {
            State::Identity => Encoding::Identity,
            State::Gzip(_) => Encoding::Gzip,
            State::Brotli(_) => Encoding::Brotli,
            State::Zstd(_) => Encoding::Zstd,
            State::Failed(encoding, _) | State::Finished(encoding, _) => *encoding,
        }
    }

    pub(crate) fn is_identity(&self) -> bool {
        matches!(self.state, State::Identity)
    }

    pub(crate) fn is_finished(&self) -> bool {
        matches!(self.state, State::Finished(..))
    }

    /// Compresses `data` into the output buffer; with `flush`, flushes the compressor too,
    /// so the output holds everything a decoder needs to decode `data` now. Identity does
    /// nothing: its caller passes `data` on as it is.
    pub(crate) fn compress(&mut self, data: &[u8], flush: bool) -> io::Result<()> {
        fn run<W: Write>(w: &mut W, data: &[u8], flush: bool) -> io::Result<()> {
            w.write_all(data)?;
            if flush {
                w.flush()?;
            }
            Ok(())
        }
        match &mut self.state {
            State::Identity => Ok(()),
            State::Gzip(w) => run(w, data, flush),
            State::Brotli(w) => run(&mut **w, data, flush),
            State::Zstd(w) => run(w, data, flush),
            State::Failed(_, kind) => Err((*kind).into()),
            State::Finished(..) => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    /// The output buffer: what [`Encoder::compress`] and [`Encoder::finish`] produced and
    /// the caller has not taken yet. `None` for identity.
    pub(crate) fn output(&mut self) -> Option<&mut Vec<u8>> {
        match &mut self.state {
            State::Gzip(w) => Some(w.get_mut()),
            State::Brotli(w) => Some(w.get_mut()),
            State::Zstd(w) => Some(w.get_mut()),
            State::Finished(_, tail) => Some(tail),
            State::Identity | State::Failed(..) => None,
        }
    }

    /// Empties the output buffer once it is written, letting a large one go.
    pub(crate) fn written(&mut self) {
        if let Some(out) = self.output() {
            if out.capacity() > KEEP_OUTPUT {
                *out = Vec::new();
            } else {
                out.clear();
            }
        }
    }

    /// Closes the compressed stream: the output then ends with the closing bytes (gzip's
    /// trailer, the final Brotli or zstd block). Gives the budget its place back. Nothing
    /// to do for identity or once finished.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        let encoding = self.encoding();
        let tail = match std::mem::replace(&mut self.state, State::Finished(encoding, Vec::new())) {
            State::Gzip(w) => Ok(w.finish()),
            State::Brotli(w) => Ok(w.into_inner()),
            State::Zstd(w) => w.finish(),
            State::Failed(_, kind) => Err(kind.into()),
            unchanged @ (State::Identity | State::Finished(..)) => {
                self.state = unchanged;
                return Ok(());
            }
        };
        self._permit = None;
        self.state = State::Finished(encoding, tail?);
        Ok(())
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
