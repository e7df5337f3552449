//! The block (event) being read: WHATWG HTML 9.2.6, "process the field" and "dispatch the
//! event".

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::{input::Input, DecodeError, MessageEvent, Text};

/// The most capacity the data buffer keeps between events: a rare huge event should not
/// pin its memory for the life of the stream.
const KEEP_CAPACITY: usize = 64 << 10;
/// The size of the arena's blocks that events' gathered data is copied to.
const ARENA_BLOCK: usize = 8 << 10;

/// The buffers of the block (event) being read, and the stream's state.
#[derive(Debug, Default)]
pub(super) struct Block {
    /// The data buffer (raw bytes; decoded once, at dispatch, into the event's string).
    /// Also an arena: each event's data is split off it without a copy, the events share
    /// its blocks, and it takes a block back once they are all dropped.
    data: BytesMut,
    /// The event type buffer.
    event_type: Vec<u8>,
    /// The last event type other than `message`, reused while the server repeats it.
    last_type: Text,
    /// The last event ID buffer (held inline when short, else a view of the input when the
    /// `id:` line was in one chunk), and whether a field changed it since the last dispatch.
    pub(super) id_buffer: Text,
    id_changed: bool,
    /// The event source's last event ID string, updated at every blank line.
    pub(super) last_id: Text,
    /// The reconnection time, and whether this block set it.
    pub(super) retry: Option<Duration>,
    block_retry: Option<Duration>,
    /// The block broke a limit: ignore its fields up to the next blank line.
    pub(super) skipping: bool,
    /// The longest `id:` value kept (none by default: events share the last event ID).
    pub(super) max_id: usize,
}

impl Block {
    /// An empty block that keeps IDs up to `max_id` bytes.
    pub(super) fn new(max_id: usize) -> Self {
        Block {
            max_id,
            ..Block::default()
        }
    }

    /// Processes a line that is neither blank nor a comment (WHATWG 9.2.6).
    #[inline]
    pub(super) fn line(
        &mut self,
        line: &[u8],
        input: &Input,
        max_event: usize,
    ) -> Result<(), DecodeError> {
        // "If the line contains a U+003A COLON character (:): Collect the characters on the
        // line before the first U+003A COLON character (:), and let field be that string.
        // Collect the characters on the line after the first U+003A COLON character (:), and
        // let value be that string. If value starts with a U+0020 SPACE character, remove it
        // from value." "Otherwise, the string is not empty but does not contain a U+003A
        // COLON character (:): Process the field using the whole line as the field name,
        // and the empty string as the field value."
        // Most lines are data lines: skip the search for the colon and the name match.
        if let Some(value) = data_value(line) {
            return self.data_line(value, max_event);
        }
        let (name, value) = match colon(line) {
            Some(at) => (&line[..at], strip_space(&line[at + 1..])),
            None => (line, &b""[..]),
        };
        self.field(name, value, input, max_event)
    }

    /// "Process the field": the steps switch on the field name, case-sensitively.
    pub(super) fn field(
        &mut self,
        name: &[u8],
        value: &[u8],
        input: &Input,
        max_event: usize,
    ) -> Result<(), DecodeError> {
        match name {
            // "If the field name is "data": Append the field value to the data buffer,
            // then append a single U+000A LINE FEED (LF) character to the data buffer."
            b"data" => self.data_line(value, max_event)?,
            // "If the field name is "event": Set the event type buffer to field value."
            b"event" => {
                self.event_type.clear();
                self.check_size(value.len(), max_event)?;
                self.event_type.extend_from_slice(value);
            }
            // "If the field name is "id": If the field value does not contain U+0000 NULL,
            // then set the last event ID buffer to the field value. Otherwise, ignore the
            // field."
            // (`contains`, not `memchr`: IDs are short, and its dispatch costs more.)
            b"id" if !value.contains(&0) => {
                if value.len() > self.max_id {
                    self.skip();
                    return Err(DecodeError::IdTooLong { limit: self.max_id });
                }
                // Swapped in, the old one dropped after: assigned, the new one would wait on
                // the stack through the drop and be read back whole (a stall, perf showed).
                drop(std::mem::replace(&mut self.id_buffer, input.text(value)));
                self.id_changed = true;
            }
            // "If the field name is "retry": If the field value consists of only ASCII
            // digits, then interpret the field value as an integer in base ten, and set the
            // event stream's reconnection time to that integer. Otherwise, ignore the field."
            b"retry" => {
                if let Some(ms) = digits(value) {
                    self.retry = Some(Duration::from_millis(ms));
                    self.block_retry = self.retry;
                }
            }
            // "Otherwise: The field is ignored."
            _ => {}
        }
        Ok(())
    }

