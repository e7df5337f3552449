//! Redis down at start, and every connection cut while running (restarts: tests/redis_restarts.rs).

use sse_pump::hub::{Hub, RedisStreams, SubscribeError};

use crate::{
    demo_server::redis::RedisServer,
    loss::{appended_at_once, following},
    shared_log::{numbered, what},
    support::guard,
    unique_key,
};

/// Redis is down when the hub starts: publishing and subscribing are refused with typed
/// errors; a subscribe that waits gets in once Redis is up and the hub has connected by
/// itself, and receives what is published.
async fn down_at_start_then_up() {
    let Some(mut server) = RedisServer::stopped() else {
        return;
    };
    let backend = RedisStreams::new(&server.url(), &unique_key()).unwrap();
    let hub = Hub::builder().history(10).backend(backend.clone()).build();
    // Not loaded: where "now" is in the log is unknown, so a subscribe is refused (a 503).
    assert_eq!(hub.subscribe(None).unwrap_err(), SubscribeError::Loading);
    let err = hub.publish(numbered(1)).unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert_eq!(err.into_inner().into_bytes(), "event: n\ndata: 1\n\n"); // handed back
    assert!(hub
        .publish_async(numbered(1))
        .await
        .unwrap_err()
        .is_unavailable());
    server.launch();
    let mut rx = guard(hub.subscribe_async(None)).await.unwrap(); // waits for the load
    guard(backend.ready()).await;
    hub.publish(numbered(2)).unwrap();
    assert_eq!(what(&mut rx, 1).await, ["2"]);
}

/// Every connection is cut (`CLIENT KILL`) while clients stream and another instance
/// publishes: the reader reconnects, finds its place, and its subscribers get every
/// event, with no reset.
async fn connections_cut_then_caught_up() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let key = unique_key();
    let (a_log, b_log) = (
        RedisStreams::new(&server.url(), &key).unwrap(),
        RedisStreams::new(&server.url(), &key).unwrap(),
    );
    let a = Hub::builder().history(100).backend(a_log.clone()).build();
    let b = Hub::builder().history(100).backend(b_log.clone()).build();
    guard(a_log.ready()).await;
    guard(b_log.ready()).await;
    let mut on_b = b.subscribe(None).unwrap();
    guard(a.publish_async(numbered(1))).await.unwrap();
    assert_eq!(what(&mut on_b, 1).await, ["1"]);
    let writers: i64 = server.run(&["CLIENT", "KILL", "TYPE", "normal"]);
    let readers: i64 = server.run(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    assert!(writers >= 2 && readers == 2, "killed {writers} + {readers}");
    for n in 2..=20 {
        guard(a.publish_async(numbered(n))).await.unwrap(); // reconnects, then writes
    }
    let want: Vec<String> = (2..=20).map(|n| n.to_string()).collect();
    assert_eq!(what(&mut on_b, 19).await, want);
}

/// Entries are appended and trimmed away in one transaction, before the reader can read
/// them (it is connected, and had caught up): its subscribers get `reset`, then what is
/// left, never a silent gap.
async fn trimmed_past_the_reader_gets_reset() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (hub, _, key) = following(&server, Hub::builder().history(4)).await;
    let mut rx = hub.subscribe(None).unwrap();
    guard(hub.publish_async(numbered(1))).await.unwrap();
    assert_eq!(what(&mut rx, 1).await, ["1"]);
    let mut pipe = appended_at_once(&key, 2..=6);
    pipe.cmd("XTRIM").arg(&key).arg("MAXLEN").arg(1).ignore();
    let () = pipe.query(&mut server.connect()).unwrap();
    assert_eq!(what(&mut rx, 2).await, ["reset", "6"]);
    guard(hub.publish_async(numbered(7))).await.unwrap();
    assert_eq!(what(&mut rx, 1).await, ["7"]);
}

crate::on_both!(
    down_at_start_then_up,
    connections_cut_then_caught_up,
    trimmed_past_the_reader_gets_reset
);
