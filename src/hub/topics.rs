//! [`Topics`]: many named topics in one process, each a [`Hub`] of its own, made on first
//! use and dropped when idle.
//!
//! # Design
//!
//! A topic is a [`Hub`] (own ids, history and limits) kept in a map by name, made by the
//! factory given to [`Topics::new`] the first time the name is published to or subscribed
//! to. An idle topic (no subscriber, no handle held outside, not used for
//! [`idle_after`](Topics::idle_after)) is dropped by the next sweep, which runs during
//! [`Topics::topic`] at most every quarter of the idle time, so memory follows the active
//! topics. A dropped topic's history goes with it; its next incarnation numbers its events
//! from the time in microseconds when it is made, so a client's id from the old one is
//! recognised as unknown (`event: reset`), never taken for a new event.
//!
//! One stream may follow several topics ([`Topics::follow`], a [`Following`]): it stamps
//! each event with the last id of every topic it follows (`a=17,b=4`; names exclude `=`
//! and `,` for this), so one `Last-Event-ID` resumes each topic from its part.
//!
//! # Over Redis
//!
//! Give each topic's hub a backend of one family of
//! [`RedisStreams`](crate::hub::RedisStreams) ([`stream`](crate::hub::RedisStreams::stream)):
//!
//! ```
//! # #[cfg(feature = "redis")] {
//! use sse_pump::hub::{Hub, RedisStreams, Topics};
//! let redis = RedisStreams::new("redis://127.0.0.1:6379", "unused").unwrap();
//! let topics = Topics::new(move |name| {
//!     Hub::builder().history(100).backend(redis.stream(&format!("notifications:{name}")))
//! });
//! # drop(topics);
//! # }
//! ```
//!
//! The layout:
//!
//! - **A stream per topic** (`notifications:{name}`) holds its history, trimmed to the
//!   topic's own history (`MAXLEN ~`), and names its events (the entry ids), so replay and
//!   resume per topic work across processes as with one hub, through the same code (a
//!   `Feed` per topic, one ring, one resolve). Writes go through the same script, with its
//!   idempotency key.
//! - **One writer and one reader per process** (a family runs one thread and two
//!   connections, whatever the number of topics). The writer pipelines every topic's
//!   writes; its script appends the entry and publishes its id on the channel named as
//!   the stream. The reader, on one RESP3 connection, subscribes to the channel of each
//!   topic this process holds, then loads the topic's newest entries (`XREVRANGE`; until
//!   then a subscribe is refused with [`SubscribeError::Loading`], or waits in
//!   [`Hub::subscribe_async`]); a message marks the topic, which it then reads with a
//!   check that nothing it had not read was trimmed (several topics per round trip).
//! - **Live delivery only where the topic is held**: Redis sends a topic's messages only
//!   to the processes subscribed to its channel, those holding the topic (a subscriber
//!   here, or used here within [`idle_after`](Topics::idle_after)). An idle topic is
//!   dropped with its `Feed` and its channel, and comes back with its history from Redis.
//!
//! Trade-offs. The first layout tried had no pub/sub: one `XREAD BLOCK` over the streams
//! of every topic held. It needs no second mechanism, but Redis registers and unregisters
//! the blocked client on every key at each call, O(topics) per wake-up: with 10,000
//! topics per process and a few thousand events/s it delivered a fifth of the in-process
//! rate at 130 ms p50 (`benches/hub-results.md`). The pub/sub wake-up (as Centrifugo does,
//! which uses pub/sub for the live path and streams for history) is O(1) per event.
//! Unlike Centrifugo, the stream stays the only source of what is delivered: the message
//! carries no event, so there is no seam to stitch between a pub/sub message and the
//! history, a message lost while a connection is re-made is found by the checked read,
//! and every process delivers the same entries in the same order. The cost is a second
//! round trip per wake-up (the read after the message), shared by the topics woken
//! together. `PUBLISH` goes to every node of a Redis Cluster; sharded pub/sub (`SPUBLISH`)
//! would keep it on the topic's shard, with a subscription per shard (not done: one
//! Redis server is assumed).
//!
//! - A process that only publishes to a topic follows it for `idle_after` too (the hub
//!   that publishes is the hub that would deliver). A process that must not, publishes
//!   with its own `RedisStreams` family and no `Topics`.
//! - Ids are the stream's entry ids, so a topic's ids survive its hub being dropped and
//!   made again (unlike the in-process log, whose next incarnation numbers from the time).
//!
//! Memory: a topic's ring of `history + subscriber_capacity` slots is allocated with its
//! first event, so a topic never published to costs its map entry and hub state (see
//! `benches/hub-results.md` for figures).

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use super::{
    builder::HubBuilder,
    error::{SubscribeError, TopicError},
    following::Following,
    handle::Hub,
    lock::lock,
};

