//! Topics over Redis (`Topics` with `RedisStreams::stream`): two "instances" (two families,
//! each one thread and two connections) on one Redis; and the notifications example on
//! one Redis, whose thread count does not grow with its topics.

use std::time::Duration;

use futures_lite::StreamExt;
use sse_pump::hub::{Hub, RedisStreams, Replay, Subscription, Topics};

use crate::{
    demo_server::redis::RedisServer,
    shared_log::{numbered, read},
    support::guard,
    unique_key,
};

/// An instance: topics whose hubs follow the stream `{prefix}:{name}`, all on one thread.
fn instance(server: &RedisServer, prefix: &str, idle: Duration) -> Topics {
    let redis = RedisStreams::new(&server.url(), "unused").unwrap();
    let prefix = prefix.to_owned();
    Topics::new(move |name| {
        let stream = redis.stream(&format!("{prefix}:{name}"));
        Hub::builder()
            .history(8)
            .subscriber_capacity(8)
            .backend(stream)
    })
    .idle_after(idle)
}

/// Publishes on `hub`, retrying while its instance connects (a new instance's first
/// publish may come before its writer's connection); the id.
async fn publish(hub: &Hub, n: u64) -> sse_pump::hub::EventId {
    let deadline = std::time::Instant::now() + crate::demo_server::DEADLINE;
    loop {
        match guard(hub.publish_async(numbered(n))).await {
            Err(e) if e.is_unavailable() && std::time::Instant::now() < deadline => {
                futures_timer::Delay::new(Duration::from_millis(10)).await;
            }
            published => return published.unwrap(),
        }
    }
}

/// A small deterministic pseudo-random index.
fn random_index(state: &mut u64, len: usize) -> usize {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state % len as u64) as usize
}

/// 10,000 topics over two instances on one Redis, one subscriber each (half on each
/// instance): a publish to a random topic, on either instance, reaches exactly its
/// subscriber, with the id the publish returned.
async fn ten_thousand_topics_over_two_instances() {
    const TOPICS: usize = 10_000;
    let Some(server) = RedisServer::start() else {
        return;
    };
    let prefix = unique_key();
    let idle = Duration::from_secs(600);
    let instances = [
        instance(&server, &prefix, idle),
        instance(&server, &prefix, idle),
    ];
    let on = |n: usize| &instances[n * 2 / TOPICS];
    let name = |n: usize| format!("user:{n}");
    // Made first (each joins its instance's reader), then subscribed once loaded.
    let hubs: Vec<Hub> = (0..TOPICS)
        .map(|n| on(n).topic(&name(n)).unwrap())
        .collect();
    let mut subscribers = Vec::with_capacity(TOPICS);
    for hub in &hubs {
        subscribers.push(guard(hub.subscribe_async(None)).await.unwrap());
    }
    assert_eq!(
        instances[0].subscribers() + instances[1].subscribers(),
        TOPICS
    );
    let mut state = 0x9E37_79B9_7F4A_7C15;
    for round in 0..300 {
        let n = random_index(&mut state, TOPICS);
        let publisher = &instances[round % 2]; // this instance or the other
        let hub = publisher.topic(&name(n)).unwrap();
        let id = publish(&hub, round as u64).await;
        let got = read(&mut subscribers[n], 1).await;
        assert_eq!(
            got,
            [(round.to_string(), Some(id.to_string()))],
            "topic {n}"
        );
    }
    // Every publish was received before the next: nobody else got anything.
    assert!(subscribers.iter().all(|rx| rx.pending() == 0));
}

/// The next `n` events' data.
async fn data(rx: &mut Subscription, n: usize) -> Vec<String> {
    read(rx, n)
        .await
        .into_iter()
        .map(|(data, _)| data)
        .collect()
}

/// A client cut off from one instance resumes its topic on the other from its
/// `Last-Event-ID`: every event exactly once, in order, including those published while
/// it was away (on either instance).
async fn a_client_resumes_its_topic_on_the_other_instance() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let prefix = unique_key();
    let idle = Duration::from_secs(600);
    let (a, b) = (
        instance(&server, &prefix, idle),
        instance(&server, &prefix, idle),
    );
    let topic = a.topic("doc:1").unwrap();
    let mut rx = guard(topic.subscribe_async(None)).await.unwrap();
    let mut noise = guard(a.topic("doc:2").unwrap().subscribe_async(None))
        .await
        .unwrap();
    for n in 1..=3 {
        publish(&topic, n).await;
    }
    let seen = read(&mut rx, 2).await;
    let last = seen[1].1.clone().unwrap();
    drop(rx); // cut off after the second
    let other = b.topic("doc:1").unwrap();
    publish(&other, 4).await;
    publish(&b.topic("doc:2").unwrap(), 99).await;
    let mut back = guard(other.subscribe_async(Some(&last))).await.unwrap();
    // Resumed (how many it replays depends on whether `b` has read 4 yet; the rest comes live).
    assert!(
        matches!(back.replay(), Replay::Resumed { .. }),
        "{:?}",
        back.replay()
    );
    publish(&topic, 5).await;
    assert_eq!(data(&mut back, 3).await, ["3", "4", "5"]);
    assert_eq!(back.pending(), 0);
    assert_eq!(data(&mut noise, 1).await, ["99"]); // the other topic's, only there
}

/// A topic with no subscriber is dropped once idle, its history staying in Redis: it
/// comes back with it, and a client resumes from it.
async fn idle_topics_come_back_with_their_history() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let prefix = unique_key();
    let idle = Duration::from_millis(50);
    let topics = instance(&server, &prefix, idle);
    let hub = topics.topic("quiet").unwrap();
    let mut ids = Vec::new();
    for n in 1..=3 {
        ids.push(publish(&hub, n).await);
    }
    drop(hub);
    futures_timer::Delay::new(idle * 2).await;
    let _other = topics.topic("other").unwrap(); // sweeps
    assert_eq!(topics.len(), 1, "quiet was dropped");
    let hub = topics.topic("quiet").unwrap();
    let mut rx = guard(hub.subscribe_async(Some(ids[0].as_str())))
        .await
        .unwrap();
    assert_eq!(rx.replay(), Replay::Resumed { missed: 2 });
    let got = read(&mut rx, 2).await;
    let want: Vec<_> = (2..=3)
        .map(|n| (n.to_string(), Some(ids[n - 1].to_string())))
        .collect();
    assert_eq!(got, want);
    publish(&hub, 4).await;
    assert_eq!(data(&mut rx, 1).await, ["4"]);
    hub.close(None);
    assert!(guard(rx.next()).await.is_none());
}

crate::on_both!(
    ten_thousand_topics_over_two_instances,
    a_client_resumes_its_topic_on_the_other_instance,
    idle_topics_come_back_with_their_history,
);
