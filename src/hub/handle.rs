//! The hub's handle: publishing, subscribing, closing, and its figures.

use std::{
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use super::{
    backend,
    shared::{lock, Shared},
    HubBuilder, Lag, PublishError, SubscribeError, Subscription,
};
use crate::Event;

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
        let shared = Arc::new(Shared::new(config));
        if let Some(log) = &shared.config.backend {
            log.start(backend::Feed::new(&shared));
        }
        Hub {
            handle: Arc::new(Handle { shared }),
        }
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
    }

    /// Publishes an event to every subscriber, now, and returns its sequence number (its
    /// `id` under [`Ids::Assign`](super::Ids::Assign)). Never blocks: the frame is encoded once (with the
    /// hub's id, under `Ids::Assign`) and appended to the ring; subscribers read it from
    /// there.
    ///
    /// With a shared log ([`HubBuilder::backend`]), the event is queued for the log instead
    /// (still without blocking), and reaches the subscribers of every instance, this one
    /// included, once the log has it; the number returned counts this hub's publishes (the
    /// log names the event: its id on the wire is the log's position). Refused with
    /// [`PublishError::Unavailable`] while the log is unreachable and
    /// [`PublishError::Full`] when its queue is full.
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] once the hub is closed, [`PublishError::Invalid`] if the
    /// event refused a field, and, under [`Lag::Wait`] only, [`PublishError::Full`] while a
    /// subscriber has no room; with a shared log, see above. Each hands the event back.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// assert_eq!(hub.publish(sse_pump::Event::new().data("one"))?, 1);
    /// assert_eq!(hub.publish(sse_pump::Event::new().data("two"))?, 2);
    /// # Ok::<(), sse_pump::hub::PublishError>(())
    /// ```
    #[doc(alias = "send")]
    #[doc(alias = "broadcast")]
    pub fn publish(&self, event: Event) -> Result<u64, PublishError> {
        if event.error().is_some() {
            return Err(PublishError::Invalid(event));
        }
        let shared = self.shared();
        if let Some(log) = &shared.config.backend {
            return backend::publish(shared, &**log, event);
        }
        let _publishing = lock(&shared.publish);
        if shared.is_closed() {
            return Err(PublishError::Closed(event));
        }
        if shared.blocked() {
            return Err(PublishError::Full(event));
        }
        Ok(shared.push(event))
    }

    /// Publishes an event; under [`Lag::Wait`], first waits (up to the policy's timeout)
    /// until every subscriber has room. When the time is up, the event is published anyway
    /// and the subscribers still without room are disconnected. Under the other policies
    /// this is [`Hub::publish`].
    ///
    /// With a shared log ([`HubBuilder::backend`]), it waits until the log has the event
    /// (for Redis, the `XADD` reply) and never for subscribers: [`PublishError::Unavailable`]
    /// says it may not be in the log.
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] once the hub is closed (also while waiting), and
    /// [`PublishError::Invalid`] if the event refused a field, with the event handed back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_pump::{Event, hub::{Hub, Lag}};
    /// # futures_lite::future::block_on(async {
    /// let hub = Hub::builder().subscriber_capacity(1).on_lag(Lag::Wait(Duration::from_millis(10))).build();
    /// let slow = hub.subscribe(None)?; // never reads
    /// hub.publish_async(Event::new().data("1")).await?; // room for one
    /// hub.publish_async(Event::new().data("2")).await?; // waits 10 ms, then cuts `slow` off
    /// assert_eq!(hub.stats().wait_timeouts, 1);
    /// # drop(slow);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn publish_async(&self, event: Event) -> Result<u64, PublishError> {
        if let Some(log) = &self.shared().config.backend {
            return backend::publish_async(self.shared(), &**log, event).await;
        }
        let Lag::Wait(limit) = self.shared().config.lag else {
            return self.publish(event);
        };
        if event.error().is_some() {
            return Err(PublishError::Invalid(event));
        }
        let shared = self.shared();
        let mut timer = futures_timer::Delay::new(limit);
        let mut timed_out = false;
        loop {
            let listener = shared.moved.listen();
            {
                let _publishing = lock(&shared.publish);
                if shared.is_closed() {
                    return Err(PublishError::Closed(event));
                }
                if timed_out || !shared.blocked() {
                    if timed_out && shared.blocked() {
                        shared
                            .counters
                            .wait_timeouts
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    return Ok(shared.push(event));
                }
            }
            timed_out = futures_lite::future::or(
                async {
                    listener.await;
                    false
                },
                async {
                    (&mut timer).await;
                    true
                },
            )
            .await;
        }
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
    /// [`max_subscribers`](HubBuilder::max_subscribers) already (counted in
    /// [`HubStats::refused`]), and [`SubscribeError::Closed`] once it is closed.
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
        let shared = self.shared();
        if shared.is_closed() {
            return Err(SubscribeError::Closed);
        }
        let position = {
            let mut registry = lock(&shared.registry);
            if registry.count >= shared.config.max_subscribers {
                drop(registry);
                shared.counters.refused.fetch_add(1, Ordering::Relaxed);
                return Err(SubscribeError::Full);
            }
            registry.count += 1;
            matches!(shared.config.lag, Lag::Wait(_)).then(|| {
                let position = Arc::new(AtomicU64::new(u64::MAX));
                let key = registry.insert(position.clone());
                (position, key)
            })
        };
        // Under `publish`, no event can slip in between the replay and the live events.
        let publishing = lock(&shared.publish);
        let tail = shared.tail.load(Ordering::Acquire);
        let (cursor, replay, ahead) = match &shared.config.backend {
            Some(log) => backend::resolve(shared, &**log, tail, last_event_id),
            None => {
                let (cursor, replay) = shared.resolve(tail, last_event_id);
                (cursor, replay, None)
            }
        };
        #[cfg(feature = "tracing")]
        if replay == super::Replay::Reset {
            tracing::info!(target: "sse_pump::hub", last_event_id, "Last-Event-ID not in the history: reset");
        }
        if let Some((position, _)) = &position {
            position.store(tail, Ordering::Release);
        }
        drop(publishing);
        Ok(Subscription::new(shared.clone(), (cursor, tail), replay, position).ahead(ahead))
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
        }
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
    /// [`Lag::DropOldest`], or unread when a subscriber was disconnected for lag.
    pub lagged_events: u64,
    /// Subscribers disconnected for lag ([`Lag::Disconnect`], or [`Lag::Wait`] timing out).
    pub lag_disconnects: u64,
    /// Subscribes refused because the hub was full.
    pub refused: u64,
    /// Publishes under [`Lag::Wait`] that timed out waiting for a subscriber.
    pub wait_timeouts: u64,
}
