//! Encoding an event straight into a caller's write buffer, with no `Event` built.

use std::{fmt, time::Duration};

use bytes::BytesMut;

use super::{error::FieldError, fields::Fields};

/// Writes one event's lines straight into a write buffer that a transport gathers frames
/// in, with no [`Event`](crate::Event) built: no allocation and no copy per event.
///
/// It has the same setters as `Event`, with the same meaning and the same bytes on the
/// wire: fields are written in the order they are set, `data` and `comment` split at every
/// line break, and a value that would inject lines of its own (a CR or LF in `event` or
/// `id`, a NUL in `id`) is refused. [`finish`](EventWriter::finish) closes the frame with
/// its blank line. Use it where the frames go into a buffer you own (a custom transport, a
/// codec, a test); to send events through a [`channel`](crate::channel) or a
/// [`Hub`](crate::hub::Hub), build an `Event`.
///
/// # Nothing half-written
///
/// The frame only stays in the buffer if `finish` returns `Ok`. When a field is refused,
/// the writer takes the event's lines back out of the buffer at once, writes nothing
/// more, and `finish` returns the first [`FieldError`]. A writer dropped without `finish`
/// also takes its lines back out, so the buffer never holds an unclosed frame that the
/// next one would merge into.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use sse_pump::{EventWriter, FieldError};
///
/// let mut buf = BytesMut::with_capacity(64 * 1024);
/// for (id, text) in [("1", "hello"), ("2", "two\nlines")] {
///     EventWriter::new(&mut buf).id(id).event("chat").data(text).finish()?;
/// }
/// assert_eq!(
///     buf,
///     "id: 1\nevent: chat\ndata: hello\n\nid: 2\nevent: chat\ndata: two\ndata: lines\n\n"
/// );
///
/// // A refused field leaves nothing of its event behind.
/// let refused = EventWriter::new(&mut buf).id("3\ndata: injected").data("x").finish();
/// assert_eq!(refused, Err(FieldError::InvalidByte { field: "id", byte: b'\n' }));
/// assert!(buf.ends_with(b"data: lines\n\n"));
/// # Ok::<(), FieldError>(())
/// ```
#[must_use = "the event is taken back out of the buffer unless `finish` is called"]
pub struct EventWriter<'a> {
    buf: &'a mut BytesMut,
    /// Where this event's lines start: what a refused or unfinished event is cut back to.
    start: usize,
    /// The first field refused, if any; nothing more is written after it. Boxed, so that
    /// the writer is four words, which the setters pass along in registers.
    error: Option<Box<FieldError>>,
    /// Whether `finish` ran, so that dropping the writer leaves the frame alone.
    finished: bool,
}

impl<'a> EventWriter<'a> {
    /// A writer that appends one event to `buf`, after what `buf` holds already.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = bytes::BytesMut::from("data: earlier\n\n");
    /// sse_pump::EventWriter::new(&mut buf).data("later").finish().unwrap();
    /// assert_eq!(buf, "data: earlier\n\ndata: later\n\n");
    /// ```
    #[inline]
    pub fn new(buf: &'a mut BytesMut) -> Self {
        EventWriter {
            start: buf.len(),
            buf,
            error: None,
            finished: false,
        }
    }

    /// Writes the data, one `data:` line for each of its lines, as
    /// [`Event::data`](crate::Event::data) does.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = bytes::BytesMut::new();
    /// sse_pump::EventWriter::new(&mut buf).data("a\r\nb\n").finish().unwrap();
    /// assert_eq!(buf, "data: a\ndata: b\ndata:\n\n");
    /// ```
    #[inline]
    pub fn data(mut self, data: impl AsRef<str>) -> Self {
        self.put_data(data.as_ref());
        self
    }

    /// Writes a comment, one `:` line for each of its lines, as
    /// [`Event::comment`](crate::Event::comment) does.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = bytes::BytesMut::new();
    /// sse_pump::EventWriter::new(&mut buf).comment("two\nlines").finish().unwrap();
    /// assert_eq!(buf, ": two\n: lines\n\n");
    /// ```
    #[inline]
    pub fn comment(mut self, text: impl AsRef<str>) -> Self {
        self.put_comment(text.as_ref());
        self
    }

