//! Hub scenarios, each run on smol and on tokio.

#[path = "../support/mod.rs"]
mod support;

mod lag;
mod memory_log;
mod shared_log;
mod topics;

use std::{cell::Cell, time::Duration};

use futures_lite::{future, StreamExt};
use sse_pump::{
    hub::{Hub, HubBuilder, Ids, MemoryLog, Replay, SubscribeError, Subscription},
    Ended, Error, Event, Sse,
};
use support::{failing_after, frames, guard, recorder, spawn};

thread_local! {
    /// Whether this test's hubs follow a shared log (see [`through_a_log!`]).
    static THROUGH_A_LOG: Cell<bool> = const { Cell::new(false) };
}

/// `Hub::builder()`, following a fresh `MemoryLog` when the test runs through a log: the
/// scenarios that use it hold for both backends (the log's ids are 1, 2, … too).
fn builder() -> HubBuilder {
    let builder = Hub::builder();
    match THROUGH_A_LOG.get() {
        true => builder.backend(MemoryLog::new()),
        false => builder,
    }
}

/// Runs each scenario again, on smol then on tokio, with its hubs built by [`builder`]
/// following a `MemoryLog`.
#[macro_export]
macro_rules! through_a_log {
    ($($name:ident),* $(,)?) => {
        mod through_a_log {
            $(#[test] fn $name() {
                $crate::THROUGH_A_LOG.set(true);
                $crate::support::on_smol(super::$name());
                $crate::support::on_tokio(super::$name());
            })*
        }
    };
}

/// The `id` of a frame, or its `event` type when it has no id (`reset`, `gap`, farewell).
fn label(event: Event) -> String {
    let bytes = event.into_bytes();
    let text = std::str::from_utf8(&bytes).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .map(str::to_owned)
    };
    field("id: ")
        .or_else(|| field("event: "))
        .unwrap_or_else(|| text.to_owned())
}

/// The next `n` labels of `rx` (fewer if it ends).
async fn take(rx: &mut Subscription, n: usize) -> Vec<String> {
    let mut seen = Vec::new();
    while seen.len() < n {
        match guard(rx.next()).await {
            Some(event) => seen.push(label(event)),
            None => break,
        }
    }
    seen
}

fn numbered(n: u64) -> Event {
    Event::new().event("n").data(n.to_string())
}

/// Clients drop and resubscribe with their last id every few events while the publisher
/// publishes: each one sees every event once, in order, across every seam.
async fn replay_seam_with_concurrent_publishing() {
    const TOTAL: u64 = 2000;
    for ids in [Ids::Assign, Ids::Keep] {
        let hub = Hub::builder()
            .ids(ids)
            .history(TOTAL as usize)
            .subscriber_capacity(TOTAL as usize)
            .build();
        let mut clients = Vec::new();
        for every in [1, 7, 31, 97, 500] {
            let hub = hub.clone();
            clients.push(spawn(async move {
                let (mut seen, mut last): (Vec<String>, Option<String>) = (Vec::new(), None);
                loop {
                    let mut rx = hub.subscribe(last.as_deref()).unwrap();
                    if last.is_some() {
                        assert!(matches!(rx.replay(), Replay::Resumed { .. }), "{last:?}");
                    }
                    let left = TOTAL as usize - seen.len();
                    let got = take(&mut rx, every.min(left)).await;
                    last = got.last().cloned().or(last);
                    seen.extend(got);
                    if seen.len() >= TOTAL as usize {
                        return seen;
                    }
                }
            }));
        }
        let publisher = hub.clone();
        let publishing = spawn(async move {
            for n in 1..=TOTAL {
                let event = match ids {
                    Ids::Keep => numbered(n).id(format!("e{n}")),
                    _ => numbered(n),
                };
                publisher.publish(event).unwrap();
                if n % 3 == 0 {
                    future::yield_now().await;
                }
            }
        });
        guard(publishing).await;
        let want: Vec<String> = (1..=TOTAL)
            .map(|n| match ids {
                Ids::Keep => format!("e{n}"),
                _ => n.to_string(),
            })
            .collect();
        for client in clients {
            assert_eq!(guard(client).await, want, "{ids:?}");
        }
        assert_eq!(hub.stats().lagged_events, 0);
    }
}

