//! The hub's handle: publishing, subscribing, closing, and its figures.

use std::{
    fmt,
    sync::{atomic::Ordering, Arc},
};

use super::{
    builder::HubBuilder,
    error::{PublishError, SubscribeError},
    lock::lock,
    log::EventId,
    shared::{Seen, Shared},
    subscription::Subscription,
};
use crate::wire::Event;

/// One publisher, many listeners: every event published is encoded once and streamed to
/// every [`Subscription`], with replay for clients that come back with a `Last-Event-ID`,
/// and a bound on everything (history, lag, subscribers).
///
/// A `Hub` is a cheap handle: clones share one hub. The hub closes (without a farewell)
/// when its last handle is dropped, or with a farewell by [`Hub::close`]. It needs no
/// runtime: subscriptions are `Stream`s, woken by the publisher, on smol, tokio or
/// anything else. For topics, make one hub per topic (each has its own ids, history and
/// limits), or [filter](Subscription::filter) by event type within one.
///
/// # Examples
///
/// ```
/// use sse_pump::{Event, Sse, hub::{Hub, Lag}};
/// # futures_lite::future::block_on(async {
/// let hub = Hub::builder()
///     .history(1024)            // kept for replay
///     .subscriber_capacity(64)  // how far one client may fall behind
///     .on_lag(Lag::DropOldest)  // then it skips ahead, after a `gap` event
///     .max_subscribers(10_000)  // beyond: SubscribeError::Full (503)
///     .build();
/// hub.publish(Event::new().event("chat").data("first"))?; // id 1
/// hub.publish(Event::new().event("chat").data("second"))?; // id 2
///
/// // A client that reconnects with `Last-Event-ID: 1` gets event 2, then the live ones.
/// let rx = hub.subscribe(Some("1"))?;
/// hub.close(None); // ends every stream, here after event 2
/// let mut wire = Vec::new();
/// Sse::new(rx).keep_alive(None).pump(&mut wire).await?;
/// assert_eq!(wire, b"id: 2\nevent: chat\ndata: second\n\n");
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[doc(alias = "broadcast")]
#[doc(alias = "pubsub")]
#[doc(alias = "fan-out")]
#[derive(Clone)]
pub struct Hub {
    handle: Arc<Handle>,
}

