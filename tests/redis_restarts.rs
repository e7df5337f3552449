//! Redis killed and restarted empty a hundred times under one hub, on smol then on tokio,
//! alone in its test binary so that the threads and descriptors it counts are its own.
//! Skipped without `redis-server`, except on CI (`CI=true`), where it fails.

#[path = "support/mod.rs"]
mod support;

#[path = "demo_server/mod.rs"]
mod demo_server;

#[path = "hub/shared_log.rs"]
mod shared_log;

use futures_lite::StreamExt;
use sse_pump::hub::{Hub, RedisStreams};

use demo_server::redis::RedisServer;
use shared_log::{numbered, what};
use support::guard;

#[test]
fn restarted_a_hundred_times_on_smol_then_tokio() {
    support::on_smol(restarted_a_hundred_times("smol"));
    support::on_tokio(restarted_a_hundred_times("tokio"));
}

/// Redis is killed while a client streams: publishing is refused (typed), the client stays
/// connected; Redis restarts empty: the client gets `reset`, then the live events. A
/// hundred times, with no connection, thread or descriptor left behind.
async fn restarted_a_hundred_times(key: &str) {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let backend = RedisStreams::new(&server.url(), key).unwrap();
    let hub = Hub::builder().history(10).backend(backend.clone()).build();
    guard(backend.ready()).await;
    let mut rx = hub.subscribe(None).unwrap();
    guard(hub.publish_async(numbered(0))).await.unwrap();
    assert_eq!(what(&mut rx, 1).await, ["0"]);
    assert_eq!(backend_threads(), 1);
    let before = (open_descriptors(), threads());
    for round in 1..=100 {
        server.kill();
        let err = hub.publish_async(numbered(round)).await.unwrap_err();
        assert!(err.is_unavailable(), "{err:?}");
        assert!(hub.publish(numbered(round)).unwrap_err().is_unavailable());
        server.restart();
        guard(backend.ready()).await;
        guard(hub.publish_async(numbered(round))).await.unwrap();
        assert_eq!(
            what(&mut rx, 2).await,
            ["reset", &round.to_string()],
            "round {round}"
        );
    }
    assert_eq!(hub.stats().subscribers, 1);
    assert_eq!(backend.failed_writes(), 0);
    // The reader's and the writer's connections, and the one asking.
    let clients: String = server.run(&["CLIENT", "LIST"]);
    assert_eq!(clients.lines().count(), 3, "{clients}");
    assert_eq!((open_descriptors(), threads()), before);
    hub.close(None);
    assert!(guard(rx.next()).await.is_none());
    // Closing stops the backend's thread, and with it its connections.
    let stopped = demo_server::poll(demo_server::DEADLINE, || {
        (backend_threads() == 0).then_some(())
    });
    assert!(stopped.is_some(), "the backend's thread is still running");
    let clients: String = server.run(&["CLIENT", "LIST"]);
    assert_eq!(clients.lines().count(), 1, "{clients}");
}

/// File descriptors this process has open.
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// Threads of this process named `sse-pump-redis` (the backends').
fn backend_threads() -> usize {
    let tasks = std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten();
    let name = |task: std::fs::DirEntry| std::fs::read_to_string(task.path().join("comm"));
    tasks
        .filter_map(|task| name(task).ok())
        .filter(|name| name.trim() == "sse-pump-redis")
        .count()
}

/// Threads of this process.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |dir| dir.count())
}
