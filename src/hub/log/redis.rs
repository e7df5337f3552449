//! [`RedisStreams`]: a hub's log in one Redis stream, shared by every server process.
//!
//! One thread per backend runs a small tokio runtime (the `redis` crate's IO needs one)
//! with two tasks, each on a connection of its own: the writer drains the publish queue
//! with `XADD key MAXLEN ~ history * sse <frame>` (pipelined), and the reader follows the
//! stream and feeds the hub: `XREAD BLOCK` to wait, then one transaction that reads what
//! follows its last entry and checks that this entry is still there (so that a trim or a
//! restart past it is a `reset`, never a silent gap). The hub's users talk to it through a runtime-free
//! queue, so they may run on tokio, smol or anything else.

use std::{
    fmt,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use bytes::Bytes;
use futures_lite::future;
use redis::{aio::MultiplexedConnection, AsyncConnectionConfig, Client, RedisResult};

use super::{Appending, Backend, EventId, Feed, Position};
use crate::{hub::error::PublishError, wire::Event};

/// The field an entry's frame is stored under.
const FIELD: &str = "sse";
/// How long one `XREAD` blocks before it is sent again.
const BLOCK: Duration = Duration::from_secs(5);
/// How long a connection attempt, or any other command, may take.
const TIMEOUT: Duration = Duration::from_secs(2);
/// Entries read per `XREAD`.
const BATCH: usize = 512;
/// How long a write's own key (no idempotency key given) is kept: long enough for the
/// writer's retry after a lost reply to find it (the retry follows the reconnection).
const RETRY_WINDOW: Duration = Duration::from_secs(10);
/// Appends an entry unless its key is set, in one step: `KEYS[1]` the stream, `KEYS[2]`
/// the key; `ARGV`: the `MAXLEN ~` bound, the field ([`FIELD`]), the frame, the key's
/// lifetime in milliseconds. Returns the entry's id, the first one's when the key was set.
const APPEND_ONCE: &str = r#"
local id = redis.call('GET', KEYS[2])
if id then return id end
id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', ARGV[2], ARGV[3])
redis.call('SET', KEYS[2], id, 'PX', ARGV[4])
return id
"#;

/// A hub backend that logs events in one [Redis stream](https://redis.io/docs/latest/develop/data-types/streams/),
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
/// - One `RedisStreams` per hub: clones share one reader and one writer, so a second hub
///   built with a clone of one already in use is never fed. Each hub costs one thread and
///   two connections.
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
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    key: String,
    jobs: (async_channel::Sender<Job>, async_channel::Receiver<Job>),
    /// Whether the writer has a working connection.
    writable: AtomicBool,
    /// Whether the reader has loaded the stream and follows it.
    following: AtomicBool,
    /// Notified when `writable` or `following` change, or on stop.
    changed: event_listener::Event,
    started: AtomicBool,
    stopped: AtomicBool,
    /// The hub's history, which `MAXLEN ~` keeps (at least 1).
    max_len: AtomicUsize,
    /// Events from `Hub::publish` that were queued but could not be written.
    failed: AtomicU64,
    /// How long an idempotency key is remembered.
    window: Duration,
    /// This backend's writes' own keys: a random prefix, and a count.
    nonce: u64,
    written: AtomicU64,
}

/// One event to append, once per key; `reply` for `publish_async`, which gets its id, or
/// the event back on failure.
struct Job {
    event: Event,
    /// The Redis key that says it was appended: the publisher's idempotency key, or the
    /// job's own, so that the writer's retry after a lost reply is not appended twice.
    once: String,
    /// How long `once` is kept.
    window: Duration,
    reply: Option<async_channel::Sender<Result<EventId, Event>>>,
}

