//! The sans-IO decoder: WHATWG HTML 9.2.6 "Interpreting an event stream".

use std::time::Duration;

use super::block::{data_value, strip_space, Block, Dispatch};
use super::event::sealed::Sealed;
use super::input::Input;
use super::lines::{Ends, Lines, Next};
use super::{Chunk, DecodeError, Item, MessageEvent, Text};

/// The default maximum line length: 1 MiB.
const MAX_LINE: usize = 1 << 20;
/// The default maximum event size: 8 MiB.
const MAX_EVENT: usize = 8 << 20;
/// A line longer than this that spans chunks becomes the data buffer in place (see
/// [`Block::adopt`]); a shorter one is copied.
const BIG_LINE: usize = 64 << 10;

/// A sans-IO Server-Sent Events parser: feed it bytes, pull events.
///
/// It implements the WHATWG "interpreting an event stream" algorithm exactly, as browsers
/// do: one leading BOM stripped, CR, LF and CRLF line ends (also split across chunks),
/// comments, `id` persistence, digits-only `retry`, no event for a block without data,
/// invalid UTF-8 as U+FFFD. It costs linear time whatever the chunking, and its memory is
/// bounded by the [limits](Decoder::max_line_len) plus the bytes fed between two pulls.
/// The last event ID is held once and shared by every event that carries it (a [`Text`]
/// clone is a reference count), so an ID of any length up to the line limit is kept, as
/// browsers keep it, and 2,000 events carrying a 512 KiB ID cost 512 KiB, not 1 GB.
///
/// | setting | default |
/// |---|---|
/// | [`max_line_len`](Decoder::max_line_len) | 1 MiB |
/// | [`max_event_size`](Decoder::max_event_size) | 8 MiB |
/// | [`max_id_len`](Decoder::max_id_len) | none (the line limit bounds it) |
///
/// Pull with [`next_event`](Decoder::next_event) until it returns `None` after each
/// [`feed`](Decoder::feed), and call [`finish`](Decoder::finish) at the end of the stream.
///
/// # Examples
///
/// ```
/// let mut decoder = sse_pump::Decoder::new();
/// for chunk in [&b"data: hel"[..], b"lo\r", b"\n\r\nid: 1\n", b"data: partial"] {
///     decoder.feed(chunk);
///     while let Some(event) = decoder.next_event()? {
///         assert_eq!((&*event.event, event.data.as_str()), ("message", "hello"));
///     }
/// }
/// decoder.finish(); // the stream ended: the partial event is dropped
/// assert_eq!(decoder.next_event()?, None);
/// assert_eq!(decoder.last_event_id(), ""); // `id: 1` was never dispatched
/// # Ok::<(), sse_pump::DecodeError>(())
/// ```
#[derive(Debug)]
#[doc(alias = "EventSource")]
#[doc(alias = "parser")]
#[must_use]
pub struct Decoder {
    /// Bytes given to [`Decoder::feed`] and not parsed yet.
    input: Input,
    parser: Parser,
}

/// The parser's state: the line being gathered, the block being read, the limits.
#[derive(Debug)]
struct Parser {
    lines: Lines,
    block: Block,
    max_line: usize,
    max_event: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder with the default limits.
    ///
    /// # Examples
    ///
    /// ```
    /// let decoder = sse_pump::Decoder::new();
    /// assert_eq!(decoder.reconnection_time(), None);
    /// ```
    pub fn new() -> Self {
        Decoder {
            input: Input::default(),
            parser: Parser {
                lines: Lines::default(),
                block: Block::new(usize::MAX),
                max_line: MAX_LINE,
                max_event: MAX_EVENT,
            },
        }
    }

    /// Sets the maximum length of a line, in bytes, without its line end. Default 1 MiB.
    /// A longer line gives [`DecodeError::LineTooLong`] as soon as that many bytes of it are
    /// buffered, without waiting for its end.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut decoder = sse_pump::Decoder::new().max_line_len(4);
    /// decoder.feed(b"data: 12345"); // no line end yet, and already too long
    /// assert!(decoder.next_event().is_err());
    /// ```
    pub fn max_line_len(mut self, bytes: usize) -> Self {
        self.parser.max_line = bytes;
        self
    }

