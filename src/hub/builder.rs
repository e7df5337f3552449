//! The hub's settings: history, per-subscriber capacity, lag policy, limits and ids.

use std::time::Duration;

use super::log::{Attached, Backend};

/// What the hub does with a subscriber that falls more than its
/// [capacity](HubBuilder::subscriber_capacity) behind.
///
/// Whatever the policy, a slow subscriber never holds memory of its own (the events live
/// once, in the hub's shared ring) and never slows the others down; only [`Lag::Wait`]
/// lets it slow the publisher, for a bounded time. Every event a subscriber misses is
/// counted, in [`Subscription::lagged`](crate::hub::Subscription::lagged) and in
/// [`HubStats::lagged_events`](crate::hub::HubStats::lagged_events).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::hub::{Hub, Lag};
///
/// let chat = Hub::builder().on_lag(Lag::DropOldest).build(); // the default
/// let orders = Hub::builder().on_lag(Lag::Wait(Duration::from_millis(200))).build();
/// # drop((chat, orders));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Lag {
    /// The subscriber reads from the hub's ring as long as the ring holds its next event,
    /// so a burst (a shared log's reader batch, a catch-up after a stall, a replay) costs
    /// it nothing, however much longer than its capacity, up to `history + capacity`.
    /// Once its next event is overwritten, it has really fallen behind: it skips ahead to
    /// the newest events its capacity holds, and first receives a `gap` event whose data
    /// is exactly how many events it missed (`event: gap\ndata: 12\n\n`). The default: the
    /// client stays connected and knows it missed something, and publishing never waits.
    #[default]
    DropOldest,
    /// The subscriber's stream ends (the pump returns [`Ended::SourceClosed`](crate::Ended)).
    /// A browser then reconnects by itself and presents its `Last-Event-ID`, so with a
    /// [history](HubBuilder::history) it gets what it missed by replay. Publishing never
    /// waits.
    Disconnect,
    /// [`Hub::publish_async`](crate::hub::Hub::publish_async) waits, up to this long, for every subscriber to have room
    /// (and [`Hub::publish`](crate::hub::Hub::publish) refuses with [`PublishError::Full`](crate::hub::PublishError::Full)
    /// instead of waiting). When the time is up the event is published anyway, and the
    /// subscribers still without room are disconnected as by [`Lag::Disconnect`].
    ///
    /// Finding out whether everyone has room costs a pass over the subscribers' positions
    /// on each publish, so this policy suits hubs with few subscribers that must not skip
    /// events (and whose clients are trusted to keep up).
    Wait(Duration),
}

/// Where the `id` of each published event comes from.
///
/// # Examples
///
/// ```
/// use sse_pump::{Event, hub::{Hub, Ids}};
///
/// let hub = Hub::builder().ids(Ids::Keep).history(16).build();
/// hub.publish(Event::new().id("order-17").data("shipped"))?;
/// let rx = hub.subscribe(Some("order-17"))?; // resolves the publisher's own id
/// assert_eq!(rx.replay(), sse_pump::hub::Replay::Resumed { missed: 0 });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ids {
    /// The hub numbers events `1, 2, 3, …` (from [`first_id`](HubBuilder::first_id)) and
    /// writes the number as the event's `id`, replacing any id the event had. Resolving a
    /// `Last-Event-ID` is then a subtraction. Only the hub's own spelling matches: `+7` or
    /// `007` name no event (the client gets [`Replay::Reset`](crate::hub::Replay::Reset)), not
    /// event 7. The default.
    #[default]
    Assign,
    /// The hub keeps the ids the publisher set, and finds a `Last-Event-ID` in an index of
    /// the ids it holds (a hash map: O(1), so a subscribe with an unknown id does not hold
    /// publishers back while it searches), byte for byte; when several held events share
    /// an id, the newest wins. Give every event an id: an event without one cannot be
    /// resumed from, and a client that last saw one is replayed from its previous id.
    Keep,
}

/// Settings for a [`Hub`](crate::hub::Hub); made by [`Hub::builder`](crate::hub::Hub::builder).
///
/// | setting | default |
/// |---|---|
/// | [`history`](HubBuilder::history) | 0 events kept for replay |
/// | [`max_age`](HubBuilder::max_age) | none: the history is bounded by count only |
/// | [`subscriber_capacity`](HubBuilder::subscriber_capacity) | 64 events |
/// | [`on_lag`](HubBuilder::on_lag) | [`Lag::DropOldest`] |
/// | [`max_subscribers`](HubBuilder::max_subscribers) | 10,000 |
/// | [`ids`](HubBuilder::ids), [`first_id`](HubBuilder::first_id) | [`Ids::Assign`], from 1 |
///
/// # Examples
///
/// ```
/// use sse_pump::hub::{Hub, Lag};
///
/// let hub = Hub::builder()
///     .history(1024)
///     .subscriber_capacity(64)
///     .on_lag(Lag::Disconnect)
///     .max_subscribers(10_000)
///     .build();
/// assert_eq!(hub.stats().subscribers, 0);
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct HubBuilder {
    pub(super) history: usize,
    pub(super) max_age: Option<Duration>,
    pub(super) capacity: usize,
    pub(super) lag: Lag,
    pub(super) max_subscribers: usize,
    pub(super) ids: Ids,
    pub(super) first_id: u64,
    pub(super) backend: Option<Attached>,
    pub(super) load_timeout: Duration,
}

