//! The channel's shared queue: bounded by places (an event or a batch takes one), and
//! built so that a producer sending one event at a time costs about what a batch costs.
//!
//! - A sender wakes the receiver only when it queues onto an empty queue and the receiver
//!   waits; while the receiver is busy, nobody wakes it again.
//! - A sender appends to the last queued message while the receiver is busy (up to the
//!   receiver's coalescing limit), so the receiver takes many events in one message and
//!   hands them out as one frame, with no per-event pop and no copy of its own. Whole
//!   events are appended under the lock, so cloned senders never interleave fields.
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
        let waker = match state.messages.back_mut() {
            Some((last, places)) if last.len() + message.len() <= limit => {
                append(last, message, limit);
                *places += 1;
                None
            }
            back => {
                // Onto an empty queue: the receiver may wait for it.
                let waker = back.is_none().then(|| state.receiver.take()).flatten();
                state.messages.push_back((message, 1));
                waker
            }
        };
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
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

/// Appends `message`'s frames to `last`, which becomes a message of frames.
fn append(last: &mut Message, message: Message, limit: usize) {
    if let Message::Event(_) = last {
        let room = (last.len() + message.len()).max(APPEND_START.min(limit));
        let first = std::mem::replace(
            last,
            Message::Frames {
                bytes: Vec::with_capacity(room),
                events: 0,
            },
        );
        append(last, first, limit);
    }
    if let Message::Frames { bytes, events } = last {
        *events += message.events();
        message.append_to(bytes);
    }
}