impl Job {
    fn new(inner: &Inner, event: Event, key: Option<&str>) -> Self {
        let (once, window) = match key {
            Some(key) => (format!("{}:once:k:{key}", inner.key), inner.window),
            None => {
                let n = inner.written.fetch_add(1, Ordering::Relaxed);
                let own = format!("{}:once:a:{:x}-{n}", inner.key, inner.nonce);
                (own, RETRY_WINDOW)
            }
        };
        Job {
            event,
            once,
            window,
            reply: None,
        }
    }
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
    /// (`redis://host:port/db`). Connecting happens in the background once the hub is
    /// built; see [`ready`](RedisStreams::ready).
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
        let client = Client::open(url).map_err(|err| InvalidUrl(err.to_string()))?;
        Ok(RedisStreams {
            inner: Arc::new(Inner {
                client,
                key: key.to_owned(),
                jobs: async_channel::bounded(1024),
                writable: AtomicBool::new(false),
                following: AtomicBool::new(false),
                changed: event_listener::Event::new(),
                started: AtomicBool::new(false),
                stopped: AtomicBool::new(false),
                max_len: AtomicUsize::new(1),
                failed: AtomicU64::new(0),
                window: Duration::from_secs(60),
                nonce: nonce(),
                written: AtomicU64::new(0),
            }),
        })
    }

    /// How long an idempotency key ([`Hub::publish_once`](crate::hub::Hub::publish_once))
    /// is remembered: a publish retried within it with the same key is not appended again.
    /// Default 60 seconds. Each key costs a Redis string for that long. Call it before
    /// handing the backend to a hub.
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
    pub fn idempotency_window(mut self, window: Duration) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.window = window.max(Duration::from_millis(1));
        }
        self
    }

    /// How many publishes may wait for the writer; beyond, [`Hub::publish`](crate::hub::Hub::publish)
    /// refuses with [`PublishError::Full`]. Default 1,024. Call it before handing the
    /// backend to a hub.
    ///
    /// # Examples
    ///
    /// ```
    /// let redis = sse_pump::hub::RedisStreams::new("redis://127.0.0.1", "chat")?.queue(4096);
    /// # drop(redis);
    /// # Ok::<(), sse_pump::hub::InvalidUrl>(())
    /// ```
    pub fn queue(mut self, events: usize) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.jobs = async_channel::bounded(events.max(1));
        }
        self
    }

    /// How many events [`Hub::publish`](crate::hub::Hub::publish) queued that could not be
    /// written: refused by Redis (the key holds something else than a stream), or still
    /// queued when the hub closed while Redis was unreachable. Events waiting for a
    /// reconnection are not counted: they are written once Redis is back.
    /// [`Hub::publish_async`](crate::hub::Hub::publish_async) reports each failure instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let redis = sse_pump::hub::RedisStreams::new("redis://127.0.0.1", "chat")?;
    /// assert_eq!(redis.failed_writes(), 0);
    /// # Ok::<(), sse_pump::hub::InvalidUrl>(())
    /// ```
    pub fn failed_writes(&self) -> u64 {
        self.inner.failed.load(Ordering::Relaxed)
    }

    /// Whether the backend can write to Redis and follows the stream now.
    ///
    /// # Examples
    ///
    /// ```
    /// let redis = sse_pump::hub::RedisStreams::new("redis://127.0.0.1", "chat")?;
    /// assert!(!redis.is_ready()); // not handed to a hub yet
    /// # Ok::<(), sse_pump::hub::InvalidUrl>(())
    /// ```
    pub fn is_ready(&self) -> bool {
        self.inner.writable.load(Ordering::Acquire) && self.inner.following.load(Ordering::Acquire)
    }

    /// Waits until the backend can write to Redis and follows the stream (or is stopped).
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
            let changed = self.inner.changed.listen();
            if self.is_ready() || self.inner.stopped.load(Ordering::Acquire) {
                return;
            }
            changed.await;
        }
    }
}

impl Inner {
    fn set(&self, flag: &AtomicBool, value: bool) {
        if flag.swap(value, Ordering::AcqRel) != value {
            self.changed.notify(usize::MAX);
        }
    }

    fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Resolves once `stop` was called.
    async fn stopped(&self) {
        loop {
            let changed = self.changed.listen();
            if self.is_stopped() {
                return;
            }
            changed.await;
        }
    }

    async fn connect(&self, response: Duration) -> RedisResult<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(response);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }
}

