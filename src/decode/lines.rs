//! Splitting a byte stream into lines, in linear time whatever the chunking, without
//! copying complete lines: only a line split across chunks is copied, once.
//!
//! WHATWG HTML, 9.2.5 "Parsing an event stream":
//! `end-of-line = ( cr lf / cr / lf )`, and "the stream must then be parsed by reading
//! everything line by line, with a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character
//! pair, a single U+000A LINE FEED (LF) character not preceded by a U+000D CARRIAGE RETURN
//! (CR) character, and a single U+000D CARRIAGE RETURN (CR) character not followed by a
//! U+000A LINE FEED (LF) character being the ways in which a line can end."

use crate::wire::line_breaks::mask16;

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What [`Lines::next`] found.
#[derive(Debug)]
pub(crate) enum Next {
    /// A complete line, as a range of the input, without its line end.
    Input(usize, usize),
    /// A complete line, held in [`Lines::carry`] (it began in an earlier chunk).
    Carry,
    /// The input is used up: feed more.
    NeedMore,
    /// A line longer than the limit; it is skipped up to its line end.
    TooLong,
    /// A piece of the value of an unfinished `data:` line, as a range of the input (its
    /// leading space removed): append it to the data buffer.
    DataPart(usize, usize),
    /// The last piece of that value: append it, then the line's LF.
    DataEnd(usize, usize),
}

/// The longest start of a line that is passed on as an [`Open`] data line: a longer one is
/// carried, as a huge line spanning many chunks then becomes the data buffer in place
/// (`Block::adopt`), with no copy and fewer reallocations.
const OPEN_MAX: usize = 1024;

/// An unfinished `data:` line, whose value goes to the data buffer piece by piece as the
/// chunks come, rather than through [`Lines::carry`] (a second copy: at 128-byte chunks,
/// two in three 80-byte lines are split).
#[derive(Clone, Copy, Debug)]
struct Open {
    /// The bytes of the line so far, `data:` included, for the line length limit.
    len: usize,
    /// The value's leading space is yet to come (or not).
    strip: bool,
}

/// The state between chunks: the start of an unfinished line, and what the last line end
/// and the stream's start left pending.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    /// The start of the unfinished line. It holds no CR or LF: it was scanned once, and is
    /// never scanned again, so a long line fed byte by byte costs linear time.
    pub(crate) carry: Vec<u8>,
    /// `carry` held a complete line, returned last time: clear it first.
    carry_done: bool,
    /// The last line ended with a CR that was the last byte of its chunk: an LF at the
    /// start of the next chunk belongs to that line end ("cr lf"), not to a new, empty line.
    skip_lf: bool,
    /// The leading BOM has been looked for.
    bom_checked: bool,
    /// The rest of an over-long line is being dropped.
    discarding: bool,
    /// A `data:` line being passed on piece by piece.
    open: Option<Open>,
}

impl Lines {
    /// Forgets the unfinished line, as at the start of a new stream.
    pub(crate) fn reset(&mut self) {
        let mut carry = std::mem::take(&mut self.carry);
        carry.clear();
        *self = Lines {
            carry,
            ..Lines::default()
        };
    }

    /// The next complete line of at most `max` bytes in `input[*pos..]` (joined to the
    /// carried start of the line), advancing `pos` past its line end. `ends` is the
    /// chunk's [`Ends`].
    // Always inlined: the bench binary with both adapters kept it out of line (5.7% of
    // samples on mix b at 128 B), returning `Next` through memory.
    #[inline(always)]
    pub(crate) fn next(
        &mut self,
        input: &[u8],
        pos: &mut usize,
        ends: &mut Ends,
        max: usize,
    ) -> Next {
        if !self.settle(input, pos) {
            return Next::NeedMore;
        }
        loop {
            let start = *pos;
            let Some(end) = ends.find(input, start) else {
                *pos = input.len();
                return self.unfinished(input, start, max);
            };
            *pos = self.past_line_end(input, end);
            if std::mem::take(&mut self.discarding) {
                continue;
            }
            return self.complete(input, start, end, max);
        }
    }

