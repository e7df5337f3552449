//! [`RedisStreams`]: hubs' logs in Redis streams, shared by every server process; one
//! thread and two connections per family of streams, however many streams it has.
//!
//! A family (a [`RedisStreams`] and the ones made from it with
//! [`stream`](RedisStreams::stream)) runs one thread with a small tokio runtime (the
//! `redis` crate's IO needs one) and two tasks, each on a connection of its own:
//!
//! - the writer drains the family's publish queue, every stream's events together, with
//!   one script per event (`XADD key MAXLEN ~ history * sse <frame>` unless its
//!   idempotency key is set, then `PUBLISH key <id>`), pipelined;
//! - the reader follows every stream whose hub is open, on a RESP3 connection that both
//!   reads and subscribes: when a stream joins, it subscribes to the channel named as the
//!   stream, then loads its newest `history` entries (`XREVRANGE`); a message on the
//!   channel marks the stream, which it then reads in one transaction that also checks
//!   that the stream's last entry read is still there (so that a trim or a restart past
//!   it is a `reset`, never a silent gap). Messages only wake the reader: what reaches
//!   the hubs comes from the streams, and every stream is read again after a
//!   reconnection, so a message lost meanwhile loses nothing.
//!
//! The thread starts with the first stream and ends with the last one. The hub's users
//! talk to it through a runtime-free queue, so they may run on tokio, smol or anything
//! else.

mod pool;
mod read;
mod write;

use std::{
    fmt,
    sync::{atomic::Ordering, Arc},
};

use futures_lite::future;
use redis::{Client, IntoConnectionInfo};

use self::{
    pool::{position, Job, Pool, Stream},
    read::Reader,
};
use super::{Appending, Backend, EventId, Feed, Position};
use crate::{
    hub::{error::PublishError, lock::lock},
    wire::Event,
};

/// A hub backend that logs events in a [Redis stream](https://redis.io/docs/latest/develop/data-types/streams/),
/// so that the hubs of several server processes serve one stream of events and resume each
/// other's clients (feature `redis`). See [`Backend`] for the design, and the README's
/// scale-out section.
///
/// Events go on the wire with the entry ids as `id` (`1700000000000-0`). The stream is
/// trimmed to about the hub's [`history`](crate::hub::HubBuilder::history) (`MAXLEN ~`). When
/// Redis cannot be reached, publishing is refused with
/// [`PublishError::Unavailable`], and the backend reconnects by itself (backing off from
/// 50 ms to 2 s); subscribers stay connected and receive what was logged meanwhile, or
/// `event: reset` if entries were lost (Redis restarted empty, the stream deleted or
/// trimmed past this process).
///
/// **Many streams, one thread.** [`stream`](RedisStreams::stream) gives a backend for
/// another stream on the same thread and connections: a process with a
/// [`Topics`](crate::hub::Topics) of 100,000 topics over Redis runs one thread and two
/// connections for them all (see the [`Topics`](crate::hub::Topics) docs for the
/// layout and its trade-offs). The thread runs while one of the family's hubs is open.
///
/// Limits, by design or not handled yet:
///
/// - Writes are exactly once within a window: each write is a script that appends the
///   entry unless a key says it was appended, and sets the key, in one step. The key is
///   the publisher's idempotency key ([`Hub::publish_once`](crate::hub::Hub::publish_once),
///   remembered for [`idempotency_window`](RedisStreams::idempotency_window)), or the
///   write's own (remembered for 10 s), so a batch whose reply was lost with its
///   connection and is written again on the next one is not appended twice. Each key is a
///   Redis string (about 100 bytes) for its window: at 10,000 events/s, about 10 MB.
/// - Loss is detected by the reader's every read: it reads the entries after its last one
///   and checks that this one is still there in one transaction (trimming removes the
///   oldest first, so nothing after it was trimmed). A reader that falls more than about
///   `history` entries behind gets a `reset` even if the entries it needs were still
///   there. Not detected: entries removed one by one (`XDEL`) by another program, and a
///   Redis that restarts from an older snapshot still holding the reader's last entry.
/// - [`Lag::Wait`](crate::hub::Lag::Wait) acts as [`Lag::Disconnect`](crate::hub::Lag::Disconnect):
///   the reader never waits for a subscriber.
/// - One hub per `RedisStreams`: clones share its stream, so a second hub built with a
///   clone of one already in use is never fed (use [`stream`](RedisStreams::stream) for
///   another hub, even on the same key).
/// - Redis 6.2 or later (RESP3, and exclusive ranges in `XRANGE`). The reader is woken
///   by pub/sub messages on channels named as the streams: another program publishing on
///   them only wakes it for nothing.
///
/// # Examples
///
/// ```no_run
/// use sse_pump::{Event, hub::{Hub, RedisStreams}};
/// # futures_lite::future::block_on(async {
/// let redis = RedisStreams::new("redis://127.0.0.1:6379", "chat")?;
/// let hub = Hub::builder().history(10_000).backend(redis.clone()).build();
/// redis.ready().await; // connected and loaded (optional: publishes are refused until then)
/// hub.publish_async(Event::new().data("hello, every instance")).await?;
/// let rx = hub.subscribe(Some("1700000000000-0"))?; // resumes a client of any instance
/// # drop(rx);
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct RedisStreams {
    pool: Arc<Pool>,
    stream: Arc<Stream>,
}

