//! What crosses the channel: the crate's own message, so that [`Event`] is only the
//! user's event and carries no batch count or frames of others.

use bytes::Bytes;

use crate::wire::Event;

/// One message of a stream's source: a user's event, or frames encoded together (a
/// [`Batch`](crate::Batch), or events a sender appended to the last queued message while
/// the stream was busy).
///
/// `pub` in a private module: [`Source`](super::channel::Source) names it in a hidden
/// method, which needs a type no less visible than the trait, yet no user can name it.
#[derive(Debug)]
pub enum Message {
    /// One event, as it was sent: it goes on the wire without a copy when it is alone.
    Event(Event),
    /// Whole frames, one after another, with `\n` line ends.
    Frames {
        /// The frames, closing blank lines included.
        bytes: Vec<u8>,
        /// How many events they are.
        events: u64,
    },
}

impl Message {
    /// How many events the message holds.
    #[inline]
    pub(crate) fn events(&self) -> u64 {
        match self {
            Message::Event(_) => 1,
            Message::Frames { events, .. } => *events,
        }
    }

    /// How many bytes its frames take.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            Message::Event(event) => event.frame_len(),
            Message::Frames { bytes, .. } => bytes.len(),
        }
    }

    /// Appends its frames to `out`.
    #[inline]
    pub(crate) fn append_to(self, out: &mut Vec<u8>) {
        match self {
            Message::Event(event) => {
                event.append_to(out);
                event.recycle();
            }
            Message::Frames { bytes, .. } => out.extend_from_slice(&bytes),
        }
    }

    /// Its frames, without a copy.
    #[inline]
    pub(crate) fn into_bytes(self) -> Bytes {
        match self {
            Message::Event(event) => event.into_bytes(),
            Message::Frames { bytes, .. } => Bytes::from(bytes),
        }
    }

    /// The message as one [`Event`], for a caller that takes events: a refused send hands
    /// back what it was given, and a receiver read as a `Stream` yields events. Frames of
    /// several events come as one event whose bytes are all of them.
    pub(crate) fn into_event(self) -> Event {
        match self {
            Message::Event(event) => event,
            frames => Event::from_frame(frames.into_bytes()),
        }
    }
}
