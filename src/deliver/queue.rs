//! The channel's shared queue: bounded by places (an event or a batch takes one), and
//! built so that a producer sending one event at a time costs about what a batch costs.
//!
//! - A sender wakes the receiver only when it queues onto an empty queue and the receiver
//!   waits; while the receiver is busy, nobody wakes it again.
//! - A sender of one event appends it to the last queued message while the receiver is
//!   busy (up to the receiver's coalescing limit), so the receiver takes many events in one
//!   message and hands them out as one frame, with no per-event pop and no copy of its
//!   own. Whole events are appended under the lock, so cloned senders never interleave
//!   fields.
//! - What a sender could not queue comes back to it, so a refused event is handed back.

use std::{
    collections::VecDeque,
    sync::{Mutex, MutexGuard, PoisonError},
    task::{Context, Poll, Waker},
};

use event_listener::EventListener;

use super::message::Message;

/// The room a message's buffer starts with when a second one is appended to it: about a
/// channel's worth of small events, so that it rarely grows.
const APPEND_START: usize = 8 * 1024;

pub(crate) struct Queue {
    state: Mutex<State>,
    /// Senders waiting for room.
    room: event_listener::Event,
    /// Waiters of `Sender::closed`.
    closed: event_listener::Event,
}

struct State {
    /// The queued messages, each with the places it takes.
    messages: VecDeque<(Message, usize)>,
    /// Places taken by `messages`.
    places: usize,
    capacity: usize,
    senders: usize,
    closed: bool,
    /// How large a message may grow by appending: the receiver's coalescing limit; 0 (no
    /// appending) until the receiver first asks, so that what is sent before the stream
    /// starts stays one message per send.
    limit: usize,
    /// The receiver, when it waits for a message.
    receiver: Option<Waker>,
}

/// Why a message was not queued; it is handed back.
pub(crate) enum Refused {
    Full(Message),
    Closed(Message),
}