async fn unknown_or_too_old_ids_get_the_reset_event() {
    let hub = Hub::builder().history(4).subscriber_capacity(8).build();
    for n in 1..=10 {
        hub.publish(numbered(n)).unwrap();
    }
    let cases = [
        (Some("10"), Replay::Resumed { missed: 0 }),
        (Some("6"), Replay::Resumed { missed: 4 }),
        (Some("5"), Replay::Reset),      // 5 missed: more than the history
        (Some("11"), Replay::Reset),     // not published yet: from before a restart
        (Some("chat-9"), Replay::Reset), // not an id of ours
        (Some(""), Replay::Live),
        (None, Replay::Live),
    ];
    for (last, want) in cases {
        assert_eq!(hub.subscribe(last).unwrap().replay(), want, "{last:?}");
    }
    let mut resumed = hub.subscribe(Some("6")).unwrap();
    let mut reset = hub.subscribe(Some("5")).unwrap();
    hub.publish(numbered(11)).unwrap();
    assert_eq!(take(&mut resumed, 5).await, ["7", "8", "9", "10", "11"]);
    assert_eq!(take(&mut reset, 2).await, ["reset", "11"]);

    // With no history, a client that saw the last event resumes; any other gets a reset.
    let hub = Hub::builder().history(0).ids(Ids::Keep).build();
    hub.publish(numbered(1).id("a")).unwrap();
    hub.publish(numbered(2).id("b")).unwrap();
    assert_eq!(
        hub.subscribe(Some("b")).unwrap().replay(),
        Replay::Resumed { missed: 0 }
    );
    assert_eq!(hub.subscribe(Some("a")).unwrap().replay(), Replay::Reset);

    // By age: an event older than `max_age` is not replayed.
    let hub = Hub::builder()
        .history(16)
        .max_age(Duration::from_millis(5))
        .build();
    hub.publish(numbered(1)).unwrap();
    hub.publish(numbered(2)).unwrap();
    assert_eq!(
        hub.subscribe(Some("1")).unwrap().replay(),
        Replay::Resumed { missed: 1 }
    );
    futures_timer::Delay::new(Duration::from_millis(10)).await; // lets the history age
    assert_eq!(hub.subscribe(Some("1")).unwrap().replay(), Replay::Reset);
}

async fn max_subscribers_refuses_then_admits() {
    let hub = builder().max_subscribers(2).build();
    let first = hub.subscribe(None).unwrap();
    let _second = hub.subscribe(None).unwrap();
    assert_eq!(hub.subscribe(None).unwrap_err(), SubscribeError::Full);
    assert_eq!(hub.stats().refused, 1);
    drop(first);
    let _third = hub.subscribe(None).unwrap();
    assert_eq!(hub.stats().subscribers, 2);
}

async fn unsubscribes_when_the_client_disconnects() {
    let hub = builder().build();
    let (sink, seen) = failing_after(1); // the second write fails: the client is gone
    let pump = spawn(
        Sse::new(hub.subscribe(None).unwrap())
            .keep_alive(None)
            .pump(sink),
    );
    assert_eq!(hub.stats().subscribers, 1);
    hub.publish(numbered(1)).unwrap();
    assert_eq!(seen.next_write().await, b"id: 1\nevent: n\ndata: 1\n\n");
    hub.publish(numbered(2)).unwrap();
    let failed = guard(pump).await.unwrap_err();
    assert!(matches!(failed.error(), Error::Disconnected(_)));
    assert_eq!(
        (failed.report().events, failed.report().undelivered),
        (1, 1)
    );
    assert_eq!(hub.stats().subscribers, 0);

    // A stream dropped before it is pumped unsubscribes too.
    let sse = Sse::new(hub.subscribe(None).unwrap());
    assert_eq!(hub.stats().subscribers, 1);
    drop(sse);
    assert_eq!(hub.stats().subscribers, 0);
}

