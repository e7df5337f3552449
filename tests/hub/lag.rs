//! Each lag policy: what the slow subscriber gets, and that the others are not held back.

use std::time::{Duration, Instant};

use futures_lite::{future, StreamExt};
use sse_pump::hub::{Hub, Lag, PublishError, Replay};

use crate::support::{guard, spawn};
use crate::{label, numbered, take};

type Task<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// Starts `n` subscribers that read every event and acknowledge each one; returns their
/// tasks (which yield what they read) and the acknowledgements.
fn fast_readers(hub: &Hub, n: usize) -> (Vec<Task<Vec<String>>>, async_channel::Receiver<()>) {
    let (ack, acks) = async_channel::unbounded();
    let tasks = (0..n)
        .map(|_| {
            let mut rx = hub.subscribe(None).unwrap();
            let ack = ack.clone();
            spawn(async move {
                let mut seen = Vec::new();
                while let Some(event) = rx.next().await {
                    seen.push(label(event));
                    ack.send(()).await.unwrap();
                }
                assert_eq!(rx.lagged(), 0);
                seen
            })
        })
        .collect();
    (tasks, acks)
}

/// Publishes 1..=total in batches, waiting after each until every fast reader has it:
/// the fast readers keep up, whatever the slow one does.
async fn publish_in_step(
    hub: &Hub,
    total: u64,
    readers: usize,
    acks: &async_channel::Receiver<()>,
) {
    for n in 1..=total {
        hub.publish(numbered(n)).unwrap();
        if n % 4 == 0 {
            for _ in 0..4 * readers {
                guard(acks.recv()).await.unwrap();
            }
        }
    }
}

async fn drop_oldest_skips_ahead_after_a_gap_event() {
    let hub = crate::builder()
        .subscriber_capacity(8)
        .on_lag(Lag::DropOldest)
        .build();
    let mut slow = hub.subscribe(None).unwrap(); // never reads while events flow
    let (fast, acks) = fast_readers(&hub, 20);
    publish_in_step(&hub, 200, 20, &acks).await;
    hub.close(None);
    let want: Vec<String> = (1..=200).map(|n| n.to_string()).collect();
    for reader in fast {
        assert_eq!(guard(reader).await, want);
    }
    let mut got = take(&mut slow, 100).await;
    assert_eq!(got.remove(0), "gap");
    assert_eq!(got, want[192..]);
    assert_eq!(slow.lagged(), 192);
    let stats = hub.stats();
    assert_eq!((stats.lagged_events, stats.lag_disconnects), (192, 0));
    assert_eq!(stats.subscribers, 0);
}

async fn the_gap_event_says_how_many_were_missed() {
    let hub = crate::builder().subscriber_capacity(2).history(0).build();
    let mut slow = hub.subscribe(None).unwrap();
    for n in 1..=5 {
        hub.publish(numbered(n)).unwrap();
    }
    let gap = guard(slow.next()).await.unwrap();
    assert_eq!(gap.into_bytes(), "event: gap\ndata: 3\n\n");
    assert_eq!(take(&mut slow, 2).await, ["4", "5"]);
    assert_eq!(hub.stats().retained, 2);
}

async fn disconnect_ends_only_the_laggard() {
    let hub = crate::builder()
        .subscriber_capacity(8)
        .on_lag(Lag::Disconnect)
        .build();
    let mut slow = hub.subscribe(None).unwrap();
    let (fast, acks) = fast_readers(&hub, 20);
    publish_in_step(&hub, 200, 20, &acks).await;
    assert_eq!(hub.stats().subscribers, 21);
    assert!(
        guard(slow.next()).await.is_none(),
        "the laggard's stream ends"
    );
    assert_eq!(slow.lagged(), 200);
    let stats = hub.stats();
    assert_eq!(
        (
            stats.subscribers,
            stats.lag_disconnects,
            stats.lagged_events
        ),
        (20, 1, 200)
    );
    hub.close(None);
    let want: Vec<String> = (1..=200).map(|n| n.to_string()).collect();
    for reader in fast {
        assert_eq!(guard(reader).await, want);
    }
}