    /// What the last call and the stream's start left pending: a returned carry to clear,
    /// the LF of a CR LF split across chunks, the BOM. False when the input is used up.
    #[inline]
    fn settle(&mut self, input: &[u8], pos: &mut usize) -> bool {
        if std::mem::take(&mut self.carry_done) {
            self.carry.clear();
        }
        if self.skip_lf && *pos < input.len() {
            self.skip_lf = false;
            if input[*pos] == b'\n' {
                *pos += 1;
            }
        }
        self.bom_checked || self.strip_bom(input, pos)
    }

    /// The position after the line end at `input[end]`; a CR that ends the chunk may be
    /// the first half of a CR LF.
    #[inline]
    fn past_line_end(&mut self, input: &[u8], end: usize) -> usize {
        match (input[end], input.get(end + 1)) {
            (b'\r', Some(b'\n')) => end + 2,
            (b'\r', None) => {
                self.skip_lf = true;
                end + 1
            }
            _ => end + 1,
        }
    }

    /// The line `input[start..end]`, joined to the carry if there is one, unless it is
    /// over `max`.
    #[inline]
    fn complete(&mut self, input: &[u8], start: usize, end: usize, max: usize) -> Next {
        if let Some(open) = self.open.take() {
            if open.len + (end - start) > max {
                return Next::TooLong;
            }
            let start = skip_space(input, start, end, open.strip);
            return Next::DataEnd(start, end);
        }
        if self.carry.len() + (end - start) > max {
            self.carry.clear();
            return Next::TooLong;
        }
        if self.carry.is_empty() {
            return Next::Input(start, end);
        }
        self.carry.extend_from_slice(&input[start..end]);
        self.carry_done = true;
        Next::Carry
    }

    /// No line end in `input[start..]`: pass it on as a piece of a `data:` value, or carry
    /// it, or give up on an over-long line.
    fn unfinished(&mut self, input: &[u8], start: usize, max: usize) -> Next {
        let rest = &input[start..];
        if self.discarding || rest.is_empty() {
            return Next::NeedMore;
        }
        let held = self.carry.len() + self.open.map_or(0, |open| open.len);
        if held + rest.len() > max {
            self.carry.clear();
            self.open = None;
            self.discarding = true;
            return Next::TooLong;
        }
        if let Some(open) = &mut self.open {
            let strip = std::mem::take(&mut open.strip);
            open.len += rest.len();
            return Next::DataPart(skip_space(input, start, input.len(), strip), input.len());
        }
        if self.carry.is_empty() && rest.len() <= OPEN_MAX && rest.starts_with(b"data:") {
            let value = start + b"data:".len();
            let strip = value == input.len();
            self.open = Some(Open {
                len: rest.len(),
                strip,
            });
            return Next::DataPart(skip_space(input, value, input.len(), !strip), input.len());
        }
        self.carry.extend_from_slice(rest);
        Next::NeedMore
    }

    /// WHATWG HTML 9.2.5: "The UTF-8 decode algorithm strips one leading UTF-8 Byte Order
    /// Mark (BOM), if any." Only one: a second BOM is part of the first line. The bytes of a
    /// BOM may arrive in several chunks: they wait in `carry`, which then holds a strict
    /// prefix of the BOM. Returns false when the input is used up before the answer.
    fn strip_bom(&mut self, input: &[u8], pos: &mut usize) -> bool {
        let held = self.carry.len();
        let take = (BOM.len() - held).min(input.len() - *pos);
        let new = &input[*pos..*pos + take];
        if new != &BOM[held..held + take] {
            // Not a BOM: what is carried is the start of the first line (no CR or LF).
            self.bom_checked = true;
        } else if held + take == BOM.len() {
            self.carry.clear();
            *pos += take;
            self.bom_checked = true;
        } else {
            self.carry.extend_from_slice(new);
            *pos += take;
        }
        self.bom_checked
    }
}

/// `start`, or past the space at `input[start]` when `strip` says to remove a leading space
/// and there is one ("If value starts with a U+0020 SPACE character, remove it").
#[inline]
fn skip_space(input: &[u8], start: usize, end: usize, strip: bool) -> usize {
    match strip && start < end && input[start] == b' ' {
        true => start + 1,
        false => start,
    }
}

