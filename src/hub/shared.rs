//! The state every handle and subscription shares: one ring of encoded frames, read by
//! per-subscriber cursors.

use std::{
    collections::HashMap,
    ops::Range,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard,
    },
    time::Instant,
};

use bytes::Bytes;

use super::{backend, stamp, HubBuilder, Ids, Lag, Replay};
use crate::Event;

pub(super) struct Shared {
    pub(super) config: HubBuilder,
    /// Serialises publishers (and `close`), so that ids and the ring's order agree, and a
    /// frame is built outside the ring's lock.
    pub(super) publish: Mutex<()>,
    pub(super) ring: Ring,
    /// Under `Ids::Keep`: the newest event held with each id, so that a `Last-Event-ID`
    /// is found in O(1) rather than by scanning the history under `publish`. Written and
    /// read only under `publish`.
    ids: Mutex<HashMap<Bytes, u64>>,
    /// The sequence number of the next event. Stored (with `Release`) after the event's
    /// slot is written, so a reader that sees it can read every slot before it.
    pub(super) tail: AtomicU64,
    /// Set under `publish`, after the last event: once it is seen, `tail` is final.
    pub(super) closed: AtomicBool,
    pub(super) farewell: Mutex<Option<Bytes>>,
    pub(super) registry: Mutex<Registry>,
    /// Notified when an event is published or the hub closes.
    pub(super) published: event_listener::Event,
    /// Notified when a subscriber moves on or leaves, for publishers under `Lag::Wait`.
    pub(super) moved: event_listener::Event,
    pub(super) counters: Counters,
    /// What a shared log's feed adds (unused by an in-process hub).
    pub(super) logged: backend::State,
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) published: AtomicU64,
    pub(super) lagged_events: AtomicU64,
    pub(super) lag_disconnects: AtomicU64,
    pub(super) refused: AtomicU64,
    pub(super) wait_timeouts: AtomicU64,
}

/// The last `history + capacity` frames: event `seq` is in slot `seq % len`.
///
/// Each slot has its own lock, as in `tokio::sync::broadcast`: subscribers reading
/// different events never touch the same lock, and the publisher only ever locks the
/// oldest slot, which it overwrites.
pub(super) struct Ring {
    slots: Box<[RwLock<Slot>]>,
    /// The sequence number of the first event (`first_id`).
    origin: u64,
}

pub(super) struct Slot {
    /// The sequence number of the event in the slot; `u64::MAX` while empty.
    pub(super) seq: u64,
    pub(super) frame: Bytes,
    /// Where the `id` value is in `frame` (with `Ids::Keep`).
    id: Option<Range<usize>>,
    /// Where the `event` value is in `frame`, if it has one.
    pub(super) kind: Option<Range<usize>>,
    /// When it was published, if the history has a maximum age.
    pub(super) at: Option<Instant>,
    /// Where a shared log put it (`Mark::Local` in an in-process hub).
    pub(super) mark: backend::Mark,
}

impl Slot {
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
    /// The oldest event still held, when the next one to publish is `tail`.
    pub(super) fn first(&self, tail: u64) -> u64 {
        tail.saturating_sub(self.slots.len() as u64)
            .max(self.origin)
    }

    /// Event `seq`'s slot, locked for reading: check its `seq`, the event may have been
    /// overwritten by a newer one.
    pub(super) fn get(&self, seq: u64) -> RwLockReadGuard<'_, Slot> {
        let slot = &self.slots[(seq % self.slots.len() as u64) as usize];
        slot.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many events the ring holds when the next one to publish is `tail`.
    pub(super) fn len(&self, tail: u64) -> usize {
        (tail - self.first(tail)) as usize
    }
}

/// Who is subscribed, and (under `Lag::Wait`) where each one is.
#[derive(Default)]
pub(super) struct Registry {
    pub(super) count: usize,
    positions: Vec<Option<Arc<AtomicU64>>>,
    free: Vec<usize>,
}

impl Registry {
    pub(super) fn insert(&mut self, position: Arc<AtomicU64>) -> usize {
        match self.free.pop() {
            Some(key) => {
                self.positions[key] = Some(position);
                key
            }
            None => {
                self.positions.push(Some(position));
                self.positions.len() - 1
            }
        }
    }

