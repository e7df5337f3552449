//! Pump throughput: a producer task sends `EVENTS` events through `channel(CAPACITY)`, and
//! `Sse::pump` writes them into an in-memory sink that counts and discards.
//!
//! The event (`data: hello world`, mix (a) of the encode bench) is built and frozen once;
//! the producer sends clones, which copy nothing, so this measures channel + pump, not the
//! encoder. Each runtime runs with coalescing (the default 64 KiB) and without
//! (`coalesce(0)`: one write and one flush per event).
//!
//! Runtimes:
//! - `smol`: `smol::block_on` runs the pump, `smol::spawn` the producer (on smol's global
//!   executor thread, so producer and pump are on two threads);
//! - `smol_local`: both on one `smol::LocalExecutor`, on one thread;
//! - `tokio_current`: a current-thread runtime; `block_on` runs the pump, `tokio::spawn`
//!   the producer;
//! - `tokio_multi2`: a multi-thread runtime with 2 workers; pump and producer are both
//!   `tokio::spawn`ed.
//!
//! Before measuring, one run per case prints how many writes and flushes reached the sink.

use std::{
    hint::black_box,
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_lite::AsyncWrite;
use sse_pump::{channel, Event, Report, Sender, Sse};

const EVENTS: u64 = 100_000;
const CAPACITY: usize = 256;

/// A sink that discards everything and counts what reached it.
#[derive(Debug, Default)]
struct CountingSink {
    writes: u64,
    flushes: u64,
    bytes: u64,
}

impl AsyncWrite for CountingSink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.writes += 1;
        self.bytes += buf.len() as u64;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

async fn produce(tx: Sender, event: Event) {
    for _ in 0..EVENTS {
        tx.send(event.clone()).await.expect("the pump is running");
    }
}

async fn pump(rx: sse_pump::Receiver, coalesce: Option<usize>) -> (Report, CountingSink) {
    let mut sink = CountingSink::default();
    let mut sse = Sse::new(rx).keep_alive(None);
    if let Some(max) = coalesce {
        sse = sse.coalesce(max);
    }
    let report = sse.pump(&mut sink).await.expect("the sink never fails");
    assert_eq!(report.events, EVENTS);
    (report, sink)
}

#[derive(Clone, Copy)]
enum Runtime {
    Smol,
    SmolLocal,
    TokioCurrent,
    TokioMulti2,
}

impl Runtime {
    const ALL: [Runtime; 4] = [
        Runtime::Smol,
        Runtime::SmolLocal,
        Runtime::TokioCurrent,
        Runtime::TokioMulti2,
    ];

    fn name(self) -> &'static str {
        match self {
            Runtime::Smol => "smol",
            Runtime::SmolLocal => "smol_local",
            Runtime::TokioCurrent => "tokio_current",
            Runtime::TokioMulti2 => "tokio_multi2",
        }
    }
}

/// Holds what one case needs across iterations: the runtime, built once.
enum Harness {
    Smol,
    SmolLocal,
    Tokio(tokio::runtime::Runtime, bool),
}

impl Harness {
    fn new(runtime: Runtime) -> Self {
        match runtime {
            Runtime::Smol => Harness::Smol,
            Runtime::SmolLocal => Harness::SmolLocal,
            Runtime::TokioCurrent => Harness::Tokio(
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("a runtime"),
                false,
            ),
            Runtime::TokioMulti2 => Harness::Tokio(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .build()
                    .expect("a runtime"),
                true,
            ),
        }
    }

    /// Streams `EVENTS` clones of `event` and returns what the sink saw.
    fn run(&self, event: &Event, coalesce: Option<usize>) -> CountingSink {
        let (tx, rx) = channel(CAPACITY);
        let event = event.clone();
        match self {
            Harness::Smol => smol::block_on(async {
                let producer = smol::spawn(produce(tx, event));
                let (_, sink) = pump(rx, coalesce).await;
                producer.await;
                sink
            }),
            Harness::SmolLocal => {
                let ex = smol::LocalExecutor::new();
                smol::block_on(ex.run(async {
                    let producer = ex.spawn(produce(tx, event));
                    let (_, sink) = pump(rx, coalesce).await;
                    producer.await;
                    sink
                }))
            }
            Harness::Tokio(rt, spawn_pump) => rt.block_on(async {
                let producer = tokio::spawn(produce(tx, event));
                let (_, sink) = if *spawn_pump {
                    tokio::spawn(pump(rx, coalesce)).await.expect("pump task")
                } else {
                    pump(rx, coalesce).await
                };
                producer.await.expect("producer task");
                sink
            }),
        }
    }
}

fn modes() -> [(&'static str, Option<usize>); 2] {
    [("coalesced_64k", None), ("uncoalesced", Some(0))]
}

fn pump_bench(c: &mut Criterion) {
    let event = Event::new().data("hello world").freeze();

    println!("writes and flushes per run of {EVENTS} events (channel capacity {CAPACITY}):");
    println!("runtime        mode            writes   flushes  bytes      events/write");
    for runtime in Runtime::ALL {
        let harness = Harness::new(runtime);
        for (mode, coalesce) in modes() {
            let sink = harness.run(&event, coalesce);
            println!(
                "{:<14} {:<15} {:<8} {:<8} {:<10} {:.1}",
                runtime.name(),
                mode,
                sink.writes,
                sink.flushes,
                sink.bytes,
                EVENTS as f64 / sink.writes as f64
            );
        }
    }

    let mut group = c.benchmark_group("pump");
    group.throughput(Throughput::Elements(EVENTS));
    for runtime in Runtime::ALL {
        let harness = Harness::new(runtime);
        for (mode, coalesce) in modes() {
            group.bench_function(BenchmarkId::new(runtime.name(), mode), |b| {
                b.iter(|| black_box(harness.run(&event, coalesce)))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = pump_bench
}
criterion_main!(benches);