async fn close_with_farewell_through_the_pump() {
    let hub = builder().build();
    let mut pumps = Vec::new();
    for _ in 0..3 {
        let (sink, seen) = recorder();
        let pump = spawn(
            Sse::new(hub.subscribe(None).unwrap())
                .keep_alive(None)
                .pump(sink),
        );
        pumps.push((pump, seen));
    }
    hub.publish(numbered(1)).unwrap();
    hub.close(Event::new().event("bye").data("restarting"));
    for (pump, seen) in pumps {
        let report = guard(pump).await.unwrap();
        assert_eq!((report.ended, report.events), (Ended::SourceClosed, 2));
        assert_eq!(
            frames(&seen.rest()),
            ["id: 1\nevent: n\ndata: 1", "event: bye\ndata: restarting"]
        );
    }
    assert_eq!(hub.stats().subscribers, 0);
    assert!(hub.publish(numbered(2)).unwrap_err().is_closed());
    assert_eq!(hub.subscribe(None).unwrap_err(), SubscribeError::Closed);
}

async fn dropping_the_last_handle_ends_every_stream() {
    let hub = builder().build();
    let mut rx = hub.subscribe(None).unwrap();
    let publisher = hub.clone();
    drop(hub);
    publisher.publish(numbered(1)).unwrap(); // a clone still publishes
    drop(publisher);
    assert_eq!(take(&mut rx, 5).await, ["1"]);
}

async fn filter_by_event_type() {
    let hub = builder().build();
    let mut chat = hub.subscribe(None).unwrap().filter(|kind| kind == "chat");
    let mut plain = hub
        .subscribe(None)
        .unwrap()
        .filter(|kind| kind == "message");
    hub.publish(Event::new().event("presence").data("ann"))
        .unwrap();
    hub.publish(Event::new().event("chat").data("hi")).unwrap();
    hub.publish(Event::new().data("untyped")).unwrap();
    hub.close(Event::new().event("bye"));
    assert_eq!(take(&mut chat, 5).await, ["2", "bye"]);
    assert_eq!(take(&mut plain, 5).await, ["3", "bye"]);
}

/// `publish` and `publish_async` return the id the client sees, whatever the log; with
/// an idempotency key, a retried publish is not appended again and returns the first id.
async fn publishing_returns_the_id_the_client_sees() {
    for ids in [Ids::Assign, Ids::Keep] {
        let hub = builder().ids(ids).history(8).build();
        let mut rx = hub.subscribe(None).unwrap();
        let one = hub.publish(numbered(1).id("a")).unwrap().unwrap();
        let two = hub.publish_async(numbered(2).id("b")).await.unwrap();
        let once = hub.publish_once("k", numbered(3).id("c")).unwrap().unwrap();
        let again = hub.publish_once_async("k", numbered(3).id("c")).await;
        assert_eq!(again.unwrap(), once);
        assert_eq!(hub.publish_once("k", numbered(3)).unwrap().unwrap(), once);
        let seen = take(&mut rx, 3).await;
        assert_eq!(seen, [one.as_str(), two.as_str(), once.as_str()]);
        let want = match (ids, THROUGH_A_LOG.get()) {
            (Ids::Keep, false) => ["a", "b", "c"],
            _ => ["1", "2", "3"], // a shared log names the events
        };
        assert_eq!(seen, want);
        assert_eq!(hub.stats().published, 3);
    }
}

on_both!(
    publishing_returns_the_id_the_client_sees,
    replay_seam_with_concurrent_publishing,
    unknown_or_too_old_ids_get_the_reset_event,
    max_subscribers_refuses_then_admits,
    unsubscribes_when_the_client_disconnects,
    close_with_farewell_through_the_pump,
    dropping_the_last_handle_ends_every_stream,
    filter_by_event_type,
);