async fn disconnected_laggard_catches_up_by_replay() {
    let hub = crate::builder()
        .history(64)
        .subscriber_capacity(4)
        .on_lag(Lag::Disconnect)
        .build();
    let mut rx = hub.subscribe(None).unwrap();
    hub.publish(numbered(1)).unwrap();
    assert_eq!(take(&mut rx, 1).await, ["1"]);
    for n in 2..=20 {
        hub.publish(numbered(n)).unwrap();
    }
    assert!(guard(rx.next()).await.is_none());
    // A browser reconnects with `Last-Event-ID: 1` and misses nothing.
    let mut again = hub.subscribe(Some("1")).unwrap();
    assert_eq!(again.replay(), Replay::Resumed { missed: 19 });
    let want: Vec<String> = (2..=20).map(|n| n.to_string()).collect();
    assert_eq!(take(&mut again, 19).await, want);
}

async fn wait_waits_for_room() {
    let hub = Hub::builder()
        .subscriber_capacity(2)
        .on_lag(Lag::Wait(Duration::from_secs(60)))
        .build();
    let mut rx = hub.subscribe(None).unwrap();
    hub.publish(numbered(1)).unwrap();
    hub.publish(numbered(2)).unwrap();
    let refused = hub.publish(numbered(3)).unwrap_err();
    assert!(matches!(refused, PublishError::Full(_)));
    let mut third = Box::pin(hub.publish_async(refused.into_inner()));
    assert!(
        future::poll_once(&mut third).await.is_none(),
        "no room: it waits"
    );
    assert_eq!(take(&mut rx, 1).await, ["1"]);
    assert_eq!(guard(third).await.unwrap(), "3");
    assert_eq!(take(&mut rx, 2).await, ["2", "3"]);
    assert_eq!(hub.stats().wait_timeouts, 0);

    // Closing the hub wakes a waiting publisher.
    hub.publish(numbered(4)).unwrap();
    hub.publish(numbered(5)).unwrap();
    let mut sixth = Box::pin(hub.publish_async(numbered(6)));
    assert!(future::poll_once(&mut sixth).await.is_none());
    hub.close(None);
    assert!(guard(sixth).await.unwrap_err().is_closed());
}

async fn wait_gives_up_after_its_timeout() {
    let limit = Duration::from_millis(30);
    let hub = Hub::builder()
        .subscriber_capacity(2)
        .on_lag(Lag::Wait(limit))
        .build();
    let mut slow = hub.subscribe(None).unwrap();
    let (fast, acks) = fast_readers(&hub, 5);
    for n in 1..=2 {
        hub.publish_async(numbered(n)).await.unwrap();
    }
    let started = Instant::now();
    guard(hub.publish_async(numbered(3))).await.unwrap();
    assert!(started.elapsed() >= limit, "{:?}", started.elapsed());
    // The slow subscriber was cut off; the next publishes do not wait for it.
    for n in 4..=6 {
        for _ in 0..5 {
            guard(acks.recv()).await.unwrap();
        }
        guard(hub.publish_async(numbered(n))).await.unwrap();
    }
    assert!(guard(slow.next()).await.is_none());
    let stats = hub.stats();
    assert_eq!((stats.wait_timeouts, stats.lag_disconnects), (1, 1));
    hub.close(None);
    let want: Vec<String> = (1..=6).map(|n| n.to_string()).collect();
    for reader in fast {
        assert_eq!(guard(reader).await, want);
    }
}

