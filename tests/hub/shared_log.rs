//! Hub scenarios with a shared log: several hubs ("instances") follow one log. Written
//! once for any log; tests/hub runs them on `MemoryLog`, tests/redis on Redis Streams.

#![allow(dead_code)] // each test binary uses a part

use std::future::Future;

use futures_lite::{future, StreamExt};
use sse_pump::{
    hub::{Hub, HubBuilder, Lag, Replay, SubscribeError, Subscription},
    Event,
};

use crate::support::{guard, spawn};

/// A shared log the scenarios can start instances of, and break.
pub trait Cluster: Clone + Send + Sync + 'static {
    /// A new instance's hub following the log, ready to publish.
    fn hub(&self, builder: HubBuilder) -> impl Future<Output = Hub> + Send;
    /// Loses every entry of the log (a broker restarted empty), and waits until `hubs`
    /// can publish again.
    fn lose(&self, hubs: &[&Hub]) -> impl Future<Output = ()> + Send;
}

/// What a client sees of a frame: its data, or its event type for `reset`, `gap` and
/// farewells; with the id it carries.
pub fn seen(event: Event) -> (String, Option<String>) {
    let bytes = event.into_bytes();
    let text = std::str::from_utf8(&bytes).unwrap();
    let field = |name: &str| text.lines().find_map(|line| line.strip_prefix(name));
    let id = field("id: ").map(str::to_owned);
    match (&id, field("event: ")) {
        (None, Some(kind)) => (kind.to_owned(), id),
        _ => (field("data: ").unwrap_or("").to_owned(), id),
    }
}

/// The next `n` events of `rx` as (what, id), fewer if it ends.
pub async fn read(rx: &mut Subscription, n: usize) -> Vec<(String, Option<String>)> {
    let mut got = Vec::new();
    while got.len() < n {
        match guard(rx.next()).await {
            Some(event) => got.push(seen(event)),
            None => break,
        }
    }
    got
}

/// The next `n` events of `rx`, what they are only.
pub async fn what(rx: &mut Subscription, n: usize) -> Vec<String> {
    read(rx, n)
        .await
        .into_iter()
        .map(|(what, _)| what)
        .collect()
}

pub fn numbered(n: u64) -> Event {
    Event::new().event("n").data(n.to_string())
}

fn strings(range: std::ops::RangeInclusive<u64>) -> Vec<String> {
    range.map(|n| n.to_string()).collect()
}

/// A client hops from instance to instance every few events, resuming with its last id,
/// while another instance publishes: it sees every event once, in order, across every
/// seam, including ids the next instance has not read yet.
pub async fn resume_on_any_instance<C: Cluster>(cluster: C) {
    const TOTAL: u64 = 600;
    let builder = || {
        Hub::builder()
            .history(TOTAL as usize)
            .subscriber_capacity(TOTAL as usize)
    };
    let hubs = [
        cluster.hub(builder()).await,
        cluster.hub(builder()).await,
        cluster.hub(builder()).await,
    ];
    let mut clients = Vec::new();
    for every in [1, 7, 31, 97] {
        let hubs = hubs.clone();
        let mut rx = hubs[every % hubs.len()].subscribe(None).unwrap(); // before the first event
        clients.push(spawn(async move {
            let (mut seen, mut last) = (Vec::new(), None::<String>);
            for hop in 1.. {
                for (what, id) in read(&mut rx, every.min(TOTAL as usize - seen.len())).await {
                    seen.push(what);
                    last = id.or(last);
                }
                if seen.len() >= TOTAL as usize {
                    return seen;
                }
                rx = hubs[(every + hop) % hubs.len()]
                    .subscribe(last.as_deref())
                    .unwrap();
                assert!(matches!(rx.replay(), Replay::Resumed { .. }), "{last:?}");
            }
            unreachable!()
        }));
    }
    let publisher = hubs[0].clone();
    for n in 1..=TOTAL {
        guard(publisher.publish_async(numbered(n))).await.unwrap();
        if n % 3 == 0 {
            future::yield_now().await;
        }
    }
    for client in clients {
        assert_eq!(guard(client).await, strings(1..=TOTAL));
    }
    for hub in &hubs {
        assert_eq!(hub.stats().published, TOTAL);
        assert_eq!(hub.stats().lagged_events, 0);
    }
}

