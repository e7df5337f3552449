//! Where a hub's events are logged: in this process (the default), or in a log that
//! several server processes share, so that they serve one stream of events behind a load
//! balancer.
//!
//! # Design
//!
//! Whatever the backend, each process keeps its own ring (the in-process hub) and fans the
//! events out to its local subscribers from there; a shared log only decides *what* goes
//! into the ring and *in which order*:
//!
//! - Publishing hands the event to the [`Backend`] (for Redis, an `XADD` to one stream);
//!   it does not touch the local ring.
//! - Each process follows the log with **one** reader (for Redis, one `XREAD BLOCK` on a
//!   connection of its own) and appends every entry, in log order, to its ring through a
//!   [`Feed`]. The cost per event is one read and one encoding per process, whatever the
//!   number of subscribers, and every process holds the same entries in the same order.
//! - The id on the wire is the entry's position in the log (for Redis, the entry id
//!   `1700000000000-0`), which means the same thing on every process. The ring keeps the
//!   parsed [`Position`] of each entry; positions only grow, so a `Last-Event-ID` is
//!   found by a binary search over the ring, with no round trip to the log.
//! - On start, the reader loads the newest `history` entries into the ring (as
//!   *backlog*: replayable, but not shown to live subscribers), so a process that has just
//!   started resumes clients of the others too.
//!
//! Resuming then works as in one process, with two more cases:
//!
//! - the client's id is *ahead* of this process (it saw an entry on another process that
//!   this one has not read yet): the subscription skips entries up to its id, and goes on
//!   from there with no gap and no duplicate; if an entry past its id comes first, the id
//!   was not in the log, and the client gets `event: reset`;
//! - the log was lost (the reader finds its last entry gone, which it checks on every
//!   read: Redis restarted empty, the stream was deleted or trimmed past it): the reader
//!   appends a *reset* marker, which every subscriber receives as `event: reset`
//!   (whatever its filter), then follows the new log from its start. Ids from before the
//!   marker are never resumed from.
//!
//! # Trade-offs
//!
//! - Every process keeps `history` entries in memory, as the in-process hub does, in
//!   exchange for subscribes that need no round trip (a reconnect storm does not become a
//!   storm of `XRANGE`s) and a seam between replay and live events that cannot slip: both
//!   come from the one ordered ring.
//! - A published event reaches local subscribers only after the round trip through the
//!   log (about one loopback round trip, see `benches/redis-results.md`), so every process
//!   delivers the same order.
//! - [`Hub::publish`](crate::hub::Hub::publish) stays synchronous and never blocks: it hands the
//!   event to the backend's bounded queue, drained by a writer, and refuses with a typed
//!   error when the queue is full ([`PublishError::Full`]) or the log is unreachable
//!   ([`PublishError::Unavailable`]). [`Hub::publish_async`](crate::hub::Hub::publish_async)
//!   waits for the log to confirm the write. Both return a number counting this hub's
//!   publishes, not the event's id (the log assigns that).
//! - [`Lag::Wait`](crate::hub::Lag::Wait) cannot slow publishers on other processes: the
//!   reader never waits for a subscriber, so one without room is disconnected as by
//!   [`Lag::Disconnect`](crate::hub::Lag::Disconnect). [`Ids`](crate::hub::Ids) and
//!   [`first_id`](crate::hub::HubBuilder::first_id) do not apply: the log names events.
//!
//! # Another broker
//!
//! A backend implements [`Backend`]: append (queued and awaited), parse an id into a
//! [`Position`], and a reader that feeds entries in log order. Postgres (a table with a
//! `bigserial` position and `LISTEN/NOTIFY` as the wake-up) or NATS JetStream (the stream
//! sequence) fit the same shape, with a [`Position`] of `(sequence, 0)`. [`MemoryLog`] is
//! the smallest complete example.

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::{
    fmt,
    future::Future,
    ops::Deref,
    pin::Pin,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Weak,
    },
};

pub use self::memory::MemoryLog;
#[cfg(feature = "redis")]
pub use self::redis::{InvalidUrl, RedisStreams};
use super::{
    shared::{lock, Shared},
    stamp, PublishError, Replay,
};
use crate::Event;