impl Backend for RedisStreams {
    fn start(&self, feed: Feed) {
        if self.inner.started.swap(true, Ordering::AcqRel) {
            return; // one hub per backend: a second one is never fed
        }
        let inner = self.inner.clone();
        inner
            .max_len
            .store(feed.history().max(1), Ordering::Release);
        let spawned = std::thread::Builder::new()
            .name("sse-pump-redis".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match runtime {
                    Ok(runtime) => runtime.block_on(run(&inner, &feed)),
                    Err(_) => stop(&inner),
                }
            });
        if spawned.is_err() {
            stop(&self.inner); // publishing is then refused with `Closed`
        }
    }

    fn append(&self, event: Event, key: Option<&str>) -> Result<Option<EventId>, PublishError> {
        let inner = &self.inner;
        if inner.is_stopped() {
            return Err(PublishError::Closed(event));
        }
        if !inner.writable.load(Ordering::Acquire) {
            return Err(PublishError::Unavailable(event));
        }
        inner
            .jobs
            .0
            .try_send(Job::new(inner, event, key))
            .map_err(|err| match err {
                async_channel::TrySendError::Full(job) => PublishError::Full(job.event),
                async_channel::TrySendError::Closed(job) => PublishError::Closed(job.event),
            })?;
        Ok(None) // Redis names the entry when it writes it
    }

    fn append_wait<'a>(&'a self, event: Event, key: Option<&'a str>) -> Appending<'a> {
        Box::pin(async move {
            let inner = &self.inner;
            if inner.is_stopped() {
                return Err(PublishError::Closed(event));
            }
            if !inner.writable.load(Ordering::Acquire) {
                return Err(PublishError::Unavailable(event));
            }
            let event = event.freeze();
            let (reply, confirmed) = async_channel::bounded(1);
            let job = Job {
                reply: Some(reply),
                ..Job::new(inner, event.clone(), key)
            };
            if inner.jobs.0.send(job).await.is_err() {
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
        stop(&self.inner);
    }
}

fn stop(inner: &Inner) {
    inner.stopped.store(true, Ordering::Release);
    inner.jobs.0.close(); // the writer drains what is queued, then ends
    inner.changed.notify(usize::MAX);
}

impl fmt::Debug for RedisStreams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStreams")
            .field("key", &self.inner.key)
            .field("ready", &self.is_ready())
            .field("queued", &self.inner.jobs.0.len())
            .field("failed_writes", &self.failed_writes())
            .finish()
    }
}

/// A Redis entry id, `<ms>-<seq>`, as a position.
fn position(id: &str) -> Option<Position> {
    let (ms, seq) = id.split_once('-')?;
    let number = |text: &str| {
        let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| text.parse::<u64>().ok())?
    };
    Some(Position::new(number(ms)?, number(seq)?))
}

/// The backend's thread: the reader and the writer, until the hub stops it.
async fn run(inner: &Inner, feed: &Feed) {
    future::zip(read(inner, feed), write(inner)).await;
    inner.set(&inner.following, false);
    inner.set(&inner.writable, false);
}

/// Doubling waits between reconnects, from 50 ms to 2 s.
struct Backoff(Duration);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(50);

    fn new() -> Self {
        Backoff(Self::FIRST)
    }

    /// Waits the current time (or until `stop`), then doubles it.
    async fn wait(&mut self, inner: &Inner) {
        let wait = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(2));
        future::or(tokio::time::sleep(wait), inner.stopped()).await;
    }
}

/// Where the reader is in the stream.
enum Cursor {
    /// Nothing read yet: load the backlog first.
    Unloaded,
    /// After this entry id (`0-0`: from the start).
    After(String),
}

/// The reader: follows the stream into `feed`, reconnecting until stopped.
async fn read(inner: &Inner, feed: &Feed) {
    let mut cursor = Cursor::Unloaded;
    let mut backoff = Backoff::new();
    while !inner.is_stopped() && !feed.is_closed() {
        let following = future::or(follow(inner, feed, &mut cursor, &mut backoff), async {
            inner.stopped().await;
            Ok(())
        });
        if following.await.is_err() {
            inner.set(&inner.following, false);
            backoff.wait(inner).await;
        }
    }
}

