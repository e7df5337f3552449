//! The reader: follows every active stream of a family into its hub's feed, on one
//! connection: loads a stream's newest entries when it joins, then `XREAD BLOCK`s over the
//! streams (at most [`KEYS_PER_READ`] keys per call) and reads what came, checked.

use std::{
    mem,
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use bytes::Bytes;
use futures_lite::future;
use redis::{aio::MultiplexedConnection, from_owned_redis_value, RedisResult, Value};

use super::pool::{position, Backoff, Pool, Stream, BATCH, BLOCK, FIELD, TIMEOUT};
use crate::{
    hub::{
        lock::lock,
        log::{Feed, Position},
    },
    wire::Event,
};

/// Stream keys per blocking `XREAD`: beyond, the streams are read in turns.
pub(super) const KEYS_PER_READ: usize = 16_384;
/// How long a blocking `XREAD` waits when the streams do not fit in one.
const BLOCK_IN_TURNS: Duration = Duration::from_millis(20);
/// Streams loaded, or read, per round trip.
const STREAMS_PER_TRIP: usize = 256;

/// A stream the reader follows.
struct Follow {
    stream: Arc<Stream>,
    feed: Feed,
    /// The id of the last entry fed (`0-0`: from the start), `None` until loaded.
    after: Option<String>,
    /// Whether entries may follow `after`: read it (checked) before blocking again.
    dirty: bool,
}

/// What the reader follows; kept across connections and runs of the thread.
#[derive(Default)]
pub(super) struct Reader {
    follows: Vec<Follow>,
    /// The last wake-up read.
    woken: Option<String>,
    /// Which turn of keys the next blocking read waits on, when they need several.
    turn: usize,
}

/// An `XREAD` reply: the entries of each stream asked for.
type Read = Option<Vec<(String, Vec<Entry>)>>;

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
    let mut con = pool.connect(BLOCK + TIMEOUT).await?;
    pool.set(&pool.reading, true);
    *backoff = Backoff::new();
    // Whatever came while the connection was down.
    reader
        .follows
        .iter_mut()
        .for_each(|follow| follow.dirty = true);
    loop {
        reader.admit(pool);
        if reader.follows.iter().any(|follow| follow.after.is_none()) {
            load(&mut con, pool, reader).await?;
        } else if reader.follows.iter().any(|follow| follow.dirty) {
            read_checked(&mut con, reader).await?;
        } else {
            wait(&mut con, pool, reader).await?;
        }
    }
}

impl Reader {
    /// Takes the streams that joined, and lets go of those whose hub closed.
    fn admit(&mut self, pool: &Pool) {
        let joining = mem::take(&mut lock(&pool.state).joining);
        self.follows
            .extend(joining.into_iter().map(|(stream, feed)| Follow {
                stream,
                feed,
                after: None,
                dirty: false,
            }));
        self.follows.retain(|follow| {
            let done = follow.stream.stopped.load(Ordering::Acquire) || follow.feed.is_closed();
            if done {
                pool.leave(&follow.stream);
            }
            !done
        });
    }
}

