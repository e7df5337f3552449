//! The reader: follows every active stream of a family into its hub's feed, on one RESP3
//! connection. It subscribes to a stream's channel (which the writers' script publishes
//! each new entry id on), then loads the stream's newest entries; a message on the
//! channel marks the stream, which is then read, checked, from its last entry fed. The
//! channel only wakes the reader: what is fed comes from the stream, so a message lost
//! (while the connection is re-made) costs nothing, since every stream is read again
//! after a reconnection.

use std::{
    collections::{HashMap, HashSet},
    mem,
    sync::{atomic::Ordering, Arc},
};

use bytes::Bytes;
use futures_lite::future;
use redis::{
    aio::MultiplexedConnection, from_owned_redis_value, PushInfo, PushKind, RedisResult, Value,
};

use super::pool::{position, Backoff, Pool, Stream, BATCH, FIELD};
use crate::{
    hub::{
        lock::lock,
        log::{Feed, Position},
    },
    wire::Event,
};

/// Streams subscribed, loaded or read per round trip.
const STREAMS_PER_TRIP: usize = 256;
/// How long the reader waits for a message before it reads a round trip's worth of
/// streams anyway (in turns), for entries appended by a writer that publishes no message
/// (another program's `XADD`).
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// A hub following a stream.
struct Follow {
    stream: Arc<Stream>,
    feed: Feed,
    /// The id of the last entry fed (`0-0`: from the start), `None` until loaded.
    after: Option<String>,
}

/// What the reader follows, and what it has to do; kept across connections and runs of
/// the thread. Each list holds stream keys.
#[derive(Default)]
pub(super) struct Reader {
    follows: HashMap<String, Vec<Follow>>,
    /// Keys whose channel this connection has not subscribed to.
    unsubscribed: Vec<String>,
    /// Keys no longer followed, whose channel to unsubscribe from.
    dropped: Vec<String>,
    /// Keys with a follow not loaded yet.
    unloaded: Vec<String>,
    /// Keys that may have entries past their last one fed.
    dirty: HashSet<String>,
    /// Keys to read in the next sweeps.
    sweep: Vec<String>,
}

/// An entry as Redis sends it: its id, and its fields and values in turn.
type Entry = (String, Vec<Vec<u8>>);

/// The reader: follows the streams, reconnecting, until the pool is idle.
pub(super) async fn read(pool: &Pool, reader: &mut Reader) {
    let mut backoff = Backoff::new();
    while !pool.is_idle() {
        let following = future::or(follow(pool, reader, &mut backoff), async {
            pool.idle().await;
            Ok(())
        });
        if following.await.is_err() {
            pool.set(&pool.reading, false);
            backoff.wait(pool).await;
        }
    }
    pool.set(&pool.reading, false);
}

/// One connection's worth of following.
async fn follow(pool: &Pool, reader: &mut Reader, backoff: &mut Backoff) -> RedisResult<()> {
    let (pushed, messages) = async_channel::unbounded();
    let mut con = pool.subscribe(pushed).await?;
    pool.set(&pool.reading, true);
    *backoff = Backoff::new();
    // A new connection: subscribe again, and read whatever came while it was down.
    reader.unsubscribed = reader.follows.keys().cloned().collect();
    reader.dirty = reader.follows.keys().cloned().collect();
    reader.dropped.clear();
    // Reads and joins take turns, so that neither waits long for the other.
    let mut joins_next = false;
    loop {
        let changed = pool.changed.listen();
        reader.admit(pool);
        reader.take(&messages)?;
        let joining = !reader.unsubscribed.is_empty() || !reader.dropped.is_empty();
        let joining = joining || !reader.unloaded.is_empty();
        joins_next = !joins_next;
        let join_now = joins_next && joining;
        if !reader.dirty.is_empty() && !join_now {
            read_checked(&mut con, reader).await?;
        } else if !reader.unsubscribed.is_empty() || !reader.dropped.is_empty() {
            subscribe(&mut con, reader).await?; // before loading: no entry slips between
        } else if !reader.unloaded.is_empty() {
            load(&mut con, pool, reader).await?;
        } else {
            reader.wait(&messages, changed).await?;
        }
    }
}

impl Reader {
    /// Waits for a message (marking its stream), a stream joining or leaving (`changed`),
    /// or the time to sweep.
    async fn wait(
        &mut self,
        messages: &async_channel::Receiver<PushInfo>,
        changed: event_listener::EventListener,
    ) -> RedisResult<()> {
        let message = async { Some(messages.recv().await) };
        let swept = async {
            tokio::time::sleep(SWEEP_EVERY).await;
            Some(Err(async_channel::RecvError))
        };
        let woken = async {
            changed.await;
            None
        };
        match future::or(message, future::or(swept, woken)).await {
            Some(Ok(message)) => self.mark(Some(message)),
            Some(Err(_)) if !messages.is_closed() => {
                self.sweep();
                Ok(())
            }
            Some(Err(_)) => self.mark(None),
            None => Ok(()),
        }
    }
}