/// One connection's worth of following; returns `Ok` when the hub is closed.
async fn follow(
    inner: &Inner,
    feed: &Feed,
    cursor: &mut Cursor,
    backoff: &mut Backoff,
) -> RedisResult<()> {
    let mut con = inner.connect(BLOCK + TIMEOUT).await?;
    if let Cursor::Unloaded = cursor {
        *cursor = Cursor::After(load(&mut con, inner, feed).await?);
    }
    inner.set(&inner.following, true);
    *backoff = Backoff::new();
    let mut caught_up = false;
    loop {
        let Cursor::After(after) = &*cursor else {
            unreachable!("loaded above")
        };
        if caught_up {
            // Only a wake-up: the entries are read by the checked read, which sees whether
            // any were trimmed before it got to them.
            caught_up = !wait(&mut con, inner, after).await?;
            continue;
        }
        let Some(entries) = read_checked(&mut con, inner, after).await? else {
            feed.reset(); // entries after ours may be gone: say so, then start over
            *cursor = Cursor::After("0-0".to_owned());
            continue;
        };
        caught_up = entries.is_empty();
        for (id, fields) in entries {
            if let Some((at, event)) = parse(&id, fields) {
                if !feed.push(&id, at, event) {
                    return Ok(());
                }
            }
            *cursor = Cursor::After(id);
        }
        if feed.is_closed() {
            return Ok(());
        }
    }
}

/// An `XREAD` reply: the entries of each stream asked for.
type Read = Option<Vec<(String, Vec<Entry>)>>;

/// In one transaction, whether the entry `after` is still in the stream, and up to
/// [`BATCH`] entries after it; `None` when it is gone (trimmed, or the stream lost), as
/// entries after it may be too: trimming removes the oldest first, so while `after` is
/// there, nothing after it was trimmed. This is how a reader that fell behind, or
/// reconnects, finds out that it missed entries, instead of skipping them silently.
async fn read_checked(
    con: &mut MultiplexedConnection,
    inner: &Inner,
    after: &str,
) -> RedisResult<Option<Vec<Entry>>> {
    let (found, read): (Vec<Entry>, Read) = redis::pipe()
        .atomic()
        .cmd("XRANGE")
        .arg(&inner.key)
        .arg(after)
        .arg(after)
        .cmd("XREAD")
        .arg("COUNT")
        .arg(BATCH)
        .arg("STREAMS")
        .arg(&inner.key)
        .arg(after)
        .query_async(con)
        .await?;
    if after != "0-0" && found.is_empty() {
        return Ok(None);
    }
    Ok(Some(entries(read)))
}

/// Waits (up to [`BLOCK`]) until the stream has an entry after `after`; whether it has.
async fn wait(con: &mut MultiplexedConnection, inner: &Inner, after: &str) -> RedisResult<bool> {
    let read: Read = redis::cmd("XREAD")
        .arg("COUNT")
        .arg(1)
        .arg("BLOCK")
        .arg(BLOCK.as_millis() as u64)
        .arg("STREAMS")
        .arg(&inner.key)
        .arg(after)
        .query_async(con)
        .await?;
    Ok(!entries(read).is_empty())
}

fn entries(read: Read) -> Vec<Entry> {
    read.into_iter()
        .flatten()
        .flat_map(|(_, entries)| entries)
        .collect()
}

/// An entry as Redis sends it: its id, and its fields and values in turn.
type Entry = (String, Vec<Vec<u8>>);

/// Feeds the newest `history` entries as backlog; returns the id to read after.
async fn load(con: &mut MultiplexedConnection, inner: &Inner, feed: &Feed) -> RedisResult<String> {
    let history = feed.history();
    let mut newest: Vec<Entry> = redis::cmd("XREVRANGE")
        .arg(&inner.key)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(history.max(1))
        .query_async(con)
        .await?;
    let last = newest
        .first()
        .map_or_else(|| "0-0".to_owned(), |(id, _)| id.clone());
    newest.truncate(history);
    newest.reverse();
    let parsed: Vec<_> = newest
        .into_iter()
        .filter_map(|(id, fields)| parse(&id, fields).map(|(at, event)| (id, at, event)))
        .collect();
    feed.backlog(
        parsed
            .iter()
            .map(|(id, at, event)| (&id[..], *at, event.clone())),
    );
    Ok(last)
}

/// An entry's position and event, if it is one: an `sse` field holding one whole frame.
/// Anything else (written by another program) is skipped.
fn parse(id: &str, fields: Vec<Vec<u8>>) -> Option<(Position, Event)> {
    let at = position(id)?;
    let mut fields = fields.into_iter();
    while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
        if name == FIELD.as_bytes() && is_frame(&value) {
            return Some((at, Event::from_frame(Bytes::from(value))));
        }
    }
    None
}

