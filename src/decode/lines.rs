//! Splitting a byte stream into lines, in linear time whatever the chunking.
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
    /// A complete line, as a range of [`Lines::buf`], without its line end.
    Line(usize, usize),
    /// No complete line: feed more bytes.
    NeedMore,
    /// A line longer than the limit; it is skipped up to its line end.
    TooLong,
}

/// The bytes fed and not yet consumed, and where the search for a line end stopped.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    pub(crate) buf: Vec<u8>,
    /// Start of the current (unfinished) line.
    pos: usize,
    /// Where the search for the current line's end resumes: bytes in `pos..scan` hold no
    /// CR or LF, so feeding a long line byte by byte never rescans it.
    scan: usize,
    /// The last line ended with a CR that was the last byte fed: an LF at the start of the
    /// next chunk belongs to that line end ("cr lf"), not to a new, empty line.
    skip_lf: bool,
    /// The leading BOM has been looked for.
    bom_checked: bool,
    /// The rest of an over-long line is being dropped.
    discarding: bool,
}

impl Lines {
    /// Appends `chunk`, first dropping the consumed bytes when that is cheap.
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.scan = 0;
            self.pos = 0;
        } else if self.pos > 0 {
            // Only the unfinished line is moved, and then `pos` stays 0 until that line
            // ends, so every byte is moved at most once.
            self.buf.drain(..self.pos);
            self.scan -= self.pos;
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Forgets every byte fed, as at the start of a new stream.
    pub(crate) fn reset(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        *self = Lines {
            buf,
            ..Lines::default()
        };
        self.buf.clear();
    }

    /// The next complete line of at most `max` bytes.
    pub(crate) fn next(&mut self, max: usize) -> Next {
        if self.skip_lf && self.pos < self.buf.len() {
            self.skip_lf = false;
            if self.buf[self.pos] == b'\n' {
                self.pos += 1;
                self.scan = self.pos;
            }
        }
        if !self.bom_checked && !self.strip_bom() {
            return Next::NeedMore;
        }
        loop {
            let Some(at) = memchr::memchr2(b'\n', b'\r', &self.buf[self.scan..]) else {
                return self.unfinished(max);
            };
            let (start, end) = (self.pos, self.scan + at);
            self.pos = match (self.buf[end], self.buf.get(end + 1)) {
                (b'\r', Some(b'\n')) => end + 2,
                (b'\r', None) => {
                    self.skip_lf = true;
                    end + 1
                }
                _ => end + 1,
            };
            self.scan = self.pos;
            if std::mem::take(&mut self.discarding) {
                continue;
            }
            if end - start > max {
                return Next::TooLong;
            }
            return Next::Line(start, end);
        }
    }

    /// No line end in the buffer: wait for more, or give up on an over-long line.
    fn unfinished(&mut self, max: usize) -> Next {
        self.scan = self.buf.len();
        if self.discarding {
            self.pos = self.buf.len();
            return Next::NeedMore;
        }
        if self.buf.len() - self.pos > max {
            self.discarding = true;
            self.pos = self.buf.len();
            return Next::TooLong;
        }
        Next::NeedMore
    }

    /// WHATWG HTML 9.2.5: "The UTF-8 decode algorithm strips one leading UTF-8 Byte Order
    /// Mark (BOM), if any." Only one: a second BOM is part of the first line.
    /// Returns false while the bytes fed so far are a strict prefix of a BOM.
    fn strip_bom(&mut self) -> bool {
        let head = &self.buf[self.pos..];
        let n = head.len().min(BOM.len());
        if head[..n] != BOM[..n] {
            self.bom_checked = true;
        } else if n == BOM.len() {
            self.pos += n;
            self.scan = self.pos;
            self.bom_checked = true;
        }
        self.bom_checked
    }
}
