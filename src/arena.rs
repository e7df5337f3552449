//! A per-thread arena that event buffers are carved from.
//!
//! Giving every event its own allocation costs a `malloc` and a `free` per event, as much
//! as encoding a short event. Instead each thread keeps one chunk, and each event's buffer
//! is a region of it: [`BytesMut::split_off`] shares the chunk's one allocation through a
//! reference count, so carving a region, and later freezing it into `Bytes`, allocate
//! nothing. The chunk is freed when the last region carved from it is dropped.

use std::cell::RefCell;

use bytes::BytesMut;

/// The size of each thread's chunk. Any region keeps its whole chunk alive, so one
/// long-lived event pins this much memory; 16 KiB keeps that small while a chunk still
/// serves dozens of typical events (hundreds of short ones).
const CHUNK: usize = 16 * 1024;

/// Regions larger than this get an allocation of their own: carving them would leave a
/// large part of a chunk unused, and their copy costs more than an allocation anyway.
const LARGE: usize = CHUNK / 4;

thread_local! {
    /// The unused rest of this thread's current chunk.
    static ARENA: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// An empty buffer with room for exactly `len` bytes.
#[inline]
pub(crate) fn region(len: usize) -> BytesMut {
    if len > LARGE {
        return BytesMut::with_capacity(len);
    }
    // `try_with` fails only while the thread is exiting (an event built in a destructor).
    ARENA
        .try_with(|arena| carve(&mut arena.borrow_mut(), len))
        .unwrap_or_else(|_| BytesMut::with_capacity(len))
}

/// Splits the first `len` bytes of room off `arena`, starting a new chunk if it is short.
#[inline]
fn carve(arena: &mut BytesMut, len: usize) -> BytesMut {
    if arena.capacity() < len {
        // The short rest of the old chunk is dropped: at most `LARGE` bytes go unused.
        *arena = BytesMut::with_capacity(CHUNK);
    }
    let rest = arena.split_off(len);
    std::mem::replace(arena, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_share_a_chunk_and_do_not_overlap() {
        let mut a = region(8);
        let mut b = region(8);
        assert_eq!((a.capacity(), b.capacity()), (8, 8));
        a.extend_from_slice(b"aaaaaaaa");
        b.extend_from_slice(b"bbbbbbbb");
        assert_eq!(&a.freeze()[..], b"aaaaaaaa");
        assert_eq!(&b.freeze()[..], b"bbbbbbbb");
        assert_eq!(region(LARGE + 1).capacity(), LARGE + 1);
    }
}
