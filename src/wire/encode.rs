//! Wire-format helpers: field lines, line splitting and line-ending conversion.
//!
//! Every frame is encoded once with `\n` line ends. The only `\n` bytes in an encoded frame
//! are line ends, because values are split at every line break and `event`/`id` refuse
//! them, so converting a frame to `\r` or `\r\n` is a byte-for-byte replacement.

use bytes::BytesMut;

use super::line_breaks::mask16;

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

/// The length of `prefix value\n`, where `prefix` is a field name with its `": "`; an
/// empty value drops the space (`data:\n`).
#[inline]
pub(crate) fn line_len(prefix: &[u8], value_len: usize) -> usize {
    match value_len {
        0 => prefix.len(),
        n => prefix.len() + n + 1,
    }
}

/// Where encoded lines go: an event's own `Vec`, a batch's, or a caller's write buffer.
pub(crate) trait Out: std::ops::DerefMut<Target = [u8]> {
    /// Appends `bytes`, growing if needed.
    fn put(&mut self, bytes: &[u8]);
    /// Grows or cuts to `len` bytes; new bytes are zero.
    fn set_len(&mut self, len: usize);
}

/// `Vec<u8>` and `BytesMut` have these methods under the same names, but no trait in
/// common that has them all.
macro_rules! impl_out {
    ($($buffer:ty),*) => {$(
        impl Out for $buffer {
            #[inline]
            fn put(&mut self, bytes: &[u8]) {
                self.extend_from_slice(bytes);
            }
            #[inline]
            fn set_len(&mut self, len: usize) {
                self.resize(len, 0);
            }
        }
    )*};
}

impl_out!(Vec<u8>, BytesMut);

/// Writes one line. `value` holds no CR or LF. Always inlined, so that the prefix, a
/// literal, is copied with a few stores rather than a `memmove` call.
#[inline(always)]
pub(crate) fn write_line<O: Out>(out: &mut O, prefix: &[u8], value: &[u8]) {
    if value.is_empty() {
        out.put(&prefix[..prefix.len() - 1]);
    } else {
        out.put(prefix);
        out.put(value);
    }
    out.put(b"\n");
}

/// The bytes a frame needs after its last line: the closing blank line.
pub(crate) const CLOSING: usize = 1;

/// The line end and field name of a `data` line: what separates two of them.
pub(crate) const DATA: &[u8; 7] = b"\ndata: ";

/// The line end and field name of a comment line.
pub(crate) const COMMENT: &[u8; 3] = b"\n: ";

/// Writes one field line for every piece of `value` between line breaks (`\r\n`, `\r` or
/// `\n`), so that a parser joins the pieces back with `\n`, in one pass over `value`.
/// `joined` is a line end and the field's prefix ([`DATA`], [`COMMENT`]), written between
/// pieces as one copy.
#[inline(always)]
fn write_lines<O: Out>(out: &mut O, joined: &[u8], value: &[u8]) {
    let end = find_break(value);
    let piece = &value[..end.unwrap_or(value.len())];
    // The first line has no line end before it. Each copy of a prefix has a constant
    // length, so it compiles to a few stores rather than a `memmove` call.
    put_prefix(out, &joined[1..], value);
    out.put(piece);
    write_breaks(out, joined, value, end);
}

/// Writes `prefix`, without its space if the line it starts, at the start of `rest`, is
/// empty (`data:`).
#[inline(always)]
fn put_prefix<O: Out>(out: &mut O, prefix: &[u8], rest: &[u8]) {
    if starts_empty(rest) {
        out.put(&prefix[..prefix.len() - 1]);
    } else {
        out.put(prefix);
    }
}

/// [`write_lines`] from `value[from..]`, in a line whose prefix and earlier bytes are
/// written already.
#[inline(always)]
fn write_rest<O: Out>(out: &mut O, joined: &[u8], value: &[u8], from: usize) {
    let end = find_break(&value[from..]).map(|i| from + i);
    out.put(&value[from..end.unwrap_or(value.len())]);
    write_breaks(out, joined, value, end);
}

