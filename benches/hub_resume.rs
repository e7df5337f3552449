//! Resuming under `Ids::Keep`: how long a publish waits while other threads subscribe with
//! `Last-Event-ID`s the hub does not hold (the worst case of a lookup: nothing matches).
//!
//! Not criterion: the figure wanted is the worst and the 99th percentile of a publish, so
//! this is a plain `harness = false` program that prints them
//! (`cargo bench --bench hub_resume`). A hub with `HISTORY` retained events (ids `e0`,
//! `e1`, ...); one thread publishes `PUBLISHES` events one at a time and times each call,
//! while `SUBSCRIBERS` threads subscribe with an unknown id, drop, and again, until it is
//! done. The same publisher alone is the baseline.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use sse_pump::{
    hub::{Hub, Ids},
    Event,
};

const HISTORY: usize = 10_000;
const PUBLISHES: usize = 2_000;
const SUBSCRIBERS: usize = 2;

fn event(n: usize) -> Event {
    Event::new().id(format!("e{n}")).data("tick").freeze()
}

/// Each publish's duration, sorted, with `subscribers` threads resubscribing meanwhile;
/// and how many subscribes they made.
fn run(subscribers: usize) -> (Vec<Duration>, u64) {
    let hub = Hub::builder()
        .ids(Ids::Keep)
        .history(HISTORY)
        .subscriber_capacity(16)
        .build();
    for n in 0..HISTORY {
        hub.publish(event(n)).unwrap();
    }
    let done = Arc::new(AtomicBool::new(false));
    let subscribes = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..subscribers)
        .map(|_| {
            let (hub, done, count) = (hub.clone(), done.clone(), subscribes.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    drop(hub.subscribe(Some("not-held")).unwrap());
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let mut times: Vec<_> = (HISTORY..HISTORY + PUBLISHES)
        .map(|n| {
            let start = Instant::now();
            hub.publish(event(n)).unwrap();
            start.elapsed()
        })
        .collect();
    done.store(true, Ordering::Relaxed);
    threads.into_iter().for_each(|t| t.join().unwrap());
    times.sort();
    (times, subscribes.load(Ordering::Relaxed))
}

fn main() {
    println!("publish under Ids::Keep, {HISTORY} events held, {PUBLISHES} publishes");
    println!("| subscribing threads | p50 | p99 | worst | subscribes made |");
    println!("|---|---|---|---|---|");
    for subscribers in [0, SUBSCRIBERS] {
        let (times, subscribes) = run(subscribers);
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "| {subscribers} | {:?} | {:?} | {:?} | {subscribes} |",
            at(0.5),
            at(0.99),
            times[times.len() - 1]
        );
    }
}
