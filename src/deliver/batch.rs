//! Gathering the events a source has ready into one write.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use bytes::{Bytes, BytesMut};

use crate::{LineEnding, Source};

/// `first` and the events queued behind it, up to a byte limit.
pub(crate) struct Batch {
    /// The frame when nothing joined `first`: as encoded, with `\n` line ends. Otherwise
    /// the events are in the buffer given to [`gather`], converted to the line ending.
    pub(crate) alone: Option<Bytes>,
    /// How many events the batch holds.
    pub(crate) events: u64,
    /// The first event that did not fit; it starts the next batch.
    pub(crate) carry: Option<Bytes>,
    /// Whether the source ended while gathering.
    pub(crate) ended: bool,
}

impl Batch {
    fn alone(frame: Bytes) -> Self {
        Batch {
            alone: Some(frame),
            events: 1,
            carry: None,
            ended: false,
        }
    }
}

/// Gathers the events `source` has ready now behind `first`, never beyond `limit` bytes
/// (unless `first` alone is larger). An event that would overflow becomes the carry.
pub(crate) fn gather<S: Source>(
    first: Bytes,
    mut source: Pin<&mut S>,
    cx: &mut Context<'_>,
    limit: usize,
    ending: LineEnding,
    buf: &mut BytesMut,
) -> Batch {
    let mut len = first.len();
    let mut batch = Batch::alone(first);
    while len < limit {
        let frame = match source.as_mut().poll_next(cx) {
            Poll::Pending => break,
            Poll::Ready(None) => {
                batch.ended = true;
                break;
            }
            Poll::Ready(Some(event)) => event.into_bytes(),
        };
        if len + frame.len() > limit {
            batch.carry = Some(frame);
            break;
        }
        if let Some(first) = batch.alone.take() {
            buf.clear();
            ending.extend(buf, &first);
        }
        ending.extend(buf, &frame);
        batch.events += 1;
        len += frame.len();
    }
    batch
}
