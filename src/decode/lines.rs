//! Splitting a byte stream into lines, in linear time whatever the chunking, without
//! copying complete lines: only a line split across chunks is copied, once.
//!
//! WHATWG HTML, 9.2.5 "Parsing an event stream":
//! `end-of-line = ( cr lf / cr / lf )`, and "the stream must then be parsed by reading
//! everything line by line, with a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character
//! pair, a single U+000A LINE FEED (LF) character not preceded by a U+000D CARRIAGE RETURN
//! (CR) character, and a single U+000D CARRIAGE RETURN (CR) character not followed by a
//! U+000A LINE FEED (LF) character being the ways in which a line can end."

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
    /// carried start of the line), advancing `pos` past its line end.
    #[inline]
    pub(crate) fn next(&mut self, input: &[u8], pos: &mut usize, max: usize) -> Next {
        if !self.settle(input, pos) {
            return Next::NeedMore;
        }
        loop {
            let start = *pos;
            let Some(at) = line_end(&input[start..]) else {
                *pos = input.len();
                return self.unfinished(&input[start..], max);
            };
            let end = start + at;
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

    /// No line end in `rest`: carry it, or give up on an over-long line.
    fn unfinished(&mut self, rest: &[u8], max: usize) -> Next {
        if self.discarding {
            return Next::NeedMore;
        }
        if self.carry.len() + rest.len() > max {
            self.carry.clear();
            self.discarding = true;
            return Next::TooLong;
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

/// The first CR or LF. Many SSE lines are short (a blank line, `data: hello`, `id: 7`), and
/// on those `memchr2`'s dispatch and setup cost more than the search. So the first 64 bytes
/// are checked eight at a time in plain integer arithmetic ("SWAR"), the rest with
/// `memchr2`, which wins from there on (perf on mix b of `benches/decode.rs`: checking 256
/// bytes this way took half of the parser's time on its 200-byte JSON lines; 64 rather
/// than 32 measured 3-8% faster on mixes b and c, `benches/decode_ab.rs`).
#[inline]
fn line_end(bytes: &[u8]) -> Option<usize> {
    const WORD: usize = 8;
    const HEAD: usize = 8 * WORD;
    let mut at = 0;
    while at < HEAD && at + WORD <= bytes.len() {
        let word: [u8; WORD] = bytes[at..at + WORD].try_into().unwrap_or_default();
        let found = eol_bytes(u64::from_le_bytes(word));
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += WORD;
    }
    if at < HEAD {
        return bytes[at..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map(|i| at + i);
    }
    memchr::memchr2(b'\n', b'\r', &bytes[at..]).map(|i| at + i)
}

/// The high bit of each byte of `word` that may be CR or LF. The lowest one set is exact
/// (a borrow can only flag bytes above a real match), which is all `line_end` uses.
#[inline]
fn eol_bytes(word: u64) -> u64 {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    zero_bytes(word ^ (ONES * u64::from(b'\n'))) | zero_bytes(word ^ (ONES * u64::from(b'\r')))
}

#[cfg(test)]
mod tests {
    use super::line_end;

    #[test]
    fn line_end_finds_the_first_cr_or_lf_at_every_offset() {
        for len in 0..80 {
            for at in 0..=len {
                for eol in [b'\n', b'\r'] {
                    // Bytes next to CR and LF, to catch a borrow flagging the wrong byte.
                    let mut bytes: Vec<u8> = (0..len)
                        .map(|i| [b'\x0b', b'\x0c', 0xFF, b'a'][i % 4])
                        .collect();
                    if at < len {
                        bytes[at] = eol;
                        bytes.extend_from_slice(b"\n\r");
                    }
                    let expected = bytes.iter().position(|&b| b == b'\n' || b == b'\r');
                    assert_eq!(line_end(&bytes), expected, "len {len}, at {at}");
                }
            }
        }
    }
}