/// Feeds each stream not loaded yet (a round trip's worth) its newest `history` entries as
/// backlog.
async fn load(
    con: &mut MultiplexedConnection,
    pool: &Pool,
    reader: &mut Reader,
) -> RedisResult<()> {
    let unloaded = reader
        .follows
        .iter_mut()
        .filter(|follow| follow.after.is_none());
    let batch: Vec<&mut Follow> = unloaded.take(STREAMS_PER_TRIP).collect();
    let mut pipe = redis::pipe();
    for follow in &batch {
        let count = follow.feed.history().max(1);
        pipe.cmd("XREVRANGE")
            .arg(&follow.stream.key)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(count);
    }
    let replies: Vec<Value> = pipe.query_async(con).await?;
    for (follow, reply) in batch.into_iter().zip(replies) {
        let newest: Vec<Entry> = from_owned_redis_value(reply)?;
        follow.after = Some(backlog(&follow.feed, newest));
        follow.stream.loaded.store(true, Ordering::Release);
    }
    pool.changed.notify(usize::MAX);
    Ok(())
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
/// whether each one's last entry fed is still there, and up to [`BATCH`] entries after it.
/// A stream whose last entry is gone (trimmed, or the stream lost) may have lost entries
/// after it too (trimming removes the oldest first, so while it is there, nothing after it
/// was trimmed): its hub gets a reset and reads the stream from its start.
async fn read_checked(con: &mut MultiplexedConnection, reader: &mut Reader) -> RedisResult<()> {
    let dirty = reader.follows.iter_mut().filter(|follow| follow.dirty);
    let batch: Vec<&mut Follow> = dirty.take(STREAMS_PER_TRIP).collect();
    let mut pipe = redis::pipe();
    pipe.atomic();
    for follow in &batch {
        let (key, after) = (&follow.stream.key, follow.after.as_deref().unwrap_or("0-0"));
        pipe.cmd("XRANGE").arg(key).arg(after).arg(after);
        pipe.cmd("XREAD")
            .arg("COUNT")
            .arg(BATCH)
            .arg("STREAMS")
            .arg(key)
            .arg(after);
    }
    let replies: Vec<Value> = pipe.query_async(con).await?;
    let mut replies = replies.into_iter();
    for follow in batch {
        let (Some(found), Some(read)) = (replies.next(), replies.next()) else {
            break;
        };
        let found: Vec<Entry> = from_owned_redis_value(found)?;
        follow.catch_up(found.is_empty(), from_owned_redis_value(read)?);
    }
    Ok(())
}

impl Follow {
    /// Feeds what a checked read found: `lost`, the last entry fed is gone.
    fn catch_up(&mut self, lost: bool, read: Read) {
        let after = self.after.get_or_insert_with(|| "0-0".to_owned());
        if lost && after != "0-0" {
            self.feed.reset(); // entries after ours may be gone: say so, then start over
            *after = "0-0".to_owned();
            return; // still dirty: read from the start next
        }
        let entries = entries(read);
        self.dirty = entries.len() >= BATCH;
        for (id, fields) in entries {
            if let Some((at, event)) = parse(&id, fields) {
                if !self.feed.push(&id, at, event) {
                    return; // closed: let go at the next admit
                }
            }
            *after = id;
        }
    }
}

/// Waits until a stream has an entry after its last one fed, or a stream joins: one
/// `XREAD BLOCK` over the wake-up stream and every stream followed; or, when they are more
/// than [`KEYS_PER_READ`], one `XREAD` over each turn of them without blocking, then, if
/// none had any, a short block on one turn (the next one each time). Marks the streams with
/// entries.
async fn wait(
    con: &mut MultiplexedConnection,
    pool: &Pool,
    reader: &mut Reader,
) -> RedisResult<()> {
    let turns = reader.follows.len().div_ceil(KEYS_PER_READ).max(1);
    if turns > 1 && reader.poll(con).await? {
        return Ok(());
    }
    reader.turn = (reader.turn + 1) % turns;
    let block = if turns > 1 { BLOCK_IN_TURNS } else { BLOCK };
    let start = reader.turn * KEYS_PER_READ;
    let end = (start + KEYS_PER_READ).min(reader.follows.len());
    let woken = reader.woken.clone().unwrap_or_else(|| "0-0".to_owned());
    let mut cmd = redis::cmd("XREAD");
    cmd.arg("COUNT")
        .arg(1)
        .arg("BLOCK")
        .arg(block.as_millis() as u64)
        .arg("STREAMS");
    cmd.arg(&pool.wake_key);
    for follow in &reader.follows[start..end] {
        cmd.arg(&follow.stream.key);
    }
    cmd.arg(&woken);
    for follow in &reader.follows[start..end] {
        cmd.arg(follow.after.as_deref().unwrap_or("0-0"));
    }
    let read: Read = cmd.query_async(con).await?;
    reader.mark(&pool.wake_key, read, start..end);
    Ok(())
}

impl Reader {
    /// One `XREAD` without blocking over each turn of keys, pipelined; whether a stream had
    /// entries (marked).
    async fn poll(&mut self, con: &mut MultiplexedConnection) -> RedisResult<bool> {
        let mut pipe = redis::pipe();
        for turn in self.follows.chunks(KEYS_PER_READ) {
            let cmd = pipe.cmd("XREAD").arg("COUNT").arg(1).arg("STREAMS");
            for follow in turn {
                cmd.arg(&follow.stream.key);
            }
            for follow in turn {
                cmd.arg(follow.after.as_deref().unwrap_or("0-0"));
            }
        }
        let reads: Vec<Read> = pipe.query_async(con).await?;
        let mut any = false;
        for (n, read) in reads.into_iter().enumerate() {
            let start = n * KEYS_PER_READ;
            let end = (start + KEYS_PER_READ).min(self.follows.len());
            any |= read.as_ref().is_some_and(|read| !read.is_empty());
            self.mark("", read, start..end);
        }
        Ok(any)
    }

    /// Marks the streams among `range` that `read` has entries of; notes the wake-up.
    fn mark(&mut self, wake_key: &str, read: Read, range: std::ops::Range<usize>) {
        for (key, entries) in read.into_iter().flatten() {
            if key == wake_key {
                self.woken = entries
                    .last()
                    .map(|(id, _)| id.clone())
                    .or(self.woken.take());
                continue;
            }
            let follows = self.follows[range.clone()].iter_mut();
            if let Some(follow) = follows.into_iter().find(|follow| follow.stream.key == key) {
                follow.dirty = true;
            }
        }
    }
}

fn entries(read: Read) -> Vec<Entry> {
    read.into_iter()
        .flatten()
        .flat_map(|(_, entries)| entries)
        .collect()
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