    /// "Append the field value to the data buffer, then append a single U+000A LINE FEED
    /// (LF) character to the data buffer."
    #[inline]
    fn data_line(&mut self, value: &[u8], max_event: usize) -> Result<(), DecodeError> {
        self.data_bytes(value, true, max_event)
    }

    /// Appends `value` of a `data:` line, then an LF if `lf` (a `value` that already ends in
    /// its line's LF comes with `lf` false).
    #[inline]
    pub(super) fn data_bytes(
        &mut self,
        value: &[u8],
        lf: bool,
        max_event: usize,
    ) -> Result<(), DecodeError> {
        let extra = value.len() + usize::from(lf);
        self.check_size(extra, max_event)?;
        // One reservation for both, so that a huge line is not followed by a doubling.
        self.reserve(extra);
        self.data.extend_from_slice(value);
        if lf {
            self.data.extend_from_slice(b"\n");
        }
        Ok(())
    }

    /// Appends a piece of the value of a `data:` line that spans chunks, unless the block
    /// is being skipped. The size limit is checked at the line's end, as for a whole line,
    /// so that the same input gives the same errors however it is chunked (the line
    /// length limit bounds the pieces meanwhile).
    #[inline]
    pub(super) fn data_piece(&mut self, piece: &[u8]) {
        if !self.skipping {
            self.reserve(piece.len());
            self.data.extend_from_slice(piece);
        }
    }

    /// The end of a `data:` line given in pieces: its LF, and the size limit.
    #[inline]
    pub(super) fn end_data_line(&mut self, max_event: usize) -> Result<(), DecodeError> {
        if self.skipping {
            return Ok(());
        }
        self.data_bytes(b"", true, max_event)
    }

    /// Room for `extra` more bytes of data.
    #[inline]
    fn reserve(&mut self, extra: usize) {
        if self.data.capacity() - self.data.len() < extra {
            // A block at a time: taken back whole once its events are dropped, or left to
            // them and replaced. At least doubling, so a huge event costs linear time.
            self.data
                .reserve(extra.max(ARENA_BLOCK).max(self.data.len()));
        }
    }

    /// Takes a complete `data:` line that is the block's first (a huge one, gathered in
    /// `line` from many chunks) as the data buffer itself: the value is moved to the front
    /// in place, and `line` is left empty. Returns false (nothing done)
    /// for any other line, which the caller then processes as usual.
    pub(super) fn adopt(
        &mut self,
        line: &mut Vec<u8>,
        max_event: usize,
    ) -> Result<bool, DecodeError> {
        let Some(value) = data_value(line) else {
            return Ok(false);
        };
        if !self.awaits_first_data() {
            return Ok(false);
        }
        self.check_size(value.len() + 1, max_event)?;
        let start = line.len() - value.len();
        line.drain(..start);
        line.push(b'\n');
        self.data = BytesMut::from(Bytes::from(std::mem::take(line)));
        Ok(true)
    }

    /// Whether the block can take a first data line: it has no data yet and is not being
    /// skipped.
    fn awaits_first_data(&self) -> bool {
        self.data.is_empty() && !self.skipping
    }

    /// Whether `extra` more bytes keep the block within the size limit.
    #[inline]
    fn fits(&self, extra: usize, max_event: usize) -> bool {
        self.data.len() + self.event_type.len() + extra <= max_event
    }

    /// Fails, and skips the rest of the block, if `extra` more bytes break the limit.
    #[inline]
    pub(super) fn check_size(&mut self, extra: usize, max_event: usize) -> Result<(), DecodeError> {
        if !self.fits(extra, max_event) {
            self.skip();
            return Err(DecodeError::EventTooLarge { limit: max_event });
        }
        Ok(())
    }

    /// Drops the block being read and ignores its fields up to the next blank line.
    pub(super) fn skip(&mut self) {
        self.clear_data();
        self.event_type.clear();
        self.block_retry = None;
        self.skipping = true;
    }

