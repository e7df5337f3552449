//! The event builder, which encodes as it builds.

use std::{fmt, time::Duration};

use bytes::Bytes;

use crate::{encode, Error};

/// One Server-Sent Event (or comment), encoded to wire bytes as it is built.
///
/// Each setter appends its lines at once, so the event is encoded exactly once. When the
/// event is sent, or [`Event::freeze`] is called, the closing blank line is added and the
/// bytes become immutable [`Bytes`]: cloning a frozen event, to send it to many streams,
/// copies nothing.
///
/// Fields appear on the wire in the order they are set. Setting `event`, `id` or `retry`
/// twice writes both lines, and a parser keeps the last. An event with no field at all
/// encodes as a lone blank line, which a parser ignores.
///
/// | setter | wire | on a bad value |
/// |---|---|---|
/// | [`data`](Event::data) | one `data:` line per line of the value | never fails: line breaks start new lines |
/// | [`event`](Event::event) | `event: name` | [`Error::InvalidField`] on CR or LF |
/// | [`id`](Event::id) | `id: value` | [`Error::InvalidField`] on CR, LF or NUL |
/// | [`retry`](Event::retry) | `retry: <milliseconds>` | never fails |
/// | [`comment`](Event::comment) | one `:` line per line of the text | never fails: line breaks start new lines |
///
/// Line breaks are CR, LF and CRLF, as the WHATWG standard defines them. U+2028, U+2029
/// and U+0085 are not line breaks there, so `data`, `comment`, `event` and `id` write them
/// as they are, and every browser reads them back as they are. Some other parsers split
/// lines on them (Python's `str.splitlines`, which some Python clients use): for those,
/// a `data` value with U+2028 followed by `id: x` would read as an `id` field. If such
/// clients matter, send JSON with [`json`](Event::json), which escapes the three (the
/// same JSON value), or keep them out of values.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::Event;
///
/// let event = Event::new()
///     .id("42")?
///     .event("tick")?
///     .retry(Duration::from_secs(3))
///     .data("first line\nsecond line");
/// assert_eq!(
///     event.into_bytes(),
///     "id: 42\nevent: tick\nretry: 3000\ndata: first line\ndata: second line\n\n"
/// );
/// # Ok::<(), sse_pump::Error>(())
/// ```
#[must_use = "an event does nothing until it is sent"]
#[derive(Clone)]
pub struct Event {
    buf: Buffer,
}

#[derive(Clone)]
enum Buffer {
    /// Lines so far, without the closing blank line, with room for at least that line.
    /// A `Vec` rather than a `BytesMut`: when it is full, it freezes into `Bytes` with no
    /// allocation and no atomic reference count at all.
    Active(Vec<u8>),
    /// The whole frame, closing blank line included.
    Frozen(Bytes),
}

impl Event {
    /// An empty event, to which setters add lines.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = sse_pump::Event::new().data("hello");
    /// assert_eq!(event.into_bytes(), "data: hello\n\n");
    /// ```
    #[inline]
    pub fn new() -> Self {
        Event {
            buf: Buffer::Active(Vec::new()),
        }
    }

    /// The lines so far, with room for `extra` more bytes and the closing blank line.
    ///
    /// Room is reserved exactly, so that an event whose only setter was `data` is full
    /// and freezes into `Bytes` without a second allocation.
    #[inline]
    fn room(&mut self, extra: usize) -> &mut Vec<u8> {
        if let Buffer::Frozen(frame) = &self.buf {
            let mut lines = Vec::with_capacity(frame.len() + extra);
            lines.extend_from_slice(&frame[..frame.len() - 1]);
            self.buf = Buffer::Active(lines);
        }
        match &mut self.buf {
            Buffer::Active(lines) => {
                lines.reserve_exact(extra + CLOSING);
                lines
            }
            Buffer::Frozen(_) => unreachable!("thawed above"),
        }
    }