/// A client away for longer than the history gets `reset` on any instance; one away for
/// less resumes.
pub async fn away_longer_than_the_history_gets_reset<C: Cluster>(cluster: C) {
    let a = cluster.hub(Hub::builder().history(4)).await;
    let b = cluster.hub(Hub::builder().history(4)).await;
    let mut on_a = a.subscribe(None).unwrap();
    let mut on_b = b.subscribe(None).unwrap();
    for n in 1..=10 {
        guard(a.publish_async(numbered(n))).await.unwrap();
    }
    let ids: Vec<String> = read(&mut on_a, 10)
        .await
        .into_iter()
        .map(|(_, id)| id.unwrap())
        .collect();
    assert_eq!(what(&mut on_b, 10).await, strings(1..=10)); // b has read them all
    let cases = [
        (&ids[9], Replay::Resumed { missed: 0 }),
        (&ids[5], Replay::Resumed { missed: 4 }),
        (&ids[4], Replay::Reset), // 5 missed: more than the history
        (&ids[0], Replay::Reset), // trimmed long ago
    ];
    for (id, want) in cases {
        assert_eq!(b.subscribe(Some(id)).unwrap().replay(), want, "{id}");
    }
    assert_eq!(
        b.subscribe(Some("not an id")).unwrap().replay(),
        Replay::Reset
    );
    let mut resumed = b.subscribe(Some(&ids[7])).unwrap();
    let mut reset = b.subscribe(Some(&ids[0])).unwrap();
    guard(a.publish_async(numbered(11))).await.unwrap();
    assert_eq!(what(&mut resumed, 3).await, ["9", "10", "11"]);
    assert_eq!(what(&mut reset, 2).await, ["reset", "11"]);
}

/// A new instance loads the log's newest `history` events: it resumes clients of the
/// others, but its live subscribers do not receive old events.
pub async fn a_new_instance_resumes_the_others_clients<C: Cluster>(cluster: C) {
    let a = cluster.hub(Hub::builder().history(100)).await;
    let mut on_a = a.subscribe(None).unwrap();
    for n in 1..=5 {
        guard(a.publish_async(numbered(n))).await.unwrap();
    }
    let got = read(&mut on_a, 5).await;
    let b = cluster.hub(Hub::builder().history(100)).await; // started after the events
    let mut live = b.subscribe(None).unwrap();
    let mut resumed = b.subscribe(got[1].1.as_deref()).unwrap();
    assert_eq!(resumed.replay(), Replay::Resumed { missed: 3 });
    guard(a.publish_async(numbered(6))).await.unwrap();
    assert_eq!(what(&mut resumed, 4).await, ["3", "4", "5", "6"]);
    assert_eq!(what(&mut live, 1).await, ["6"]);
}

