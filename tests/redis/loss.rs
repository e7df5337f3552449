//! No event lost without a word: a resume on an instance that has not loaded the log
//! yet, a stalled instance catching up with a burst, a write retried after a lost reply.

use sse_pump::hub::{Hub, HubBuilder, RedisStreams, Replay, Subscription};

use crate::{
    demo_server::{poll, redis::RedisServer, DEADLINE},
    shared_log::{numbered, read, what},
    support::guard,
    unique_key,
};

/// A hub following a fresh stream on `server`, ready to publish; its backend and key.
pub async fn following(server: &RedisServer, builder: HubBuilder) -> (Hub, RedisStreams, String) {
    let key = unique_key();
    let backend = RedisStreams::new(&server.url(), &key).unwrap();
    let hub = builder.backend(backend.clone()).build();
    guard(backend.ready()).await;
    (hub, backend, key)
}

/// A transaction appending events `range` to the stream `key` as another program would.
pub fn appended_at_once(key: &str, range: std::ops::RangeInclusive<u64>) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    pipe.atomic();
    for n in range {
        let frame = format!("event: n\ndata: {n}\n\n");
        let xadd = pipe.cmd("XADD").arg(key).arg("*");
        xadd.arg("sse").arg(frame).ignore();
    }
    pipe
}

fn strings(range: std::ops::RangeInclusive<u64>) -> Vec<String> {
    range.map(|n| n.to_string()).collect()
}

/// Publishes `range` on `hub` and reads them on `rx`: their ids.
async fn publish(
    hub: &Hub,
    rx: &mut Subscription,
    range: std::ops::RangeInclusive<u64>,
) -> Vec<String> {
    let n = range.clone().count();
    for n in range {
        guard(hub.publish_async(numbered(n))).await.unwrap();
    }
    read(rx, n)
        .await
        .into_iter()
        .map(|(_, id)| id.unwrap())
        .collect()
}

/// A client resumes on an instance that listens but has not loaded the log yet (Redis
/// paused while it starts): it is refused with a typed error (a server's 503 with
/// `Retry-After`) and comes back once the instance is ready, or it waits
/// (`subscribe_async`); either way it gets exactly what it missed, never the live events
/// after a silent gap.
async fn a_resume_before_the_load_is_never_a_skip() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let key = unique_key();
    let instance = || {
        let log = RedisStreams::new(&server.url(), &key).unwrap();
        let hub = Hub::builder().history(300).subscriber_capacity(300);
        (hub.backend(log.clone()).build(), log)
    };
    let (a, a_log) = instance();
    guard(a_log.ready()).await;
    let mut on_a = a.subscribe(None).unwrap();
    let mut ids = publish(&a, &mut on_a, 1..=40).await;
    let _: String = server.run(&["CLIENT", "PAUSE", "1000", "ALL"]);
    let (b, b_log) = instance();
    let mut resumed = loop {
        match b.subscribe(Some(&ids[19])) {
            Ok(rx) => break rx,
            Err(_) => guard(b_log.ready()).await, // the client's retry, after the 503
        }
    };
    assert_eq!(resumed.replay(), Replay::Resumed { missed: 20 });
    assert_eq!(what(&mut resumed, 20).await, strings(21..=40));
    assert!(b.stats().refused >= 1);

    ids.extend(publish(&a, &mut on_a, 41..=300).await);
    let _: String = server.run(&["CLIENT", "PAUSE", "1000", "ALL"]);
    let (c, _) = instance();
    let mut waited = guard(c.subscribe_async(Some(&ids[149]))).await.unwrap();
    assert_eq!(waited.replay(), Replay::Resumed { missed: 150 });
    assert_eq!(what(&mut waited, 150).await, strings(151..=300));
    assert_eq!((c.stats().lagged_events, c.stats().resets), (0, 0));
}