/// Where the CR and LF bytes are in a window of up to 64 bytes of the chunk being parsed.
///
/// Lines are found with one pass over the chunk, 64 bytes at a time: each window's CR and
/// LF bytes become the bits of a mask, and each line end after that is a count of trailing
/// zeros. Short lines (`data: hello`, `id: 7`, a blank line) then cost a few instructions
/// each, rather than a search that starts over at every line (perf on mix c of
/// `benches/decode.rs`: the search was a third of the parser's time on 80-byte lines).
/// It belongs to one chunk: [`Ends::default`] when the next chunk starts.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ends {
    /// The window: `input[base..end]`, `end - base <= 64`.
    base: usize,
    end: usize,
    /// Bit `i` is set when `input[base + i]` is a CR or an LF.
    mask: u64,
}

/// How many windows a line may span before the rest of it is left to `memchr2`, which is
/// faster on long lines.
const WINDOWS: usize = 4;

impl Ends {
    /// The first CR or LF in `input[from..]`.
    #[inline]
    pub(crate) fn find(&mut self, input: &[u8], from: usize) -> Option<usize> {
        let mut at = from;
        if at >= self.base && at < self.end {
            let found = self.mask & (u64::MAX << (at - self.base));
            if found != 0 {
                return Some(self.base + found.trailing_zeros() as usize);
            }
            at = self.end;
        }
        for _ in 0..WINDOWS {
            if at >= input.len() {
                return None;
            }
            self.load(input, at);
            if self.mask != 0 {
                return Some(at + self.mask.trailing_zeros() as usize);
            }
            at = self.end;
        }
        *self = Ends::default();
        memchr::memchr2(b'\n', b'\r', input.get(at..)?).map(|i| at + i)
    }

    /// Makes `input[at..]`'s first 64 bytes (or fewer, at the end) the window.
    #[inline]
    fn load(&mut self, input: &[u8], at: usize) {
        self.base = at;
        self.end = input.len().min(at + 64);
        self.mask = match input.get(at..at + 64) {
            Some(window) => eol_mask(window),
            None => {
                // The chunk's last bytes: padded with zeros, which are neither CR nor LF.
                let mut window = [0; 64];
                window[..self.end - at].copy_from_slice(&input[at..]);
                eol_mask(&window)
            }
        };
    }
}

/// The CR and LF bytes of a 64-byte window, as the bits of a mask.
#[inline]
fn eol_mask(window: &[u8]) -> u64 {
    let mut mask = 0;
    for (i, part) in window.chunks_exact(16).enumerate() {
        mask |= u64::from(mask16(part.try_into().unwrap_or_default())) << (16 * i);
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::Ends;

    #[test]
    fn ends_finds_every_cr_and_lf_in_turn() {
        for len in 0..300 {
            for step in [1, 3, 7, 63, 64, 65, 100, 257] {
                // Bytes next to CR and LF, to catch a byte mistaken for them.
                let bytes: Vec<u8> = (0..len)
                    .map(|i| match i % step {
                        0 if i % 2 == 0 => b'\n',
                        0 => b'\r',
                        _ => [b'\x0b', b'\x0c', 0xFF, b'a', 0x8a, 0x8d][i % 6],
                    })
                    .collect();
                let mut ends = Ends::default();
                let mut from = 0;
                let mut found = Vec::new();
                while let Some(at) = ends.find(&bytes, from) {
                    found.push(at);
                    from = at + 1;
                }
                let expected: Vec<usize> = (0..len)
                    .filter(|&i| bytes[i] == b'\n' || bytes[i] == b'\r')
                    .collect();
                assert_eq!(found, expected, "len {len}, step {step}");
            }
        }
    }

    #[test]
    fn eol_mask_flags_exactly_the_cr_and_lf_bytes() {
        for at in 0..64 {
            for other in [0u8, 0x0b, 0x0c, 0x8a, 0x8d, 0xFF, b'a'] {
                let mut window = [other; 64];
                window[at] = if at % 2 == 0 { b'\n' } else { b'\r' };
                assert_eq!(super::eol_mask(&window), 1 << at, "at {at}, other {other}");
            }
        }
    }
}
