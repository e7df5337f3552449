//! Fan-out: one publisher, `SUBSCRIBERS` in-process subscribers, each drained by its own
//! task on a multi-thread tokio runtime (2 workers); the same workload through a
//! `tokio::sync::broadcast` channel of `Bytes` as the baseline, in the same run.
//!
//! Not criterion: the figures wanted are percentiles and bytes, so this is a plain
//! `harness = false` program that prints a table (`cargo bench --bench hub`).
//!
//! - **Throughput**: `EVENTS` events of about 60 bytes (`event: tick` + data), published
//!   as fast as a window of `WINDOW` events in flight allows (so neither side lags: the
//!   capacity is 1,024 for both), timed from the first publish to the last delivery.
//! - **Latency, loaded**: publish-to-last-delivery of every 16th event in that run (each
//!   subscriber counts it; the last one to get it stamps the time).
//! - **Latency, idle**: `IDLE_EVENTS` events published one at a time, each after the
//!   previous one has reached every subscriber.
//! - **Memory per idle subscriber**: heap bytes counted by a `#[global_allocator]` for
//!   `SUBSCRIBERS` subscriptions, divided by their number, plus the handle's own size: (a)
//!   the subscription alone, polled once so that it waits for events; (b) with a task
//!   waiting on it, as in the throughput run. No queue: the hub's ring is shared.

