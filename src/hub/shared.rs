//! The state every handle and subscription shares, and the one implementation of every
//! operation on it: one ring of encoded frames, read by per-subscriber cursors, fed by the
//! hub's log (in process or shared) through a [`Feed`].

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, Weak,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;

use super::{
    builder::{HubBuilder, Ids, Lag},
    error::{PublishError, SubscribeError},
    lock::lock,
    log::{Appending, Attached, EventId, Feed, Follower, Local, Position},
    replay::Replay,
    ring::{Mark, Ring, Slot},
};
use crate::wire::Event;

pub(super) struct Shared {
    pub(super) config: HubBuilder,
    /// The log: the hub's own ([`Local`]) unless one was given.
    pub(super) log: Attached,
    /// Under `Lag::Wait`, serialises this process's publishers from their check for room
    /// to their append, so that no other publish slips in between.
    admission: Mutex<()>,
    /// Serialises appends to the ring (and `close`), so that the ring's order is the log's,
    /// and a subscribe sees the ring still.
    publish: Mutex<()>,
    pub(super) ring: Ring,
    /// The sequence number of the next entry. Stored (with `Release`) after the entry's
    /// slot is written, so a reader that sees it can read every slot before it.
    pub(super) tail: AtomicU64,
    /// Set under `publish`, after the last entry: once it is seen, `tail` is final.
    closed: AtomicBool,
    farewell: Mutex<Option<Bytes>>,
    pub(super) registry: Mutex<Registry>,
    /// Notified when an entry is appended or the hub closes.
    pub(super) published: event_listener::Event,
    /// Notified when a subscriber moves on or leaves, for publishers under `Lag::Wait`.
    pub(super) moved: event_listener::Event,
    /// Notified when the log's history is loaded, or the hub closes.
    loaded_now: event_listener::Event,
    /// Whether the log's history is loaded (`Feed::backlog`): before, a `Last-Event-ID`
    /// cannot be resolved. Written under `publish`.
    loaded: AtomicBool,
    /// The first sequence number after the last reset marker: older entries are not
    /// resumed from.
    floor: AtomicU64,
    pub(super) counters: Counters,
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) published: AtomicU64,
    pub(super) lagged_events: AtomicU64,
    pub(super) lag_disconnects: AtomicU64,
    pub(super) refused: AtomicU64,
    pub(super) wait_timeouts: AtomicU64,
    pub(super) resets: AtomicU64,
}

/// Who is subscribed, and (under `Lag::Wait`) where each one is.
#[derive(Default)]
pub(super) struct Registry {
    pub(super) count: usize,
    positions: Vec<Option<Arc<AtomicU64>>>,
    free: Vec<usize>,
}