/// A Redis URL that could not be used.
///
/// # Examples
///
/// ```
/// let err = sse_pump::hub::RedisStreams::new("http://not-redis", "chat").unwrap_err();
/// assert!(err.to_string().starts_with("invalid Redis URL"));
/// ```
#[derive(Debug)]
pub struct InvalidUrl(String);

impl fmt::Display for InvalidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid Redis URL: {}", self.0)
    }
}

impl std::error::Error for InvalidUrl {}

impl RedisStreams {
    /// A backend for the stream at `key` on the Redis server at `url`
    /// (`redis://host:port/db`), with a thread and connections of its own (shared with the
    /// backends made from it by [`stream`](RedisStreams::stream)). Connecting happens in
    /// the background once the hub is built; see [`ready`](RedisStreams::ready).
    ///
    /// # Errors
    ///
    /// [`InvalidUrl`] when `url` is not a Redis URL.
    ///
    /// # Examples
    ///
    /// ```
    /// let redis = sse_pump::hub::RedisStreams::new("redis://127.0.0.1:6379", "chat")?;
    /// # drop(redis);
    /// # Ok::<(), sse_pump::hub::InvalidUrl>(())
    /// ```
    pub fn new(url: &str, key: &str) -> Result<Self, InvalidUrl> {
        let invalid = |err: redis::RedisError| InvalidUrl(err.to_string());
        let info = url.into_connection_info().map_err(invalid)?;
        let mut resp3 = info.clone();
        resp3.redis.protocol = redis::ProtocolVersion::RESP3;
        let (client, subscriber) = (Client::open(info), Client::open(resp3));
        Ok(RedisStreams {
            pool: Arc::new(Pool::new(
                client.map_err(invalid)?,
                subscriber.map_err(invalid)?,
            )),
            stream: Stream::new(key),
        })
    }

    /// A backend for the stream at `key`, on this one's server, thread and connections
    /// (its queue, settings and [`failed_writes`](RedisStreams::failed_writes) too): for
    /// the hub of another topic. However many there are, the family runs one thread and
    /// two connections.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::hub::{Hub, RedisStreams, Topics};
    /// let redis = RedisStreams::new("redis://127.0.0.1:6379", "unused")?;
    /// let topics = Topics::new(move |name| {
    ///     Hub::builder().history(100).backend(redis.stream(&format!("notifications:{name}")))
    /// });
    /// # drop(topics);
    /// # Ok::<(), sse_pump::hub::InvalidUrl>(())
    /// ```
    pub fn stream(&self, key: &str) -> RedisStreams {
        RedisStreams {
            pool: self.pool.clone(),
            stream: Stream::new(key),
        }
    }

