//! Idempotency keys: the ids of the last keyed appends, so that a retried one is not
//! appended twice.

use std::collections::{HashMap, VecDeque};

use super::EventId;

/// How many keys an in-process log remembers (the oldest is forgotten first).
pub(super) const REMEMBERED: usize = 4096;

/// The last [`REMEMBERED`] keys and the ids of their events.
#[derive(Default)]
pub(super) struct Keys {
    ids: HashMap<Box<str>, EventId>,
    order: VecDeque<Box<str>>,
}

impl Keys {
    /// The id of the event appended with `key`, if it is remembered.
    pub(super) fn get(&self, key: Option<&str>) -> Option<EventId> {
        self.ids.get(key?).cloned()
    }

    /// Remembers that `key` (if any) was appended as `id`.
    pub(super) fn insert(&mut self, key: Option<&str>, id: &EventId) {
        let Some(key) = key else { return };
        if self.ids.insert(key.into(), id.clone()).is_none() {
            self.order.push_back(key.into());
        }
        while self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
    }
}
