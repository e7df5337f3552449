//! What the streams of one [`RedisStreams`](super::RedisStreams) family share: the client,
//! the publish queue, the thread's state, and the settings; and each stream's own flags.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use futures_lite::future;
use redis::{aio::MultiplexedConnection, AsyncConnectionConfig, Client, PushInfo, RedisResult};

use super::super::{EventId, Feed, Position};
use crate::{hub::lock::lock, wire::Event};

/// The field an entry's frame is stored under.
pub(super) const FIELD: &str = "sse";
/// How long a connection attempt, or any other command, may take.
pub(super) const TIMEOUT: Duration = Duration::from_secs(2);
/// Entries read, or written, per round trip.
pub(super) const BATCH: usize = 512;

/// One stream key, followed by one hub.
pub(super) struct Stream {
    pub(super) key: String,
    pub(super) started: AtomicBool,
    pub(super) stopped: AtomicBool,
    /// Whether the reader has loaded the stream's newest entries into the hub.
    pub(super) loaded: AtomicBool,
    /// The hub's history, which `MAXLEN ~` keeps (at least 1).
    pub(super) max_len: AtomicUsize,
    /// Events from `Hub::publish` to this stream that could not be written.
    pub(super) failed: AtomicU64,
}

impl Stream {
    pub(super) fn new(key: &str) -> Arc<Self> {
        Arc::new(Stream {
            key: key.to_owned(),
            started: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            loaded: AtomicBool::new(false),
            max_len: AtomicUsize::new(1),
            failed: AtomicU64::new(0),
        })
    }
}

/// The connections' thread and what it serves, shared by every stream of a family.
pub(super) struct Pool {
    /// For the writer.
    client: Client,
    /// For the reader: RESP3, so that one connection both reads and subscribes.
    subscriber: Client,
    pub(super) jobs: (async_channel::Sender<Job>, async_channel::Receiver<Job>),
    /// Whether the writer has a working connection.
    pub(super) writable: AtomicBool,
    /// Whether the reader has a working connection.
    pub(super) reading: AtomicBool,
    /// Notified when a flag or the state changes.
    pub(super) changed: event_listener::Event,
    /// Events from `Hub::publish` that were queued but could not be written.
    pub(super) failed: AtomicU64,
    /// How long an idempotency key is remembered.
    pub(super) window: Duration,
    /// This family's writes' own keys: a random prefix, and a count.
    nonce: u64,
    written: AtomicU64,
    pub(super) state: Mutex<State>,
}

/// The thread's state.
pub(super) struct State {
    /// Whether the thread runs.
    pub(super) running: bool,
    /// Streams started and not stopped: the thread ends when there are none.
    pub(super) active: usize,
    /// Streams started that the reader has not taken yet.
    pub(super) joining: Vec<(Arc<Stream>, Feed)>,
    /// Streams stopped that the reader may still follow.
    pub(super) leaving: Vec<Arc<Stream>>,
}

impl Pool {
    pub(super) fn new(client: Client, subscriber: Client) -> Self {
        Pool {
            client,
            subscriber,
            jobs: async_channel::bounded(1024),
            writable: AtomicBool::new(false),
            reading: AtomicBool::new(false),
            changed: event_listener::Event::new(),
            failed: AtomicU64::new(0),
            window: Duration::from_secs(60),
            nonce: nonce(),
            written: AtomicU64::new(0),
            state: Mutex::new(State {
                running: false,
                active: 0,
                joining: Vec::new(),
                leaving: Vec::new(),
            }),
        }
    }

    pub(super) fn set(&self, flag: &AtomicBool, value: bool) {
        if flag.swap(value, Ordering::AcqRel) != value {
            self.changed.notify(usize::MAX);
        }
    }

    /// Whether no stream is active: the thread winds down.
    pub(super) fn is_idle(&self) -> bool {
        lock(&self.state).active == 0
    }

    /// Resolves once no stream is active.
    pub(super) async fn idle(&self) {
        loop {
            let changed = self.changed.listen();
            if self.is_idle() {
                return;
            }
            changed.await;
        }
    }

    /// Stops `stream` (once): its hub closed or is gone.
    pub(super) fn leave(&self, stream: &Arc<Stream>) {
        if stream.stopped.swap(true, Ordering::AcqRel) || !stream.started.load(Ordering::Acquire) {
            return;
        }
        let mut state = lock(&self.state);
        state.active = state.active.saturating_sub(1);
        state.leaving.push(stream.clone());
        drop(state);
        self.changed.notify(usize::MAX);
    }

    /// The writer's connection.
    pub(super) async fn connect(&self) -> RedisResult<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(TIMEOUT);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// The reader's connection, whose pub/sub messages go to `pushed`.
    pub(super) async fn subscribe(
        &self,
        pushed: async_channel::Sender<PushInfo>,
    ) -> RedisResult<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(TIMEOUT)
            .set_push_sender(move |info| pushed.try_send(info));
        self.subscriber
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// The Redis key that says a write was appended: the publisher's idempotency key, or
    /// the write's own; and how long it is kept.
    fn once_key(&self, stream: &Stream, key: Option<&str>) -> (String, Duration) {
        match key {
            Some(key) => (format!("{}:once:k:{key}", stream.key), self.window),
            None => {
                let n = self.written.fetch_add(1, Ordering::Relaxed);
                let own = format!("{}:once:a:{:x}-{n}", stream.key, self.nonce);
                (own, RETRY_WINDOW)
            }
        }
    }
}

/// How long a write's own key (no idempotency key given) is kept: long enough for the
/// writer's retry after a lost reply to find it (the retry follows the reconnection).
const RETRY_WINDOW: Duration = Duration::from_secs(10);

/// One event to append to one stream, once per key; `reply` for `publish_async`, which
/// gets its id, or the event back on failure.
pub(super) struct Job {
    pub(super) stream: Arc<Stream>,
    pub(super) event: Event,
    /// The Redis key that says it was appended ([`Pool::once_key`]).
    pub(super) once: String,
    /// How long `once` is kept.
    pub(super) window: Duration,
    pub(super) reply: Option<async_channel::Sender<Result<EventId, Event>>>,
}

impl Job {
    pub(super) fn new(pool: &Pool, stream: &Arc<Stream>, event: Event, key: Option<&str>) -> Self {
        let (once, window) = pool.once_key(stream, key);
        Job {
            stream: stream.clone(),
            event,
            once,
            window,
            reply: None,
        }
    }
}

/// Doubling waits between reconnects, from 50 ms to 2 s.
pub(super) struct Backoff(Duration);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(50);

    pub(super) fn new() -> Self {
        Backoff(Self::FIRST)
    }

    /// Waits the current time (or until the pool is idle), then doubles it.
    pub(super) async fn wait(&mut self, pool: &Pool) {
        let wait = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(2));
        future::or(tokio::time::sleep(wait), pool.idle()).await;
    }
}

/// A Redis entry id, `<ms>-<seq>`, as a position.
pub(super) fn position(id: &str) -> Option<Position> {
    let (ms, seq) = id.split_once('-')?;
    let number = |text: &str| {
        let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| text.parse::<u64>().ok())?
    };
    Some(Position::new(number(ms)?, number(seq)?))
}

/// A random number for this family's own keys (from the standard library's random
/// hashing keys), so that two processes never share one.
fn nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |t| t.as_nanos()),
    );
    hasher.finish()
}