    pub(super) fn remove(&mut self, key: usize) {
        if let Some(slot) = self.positions.get_mut(key) {
            if slot.take().is_some() {
                self.free.push(key);
            }
        }
    }
}

/// Locks a mutex; a panic elsewhere cannot leave our data half-written, so poisoning is
/// ignored rather than turned into a panic here.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(super) fn new(config: HubBuilder) -> Self {
        let first = config.first_id;
        let len = config.history.saturating_add(config.capacity);
        let empty = || {
            RwLock::new(Slot {
                seq: u64::MAX,
                frame: Bytes::new(),
                id: None,
                kind: None,
                at: None,
                mark: backend::Mark::Local,
            })
        };
        Shared {
            ring: Ring {
                slots: (0..len).map(|_| empty()).collect(),
                origin: first,
            },
            tail: AtomicU64::new(first),
            ids: Mutex::new(HashMap::new()),
            config,
            publish: Mutex::new(()),
            closed: AtomicBool::new(false),
            farewell: Mutex::new(None),
            registry: Mutex::new(Registry::default()),
            published: event_listener::Event::new(),
            moved: event_listener::Event::new(),
            counters: Counters::default(),
            logged: backend::State::default(),
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Appends `event` to the ring and wakes the subscribers; the caller holds `publish`.
    /// Returns the event's sequence number (its id under `Ids::Assign`).
    pub(super) fn push(&self, event: Event) -> u64 {
        let seq = self.tail.load(Ordering::Acquire);
        let frame = match self.config.ids {
            Ids::Assign => stamp::with_id(&event.into_bytes(), seq),
            Ids::Keep => event.into_bytes(),
        };
        let id = match self.config.ids {
            Ids::Assign => None,
            Ids::Keep => stamp::field(&frame, b"id:"),
        };
        self.store(frame, id, backend::Mark::Local)
    }

    /// Writes an encoded frame into the oldest slot and wakes the subscribers; the caller
    /// holds `publish`. Returns its sequence number.
    pub(super) fn store(&self, frame: Bytes, id: Option<Range<usize>>, mark: backend::Mark) -> u64 {
        let seq = self.tail.load(Ordering::Acquire);
        let slot = Slot {
            seq,
            id,
            kind: stamp::field(&frame, b"event:"),
            at: self.config.max_age.map(|_| Instant::now()),
            frame,
            mark,
        };
        let id = slot.id.clone().map(|at| slot.frame.slice(at));
        let index = (seq % self.ring.slots.len() as u64) as usize;
        let old = std::mem::replace(
            &mut *self.ring.slots[index]
                .write()
                .unwrap_or_else(PoisonError::into_inner),
            slot,
        );
        if self.config.ids == Ids::Keep {
            self.index(&old, id, seq);
        }
        self.tail.store(seq + 1, Ordering::Release);
        drop(old); // its frame may be the last reference: freed outside the lock
        self.counters.published.fetch_add(1, Ordering::Relaxed);
        self.published.notify(usize::MAX);
        seq
    }

    /// Keeps the id index in step with the ring: `old` left it, event `seq` with `id`
    /// came in. The caller holds `publish`.
    fn index(&self, old: &Slot, id: Option<Bytes>, seq: u64) {
        // One hash per change on the usual path (unique ids); repeated ids take a second.
        let mut ids = lock(&self.ids);
        if let Some(at) = old.id.clone().filter(|_| old.seq != u64::MAX) {
            if let Some((gone, newer)) = ids.remove_entry(&old.frame[at]) {
                if newer != old.seq {
                    ids.insert(gone, newer); // a newer event holds this id: it stays
                }
            }
        }
        if let Some(id) = id {
            if ids.insert(id.clone(), seq).is_some() {
                // `insert` kept the old key, and with it the old frame: swap it for ours.
                ids.remove(&id);
                ids.insert(id, seq);
            }
        }
    }

    /// Under `Lag::Wait`: whether publishing now would put a subscriber more than its
    /// capacity behind. O(subscribers); the caller holds `publish`.
    pub(super) fn blocked(&self) -> bool {
        let Lag::Wait(_) = self.config.lag else {
            return false;
        };
        let tail = self.tail.load(Ordering::Acquire);
        let Some(edge) = tail.checked_sub(self.config.capacity as u64) else {
            return false;
        };
        let registry = lock(&self.registry);
        registry
            .positions
            .iter()
            .flatten()
            .any(|at| at.load(Ordering::Acquire) == edge)
    }

    /// Where a subscriber that last saw `last_event_id` starts reading, and what it gets,
    /// when the next event to publish is `tail`; the caller holds `publish`, so `tail`
    /// cannot move.
    pub(super) fn resolve(&self, tail: u64, last_event_id: Option<&str>) -> (u64, Replay) {
        let Some(last) = last_event_id.filter(|id| !id.is_empty()) else {
            return (tail, Replay::Live);
        };
        let first = self.ring.first(tail);
        let seen = match self.config.ids {
            Ids::Assign => {
                canonical(last).filter(|&seen| seen < tail && seen >= first.saturating_sub(1))
            }
            Ids::Keep => lock(&self.ids).get(last.as_bytes()).copied(),
        };
        let Some(seen) = seen else {
            return (tail, Replay::Reset);
        };
        let missed = tail - 1 - seen;
        let fresh = match self.config.max_age {
            Some(age) if missed > 0 => {
                let slot = self.ring.get(seen + 1);
                slot.at
                    .is_none_or(|at| slot.seq == seen + 1 && at.elapsed() <= age)
            }
            _ => true,
        };
        if missed <= self.config.history as u64 && fresh {
            (seen + 1, Replay::Resumed { missed })
        } else {
            (tail, Replay::Reset)
        }
    }

    /// Ends every subscription (after the events it has not read yet, then `farewell`).
    pub(super) fn close(&self, farewell: Option<Event>) {
        let publishing = lock(&self.publish);
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        *lock(&self.farewell) = farewell.map(Event::into_bytes);
        self.closed.store(true, Ordering::Release);
        self.published.notify(usize::MAX);
        self.moved.notify(usize::MAX);
        drop(publishing); // a backend's `stop` may take its own locks, which its feed holds
        if let Some(log) = &self.config.backend {
            log.stop();
        }
    }
}