/// [`write_lines`] from the line break at `end` (none: the value is written), one line
/// per break.
#[inline(always)]
fn write_breaks<O: Out>(out: &mut O, joined: &[u8], value: &[u8], mut end: Option<usize>) {
    while let Some(at) = end {
        let crlf = value[at] == b'\r' && value.get(at + 1) == Some(&b'\n');
        let start = at + 1 + usize::from(crlf);
        end = find_break(&value[start..]).map(|i| start + i);
        let piece = &value[start..end.unwrap_or(value.len())];
        // Not `put_prefix`: testing the piece at hand is cheaper in this loop (owned
        // `Event` on mix c of `encode_best`: 167 against 192 ns).
        if piece.is_empty() {
            out.put(&joined[..joined.len() - 1]);
        } else {
            out.put(joined);
            out.put(piece);
        }
    }
    out.put(b"\n");
}

/// Writes one field line for every piece of `value` between line breaks, as
/// [`write_lines`] does, with a faster loop for a value of many short lines: what every
/// setter of `data` and `comment` calls, on an event's own buffer, a batch's or a caller's.
/// The caller has made the room that [`Plan::of`] asked for.
///
/// [`write_lines`] pays a `memchr2` call and a `memmove` call per line, which is most of
/// the cost on lines of a hundred bytes. [`copy_lines`] searches and copies each line 32
/// bytes at a time instead, into a slice, with no call and no capacity check per line; the
/// buffer is zero-filled for it first. That fill costs more than it saves on a short value
/// or on long lines, so those go to [`write_lines`].
#[inline(always)]
pub(crate) fn put_lines<O: Out, const N: usize>(
    out: &mut O,
    joined: &[u8; N],
    value: &[u8],
    plan: Plan,
) {
    match plan {
        Plan::Short => write_lines(out, joined, value),
        Plan::Long(first) => {
            out.put(&joined[1..]);
            out.put(&value[..first.unwrap_or(value.len())]);
            write_breaks_out_of_line(out, joined, value, first);
        }
        Plan::Fused => put_fused(out, joined, value),
    }
}

/// How [`put_lines`] writes a value, decided first so that the caller can make room.
#[derive(Clone, Copy)]
pub(crate) enum Plan {
    /// A short value: [`write_lines`].
    Short,
    /// A long first line (where its break is, if any): `memchr2` and one copy per line
    /// do best.
    Long(Option<usize>),
    /// Many short lines: [`copy_lines`].
    Fused,
}

impl Plan {
    /// The plan for `value`, and the room it needs (the lines and the closing blank line;
    /// [`Plan::Short`] and [`Plan::Long`] grow the buffer if `value` has more lines).
    /// `fuses` says whether the buffer has the block loop's room without allocating: an
    /// event's own buffer that would have to allocate it takes the per-line path with room
    /// counted exactly instead, so that it freezes without a second allocation (the zero-fill
    /// and that allocation made an owned `Event` of mix c 8-16% slower).
    #[inline(always)]
    pub(crate) fn of(
        prefix_len: usize,
        value: &[u8],
        fuses: impl FnOnce(usize) -> bool,
    ) -> (Plan, usize) {
        let one_line = prefix_len + value.len() + usize::from(!value.is_empty()) + CLOSING;
        if value.len() < FUSED {
            return (Plan::Short, one_line);
        }
        let first = memchr::memchr2(b'\n', b'\r', value);
        if first.is_none_or(|at| at >= LONG) {
            return (Plan::Long(first), one_line);
        }
        let fused = prefix_len + fused_guess(prefix_len + 1, value) + SLACK + CLOSING;
        if fuses(fused) {
            return (Plan::Fused, fused);
        }
        // Every break byte turns into one line end and starts a line of its own.
        let breaks = count_breaks(value);
        (Plan::Short, one_line + breaks * prefix_len)
    }
}

/// The number of CR and LF bytes in `value`.
#[inline]
fn count_breaks(value: &[u8]) -> usize {
    // A `u8` count per block lets the compiler compare 16 bytes at once. The block is a
    // multiple of its 64-byte loop: with 255 bytes, each block ended in a 63-byte tail
    // counted by slower code.
    value
        .chunks(COUNTED)
        .map(|block| {
            let n = block
                .iter()
                .fold(0u8, |n, &b| n + u8::from(b == b'\n' || b == b'\r'));
            usize::from(n)
        })
        .sum()
}

/// The bytes [`count_breaks`] counts in a `u8`: at most 255, and a multiple of 64.
const COUNTED: usize = 192;

