//! Reading fields out of an encoded frame, and stamping the hub's id onto one.
//!
//! An encoded frame is a run of `name: value\n` lines (or `name:\n` for an empty value)
//! closed by a blank line. `data` and comments are split at every line break and `event`
//! and `id` refuse them, so a line that starts with `id:` is the id field and nothing else.

use std::ops::Range;

use bytes::Bytes;

use crate::wire::encode;

/// The field lines of `frame` as `(offset, line)`, without their `\n`, up to the closing
/// blank line.
fn lines(frame: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let len = memchr::memchr(b'\n', frame.get(start..)?)?;
        let at = start;
        let line = &frame[at..at + len];
        start = at + len + 1;
        (!line.is_empty()).then_some((at, line))
    })
}

/// Where the value of the last `name` field (given with its colon, `b"id:"`) is in
/// `frame`; a parser keeps the last one.
pub(super) fn field(frame: &[u8], name: &[u8]) -> Option<Range<usize>> {
    let mut found = None;
    for (at, line) in lines(frame) {
        if let Some(value) = line.strip_prefix(name) {
            let space = usize::from(value.first() == Some(&b' '));
            found = Some(at + name.len() + space..at + line.len());
        }
    }
    found
}

/// `frame` with `id: <id>` as its first line (in decimal), and without the `id` lines it
/// had; and where the id is in it.
pub(super) fn with_id(frame: &[u8], id: u64) -> (Bytes, Range<usize>) {
    let mut digits = [0; 39];
    let digits = encode::decimal(u128::from(id), &mut digits);
    let at = b"id: ".len()..b"id: ".len() + digits.len();
    (with_text_id(frame, digits), at)
}

/// `frame` with `id: <digits>` as its first line, and without the `id` lines it had;
/// `digits` holds no CR, LF or NUL (a log's name for the entry). One allocation and one
/// copy per event, whatever the number of subscribers.
pub(super) fn with_text_id(frame: &[u8], digits: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(frame.len() + b"id: \n".len() + digits.len());
    encode::write_line(&mut out, b"id: ", digits);
    if field(frame, b"id:").is_none() {
        out.extend_from_slice(frame);
    } else {
        for (_, line) in lines(frame).filter(|(_, line)| !line.starts_with(b"id:")) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_last_field() {
        let frame = b"id: 1\nevent: a\ndata: id: no\nid:\nid: 3\n\n";
        assert_eq!(&frame[field(frame, b"id:").unwrap()], b"3");
        assert_eq!(&frame[field(frame, b"event:").unwrap()], b"a");
        assert_eq!(field(b"data: x\n\n", b"id:"), None);
        assert_eq!(field(b"\n", b"id:"), None);
        let empty = b"id:\n\n";
        assert_eq!(&empty[field(empty, b"id:").unwrap()], b"");
    }

    #[test]
    fn stamps_the_id_first_and_drops_the_old_ones() {
        assert_eq!(
            &with_text_id(b"data: x\n\n", b"7")[..],
            b"id: 7\ndata: x\n\n"
        );
        assert_eq!(
            &with_text_id(b"id: a\nevent: e\ndata: x\nid: b\n\n", b"12")[..],
            b"id: 12\nevent: e\ndata: x\n\n"
        );
        assert_eq!(&with_text_id(b"\n", b"0")[..], b"id: 0\n\n");
        let (frame, at) = with_id(b"data: x\n\n", 1234);
        assert_eq!(
            (&frame[..], &frame[at]),
            (&b"id: 1234\ndata: x\n\n"[..], &b"1234"[..])
        );
    }
}