/// An id as the hub writes it under `Ids::Assign`: decimal digits, no sign, no leading
/// zero. Any other spelling (`+1`, `0001`) names no event, rather than the event `1`.
fn canonical(id: &str) -> Option<u64> {
    let digits = id.bytes().all(|b| b.is_ascii_digit());
    let padded = id.len() > 1 && id.starts_with('0');
    if id.is_empty() || !digits || padded {
        return None;
    }
    id.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolving a `Last-Event-ID` under `Ids::Keep` does not read the history: with
    /// every slot locked (as a publisher overwriting it would), an unknown id still
    /// resolves at once. A scan would wait on the first slot, under `publish`, holding
    /// every publisher back for the length of the history.
    #[test]
    fn an_unknown_kept_id_is_resolved_without_reading_the_history() {
        let config = crate::hub::Hub::builder().history(10_000).ids(Ids::Keep);
        let shared = Arc::new(Shared::new(config));
        for n in 0..10_000 {
            let event = Event::new().id(format!("e{n}")).data("x");
            let _publishing = lock(&shared.publish);
            shared.push(event);
        }
        let tail = shared.tail.load(Ordering::Acquire);
        let locked: Vec<_> = (shared.ring.slots.iter())
            .map(|slot| slot.write().unwrap())
            .collect();
        let (done, resolved) = std::sync::mpsc::channel();
        let resolver = shared.clone();
        std::thread::spawn(move || {
            let _ = done.send(resolver.resolve(tail, Some("unknown")));
        });
        let outcome = resolved.recv_timeout(std::time::Duration::from_secs(10));
        drop(locked);
        assert_eq!(
            outcome.expect("resolve read the history"),
            (tail, Replay::Reset)
        );
        assert_eq!(
            shared.resolve(tail, Some("e9999")).1,
            Replay::Resumed { missed: 0 }
        );
    }
}
