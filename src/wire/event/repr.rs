//! How an [`Event`](super::Event) holds its bytes, in 32 bytes.
//!
//! Every queued event takes a channel slot of its own size plus a word, so its size is part
//! of each stream's idle memory. `Bytes` leaves room for just one other variant beside it,
//! so the few events that carry more than their bytes (a refused field) keep it in a box
//! inside that variant.

use bytes::{Bytes, BytesMut};

use crate::wire::{error::FieldError, spare};

#[derive(Clone)]
pub(super) enum Repr {
    /// The whole frame, closing blank line included.
    Frozen(Bytes),
    Open(Open),
}

#[derive(Clone)]
pub(super) enum Open {
    /// Lines so far, without the closing blank line, with room for at least that line.
    /// A `Vec` rather than a `BytesMut`: when it is full, it freezes into `Bytes` with no
    /// allocation and no atomic reference count at all.
    Lines(Vec<u8>),
    Marked(Box<Marked>),
}

/// An event that carries more than its bytes.
#[derive(Clone)]
pub(super) struct Marked {
    /// Never `Marked` itself.
    repr: Repr,
    extra: Extra,
}

/// What few events carry besides their bytes.
#[derive(Clone)]
pub(super) enum Extra {
    /// The first field refused.
    Refused(FieldError),
}

impl Repr {
    pub(super) fn marked(repr: Repr, extra: Extra) -> Self {
        debug_assert!(repr.extra().is_none());
        Repr::Open(Open::Marked(Box::new(Marked { repr, extra })))
    }

    pub(super) fn extra(&self) -> Option<&Extra> {
        match self {
            Repr::Open(Open::Marked(marked)) => Some(&marked.extra),
            _ => None,
        }
    }

    /// The lines so far, as a `Vec` with room for `room` more bytes (a frozen frame is
    /// copied back into one, with that room).
    #[inline(always)]
    pub(super) fn lines_mut(&mut self, room: usize, first: usize) -> &mut Vec<u8> {
        let fits = matches!(self, Repr::Open(Open::Lines(lines)) if lines.capacity() - lines.len() >= room);
        if !fits {
            return self.grow(room, first);
        }
        match self {
            Repr::Open(Open::Lines(lines)) => lines,
            other => other.grow(room, first),
        }
    }

    /// [`Repr::lines_mut`] short of room: out of line, so that the setters' common path
    /// stays small. A new event takes this thread's spare buffer (see `wire::spare`) or
    /// allocates at least `first` bytes; later growth is exact, so that an event whose
    /// only setter was `data` is full and freezes into `Bytes` without a second allocation.
    #[inline(never)]
    fn grow(&mut self, room: usize, first: usize) -> &mut Vec<u8> {
        if let Repr::Frozen(frame) = self {
            let frame = &frame[..frame.len().saturating_sub(1)];
            let mut lines = Vec::with_capacity(frame.len() + room);
            lines.extend_from_slice(frame);
            *self = Repr::Open(Open::Lines(lines));
        }
        match self {
            Repr::Open(Open::Lines(lines)) => {
                if lines.capacity() == 0 {
                    *lines = spare::take();
                    if lines.capacity() < room {
                        lines.reserve_exact(room.max(first));
                    }
                }
                lines.reserve_exact(room);
                lines
            }
            Repr::Open(Open::Marked(marked)) => marked.repr.lines_mut(room, first),
            Repr::Frozen(_) => unreachable!("thawed above"),
        }
    }

    /// Whether the lines have room for `room` more bytes without allocating. A new event
    /// has none: its first allocation (or this thread's spare buffer, see `wire::spare`)
    /// comes in [`Repr::grow`], sized for the path this answer chose.
    pub(super) fn has_room(&self, room: usize) -> bool {
        match self {
            Repr::Open(Open::Lines(lines)) => lines.capacity() - lines.len() >= room,
            _ => false,
        }
    }

    /// Gives an open event's buffer, its bytes copied elsewhere, to the next event built
    /// on this thread.
    #[inline]
    pub(super) fn recycle(self) {
        if let Repr::Open(Open::Lines(lines)) = self {
            spare::give(lines);
        }
    }

    /// The lines, without the closing blank line.
    #[inline]
    pub(super) fn lines(&self) -> &[u8] {
        match self {
            Repr::Frozen(frame) => &frame[..frame.len().saturating_sub(1)],
            Repr::Open(Open::Lines(lines)) => lines,
            Repr::Open(Open::Marked(marked)) => marked.lines(),
        }
    }

    /// The whole frame, closing blank line included.
    #[inline]
    pub(super) fn into_bytes(self) -> Bytes {
        match self {
            Repr::Frozen(frame) => frame,
            Repr::Open(Open::Lines(mut lines)) => {
                lines.push(b'\n');
                Bytes::from(lines)
            }
            Repr::Open(Open::Marked(marked)) => (*marked).into_bytes(),
        }
    }

    /// The same event with its bytes frozen, so that clones share them.
    pub(super) fn freeze(self) -> Self {
        match self {
            Repr::Open(Open::Marked(mut marked)) => {
                marked.repr = Repr::Frozen(marked.repr.into_bytes());
                Repr::Open(Open::Marked(marked))
            }
            repr => Repr::Frozen(repr.into_bytes()),
        }
    }

    /// Appends the whole frame to `buf`, closing blank line included.
    #[inline]
    pub(super) fn encode_into(self, buf: &mut BytesMut) {
        match self {
            Repr::Frozen(frame) => buf.extend_from_slice(&frame),
            Repr::Open(Open::Lines(lines)) => {
                buf.reserve(lines.len() + crate::wire::encode::CLOSING);
                buf.extend_from_slice(&lines);
                buf.extend_from_slice(b"\n");
                spare::give(lines);
            }
            Repr::Open(Open::Marked(marked)) => (*marked).encode_into(buf),
        }
    }
}

/// The marked events' side of [`Repr`]'s methods, out of line: a call from the common path
/// back into the same method would keep it from being inlined.
impl Marked {
    #[cold]
    #[inline(never)]
    fn lines(&self) -> &[u8] {
        self.repr.lines()
    }

    #[cold]
    #[inline(never)]
    fn into_bytes(self) -> Bytes {
        self.repr.into_bytes()
    }

    #[cold]
    #[inline(never)]
    fn encode_into(self, buf: &mut BytesMut) {
        self.repr.encode_into(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::Repr;

    #[test]
    fn an_event_fits_a_channel_slot_of_40_bytes() {
        assert_eq!(std::mem::size_of::<Repr>(), 32);
        assert_eq!(std::mem::size_of::<crate::wire::Event>(), 32);
    }
}