/// Whether `frame` is one encoded event: UTF-8, no CR, and no blank line but the last.
fn is_frame(frame: &[u8]) -> bool {
    let Some(body) = frame.strip_suffix(b"\n") else {
        return false;
    };
    let one = body.is_empty()
        || (body.ends_with(b"\n")
            && !body.starts_with(b"\n")
            && memchr::memmem::find(body, b"\n\n").is_none());
    one && !body.contains(&b'\r') && std::str::from_utf8(body).is_ok()
}

/// The writer: drains the publish queue into the stream, reconnecting until stopped.
async fn write(inner: &Inner) {
    // Jobs whose write failed on a broken connection: written again on the next one.
    let mut pending: Vec<Job> = Vec::new();
    let mut backoff = Backoff::new();
    loop {
        let mut con = match inner.connect(TIMEOUT).await {
            Ok(con) => con,
            Err(_) if inner.is_stopped() => return refuse(inner, pending),
            Err(_) => {
                inner.set(&inner.writable, false);
                // Waiting publishers are told now; queued events wait for Redis.
                let (waiting, queued) = pending.into_iter().partition(|job| job.reply.is_some());
                pending = queued;
                refuse(inner, waiting);
                backoff.wait(inner).await;
                continue;
            }
        };
        inner.set(&inner.writable, true);
        backoff = Backoff::new();
        if drain(&mut con, inner, &mut pending).await.is_ok() {
            return; // stopped, and the queue is drained
        }
    }
}

/// Writes the queue into the stream until it is closed and empty (`Ok`), or until the
/// connection breaks (`Err`, with the jobs to write again left in `pending`).
async fn drain(
    con: &mut MultiplexedConnection,
    inner: &Inner,
    pending: &mut Vec<Job>,
) -> Result<(), ()> {
    loop {
        if pending.is_empty() {
            match inner.jobs.1.recv().await {
                Ok(job) => pending.push(job),
                Err(_) => return Ok(()),
            }
        }
        // Whatever else is queued goes in the same round trip.
        while pending.len() < BATCH {
            let Ok(job) = inner.jobs.1.try_recv() else {
                break;
            };
            pending.push(job);
        }
        match append(con, inner, pending).await {
            Ok(ids) => pending
                .drain(..)
                .zip(ids)
                .for_each(|(job, id)| reply(inner, job, Some(id))),
            // The connection broke (Redis restarted, say): reconnect, write them again.
            Err(err) if err.is_io_error() || err.is_connection_dropped() || err.is_timeout() => {
                return Err(());
            }
            // Refused by Redis (the key is not a stream?).
            Err(_) => pending.drain(..).for_each(|job| reply(inner, job, None)),
        }
    }
}

/// Tells the publishers still waiting that their events were not written (stopped while
/// Redis was unreachable).
fn refuse(inner: &Inner, pending: Vec<Job>) {
    let queued = std::iter::from_fn(|| inner.jobs.1.try_recv().ok());
    for job in pending.into_iter().chain(queued) {
        reply(inner, job, None);
    }
}

/// Tells the job's publisher the id its event was written as, or that it was not; one
/// nobody waits for that failed is counted in `failed`.
fn reply(inner: &Inner, job: Job, written: Option<String>) {
    match (job.reply, written) {
        (Some(reply), Some(id)) => drop(reply.try_send(Ok(EventId::new(&id)))),
        (Some(reply), None) => drop(reply.try_send(Err(job.event))),
        (None, None) => drop(inner.failed.fetch_add(1, Ordering::Relaxed)),
        (None, Some(_)) => {}
    }
}

/// For each job, `XADD key MAXLEN ~ history * sse <frame>` unless its key says it was
/// appended already, then sets the key ([`APPEND_ONCE`]), pipelined: one round trip;
/// the entries' ids.
async fn append(
    con: &mut MultiplexedConnection,
    inner: &Inner,
    jobs: &[Job],
) -> RedisResult<Vec<String>> {
    let max_len = inner.max_len.load(Ordering::Acquire);
    let mut pipe = redis::pipe();
    for job in jobs {
        let frame = job.event.clone().into_bytes();
        pipe.cmd("EVAL")
            .arg(APPEND_ONCE)
            .arg(2)
            .arg(&inner.key)
            .arg(&job.once)
            .arg(max_len)
            .arg(FIELD)
            .arg(&frame[..])
            .arg(job.window.as_millis() as u64);
    }
    pipe.query_async(con).await
}

/// A random number for this backend's own keys (from the standard library's random
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

#[cfg(test)]
mod tests {
    use super::*;

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