/// The longest topic name, in bytes.
pub const MAX_TOPIC_NAME: usize = 128;

/// Checks a topic name: 1 to [`MAX_TOPIC_NAME`] bytes of ASCII letters, digits, `-`, `_`,
/// `.`, `:` and `@` (so it fits a URL path segment, a Redis key and a header unescaped).
///
/// # Errors
///
/// The [`TopicError`] saying why it is refused.
///
/// # Examples
///
/// ```
/// use sse_pump::hub::{check_topic, TopicError};
/// assert_eq!(check_topic("user:17"), Ok(()));
/// assert_eq!(check_topic(""), Err(TopicError::Empty));
/// ```
pub fn check_topic(name: &str) -> Result<(), TopicError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-_.:@".contains(&b);
    match name.len() {
        0 => Err(TopicError::Empty),
        len if len > MAX_TOPIC_NAME => Err(TopicError::TooLong),
        _ if !name.bytes().all(allowed) => Err(TopicError::Character),
        _ => Ok(()),
    }
}

type Factory = dyn Fn(&str) -> HubBuilder + Send + Sync;

/// Many named topics in one process (per-user notifications, chat rooms, per-document
/// feeds): each topic is a [`Hub`] of its own (its own ids, history and limits), made by
/// `make` on first use, and dropped once idle. A cheap handle: clones share the topics.
///
/// Authorization stays the application's: check who may read or write a topic in the
/// handler, before calling [`topic`](Topics::topic).
///
/// # Examples
///
/// ```
/// use sse_pump::{Event, hub::{Hub, Topics}};
///
/// let topics = Topics::new(|_name| Hub::builder().history(100));
/// let rx = topics.topic("user:17")?.subscribe(None)?;
/// topics.topic("user:17")?.publish(Event::new().data("you have mail"))?;
/// topics.topic("user:18")?.publish(Event::new().data("not for 17"))?;
/// assert_eq!(rx.pending(), 1);
/// assert_eq!(topics.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Topics {
    inner: Arc<Inner>,
}

struct Inner {
    make: Box<Factory>,
    idle: Duration,
    held: Mutex<Held>,
}

struct Held {
    hubs: HashMap<Box<str>, (Hub, Instant)>,
    swept: Instant,
}

impl Topics {
    /// Topics whose hubs `make` configures, by name (history, limits, a shared log's
    /// backend, …); idle after 5 minutes.
    ///
    /// # Examples
    ///
    /// ```
    /// let topics = sse_pump::hub::Topics::new(|_| sse_pump::hub::Hub::builder().history(16));
    /// # drop(topics);
    /// ```
    pub fn new(make: impl Fn(&str) -> HubBuilder + Send + Sync + 'static) -> Self {
        let held = Held {
            hubs: HashMap::new(),
            swept: Instant::now(),
        };
        Topics {
            inner: Arc::new(Inner {
                make: Box::new(make),
                idle: Duration::from_secs(300),
                held: Mutex::new(held),
            }),
        }
    }