/// The publishers' share: closes the hub when the last handle goes.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.close(None);
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    /// A hub with the default settings (see [`HubBuilder`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// # drop(hub);
    /// ```
    pub fn new() -> Self {
        HubBuilder::new().build()
    }

    /// A builder, to set the history, capacity, lag policy, limits and ids.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::builder().history(100).build();
    /// # drop(hub);
    /// ```
    pub fn builder() -> HubBuilder {
        HubBuilder::new()
    }

    pub(super) fn with(config: HubBuilder) -> Self {
        let shared = Shared::start(config);
        Hub {
            handle: Arc::new(Handle { shared }),
        }
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
    }

    /// Whether nothing uses the hub but the one holding this handle: no subscriber, no
    /// other handle.
    pub(super) fn is_idle(&self) -> bool {
        Arc::strong_count(&self.handle) == 1 && lock(&self.shared().registry).count == 0
    }

    /// Publishes an event to every subscriber, without waiting, and returns its id as the
    /// clients see it when it is known already.
    ///
    /// In process (the default log), the event is named (`1, 2, 3, …` from
    /// [`first_id`](HubBuilder::first_id), or its own id under
    /// [`Ids::Keep`](super::Ids::Keep)), encoded once and appended to the ring before this
    /// returns, and the id is `Some`. With a shared log ([`HubBuilder::backend`]), the
    /// event is queued for the log (still without blocking) and reaches the subscribers of
    /// every instance, this one included, once the log has it; a log that names events as
    /// it writes them (Redis) returns `None` here: use [`Hub::publish_async`] for the id.
    /// Refused with [`PublishError::Unavailable`] while the log is unreachable and
    /// [`PublishError::Full`] when its queue is full.
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] once the hub is closed, [`PublishError::Invalid`] if the
    /// event refused a field, and, under [`Lag::Wait`](super::Lag::Wait) only,
    /// [`PublishError::Full`] while a subscriber has no room; with a shared log, see above.
    /// Each hands the event back.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// assert_eq!(hub.publish(sse_pump::Event::new().data("one"))?.unwrap(), "1");
    /// assert_eq!(hub.publish(sse_pump::Event::new().data("two"))?.unwrap(), "2");
    /// # Ok::<(), sse_pump::hub::PublishError>(())
    /// ```
    #[doc(alias = "send")]
    #[doc(alias = "broadcast")]
    pub fn publish(&self, event: Event) -> Result<Option<EventId>, PublishError> {
        self.shared().publish(event, None)
    }

    /// [`Hub::publish`], at most once per `key` (an idempotency key): a publish retried
    /// with the same key (after a lost reply, a timeout, a crash of the caller) is not
    /// appended again, and returns the first one's id when it is known.
    ///
    /// The in-process logs remember the last 4,096 keys;
    /// [`RedisStreams`](crate::hub::RedisStreams) remembers each one for a while (see its
    /// docs), checking and appending in one round trip.
    ///
    /// # Errors
    ///
    /// As [`Hub::publish`].
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// let first = hub.publish_once("order-17", sse_pump::Event::new().data("shipped"))?;
    /// let again = hub.publish_once("order-17", sse_pump::Event::new().data("shipped"))?;
    /// assert_eq!(first, again);
    /// assert_eq!(hub.stats().published, 1);
    /// # Ok::<(), sse_pump::hub::PublishError>(())
    /// ```
    pub fn publish_once(&self, key: &str, event: Event) -> Result<Option<EventId>, PublishError> {
        self.shared().publish(event, Some(key))
    }

    /// Publishes an event and returns its id as the clients see it (for Redis, the entry
    /// id); under [`Lag::Wait`](super::Lag::Wait), first waits (up to the policy's timeout)
    /// until every subscriber has room. When the time is up, the event is published anyway
    /// and the subscribers still without room are disconnected.
    ///
    /// With a shared log ([`HubBuilder::backend`]), it waits until the log has the event
    /// (for Redis, the reply to the write): [`PublishError::Unavailable`] says it may not
    /// be in the log (retry with [`Hub::publish_once_async`] to be sure it is not written
    /// twice).
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] once the hub is closed (also while waiting),
    /// [`PublishError::Invalid`] if the event refused a field, and with a shared log, as
    /// [`Hub::publish`]; each hands the event back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_pump::{Event, hub::{Hub, Lag}};
    /// # futures_lite::future::block_on(async {
    /// let hub = Hub::builder().subscriber_capacity(1).on_lag(Lag::Wait(Duration::from_millis(10))).build();
    /// let slow = hub.subscribe(None)?; // never reads
    /// assert_eq!(hub.publish_async(Event::new().data("1")).await?, "1"); // room for one
    /// hub.publish_async(Event::new().data("2")).await?; // waits 10 ms, then cuts `slow` off
    /// assert_eq!(hub.stats().wait_timeouts, 1);
    /// # drop(slow);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn publish_async(&self, event: Event) -> Result<EventId, PublishError> {
        self.shared().publish_async(event, None).await
    }

    /// [`Hub::publish_async`], at most once per `key` (an idempotency key): retried after
    /// an error or a lost reply, it does not append the event twice, and returns the id of
    /// the one appended. See [`Hub::publish_once`] for how long keys are remembered.
    ///
    /// # Errors
    ///
    /// As [`Hub::publish_async`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let hub = sse_pump::hub::Hub::new();
    /// let event = || sse_pump::Event::new().data("paid");
    /// let id = hub.publish_once_async("payment-9", event()).await?;
    /// assert_eq!(hub.publish_once_async("payment-9", event()).await?, id);
    /// # Ok::<(), sse_pump::hub::PublishError>(()) }).unwrap();
    /// ```
    pub async fn publish_once_async(
        &self,
        key: &str,
        event: Event,
    ) -> Result<EventId, PublishError> {
        self.shared().publish_async(event, Some(key)).await
    }

    /// Subscribes a client that last saw `last_event_id` (the request's `Last-Event-ID`
    /// header; `None` or empty for a first connection).
    ///
    /// An id still in the history gets every later event, in order and exactly once, then
    /// the live events with no gap and no duplicate at the seam. An id that is unknown or
    /// too old gets an `event: reset` first (see [`Replay`](super::Replay)); so does a client that missed
    /// anything when the history is 0.
    ///
    /// # Errors
    ///
    /// [`SubscribeError::Full`] when the hub has
    /// [`max_subscribers`](HubBuilder::max_subscribers) already, and
    /// [`SubscribeError::Loading`] before the hub has loaded its shared log's history (it
    /// would not know what a resuming client missed, nor where "now" is for a new one: an
    /// HTTP server answers 503 with `Retry-After`, or use [`Hub::subscribe_async`], which
    /// waits); both counted in [`HubStats::refused`]. [`SubscribeError::Closed`]
    /// once it is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use sse_pump::{Event, hub::Hub};
    /// # futures_lite::future::block_on(async {
    /// let hub = Hub::builder().history(16).build();
    /// hub.publish(Event::new().data("a"))?;
    /// hub.publish(Event::new().data("b"))?;
    /// let mut rx = hub.subscribe(Some("1"))?;
    /// hub.publish(Event::new().data("c"))?;
    /// assert_eq!(rx.next().await.unwrap().into_bytes(), "id: 2\ndata: b\n\n"); // replayed
    /// assert_eq!(rx.next().await.unwrap().into_bytes(), "id: 3\ndata: c\n\n"); // live
    ///
    /// let mut lost = hub.subscribe(Some("999"))?;
    /// assert_eq!(lost.next().await.unwrap().into_bytes(), "event: reset\ndata:\n\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn subscribe(&self, last_event_id: Option<&str>) -> Result<Subscription, SubscribeError> {
        let start = self.shared().subscribe(last_event_id)?;
        Ok(Subscription::new(self.shared().clone(), start))
    }

    /// Subscribes a client that has seen `seen` (for a stream following several topics).
    pub(super) fn subscribe_after(&self, seen: Seen) -> Result<Subscription, SubscribeError> {
        let start = self.shared().subscribe_after(seen)?;
        Ok(Subscription::new(self.shared().clone(), start))
    }

    /// The id of the newest event held, if it has one.
    pub(super) fn newest_id(&self) -> Option<bytes::Bytes> {
        self.shared().newest_id()
    }

    /// [`Hub::subscribe`], waiting first until the hub has loaded its log's history, for up
    /// to [`load_timeout`](HubBuilder::load_timeout) (only a shared log can be slow to load:
    /// the in-process one is loaded when the hub is built).
    ///
    /// # Errors
    ///
    /// As [`Hub::subscribe`]: [`SubscribeError::Loading`] if the history is still not
    /// loaded when the time is up.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let hub = sse_pump::hub::Hub::builder().history(8).build();
    /// hub.publish(sse_pump::Event::new().data("a"))?;
    /// let rx = hub.subscribe_async(Some("1")).await?;
    /// assert_eq!(rx.replay(), sse_pump::hub::Replay::Resumed { missed: 0 });
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn subscribe_async(
        &self,
        last_event_id: Option<&str>,
    ) -> Result<Subscription, SubscribeError> {
        self.until_loaded().await;
        self.subscribe(last_event_id)
    }

    /// Waits until the hub has loaded its log's history, for up to `load_timeout`.
    pub(super) async fn until_loaded(&self) {
        let limit = self.shared().config.load_timeout;
        self.shared().loaded(limit).await;
    }

    /// Ends every subscription: each one gets the events it has not read yet (at most its
    /// capacity), then `farewell` if there is one, then ends. Later publishes and
    /// subscribes are refused. Calling it again does nothing. A field the farewell refused
    /// ([`Event::error`]) is left out of it, as it always is; check it first with
    /// [`Event::check`] if it is built from run-time data.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use sse_pump::{Event, hub::Hub};
    /// # futures_lite::future::block_on(async {
    /// let hub = Hub::new();
    /// let mut rx = hub.subscribe(None)?;
    /// hub.close(Event::new().event("bye").data("restarting"));
    /// assert_eq!(rx.next().await.unwrap().into_bytes(), "event: bye\ndata: restarting\n\n");
    /// assert!(rx.next().await.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    #[doc(alias = "shutdown")]
    pub fn close(&self, farewell: impl Into<Option<Event>>) {
        self.shared().close(farewell.into());
    }

    /// Whether the hub has been closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// hub.close(None);
    /// assert!(hub.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared().is_closed()
    }

    /// The hub's counters now.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// let rx = hub.subscribe(None)?;
    /// hub.publish(sse_pump::Event::new().data("x"))?;
    /// let stats = hub.stats();
    /// assert_eq!((stats.subscribers, stats.published), (1, 1));
    /// drop(rx);
    /// assert_eq!(hub.stats().subscribers, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self) -> HubStats {
        let shared = self.shared();
        let counters = &shared.counters;
        HubStats {
            subscribers: lock(&shared.registry).count,
            published: counters.published.load(Ordering::Relaxed),
            retained: shared.ring.len(shared.tail.load(Ordering::Acquire)),
            lagged_events: counters.lagged_events.load(Ordering::Relaxed),
            lag_disconnects: counters.lag_disconnects.load(Ordering::Relaxed),
            refused: counters.refused.load(Ordering::Relaxed),
            wait_timeouts: counters.wait_timeouts.load(Ordering::Relaxed),
            resets: counters.resets.load(Ordering::Relaxed),
            failed_writes: shared.log.failed_writes(),
        }
    }
}