impl Reader {
    /// Takes the streams that joined, and lets go of those that left.
    fn admit(&mut self, pool: &Pool) {
        let mut state = lock(&pool.state);
        let joining = mem::take(&mut state.joining);
        let leaving = mem::take(&mut state.leaving);
        drop(state);
        for stream in leaving {
            self.remove(&stream);
        }
        for (stream, feed) in joining {
            let key = stream.key.clone();
            let follows = self.follows.entry(key.clone()).or_default();
            if follows.is_empty() {
                self.unsubscribed.push(key.clone());
            }
            follows.push(Follow {
                stream,
                feed,
                after: None,
            });
            self.unloaded.push(key);
        }
    }

    /// Marks the next round trip's worth of streams to be read.
    fn sweep(&mut self) {
        if self.sweep.is_empty() {
            self.sweep = self.follows.keys().cloned().collect();
        }
        let at = self.sweep.len().saturating_sub(STREAMS_PER_TRIP);
        let keys = self.sweep.split_off(at);
        self.dirty.extend(
            keys.into_iter()
                .filter(|key| self.follows.contains_key(key)),
        );
    }

    /// Stops following `stream`; its channel too if it was the key's last.
    fn remove(&mut self, stream: &Arc<Stream>) {
        let Some(follows) = self.follows.get_mut(&stream.key) else {
            return;
        };
        follows.retain(|follow| !Arc::ptr_eq(&follow.stream, stream));
        if follows.is_empty() {
            self.follows.remove(&stream.key);
            self.dropped.push(stream.key.clone());
        }
    }

    /// Marks the streams whose channels had messages queued.
    fn take(&mut self, messages: &async_channel::Receiver<PushInfo>) -> RedisResult<()> {
        while let Ok(message) = messages.try_recv() {
            self.mark(Some(message))?;
        }
        Ok(())
    }

    /// Marks the stream a message names; an error when the connection is gone.
    fn mark(&mut self, message: Option<PushInfo>) -> RedisResult<()> {
        let Some(message) = message else {
            return Err(gone());
        };
        match message.kind {
            PushKind::Disconnection => return Err(gone()),
            PushKind::Message => {}
            _ => return Ok(()),
        }
        let channel = message.data.into_iter().next();
        if let Some(key) = channel.and_then(|key| from_owned_redis_value::<String>(key).ok()) {
            if self.follows.contains_key(&key) {
                self.dirty.insert(key);
            }
        }
        Ok(())
    }
}

fn gone() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
}

/// Subscribes to the channels of the streams that joined (a round trip's worth), and
/// unsubscribes from those of the streams no longer followed.
async fn subscribe(con: &mut MultiplexedConnection, reader: &mut Reader) -> RedisResult<()> {
    let take = |keys: &mut Vec<String>| {
        let at = keys.len().saturating_sub(STREAMS_PER_TRIP * 4);
        keys.split_off(at)
    };
    let (joined, dropped) = (take(&mut reader.unsubscribed), take(&mut reader.dropped));
    // A key dropped then followed again is in both: subscribed it stays.
    let dropped: Vec<String> = dropped
        .into_iter()
        .filter(|key| !reader.follows.contains_key(key))
        .collect();
    if !dropped.is_empty() {
        con.unsubscribe(&dropped).await?;
    }
    if !joined.is_empty() {
        con.subscribe(&joined).await?;
    }
    Ok(())
}

/// The follows of `keys`, out of the map while a round trip is under way.
type Taken = Vec<(String, Vec<Follow>)>;

/// The follows taken out that are loaded (or not).
fn with(taken: &mut Taken, loaded: bool) -> Vec<&mut Follow> {
    let follows = taken.iter_mut().flat_map(|(_, follows)| follows.iter_mut());
    follows
        .filter(|follow| follow.after.is_some() == loaded)
        .collect()
}

impl Reader {
    fn take_out(&mut self, keys: &[String]) -> Taken {
        keys.iter()
            .filter_map(|key| self.follows.remove_entry(key))
            .collect()
    }
}