    /// Appends the data, one `data:` line for each of its lines.
    ///
    /// Every line break (`\n`, `\r` or `\r\n`) starts a new `data:` line, so a conforming
    /// parser gives the data back exactly, except that every line break comes back as `\n`.
    /// Empty data still dispatches an event (`data:` with an empty value), and trailing
    /// line breaks survive. Calling `data` again appends: the parser joins the two with `\n`.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = sse_pump::Event::new().data("a\r\nb\n");
    /// assert_eq!(event.into_bytes(), "data: a\ndata: b\ndata:\n\n");
    /// ```
    #[inline]
    pub fn data(self, data: impl AsRef<str>) -> Self {
        self.lines(b"data: ", data.as_ref().as_bytes())
    }

    /// Appends one `prefix` line per line of `value`.
    #[inline]
    fn lines(mut self, prefix: &[u8], value: &[u8]) -> Self {
        let room = self.room(encode::lines_len(prefix, value));
        encode::write_lines(room, prefix, value);
        self
    }

    /// Sets the event type (the `event:` field); a browser dispatches it to
    /// `addEventListener(type, ...)` instead of `onmessage`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] if `name` contains a CR or LF, which would let the value
    /// inject fields or events of its own. Nothing is written then.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::Event;
    ///
    /// assert_eq!(Event::new().event("tick")?.into_bytes(), "event: tick\n\n");
    /// assert!(Event::new().event("tick\ndata: injected").is_err());
    /// # Ok::<(), sse_pump::Error>(())
    /// ```
    #[inline]
    pub fn event(self, name: impl AsRef<str>) -> Result<Self, Error> {
        self.single_line("event", b"event: ", name.as_ref(), false)
    }

    /// Sets the event id (the `id:` field), which a browser sends back in the
    /// `Last-Event-ID` header when it reconnects. An empty id resets the browser's last id.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] if `id` contains a CR or LF (which would inject fields) or a
    /// NUL (which makes a browser ignore the field). Nothing is written then.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Error, Event};
    ///
    /// assert_eq!(Event::new().id("7")?.into_bytes(), "id: 7\n\n");
    /// assert!(matches!(Event::new().id("7\0"), Err(Error::InvalidField { field: "id", byte: 0 })));
    /// # Ok::<(), sse_pump::Error>(())
    /// ```
    #[inline]
    pub fn id(self, id: impl AsRef<str>) -> Result<Self, Error> {
        self.single_line("id", b"id: ", id.as_ref(), true)
    }

    #[inline]
    fn single_line(
        self,
        field: &'static str,
        prefix: &[u8],
        value: &str,
        nul: bool,
    ) -> Result<Self, Error> {
        match encode::forbidden_byte(value.as_bytes(), nul) {
            Some(byte) => Err(Error::InvalidField { field, byte }),
            None => Ok(self.leading_line(prefix, value.as_bytes())),
        }
    }

    /// [`Event::line`] for a field that usually comes before others (`id`, `event`,
    /// `retry`): the first allocation leaves room for a typical event's remaining lines.
    /// Reallocating for each of them costs more than the second allocation that
    /// `Bytes::from` then makes for the spare room.
    #[inline]
    fn leading_line(mut self, prefix: &[u8], value: &[u8]) -> Self {
        if let Buffer::Active(lines) = &mut self.buf {
            if lines.capacity() == 0 {
                lines.reserve_exact(LEADING_SLACK);
            }
        }
        self.line(prefix, value)
    }

    /// Appends `prefix value`; `value` holds no CR or LF.
    #[inline]
    fn line(mut self, prefix: &[u8], value: &[u8]) -> Self {
        let room = self.room(encode::line_len(prefix, value.len()));
        encode::write_line(room, prefix, value);
        self
    }

    /// Sets the reconnection time (the `retry:` field), written in whole milliseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let event = sse_pump::Event::new().retry(Duration::from_millis(2500));
    /// assert_eq!(event.into_bytes(), "retry: 2500\n\n");
    /// ```
    #[inline]
    pub fn retry(self, after: Duration) -> Self {
        let mut digits = [0; 39];
        self.leading_line(b"retry: ", encode::decimal(after.as_millis(), &mut digits))
    }

    /// Appends a comment, one `:` line for each of its lines. Parsers ignore comments;
    /// they keep proxies from closing a quiet connection, and show up in `curl -N`.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = sse_pump::Event::new().comment("two\nlines");
    /// assert_eq!(event.into_bytes(), ": two\n: lines\n\n");
    /// ```
    #[inline]
    pub fn comment(self, text: impl AsRef<str>) -> Self {
        self.lines(b": ", text.as_ref().as_bytes())
    }

