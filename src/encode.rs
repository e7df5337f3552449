//! Wire-format helpers: field lines, line splitting and line-ending conversion.
//!
//! Every frame is encoded once with `\n` line ends. The only `\n` bytes in an encoded frame
//! are line ends, because values are split at every line break and `event`/`id` refuse
//! them, so converting a frame to `\r` or `\r\n` is a byte-for-byte replacement.

use bytes::BytesMut;

/// The line end written after every line of every frame.
///
/// The default is [`LineEnding::Lf`]: the shortest, what every browser and parser accepts,
/// and the form sse-pump encodes events in, so it is the only one that writes an event's
/// bytes without copying them. The other two cost one copy of each frame per stream.
///
/// # Examples
///
/// ```
/// use sse_pump::{channel, Event, LineEnding, Sse};
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = channel(1);
/// tx.send(Event::new().data("a\nb")).await.unwrap();
/// drop(tx);
/// let mut wire = Vec::new();
/// Sse::new(rx).keep_alive(None).line_ending(LineEnding::CrLf).pump(&mut wire).await.unwrap();
/// assert_eq!(wire, b"data: a\r\ndata: b\r\n\r\n");
/// # });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LineEnding {
    /// `\n` (the default).
    #[default]
    Lf,
    /// `\r`.
    Cr,
    /// `\r\n`.
    CrLf,
}

impl LineEnding {
    /// The bytes of this line end.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::LineEnding::CrLf.as_bytes(), b"\r\n");
    /// ```
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            LineEnding::Lf => b"\n",
            LineEnding::Cr => b"\r",
            LineEnding::CrLf => b"\r\n",
        }
    }

    /// Appends `frame`, encoded with `\n` line ends, to `out` with this line end instead.
    pub(crate) fn extend(self, out: &mut BytesMut, frame: &[u8]) {
        if self == LineEnding::Lf {
            out.extend_from_slice(frame);
            return;
        }
        let end = self.as_bytes();
        let mut rest = frame;
        while let Some(at) = memchr::memchr(b'\n', rest) {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(end);
            rest = &rest[at + 1..];
        }
        out.extend_from_slice(rest);
    }
}

/// The bytes a frame needs after its last line: the closing blank line.
const CLOSING: usize = 1;

/// Writes `name: value\n`, or `name:\n` for an empty value. `value` holds no CR or LF.
///
/// Reserves exactly this line plus the closing blank line, so that an event whose last
/// setter wrote this line freezes into `Bytes` without reallocating.
#[inline]
pub(crate) fn put_line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.reserve_exact(line_len(name, value.len()) + CLOSING);
    write_line(out, name, value);
}

/// Like [`put_line`], for a field that usually comes before others (`id`, `event`,
/// `retry`): the first allocation leaves room for a typical event's remaining lines, so
/// that they need no reallocation.
#[inline]
pub(crate) fn put_leading_line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    let slack = if out.capacity() == 0 {
        LEADING_SLACK
    } else {
        0
    };
    out.reserve_exact(line_len(name, value.len()) + CLOSING + slack);
    write_line(out, name, value);
}

/// Room left after a leading field's first line: enough for an `event:` line and a few
/// hundred bytes of data.
const LEADING_SLACK: usize = 320;

/// The length of `name: value\n` (or `name:\n`).
#[inline]
fn line_len(name: &[u8], value_len: usize) -> usize {
    name.len() + value_len + if value_len == 0 { 2 } else { 3 }
}

/// Writes one line into room already reserved.
#[inline]
fn write_line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    if value.is_empty() {
        out.extend_from_slice(b":\n");
    } else {
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.push(b'\n');
    }
}

/// Writes one `name: piece` line for every piece of `value` between line breaks
/// (`\r\n`, `\r` or `\n`), so that a parser joins the pieces back with `\n`.
///
/// One scan finds the breaks, so the frame can be sized exactly before it is written;
/// values with more than [`PIECES`] lines take a second scan.
#[inline]
pub(crate) fn put_lines(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    let any_break = if value.len() < SHORT {
        value.iter().position(|&b| b == b'\n' || b == b'\r')
    } else {
        memchr::memchr2(b'\n', b'\r', value)
    };
    match any_break {
        None => put_line(out, name, value),
        Some(_) => put_split_lines(out, name, value),
    }
}

