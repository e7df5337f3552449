//! [`Local`]: the in-process log, a hub's default backend. It names each event (`1, 2,
//! 3, …`, or the publisher's own id) and feeds it back to its one hub at once.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

use bytes::Bytes;

use super::{keys::Keys, Appending, Backend, EventId, Feed, Position};
use crate::{
    hub::{error::PublishError, lock::lock, stamp},
    wire::Event,
};

/// A log inside one process, for one hub: under `keep`, the publisher's ids (found in an
/// index); else numbers from `first`.
pub(in crate::hub) struct Local {
    keep: bool,
    state: Mutex<State>,
}

struct State {
    /// The number of the next event: its id (numbered), or its position (kept ids).
    next: u64,
    first: u64,
    feed: Option<Feed>,
    /// Kept ids: the newest position of each id among the last `history + 1` events, so
    /// that a `Last-Event-ID` is found in O(1) rather than by scanning the history.
    ids: HashMap<Bytes, u64>,
    /// Kept ids: the last `history + 1` events' positions and ids, oldest first.
    held: VecDeque<(u64, Option<Bytes>)>,
    /// The hub's history.
    history: usize,
    keys: Keys,
}

impl Local {
    pub(in crate::hub) fn new(keep: bool, first: u64) -> Self {
        let state = State {
            next: first,
            first,
            feed: None,
            ids: HashMap::new(),
            held: VecDeque::new(),
            history: 0,
            keys: Keys::default(),
        };
        Local {
            keep,
            state: Mutex::new(state),
        }
    }

    /// The frame of `event` as it goes out as entry `at`, and its id.
    fn name(&self, event: Event, at: u64) -> (Bytes, EventId) {
        let frame = event.into_bytes();
        if self.keep {
            let id = stamp::field(&frame, b"id:").map_or_else(Bytes::new, |at| frame.slice(at));
            return (frame, EventId::from_bytes(id));
        }
        let (frame, id) = stamp::with_id(&frame, at);
        let id = frame.slice(id);
        (frame, EventId::from_bytes(id))
    }
}

impl State {
    /// Keeps the index of kept ids in step: event `at` with `id` came in. One hash per
    /// change on the usual path (unique ids); repeated ids take a second. The oldest id
    /// leaves before the new one comes in, so that the new one can take its place in the
    /// table (the other way round leaves a tombstone per event, and probes grow longer).
    fn index(&mut self, at: u64, id: &EventId) {
        while self.held.len() > self.history {
            let Some((gone, Some(id))) = self.held.pop_front() else {
                continue;
            };
            if let Some((key, newer)) = self.ids.remove_entry(&id) {
                if newer != gone {
                    self.ids.insert(key, newer); // a newer event holds this id: it stays
                }
            }
        }
        let id = (!id.as_str().is_empty()).then(|| id.0.clone());
        if let Some(id) = &id {
            if self.ids.insert(id.clone(), at).is_some() {
                // `insert` kept the old key, and with it the old frame: swap it for ours.
                self.ids.remove(id);
                self.ids.insert(id.clone(), at);
            }
        }
        self.held.push_back((at, id));
    }
}

impl Backend for Local {
    fn start(&self, feed: Feed) {
        if feed.backlog([]) {
            let mut state = lock(&self.state);
            state.history = feed.history();
            if self.keep {
                // Grown once, now, rather than in steps under publishers.
                let held = state.history.saturating_add(1).min(1 << 20);
                state.held.reserve(held);
                state.ids.reserve(held);
            }
            state.feed = Some(feed);
        }
    }

    fn append(&self, event: Event, key: Option<&str>) -> Result<Option<EventId>, PublishError> {
        let mut state = lock(&self.state);
        if let Some(id) = state.keys.get(key) {
            return Ok(Some(id));
        }
        let at = state.next;
        let Some(feed) = &state.feed else {
            return Err(PublishError::Closed(event));
        };
        let (frame, id) = self.name(event, at);
        if !feed.push_framed(Position::new(at, 0), frame.clone()) {
            return Err(PublishError::Closed(Event::from_frame(frame)));
        }
        state.next += 1;
        if self.keep {
            state.index(at, &id);
        }
        state.keys.insert(key, &id);
        Ok(Some(id))
    }

    fn append_wait<'a>(&'a self, event: Event, key: Option<&'a str>) -> Appending<'a> {
        let appended = self.append(event, key).map(Option::unwrap_or_default);
        Box::pin(async move { appended })
    }

    fn position(&self, id: &str) -> Option<Position> {
        let state = lock(&self.state);
        let at = match self.keep {
            true => *state.ids.get(id.as_bytes())?,
            false => canonical(id).filter(|at| (state.first..state.next).contains(at))?,
        };
        Some(Position::new(at, 0))
    }

    fn stop(&self) {
        lock(&self.state).feed = None;
    }
}

/// An id as the hub writes it: decimal digits, no sign, no leading zero. Any other
/// spelling (`+1`, `0001`) names no event, rather than the event `1`.
fn canonical(id: &str) -> Option<u64> {
    let digits = id.bytes().all(|b| b.is_ascii_digit());
    let padded = id.len() > 1 && id.starts_with('0');
    if id.is_empty() || !digits || padded {
        return None;
    }
    id.parse().ok()
}