use sse_pump_benches::{allocated, Counting};
use std::{
    hint::black_box,
    sync::{
        atomic::{AtomicU32, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures_lite::StreamExt;
use sse_pump::{hub::Hub, Event};

const SUBSCRIBERS: usize = 10_000;
const EVENTS: u64 = 2_048;
const WINDOW: u64 = 256;
const PROBE: u64 = 16;
const IDLE_EVENTS: u64 = 100;
const CAPACITY: usize = 1_024;
const ROUNDS: usize = 3;

#[global_allocator]
static GLOBAL: Counting = Counting;

fn event(n: u64) -> Event {
    Event::new()
        .event("tick")
        .data(format!("{{\"n\":{n},\"text\":\"hello from the hub\"}}"))
}

/// What the subscribers report back: per probe event, how many got it and when the last
/// one did.
struct Probes {
    start: Instant,
    got: Vec<AtomicU32>,
    done_at: Vec<AtomicU64>,
    done: tokio::sync::Notify,
}

impl Probes {
    /// Room for probes `0..=probes`.
    fn new(probes: u64) -> Arc<Self> {
        let n = probes as usize + 1;
        Arc::new(Probes {
            start: Instant::now(),
            got: (0..n).map(|_| AtomicU32::new(0)).collect(),
            done_at: (0..n).map(|_| AtomicU64::new(0)).collect(),
            done: tokio::sync::Notify::new(),
        })
    }

    /// A subscriber got its `k`-th event (from 1).
    fn received(&self, k: u64, bytes: &Bytes, every: u64) {
        black_box(bytes.len());
        if k % every != 0 {
            return;
        }
        let probe = (k / every) as usize;
        if self.got[probe].fetch_add(1, Ordering::AcqRel) + 1 == SUBSCRIBERS as u32 {
            let at = self.start.elapsed().as_nanos() as u64;
            self.done_at[probe].store(at, Ordering::Release);
            self.done.notify_waiters();
        }
    }

    fn is_done(&self, probe: usize) -> bool {
        self.done_at[probe].load(Ordering::Acquire) != 0
    }

    async fn wait(&self, probe: usize) {
        loop {
            let notified = self.done.notified();
            if self.is_done(probe) {
                return;
            }
            notified.await;
        }
    }
}

/// Either fan-out under test.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fanout {
    Hub,
    Broadcast,
}

enum Tx {
    Hub(Hub),
    Broadcast(tokio::sync::broadcast::Sender<Bytes>),
}

impl Tx {
    fn publish(&self, n: u64) {
        match self {
            Tx::Hub(hub) => {
                hub.publish(event(n)).unwrap();
            }
            Tx::Broadcast(tx) => {
                let frame = event(n).id(n.to_string()).into_bytes();
                tx.send(frame).unwrap();
            }
        }
    }
}

/// Starts the subscribers; returns the sender and the tasks, which yield how many
/// events their subscriber missed.
fn start(
    system: Fanout,
    probes: &Arc<Probes>,
    every: u64,
) -> (Tx, Vec<tokio::task::JoinHandle<u64>>) {
    let mut tasks = Vec::with_capacity(SUBSCRIBERS);
    match system {
        Fanout::Hub => {
            let hub = Hub::builder()
                .subscriber_capacity(CAPACITY)
                .max_subscribers(SUBSCRIBERS)
                .build();
            for _ in 0..SUBSCRIBERS {
                let mut rx = hub.subscribe(None).unwrap();
                let probes = probes.clone();
                tasks.push(tokio::spawn(async move {
                    let mut k = 0;
                    while let Some(event) = rx.next().await {
                        k += 1;
                        probes.received(k, &event.into_bytes(), every);
                    }
                    rx.lagged()
                }));
            }
            (Tx::Hub(hub), tasks)
        }
        Fanout::Broadcast => {
            let (tx, _) = tokio::sync::broadcast::channel::<Bytes>(CAPACITY);
            for _ in 0..SUBSCRIBERS {
                let mut rx = tx.subscribe();
                let probes = probes.clone();
                tasks.push(tokio::spawn(async move {
                    let (mut k, mut lagged) = (0, 0);
                    loop {
                        use tokio::sync::broadcast::error::RecvError;
                        match rx.recv().await {
                            Ok(frame) => {
                                k += 1;
                                probes.received(k, &frame, every);
                            }
                            Err(RecvError::Lagged(n)) => lagged += n,
                            Err(RecvError::Closed) => return lagged,
                        }
                    }
                }));
            }
            (Tx::Broadcast(tx), tasks)
        }
    }
}

fn close(tx: Tx) {
    match tx {
        Tx::Hub(hub) => hub.close(None),
        Tx::Broadcast(tx) => drop(tx),
    }
}

struct Run {
    events_per_s: f64,
    loaded: Vec<Duration>,
    idle: Vec<Duration>,
    lagged: u64,
}

async fn run(system: Fanout) -> Run {
    // Throughput, with loaded latency from the probes.
    let probes = Probes::new(EVENTS / PROBE);
    let (tx, tasks) = start(system, &probes, PROBE);
    tokio::task::yield_now().await;
    let mut published_at = Vec::new();
    let begin = probes.start.elapsed();
    for n in 1..=EVENTS {
        if n % PROBE == 0 {
            let behind = (n.saturating_sub(WINDOW) / PROBE) as usize;
            if behind > 0 {
                probes.wait(behind).await;
            }
            published_at.push(probes.start.elapsed());
        }
        tx.publish(n);
    }
    let last = (EVENTS / PROBE) as usize;
    probes.wait(last).await;
    let end = Duration::from_nanos(probes.done_at[last].load(Ordering::Acquire));
    let events_per_s = EVENTS as f64 / (end - begin).as_secs_f64();
    let loaded = (1..=last)
        .map(|p| {
            Duration::from_nanos(probes.done_at[p].load(Ordering::Acquire)) - published_at[p - 1]
        })
        .collect();
    close(tx);
    let mut lagged = 0;
    for task in tasks {
        lagged += task.await.unwrap();
    }

    // Idle latency: one event at a time.
    let probes = Probes::new(IDLE_EVENTS);
    let (tx, tasks) = start(system, &probes, 1);
    tokio::task::yield_now().await;
    let mut idle = Vec::new();
    for n in 1..=IDLE_EVENTS {
        let at = probes.start.elapsed();
        tx.publish(n);
        probes.wait(n as usize).await;
        idle.push(Duration::from_nanos(probes.done_at[n as usize].load(Ordering::Acquire)) - at);
    }
    close(tx);
    for task in tasks {
        lagged += task.await.unwrap();
    }
    Run {
        events_per_s,
        loaded,
        idle,
        lagged,
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let at = ((samples.len() - 1) as f64 * p).round() as usize;
    samples[at]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// Heap bytes per subscriber: (subscription alone, polled once; with a waiting task).
fn memory(system: Fanout, runtime: &tokio::runtime::Runtime) -> (f64, f64) {
    let hub = Hub::builder().max_subscribers(SUBSCRIBERS).build();
    let (btx, _) = tokio::sync::broadcast::channel::<Bytes>(CAPACITY);
    let mut hub_rxs = Vec::with_capacity(SUBSCRIBERS);
    let mut b_rxs = Vec::with_capacity(SUBSCRIBERS);
    let before = allocated();
    runtime.block_on(async {
        for _ in 0..SUBSCRIBERS {
            match system {
                Fanout::Hub => {
                    let mut rx = hub.subscribe(None).unwrap();
                    assert!(futures_lite::future::poll_once(rx.next()).await.is_none());
                    hub_rxs.push(rx);
                }
                Fanout::Broadcast => {
                    let mut rx = btx.subscribe();
                    assert!(futures_lite::future::poll_once(rx.recv()).await.is_none());
                    b_rxs.push(rx);
                }
            }
        }
    });
    let inline = match system {
        Fanout::Hub => std::mem::size_of::<sse_pump::hub::Subscription>(),
        Fanout::Broadcast => std::mem::size_of::<tokio::sync::broadcast::Receiver<Bytes>>(),
    };
    let alone = (allocated() - before) as f64 / SUBSCRIBERS as f64 + inline as f64;
    drop((hub_rxs, b_rxs));

    let before = allocated();
    let probes = Probes::new(1);
    let (tx, tasks) = runtime.block_on(async {
        let started = start(system, &probes, 1);
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await; // every task reaches its wait
        started
    });
    let with_task = (allocated() - before) as f64 / SUBSCRIBERS as f64;
    runtime.block_on(async {
        close(tx);
        for task in tasks {
            task.await.unwrap();
        }
    });
    (alone, with_task)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / `cargo test --benches`: nothing to list
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "fan-out: {SUBSCRIBERS} subscribers, {EVENTS} events per run (window {WINDOW}), {ROUNDS} rounds, tokio multi-thread 2 workers"
    );
    let mut results: Vec<(Fanout, Vec<Run>)> =
        vec![(Fanout::Hub, Vec::new()), (Fanout::Broadcast, Vec::new())];
    for round in 0..ROUNDS {
        for (system, runs) in &mut results {
            let run = runtime.block_on(run(*system));
            println!(
                "  round {round} {system:?}: {:.0} events/s ({:.2} M deliveries/s), lagged {}",
                run.events_per_s,
                run.events_per_s * SUBSCRIBERS as f64 / 1e6,
                run.lagged
            );
            runs.push(run);
        }
    }
    println!();
    println!("| system | events/s (best of {ROUNDS}) | deliveries/s | loaded p50 / p99 ms | idle p50 / p99 ms | lagged | heap per idle subscriber (B) | with its task (B) |");
    println!("|---|---|---|---|---|---|---|---|");
    for (system, runs) in &results {
        let best = runs.iter().map(|r| r.events_per_s).fold(0.0, f64::max);
        let mut loaded: Vec<Duration> = runs.iter().flat_map(|r| r.loaded.clone()).collect();
        let mut idle: Vec<Duration> = runs.iter().flat_map(|r| r.idle.clone()).collect();
        let lagged: u64 = runs.iter().map(|r| r.lagged).sum();
        let (alone, with_task) = memory(*system, &runtime);
        let name = match system {
            Fanout::Hub => "sse-pump Hub",
            Fanout::Broadcast => "tokio broadcast + task each",
        };
        println!(
            "| {name} | {best:.0} | {:.2} M | {} / {} | {} / {} | {lagged} | {alone:.0} | {with_task:.0} |",
            best * SUBSCRIBERS as f64 / 1e6,
            ms(percentile(&mut loaded, 0.5)),
            ms(percentile(&mut loaded, 0.99)),
            ms(percentile(&mut idle, 0.5)),
            ms(percentile(&mut idle, 0.99)),
        );
    }
}