impl Default for HubBuilder {
    fn default() -> Self {
        HubBuilder {
            history: 0,
            max_age: None,
            capacity: 64,
            lag: Lag::DropOldest,
            max_subscribers: 10_000,
            ids: Ids::Assign,
            first_id: 1,
            backend: None,
            load_timeout: Duration::from_secs(5),
        }
    }
}

impl HubBuilder {
    /// The default settings (see the table above).
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::HubBuilder::new().build();
    /// # drop(hub);
    /// ```
    pub fn new() -> Self {
        HubBuilder::default()
    }

    /// Keeps the last `events` events for replay to clients that reconnect with a
    /// `Last-Event-ID`. Default 0: a reconnecting client that missed anything gets the
    /// `reset` event. This is also a bound on the hub's memory: at most
    /// `history + subscriber_capacity` events are held, once, for all subscribers. The
    /// ring's slots (about 100 bytes each, frames apart) are allocated by
    /// [`build`](HubBuilder::build).
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::builder().history(1024).build();
    /// # drop(hub);
    /// ```
    pub fn history(mut self, events: usize) -> Self {
        self.history = events;
        self
    }

    /// Replays only events published less than `age` ago: a client that comes back later
    /// gets the `reset` event instead. The count set by [`history`](HubBuilder::history)
    /// still bounds memory. Default: no age limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let hub = sse_pump::hub::Hub::builder().history(10_000).max_age(Duration::from_secs(60)).build();
    /// # drop(hub);
    /// ```
    pub fn max_age(mut self, age: impl Into<Option<Duration>>) -> Self {
        self.max_age = age.into();
        self
    }

    /// How many events a subscriber may fall behind before the [lag policy](Lag) applies
    /// under [`Lag::Disconnect`] and [`Lag::Wait`]; under [`Lag::DropOldest`], a subscriber
    /// may fall `history + capacity` behind (the ring's length), and skips to the newest
    /// `capacity` events beyond. Default 64; 0 counts as 1.
    ///
    /// These events are not copied per subscriber: each subscriber is a cursor into the
    /// hub's one ring of encoded frames.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::builder().subscriber_capacity(256).build();
    /// # drop(hub);
    /// ```
    pub fn subscriber_capacity(mut self, events: usize) -> Self {
        self.capacity = events.max(1);
        self
    }

    /// What to do with a subscriber that falls behind. Default [`Lag::DropOldest`].
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::builder().on_lag(sse_pump::hub::Lag::Disconnect).build();
    /// # drop(hub);
    /// ```
    pub fn on_lag(mut self, policy: Lag) -> Self {
        self.lag = policy;
        self
    }

    /// The most subscribers at once; [`Hub::subscribe`](crate::hub::Hub::subscribe) refuses more with
    /// [`SubscribeError::Full`](crate::hub::SubscribeError::Full) (an HTTP server answers 503
    /// with `Retry-After`). Default 10,000.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::builder().max_subscribers(2).build();
    /// let (_a, _b) = (hub.subscribe(None)?, hub.subscribe(None)?);
    /// assert!(hub.subscribe(None).is_err());
    /// # Ok::<(), sse_pump::hub::SubscribeError>(())
    /// ```
    pub fn max_subscribers(mut self, subscribers: usize) -> Self {
        self.max_subscribers = subscribers;
        self
    }

    /// Whether the hub numbers events or keeps the publisher's ids. Default
    /// [`Ids::Assign`].
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::builder().ids(sse_pump::hub::Ids::Keep).build();
    /// # drop(hub);
    /// ```
    pub fn ids(mut self, ids: Ids) -> Self {
        self.ids = ids;
        self
    }

    /// The id of the first event, with [`Ids::Assign`]. Default 1.
    ///
    /// A hub that restarts numbering from 1 would take a client's `Last-Event-ID` from
    /// before the restart for a recent event. Start from a number that only grows (the
    /// last id stored, or the time in milliseconds) and those ids are recognised as
    /// unknown: the client gets the `reset` event.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::builder().first_id(1_000).build();
    /// assert_eq!(hub.publish(sse_pump::Event::new().data("x"))?.unwrap(), "1000");
    /// # Ok::<(), sse_pump::hub::PublishError>(())
    /// ```
    pub fn first_id(mut self, id: u64) -> Self {
        self.first_id = id;
        self
    }

    /// Logs the events in a log shared by several server processes, such as
    /// [`RedisStreams`](crate::hub::RedisStreams), instead of in this process only: every event
    /// published on any of them reaches the subscribers of all, and a client resumes on
    /// any of them. See [`Backend`] for what changes (ids, publishing, `Lag::Wait`).
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Event, hub::{Hub, MemoryLog}};
    ///
    /// let log = MemoryLog::new(); // in-process, for tests; RedisStreams across processes
    /// let a = Hub::builder().history(100).backend(log.clone()).build();
    /// let b = Hub::builder().history(100).backend(log).build();
    /// let rx = b.subscribe(None)?;
    /// a.publish(Event::new().data("from a"))?;
    /// assert_eq!(rx.pending(), 1); // b's subscriber has it
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn backend(mut self, backend: impl Backend) -> Self {
        self.backend = Some(Attached::new(backend));
        self
    }

    /// How long [`Hub::subscribe_async`](crate::hub::Hub::subscribe_async) waits for a
    /// shared log's history to be loaded before it refuses with
    /// [`SubscribeError::Loading`](crate::hub::SubscribeError::Loading). Default 5 seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let hub = sse_pump::hub::Hub::builder().load_timeout(Duration::from_secs(2)).build();
    /// # drop(hub);
    /// ```
    pub fn load_timeout(mut self, limit: Duration) -> Self {
        self.load_timeout = limit;
        self
    }
}
