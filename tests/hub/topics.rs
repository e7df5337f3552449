//! Many named topics in one process (`Topics`).

use std::time::Duration;

use futures_lite::StreamExt;
use sse_pump::hub::{check_topic, Following, Hub, Replay, TopicError, Topics};

use crate::{numbered, support::guard, take};

/// 10,000 topics with one subscriber each: a publish to a random topic reaches exactly
/// its subscriber.
async fn a_publish_reaches_exactly_its_topics_subscriber() {
    const TOPICS: usize = 10_000;
    let topics = Topics::new(|_| Hub::builder().history(4).subscriber_capacity(4));
    let mut subscribers: Vec<_> = (0..TOPICS)
        .map(|n| topics.topic(&format!("user:{n}")).unwrap())
        .map(|hub| hub.subscribe(None).unwrap())
        .collect();
    assert_eq!((topics.len(), topics.subscribers()), (TOPICS, TOPICS));
    for _ in 0..1_000 {
        let n = fastrand_index(TOPICS);
        let hub = topics.topic(&format!("user:{n}")).unwrap();
        let id = hub.publish(numbered(n as u64)).unwrap().unwrap();
        assert_eq!(subscribers[n].pending(), 1, "topic {n}");
        assert_eq!(take(&mut subscribers[n], 1).await, [id.as_str()]);
    }
    // No other subscriber got anything.
    assert!(subscribers.iter().all(|rx| rx.pending() == 0));
}

/// A small deterministic pseudo-random index (no dependency needed for this).
fn fastrand_index(len: usize) -> usize {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) });
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (x % len as u64) as usize
    })
}

/// A name is checked with a typed error, before any topic is made.
async fn names_are_checked() {
    let topics = Topics::new(|_| Hub::builder());
    let long = "a".repeat(129);
    let cases = [
        ("", TopicError::Empty),
        (long.as_str(), TopicError::TooLong),
        ("a b", TopicError::Character),
        ("a/b", TopicError::Character),
        ("é", TopicError::Character),
        ("a,b", TopicError::Character),
    ];
    for (name, want) in cases {
        assert_eq!(topics.topic(name).unwrap_err(), want, "{name:?}");
        assert_eq!(check_topic(name), Err(want));
    }
    assert!(topics.is_empty());
    for good in ["user:17", "doc-1.v2", "a_b@c", &"a".repeat(128)] {
        assert!(topics.topic(good).is_ok(), "{good:?}");
    }
}

/// An idle topic (no subscriber, no handle held, unused for `idle_after`) is dropped; one
/// with a subscriber or a held handle stays. A client's id from a dropped topic is unknown
/// to its next incarnation: `reset`, never another event.
async fn idle_topics_are_dropped_and_come_back_empty() {
    let idle = Duration::from_millis(20);
    let topics = Topics::new(|_| Hub::builder().history(8)).idle_after(idle);
    let id = topics.topic("quiet").unwrap().publish(numbered(1)).unwrap();
    let id = id.unwrap();
    let _rx = topics.topic("watched").unwrap().subscribe(None).unwrap();
    let held = topics.topic("held").unwrap();
    assert_eq!(topics.len(), 3);
    futures_timer::Delay::new(idle * 2).await; // the idle time passes
    topics.topic("other").unwrap();
    assert_eq!(topics.len(), 3, "quiet is dropped, watched and held stay");
    let again = topics.topic("quiet").unwrap();
    again.publish(numbered(2)).unwrap();
    let rx = again.subscribe(Some(id.as_str())).unwrap();
    assert_eq!(rx.replay(), Replay::Reset);
    drop(held);
}

/// The (data, id) of the next `n` events of a stream of several topics.
async fn next_of(rx: &mut Following, n: usize) -> Vec<(String, String)> {
    let mut got = Vec::new();
    for _ in 0..n {
        let event = guard(rx.next()).await.expect("the stream ended");
        let (data, id) = crate::shared_log::seen(event);
        got.push((data, id.unwrap_or_default()));
    }
    got
}

/// One stream follows several topics and resumes each from one `Last-Event-ID`: what was
/// published to each while the client was away comes once, in each topic's order,
/// including a topic that had no event yet when the client came.
async fn one_stream_follows_several_topics_and_resumes_each() {
    let topics = Topics::new(|_| Hub::builder().history(16));
    let (a, b) = (topics.topic("a").unwrap(), topics.topic("b").unwrap());
    a.publish(numbered(0)).unwrap(); // before the client: not sent
    let mut rx = topics.follow(&["a", "b"], None).unwrap();
    let a1 = a.publish(numbered(1)).unwrap().unwrap();
    let got = next_of(&mut rx, 1).await;
    assert_eq!(got, [("1".to_owned(), format!("a={a1},b="))]);
    let last = got[0].1.clone();
    drop(rx); // the client goes away
    let a2 = a.publish(numbered(2)).unwrap().unwrap();
    let b1 = b.publish(numbered(11)).unwrap().unwrap();
    let a3 = a.publish(numbered(3)).unwrap().unwrap();
    let mut back = topics.follow(&["a", "b"], Some(&last)).unwrap();
    let got = next_of(&mut back, 3).await;
    let of = |topic: &str| -> Vec<String> {
        let ids = got
            .iter()
            .filter(|(data, _)| (data.len() == 2) == (topic == "b"));
        ids.map(|(data, _)| data.clone()).collect()
    };
    assert_eq!(
        (of("a"), of("b")),
        (vec!["2".into(), "3".into()], vec!["11".to_owned()])
    );
    assert_eq!(got[2].1, format!("a={a3},b={b1}"));
    assert!([a2.as_str(), a3.as_str()]
        .iter()
        .all(|id| got.iter().any(|(_, all)| all.contains(id))));
    b.publish(numbered(12)).unwrap();
    assert_eq!(next_of(&mut back, 1).await[0].0, "12");
}

crate::on_both!(
    one_stream_follows_several_topics_and_resumes_each,
    a_publish_reaches_exactly_its_topics_subscriber,
    names_are_checked,
    idle_topics_are_dropped_and_come_back_empty,
);
