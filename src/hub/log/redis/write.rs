//! The writer: drains the publish queue of every stream of a family into Redis, on one
//! connection.

use std::sync::atomic::Ordering;

use futures_lite::future;
use redis::{aio::MultiplexedConnection, RedisResult};

use super::pool::{Backoff, Job, Pool, BATCH, FIELD};
use crate::hub::log::EventId;

/// Appends an entry unless its key is set, in one step: `KEYS[1]` the stream, `KEYS[2]`
/// the key; `ARGV`: the `MAXLEN ~` bound, the field ([`FIELD`]), the frame, the key's
/// lifetime in milliseconds. Then publishes the id on the channel named as the stream,
/// which wakes the readers that follow it. Returns the entry's id, the first one's when
/// the key was set.
const APPEND_ONCE: &str = r#"
local id = redis.call('GET', KEYS[2])
if id then return id end
id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', ARGV[2], ARGV[3])
redis.call('SET', KEYS[2], id, 'PX', ARGV[4])
redis.call('PUBLISH', KEYS[1], id)
return id
"#;

/// What the writer does next.
enum Next {
    Job(Job),
    Idle,
}

/// The writer: drains the publish queue into the streams, reconnecting, until the pool is
/// idle and the queue empty.
pub(super) async fn write(pool: &Pool) {
    // Jobs whose write failed on a broken connection: written again on the next one.
    let mut pending: Vec<Job> = Vec::new();
    let mut backoff = Backoff::new();
    loop {
        let mut con = match pool.connect().await {
            Ok(con) => con,
            Err(_) if pool.is_idle() => return refuse(pool, pending),
            Err(_) => {
                pool.set(&pool.writable, false);
                // Waiting publishers are told now; queued events wait for Redis.
                let (waiting, queued) = pending.into_iter().partition(|job| job.reply.is_some());
                pending = queued;
                refuse(pool, waiting);
                backoff.wait(pool).await;
                continue;
            }
        };
        pool.set(&pool.writable, true);
        backoff = Backoff::new();
        if drain(&mut con, pool, &mut pending).await.is_ok() {
            return; // idle, and the queue is drained
        }
    }
}

/// The next job, or idle (no stream active and the queue empty).
async fn next(pool: &Pool) -> Next {
    loop {
        let changed = pool.changed.listen();
        if let Ok(job) = pool.jobs.1.try_recv() {
            return Next::Job(job);
        }
        if pool.is_idle() {
            return Next::Idle;
        }
        let job = async { pool.jobs.1.recv().await.ok().map(Next::Job) };
        if let Some(next) = future::or(job, async {
            changed.await;
            None
        })
        .await
        {
            return next;
        }
    }
}

/// Writes the queue into the streams until the pool is idle and the queue empty (`Ok`),
/// or until the connection breaks (`Err`, with the jobs to write again left in `pending`).
async fn drain(
    con: &mut MultiplexedConnection,
    pool: &Pool,
    pending: &mut Vec<Job>,
) -> Result<(), ()> {
    loop {
        if pending.is_empty() {
            match next(pool).await {
                Next::Job(job) => pending.push(job),
                Next::Idle => return Ok(()),
            }
        }
        // Whatever else is queued goes in the same round trip.
        while pending.len() < BATCH {
            let Ok(job) = pool.jobs.1.try_recv() else {
                break;
            };
            pending.push(job);
        }
        match append(con, pending).await {
            Ok(ids) => {
                (pending.drain(..).zip(ids)).for_each(|(job, id)| reply(pool, job, Some(id)))
            }
            // The connection broke (Redis restarted, say): reconnect, write them again.
            Err(err) if err.is_io_error() || err.is_connection_dropped() || err.is_timeout() => {
                return Err(());
            }
            // Refused by Redis (the key is not a stream?).
            Err(_) => pending.drain(..).for_each(|job| reply(pool, job, None)),
        }
    }
}

/// Tells the publishers still waiting that their events were not written (idle while
/// Redis was unreachable).
fn refuse(pool: &Pool, pending: Vec<Job>) {
    let queued = std::iter::from_fn(|| pool.jobs.1.try_recv().ok());
    for job in pending.into_iter().chain(queued) {
        reply(pool, job, None);
    }
}

/// Tells the job's publisher the id its event was written as, or that it was not; one
/// nobody waits for that failed is counted in `failed`.
fn reply(pool: &Pool, job: Job, written: Option<String>) {
    match (job.reply, written) {
        (Some(reply), Some(id)) => drop(reply.try_send(Ok(EventId::new(&id)))),
        (Some(reply), None) => drop(reply.try_send(Err(job.event))),
        (None, None) => {
            pool.failed.fetch_add(1, Ordering::Relaxed);
            job.stream.failed.fetch_add(1, Ordering::Relaxed);
        }
        (None, Some(_)) => {}
    }
}

/// For each job, `XADD key MAXLEN ~ history * sse <frame>` unless its key says it was
/// appended already, then sets the key ([`APPEND_ONCE`]), pipelined: one round trip;
/// the entries' ids.
async fn append(con: &mut MultiplexedConnection, jobs: &[Job]) -> RedisResult<Vec<String>> {
    let mut pipe = redis::pipe();
    for job in jobs {
        let frame = job.event.clone().into_bytes();
        pipe.cmd("EVAL")
            .arg(APPEND_ONCE)
            .arg(2)
            .arg(&job.stream.key)
            .arg(&job.once)
            .arg(job.stream.max_len.load(Ordering::Acquire))
            .arg(FIELD)
            .arg(&frame[..])
            .arg(job.window.as_millis() as u64);
    }
    pipe.query_async(con).await
}