/// An entry's place in a shared log: ordered, and the same on every process. Redis entry
/// `1700000000000-3` is `Position::new(1700000000000, 3)`; a log numbered by one sequence
/// uses `Position::new(sequence, 0)`.
///
/// # Examples
///
/// ```
/// use sse_pump::hub::Position;
/// assert!(Position::new(1700000000000, 3) < Position::new(1700000000001, 0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    major: u64,
    minor: u64,
}

impl Position {
    /// The position `major`, then `minor` (compared in that order).
    ///
    /// # Examples
    ///
    /// ```
    /// let at = sse_pump::hub::Position::new(7, 0);
    /// assert_eq!(at, sse_pump::hub::Position::new(7, 0));
    /// ```
    pub const fn new(major: u64, minor: u64) -> Self {
        Position { major, minor }
    }
}

/// A log shared by the [`Hub`](crate::hub::Hub)s of several processes; see
/// [`HubBuilder::backend`](crate::hub::HubBuilder::backend), and the module design in the
/// repository (`src/hub/backend/mod.rs`).
///
/// The hub calls [`start`](Backend::start) once when it is built, and
/// [`stop`](Backend::stop) when it closes. From `start` on, the backend feeds the entries
/// of the log into the [`Feed`], in log order: first up to [`Feed::history`] of the
/// newest existing ones through [`Feed::backlog`], then each new one through
/// [`Feed::push`], each once; and [`Feed::reset`] when it finds that entries it had not fed
/// yet were lost.
///
/// # Examples
///
/// [`MemoryLog`] (in `src/hub/backend/memory.rs`) is a complete backend in about a
/// hundred lines.
///
/// ```
/// fn takes(backend: impl sse_pump::hub::Backend) -> sse_pump::hub::Hub {
///     sse_pump::hub::Hub::builder().backend(backend).build()
/// }
/// let hub = takes(sse_pump::hub::MemoryLog::new());
/// # drop(hub);
/// ```
pub trait Backend: Send + Sync + 'static {
    /// Starts following the log into `feed` (spawning what it needs); called once.
    fn start(&self, feed: Feed);

    /// Queues `event` to be appended to the log, without waiting.
    ///
    /// # Errors
    ///
    /// [`PublishError::Full`] when the queue is full, [`PublishError::Unavailable`] while
    /// the log cannot be reached, [`PublishError::Closed`] after `stop`; each hands the
    /// event back.
    fn append(&self, event: Event) -> Result<(), PublishError>;

    /// Appends `event` to the log and waits until the log has it.
    ///
    /// # Errors
    ///
    /// As [`append`](Backend::append), and [`PublishError::Unavailable`] when the write
    /// failed.
    fn append_wait(&self, event: Event) -> Appending<'_>;

    /// The position an id names (an id this backend gave to an entry), or `None` if no
    /// entry can have this id.
    fn position(&self, id: &str) -> Option<Position>;

    /// Stops following the log and writing to it; called when the hub closes.
    fn stop(&self);
}

/// The future of [`Backend::append_wait`].
pub type Appending<'a> = Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send + 'a>>;

/// A [`Backend`]'s way into its hub: it appends the log's entries to the hub's ring.
///
/// It holds the hub weakly: once the hub is closed or gone, every method returns `false`
/// (stop following).
///
/// # Examples
///
/// See [`MemoryLog`]'s source for a backend that uses every method.
///
/// ```
/// fn follow(feed: &sse_pump::hub::Feed, id: &str, at: sse_pump::hub::Position, event: sse_pump::Event) -> bool {
///     feed.push(id, at, event)
/// }
/// # let _ = follow;
/// ```
pub struct Feed {
    shared: Weak<Shared>,
}

impl Feed {
    pub(super) fn new(shared: &Arc<Shared>) -> Self {
        Feed {
            shared: Arc::downgrade(shared),
        }
    }

    /// How many of the newest existing entries to feed to [`backlog`](Feed::backlog) on
    /// start (the hub's [`history`](crate::hub::HubBuilder::history)).
    ///
    /// # Examples
    ///
    /// ```
    /// fn how_many(feed: &sse_pump::hub::Feed) -> usize { feed.history() }
    /// # let _ = how_many;
    /// ```
    pub fn history(&self) -> usize {
        self.shared
            .upgrade()
            .map_or(0, |shared| shared.config.history)
    }