    /// How long an idempotency key ([`Hub::publish_once`](crate::hub::Hub::publish_once))
    /// is remembered: a publish retried within it with the same key is not appended again.
    /// Default 60 seconds. Each key costs a Redis string for that long. Call it before
    /// handing the backend to a hub, or making others from it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let redis = sse_pump::hub::RedisStreams::new("redis://127.0.0.1", "chat")?
    ///     .idempotency_window(Duration::from_secs(300));
    /// # drop(redis);
    /// # Ok::<(), sse_pump::hub::InvalidUrl>(())
    /// ```
    pub fn idempotency_window(mut self, window: std::time::Duration) -> Self {
        if let Some(pool) = Arc::get_mut(&mut self.pool) {
            pool.window = window.max(std::time::Duration::from_millis(1));
        }
        self
    }

    /// How many publishes may wait for the writer; beyond, [`Hub::publish`](crate::hub::Hub::publish)
    /// refuses with [`PublishError::Full`]. Default 1,024, for the family. Call it before
    /// handing the backend to a hub, or making others from it.
    ///
    /// # Examples
    ///
    /// ```
    /// let redis = sse_pump::hub::RedisStreams::new("redis://127.0.0.1", "chat")?.queue(4096);
    /// # drop(redis);
    /// # Ok::<(), sse_pump::hub::InvalidUrl>(())
    /// ```
    pub fn queue(mut self, events: usize) -> Self {
        if let Some(pool) = Arc::get_mut(&mut self.pool) {
            pool.jobs = async_channel::bounded(events.max(1));
        }
        self
    }

    /// How many events [`Hub::publish`](crate::hub::Hub::publish) queued, on any stream of
    /// the family, that could not be written: refused by Redis (the key holds something
    /// else than a stream), or still queued when the last hub closed while Redis was
    /// unreachable. Events waiting for a reconnection are not counted: they are written
    /// once Redis is back. [`Hub::publish_async`](crate::hub::Hub::publish_async) reports
    /// each failure instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let redis = sse_pump::hub::RedisStreams::new("redis://127.0.0.1", "chat")?;
    /// assert_eq!(redis.failed_writes(), 0);
    /// # Ok::<(), sse_pump::hub::InvalidUrl>(())
    /// ```
    pub fn failed_writes(&self) -> u64 {
        self.pool.failed.load(Ordering::Relaxed)
    }

    /// Whether the backend can write to Redis and follows its stream now (loaded).
    ///
    /// # Examples
    ///
    /// ```
    /// let redis = sse_pump::hub::RedisStreams::new("redis://127.0.0.1", "chat")?;
    /// assert!(!redis.is_ready()); // not handed to a hub yet
    /// # Ok::<(), sse_pump::hub::InvalidUrl>(())
    /// ```
    pub fn is_ready(&self) -> bool {
        let pool = &self.pool;
        pool.writable.load(Ordering::Acquire)
            && pool.reading.load(Ordering::Acquire)
            && self.stream.loaded.load(Ordering::Acquire)
    }

    /// Waits until the backend can write to Redis and follows its stream (or is stopped).
    /// Wrap it in a timeout: Redis may be down.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # futures_lite::future::block_on(async {
    /// let redis = sse_pump::hub::RedisStreams::new("redis://127.0.0.1", "chat")?;
    /// let hub = sse_pump::hub::Hub::builder().backend(redis.clone()).build();
    /// redis.ready().await;
    /// # drop(hub);
    /// # Ok::<(), sse_pump::hub::InvalidUrl>(()) }).unwrap();
    /// ```
    pub async fn ready(&self) {
        loop {
            let changed = self.pool.changed.listen();
            if self.is_ready() || self.stream.stopped.load(Ordering::Acquire) {
                return;
            }
            changed.await;
        }
    }

    /// The event back as the error for this backend's state, if it cannot take it now.
    fn refusal(&self, event: Event) -> Result<Event, PublishError> {
        if self.stream.stopped.load(Ordering::Acquire) {
            return Err(PublishError::Closed(event));
        }
        if !self.pool.writable.load(Ordering::Acquire) {
            return Err(PublishError::Unavailable(event));
        }
        Ok(event)
    }
}

