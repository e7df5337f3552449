//! The event builder, which encodes as it builds.

use std::{fmt, time::Duration};

use bytes::Bytes;

use super::{error::FieldError, fields::Fields};

mod repr;

use repr::{Extra, Open, Repr};

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
/// | [`data`](Event::data) | one `data:` line per line of the value | none: line breaks start new lines |
/// | [`event`](Event::event) | `event: name` | [`FieldError::InvalidByte`] on CR or LF |
/// | [`id`](Event::id) | `id: value` | [`FieldError::InvalidByte`] on CR, LF or NUL |
/// | [`retry`](Event::retry) | `retry: <milliseconds>` | none |
/// | [`comment`](Event::comment) | one `:` line per line of the text | none: line breaks start new lines |
/// | `json` | one `data:` line of compact JSON | `FieldError::Json` |
///
/// # A refused field
///
/// Setters never fail, so an event is built in one chain. A value that would inject
/// fields or events of its own (an `id` with a line feed, from a database row, say) is
/// not written: the event records the first such [`FieldError`], and
/// [`Sender::send`](crate::Sender::send), `try_send`, `send_blocking` and
/// [`Hub::publish`](crate::hub::Hub::publish) refuse the event and hand it back, its error as the
/// refusal's `source`. So a corrupt frame never reaches the wire, and the error is never
/// lost. To see the error where the event is built, end the chain with [`Event::check`].
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
///     .id("42")
///     .event("tick")
///     .retry(Duration::from_secs(3))
///     .data("first line\nsecond line");
/// assert_eq!(
///     event.into_bytes(),
///     "id: 42\nevent: tick\nretry: 3000\ndata: first line\ndata: second line\n\n"
/// );
///
/// let refused = Event::new().id("1\ndata: injected").data("x");
/// assert!(refused.error().is_some());
/// assert_eq!(refused.into_bytes(), "data: x\n\n"); // the bad field was never written
/// ```
#[must_use = "an event does nothing until it is sent"]
#[derive(Clone)]
pub struct Event {
    repr: Repr,
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
            repr: Repr::Open(Open::Lines(Vec::new())),
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
    pub fn data(mut self, data: impl AsRef<str>) -> Self {
        self.put_data(data.as_ref());
        self
    }

    /// Sets the event type (the `event:` field); a browser dispatches it to
    /// `addEventListener(type, ...)` instead of `onmessage`.
    ///
    /// A name with a CR or LF, which would let it inject fields or events of its own, is
    /// not written: the event records [`FieldError::InvalidByte`] and is refused when sent
    /// (see [A refused field](Event#a-refused-field)).
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::Event;
    ///
    /// assert_eq!(Event::new().event("tick").into_bytes(), "event: tick\n\n");
    /// assert!(Event::new().event("tick\ndata: injected").check().is_err());
    /// ```
    #[inline]
    pub fn event(mut self, name: impl AsRef<str>) -> Self {
        self.put_event(name.as_ref());
        self
    }

