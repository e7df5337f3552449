//! gzip in a few KiB: a DEFLATE encoder (RFC 1951) with a 4 KiB window and fixed Huffman
//! codes, for streams flushed after every event.
//!
//! Why our own: zlib through flate2 keeps at least about 100 KiB per stream (flate2 fixes
//! zlib's `memLevel` at 8: a 64 KiB hash head and a 64 KiB pending buffer), zlib-rs fixes
//! its hash head at 128 KiB, and miniz_oxide keeps about 300 KiB. An SSE event repeats
//! what the last few events said, so a 4 KiB window finds the same matches; and a block
//! per event is too small for dynamic Huffman tables to pay for their header, so fixed
//! codes lose little. The state is the window (8 KiB), the chain links (8 KiB) and the
//! hash head (4 KiB).

use std::io;

/// log2 of the window: matches reach back 4 KiB.
const WINDOW_BITS: u32 = 12;
const WINDOW: usize = 1 << WINDOW_BITS;
/// log2 of the hash head's entries.
const HASH_BITS: u32 = 11;
/// How many earlier places with the same hash a match search looks at.
const MAX_CHAIN: usize = 32;
/// A match this long is taken at once.
const GOOD_ENOUGH: usize = 64;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;

/// gzip's header: deflate, no name, no time, unknown OS.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// A gzip stream, written into `out` one flushed piece at a time.
pub(crate) struct GzipWriter {
    out: Vec<u8>,
    /// The last bytes seen, up to two windows: matches are found here.
    window: Vec<u8>,
    /// Per hash of three bytes, the latest place in `window` plus one (0: none).
    head: Box<[u16]>,
    /// Per place in the stream modulo the window, the previous place in `window` with
    /// the same hash plus one.
    prev: Box<[u16]>,
    /// How many bytes slid out of `window` so far: `dropped + p` is `window[p]`'s place in
    /// the stream, which indexes `prev` however the window slides.
    dropped: usize,
    /// The first place in `window` not yet in the hash chains.
    next_insert: usize,
    bits: u64,
    nbits: u32,
    crc: crc32fast::Hasher,
    /// How many bytes were written in all.
    length: u64,
    /// Whether a fixed block is open (its header written, no end of block yet).
    in_block: bool,
}

impl GzipWriter {
    pub(crate) fn new() -> GzipWriter {
        GzipWriter {
            out: GZIP_HEADER.to_vec(),
            window: Vec::with_capacity(2 * WINDOW),
            head: vec![0; 1 << HASH_BITS].into_boxed_slice(),
            prev: vec![0; WINDOW].into_boxed_slice(),
            dropped: 0,
            next_insert: 0,
            bits: 0,
            nbits: 0,
            crc: crc32fast::Hasher::new(),
            length: 0,
            in_block: false,
        }
    }

