//! The bytes fed and not parsed yet: the chunk being parsed, the part of it that is valid
//! UTF-8, and the chunks fed after it.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, OnceLock},
};

use bytes::Bytes;
use bytestring::ByteString;

use super::{lines::Ends, Chunk, Text};

/// The decoder's input. Lines are parsed in place in `bytes`; the fields of a line that
/// lies whole in `text` become views of it, with no copy and no UTF-8 check of their own.
#[derive(Default)]
pub(super) struct Input {
    /// The chunk being parsed, from `pos` on.
    pub(super) bytes: Bytes,
    pub(super) pos: usize,
    /// Where the line ends of `bytes` are, around `pos`.
    pub(super) ends: Ends,
    /// The longest prefix of `bytes` that is valid UTF-8, checked once for the whole chunk
    /// when the first view of it is made (a field is at most a line, and lines end at
    /// ASCII bytes, so a field inside the prefix is valid UTF-8 too). The same memory as
    /// `bytes`; in an `Arc`, which views clone inline.
    /// (`OnceLock` and `Mutex` rather than their `Cell` kin keep the decoder `Sync`; each
    /// costs an uncontended atomic once per chunk.)
    text: OnceLock<Arc<ByteString>>,
    /// The last chunk's `Arc`, to reuse, once no view of it was left.
    spare: Mutex<Option<Arc<ByteString>>>,
    /// Chunks fed while `bytes` was not parsed to its end yet.
    queue: VecDeque<Bytes>,
}

impl Input {
    /// Appends a chunk.
    #[inline(always)]
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
                self.start(Bytes::new());
                false
            }
        }
    }

    /// Forgets every byte fed.
    pub(super) fn clear(&mut self) {
        self.queue.clear();
        self.bytes = Bytes::new();
        self.let_text_go();
        self.pos = 0;
        self.ends = Ends::default();
    }

    #[inline(always)]
    fn start(&mut self, chunk: Bytes) {
        self.let_text_go();
        self.bytes = chunk;
        self.pos = 0;
        self.ends = Ends::default();
    }

    /// Lets the text of the chunk go, keeping its `Arc` for the next chunk if no view of it
    /// is left.
    #[inline]
    fn let_text_go(&mut self) {
        if let Some(mut text) = self.text.take() {
            if let Some(slot) = Arc::get_mut(&mut text) {
                *slot = ByteString::new();
                *self.spare.get_mut().unwrap_or_else(|e| e.into_inner()) = Some(text);
            }
        }
    }

    /// The chunk's valid prefix, checked on first use.
    #[inline]
    fn chunk_text(&self) -> &Arc<ByteString> {
        self.text.get_or_init(|| {
            let text = valid_prefix(&self.bytes);
            let spare = self.spare.lock().map(|mut spare| spare.take());
            match spare.unwrap_or_default() {
                Some(mut spare) => match Arc::get_mut(&mut spare) {
                    Some(slot) => {
                        *slot = text;
                        spare
                    }
                    None => Arc::new(text),
                },
                None => Arc::new(text),
            }
        })
    }

    /// `value`, a field of a line, as text: held inline when short, a view of the chunk
    /// when it lies in the valid prefix (any line of the input does, unless the chunk holds
    /// invalid UTF-8 or ends in the middle of a character), else a copy (a line gathered
    /// from several chunks).
    // Always inlined: a call returns the 16-byte `Text` through memory, and reading it back
    // whole stalls (perf: a quarter of `Block::field` on mix b).
    #[inline(always)]
    pub(super) fn text(&self, value: &[u8]) -> Text {
        // A short value (a numeric ID) costs no view: no check of the whole chunk, and no
        // hold on it, so that its `Arc` is reused for the next chunk.
        if let Some(short) = short_text(value) {
            return short;
        }
        let at = (value.as_ptr() as usize).wrapping_sub(self.bytes.as_ptr() as usize);
        if at <= self.bytes.len() && value.len() <= self.bytes.len() - at {
            let text = self.chunk_text();
            if value.len() <= text.len().saturating_sub(at) {
                if let Some(view) = Text::view(text, at, value.len()) {
                    return view;
                }
            }
        }
        Text::copy(value)
    }
}

/// `value` held inline in a [`Text`], if it is short and valid UTF-8.
#[inline(always)]
fn short_text(value: &[u8]) -> Option<Text> {
    if value.len() > 7 {
        return None;
    }
    // ASCII (a numeric ID) is checked in line; anything else by the standard check.
    if !value.is_ascii() {
        std::str::from_utf8(value).ok()?;
    }
    Text::inline_bytes(value)
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