    /// Drops a topic once it has had no subscriber, no handle held outside and no use for
    /// `idle` (its history goes with it). Default 5 minutes. Call it before cloning.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let topics = sse_pump::hub::Topics::new(|_| sse_pump::hub::Hub::builder())
    ///     .idle_after(Duration::from_secs(60));
    /// # drop(topics);
    /// ```
    pub fn idle_after(mut self, idle: Duration) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.idle = idle;
        }
        self
    }

    /// The hub of topic `name`, made now if it is not held; drops idle topics on the way.
    ///
    /// # Errors
    ///
    /// [`TopicError`] for a name [`check_topic`] refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// let topics = sse_pump::hub::Topics::new(|_| sse_pump::hub::Hub::builder());
    /// let hub = topics.topic("room-1")?;
    /// hub.publish(sse_pump::Event::new().data("hi"))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn topic(&self, name: &str) -> Result<Hub, TopicError> {
        check_topic(name)?;
        let mut held = lock(&self.inner.held);
        let now = Instant::now();
        if now.duration_since(held.swept) >= self.inner.idle / 4 {
            held.sweep(now, self.inner.idle);
        }
        if let Some((hub, used)) = held.hubs.get_mut(name) {
            *used = now;
            return Ok(hub.clone());
        }
        let hub = (self.inner.make)(name).first_id(micros()).build();
        held.hubs.insert(name.into(), (hub.clone(), now));
        Ok(hub)
    }

    /// One stream of the topics `names` (each made if it is not held), resuming each from
    /// its part of `last_event_id` (an id this stream wrote, `a=17,b=4`): see
    /// [`Following`]. Without a `Last-Event-ID`, live events only.
    ///
    /// # Errors
    ///
    /// [`SubscribeError::Topic`] for a name [`check_topic`] refuses (none is subscribed),
    /// and the other [`SubscribeError`]s when a topic's hub refuses ([`Hub::subscribe`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::hub::{Hub, Topics};
    /// let topics = Topics::new(|_| Hub::builder().history(16));
    /// let stream = topics.follow(&["user:17", "broadcast"], None)?;
    /// assert_eq!(topics.subscribers(), 2);
    /// # drop(stream);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn follow(
        &self,
        names: &[&str],
        last_event_id: Option<&str>,
    ) -> Result<Following, SubscribeError> {
        names.iter().try_for_each(|name| check_topic(name))?;
        let hubs: Result<Vec<_>, TopicError> = (names.iter())
            .map(|name| Ok((*name, self.topic(name)?)))
            .collect();
        Following::new(hubs?, last_event_id)
    }

    /// [`Topics::follow`], waiting first until each topic's hub has loaded its log's
    /// history (a topic made now over a shared log), for up to its
    /// [`load_timeout`](HubBuilder::load_timeout).
    ///
    /// # Errors
    ///
    /// As [`Topics::follow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::hub::{Hub, Topics};
    /// # futures_lite::future::block_on(async {
    /// let topics = Topics::new(|_| Hub::builder().history(16));
    /// let stream = topics.follow_async(&["a", "b"], None).await?;
    /// # drop(stream);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn follow_async(
        &self,
        names: &[&str],
        last_event_id: Option<&str>,
    ) -> Result<Following, SubscribeError> {
        for name in names {
            self.topic(name)?.until_loaded().await;
        }
        self.follow(names, last_event_id)
    }

    /// How many topics are held now.
    ///
    /// # Examples
    ///
    /// ```
    /// let topics = sse_pump::hub::Topics::new(|_| sse_pump::hub::Hub::builder());
    /// assert_eq!(topics.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.inner.held).hubs.len()
    }

    /// Whether no topic is held.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sse_pump::hub::Topics::new(|_| sse_pump::hub::Hub::builder()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Subscribers over every topic held now.
    ///
    /// # Examples
    ///
    /// ```
    /// let topics = sse_pump::hub::Topics::new(|_| sse_pump::hub::Hub::builder());
    /// let _rx = topics.topic("a")?.subscribe(None)?;
    /// assert_eq!(topics.subscribers(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribers(&self) -> usize {
        let held = lock(&self.inner.held);
        held.hubs
            .values()
            .map(|(hub, _)| hub.stats().subscribers)
            .sum()
    }
}

impl Held {
    /// Drops the topics idle for `idle` (no subscriber, no handle outside): closing them.
    fn sweep(&mut self, now: Instant, idle: Duration) {
        self.swept = now;
        self.hubs.retain(|_, (hub, used)| {
            let quiet = now.duration_since(*used) >= idle;
            !(quiet && hub.is_idle())
        });
    }
}

/// Now, in microseconds since the Unix epoch: the first id of a topic's hub.
fn micros() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.map_or(1, |since| since.as_micros() as u64)
}

impl fmt::Debug for Topics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topics")
            .field("topics", &self.len())
            .field("idle_after", &self.inner.idle)
            .finish()
    }
}
