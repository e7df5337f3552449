//! One spare event buffer per thread, so that a producer sending events one by one
//! allocates none.
//!
//! An event sent while its stream is busy is copied onto the last queued message (see
//! `deliver::queue`), on the sending thread; its buffer then comes back here, and the next
//! event built on that thread takes it. Without it, every such event cost an allocation
//! and a free (a third of its cost, callgrind on `benches/encode_best.rs`).

use std::cell::Cell;

thread_local! {
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The largest buffer kept: one event of a few KiB; a larger one is freed.
const KEPT: usize = 4 * 1024;

/// This thread's spare buffer (empty), or an empty `Vec` with no room.
#[inline]
pub(crate) fn take() -> Vec<u8> {
    SPARE.try_with(Cell::take).unwrap_or_default()
}

/// Keeps `buf` as this thread's spare buffer, if it is not too large (the one kept
/// before, if any, is freed: the thread's last event is the likeliest size of its next).
#[inline]
pub(crate) fn give(mut buf: Vec<u8>) {
    if buf.capacity() > KEPT {
        return;
    }
    buf.clear();
    // During the thread's teardown the slot is gone: the buffer is simply freed.
    let _ = SPARE.try_with(|spare| spare.replace(buf));
}

#[cfg(test)]
mod tests {
    use super::{give, take, KEPT};
    use crate::wire::Event;

    /// The next event built on the thread takes the buffer given back, and its bytes are
    /// its own only.
    #[test]
    fn a_spare_buffer_brings_no_old_bytes() {
        give(b"data: old\n".to_vec());
        let event = Event::new().data("new").id("7");
        assert_eq!(event.into_bytes(), "data: new\nid: 7\n\n");
        assert_eq!(take().capacity(), 0, "the event took the spare buffer");
    }

    /// A thread keeps one buffer of a few KiB at most.
    #[test]
    fn a_large_buffer_is_not_kept() {
        give(Vec::with_capacity(KEPT + 1));
        assert_eq!(take().capacity(), 0);
        give(Vec::with_capacity(64));
        assert!(take().capacity() >= 64);
    }
}
