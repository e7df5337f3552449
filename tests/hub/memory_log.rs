//! The shared-log scenarios on `MemoryLog`: several hubs of one process share one log.

use std::time::Duration;

use sse_pump::hub::{Hub, HubBuilder, MemoryLog, Replay, SubscribeError};

use crate::{
    shared_log::{self, numbered, what, Cluster},
    support::{guard, spawn},
};

#[derive(Clone, Default)]
struct Memory(MemoryLog);

impl Cluster for Memory {
    async fn hub(&self, builder: HubBuilder) -> Hub {
        builder.backend(self.0.clone()).build()
    }

    async fn lose(&self, _hubs: &[&Hub]) {
        self.0.lose();
    }
}

async fn resume_on_any_instance() {
    shared_log::resume_on_any_instance(Memory::default()).await;
}

async fn away_longer_than_the_history_gets_reset() {
    shared_log::away_longer_than_the_history_gets_reset(Memory::default()).await;
}

async fn a_new_instance_resumes_the_others_clients() {
    shared_log::a_new_instance_resumes_the_others_clients(Memory::default()).await;
}

async fn every_hub_guarantee_holds() {
    shared_log::every_hub_guarantee_holds(Memory::default()).await;
}

async fn a_lost_log_resets_then_goes_live() {
    shared_log::a_lost_log_resets_then_goes_live(Memory::default()).await;
}

/// An unreachable log refuses publishing with a typed error, hands the event back, and
/// keeps the subscribers; they get what is published once it is back.
async fn an_unreachable_log_refuses_publishing() {
    let log = MemoryLog::new();
    let hub = Hub::builder().backend(log.clone()).build();
    let mut rx = hub.subscribe(None).unwrap();
    log.set_available(false);
    let err = hub.publish(shared_log::numbered(1)).unwrap_err();
    assert!(err.is_unavailable());
    assert_eq!(err.into_inner().into_bytes(), "event: n\ndata: 1\n\n");
    let err = hub
        .publish_async(shared_log::numbered(1))
        .await
        .unwrap_err();
    assert!(err.is_unavailable());
    log.set_available(true);
    hub.publish(shared_log::numbered(2)).unwrap();
    assert_eq!(
        shared_log::read(&mut rx, 1).await,
        [("2".to_owned(), Some("1".to_owned()))]
    );
}

/// A hub that starts while its log is unreachable cannot load its history: a resume is
/// refused with `SubscribeError::Loading` (a server's 503), or waits for the load with
/// `subscribe_async` (up to `load_timeout`), then gets exactly what it missed; so is a
/// live subscribe (it would miss what comes before the load).
async fn a_resume_waits_for_the_log_to_load() {
    let log = MemoryLog::new();
    let a = Hub::builder().history(10).backend(log.clone()).build();
    for n in 1..=5 {
        a.publish(numbered(n)).unwrap();
    }
    log.set_available(false);
    let b = (Hub::builder().history(10))
        .load_timeout(Duration::from_millis(20))
        .backend(log.clone())
        .build();
    assert_eq!(b.subscribe(Some("2")).unwrap_err(), SubscribeError::Loading);
    let timed_out = guard(b.subscribe_async(Some("2"))).await.unwrap_err();
    assert_eq!(timed_out, SubscribeError::Loading);
    assert_eq!(b.subscribe(None).unwrap_err(), SubscribeError::Loading);
    let c = (Hub::builder().history(10)).backend(log.clone()).build();
    let waiting = spawn(async move {
        let rx = c.subscribe_async(Some("2")).await;
        (c, rx)
    });
    futures_lite::future::yield_now().await;
    log.set_available(true);
    let (c, rx) = guard(waiting).await;
    let mut rx = rx.unwrap();
    assert_eq!(rx.replay(), Replay::Resumed { missed: 3 });
    let mut live = b.subscribe(None).unwrap(); // b is loaded too
    a.publish(numbered(6)).unwrap();
    assert_eq!(what(&mut rx, 4).await, ["3", "4", "5", "6"]);
    assert_eq!(what(&mut live, 1).await, ["6"]);
    assert_eq!((b.stats().refused, c.stats().refused), (3, 0));
}

crate::on_both!(
    a_resume_waits_for_the_log_to_load,
    resume_on_any_instance,
    away_longer_than_the_history_gets_reset,
    a_new_instance_resumes_the_others_clients,
    every_hub_guarantee_holds,
    a_lost_log_resets_then_goes_live,
    an_unreachable_log_refuses_publishing,
);