/// Room for [`copy_lines`]: a break every 32 bytes; a value with more goes on in
/// [`write_rest`].
#[inline(always)]
fn fused_guess(joined_len: usize, value: &[u8]) -> usize {
    value.len() + (value.len() / 32 + 2) * joined_len
}

/// [`put_lines`] for many short lines, through [`copy_lines`].
#[inline]
fn put_fused<O: Out, const N: usize>(out: &mut O, joined: &[u8; N], value: &[u8]) {
    put_prefix(out, &joined[1..], value);
    let start = out.len();
    out.set_len(start + fused_guess(N, value) + SLACK);
    match copy_lines(&mut out[start..], joined, value) {
        Ok(written) => out.set_len(start + written),
        Err(Stop { written, read }) => {
            out.set_len(start + written);
            write_rest_out_of_line(out, joined, value, read);
        }
    }
}

/// [`write_rest`], not inlined: rarely needed after [`copy_lines`].
#[inline(never)]
fn write_rest_out_of_line<O: Out>(out: &mut O, joined: &[u8], value: &[u8], from: usize) {
    write_rest(out, joined, value, from);
}

/// [`write_breaks`], not inlined: for long lines, where a call costs little.
#[inline(never)]
fn write_breaks_out_of_line<O: Out>(out: &mut O, joined: &[u8], value: &[u8], end: Option<usize>) {
    write_breaks(out, joined, value, end);
}

/// Values shorter than this go to [`write_lines`] from [`put_lines`]: the zero-fill and
/// the call cost more than [`copy_lines`] saves (11 bytes: 12 ns against 25 ns, 200
/// bytes: 18 against 22; 809 bytes in 10 lines: 101 against 118).
const FUSED: usize = 256;

/// Room [`copy_lines`] needs past its last byte: its last block may be copied whole.
const SLACK: usize = BLOCK + 1;

/// Where [`copy_lines`] stopped, in the middle of a line: `dst[..written]` holds the
/// lines of `value[..read]`, the prefix of the line that `read` is in included.
#[derive(Clone, Copy)]
struct Stop {
    written: usize,
    read: usize,
}

impl Stop {
    #[inline(always)]
    fn new(written: usize, read: usize) -> Self {
        Stop { written, read }
    }
}

/// Writes [`write_lines`]' bytes after the first prefix to the start of `dst` and returns
/// how many. Stops at a line longer than [`LONG`] (for `memchr2`), at short lines at the
/// end of the value, or when `dst` is short of room.
///
/// Never inlined, so the hot loop has the same code wherever the writer is used; one copy
/// per prefix length, so each prefix is copied with constant-length stores.
#[inline(never)]
fn copy_lines<const N: usize>(
    dst: &mut [u8],
    joined: &[u8; N],
    value: &[u8],
) -> Result<usize, Stop> {
    let (mut w, mut r) = (0, 0);
    while let Some(at) = copy_line(dst, &mut w, value, r)? {
        let crlf = value[at] == b'\r' && value.get(at + 1) == Some(&b'\n');
        let next = at + 1 + usize::from(crlf);
        w = put_prefix_at(dst, w, joined, &value[next..]).ok_or(Stop::new(w, at))?;
        r = next;
    }
    *dst.get_mut(w).ok_or(Stop::new(w, value.len()))? = b'\n';
    Ok(w + 1)
}

/// Writes `prefix` at `dst[w..]`, without its space if the line it starts, at the start
/// of `rest`, is empty (`data:`); returns where the line's bytes go.
#[inline(always)]
fn put_prefix_at(dst: &mut [u8], w: usize, prefix: &[u8], rest: &[u8]) -> Option<usize> {
    let end = w + prefix.len();
    dst.get_mut(w..end)?.copy_from_slice(prefix);
    Some(end - usize::from(starts_empty(rest)))
}

/// Whether the line at the start of `rest` is empty.
#[inline(always)]
fn starts_empty(rest: &[u8]) -> bool {
    matches!(rest.first(), None | Some(b'\n' | b'\r'))
}