    /// Sets the event type (the `event:` field), as [`Event::event`](crate::Event::event)
    /// does.
    ///
    /// A name with a CR or LF is refused: the event is taken back out of the buffer and
    /// [`finish`](EventWriter::finish) returns [`FieldError::InvalidByte`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{EventWriter, FieldError};
    ///
    /// let mut buf = bytes::BytesMut::new();
    /// EventWriter::new(&mut buf).event("tick").finish().unwrap();
    /// assert_eq!(buf, "event: tick\n\n");
    /// let err = EventWriter::new(&mut buf).event("a\rb").finish().unwrap_err();
    /// assert_eq!(err, FieldError::InvalidByte { field: "event", byte: b'\r' });
    /// assert_eq!(buf, "event: tick\n\n");
    /// ```
    #[inline]
    pub fn event(mut self, name: impl AsRef<str>) -> Self {
        self.put_event(name.as_ref());
        self
    }

    /// Sets the event id (the `id:` field), as [`Event::id`](crate::Event::id) does.
    ///
    /// An id with a CR, LF or NUL is refused: the event is taken back out of the buffer and
    /// [`finish`](EventWriter::finish) returns [`FieldError::InvalidByte`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{EventWriter, FieldError};
    ///
    /// let mut buf = bytes::BytesMut::new();
    /// EventWriter::new(&mut buf).id("7").finish().unwrap();
    /// assert_eq!(buf, "id: 7\n\n");
    /// let err = EventWriter::new(&mut buf).id("7\0").finish().unwrap_err();
    /// assert_eq!(err, FieldError::InvalidByte { field: "id", byte: 0 });
    /// ```
    #[inline]
    pub fn id(mut self, id: impl AsRef<str>) -> Self {
        self.put_id(id.as_ref());
        self
    }

    /// Sets the reconnection time (the `retry:` field), in whole milliseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut buf = bytes::BytesMut::new();
    /// sse_pump::EventWriter::new(&mut buf)
    ///     .retry(Duration::from_millis(2500))
    ///     .finish()
    ///     .unwrap();
    /// assert_eq!(buf, "retry: 2500\n\n");
    /// ```
    #[inline]
    pub fn retry(mut self, after: Duration) -> Self {
        self.put_retry(after);
        self
    }

    /// Writes `value` as compact JSON on a single `data:` line, as
    /// [`Event::json`](crate::Event::json) does.
    ///
    /// A value that cannot be serialized is refused: the event is taken back out of the
    /// buffer and [`finish`](EventWriter::finish) returns `FieldError::Json`.
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Token<'a> { text: &'a str }
    ///
    /// let mut buf = bytes::BytesMut::new();
    /// sse_pump::EventWriter::new(&mut buf).json(&Token { text: "hi\n" }).finish().unwrap();
    /// assert_eq!(buf, "data: {\"text\":\"hi\\n\"}\n\n");
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.put_json(value);
        self
    }

    /// Closes the frame with its blank line and leaves it in the buffer.
    ///
    /// # Errors
    ///
    /// The [`FieldError`] of the first refused field; then nothing of this event is in the
    /// buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = bytes::BytesMut::new();
    /// sse_pump::EventWriter::new(&mut buf).finish().unwrap();
    /// assert_eq!(buf, "\n"); // no field: a lone blank line, which a parser ignores
    /// ```
    #[inline]
    pub fn finish(mut self) -> Result<(), FieldError> {
        self.finished = true;
        match self.error.take() {
            None => {
                self.buf.extend_from_slice(b"\n");
                Ok(())
            }
            Some(error) => Err(*error),
        }
    }
}

/// The setters' bytes go straight into the caller's buffer; after a refused field, the
/// event is taken back out and nothing more is written.
impl Fields for EventWriter<'_> {
    type Out = BytesMut;

    #[inline(always)]
    fn room(&mut self, room: usize) -> Option<&mut BytesMut> {
        if self.error.is_some() {
            return None;
        }
        self.buf.reserve(room);
        Some(self.buf)
    }

    /// Takes the event back out of the buffer and records `error`, unless an earlier field
    /// was refused already.
    #[cold]
    fn refuse(&mut self, error: FieldError) {
        self.buf.truncate(self.start);
        self.error.get_or_insert_with(|| Box::new(error));
    }
}

impl Drop for EventWriter<'_> {
    /// An unfinished event is taken back out, so the buffer holds only whole frames.
    fn drop(&mut self) {
        if !self.finished {
            self.buf.truncate(self.start);
        }
    }
}

impl fmt::Debug for EventWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = &self.buf[self.start..];
        let mut out = f.debug_tuple("EventWriter");
        out.field(&String::from_utf8_lossy(lines));
        if let Some(error) = &self.error {
            out.field(error);
        }
        out.finish()
    }
}