through_a_log!(
    publishing_returns_the_id_the_client_sees,
    max_subscribers_refuses_then_admits,
    unsubscribes_when_the_client_disconnects,
    close_with_farewell_through_the_pump,
    dropping_the_last_handle_ends_every_stream,
    filter_by_event_type,
);

/// Publishers and subscribers on several threads of a multi-thread runtime.
#[test]
fn many_threads_one_hub() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let hub = Hub::builder().subscriber_capacity(5000).build();
        let readers: Vec<_> = (0..50)
            .map(|_| {
                let mut rx = hub.subscribe(None).unwrap();
                tokio::spawn(async move {
                    let mut count = 0u64;
                    while rx.next().await.is_some() {
                        count += 1;
                    }
                    count
                })
            })
            .collect();
        let publisher = hub.clone();
        tokio::spawn(async move {
            for n in 1..=5000 {
                publisher.publish(numbered(n)).unwrap();
            }
        })
        .await
        .unwrap();
        hub.close(None);
        for reader in readers {
            assert_eq!(guard(reader).await.unwrap(), 5000);
        }
    });
}

/// `Last-Event-ID` spellings the hub never wrote name no event: `+7` and `007` are not
/// event 7 (under `Ids::Assign`), nor is any other byte string under `Ids::Keep`.
#[test]
fn ids_not_in_canonical_form_match_no_event() {
    let hub = Hub::builder().history(16).build();
    for n in 1..=10 {
        hub.publish(numbered(n)).unwrap();
    }
    assert_eq!(
        hub.subscribe(Some("7")).unwrap().replay(),
        Replay::Resumed { missed: 3 }
    );
    for spelling in ["+7", "07", "007", " 7", "7 ", "0x7", "-0"] {
        let replay = hub.subscribe(Some(spelling)).unwrap().replay();
        assert_eq!(replay, Replay::Reset, "{spelling:?}");
    }
    let hub = Hub::builder().history(16).first_id(0).build();
    hub.publish(numbered(0)).unwrap();
    assert_eq!(
        hub.subscribe(Some("0")).unwrap().replay(),
        Replay::Resumed { missed: 0 }
    );
    assert_eq!(hub.subscribe(Some("00")).unwrap().replay(), Replay::Reset);

    let hub = Hub::builder().history(16).ids(Ids::Keep).build();
    hub.publish(numbered(1).id("1")).unwrap();
    hub.publish(numbered(2).id("02")).unwrap();
    assert_eq!(hub.subscribe(Some("+1")).unwrap().replay(), Replay::Reset);
    assert_eq!(hub.subscribe(Some("2")).unwrap().replay(), Replay::Reset);
    assert_eq!(
        hub.subscribe(Some("1")).unwrap().replay(),
        Replay::Resumed { missed: 1 }
    );
}

/// Under `Ids::Keep` the index follows the ring: an evicted id is unknown, a repeated id
/// resolves to its newest event, and an id whose newer holder was evicted is not found
/// through its older one (which left first).
#[test]
fn kept_ids_are_found_while_held_and_forgotten_when_evicted() {
    let hub = Hub::builder()
        .history(3)
        .subscriber_capacity(1)
        .ids(Ids::Keep)
        .build();
    for (n, id) in [(1, "a"), (2, "b"), (3, "a"), (4, "c")] {
        hub.publish(numbered(n).id(id)).unwrap();
    }
    let replay = |id| hub.subscribe(Some(id)).unwrap().replay();
    assert_eq!(replay("a"), Replay::Resumed { missed: 1 }, "the newest a");
    assert_eq!(replay("b"), Replay::Resumed { missed: 2 });
    for (n, id) in [(5, "d"), (6, "e"), (7, "f")] {
        hub.publish(numbered(n).id(id)).unwrap();
    }
    assert_eq!(replay("a"), Replay::Reset, "both a's were evicted");
    assert_eq!(replay("c"), Replay::Resumed { missed: 3 });
}