/// Feeds the follows not loaded yet (a round trip's worth) their stream's newest
/// `history` entries as backlog.
async fn load(
    con: &mut MultiplexedConnection,
    pool: &Pool,
    reader: &mut Reader,
) -> RedisResult<()> {
    let at = reader.unloaded.len().saturating_sub(STREAMS_PER_TRIP);
    let mut keys = reader.unloaded.split_off(at);
    keys.sort_unstable();
    keys.dedup();
    let mut taken = reader.take_out(&keys);
    let mut pipe = redis::pipe();
    for follow in with(&mut taken, false) {
        let count = follow.feed.history().max(1);
        pipe.cmd("XREVRANGE")
            .arg(&follow.stream.key)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(count);
    }
    let replies: RedisResult<Vec<Value>> = pipe.query_async(con).await;
    let fed = replies.and_then(|replies| {
        for (follow, reply) in with(&mut taken, false).into_iter().zip(replies) {
            let newest: Vec<Entry> = from_owned_redis_value(reply)?;
            follow.after = Some(backlog(&follow.feed, newest));
            follow.stream.loaded.store(true, Ordering::Release);
        }
        Ok(())
    });
    reader.follows.extend(taken);
    if fed.is_err() {
        reader.unloaded.extend(keys); // again on the next connection
    }
    pool.changed.notify(usize::MAX);
    fed
}

/// Feeds the newest entries (newest first, as `XREVRANGE` gives them) as backlog; the id
/// to read after.
fn backlog(feed: &Feed, mut newest: Vec<Entry>) -> String {
    let last = (newest.first()).map_or_else(|| "0-0".to_owned(), |(id, _)| id.clone());
    newest.truncate(feed.history());
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
    last
}

/// For the streams that may have new entries (a round trip's worth), in one transaction:
/// whether each follow's last entry fed is still there, and up to [`BATCH`] entries after
/// it. A stream whose last entry is gone (trimmed, or the stream lost) may have lost
/// entries after it too (trimming removes the oldest first, so while it is there, nothing
/// after it was trimmed): its hub gets a reset and reads the stream from its start.
async fn read_checked(con: &mut MultiplexedConnection, reader: &mut Reader) -> RedisResult<()> {
    let keys: Vec<String> = reader
        .dirty
        .iter()
        .take(STREAMS_PER_TRIP)
        .cloned()
        .collect();
    for key in &keys {
        reader.dirty.remove(key);
    }
    let mut taken = reader.take_out(&keys);
    let mut pipe = redis::pipe();
    pipe.atomic();
    for follow in with(&mut taken, true) {
        let (key, after) = (&follow.stream.key, follow.after.as_deref().unwrap_or("0-0"));
        pipe.cmd("XRANGE").arg(key).arg(after).arg(after);
        pipe.cmd("XRANGE")
            .arg(key)
            .arg(format!("({after}"))
            .arg("+")
            .arg("COUNT")
            .arg(BATCH);
    }
    let replies: RedisResult<Vec<Value>> = pipe.query_async(con).await;
    let fed = replies.and_then(|replies| catch_up(&mut taken, replies));
    reader.follows.extend(taken);
    match fed {
        Ok(again) => {
            reader.dirty.extend(again);
            Ok(())
        }
        Err(err) => {
            reader.dirty.extend(keys); // read again on the next connection
            Err(err)
        }
    }
}

/// Feeds each loaded follow taken out what its pair of replies holds; the keys with more
/// to read.
fn catch_up(taken: &mut Taken, replies: Vec<Value>) -> RedisResult<Vec<String>> {
    let mut replies = replies.into_iter();
    let mut again = Vec::new();
    for follow in with(taken, true) {
        let (Some(found), Some(read)) = (replies.next(), replies.next()) else {
            break;
        };
        let found: Vec<Entry> = from_owned_redis_value(found)?;
        if follow.catch_up(found.is_empty(), from_owned_redis_value(read)?) {
            again.push(follow.stream.key.clone());
        }
    }
    Ok(again)
}

impl Follow {
    /// Feeds what a checked read found: `lost`, the last entry fed is gone. Whether the
    /// stream may have more to read now.
    fn catch_up(&mut self, lost: bool, entries: Vec<Entry>) -> bool {
        let after = self.after.get_or_insert_with(|| "0-0".to_owned());
        if lost && after != "0-0" {
            self.feed.reset(); // entries after ours may be gone: say so, then start over
            *after = "0-0".to_owned();
            return true;
        }
        let more = entries.len() >= BATCH;
        for (id, fields) in entries {
            if let Some((at, event)) = parse(&id, fields) {
                if !self.feed.push(&id, at, event) {
                    return false; // closed: it leaves
                }
            }
            *after = id;
        }
        more
    }
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
pub(super) fn is_frame(frame: &[u8]) -> bool {
    let Some(body) = frame.strip_suffix(b"\n") else {
        return false;
    };
    let one = body.is_empty()
        || (body.ends_with(b"\n")
            && !body.starts_with(b"\n")
            && memchr::memmem::find(body, b"\n\n").is_none());
    one && !body.contains(&b'\r') && std::str::from_utf8(body).is_ok()
}