    /// Whether the hub is closed or gone: stop following.
    ///
    /// # Examples
    ///
    /// ```
    /// fn done(feed: &sse_pump::hub::Feed) -> bool { feed.is_closed() }
    /// # let _ = done;
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared
            .upgrade()
            .is_none_or(|shared| shared.is_closed())
    }

    /// Appends one new entry of the log, `id` being its id on the wire (it must hold no CR,
    /// LF or NUL, or the entry goes out without an id) and `at` its position, which must
    /// be past every position fed before. Returns `false` once the hub is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Event, hub::{Feed, Position}};
    /// fn one(feed: &Feed) -> bool { feed.push("7-0", Position::new(7, 0), Event::new().data("x")) }
    /// # let _ = one;
    /// ```
    pub fn push(&self, id: &str, at: Position, event: Event) -> bool {
        self.append([(id, at, event)], Mark::Logged(at))
    }

    /// Appends the newest existing entries, oldest first, when the backend starts
    /// following: clients can resume from them, but live subscribers do not receive them.
    /// Returns `false` once the hub is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Event, hub::{Feed, Position}};
    /// fn load(feed: &Feed) -> bool {
    ///     feed.backlog([("1-0", Position::new(1, 0), Event::new().data("old"))])
    /// }
    /// # let _ = load;
    /// ```
    pub fn backlog<'a>(
        &self,
        entries: impl IntoIterator<Item = (&'a str, Position, Event)>,
    ) -> bool {
        self.append(entries, Mark::Backlog(Position::new(0, 0)))
    }

    /// Tells every subscriber that entries were lost (each gets `event: reset`), and
    /// forgets the entries fed so far for resuming. Feed the log from its new start next.
    /// Returns `false` once the hub is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// fn lost(feed: &sse_pump::hub::Feed) -> bool { feed.reset() }
    /// # let _ = lost;
    /// ```
    pub fn reset(&self) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            return false;
        };
        let _publishing = lock(&shared.publish);
        if shared.is_closed() {
            return false;
        }
        let frame = bytes::Bytes::from_static(b"event: reset\ndata:\n\n");
        let seq = shared.store(frame, None, Mark::Reset);
        shared.logged.floor.store(seq + 1, Ordering::Release);
        true
    }

    /// Appends entries under one hold of the publish lock (so a subscribe sees all of a
    /// backlog or none of it); `mark` says live or backlog.
    fn append<'a>(
        &self,
        entries: impl IntoIterator<Item = (&'a str, Position, Event)>,
        mark: Mark,
    ) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            return false;
        };
        let _publishing = lock(&shared.publish);
        if shared.is_closed() {
            return false;
        }
        for (id, at, event) in entries {
            let frame = event.into_bytes();
            let frame = if id.bytes().any(|b| matches!(b, b'\n' | b'\r' | 0)) {
                frame
            } else {
                stamp::with_text_id(&frame, id.as_bytes())
            };
            let mark = match mark {
                Mark::Backlog(_) => Mark::Backlog(at),
                _ => Mark::Logged(at),
            };
            shared.store(frame, None, mark);
        }
        true
    }
}

impl fmt::Debug for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Feed")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// What a shared log adds to the hub's state.
#[derive(Default)]
pub(in crate::hub) struct State {
    /// The first sequence number after the last reset marker: older entries are not
    /// resumed from.
    floor: AtomicU64,
    /// Events this hub handed to the log.
    handed: AtomicU64,
}

/// Where a ring entry came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(in crate::hub) enum Mark {
    /// Published in this process (no shared log).
    #[default]
    Local,
    /// A new entry of the shared log.
    Logged(Position),
    /// An entry that was in the log when the reader started: replayable, not live.
    Backlog(Position),
    /// The log lost entries: delivered as `event: reset` to everyone.
    Reset,
}

impl Mark {
    fn position(self) -> Option<Position> {
        match self {
            Mark::Logged(at) | Mark::Backlog(at) => Some(at),
            Mark::Local | Mark::Reset => None,
        }
    }
}

/// The backend a hub was built with: cloned with its builder, shown as `Backend(..)`.
#[derive(Clone)]
pub(in crate::hub) struct Attached(Arc<dyn Backend>);

impl Attached {
    pub(in crate::hub) fn new(backend: impl Backend) -> Self {
        Attached(Arc::new(backend))
    }
}

