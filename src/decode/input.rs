//! The bytes fed and not parsed yet: the chunk being parsed, the part of it that is valid
//! UTF-8, and the chunks fed after it.

use std::{collections::VecDeque, sync::Arc};

use bytes::Bytes;
use bytestring::ByteString;

use super::{Chunk, Text};

/// The decoder's input. Lines are parsed in place in `bytes`; the fields of a line that
/// lies whole in `text` become views of it, with no copy and no UTF-8 check of their own.
#[derive(Default)]
pub(super) struct Input {
    /// The chunk being parsed, from `pos` on.
    pub(super) bytes: Bytes,
    pub(super) pos: usize,
    /// The longest prefix of `bytes` that is valid UTF-8, checked once for the whole chunk
    /// (a field is at most a line, and lines end at ASCII bytes, so a field inside the
    /// prefix is valid UTF-8 too). The same memory as `bytes`; in an `Arc`, which views
    /// clone inline. `None` once `bytes` is parsed.
    text: Option<Arc<ByteString>>,
    /// Chunks fed while `bytes` was not parsed to its end yet.
    queue: VecDeque<Bytes>,
}

impl Input {
    /// Appends a chunk.
    #[inline]
    pub(super) fn push(&mut self, chunk: Chunk) {
        if self.pos >= self.bytes.len() && self.queue.is_empty() {
            self.start(chunk.0);
        } else {
            self.queue.push_back(chunk.0);
        }
    }

    /// Moves on to the next chunk, once `bytes` is parsed to its end; false when no chunk
    /// is left (then the parsed one is let go, so that its memory can be reused).
    #[inline]
    pub(super) fn advance(&mut self) -> bool {
        match self.queue.pop_front() {
            Some(chunk) => {
                self.start(chunk);
                true
            }
            None => {
                self.clear();
                false
            }
        }
    }

    /// Forgets every byte fed.
    pub(super) fn clear(&mut self) {
        self.queue.clear();
        self.bytes = Bytes::new();
        self.text = None;
        self.pos = 0;
    }

    #[inline]
    fn start(&mut self, chunk: Bytes) {
        self.text = Some(Arc::new(valid_prefix(&chunk)));
        self.bytes = chunk;
        self.pos = 0;
    }

    /// `value`, a field of a line, as text: a view of the chunk when it lies in the valid
    /// prefix (any line of the input does, unless the chunk holds invalid UTF-8 or ends in
    /// the middle of a character), else a copy (a line gathered from several chunks).
    #[inline]
    pub(super) fn text(&self, value: &[u8]) -> Text {
        if let Some(text) = &self.text {
            let at = (value.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
            if at <= text.len() && value.len() <= text.len() - at {
                if let Some(view) = Text::view(text, at, value.len()) {
                    return view;
                }
            }
        }
        Text::copy(value)
    }
}

/// The longest prefix of `chunk` that is valid UTF-8. The second check is only for a chunk
/// that is not all valid: one that ends inside a character, or holds invalid bytes.
fn valid_prefix(chunk: &Bytes) -> ByteString {
    match ByteString::try_from(chunk.clone()) {
        Ok(text) => text,
        Err(e) => ByteString::try_from(chunk.slice(..e.valid_up_to())).unwrap_or_default(),
    }
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("unparsed", &(self.bytes.len() - self.pos))
            .field("queued_chunks", &self.queue.len())
            .finish()
    }
}