    /// Sets the maximum size of an event (its data, line breaks included, plus its type),
    /// in bytes. Default 8 MiB. A larger event gives [`DecodeError::EventTooLarge`].
    ///
    /// # Examples
    ///
    /// ```
    /// let mut decoder = sse_pump::Decoder::new().max_event_size(8);
    /// decoder.feed(b"data: 1234\ndata: 5678\n\n");
    /// assert!(decoder.next_event().is_err());
    /// ```
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.parser.max_event = bytes;
        self
    }

    /// Sets a maximum length of an `id:` value, in bytes: a longer one gives
    /// [`DecodeError::IdTooLong`], its block is skipped and the last event ID stays. No
    /// limit by default (only the line limit), as browsers have none: the ID is held once
    /// and every event shares it, so a long one costs its size once, not once per event.
    /// Set one only to refuse IDs your server could not take back as `Last-Event-ID`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{DecodeError, Decoder};
    ///
    /// let mut decoder = Decoder::new().max_id_len(4);
    /// decoder.feed(b"id: 1\ndata: a\n\nid: 12345\ndata: b\n\ndata: c\n\n");
    /// assert_eq!(decoder.next_event()?.unwrap().id, "1");
    /// assert_eq!(decoder.next_event(), Err(DecodeError::IdTooLong { limit: 4 }));
    /// let event = decoder.next_event()?.unwrap();
    /// assert_eq!((event.id.as_str(), event.data.as_str()), ("1", "c"));
    /// # Ok::<(), DecodeError>(())
    /// ```
    pub fn max_id_len(mut self, bytes: usize) -> Self {
        self.parser.block.max_id = bytes;
        self
    }

    /// The maximum line length, event size and ID length, to make decoders like this one.
    #[cfg(feature = "client")]
    pub(crate) fn limits(&self) -> (usize, usize, usize) {
        let parser = &self.parser;
        (parser.max_line, parser.max_event, parser.block.max_id)
    }

    /// Appends bytes of the stream. Chunks may split lines, line ends and UTF-8 sequences
    /// anywhere. Pull the events out before feeding much more: the chunks fed are kept
    /// until pulled.
    ///
    /// An owned chunk (`bytes::Bytes`, `Vec<u8>`, `String`: see [`Chunk`]) is not copied:
    /// an event's fields that are one whole line of the chunk are views of it (or, up to 7
    /// bytes, held in the event itself: see [`Text`]). Borrowed
    /// bytes (`&[u8]`, `b"..."`) are copied once.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut decoder = sse_pump::Decoder::new();
    /// decoder.feed(b"data: a\r");
    /// decoder.feed(b"\n\n"); // CR, then LF in the next chunk: one line end
    /// assert_eq!(decoder.next_event()?.unwrap().data, "a");
    /// # Ok::<(), sse_pump::DecodeError>(())
    /// ```
    #[inline]
    pub fn feed(&mut self, chunk: impl Into<Chunk>) {
        self.input.push(chunk.into());
    }

    /// The next dispatched event, or `None` until more bytes are fed.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when a limit is broken. The decoder skips the offending line and
    /// event, so pulling again goes on with the next event.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut decoder = sse_pump::Decoder::new();
    /// decoder.feed(b": keep-alive\n\ndata: x\n\ndata: y");
    /// assert_eq!(decoder.next_event()?.unwrap().data, "x");
    /// assert_eq!(decoder.next_event()?, None); // `y` has no blank line yet
    /// # Ok::<(), sse_pump::DecodeError>(())
    /// ```
    #[inline(always)]
    pub fn next_event(&mut self) -> Result<Option<MessageEvent>, DecodeError> {
        self.pull()
    }

    /// The next [`Item`]: an event, or a comment or retry-only block that a browser would
    /// not surface. `None` until more bytes are fed.
    ///
    /// # Errors
    ///
    /// As [`next_event`](Decoder::next_event).
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Decoder, Item};
    /// let mut decoder = Decoder::new();
    /// decoder.feed(b":\n");
    /// assert_eq!(decoder.next_item()?, Some(Item::Comment("".into())));
    /// # Ok::<(), sse_pump::DecodeError>(())
    /// ```
    pub fn next_item(&mut self) -> Result<Option<Item>, DecodeError> {
        self.pull()
    }

    /// The next `T` from the chunks fed, moving on from chunk to chunk.
    #[inline(always)]
    pub(crate) fn pull<T: Sealed>(&mut self) -> Result<Option<T>, DecodeError> {
        loop {
            let (mut pos, mut ends) = (self.input.pos, self.input.ends);
            let next = self.parser.pull_from(&self.input, &mut pos, &mut ends);
            (self.input.pos, self.input.ends) = (pos, ends);
            match next {
                Ok(None) if self.input.advance() => continue,
                done => return done,
            }
        }
    }

    /// Ends the stream: WHATWG 9.2.6, "Once the end of the file is reached, any pending data
    /// must be discarded. (If the file ends in the middle of an event, before the final
    /// empty line, the incomplete event is not dispatched.)"
    ///
    /// The last event ID and the reconnection time are kept, and the decoder is ready for
    /// the next connection's stream (a new BOM is stripped again).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut decoder = sse_pump::Decoder::new();
    /// decoder.feed(b"id: 1\ndata: a\n\ndata: never finished");
    /// assert_eq!(decoder.next_event()?.unwrap().id, "1");
    /// decoder.finish();
    /// decoder.feed(b"data: b\n\n"); // a reconnection
    /// assert_eq!(decoder.next_event()?.unwrap().data, "b");
    /// assert_eq!(decoder.last_event_id(), "1");
    /// # Ok::<(), sse_pump::DecodeError>(())
    /// ```
    pub fn finish(&mut self) {
        self.input.clear();
        self.parser.lines.reset();
        self.parser.block.reset();
    }

    /// The reconnection time last set by a valid `retry:` field, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut decoder = sse_pump::Decoder::new();
    /// decoder.feed(b"retry: 2500\n");
    /// assert_eq!(decoder.next_event()?, None);
    /// assert_eq!(decoder.reconnection_time(), Some(std::time::Duration::from_millis(2500)));
    /// # Ok::<(), sse_pump::DecodeError>(())
    /// ```
    pub fn reconnection_time(&self) -> Option<Duration> {
        self.parser.block.retry
    }

    /// The last event ID string: the value to send as `Last-Event-ID` when reconnecting
    /// (when non-empty). It is updated at every blank line, dispatch or not.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut decoder = sse_pump::Decoder::new();
    /// decoder.feed(b"id: 42\n\n"); // no data: no event, but the ID is recorded
    /// assert_eq!(decoder.next_event()?, None);
    /// assert_eq!(decoder.last_event_id(), "42");
    /// # Ok::<(), sse_pump::DecodeError>(())
    /// ```
    pub fn last_event_id(&self) -> &str {
        &self.parser.block.last_id
    }

    /// Sets the last event ID, for example one saved before a restart.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut decoder = sse_pump::Decoder::new().with_last_event_id("41");
    /// decoder.feed(b"data: x\n\n");
    /// assert_eq!(decoder.next_event()?.unwrap().id, "41");
    /// # Ok::<(), sse_pump::DecodeError>(())
    /// ```
    pub fn with_last_event_id(mut self, id: impl Into<String>) -> Self {
        self.parser.block.last_id = Text::from(id.into());
        self.parser.block.id_buffer = self.parser.block.last_id.clone();
        self
    }
}