/// [`put_lines`] for a value with at least one line break.
fn put_split_lines(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    let mut pieces = [(0, 0); PIECES];
    let mut count = 0;
    let mut start = 0;
    let mut len = CLOSING;
    for at in memchr::memchr2_iter(b'\n', b'\r', value) {
        if at < start {
            continue; // the LF of a CRLF, skipped below
        }
        if count == PIECES {
            return put_many_lines(out, name, value);
        }
        pieces[count] = (start, at);
        count += 1;
        len += line_len(name, at - start);
        start = at
            + if value[at] == b'\r' && value.get(at + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
    }
    out.reserve_exact(len + line_len(name, value.len() - start));
    for &(from, to) in &pieces[..count] {
        write_line(out, name, &value[from..to]);
    }
    write_line(out, name, &value[start..]);
}

/// The line breaks [`put_lines`] remembers in one scan.
const PIECES: usize = 32;

/// [`put_lines`] for values with many lines: splits as it goes, growing as needed.
fn put_many_lines(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.reserve(value.len() + name.len() + 3 + CLOSING);
    let mut rest = value;
    while let Some(at) = memchr::memchr2(b'\n', b'\r', rest) {
        put_line(out, name, &rest[..at]);
        let skip = if rest[at] == b'\r' && rest.get(at + 1) == Some(&b'\n') {
            2
        } else {
            1
        };
        rest = &rest[at + skip..];
    }
    put_line(out, name, rest);
}

/// Writes `n` in decimal into `buf`, returning the digits.
pub(crate) fn decimal(mut n: u128, buf: &mut [u8; 39]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[start..];
        }
    }
}

/// Values shorter than this are scanned byte by byte: quicker than a `memchr` call.
const SHORT: usize = 16;

/// The first CR or LF in `value`, and with `nul` the first NUL too.
#[inline]
pub(crate) fn forbidden_byte(value: &[u8], nul: bool) -> Option<u8> {
    let at = if value.len() < SHORT {
        value
            .iter()
            .position(|&b| b == b'\n' || b == b'\r' || (nul && b == 0))
    } else if nul {
        memchr::memchr3(b'\n', b'\r', 0, value)
    } else {
        memchr::memchr2(b'\n', b'\r', value)
    };
    at.map(|i| value[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(value: &str) -> String {
        let mut out = Vec::new();
        put_lines(&mut out, b"data", value.as_bytes());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_decimals() {
        let mut buf = [0; 39];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(2500, &mut buf), b"2500");
        assert_eq!(
            decimal(u128::MAX, &mut buf),
            u128::MAX.to_string().as_bytes()
        );
    }

    #[test]
    fn splits_on_every_line_break() {
        assert_eq!(lines("a"), "data: a\n");
        assert_eq!(lines(""), "data:\n");
        assert_eq!(
            lines("a\nb\rc\r\nd"),
            "data: a\ndata: b\ndata: c\ndata: d\n"
        );
        assert_eq!(lines("a\n"), "data: a\ndata:\n");
        assert_eq!(lines("\r\r\n"), "data:\ndata:\ndata:\n");
        assert_eq!(lines(" lead"), "data:  lead\n");
        let many = "x\r\n".repeat(PIECES + 5);
        assert_eq!(lines(&many), "data: x\n".repeat(PIECES + 5) + "data:\n");
        let many = "\r".repeat(PIECES * 2);
        assert_eq!(lines(&many), "data:\n".repeat(PIECES * 2 + 1));
    }

    #[test]
    fn converts_line_ends() {
        let frame = b"event: x\ndata: y\n\n";
        for (ending, want) in [
            (LineEnding::Lf, &b"event: x\ndata: y\n\n"[..]),
            (LineEnding::Cr, b"event: x\rdata: y\r\r"),
            (LineEnding::CrLf, b"event: x\r\ndata: y\r\n\r\n"),
        ] {
            let mut out = BytesMut::new();
            ending.extend(&mut out, frame);
            assert_eq!(&out[..], want);
        }
    }

    #[test]
    fn finds_forbidden_bytes() {
        assert_eq!(forbidden_byte(b"abc", true), None);
        assert_eq!(forbidden_byte(b"a\0c", true), Some(0));
        assert_eq!(forbidden_byte(b"a\0c", false), None);
        assert_eq!(forbidden_byte(b"a\rc\n", false), Some(b'\r'));
    }
}