impl Deref for Attached {
    type Target = dyn Backend;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for Attached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Backend(..)")
    }
}

/// What a subscriber does with the entry at its cursor.
pub(in crate::hub) enum Admit {
    /// Deliver it (if the filter agrees).
    Pass,
    /// Count it as read, deliver nothing.
    Skip,
    /// Deliver `event: reset` first, then look at the entry again.
    ResetFirst,
}

/// Decides about an entry with `mark`, for a subscriber `ahead` of this process (or not),
/// reading `live` entries (past its replay).
pub(in crate::hub) fn admit(mark: Mark, ahead: &mut Option<Box<Position>>, live: bool) -> Admit {
    if mark == Mark::Reset {
        *ahead = None;
        return Admit::Pass;
    }
    let Some(at) = mark.position() else {
        return Admit::Pass;
    };
    match ahead.as_deref().copied() {
        Some(seen) if at < seen => Admit::Skip,
        Some(seen) if at == seen => {
            *ahead = None; // the seam: what follows is new to the client
            Admit::Skip
        }
        Some(_) => {
            *ahead = None; // its id was not in the log
            Admit::ResetFirst
        }
        None if live && matches!(mark, Mark::Backlog(_)) => Admit::Skip,
        None => Admit::Pass,
    }
}

/// Where a subscriber that last saw `last_event_id` starts in a hub fed by `log`, what it
/// gets, and the position it is ahead at, if any; the caller holds `publish`.
pub(in crate::hub) fn resolve(
    shared: &Shared,
    log: &dyn Backend,
    tail: u64,
    last_event_id: Option<&str>,
) -> (u64, Replay, Option<Position>) {
    let Some(last) = last_event_id.filter(|id| !id.is_empty()) else {
        return (tail, Replay::Live, None);
    };
    let Some(seen) = log.position(last) else {
        return (tail, Replay::Reset, None);
    };
    let first = shared
        .ring
        .first(tail)
        .max(shared.logged.floor.load(Ordering::Acquire));
    let at = |seq: u64| shared.ring.get(seq).mark.position();
    let newest = (first < tail).then(|| at(tail - 1)).flatten();
    if newest.is_none_or(|newest| seen > newest) {
        return (tail, Replay::Resumed { missed: 0 }, Some(seen));
    }
    let Some(low) = find(shared, first..tail, seen) else {
        return (tail, Replay::Reset, None);
    };
    let missed = tail - 1 - low;
    let fresh = match shared.config.max_age {
        Some(age) if missed > 0 => shared
            .ring
            .get(low + 1)
            .at
            .is_none_or(|at| at.elapsed() <= age),
        _ => true,
    };
    if missed <= shared.config.history as u64 && fresh {
        (low + 1, Replay::Resumed { missed }, None)
    } else {
        (tail, Replay::Reset, None)
    }
}

/// The sequence number of the entry at position `seen` among `seqs`, by binary search:
/// positions grow along the ring (and no reset marker lies past the floor).
fn find(shared: &Shared, seqs: std::ops::Range<u64>, seen: Position) -> Option<u64> {
    let at = |seq: u64| shared.ring.get(seq).mark.position();
    let (mut low, mut high) = (seqs.start, seqs.end);
    while low < high {
        let middle = low + (high - low) / 2;
        if at(middle) < Some(seen) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    (low < seqs.end && at(low) == Some(seen)).then_some(low)
}

/// [`Hub::publish`](crate::hub::Hub::publish) with a shared log.
pub(in crate::hub) fn publish(
    shared: &Shared,
    log: &dyn Backend,
    event: Event,
) -> Result<u64, PublishError> {
    if shared.is_closed() {
        return Err(PublishError::Closed(event));
    }
    log.append(event)?;
    Ok(shared.logged.handed.fetch_add(1, Ordering::Relaxed) + 1)
}

/// [`Hub::publish_async`](crate::hub::Hub::publish_async) with a shared log.
pub(in crate::hub) async fn publish_async(
    shared: &Shared,
    log: &dyn Backend,
    event: Event,
) -> Result<u64, PublishError> {
    if shared.is_closed() {
        return Err(PublishError::Closed(event));
    }
    log.append_wait(event).await?;
    Ok(shared.logged.handed.fetch_add(1, Ordering::Relaxed) + 1)
}