    /// What was compressed and not taken yet.
    pub(crate) fn get_mut(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// Compresses `data` into the open block (opening one if none is).
    pub(crate) fn write(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.crc.update(data);
        self.length = self.length.wrapping_add(data.len() as u64);
        if !self.in_block {
            self.put(0b010, 3); // not final; fixed Huffman codes
            self.in_block = true;
        }
        // A window at a time, so that places in `window` (at most two windows) fit a u16.
        for piece in data.chunks(WINDOW) {
            if self.window.len() + piece.len() > 2 * WINDOW {
                self.slide();
            }
            let start = self.window.len();
            self.window.extend_from_slice(piece);
            self.encode_from(start);
        }
    }

    /// Ends the open block and adds an empty stored block (zlib's sync flush): the output
    /// then decodes to everything written, and ends on a byte boundary.
    pub(crate) fn flush(&mut self) {
        if !self.in_block {
            return;
        }
        self.put_code(256);
        self.in_block = false;
        self.put(0, 3); // not final; stored
        self.align();
        self.out.extend_from_slice(&[0, 0, 0xff, 0xff]);
    }

    /// Ends the stream: a final empty block, then gzip's trailer (CRC-32, length).
    pub(crate) fn finish(mut self) -> Vec<u8> {
        if self.in_block {
            self.put_code(256);
        }
        self.put(0b011, 3); // final; fixed Huffman codes
        self.put_code(256);
        self.align();
        let crc = self.crc.clone().finalize();
        self.out.extend_from_slice(&crc.to_le_bytes());
        // ISIZE: the length modulo 2^32.
        self.out
            .extend_from_slice(&(self.length as u32).to_le_bytes());
        self.out
    }

    /// Keeps the last window of bytes, moving the hash links along with them.
    fn slide(&mut self) {
        let drop = self.window.len().saturating_sub(WINDOW);
        self.window.drain(..drop);
        self.dropped += drop;
        self.next_insert = self.next_insert.saturating_sub(drop);
        // Places before the kept part are gone; the others move down by `drop`.
        let shift = |p: &mut u16| *p = usize::from(*p).saturating_sub(drop) as u16;
        self.head.iter_mut().for_each(shift);
        self.prev.iter_mut().for_each(shift);
    }

    /// Encodes `window[start..]` as literals and matches into `window[..]`.
    fn encode_from(&mut self, start: usize) {
        let mut at = start;
        while at < self.window.len() {
            self.insert_upto(at);
            let (length, distance) = self.longest_match(at);
            if length >= MIN_MATCH {
                self.put_match(length, distance);
                at += length;
            } else {
                self.put_code(u16::from(self.window[at]));
                at += 1;
            }
        }
    }

    fn hash(&self, at: usize) -> Option<usize> {
        let bytes = self.window.get(at..at + MIN_MATCH)?;
        let key = u32::from(bytes[0]) << 16 | u32::from(bytes[1]) << 8 | u32::from(bytes[2]);
        Some((key.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize)
    }

    /// Links the places before `end` into the hash chains, as far as three bytes are
    /// known (the last two of a piece wait for the next).
    fn insert_upto(&mut self, end: usize) {
        while self.next_insert < end {
            let at = self.next_insert;
            let Some(h) = self.hash(at) else {
                break;
            };
            self.prev[(self.dropped + at) % WINDOW] = self.head[h];
            self.head[h] = (at + 1) as u16;
            self.next_insert += 1;
        }
    }

    /// The longest earlier match for the bytes at `at`, within the window: (length,
    /// distance); length 0 when there is none.
    fn longest_match(&self, at: usize) -> (usize, usize) {
        let Some(h) = self.hash(at) else {
            return (0, 0);
        };
        let limit = (self.window.len() - at).min(MAX_MATCH);
        let (mut best, mut distance) = (0, 0);
        let mut candidate = usize::from(self.head[h]);
        for _ in 0..MAX_CHAIN {
            let Some(from) = candidate
                .checked_sub(1)
                .filter(|&f| f < at && at - f <= WINDOW)
            else {
                break;
            };
            let length = (self.window[from..].iter())
                .zip(&self.window[at..at + limit])
                .take_while(|(a, b)| a == b)
                .count();
            if length > best {
                (best, distance) = (length, at - from);
                if length >= GOOD_ENOUGH.min(limit) {
                    break;
                }
            }
            candidate = usize::from(self.prev[(self.dropped + from) % WINDOW]);
        }
        (best, distance)
    }

    fn put_match(&mut self, length: usize, distance: usize) {
        let code = LENGTH_BASE.partition_point(|&b| usize::from(b) <= length) - 1;
        self.put_code(257 + code as u16);
        let extra = length - usize::from(LENGTH_BASE[code]);
        self.put(extra as u64, LENGTH_EXTRA[code].into());
        let code = DIST_BASE.partition_point(|&b| usize::from(b) <= distance) - 1;
        self.put(reverse(code as u32, 5).into(), 5);
        let extra = distance - usize::from(DIST_BASE[code]);
        self.put(extra as u64, DIST_EXTRA[code].into());
    }

    /// A literal/length symbol in the fixed Huffman code (RFC 1951, 3.2.6).
    fn put_code(&mut self, symbol: u16) {
        let (code, len) = match symbol {
            0..=143 => (0x30 + u32::from(symbol), 8),
            144..=255 => (0x190 + u32::from(symbol) - 144, 9),
            256..=279 => (u32::from(symbol) - 256, 7),
            _ => (0xc0 + u32::from(symbol) - 280, 8),
        };
        self.put(reverse(code, len).into(), len);
    }

    /// `len` bits of `value`, least significant first.
    fn put(&mut self, value: u64, len: u32) {
        self.bits |= value << self.nbits;
        self.nbits += len;
        while self.nbits >= 8 {
            self.out.push(self.bits as u8);
            self.bits >>= 8;
            self.nbits -= 8;
        }
    }

    /// Pads to a byte boundary with zero bits.
    fn align(&mut self) {
        if self.nbits > 0 {
            self.out.push(self.bits as u8);
            (self.bits, self.nbits) = (0, 0);
        }
    }
}

/// The low `len` bits of `code`, in reverse order: Huffman codes are sent most significant
/// bit first, everything else least significant first.
fn reverse(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

impl io::Write for GzipWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        GzipWriter::write(self, data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        GzipWriter::flush(self);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::GzipWriter;

    fn round_trip(pieces: &[&[u8]]) {
        let mut gz = GzipWriter::new();
        let mut sent = Vec::new();
        let mut wire = Vec::new();
        let mut streaming = flate2::write::GzDecoder::new(Vec::new());
        for piece in pieces {
            gz.write(piece);
            gz.flush();
            sent.extend_from_slice(piece);
            let out = std::mem::take(gz.get_mut());
            std::io::Write::write_all(&mut streaming, &out).unwrap();
            std::io::Write::flush(&mut streaming).unwrap();
            // Flushed: everything sent so far decodes now.
            assert_eq!(streaming.get_ref(), &sent);
            wire.extend_from_slice(&out);
        }
        wire.extend_from_slice(&gz.finish());
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(&wire[..])
            .read_to_end(&mut text)
            .unwrap();
        assert_eq!(text, sent);
    }

    #[test]
    fn round_trips_through_a_real_decoder() {
        round_trip(&[]);
        round_trip(&[b"data: hello\n\n"]);
        round_trip(&[b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]);
        let events: Vec<Vec<u8>> = (0..2000)
            .map(|i| {
                format!("id: {i}\ndata: {{\"token\":\"t{}\",\"n\":{i}}}\n\n", i % 17).into_bytes()
            })
            .collect();
        round_trip(&events.iter().map(|e| &e[..]).collect::<Vec<_>>());
        // Bytes of every value, in pieces larger than the window.
        let mut state = 1u32;
        let noise: Vec<u8> = (0..40_000)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                // Mostly a few values (matches), sometimes any (every literal code).
                let byte = (state >> 16) as u8;
                if byte % 4 == 0 {
                    byte
                } else {
                    byte % 7
                }
            })
            .collect();
        round_trip(&noise.chunks(5000).collect::<Vec<_>>());
        round_trip(&noise.chunks(3).collect::<Vec<_>>());
    }
}