/// An instance stalls while 100 entries are written (more than a subscriber's capacity,
/// less than the history), then its reader catches up in one batch: a subscriber that
/// was keeping up reads all of them from the ring, with no gap.
async fn a_stalled_instance_catches_up_without_a_gap() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let builder = Hub::builder().history(200).subscriber_capacity(64);
    let (hub, _, key) = following(&server, builder).await;
    let mut rx = hub.subscribe(None).unwrap();
    guard(hub.publish_async(numbered(1))).await.unwrap();
    assert_eq!(what(&mut rx, 1).await, ["1"]);
    // In one transaction, while this thread (the subscriber's) is blocked in the write.
    let () = appended_at_once(&key, 2..=101)
        .query(&mut server.connect())
        .unwrap();
    let caught_up = poll(DEADLINE, || (rx.pending() == 100).then_some(()));
    assert!(caught_up.is_some(), "the reader did not catch up");
    assert_eq!(
        what(&mut rx, 1).await,
        ["2"],
        "a gap instead of the first event"
    );
    assert_eq!(what(&mut rx, 99).await, strings(3..=101));
    assert_eq!((rx.lagged(), hub.stats().lagged_events), (0, 0));
}

/// A server frozen (`SIGSTOP`) until thawed (`SIGCONT`): what clients send meanwhile sits
/// in its buffers, and runs when it thaws, whether or not they still wait for the reply.
struct Frozen(String);

impl Frozen {
    fn new(server: &RedisServer) -> Frozen {
        let info: String = server.run(&["INFO", "server"]);
        let pid = info
            .lines()
            .find_map(|line| line.strip_prefix("process_id:"))
            .unwrap();
        let frozen = Frozen(pid.trim().to_owned());
        frozen.signal("-STOP");
        frozen
    }

    fn signal(&self, name: &str) {
        let sent = std::process::Command::new("kill")
            .args([name, &self.0])
            .status();
        assert!(sent.unwrap().success());
    }

    /// Thaws it after longer than the writer's 2 s reply timeout: the fault's length is
    /// what makes the writer give the reply up for lost and write again.
    async fn thaw_later(self) {
        futures_timer::Delay::new(std::time::Duration::from_secs(3)).await;
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        self.signal("-CONT");
    }
}

/// A write whose reply is lost (Redis frozen while it is in flight) is written again by
/// the writer on a new connection, and the first write still runs when Redis thaws: the
/// event is in the log once, not twice.
async fn a_lost_reply_is_not_written_twice() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (hub, backend, key) = following(&server, Hub::builder().history(10)).await;
    let mut rx = hub.subscribe(None).unwrap();
    guard(hub.publish_async(numbered(1))).await.unwrap();
    assert_eq!(what(&mut rx, 1).await, ["1"]);
    let frozen = Frozen::new(&server);
    hub.publish(numbered(2)).unwrap(); // queued: the writer retries until it is written
    frozen.thaw_later().await;
    guard(backend.ready()).await;
    guard(hub.publish_async(numbered(3))).await.unwrap();
    assert_eq!(what(&mut rx, 2).await, ["2", "3"]);
    let entries: u64 = server.run(&["XLEN", &key]);
    assert_eq!(entries, 3);
}

/// A publisher that gets an error or no answer retries with its idempotency key: the
/// event is appended once, and every answer names that one entry.
async fn a_retry_with_an_idempotency_key_appends_once() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (hub, backend, key) = following(&server, Hub::builder().history(10)).await;
    let mut rx = hub.subscribe(None).unwrap();
    let frozen = Frozen::new(&server);
    let publishing = hub.publish_once_async("order-1", numbered(1));
    let (first, ()) = futures_lite::future::zip(publishing, frozen.thaw_later()).await;
    guard(backend.ready()).await;
    let retried = guard(hub.publish_once_async("order-1", numbered(1)))
        .await
        .unwrap();
    if let Ok(first) = first {
        assert_eq!(first, retried); // answered: the same entry
    }
    let again = guard(hub.publish_once_async("order-1", numbered(1))).await;
    assert_eq!(again.unwrap(), retried);
    guard(hub.publish_async(numbered(2))).await.unwrap();
    let got = read(&mut rx, 2).await;
    assert_eq!(
        got,
        [
            ("1".into(), Some(retried.to_string())),
            ("2".into(), got[1].1.clone())
        ]
    );
    let entries: u64 = server.run(&["XLEN", &key]);
    assert_eq!(entries, 2);
}

crate::on_both!(
    a_resume_before_the_load_is_never_a_skip,
    a_stalled_instance_catches_up_without_a_gap,
    a_lost_reply_is_not_written_twice,
    a_retry_with_an_idempotency_key_appends_once,
);