impl Registry {
    fn insert(&mut self, position: Arc<AtomicU64>) -> usize {
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

/// A subscriber's place for publishers under `Lag::Wait`, and its key in the registry.
pub(super) type Place = Option<(Arc<AtomicU64>, usize)>;

/// What a subscriber has seen already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Seen {
    /// Nothing it can name: a first connection, live events only.
    Nothing,
    /// An id the log never gave.
    Unknown,
    /// The entry at this position.
    At(Position),
    /// Nothing, though the hub existed: everything it published since is missed.
    Start,
}

/// Where a new subscriber starts: what `subscribe` resolved.
pub(super) struct Start {
    /// The first entry to read.
    pub(super) cursor: u64,
    /// The tail when it subscribed: replayed entries before it are not lag.
    pub(super) tail: u64,
    pub(super) replay: Replay,
    pub(super) place: Place,
    /// With a shared log: the position the client presented, which this process had not
    /// read yet; the entries up to it are skipped.
    pub(super) ahead: Option<Position>,
}

impl Shared {
    /// The hub's state, following its log from now on.
    pub(super) fn start(config: HubBuilder) -> Arc<Self> {
        let log = config
            .backend
            .clone()
            .unwrap_or_else(|| Attached::new(Local::new(config.ids == Ids::Keep, config.first_id)));
        let shared = Arc::new(Shared {
            ring: Ring::new(config.history.saturating_add(config.capacity)),
            config,
            log,
            admission: Mutex::new(()),
            publish: Mutex::new(()),
            tail: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            farewell: Mutex::new(None),
            registry: Mutex::new(Registry::default()),
            published: event_listener::Event::new(),
            moved: event_listener::Event::new(),
            loaded_now: event_listener::Event::new(),
            loaded: AtomicBool::new(false),
            floor: AtomicU64::new(0),
            counters: Counters::default(),
        });
        let follower: Weak<dyn Follower> = Arc::downgrade(&shared) as Weak<dyn Follower>;
        shared.log.start(Feed::new(follower));
        shared
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(super) fn farewell(&self) -> Option<Bytes> {
        lock(&self.farewell).clone()
    }

    /// Hands `event` to the log, now; its id if the log named it at once.
    pub(super) fn publish(
        &self,
        event: Event,
        key: Option<&str>,
    ) -> Result<Option<EventId>, PublishError> {
        self.admitted(event, false, |event| self.log.append(event, key))
    }

    /// Hands `event` to the log once it is admitted (under `Lag::Wait`, once every
    /// subscriber has room, or the policy's time is up), and waits until the log has it.
    pub(super) async fn publish_async(
        &self,
        mut event: Event,
        key: Option<&str>,
    ) -> Result<EventId, PublishError> {
        let limit = match self.config.lag {
            Lag::Wait(limit) => limit,
            _ => Duration::ZERO,
        };
        let mut timer = None; // made on the first wait: a timer costs a registration
        let mut anyway = false;
        loop {
            let moved = self.moved.listen();
            let append = |event| Ok::<Appending<'_>, _>(self.log.append_wait(event, key));
            match self.admitted(event, anyway, append) {
                Ok(appending) => return appending.await,
                Err(PublishError::Full(back)) => event = back, // under `Lag::Wait` only
                Err(refused) => return Err(refused),
            }
            let timer = timer.get_or_insert_with(|| futures_timer::Delay::new(limit));
            let moved = async {
                moved.await;
                false
            };
            let time_up = async {
                timer.await;
                true
            };
            anyway = futures_lite::future::or(moved, time_up).await;
        }
    }

    /// Checks a publish (a valid event, an open hub, room for it under `Lag::Wait` unless
    /// it goes `anyway`) and appends it with `append`, under the admission lock.
    fn admitted<T>(
        &self,
        event: Event,
        anyway: bool,
        append: impl FnOnce(Event) -> Result<T, PublishError>,
    ) -> Result<T, PublishError> {
        if event.error().is_some() {
            return Err(PublishError::Invalid(event));
        }
        // Only `Lag::Wait` needs its check and the append in one step (the ring's own
        // lock sees to the rest: a closed hub takes no entry).
        let waits = matches!(self.config.lag, Lag::Wait(_));
        let _admission = waits.then(|| lock(&self.admission));
        if self.is_closed() {
            return Err(PublishError::Closed(event));
        }
        if self.blocked() {
            if !anyway {
                return Err(PublishError::Full(event));
            }
            self.counters.wait_timeouts.fetch_add(1, Ordering::Relaxed);
        }
        append(event)
    }

    /// Under `Lag::Wait`: whether appending now would put a subscriber more than its
    /// capacity behind. O(subscribers).
    fn blocked(&self) -> bool {
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

    /// Subscribes a client that last saw `last_event_id`: where it starts.
    pub(super) fn subscribe(&self, last_event_id: Option<&str>) -> Result<Start, SubscribeError> {
        let seen = match last_event_id.filter(|id| !id.is_empty()) {
            None => Seen::Nothing,
            // Asked before `publish` is taken: the log may take its own lock, which it
            // holds while it appends to the ring.
            Some(id) => self.log.position(id).map_or(Seen::Unknown, Seen::At),
        };
        let start = self.subscribe_after(seen)?;
        #[cfg(feature = "tracing")]
        if start.replay == Replay::Reset {
            tracing::info!(target: "sse_pump::hub", last_event_id, "Last-Event-ID not in the history: reset");
        }
        Ok(start)
    }

    /// Subscribes a client that has seen `seen`: where it starts.
    pub(super) fn subscribe_after(&self, seen: Seen) -> Result<Start, SubscribeError> {
        if self.is_closed() {
            return Err(SubscribeError::Closed);
        }
        let place = self.register()?;
        let publishing = lock(&self.publish);
        // Before the log is loaded, this process cannot tell where "now" is in it: a
        // resume could not be resolved, and even a live subscriber would miss what is
        // appended before the load (loaded as backlog, which live subscribers skip).
        if !self.loaded.load(Ordering::Acquire) {
            drop(publishing);
            self.leave(place);
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
            return Err(SubscribeError::Loading);
        }
        // Under `publish`, no entry can slip in between the replay and the live ones.
        let tail = self.tail.load(Ordering::Acquire);
        let (cursor, replay, ahead) = self.resolve(tail, seen);
        if let Some((position, _)) = &place {
            position.store(tail, Ordering::Release);
        }
        drop(publishing);
        Ok(Start {
            cursor,
            tail,
            replay,
            place,
            ahead,
        })
    }

    /// The id of the newest entry held, as its frame carries it (`None`: no entry held, or
    /// one without an id).
    pub(super) fn newest_id(&self) -> Option<Bytes> {
        let _publishing = lock(&self.publish);
        let tail = self.tail.load(Ordering::Acquire);
        let slot = self.ring.get(tail.checked_sub(1)?);
        let at = super::stamp::field(&slot.frame, b"id:")?;
        Some(slot.frame.slice(at))
    }

    /// Waits until the log's history is loaded (or the hub closes), for up to `limit`.
    pub(super) async fn loaded(&self, limit: Duration) {
        let wait = async {
            loop {
                let loaded = self.loaded_now.listen();
                if self.loaded.load(Ordering::Acquire) || self.is_closed() {
                    return;
                }
                loaded.await;
            }
        };
        futures_lite::future::or(wait, futures_timer::Delay::new(limit)).await;
    }

    /// Counts a subscriber in, if there is room; under `Lag::Wait`, with its place.
    fn register(&self) -> Result<Place, SubscribeError> {
        let mut registry = lock(&self.registry);
        if registry.count >= self.config.max_subscribers {
            drop(registry);
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
            return Err(SubscribeError::Full);
        }
        registry.count += 1;
        Ok(matches!(self.config.lag, Lag::Wait(_)).then(|| {
            let position = Arc::new(AtomicU64::new(u64::MAX));
            let key = registry.insert(position.clone());
            (position, key)
        }))
    }

    /// Counts a subscriber out.
    pub(super) fn leave(&self, place: Place) {
        let mut registry = lock(&self.registry);
        registry.count -= 1;
        if let Some((_, key)) = place {
            registry.remove(key);
        }
        drop(registry);
        self.moved.notify(usize::MAX);
    }

    /// Where a subscriber that has seen `seen` starts reading, what it gets, and the
    /// position it is ahead at, if any, when the next entry is `tail`. The caller holds
    /// `publish`, so `tail` cannot move.
    fn resolve(&self, tail: u64, seen: Seen) -> (u64, Replay, Option<Position>) {
        let seen = match seen {
            Seen::Nothing => return (tail, Replay::Live, None),
            Seen::Unknown => return (tail, Replay::Reset, None),
            Seen::Start => return self.everything(tail),
            Seen::At(seen) => seen,
        };
        let first = self
            .ring
            .first(tail)
            .max(self.floor.load(Ordering::Acquire));
        let newest = (first < tail)
            .then(|| self.ring.get(tail - 1).mark.position())
            .flatten();
        if newest.is_none_or(|newest| seen > newest) {
            return (tail, Replay::Resumed { missed: 0 }, Some(seen));
        }
        let Some(low) = self.ring.find(first..tail, seen) else {
            return (tail, Replay::Reset, None);
        };
        let missed = tail - 1 - low;
        if missed <= self.config.history as u64 && self.fresh(low + 1, tail) {
            (low + 1, Replay::Resumed { missed }, None)
        } else {
            (tail, Replay::Reset, None)
        }
    }

    /// Everything, for a client that has seen nothing of the hub yet, if the ring still
    /// holds it all within the history.
    fn everything(&self, tail: u64) -> (u64, Replay, Option<Position>) {
        let all = self.ring.first(tail) == 0 && self.floor.load(Ordering::Acquire) == 0;
        if all && tail <= self.config.history as u64 && self.fresh(0, tail) {
            (0, Replay::Resumed { missed: tail }, None)
        } else {
            (tail, Replay::Reset, None)
        }
    }

    /// Whether entry `seq` (the first to replay) is younger than the history's maximum
    /// age; `true` when nothing is replayed or there is no maximum age.
    fn fresh(&self, seq: u64, tail: u64) -> bool {
        let Some(age) = self.config.max_age.filter(|_| seq < tail) else {
            return true;
        };
        let slot = self.ring.get(seq);
        slot.at
            .is_none_or(|at| slot.seq == seq && at.elapsed() <= age)
    }

    /// Writes an encoded frame into the oldest slot and wakes the subscribers; the caller
    /// holds `publish`. Returns its sequence number.
    fn store(&self, frame: Bytes, mark: Mark) -> u64 {
        let seq = self.tail.load(Ordering::Acquire);
        let at = self.config.max_age.map(|_| Instant::now());
        let old = self.ring.put(Slot::new(seq, frame, at, mark));
        self.tail.store(seq + 1, Ordering::Release);
        drop(old); // its frame may be the last reference: freed outside the slot's lock
        self.counters.published.fetch_add(1, Ordering::Relaxed);
        self.published.notify(usize::MAX);
        seq
    }

    /// Ends every subscription (after the entries it has not read yet, then `farewell`).
    pub(super) fn close(&self, farewell: Option<Event>) {
        let publishing = lock(&self.publish);
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        *lock(&self.farewell) = farewell.map(Event::into_bytes);
        self.closed.store(true, Ordering::Release);
        self.published.notify(usize::MAX);
        self.moved.notify(usize::MAX);
        self.loaded_now.notify(usize::MAX);
        drop(publishing); // the log's `stop` may take its own locks, which its feed holds
        self.log.stop();
    }
}

impl Follower for Shared {
    fn history(&self) -> usize {
        self.config.history
    }

    fn is_closed(&self) -> bool {
        Shared::is_closed(self)
    }

    fn append(&self, entries: &mut dyn Iterator<Item = (Position, Bytes)>, backlog: bool) -> bool {
        let _publishing = lock(&self.publish);
        if self.is_closed() {
            return false;
        }
        for (at, frame) in entries {
            let mark = match backlog {
                true => Mark::Backlog(at),
                false => Mark::Logged(at),
            };
            self.store(frame, mark);
        }
        if backlog {
            self.loaded.store(true, Ordering::Release);
            self.loaded_now.notify(usize::MAX);
        }
        true
    }

    fn reset(&self) -> bool {
        let _publishing = lock(&self.publish);
        if self.is_closed() {
            return false;
        }
        let frame = Bytes::from_static(b"event: reset\ndata:\n\n");
        let seq = self.store(frame, Mark::Reset);
        self.floor.store(seq + 1, Ordering::Release);
        true
    }
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
        let shared = Shared::start(config);
        for n in 0..10_000 {
            let event = Event::new().id(format!("e{n}")).data("x");
            shared.publish(event, None).unwrap();
        }
        let locked = shared.ring.lock_all();
        let (done, resolved) = std::sync::mpsc::channel();
        let resolver = shared.clone();
        std::thread::spawn(move || {
            let _ = done.send(
                resolver
                    .subscribe(Some("unknown"))
                    .map(|start| start.replay),
            );
        });
        let outcome = resolved.recv_timeout(Duration::from_secs(10));
        drop(locked);
        assert_eq!(
            outcome.expect("resolve read the history"),
            Ok(Replay::Reset)
        );
        let last = shared.subscribe(Some("e9999")).map(|start| start.replay);
        assert_eq!(last, Ok(Replay::Resumed { missed: 0 }));
    }
}
