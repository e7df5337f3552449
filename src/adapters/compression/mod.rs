//! Compression beyond HTTP bodies (feature `compression`): [`CompressedWriter`], a
//! compressing `AsyncWrite` for [`Sse::pump`](crate::Sse::pump) and bare TCP
//! ([`raw::respond_compressed`](super::raw::respond_compressed)), and the process-wide
//! budget of compressed streams that both it and
//! [`CompressedBody`](crate::CompressedBody) draw from.
//!
//! A warm compressed stream keeps its compressor's window and match tables: about 22 KiB
//! (gzip), 80 KiB (zstd) or 655 KiB (Brotli), against 4 KiB for an uncompressed one (see
//! `benches/compression-results.md`). Only gzip is within the 32 KiB a compressed stream
//! may cost, so it is the only coding [`Encoding::negotiate`] offers.
//! The budget bounds the sum: past [`max_streams`] streams compressing at once, a new
//! stream is served identity, and counted ([`stats`]).
//!
//! [`Encoding::negotiate`]: crate::Encoding::negotiate

mod budget;
mod deflate;
mod encoder;
mod writer;

pub(crate) use self::encoder::Encoder;
pub use self::{
    budget::{max_streams, set_max_streams, stats, Stats, DEFAULT_MAX_STREAMS},
    writer::CompressedWriter,
};
