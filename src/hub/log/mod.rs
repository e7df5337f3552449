//! Where a hub's events are logged: in this process (the default, [`Local`]), in a log
//! shared by the hubs of one process ([`MemoryLog`]), or in one that several server
//! processes share ([`RedisStreams`](crate::hub::RedisStreams)), so that they serve one
//! stream of events behind a load balancer.
//!
//! This layer knows nothing of the hub: a log appends, names entries (their id on the wire
//! and their [`Position`]) and feeds them, in log order, into a [`Feed`]. The hub (one
//! implementation, in `src/hub/shared.rs`) does the rest the same way whatever the log.
//!
//! # Design
//!
//! Whatever the log, each hub keeps its own ring and fans the events out to its local
//! subscribers from there; the log only decides *what* goes into the ring and *in which
//! order*:
//!
//! - Publishing hands the event to the [`Backend`]: the in-process log names it and feeds
//!   it back at once; Redis queues it for an `XADD` to one stream.
//! - Each hub follows its log with **one** reader (for Redis, one `XREAD BLOCK` on a
//!   connection of its own) and appends every entry, in log order, to its ring through a
//!   [`Feed`]. The cost per event is one read and one encoding per process, whatever the
//!   number of subscribers, and every process holds the same entries in the same order.
//! - The id on the wire is the log's name for the entry (for Redis, the entry id
//!   `1700000000000-0`; in process, `1, 2, 3, …` or the publisher's own id), which means
//!   the same thing on every process. The ring keeps the [`Position`] of each entry;
//!   positions only grow, so a `Last-Event-ID` is found by a binary search over the ring,
//!   with no round trip to the log.
//! - On start, the reader loads the newest `history` entries into the ring (as
//!   *backlog*: replayable, but not shown to live subscribers), so a process that has just
//!   started resumes clients of the others too. Until it has ([`Feed::backlog`] was
//!   called), a subscribe cannot be placed (a resume cannot be resolved, and a live
//!   subscriber would miss what is appended before the load): it is refused with
//!   [`SubscribeError::Loading`](crate::hub::SubscribeError::Loading) (a 503), or waits
//!   ([`Hub::subscribe_async`](crate::hub::Hub::subscribe_async)), never skips.
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
//! - Every process keeps `history` entries in memory, in exchange for subscribes that
//!   need no round trip (a reconnect storm does not become a storm of `XRANGE`s) and a
//!   seam between replay and live events that cannot slip: both come from the one ordered
//!   ring.
//! - A published event reaches local subscribers only after the round trip through a
//!   shared log (about one loopback round trip, see `benches/redis-results.md`), so every
//!   process delivers the same order.
//! - [`Hub::publish`](crate::hub::Hub::publish) stays synchronous and never blocks: with
//!   Redis it hands the event to the backend's bounded queue, drained by a writer, and
//!   refuses with a typed error when the queue is full ([`PublishError::Full`]) or the log
//!   is unreachable ([`PublishError::Unavailable`]); it returns the event's id when the
//!   log names it at once (in process), `None` when it is queued.
//!   [`Hub::publish_async`](crate::hub::Hub::publish_async) waits for the log to confirm the
//!   write and returns the id the clients see.
//! - [`Lag::Wait`](crate::hub::Lag::Wait) holds back this process's publishers only: the
//!   reader never waits for a subscriber, so with a shared log, a subscriber without room
//!   when an entry of another process comes in is disconnected as by
//!   [`Lag::Disconnect`](crate::hub::Lag::Disconnect). [`Ids`](crate::hub::Ids) and
//!   [`first_id`](crate::hub::HubBuilder::first_id) configure the in-process log: a shared
//!   log names its events.
//!
//! # Another broker
//!
//! A backend implements [`Backend`]: append (queued and awaited), parse an id into a
//! [`Position`], and a reader that feeds entries in log order. Postgres (a table with a
//! `bigserial` position and `LISTEN/NOTIFY` as the wake-up) or NATS JetStream (the stream
//! sequence) fit the same shape, with a [`Position`] of `(sequence, 0)`. [`MemoryLog`] is
//! the smallest complete example.

mod keys;
mod local;
mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::{
    fmt,
    future::Future,
    ops::Deref,
    pin::Pin,
    sync::{Arc, Weak},
};

use bytes::Bytes;

pub(super) use self::local::Local;
pub use self::memory::MemoryLog;
#[cfg(feature = "redis")]
pub use self::redis::{InvalidUrl, RedisStreams};
use super::{error::PublishError, stamp};
use crate::wire::Event;

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

/// A published event's id, as its clients see it (`id:` on the wire, `lastEventId` in a
/// browser): `7` in process, `1700000000000-0` with Redis, the publisher's own under
/// [`Ids::Keep`](crate::hub::Ids::Keep) (empty if the event had none).
///
/// # Examples
///
/// ```
/// let hub = sse_pump::hub::Hub::new();
/// let id = hub.publish(sse_pump::Event::new().data("x"))?.unwrap();
/// assert_eq!(id, "1");
/// assert_eq!(id.to_string(), "1");
/// # Ok::<(), sse_pump::hub::PublishError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct EventId(Bytes);

impl EventId {
    /// The id `text`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::hub::EventId::new("1-0").as_str(), "1-0");
    /// ```
    pub fn new(text: &str) -> Self {
        EventId(Bytes::copy_from_slice(text.as_bytes()))
    }

    /// An id that is a slice of a frame: no copy. `bytes` is UTF-8.
    pub(super) fn from_bytes(bytes: Bytes) -> Self {
        EventId(bytes)
    }