/// Lag policies, filters, farewell, limits and counters hold on each instance.
pub async fn every_hub_guarantee_holds<C: Cluster>(cluster: C) {
    let a = cluster
        .hub(
            Hub::builder()
                .subscriber_capacity(4)
                .on_lag(Lag::DropOldest)
                .max_subscribers(4),
        )
        .await;
    let b = cluster.hub(Hub::builder()).await;
    let mut on_b = b.subscribe(None).unwrap();
    let mut slow = a.subscribe(None).unwrap(); // reads nothing until the end
    let mut fast = a.subscribe(None).unwrap();
    let _third = a.subscribe(None).unwrap();
    for n in 1..=10 {
        guard(b.publish_async(numbered(n))).await.unwrap();
        assert_eq!(what(&mut fast, 1).await, [n.to_string()]);
    }
    let mut chat = a.subscribe(None).unwrap().filter(|kind| kind == "chat");
    assert_eq!(a.subscribe(None).unwrap_err(), SubscribeError::Full);
    guard(b.publish_async(numbered(0))).await.unwrap(); // filtered out
    guard(b.publish_async(Event::new().event("chat").data("hi")))
        .await
        .unwrap();
    assert_eq!(what(&mut chat, 1).await, ["hi"]);
    assert_eq!(what(&mut slow, 5).await, ["gap", "9", "10", "0", "hi"]);
    assert_eq!(slow.lagged(), 8);
    let stats = a.stats();
    assert_eq!(
        (stats.published, stats.subscribers, stats.refused),
        (12, 4, 1)
    );
    assert_eq!(stats.lagged_events, 8);
    a.close(Event::new().event("bye").data(""));
    assert_eq!(what(&mut fast, 3).await, ["0", "hi", "bye"]);
    assert!(a.publish(numbered(12)).unwrap_err().is_closed());
    // b goes on.
    guard(b.publish_async(numbered(12))).await.unwrap();
    let mut want = strings(1..=10);
    want.extend(["0", "hi", "12"].map(String::from));
    assert_eq!(what(&mut on_b, 13).await, want);

    // Lag::Disconnect ends only the laggard, which catches up by replay.
    let c = cluster
        .hub(
            Hub::builder()
                .history(16)
                .subscriber_capacity(2)
                .on_lag(Lag::Disconnect),
        )
        .await;
    let mut laggard = c.subscribe(None).unwrap();
    let mut keeps_up = c.subscribe(None).unwrap();
    guard(b.publish_async(numbered(13))).await.unwrap();
    let (_, last) = read(&mut laggard, 1).await.remove(0);
    for n in 14..=17 {
        guard(b.publish_async(numbered(n))).await.unwrap();
        assert_eq!(what(&mut keeps_up, 1).await, [(n - 1).to_string()]);
    }
    assert_eq!(what(&mut keeps_up, 1).await, ["17"]);
    assert_eq!(what(&mut laggard, 1).await, Vec::<String>::new()); // ended
    assert_eq!((laggard.lagged(), c.stats().lag_disconnects), (4, 1));
    let mut back = c.subscribe(last.as_deref()).unwrap();
    assert_eq!(back.replay(), Replay::Resumed { missed: 4 });
    assert_eq!(what(&mut back, 4).await, ["14", "15", "16", "17"]);
}

/// The log loses its entries while clients stream: every subscriber, filtered or not,
/// gets `reset` then the live events; an id from before the loss is not resumed.
pub async fn a_lost_log_resets_then_goes_live<C: Cluster>(cluster: C) {
    let a = cluster.hub(Hub::builder().history(50)).await;
    let b = cluster.hub(Hub::builder().history(50)).await;
    let mut on_a = a.subscribe(None).unwrap();
    let mut on_b = b.subscribe(None).unwrap();
    let mut filtered = b.subscribe(None).unwrap().filter(|kind| kind == "nothing");
    for n in 1..=3 {
        guard(a.publish_async(numbered(n))).await.unwrap();
    }
    let before = read(&mut on_a, 3).await;
    assert_eq!(what(&mut on_b, 3).await, ["1", "2", "3"]);
    cluster.lose(&[&a, &b]).await;
    guard(b.publish_async(numbered(4))).await.unwrap();
    assert_eq!(what(&mut on_a, 2).await, ["reset", "4"]);
    assert_eq!(what(&mut on_b, 2).await, ["reset", "4"]);
    assert_eq!(what(&mut filtered, 1).await, ["reset"]);
    let old = before[2].1.as_deref();
    let mut comes_back = b.subscribe(old).unwrap();
    guard(a.publish_async(numbered(5))).await.unwrap();
    assert_eq!(what(&mut comes_back, 2).await, ["reset", "5"]);
    assert_eq!(what(&mut on_a, 1).await, ["5"]);
}