impl Queue {
    pub(crate) fn new(capacity: usize) -> Self {
        Queue {
            state: Mutex::new(State {
                messages: VecDeque::new(),
                places: 0,
                capacity,
                senders: 1,
                closed: false,
                limit: 0,
                receiver: None,
            }),
            room: event_listener::Event::new(),
            closed: event_listener::Event::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `message` in one place if there is room.
    #[inline]
    pub(crate) fn try_push(&self, message: Message) -> Result<(), Refused> {
        let mut state = self.lock();
        if state.closed {
            return Err(Refused::Closed(message));
        }
        if state.places >= state.capacity {
            return Err(Refused::Full(message));
        }
        state.places += 1;
        let limit = state.limit;
        let (waker, appended) = match state.messages.back_mut() {
            Some((last, places)) if appends(last, &message, limit) => {
                append(last, &message, limit);
                *places += 1;
                (None, Some(message))
            }
            back => {
                // Onto an empty queue: the receiver may wait for it.
                let waker = back.is_none().then(|| state.receiver.take()).flatten();
                state.messages.push_back((message, 1));
                (waker, None)
            }
        };
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        // Its bytes were copied: its buffer serves the next event built on this thread,
        // outside the lock.
        if let Some(Message::Event(event)) = appended {
            event.recycle();
        }
        Ok(())
    }

    /// The next message; `limit` is the receiver's coalescing limit, which appended
    /// messages stay under (or `None` to leave it).
    pub(crate) fn poll_pop(
        &self,
        cx: &mut Context<'_>,
        limit: Option<usize>,
    ) -> Poll<Option<Message>> {
        let mut state = self.lock();
        if let Some(limit) = limit {
            state.limit = limit;
        }
        if let Some((message, places)) = state.messages.pop_front() {
            state.places -= places;
            // Not waiting: a send onto the empty queue needs to wake it only after it
            // found the queue empty again.
            state.receiver = None;
            drop(state);
            self.room.notify_additional(places);
            return Poll::Ready(Some(message));
        }
        if state.closed {
            return Poll::Ready(None);
        }
        match &mut state.receiver {
            Some(waker) => waker.clone_from(cx.waker()),
            none => *none = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// A listener for room, to wait on after a `Full`.
    pub(crate) fn listen_room(&self) -> EventListener {
        self.room.listen()
    }

    /// A listener for the close, to wait on while `is_closed` is false.
    pub(crate) fn listen_closed(&self) -> EventListener {
        self.closed.listen()
    }

    /// Stops accepting messages: senders' sends fail, waiting ones wake, `closed` waiters
    /// resolve, and the receiver reads what is queued, then the end.
    pub(crate) fn close(&self) {
        let waker = {
            let mut state = self.lock();
            state.closed = true;
            state.receiver.take()
        };
        self.room.notify(usize::MAX);
        self.closed.notify(usize::MAX);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Drops what is queued, returning how many events it held.
    pub(crate) fn drain(&self) -> u64 {
        let mut state = self.lock();
        let drained = std::mem::take(&mut state.messages);
        state.places = 0;
        drop(state);
        drained.iter().map(|(message, _)| message.events()).sum()
    }

    /// One more sender.
    pub(crate) fn add_sender(&self) {
        self.lock().senders += 1;
    }

    /// One sender fewer: the last one closes the queue, so the stream ends once it has
    /// read what is queued.
    pub(crate) fn remove_sender(&self) {
        let last = {
            let mut state = self.lock();
            state.senders -= 1;
            state.senders == 0
        };
        if last {
            self.close();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Places taken: events and batches queued, however they were appended.
    pub(crate) fn len(&self) -> usize {
        self.lock().places
    }

    pub(crate) fn is_full(&self) -> bool {
        let state = self.lock();
        state.places >= state.capacity
    }
}

/// Whether `message` is appended to `last`: a single event, if both fit under `limit`.
/// A batch is queued as it is: it is already many events in one message, and copying it
/// would cost more than the pop it saves.
#[inline]
fn appends(last: &Message, message: &Message, limit: usize) -> bool {
    matches!(message, Message::Event(_)) && last.len() + message.len() <= limit
}

/// Appends the frames of `message`, a single event, to `last`, which becomes a message of
/// frames.
#[inline]
fn append(last: &mut Message, message: &Message, limit: usize) {
    if let Message::Event(_) = last {
        start_frames(last, message.len(), limit);
    }
    if let (Message::Frames { bytes, events }, Message::Event(event)) = (last, message) {
        *events += 1;
        event.append_to(bytes);
    }
}

/// Turns the event `last` into a message of frames with room for `more` bytes: once per
/// message, so out of line.
#[inline(never)]
fn start_frames(last: &mut Message, more: usize, limit: usize) {
    let mut bytes = Vec::with_capacity((last.len() + more).max(APPEND_START.min(limit)));
    let events = last.events();
    let first = std::mem::replace(
        last,
        Message::Frames {
            bytes: Vec::new(),
            events,
        },
    );
    first.append_to(&mut bytes);
    if let Message::Frames { bytes: frames, .. } = last {
        *frames = bytes;
    }
}

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll, Waker};

    use super::{Queue, Refused};
    use crate::{deliver::message::Message, wire::Event};

    fn push(queue: &Queue, data: &str) -> Result<(), Refused> {
        queue.try_push(Message::Event(Event::new().data(data)))
    }

    fn pop(queue: &Queue, limit: usize) -> Poll<Option<Message>> {
        queue.poll_pop(&mut Context::from_waker(Waker::noop()), Some(limit))
    }

    /// Once the receiver has asked (and so told its limit), events queued behind one
    /// another become one message, up to the limit, each taking its place.
    #[test]
    fn events_queued_while_the_receiver_is_busy_join_one_message() {
        let queue = Queue::new(4);
        assert!(pop(&queue, 27).is_pending());
        for data in ["a", "b", "c"] {
            assert!(push(&queue, data).is_ok()); // 9 bytes each
        }
        assert_eq!((queue.len(), queue.is_full()), (3, false));
        let Poll::Ready(Some(first)) = pop(&queue, 27) else {
            panic!("nothing queued")
        };
        assert_eq!(first.events(), 3);
        assert_eq!(first.into_bytes(), "data: a\n\ndata: b\n\ndata: c\n\n");
        assert_eq!(queue.len(), 0);
        // Over the limit: the next event starts a message of its own.
        for data in ["d", "e", "f", "g"] {
            assert!(push(&queue, data).is_ok());
        }
        assert!(queue.is_full());
        let Err(Refused::Full(back)) = push(&queue, "h") else {
            panic!("a full queue took an event")
        };
        assert_eq!(back.into_event().into_bytes(), "data: h\n\n");
        let sizes: Vec<u64> = std::iter::from_fn(|| match pop(&queue, 27) {
            Poll::Ready(Some(message)) => Some(message.events()),
            _ => None,
        })
        .collect();
        assert_eq!(sizes, [3, 1]);
    }

    /// Before the receiver first asks, every send stays a message of its own (so that
    /// `coalesce(0)` holds for what was queued before the stream started), and a closed
    /// queue hands the event back, then ends the receiver once it has read what is queued.
    #[test]
    fn sends_before_the_first_read_stay_apart_and_close_hands_back() {
        let queue = Queue::new(4);
        assert!(push(&queue, "a").is_ok());
        assert!(push(&queue, "b").is_ok());
        queue.close();
        let Err(Refused::Closed(back)) = push(&queue, "c") else {
            panic!("a closed queue took an event")
        };
        assert_eq!(back.into_event().into_bytes(), "data: c\n\n");
        assert!(matches!(
            pop(&queue, 0),
            Poll::Ready(Some(Message::Event(_)))
        ));
        assert_eq!(queue.drain(), 1);
        assert!(matches!(pop(&queue, 0), Poll::Ready(None)));
    }
}