/// Copies the line that starts at `value[line..]` to `dst[*w..]`, up to its line break,
/// and returns where that break is (`None`: the line ends the value).
///
/// Each 32-byte block is copied whole, then checked for a break; the bytes copied past a
/// break are written over by what comes next.
#[inline(always)]
fn copy_line(
    dst: &mut [u8],
    w: &mut usize,
    value: &[u8],
    line: usize,
) -> Result<Option<usize>, Stop> {
    let mut r = line;
    while let Some(block) = value.get(r..r + BLOCK) {
        let stop = Stop::new(*w, r);
        let Ok(block) = <[u8; BLOCK]>::try_from(block) else {
            return Err(stop);
        };
        if let Some(at) = copy_block(dst, *w, &block).ok_or(stop)? {
            *w += at;
            return Ok(Some(r + at));
        }
        r += BLOCK;
        *w += BLOCK;
        if r - line >= LONG {
            return Err(Stop::new(*w, r));
        }
    }
    copy_tail(dst, w, value, line, r)
}

/// [`copy_line`] for the last bytes of the value, `value[r..]`, fewer than a block.
#[inline(always)]
fn copy_tail(
    dst: &mut [u8],
    w: &mut usize,
    value: &[u8],
    line: usize,
    r: usize,
) -> Result<Option<usize>, Stop> {
    if r == value.len() {
        return Ok(None);
    }
    // If the value's last block lies within this line, it is copied again over the end
    // of the line, so that the tail too is one block; a shorter line is left to
    // `write_rest`.
    let stop = Stop::new(*w, r);
    if value.len() - line < BLOCK {
        return Err(stop);
    }
    let from = value.len() - BLOCK;
    let Ok(block) = <[u8; BLOCK]>::try_from(&value[from..]) else {
        return Err(stop);
    };
    let to = *w - (r - from);
    let at = copy_block(dst, to, &block).ok_or(stop)?;
    *w = to + at.unwrap_or(BLOCK);
    Ok(at.map(|at| from + at))
}

/// Copies `block` to `dst[w..]` and returns where its first line break is, if any;
/// `None` if `dst` is short of room.
#[inline(always)]
fn copy_block(dst: &mut [u8], w: usize, block: &[u8; BLOCK]) -> Option<Option<usize>> {
    let breaks = break_mask(block);
    dst.get_mut(w..w + BLOCK)?.copy_from_slice(block);
    Some((breaks != 0).then(|| breaks.trailing_zeros() as usize))
}

/// One bit per byte of `block`, set for a CR or LF.
#[inline(always)]
fn break_mask(block: &[u8; BLOCK]) -> u32 {
    let half = |at: usize| u32::from(mask16(block[at..at + 16].try_into().unwrap_or_default()));
    half(0) | half(16) << 16
}

/// The bytes [`copy_line`] searches and copies at once.
const BLOCK: usize = 32;

/// The first CR or LF in `value`.
///
/// `memchr2` picks its AVX2 or SSE2 code at run time, through a function pointer: on a
/// line of a hundred bytes, that call and its setup cost as much as the search (perf on
/// mix c of `benches/encode.rs`). SSE2 is part of every x86-64 CPU, so its searcher is
/// built in place and inlined; `memchr2` takes over on long lines, where AVX2 wins.
#[inline(always)]
fn find_break(value: &[u8]) -> Option<usize> {
    if value.len() < SHORT {
        return value.iter().position(|&b| b == b'\n' || b == b'\r');
    }
    #[cfg(target_arch = "x86_64")]
    if value.len() <= LONG {
        if let Some(breaks) = memchr::arch::x86_64::sse2::memchr::Two::new(b'\n', b'\r') {
            return breaks.find(value);
        }
    }
    memchr::memchr2(b'\n', b'\r', value)
}

/// Lines longer than this are searched with `memchr2`, which may use AVX2.
const LONG: usize = 256;

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

/// Writes `value` as compact JSON on one `data:` line; on an error, nothing stays in `out`.
#[cfg(feature = "json")]
pub(crate) fn put_json<O: Out, T: serde::Serialize + ?Sized>(
    out: &mut O,
    value: &T,
) -> Result<(), serde_json::Error> {
    /// `io::Write` for an [`Out`].
    struct Writer<'a, O>(&'a mut O);
    impl<O: Out> std::io::Write for Writer<'_, O> {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.put(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let line = out.len();
    out.put(b"data: ");
    if let Err(e) = serde_json::to_writer(Writer(out), value) {
        out.set_len(line);
        return Err(e);
    }
    one_line_json(out, line + b"data: ".len());
    out.put(b"\n");
    Ok(())
}

