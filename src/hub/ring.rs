//! The ring: the last `history + capacity` encoded frames, each with where its log put it.

use std::{
    ops::Range,
    sync::{OnceLock, PoisonError, RwLock, RwLockReadGuard},
    time::Instant,
};

use bytes::Bytes;

use super::log::Position;

/// The last `history + capacity` frames: entry `seq` is in slot `seq % len`.
///
/// Each slot has its own lock, as in `tokio::sync::broadcast`: subscribers reading
/// different events never touch the same lock, and the publisher only ever locks the
/// oldest slot, which it overwrites.
///
/// The slots are allocated a chunk at a time (16 slots; 1,024 in a ring of more than
/// 1,024, where a few more kilobytes matter less than the cache), when an entry first goes
/// into one, so a
/// topic that was never published to costs a word per chunk, and one with a few events a
/// chunk, not `history + capacity` slots.
pub(super) struct Ring {
    chunks: Box<[OnceLock<Chunk>]>,
    len: usize,
    /// Slots per chunk, as a power of two.
    shift: u32,
}

/// Slots allocated together.
const CHUNK_SHIFT: u32 = 4;
/// Slots allocated together in a large ring.
const LARGE_CHUNK_SHIFT: u32 = 10;

/// A chunk of slots (fewer for the last chunk of a ring).
type Chunk = Box<[RwLock<Slot>]>;

/// What an empty ring's every slot reads as.
static EMPTY: RwLock<Slot> = RwLock::new(Slot {
    seq: u64::MAX,
    frame: Bytes::new(),
    kind: None,
    at: None,
    mark: Mark::Reset,
});

pub(super) struct Slot {
    /// The sequence number of the entry in the slot; `u64::MAX` while empty.
    pub(super) seq: u64,
    pub(super) frame: Bytes,
    /// Where the `event` value is in `frame`, if it has one.
    kind: Option<Range<usize>>,
    /// When it was published, if the history has a maximum age.
    pub(super) at: Option<Instant>,
    /// Where the log put it.
    pub(super) mark: Mark,
}

/// Where a ring entry came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mark {
    /// A new entry of the log.
    Logged(Position),
    /// An entry that was in the log when the hub started following it: replayable, not
    /// live.
    Backlog(Position),
    /// The log lost entries: delivered as `event: reset` to everyone.
    Reset,
}

impl Mark {
    pub(super) fn position(self) -> Option<Position> {
        match self {
            Mark::Logged(at) | Mark::Backlog(at) => Some(at),
            Mark::Reset => None,
        }
    }
}

impl Slot {
    pub(super) fn new(seq: u64, frame: Bytes, at: Option<Instant>, mark: Mark) -> Self {
        let kind = super::stamp::field(&frame, b"event:");
        Slot {
            seq,
            frame,
            kind,
            at,
            mark,
        }
    }

    /// The event type, as a browser sees it.
    pub(super) fn kind(&self) -> &str {
        let kind = self
            .kind
            .clone()
            .map_or(&b"message"[..], |at| &self.frame[at]);
        std::str::from_utf8(kind).unwrap_or("")
    }
}

impl Ring {
    /// `len` empty slots (allocated with the first entry).
    pub(super) fn new(len: usize) -> Self {
        let len = len.max(1);
        let shift = match len > 1 << LARGE_CHUNK_SHIFT {
            true => LARGE_CHUNK_SHIFT,
            false => CHUNK_SHIFT,
        };
        Ring {
            chunks: (0..len.div_ceil(1 << shift))
                .map(|_| OnceLock::new())
                .collect(),
            shift,
            len,
        }
    }

    /// The slot of entry `seq`, allocated now if it was not.
    fn slot(&self, seq: u64) -> &RwLock<Slot> {
        let index = (seq % self.len as u64) as usize;
        let empty = || RwLock::new(Slot::new(u64::MAX, Bytes::new(), None, Mark::Reset));
        let (at, shift) = (index >> self.shift, self.shift);
        let chunk = self.chunks[at].get_or_init(|| {
            let len = (1 << shift).min(self.len - (at << shift));
            (0..len).map(|_| empty()).collect()
        });
        &chunk[index & ((1 << shift) - 1)]
    }

    /// The oldest entry still held, when the next one to append is `tail`.
    pub(super) fn first(&self, tail: u64) -> u64 {
        tail.saturating_sub(self.len as u64)
    }

    /// Entry `seq`'s slot, locked for reading: check its `seq`, the entry may have been
    /// overwritten by a newer one.
    pub(super) fn get(&self, seq: u64) -> RwLockReadGuard<'_, Slot> {
        let index = (seq % self.len as u64) as usize;
        let slot = match self.chunks[index >> self.shift].get() {
            Some(chunk) => &chunk[index & ((1 << self.shift) - 1)],
            None => &EMPTY,
        };
        slot.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts `slot` in its place, and returns the one it replaces (to be dropped outside
    /// the lock: its frame may be the last reference).
    pub(super) fn put(&self, slot: Slot) -> Slot {
        let mut old = self
            .slot(slot.seq)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *old, slot)
    }

    /// Every slot, locked for writing (as a publisher overwriting it would).
    #[cfg(test)]
    pub(super) fn lock_all(&self) -> Vec<std::sync::RwLockWriteGuard<'_, Slot>> {
        (0..self.len as u64)
            .map(|seq| self.slot(seq))
            .map(|slot| slot.write().unwrap())
            .collect()
    }

    /// How many entries the ring holds when the next one to append is `tail`.
    pub(super) fn len(&self, tail: u64) -> usize {
        (tail - self.first(tail)) as usize
    }

    /// The sequence number of the entry at position `seen` among `seqs`, by binary
    /// search: positions grow along the ring (and no reset marker lies past the floor).
    pub(super) fn find(&self, seqs: Range<u64>, seen: Position) -> Option<u64> {
        let at = |seq: u64| self.get(seq).mark.position();
        let (mut low, mut high) = (seqs.start, seqs.end);
        while low < high {
            let middle = low + (high - low) / 2;
            if at(middle) < Some(seen) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        (low < seqs.end && at(low) == Some(seen)).then_some(low)
    }
}

/// What a subscriber does with the entry at its cursor.
pub(super) enum Admit {
    /// Deliver it (if the filter agrees).
    Pass,
    /// Count it as read, deliver nothing.
    Skip,
    /// Deliver `event: reset` first, then look at the entry again.
    ResetFirst,
}

/// Decides about an entry with `mark`, for a subscriber `ahead` of this process (or not),
/// reading `live` entries (past its replay).
pub(super) fn admit(mark: Mark, ahead: &mut Option<Box<Position>>, live: bool) -> Admit {
    let Some(at) = mark.position() else {
        *ahead = None;
        return Admit::Pass;
    };
    match ahead.as_deref().copied() {
        Some(seen) if at < seen => Admit::Skip,
        Some(seen) if at == seen => {
            *ahead = None; // the seam: what follows is new to the client
            Admit::Skip
        }
        Some(_) => {
            *ahead = None; // its id was not in the log
            Admit::ResetFirst
        }
        None if live && matches!(mark, Mark::Backlog(_)) => Admit::Skip,
        None => Admit::Pass,
    }
}