    /// The id as text.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::hub::EventId::new("7").as_str(), "7");
    /// ```
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for EventId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for EventId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A log of a [`Hub`](crate::hub::Hub)'s events; see
/// [`HubBuilder::backend`](crate::hub::HubBuilder::backend), and the module design in the
/// repository (`src/hub/log/mod.rs`).
///
/// The hub calls [`start`](Backend::start) once when it is built, and
/// [`stop`](Backend::stop) when it closes. From `start` on, the backend feeds the entries
/// of the log into the [`Feed`], in log order: first up to [`Feed::history`] of the
/// newest existing ones through [`Feed::backlog`] (once, even if there are none: until
/// then, the hub cannot resume clients), then each new one through [`Feed::push`], each
/// once; and [`Feed::reset`] when it finds that entries it had not fed yet were lost.
///
/// # Examples
///
/// [`MemoryLog`] (in `src/hub/log/memory.rs`) is a complete backend in about a
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

    /// Appends `event` to the log, or queues it to be, without waiting. Returns its id
    /// when the log named it already, `None` when that is for later. With a `key`, the
    /// event is appended only if no event with that key was in a while
    /// ([`Hub::publish_once`](crate::hub::Hub::publish_once)); then the first one's id is
    /// returned.
    ///
    /// # Errors
    ///
    /// [`PublishError::Full`] when the queue is full, [`PublishError::Unavailable`] while
    /// the log cannot be reached, [`PublishError::Closed`] after `stop`; each hands the
    /// event back.
    fn append(&self, event: Event, key: Option<&str>) -> Result<Option<EventId>, PublishError>;

    /// Appends `event` to the log and waits until the log has it; its id. With a `key`,
    /// as [`append`](Backend::append).
    ///
    /// # Errors
    ///
    /// As [`append`](Backend::append), and [`PublishError::Unavailable`] when the write
    /// failed.
    fn append_wait<'a>(&'a self, event: Event, key: Option<&'a str>) -> Appending<'a>;

    /// The position an id names (an id this backend gave to an entry), or `None` if no
    /// entry can have this id.
    fn position(&self, id: &str) -> Option<Position>;

    /// Stops following the log and writing to it; called when the hub closes.
    fn stop(&self);

    /// How many events [`append`](Backend::append) took (queued) that could not be
    /// written: [`HubStats::failed_writes`](crate::hub::HubStats::failed_writes). None by
    /// default (a log that appends at once refuses instead).
    fn failed_writes(&self) -> u64 {
        0
    }
}

/// The future of [`Backend::append_wait`].
pub type Appending<'a> = Pin<Box<dyn Future<Output = Result<EventId, PublishError>> + Send + 'a>>;

/// What a [`Feed`] feeds: the hub, seen from the log (implemented by the hub's state).
pub(super) trait Follower: Send + Sync {
    /// How many of the newest existing entries to load on start.
    fn history(&self) -> usize;
    /// Whether the hub is closed.
    fn is_closed(&self) -> bool;
    /// Appends encoded frames (their ids stamped) at their positions, under one hold of
    /// the hub's lock; `backlog`: loaded on start. `false` once the hub is closed.
    fn append(&self, entries: &mut dyn Iterator<Item = (Position, Bytes)>, backlog: bool) -> bool;
    /// Entries were lost. `false` once the hub is closed.
    fn reset(&self) -> bool;
}

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
#[derive(Clone)]
pub struct Feed {
    hub: Weak<dyn Follower>,
}

impl Feed {
    pub(super) fn new(hub: Weak<dyn Follower>) -> Self {
        Feed { hub }
    }

    fn hub(&self) -> Option<Arc<dyn Follower>> {
        self.hub.upgrade()
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
        self.hub().map_or(0, |hub| hub.history())
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
        self.hub().is_none_or(|hub| hub.is_closed())
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
        self.append([(id, at, event)], false)
    }

    /// Appends an entry whose frame carries its id already (or goes out without one).
    pub(super) fn push_framed(&self, at: Position, frame: Bytes) -> bool {
        let Some(hub) = self.hub() else { return false };
        hub.append(&mut std::iter::once((at, frame)), false)
    }

    /// Appends the newest existing entries, oldest first, when the backend starts
    /// following: clients can resume from them, but live subscribers do not receive them.
    /// Call it once, even with no entries: until then, the hub refuses (or holds) every
    /// subscribe. Returns `false` once the hub is closed.
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
        self.append(entries, true)
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
        self.hub().is_some_and(|hub| hub.reset())
    }

    /// Stamps each entry's id on its frame and appends them in one go.
    fn append<'a>(
        &self,
        entries: impl IntoIterator<Item = (&'a str, Position, Event)>,
        backlog: bool,
    ) -> bool {
        let Some(hub) = self.hub() else { return false };
        let mut frames = entries.into_iter().map(|(id, at, event)| {
            let frame = event.into_bytes();
            match id.bytes().any(|b| matches!(b, b'\n' | b'\r' | 0)) {
                true => (at, frame),
                false => (at, stamp::with_text_id(&frame, id.as_bytes())),
            }
        });
        hub.append(&mut frames, backlog)
    }
}

impl fmt::Debug for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Feed")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The backend a hub was built with: cloned with its builder, shown as `Backend(..)`.
#[derive(Clone)]
pub(super) struct Attached(Arc<dyn Backend>);

impl Attached {
    pub(super) fn new(backend: impl Backend) -> Self {
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
