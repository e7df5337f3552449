//! The setters' one implementation: how each field of an event is checked and written,
//! for [`Event`](super::Event) (its own buffer), [`EventWriter`](super::EventWriter) (a
//! caller's buffer) and [`Batch`](super::Batch) (the batch's buffer). Each of them only
//! says where the bytes go and what a refused field does.

use std::time::Duration;

use super::{
    encode::{self, Out},
    error::FieldError,
};

/// An event being written: where its field lines go, and what a refused field does.
pub(crate) trait Fields {
    /// The buffer the lines go into.
    type Out: Out;

    /// The buffer, with room for `room` more bytes, or `None` if nothing more is written
    /// (a field was refused and the event was taken back out).
    fn room(&mut self, room: usize) -> Option<&mut Self::Out>;

    /// [`Fields::room`] for a field that usually comes before others (`id`, `event`,
    /// `retry`), where the first allocation can leave room for the rest.
    #[inline(always)]
    fn leading_room(&mut self, room: usize) -> Option<&mut Self::Out> {
        self.room(room)
    }

    /// Records the first field refused.
    fn refuse(&mut self, error: FieldError);

    /// Whether the buffer takes `room` more bytes without allocating (for the block loop
    /// of `encode::put_lines`, which zero-fills its room first).
    #[inline(always)]
    fn fuses(&mut self, room: usize) -> bool {
        let _ = room;
        true
    }

    /// One `data:` line per line of `value`.
    #[inline(always)]
    fn put_data(&mut self, value: &str) {
        self.put_lines(encode::DATA, value.as_bytes());
    }

    /// One `:` line per line of `text`.
    #[inline(always)]
    fn put_comment(&mut self, text: &str) {
        self.put_lines(encode::COMMENT, text.as_bytes());
    }

    /// `event: name`, refused if it holds a CR or LF.
    #[inline(always)]
    fn put_event(&mut self, name: &str) {
        self.put_single("event", b"event: ", name, false);
    }

    /// `id: value`, refused if it holds a CR, LF or NUL.
    #[inline(always)]
    fn put_id(&mut self, id: &str) {
        self.put_single("id", b"id: ", id, true);
    }

    /// `retry: <milliseconds>`.
    #[inline(always)]
    fn put_retry(&mut self, after: Duration) {
        let mut digits = [0; 39];
        self.put_line(b"retry: ", encode::decimal(after.as_millis(), &mut digits));
    }

    /// `value` as compact JSON on one `data:` line; refused if it cannot be serialized.
    #[cfg(feature = "json")]
    fn put_json<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        let Some(out) = self.room(b"data: ".len() + encode::CLOSING) else {
            return;
        };
        if let Err(e) = encode::put_json(out, value) {
            self.refuse(FieldError::Json(std::sync::Arc::new(e)));
        }
    }

    /// One field line for every line of `value`; `joined` is a line end and the field's
    /// prefix.
    #[inline(always)]
    fn put_lines<const N: usize>(&mut self, joined: &[u8; N], value: &[u8]) {
        let (plan, room) = encode::Plan::of(N - 1, value, |room| self.fuses(room));
        if let Some(out) = self.room(room) {
            encode::put_lines(out, joined, value, plan);
        }
    }

    /// `prefix value` on one line, unless `value` has a byte that would start a line (or,
    /// with `nul`, a NUL): then the field is refused.
    #[inline(always)]
    fn put_single(&mut self, field: &'static str, prefix: &[u8], value: &str, nul: bool) {
        match encode::forbidden_byte(value.as_bytes(), nul) {
            Some(byte) => self.refuse(FieldError::InvalidByte { field, byte }),
            None => self.put_line(prefix, value.as_bytes()),
        }
    }

    /// `prefix value`; `value` holds no CR or LF.
    #[inline(always)]
    fn put_line(&mut self, prefix: &[u8], value: &[u8]) {
        let room = encode::line_len(prefix, value.len()) + encode::CLOSING;
        if let Some(out) = self.leading_room(room) {
            encode::write_line(out, prefix, value);
        }
    }
}