impl Parser {
    /// WHATWG 9.2.6: the steps for each line, up to the next `T` to return.
    #[inline(always)]
    fn pull_from<T: Sealed>(
        &mut self,
        input: &Input,
        pos: &mut usize,
        ends: &mut Ends,
    ) -> Result<Option<T>, DecodeError> {
        loop {
            let line = match self.lines.next(&input.bytes, pos, ends, self.max_line) {
                Next::Input(start, end) => {
                    let line = &input.bytes[start..end];
                    if let Some(event) = self.single_data_line(line, input, pos) {
                        return Ok(Some(T::event(event)));
                    }
                    if !self.block.skipping && data_value(line).is_some() {
                        self.data_lines(&input.bytes, (start, end), pos, ends)?;
                        continue;
                    }
                    line
                }
                Next::Carry => {
                    if self.adopt_huge_line()? {
                        continue;
                    }
                    &self.lines.carry[..]
                }
                Next::DataPart(start, end) => {
                    self.block.data_piece(&input.bytes[start..end]);
                    continue;
                }
                Next::DataEnd(start, end) => {
                    self.block.data_piece(&input.bytes[start..end]);
                    self.block.end_data_line(self.max_event)?;
                    continue;
                }
                Next::NeedMore => return Ok(None),
                Next::TooLong => return Err(self.line_too_long()),
            };
            // Returned as it is, not unwrapped and wrapped again: the event is large.
            match step(&mut self.block, line, input, self.max_event) {
                Ok(None) => continue,
                done => return done,
            }
        }
    }

