//! The pieces every way of sending shares: gathering queued events into one frame, and
//! the keep-alive clock. The pump uses them with a writer, the hyper body without one.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{ready, Context, Poll},
    time::{Duration, Instant},
};

use bytes::{Bytes, BytesMut};
use futures_timer::Delay;

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

/// The keep-alive clock: counts quiet time since the last write.
pub(crate) struct Clock {
    interval: Option<Duration>,
    delay: Option<Delay>,
    last_write: Instant,
}

impl Clock {
    pub(crate) fn new(interval: Option<Duration>) -> Self {
        Clock {
            interval,
            delay: None,
            last_write: Instant::now(),
        }
    }

    pub(crate) fn touch(&mut self) {
        if self.interval.is_some() {
            self.last_write = Instant::now();
        }
    }

    /// Ready once `interval` has passed with no write. The timer is set once and, when it
    /// fires early because writes came in the meantime, moved to the new due time.
    pub(crate) fn poll_due(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(interval) = self.interval else {
            return Poll::Pending;
        };
        let delay = self.delay.get_or_insert_with(|| Delay::new(interval));
        loop {
            ready!(Pin::new(&mut *delay).poll(cx));
            let quiet = self.last_write.elapsed();
            if quiet >= interval {
                delay.reset(interval);
                return Poll::Ready(());
            }
            delay.reset(interval - quiet);
        }
    }
}

/// The send timeout: a timer armed only once a write has to wait.
pub(crate) struct Deadline {
    pub(crate) limit: Option<Duration>,
    delay: Option<Delay>,
    pub(crate) armed: bool,
}

impl Deadline {
    pub(crate) fn new(limit: Option<Duration>) -> Self {
        Deadline {
            limit,
            delay: None,
            armed: false,
        }
    }

    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }

    /// Called when the writer is not ready: starts the clock if it is not running, and
    /// fails with `TimedOut` once it runs out.
    pub(crate) fn poll_expired<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let Some(limit) = self.limit else {
            return Poll::Pending;
        };
        if !self.armed {
            self.armed = true;
            match &mut self.delay {
                Some(delay) => delay.reset(limit),
                None => self.delay = Some(Delay::new(limit)),
            }
        }
        let delay = self.delay.as_mut().expect("armed above");
        ready!(Pin::new(delay).poll(cx));
        Poll::Ready(Err(io::ErrorKind::TimedOut.into()))
    }
}