/// Makes the serialized JSON in `buf[start..]` one line for every parser, without
/// changing its value: CR and LF (whitespace between tokens, in valid JSON) become spaces;
/// U+2028, U+2029 and U+0085 (only ever inside strings) become `\u` escapes.
#[cfg(feature = "json")]
fn one_line_json<O: Out>(buf: &mut O, start: usize) {
    let json = &buf[start..];
    let suspect = memchr::memchr3(b'\r', b'\n', 0xE2, json).or_else(|| memchr::memchr(0xC2, json));
    let Some(first) = suspect else {
        return; // nearly always: nothing to change, nothing copied
    };
    let mut out = Vec::with_capacity(json.len() + 16);
    out.extend_from_slice(&json[..first]);
    let mut rest = &json[first..];
    while let [byte, tail @ ..] = rest {
        let (replacement, used): (&[u8], usize) = match rest {
            [b'\r' | b'\n', ..] => (b" ", 1),
            [0xE2, 0x80, 0xA8, ..] => (b"\\u2028", 3),
            [0xE2, 0x80, 0xA9, ..] => (b"\\u2029", 3),
            [0xC2, 0x85, ..] => (b"\\u0085", 2),
            _ => {
                out.push(*byte);
                rest = tail;
                continue;
            }
        };
        out.extend_from_slice(replacement);
        rest = &rest[used..];
    }
    buf.set_len(start);
    buf.put(&out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(value: &str) -> String {
        let mut out = Vec::new();
        put(&mut out, DATA, value);
        String::from_utf8(out).unwrap()
    }

    fn put<O: Out, const N: usize>(out: &mut O, joined: &[u8; N], value: &str) {
        let (plan, _) = Plan::of(N - 1, value.as_bytes(), |_| true);
        put_lines(out, joined, value.as_bytes(), plan);
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
        assert_eq!(lines("ab\ncd"), "data: ab\ndata: cd\n");
        let many = "x\r\n".repeat(300);
        assert_eq!(lines(&many), "data: x\n".repeat(300) + "data:\n");
        let many = "\r".repeat(600);
        assert_eq!(lines(&many), "data:\n".repeat(601));
        let long = "y".repeat(1000) + "\n" + &"z".repeat(20);
        assert_eq!(
            lines(&long),
            format!("data: {}\ndata: {}\n", &long[..1000], &long[1001..])
        );
    }

    /// What every line splitter must write: the value's lines, each after the prefix.
    fn expected(prefix: &str, value: &str) -> String {
        let value = value.replace("\r\n", "\n").replace('\r', "\n");
        let line = |piece: &str| match piece {
            "" => format!("{}\n", prefix.trim_end()),
            piece => format!("{prefix}{piece}\n"),
        };
        value.split('\n').map(line).collect()
    }

    /// A value of `lines` lines whose lengths and breaks come from `seed`: many lengths
    /// around the 32-byte blocks and the 256-byte limit of the fast path.
    fn generated(seed: &mut u64, lines: usize) -> String {
        const LENGTHS: [usize; 16] = [
            0, 1, 15, 16, 30, 31, 32, 33, 47, 63, 64, 80, 100, 255, 256, 300,
        ];
        let mut next = || {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed as usize
        };
        let mut value = String::new();
        for n in 0..lines {
            if n > 0 {
                value.push_str(["\n", "\r", "\r\n"][next() % 3]);
            }
            let len = LENGTHS[next() % LENGTHS.len()];
            value.extend((0..len).map(|i| char::from(b'a' + (i % 26) as u8)));
        }
        value
    }

    #[test]
    fn every_splitter_writes_the_same_lines() {
        let mut seed = 0x5EED;
        for round in 0..3_000 {
            let value = generated(&mut seed, 1 + round % 40);
            let mut data = BytesMut::from("x");
            put(&mut data, DATA, &value);
            assert_eq!(
                &data[1..],
                expected("data: ", &value).as_bytes(),
                "{value:?}"
            );
            let mut comment = BytesMut::new();
            put(&mut comment, COMMENT, &value);
            assert_eq!(comment, expected(": ", &value), "{value:?}");
            assert_eq!(lines(&value), expected("data: ", &value), "{value:?}");
            let mut short = Vec::new();
            write_lines(&mut short, DATA, value.as_bytes());
            assert_eq!(short, expected("data: ", &value).as_bytes(), "{value:?}");
        }
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
