//! Gathering the events a source has ready into one write.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use bytes::{Bytes, BytesMut};

use super::{channel::Source, message::Message};
use crate::wire::LineEnding;

/// A message of the source as frames: one event's, or many events'.
pub(crate) struct Queued {
    pub(crate) frames: Bytes,
    /// How many events `frames` holds.
    pub(crate) events: u64,
}

impl From<Message> for Queued {
    #[inline]
    fn from(message: Message) -> Self {
        let events = message.events();
        Queued {
            frames: message.into_bytes(),
            events,
        }
    }
}

/// `first` and the messages queued behind it, up to a byte limit.
pub(crate) struct Gathered {
    /// The frames when nothing joined `first`: as encoded, with `\n` line ends. Otherwise
    /// the frames are in the buffer given to [`gather`], converted to the line ending.
    pub(crate) alone: Option<Bytes>,
    /// How many events the gathered frames hold.
    pub(crate) events: u64,
    /// The first message that did not fit; it starts the next gathering.
    pub(crate) carry: Option<Queued>,
    /// Whether the source ended while gathering.
    pub(crate) ended: bool,
}

/// Gathers the messages `source` has ready now behind `first`, never beyond `limit`
/// bytes (unless `first` alone is larger). A message that would overflow becomes the
/// carry. If `held`, `buf` already holds frames, held back while the producer refilled:
/// `first` joins them, or is the carry if it does not fit.
pub(crate) fn gather<S: Source>(
    first: Queued,
    mut source: Pin<&mut S>,
    cx: &mut Context<'_>,
    limit: usize,
    ending: LineEnding,
    buf: &mut BytesMut,
    held: bool,
) -> Gathered {
    let mut len = first.frames.len();
    let mut gathered = Gathered {
        alone: None,
        events: first.events,
        carry: None,
        ended: false,
    };
    if !held {
        gathered.alone = Some(first.frames);
    } else if buf.len() + len > limit {
        gathered.events = 0;
        gathered.carry = Some(first);
        return gathered;
    } else {
        len += buf.len();
        ending.extend(buf, &first.frames);
    }
    while len < limit {
        let Poll::Ready(next) = source.as_mut().poll_message(cx, limit) else {
            break;
        };
        let Some(next) = next.map(Queued::from) else {
            gathered.ended = true;
            break;
        };
        if len + next.frames.len() > limit {
            gathered.carry = Some(next);
            break;
        }
        if let Some(first) = gathered.alone.take() {
            buf.clear();
            ending.extend(buf, &first);
        }
        ending.extend(buf, &next.frames);
        gathered.events += next.events;
        len += next.frames.len();
    }
    gathered
}