    /// Sets the event id (the `id:` field), which a browser sends back in the
    /// `Last-Event-ID` header when it reconnects. An empty id resets the browser's last id.
    ///
    /// An id with a CR or LF (which would inject fields) or a NUL (which makes a browser
    /// ignore the field) is not written: the event records [`FieldError::InvalidByte`] and is
    /// refused when sent (see [A refused field](Event#a-refused-field)).
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Event, FieldError};
    ///
    /// assert_eq!(Event::new().id(7.to_string()).into_bytes(), "id: 7\n\n");
    /// assert_eq!(Event::new().id("a-7").into_bytes(), "id: a-7\n\n");
    /// let err = Event::new().id("7\0").check().unwrap_err();
    /// assert_eq!(err, FieldError::InvalidByte { field: "id", byte: 0 });
    /// ```
    #[inline]
    pub fn id(mut self, id: impl AsRef<str>) -> Self {
        self.put_id(id.as_ref());
        self
    }

    /// The first field this event refused, if any; an event that holds one is refused by
    /// `send`, `try_send`, `send_blocking` and `Hub::publish`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Event, FieldError};
    ///
    /// assert_eq!(Event::new().event("tick").error(), None);
    /// let event = Event::new().event("a\rb").id("c\nd");
    /// assert_eq!(event.error(), Some(&FieldError::InvalidByte { field: "event", byte: b'\r' }));
    /// ```
    pub fn error(&self) -> Option<&FieldError> {
        match self.repr.extra() {
            Some(Extra::Refused(error)) => Some(error),
            _ => None,
        }
    }

    /// The length of the whole frame, closing blank line included.
    #[inline]
    pub(crate) fn frame_len(&self) -> usize {
        self.repr.lines().len() + 1
    }

    /// The event, or the first field it refused: to see the error where the event is
    /// built, with `?`.
    ///
    /// # Errors
    ///
    /// The [`FieldError`] of the first refused field.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Event, FieldError};
    ///
    /// fn tick(id: &str) -> Result<Event, FieldError> {
    ///     Event::new().event("tick").id(id).data("...").check()
    /// }
    /// assert!(tick("7").is_ok());
    /// assert!(tick("7\n").is_err());
    /// ```
    pub fn check(self) -> Result<Self, FieldError> {
        match self.error() {
            Some(error) => Err(error.clone()),
            None => Ok(self),
        }
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
    pub fn retry(mut self, after: Duration) -> Self {
        self.put_retry(after);
        self
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
    pub fn comment(mut self, text: impl AsRef<str>) -> Self {
        self.put_comment(text.as_ref());
        self
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
    ///
    /// A value that cannot be serialized (a map with non-string keys, for example) writes
    /// nothing: the event records `FieldError::Json` and is refused when sent (see
    /// [A refused field](Event#a-refused-field)).
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Token<'a> { text: &'a str }
    ///
    /// let event = sse_pump::Event::new().json(&Token { text: "hi\n" });
    /// assert_eq!(event.into_bytes(), "data: {\"text\":\"hi\\n\"}\n\n");
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.put_json(value);
        self
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
            repr: self.repr.freeze(),
        }
    }

    /// An event whose whole frame (closing blank line included) is already encoded: how a
    /// hub hands the one shared frame to each subscriber.
    #[inline]
    pub(crate) fn from_frame(frame: Bytes) -> Self {
        Event {
            repr: Repr::Frozen(frame),
        }
    }

    /// Appends the whole frame to `out` (with `\n` line ends, closing blank line included).
    #[inline]
    pub(crate) fn append_to(&self, out: &mut Vec<u8>) {
        let lines = self.repr.lines();
        out.reserve(lines.len() + 1);
        out.extend_from_slice(lines);
        out.push(b'\n');
    }

    /// Drops the event, whose bytes were copied elsewhere: its buffer serves the next event
    /// built on this thread.
    #[inline]
    pub(crate) fn recycle(self) {
        self.repr.recycle();
    }

    /// The whole frame as it goes on the wire with `\n` line ends, closing blank line
    /// included (without the fields it refused, if any).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::Event::new().data("x").into_bytes(), "data: x\n\n");
    /// ```
    #[inline]
    pub fn into_bytes(self) -> Bytes {
        self.repr.into_bytes()
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
        self.repr.encode_into(buf);
    }
}

/// The setters' bytes go into the event's own buffer; a refused field is not written, and
/// the first one is kept.
impl Fields for Event {
    type Out = Vec<u8>;

    #[inline(always)]
    fn room(&mut self, room: usize) -> Option<&mut Vec<u8>> {
        Some(self.repr.lines_mut(room, 0))
    }

    /// The first allocation leaves room for a typical event's remaining lines.
    /// Reallocating for each of them costs more than the second allocation that
    /// `Bytes::from` then makes for the spare room.
    #[inline(always)]
    fn leading_room(&mut self, room: usize) -> Option<&mut Vec<u8>> {
        Some(self.repr.lines_mut(room, LEADING_SLACK))
    }

    /// Only with room already there: a new event allocates exactly instead, for its
    /// breaks counted, so that it freezes without a second allocation.
    #[inline]
    fn fuses(&mut self, room: usize) -> bool {
        self.repr.has_room(room)
    }

    /// Records `error` unless an earlier field was refused already.
    #[cold]
    fn refuse(&mut self, error: FieldError) {
        if self.repr.extra().is_none() {
            let repr = std::mem::replace(&mut self.repr, Repr::Frozen(Bytes::new()));
            self.repr = Repr::marked(repr, Extra::Refused(error));
        }
    }
}

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
        let mut out = f.debug_tuple("Event");
        out.field(&String::from_utf8_lossy(self.repr.lines()));
        if let Some(error) = self.error() {
            out.field(error);
        }
        out.finish()
    }
}