impl Backend for RedisStreams {
    fn start(&self, feed: Feed) {
        if self.stream.started.swap(true, Ordering::AcqRel) {
            return; // one hub per backend: a second one is never fed
        }
        let stream = &self.stream;
        stream
            .max_len
            .store(feed.history().max(1), Ordering::Release);
        let mut state = lock(&self.pool.state);
        state.active += 1;
        state.joining.push((stream.clone(), feed));
        let spawn = !std::mem::replace(&mut state.running, true);
        drop(state);
        self.pool.changed.notify(usize::MAX);
        if spawn && !run(self.pool.clone()) {
            lock(&self.pool.state).running = false;
            self.pool.leave(stream); // publishing is then refused with `Closed`
        }
    }

    fn append(&self, event: Event, key: Option<&str>) -> Result<Option<EventId>, PublishError> {
        let event = self.refusal(event)?;
        let job = Job::new(&self.pool, &self.stream, event, key);
        self.pool.jobs.0.try_send(job).map_err(|err| match err {
            async_channel::TrySendError::Full(job) => PublishError::Full(job.event),
            async_channel::TrySendError::Closed(job) => PublishError::Closed(job.event),
        })?;
        Ok(None) // Redis names the entry when it writes it
    }

    fn append_wait<'a>(&'a self, event: Event, key: Option<&'a str>) -> Appending<'a> {
        Box::pin(async move {
            let event = self.refusal(event)?.freeze();
            let (reply, confirmed) = async_channel::bounded(1);
            let job = Job {
                reply: Some(reply),
                ..Job::new(&self.pool, &self.stream, event.clone(), key)
            };
            if self.pool.jobs.0.send(job).await.is_err() {
                return Err(PublishError::Closed(event));
            }
            match confirmed.recv().await {
                Ok(Ok(id)) => Ok(id),
                Ok(Err(event)) => Err(PublishError::Unavailable(event)),
                Err(_) => Err(PublishError::Unavailable(event)),
            }
        })
    }

    fn position(&self, id: &str) -> Option<Position> {
        position(id)
    }

    fn stop(&self) {
        self.pool.leave(&self.stream);
    }

    fn failed_writes(&self) -> u64 {
        self.stream.failed.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for RedisStreams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStreams")
            .field("key", &self.stream.key)
            .field("ready", &self.is_ready())
            .field("queued", &self.pool.jobs.0.len())
            .field("failed_writes", &self.failed_writes())
            .finish()
    }
}

/// Spawns the family's thread: the reader and the writer, run again while a stream joins
/// as the last one leaves. Whether it was spawned.
fn run(pool: Arc<Pool>) -> bool {
    let spawned = std::thread::Builder::new()
        .name("sse-pump-redis".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let mut reader = Reader::default();
            loop {
                if let Ok(runtime) = &runtime {
                    runtime.block_on(async {
                        future::zip(read::read(&pool, &mut reader), write::write(&pool)).await
                    });
                }
                let mut state = lock(&pool.state);
                if state.active == 0 || runtime.is_err() {
                    state.running = false;
                    let joining = std::mem::take(&mut state.joining);
                    drop(state);
                    joining.iter().for_each(|(stream, _)| pool.leave(stream));
                    pool.set(&pool.writable, false);
                    return;
                }
            }
        });
    spawned.is_ok()
}

#[cfg(test)]
mod tests {
    use super::{pool::position, read::is_frame, *};

    #[test]
    fn parses_entry_ids() {
        assert_eq!(
            position("1700000000000-3"),
            Some(Position::new(1_700_000_000_000, 3))
        );
        for bad in [
            "",
            "1",
            "-1",
            "1-",
            "a-1",
            "+1-0",
            "1-0-0",
            "99999999999999999999-0",
        ] {
            assert_eq!(position(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn checks_frames() {
        for good in [&b"data: x\n\n"[..], b"\n", b"event: a\ndata: b\n\n"] {
            assert!(is_frame(good), "{good:?}");
        }
        for bad in [
            &b"data: x\n"[..],
            b"data: x\n\ndata: y\n\n",
            b"data: \r\n\n",
            b"",
            b"\n\n",
            b"\xff\n\n",
        ] {
            assert!(!is_frame(bad), "{bad:?}");
        }
    }
}