    /// A line past the limit: its block is skipped. Out of line, so that the parsing loop
    /// stays as small as the common case needs.
    #[cold]
    #[inline(never)]
    fn line_too_long(&mut self) -> DecodeError {
        self.block.skip();
        DecodeError::LineTooLong {
            limit: self.max_line,
        }
    }

    /// Most events are one `data:` line and a blank line: dispatches such an event
    /// straight from the input, moving `pos` past its blank line.
    #[inline(always)]
    fn single_data_line(
        &mut self,
        line: &[u8],
        input: &Input,
        pos: &mut usize,
    ) -> Option<MessageEvent> {
        let (value, after) = (data_value(line)?, blank_line(&input.bytes, *pos)?);
        let event = self.block.dispatch_single(value, input, self.max_event)?;
        *pos = after;
        Some(event)
    }

    /// The `data:` line `bytes[start..end]` and the whole `data:` lines right after it in
    /// the chunk, appended to the data buffer in one loop rather than one trip each through
    /// the steps for a line (multi-line data: a tenth faster on ten 80-byte lines). Any
    /// other line, or one that [`Lines`] must see (too long, or a CR at the chunk's end), is
    /// left at `pos` for the usual way.
    #[inline]
    fn data_lines(
        &mut self,
        bytes: &[u8],
        (mut start, mut end): (usize, usize),
        pos: &mut usize,
        ends: &mut Ends,
    ) -> Result<(), DecodeError> {
        loop {
            let value = data_value(&bytes[start..end]).unwrap_or_default();
            // With its LF, when that is the line end: one copy for both.
            let lf = bytes[end] == b'\n';
            let value = &bytes[end - value.len()..end + usize::from(lf)];
            self.block.data_bytes(value, !lf, self.max_event)?;
            start = *pos;
            if !bytes[start..].starts_with(b"data:") {
                return Ok(());
            }
            match ends.find(bytes, start) {
                Some(at) if at - start <= self.max_line && at + 1 < bytes.len() => end = at,
                _ => return Ok(()),
            }
            *pos = match &bytes[end..end + 2] {
                b"\r\n" => end + 2,
                _ => end + 1,
            };
        }
    }

    /// A huge data line, gathered from many chunks: makes the carry buffer the data
    /// buffer, rather than copy it into fresh memory. Whether it did.
    #[inline]
    fn adopt_huge_line(&mut self) -> Result<bool, DecodeError> {
        Ok(self.lines.carry.len() > BIG_LINE
            && self.block.adopt(&mut self.lines.carry, self.max_event)?)
    }
}

/// The end of a blank line at `input[pos..]`, if one is there in full (a CR at the end of
/// the input may be the start of a CRLF: that is left to [`Lines`]).
#[inline]
fn blank_line(input: &[u8], pos: usize) -> Option<usize> {
    match input.get(pos..).unwrap_or_default() {
        [b'\n', ..] => Some(pos + 1),
        [b'\r', b'\n', ..] => Some(pos + 2),
        [b'\r', _, ..] => Some(pos + 1),
        _ => None,
    }
}

/// WHATWG 9.2.6 for one line that is not the fast path's: a blank line dispatches, a
/// comment is skipped (or returned, for items), any other line is a field. `None` when
/// there is nothing to return yet.
// Always inlined: a call returns its large `Option<MessageEvent>` through memory, which
// measured 8% more instructions per byte than the loop it came from.
#[inline(always)]
fn step<T: Sealed>(
    block: &mut Block,
    line: &[u8],
    input: &Input,
    max_event: usize,
) -> Result<Option<T>, DecodeError> {
    // "If the line is empty (a blank line): Dispatch the event."
    if line.is_empty() {
        return Ok(match block.dispatch() {
            Dispatch::Event => Some(T::event(block.take_event())),
            Dispatch::Retry(after) if T::ALL => T::other(Item::Retry(after)),
            _ => None,
        });
    }
    if block.skipping {
        return Ok(None);
    }
    // "If the line starts with a U+003A COLON character (:): Ignore the line."
    if line[0] == b':' {
        return Ok(if T::ALL {
            T::other(Item::Comment(input.text(strip_space(&line[1..]))))
        } else {
            None
        });
    }
    block.line(line, input, max_event)?;
    Ok(None)
}