    /// Appends `value` serialized as compact JSON on a single `data:` line.
    ///
    /// Compact JSON escapes every control character inside strings, but a value can
    /// bring its own text (a `serde_json::value::RawValue` keeps its whitespace, line
    /// breaks included): any CR or LF left in the output is whitespace between tokens, so
    /// it becomes a space. U+2028, U+2029 and U+0085, which can only be inside strings,
    /// are written as `\u2028`, `\u2029`, `\u0085`: not line breaks for SSE, but some
    /// parsers (Python's `str.splitlines`, for one) split on them. The line never breaks,
    /// for any parser, and the value is the same JSON.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if serialization fails (a map with non-string keys, for example).
    /// Nothing is written then.
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Token<'a> { text: &'a str }
    ///
    /// let event = sse_pump::Event::new().json(&Token { text: "hi\n" })?;
    /// assert_eq!(event.into_bytes(), "data: {\"text\":\"hi\\n\"}\n\n");
    /// # Ok::<(), sse_pump::Error>(())
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Result<Self, Error> {
        let buf = self.room(b"data: ".len());
        let start = buf.len();
        buf.extend_from_slice(b"data: ");
        if let Err(e) = serde_json::to_writer(&mut *buf, value) {
            buf.truncate(start);
            return Err(Error::Json(e));
        }
        encode::one_line_json(buf, start + b"data: ".len());
        buf.push(b'\n');
        Ok(self)
    }

    /// Closes the event with its blank line and makes its bytes immutable, so that clones
    /// share them. Sending does this by itself; call it before cloning an event to send
    /// it to many streams.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = sse_pump::Event::new().data("for everyone").freeze();
    /// let copy = event.clone(); // shares the bytes, copies nothing
    /// assert_eq!(copy.into_bytes(), event.into_bytes());
    /// ```
    #[inline]
    pub fn freeze(self) -> Self {
        Event {
            buf: Buffer::Frozen(self.into_bytes()),
        }
    }

    /// An event whose whole frame (closing blank line included) is already encoded: how a
    /// hub hands the one shared frame to each subscriber.
    #[inline]
    pub(crate) fn from_frame(frame: Bytes) -> Self {
        Event {
            buf: Buffer::Frozen(frame),
        }
    }

    /// The whole frame as it goes on the wire with `\n` line ends, closing blank line
    /// included.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::Event::new().data("x").into_bytes(), "data: x\n\n");
    /// ```
    #[inline]
    pub fn into_bytes(self) -> Bytes {
        match self.buf {
            Buffer::Active(mut lines) => {
                lines.push(b'\n');
                Bytes::from(lines)
            }
            Buffer::Frozen(frame) => frame,
        }
    }
}

impl Event {
    /// Appends the whole frame to `buf` (with `\n` line ends, closing blank line
    /// included): for a transport that gathers frames into its own write buffer, with no
    /// `Bytes` made for the event.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = bytes::BytesMut::with_capacity(64 * 1024);
    /// sse_pump::Event::new().data("a").encode_into(&mut buf);
    /// sse_pump::Event::new().data("b").encode_into(&mut buf);
    /// assert_eq!(buf, "data: a\n\ndata: b\n\n");
    /// ```
    #[inline]
    pub fn encode_into(self, buf: &mut bytes::BytesMut) {
        match self.buf {
            Buffer::Active(lines) => {
                buf.reserve(lines.len() + CLOSING);
                buf.extend_from_slice(&lines);
                buf.extend_from_slice(b"\n");
            }
            Buffer::Frozen(frame) => buf.extend_from_slice(&frame),
        }
    }
}

/// The bytes a frame needs after its last line: the closing blank line.
const CLOSING: usize = 1;

/// The room a leading field's first allocation leaves: its own line, an `event:` line and
/// a few hundred bytes of data.
const LEADING_SLACK: usize = 320;

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = match &self.buf {
            Buffer::Active(lines) => &lines[..],
            Buffer::Frozen(frame) => &frame[..frame.len() - 1],
        };
        f.debug_tuple("Event")
            .field(&String::from_utf8_lossy(lines))
            .finish()
    }
}