impl HubBuilder {
    /// Builds the hub.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::builder().history(16).build();
    /// # drop(hub);
    /// ```
    pub fn build(self) -> Hub {
        Hub::with(self)
    }
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("config", &self.shared().config)
            .field("stats", &self.stats())
            .finish()
    }
}

/// A [`Hub`]'s counters, from [`Hub::stats`]. Per subscriber, see
/// [`Subscription::lagged`] and [`Subscription::pending`].
///
/// # Examples
///
/// ```
/// let stats = sse_pump::hub::Hub::new().stats();
/// assert_eq!(stats, sse_pump::hub::HubStats::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HubStats {
    /// Subscriptions now.
    pub subscribers: usize,
    /// Events published since the hub was built; with a shared log, the entries this hub
    /// took from the log (from every instance, the backlog loaded at start and `reset`
    /// markers included).
    pub published: u64,
    /// Events held in the ring now (at most `history + subscriber_capacity`).
    pub retained: usize,
    /// Events that subscribers missed by falling behind: skipped under
    /// [`Lag::DropOldest`](super::Lag::DropOldest), or unread when a subscriber was disconnected for lag.
    pub lagged_events: u64,
    /// Subscribers disconnected for lag ([`Lag::Disconnect`](super::Lag::Disconnect), or [`Lag::Wait`](super::Lag::Wait) timing out).
    pub lag_disconnects: u64,
    /// Subscribes refused because the hub was full, or had not loaded its log's history
    /// yet ([`SubscribeError::Loading`]).
    pub refused: u64,
    /// Publishes under [`Lag::Wait`](super::Lag::Wait) that timed out waiting for a subscriber.
    pub wait_timeouts: u64,
    /// `reset` events sent to subscribers: for a `Last-Event-ID` that is unknown or too
    /// old, an id that turned out not to be in the shared log, or a log that lost entries.
    pub resets: u64,
    /// Events [`publish`](Hub::publish) handed to a shared log's queue that it could not
    /// write (refused by the log, or still queued when the hub closed while the log was
    /// unreachable), for [`RedisStreams`](crate::hub::RedisStreams): lost, and counted
    /// here. [`publish_async`](Hub::publish_async) reports each failure instead.
    pub failed_writes: u64,
}