/// A subscriber that keeps up on average reads a burst longer than its capacity, but
/// shorter than the history (a shared log's reader batch, a catch-up after a stall), from
/// the ring: no gap. Once it really falls behind (its next event is overwritten), it gets
/// a gap with the exact count, then the newest `capacity` events.
async fn a_burst_shorter_than_the_history_costs_nothing() {
    let hub = crate::builder()
        .history(600)
        .subscriber_capacity(64)
        .on_lag(Lag::DropOldest)
        .build();
    let mut rx = hub.subscribe(None).unwrap();
    for n in 1..=512 {
        hub.publish(numbered(n)).unwrap(); // one burst: the subscriber is not polled
    }
    let want: Vec<String> = (1..=512).map(|n| n.to_string()).collect();
    assert_eq!(
        take(&mut rx, 1).await,
        ["1"],
        "a gap instead of the first event"
    );
    assert_eq!(take(&mut rx, 511).await, want[1..]);
    assert_eq!((rx.lagged(), hub.stats().lagged_events), (0, 0));
    for n in 513..=1212 {
        hub.publish(numbered(n)).unwrap(); // 700: more than the ring's 664
    }
    let gap = guard(rx.next()).await.unwrap();
    assert_eq!(gap.into_bytes(), "event: gap\ndata: 636\n\n");
    let want: Vec<String> = (1149..=1212).map(|n| n.to_string()).collect();
    assert_eq!(take(&mut rx, 64).await, want);
    assert_eq!((rx.lagged(), hub.stats().lagged_events), (636, 636));
}

crate::on_both!(
    a_burst_shorter_than_the_history_costs_nothing,
    drop_oldest_skips_ahead_after_a_gap_event,
    the_gap_event_says_how_many_were_missed,
    disconnect_ends_only_the_laggard,
    disconnected_laggard_catches_up_by_replay,
    wait_waits_for_room,
    wait_gives_up_after_its_timeout,
);

// `Lag::Wait` is not among them: with a shared log it acts as `Lag::Disconnect`.
crate::through_a_log!(
    a_burst_shorter_than_the_history_costs_nothing,
    drop_oldest_skips_ahead_after_a_gap_event,
    the_gap_event_says_how_many_were_missed,
    disconnect_ends_only_the_laggard,
    disconnected_laggard_catches_up_by_replay,
);

/// A small capacity, a publisher racing readers on two threads: every reader's ids only
/// go up, and each gap event says exactly how many ids it skipped.
#[test]
fn drop_oldest_accounts_for_every_event_under_races() {
    const TOTAL: u64 = 50_000;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let hub = Hub::builder().subscriber_capacity(4).history(2).build();
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let mut rx = hub.subscribe(None).unwrap();
                tokio::spawn(async move {
                    let (mut last, mut received, mut skipped) = (0u64, 0u64, 0u64);
                    let mut gap = None;
                    while let Some(event) = rx.next().await {
                        let bytes = event.into_bytes();
                        let text = std::str::from_utf8(&bytes).unwrap();
                        if let Some(n) = text.strip_prefix("event: gap\ndata: ") {
                            let n: u64 = n.trim_end().parse().unwrap();
                            skipped += n;
                            gap = Some(gap.unwrap_or(0) + n); // gaps may follow each other
                            continue;
                        }
                        let id: u64 = text[4..text.find('\n').unwrap()].parse().unwrap();
                        assert_eq!(id - last - 1, gap.take().unwrap_or(0), "after {last}");
                        (last, received) = (id, received + 1);
                    }
                    assert_eq!(skipped, rx.lagged());
                    (received, skipped)
                })
            })
            .collect();
        let publisher = hub.clone();
        tokio::spawn(async move {
            for n in 1..=TOTAL {
                publisher.publish(numbered(n)).unwrap();
                if n % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
        .await
        .unwrap();
        hub.close(None);
        let mut all_skipped = 0;
        for reader in readers {
            let (received, skipped) = guard(reader).await.unwrap();
            assert_eq!(received + skipped, TOTAL);
            all_skipped += skipped;
        }
        assert_eq!(hub.stats().lagged_events, all_skipped);
    });
}