    /// "Dispatch the event" (WHATWG 9.2.6), at a blank line: steps 1 and 2. On
    /// [`Dispatch::Event`], [`Block::take_event`] does the rest.
    #[inline]
    pub(super) fn dispatch(&mut self) -> Dispatch {
        self.skipping = false;
        // "1. Set the last event ID string of the event source to the value of the last
        // event ID buffer. The buffer does not get reset, so the last event ID string of the
        // event source remains set to this value until the next time it is set by the
        // server."
        self.set_last_id();
        // "2. If the data buffer is an empty string, set the data buffer and the event type
        // buffer to the empty string and return."
        if self.data.is_empty() {
            self.event_type.clear();
            return match self.block_retry.take() {
                Some(after) => Dispatch::Retry(after),
                None => Dispatch::Nothing,
            };
        }
        Dispatch::Event
    }

    /// Step 1 of "dispatch the event".
    #[inline]
    fn set_last_id(&mut self) {
        if std::mem::take(&mut self.id_changed) {
            drop(std::mem::replace(&mut self.last_id, self.id_buffer.clone()));
        }
    }

    /// A blank line right after the block's first and only `data:` line, whose `value` is
    /// still in the input: the whole dispatch, without copying the value into the data
    /// buffer first. `None` (nothing done) if the block is not in that state or the value
    /// breaks the size limit; the caller then takes the usual way, which reports it.
    #[inline(always)]
    pub(super) fn dispatch_single(
        &mut self,
        value: &[u8],
        input: &Input,
        max_event: usize,
    ) -> Option<MessageEvent> {
        if !self.awaits_first_data() || !self.fits(value.len() + 1, max_event) {
            return None;
        }
        self.set_last_id();
        Some(self.finish(input.text(value)))
    }

    /// The event of a dispatch with data (steps 3 to 6), leaving the buffers empty.
    #[inline(always)]
    pub(super) fn take_event(&mut self) -> MessageEvent {
        // "3. If the data buffer's last character is a U+000A LINE FEED (LF) character,
        // then remove the last character from the data buffer."
        self.data.truncate(self.data.len() - 1);
        // Split off, not copied (which would cost page faults on multi-megabyte events).
        let data = Text::split_off(&mut self.data);
        self.finish(data)
    }

    /// Steps 5 and 6 of "dispatch the event", with the data.
    #[inline(always)]
    fn finish(&mut self, data: Text) -> MessageEvent {
        // "5. [...] Initialize event's type attribute to "message" [...] 6. If the event
        // type buffer has a value other than the empty string, change the type of the newly
        // created event to equal the value of the event type buffer."
        let event = match &self.event_type[..] {
            b"" => Text::MESSAGE,
            name if name == self.last_type.bytes() => self.last_type.clone(),
            name => {
                self.last_type = Text::copy(name);
                self.last_type.clone()
            }
        };
        self.event_type.clear();
        MessageEvent {
            event,
            data,
            id: self.last_id.clone(),
            retry: self.block_retry.take(),
        }
    }

    /// Empties the data buffer, and lets a huge one go.
    fn clear_data(&mut self) {
        if self.data.capacity() > KEEP_CAPACITY {
            self.data = BytesMut::new();
        }
        self.data.clear();
    }

    /// Forgets the unfinished block at the end of a stream; keeps the ID and retry.
    pub(super) fn reset(&mut self) {
        self.clear_data();
        self.event_type.clear();
        self.block_retry = None;
        self.skipping = false;
        self.id_changed = false;
        self.id_buffer = self.last_id.clone();
    }
}

/// What a blank line did.
pub(super) enum Dispatch {
    /// Nothing to report.
    Nothing,
    /// A block without data set the reconnection time.
    Retry(Duration),
    /// An event is ready: take it with [`Block::take_event`].
    Event,
}

/// The first colon. Field names are short: a plain loop over the first bytes finds it
/// sooner than a vectorised search would start.
#[inline]
fn colon(line: &[u8]) -> Option<usize> {
    let head = &line[..line.len().min(8)];
    match head.iter().position(|&b| b == b':') {
        None if line.len() > 8 => memchr::memchr(b':', &line[8..]).map(|at| at + 8),
        found => found,
    }
}

/// The value of a `data:` line, its one leading space removed; `None` for any other line.
#[inline]
pub(super) fn data_value(line: &[u8]) -> Option<&[u8]> {
    line.strip_prefix(b"data:").map(strip_space)
}

/// "If value starts with a U+0020 SPACE character, remove it from value."
pub(super) fn strip_space(value: &[u8]) -> &[u8] {
    match value {
        [b' ', rest @ ..] => rest,
        _ => value,
    }
}

/// A non-empty run of ASCII digits as an integer, saturating rather than overflowing.
fn digits(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let add = |n: u64, d: &u8| n.saturating_mul(10).saturating_add(u64::from(d - b'0'));
    Some(value.iter().fold(0, add))
}
