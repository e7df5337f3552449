//! The delivery machine's rules, driven through the pump into in-memory sinks (exact writes,
//! flushes and failures), each scenario on smol and on tokio. The same behaviour over real
//! connections, on every delivery path, is in `tests/delivery`.

mod support;

use std::{
    future::Future,
    time::{Duration, Instant},
};

use futures_lite::{future, stream, StreamExt};
use sse_pump::{
    channel, Batch, Ended, Error, Event, KeepAlive, LineEnding, Receiver, Report, Shutdown, Sse,
};
use support::{failing_after, frames, guard, recorder, spawn, Stuck};

fn numbered(n: u64) -> Event {
    Event::new().id(n.to_string()).data(format!("event {n}"))
}

async fn stream_source() {
    let events = stream::iter(0..3).map(numbered);
    let mut wire = Vec::new();
    let report = guard(
        Sse::from_stream(events)
            .retry(Duration::from_millis(1500))
            .pump(&mut wire),
    )
    .await
    .unwrap();
    assert_eq!(report.events, 3);
    assert_eq!(
        frames(&wire),
        [
            "retry: 1500",
            "id: 0\ndata: event 0",
            "id: 1\ndata: event 1",
            "id: 2\ndata: event 2"
        ]
    );
}

/// A stream of results, as axum takes them: the first error ends the stream as a failed
/// source, with its text in the report; nothing after it is polled or written.
async fn stream_of_results_ends_at_its_first_error() {
    let polled_after = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = polled_after.clone();
    let items = stream::iter(0..4u64).map(move |n| match n {
        0 | 1 => Ok(numbered(n)),
        2 => Err("database gone"),
        _ => {
            seen.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(numbered(n))
        }
    });
    let mut wire = Vec::new();
    let report = guard(Sse::from_stream(items).keep_alive(None).pump(&mut wire))
        .await
        .unwrap();
    assert_eq!(report.ended, Ended::SourceFailed);
    assert_eq!(
        report.source_error.map(|e| e.to_string()).as_deref(),
        Some("database gone")
    );
    assert_eq!(report.events, 2);
    assert_eq!(
        frames(&wire),
        ["id: 0\ndata: event 0", "id: 1\ndata: event 1"]
    );
    assert!(!polled_after.load(std::sync::atomic::Ordering::SeqCst));
}

async fn keep_alive_is_quiet_while_events_flow() {
    let (tx, rx) = channel(1);
    let ka = KeepAlive::new().interval(Duration::from_millis(400));
    let producer = spawn(async move {
        for n in 0..40 {
            tx.send(numbered(n)).await.unwrap();
            futures_timer::Delay::new(Duration::from_millis(5)).await; // paces, does not sync
        }
    });
    let mut wire = Vec::new();
    let report = guard(Sse::new(rx).keep_alive(ka).pump(&mut wire))
        .await
        .unwrap();
    producer.await;
    assert_eq!((report.events, report.pings), (40, 0));
    assert!(!frames(&wire).iter().any(|f| f.starts_with(':')));
}

/// Keep-alive is exact: a ping comes once the interval has passed since the last write
/// (never before it, and within a tick after it, here 37 ms, give or take the machine's
/// scheduling), a write moves it, and none comes while events are closer than the interval.
async fn keep_alive_pings_after_the_interval_reset_by_traffic() {
    let interval = Duration::from_millis(600);
    let late = interval + Duration::from_millis(400);
    let (tx, rx) = channel(1);
    let (sink, seen) = recorder();
    let ka = KeepAlive::new().interval(interval);
    let pump = spawn(Sse::new(rx).keep_alive(ka).pump(sink));
    let mut sent = Instant::now();
    tx.send(Event::new().data("a")).await.unwrap();
    assert_eq!(seen.next_write().await, b"data: a\n\n");
    let mut written = Instant::now();
    for word in ["b", "c"] {
        assert_eq!(seen.next_write().await, b":\n\n");
        let pinged = Instant::now();
        assert!(
            pinged >= sent + interval,
            "pinged {:?} after",
            pinged - sent
        );
        assert!(
            pinged <= written + late,
            "pinged {:?} after",
            pinged - written
        );
        // Half an interval after the ping, an event: the next ping is due an interval
        // after it, not after the ping.
        futures_timer::Delay::new(interval / 2).await;
        sent = Instant::now();
        tx.send(Event::new().data(word)).await.unwrap();
        assert_eq!(
            seen.next_write().await,
            format!("data: {word}\n\n").as_bytes()
        );
        written = Instant::now();
    }
    for n in 0..12 {
        futures_timer::Delay::new(interval / 6).await; // paces, does not sync
        tx.send(numbered(n)).await.unwrap();
        let frame = seen.next_write().await;
        assert_eq!(frame, format!("id: {n}\ndata: event {n}\n\n").as_bytes());
    }
    drop(tx);
    let report = guard(pump).await.unwrap();
    assert_eq!((report.events, report.pings), (15, 2));
}

async fn keep_alive_disabled_means_no_timer() {
    // A zero interval is "off", not a ping loop: the pump must just wait for events.
    let (tx, rx) = channel(1);
    let (sink, seen) = recorder();
    let pump = spawn(
        Sse::new(rx)
            .keep_alive(KeepAlive::new().interval(Duration::ZERO))
            .pump(sink),
    );
    tx.send(Event::new().data("only")).await.unwrap();
    assert_eq!(seen.next_write().await, b"data: only\n\n");
    drop(tx);
    let report = guard(pump).await.unwrap();
    assert_eq!((report.events, report.pings), (1, 0));
    assert_eq!(seen.writes(), 1);
}

async fn send_timeout_covers_pings() {
    let (tx, rx) = channel(1);
    let ka = KeepAlive::new().interval(Duration::from_millis(10));
    let pump = spawn(
        Sse::new(rx)
            .keep_alive(ka)
            .send_timeout(Duration::from_millis(30))
            .pump(Stuck),
    );
    guard(tx.closed()).await;
    let failed = guard(pump).await.unwrap_err();
    assert!(matches!(failed.error(), Error::SendTimeout(_)));
    assert_eq!(failed.report().pings, 0);
}

async fn shutdown_counts_what_was_queued() {
    let shutdown = Shutdown::new();
    let (tx, rx) = channel(4);
    for n in 0..3 {
        tx.send(numbered(n)).await.unwrap();
    }
    shutdown.trigger();
    let mut wire = Vec::new();
    let sse = Sse::new(rx)
        .shutdown(shutdown.listener())
        .farewell(Event::new().data("bye"));
    let report = guard(sse.pump(&mut wire)).await.unwrap();
    assert_eq!(wire, b"data: bye\n\n");
    assert_eq!(
        (report.ended, report.events, report.undelivered),
        (Ended::Shutdown, 1, 3)
    );
    assert!(tx.is_closed());
}

async fn one_shutdown_ends_many_streams() {
    let shutdown = Shutdown::new();
    let mut pumps = Vec::new();
    let mut senders = Vec::new();
    for _ in 0..8 {
        let (tx, rx) = channel(1);
        senders.push(tx);
        pumps.push(spawn(
            Sse::new(rx).shutdown(shutdown.listener()).pump(Vec::new()),
        ));
    }
    shutdown.trigger();
    for pump in pumps {
        assert_eq!(guard(pump).await.unwrap().ended, Ended::Shutdown);
    }
    assert!(senders.iter().all(|tx| tx.is_closed()));
}

async fn queued_events_share_one_write() {
    let (tx, rx) = channel(128);
    for n in 0..100 {
        tx.send(numbered(n)).await.unwrap();
    }
    drop(tx);
    let (sink, seen) = recorder();
    let report = guard(Sse::new(rx).pump(sink)).await.unwrap();
    assert_eq!(report.events, 100);
    assert_eq!((seen.writes(), seen.flushes()), (1, 1));
    assert_eq!(frames(&seen.rest()).len(), 100);
}

async fn coalescing_respects_its_limit_and_can_be_off() {
    for (limit, writes) in [(0, 100), (50, 50), (Sse::DEFAULT_COALESCE, 1)] {
        let (tx, rx) = channel(128);
        for n in 0..100 {
            tx.send(numbered(n)).await.unwrap(); // 22 or 23 bytes each
        }
        drop(tx);
        let (sink, seen) = recorder();
        let report = guard(Sse::new(rx).coalesce(limit).pump(sink))
            .await
            .unwrap();
        assert_eq!(report.events, 100);
        assert_eq!(
            (seen.writes(), seen.flushes()),
            (writes, writes),
            "limit {limit}"
        );
        assert_eq!(frames(&seen.rest()).len(), 100);
    }
}

async fn line_endings_apply_to_every_frame() {
    for (ending, want) in [
        (
            LineEnding::Lf,
            "retry: 10\n\n:\n\nevent: a\ndata: 1\ndata: 2\n\ndata: x\n\n",
        ),
        (
            LineEnding::Cr,
            "retry: 10\r\r:\r\revent: a\rdata: 1\rdata: 2\r\rdata: x\r\r",
        ),
        (
            LineEnding::CrLf,
            "retry: 10\r\n\r\n:\r\n\r\nevent: a\r\ndata: 1\r\ndata: 2\r\n\r\ndata: x\r\n\r\n",
        ),
    ] {
        let (tx, rx) = channel(4);
        let (sink, seen) = recorder();
        let ka = KeepAlive::new().interval(Duration::from_millis(5));
        let pump = Sse::new(rx)
            .retry(Duration::from_millis(10))
            .keep_alive(ka)
            .line_ending(ending);
        let pump = spawn(pump.pump(sink));
        let ping = [b":".as_slice(), ending.as_bytes(), ending.as_bytes()].concat();
        let mut wire = Vec::new();
        seen.until_ends_with(&mut wire, &ping).await; // the retry frame, then a ping
        tx.send(Event::new().event("a").data("1\r\n2"))
            .await
            .unwrap();
        tx.send(Event::new().data("x")).await.unwrap();
        drop(tx);
        guard(pump).await.unwrap();
        wire.extend(seen.rest());
        // Pings may come again between the writes; remove the extra ones.
        let text = String::from_utf8(wire).unwrap();
        let (head, tail) =
            text.split_at(text.find(std::str::from_utf8(&ping).unwrap()).unwrap() + ping.len());
        let tail = tail.replace(std::str::from_utf8(&ping).unwrap(), "");
        assert_eq!(format!("{head}{tail}"), want, "{ending:?}");
    }
}

/// Pumps `rx` into a buffer to its end (every sender gone), then waits for the
/// `producers` that fed it: the report and the bytes written.
async fn pump_fed_by(rx: Receiver, producers: Vec<impl Future<Output = ()>>) -> (Report, Vec<u8>) {
    let mut wire = Vec::new();
    let report = guard(Sse::new(rx).pump(&mut wire)).await.unwrap();
    for p in producers {
        p.await;
    }
    (report, wire)
}

async fn cloned_senders_never_interleave() {
    let (tx, rx) = channel(8);
    let mut producers = Vec::new();
    for p in 0..4 {
        let tx = tx.clone();
        producers.push(spawn(async move {
            for n in 0..250 {
                let event = Event::new()
                    .event(format!("p{p}"))
                    .data(format!("{p}:{n}\nsecond line"));
                tx.send(event).await.unwrap();
            }
        }));
    }
    drop(tx);
    let (report, wire) = pump_fed_by(rx, producers).await;
    assert_eq!(report.events, 1000);
    let mut next = [0; 4];
    for frame in frames(&wire) {
        let (p, n) = frame
            .strip_prefix("event: p")
            .and_then(|rest| rest.split_once("\ndata: "))
            .and_then(|(p, rest)| {
                rest.strip_suffix("\ndata: second line")
                    .map(|rest| (p, rest))
            })
            .unwrap_or_else(|| panic!("torn frame {frame:?}"));
        let p: usize = p.parse().unwrap();
        assert_eq!(n, format!("{p}:{}", next[p]), "out of order");
        next[p] += 1;
    }
    assert_eq!(next, [250; 4]);
}

/// `numbered(from..to)` as one batch.
fn batch_of(from: u64, to: u64) -> Batch {
    let mut batch = Batch::new();
    for n in from..to {
        batch.push(numbered(n)).unwrap();
    }
    batch
}

/// A batch is one message but many events: written whole and in order, one write per
/// message when coalescing is off, and counted event by event.
async fn batches_are_counted_event_by_event() {
    let (tx, rx) = channel(4);
    tx.send(numbered(0)).await.unwrap();
    tx.send_batch(batch_of(1, 4)).await.unwrap();
    tx.send_batch(Batch::new()).await.unwrap(); // empty: nothing sent
    tx.send(numbered(4)).await.unwrap();
    assert_eq!(tx.len(), 3);
    drop(tx);
    let (sink, seen) = recorder();
    let report = guard(Sse::new(rx).coalesce(0).pump(sink)).await.unwrap();
    assert_eq!((report.events, seen.writes()), (5, 3));
    let want: Vec<String> = (0..5)
        .map(|n| format!("id: {n}\ndata: event {n}"))
        .collect();
    assert_eq!(frames(&seen.rest()), want);
}

/// A batch that does not fit under the coalescing limit waits for the next write; if
/// the client goes first, its events count as undelivered, with those queued.
async fn a_carried_batch_counts_when_lost() {
    let (tx, rx) = channel(4);
    tx.send(numbered(0)).await.unwrap(); // 22 bytes
    tx.send_batch(batch_of(1, 4)).await.unwrap(); // 66 bytes: over the limit, carried
    tx.send_batch(batch_of(4, 6)).await.unwrap(); // still queued
    let (sink, _) = failing_after(0);
    let failed = guard(Sse::new(rx).coalesce(50).pump(sink))
        .await
        .unwrap_err();
    let report = failed.report();
    assert_eq!((report.events, report.undelivered), (0, 6));
    assert!(tx.is_closed());
    let handed_back = tx
        .send_batch(batch_of(6, 8))
        .await
        .unwrap_err()
        .into_inner();
    assert_eq!(frames(&handed_back.into_bytes()).len(), 2);
}

/// A shutdown drops what is queued and counts each event of each batch.
async fn shutdown_counts_batched_events() {
    let shutdown = Shutdown::new();
    let (tx, rx) = channel(4);
    tx.send_batch(batch_of(0, 3)).await.unwrap();
    tx.send(numbered(3)).await.unwrap();
    shutdown.trigger();
    let sse = Sse::new(rx).shutdown(shutdown.listener());
    let report = guard(sse.pump(Vec::new())).await.unwrap();
    assert_eq!((report.ended, report.undelivered), (Ended::Shutdown, 4));
}

/// Batches from cloned senders, mixed with single events: each event arrives whole, each
/// producer's in order.
async fn cloned_batch_senders_never_interleave() {
    let (tx, rx) = channel(2);
    let mut producers = Vec::new();
    for p in 0..3u64 {
        let tx = tx.clone();
        producers.push(spawn(async move {
            for round in 0..50 {
                let first = p * 1000 + round * 4;
                tx.send_batch(batch_of(first, first + 3)).await.unwrap();
                tx.send(numbered(first + 3)).await.unwrap();
            }
        }));
    }
    drop(tx);
    let (report, wire) = pump_fed_by(rx, producers).await;
    assert_eq!(report.events, 600);
    let mut next = [0u64, 1000, 2000];
    for frame in frames(&wire) {
        let n: u64 = frame
            .strip_prefix("id: ")
            .and_then(|rest| rest.split_once("\ndata: event "))
            .filter(|(id, data)| id == data)
            .and_then(|(id, _)| id.parse().ok())
            .unwrap_or_else(|| panic!("torn frame {frame:?}"));
        let p = (n / 1000) as usize;
        assert_eq!(n, next[p], "out of order");
        next[p] += 1;
    }
    assert_eq!(next, [200, 1200, 2200]);
}

/// Events sent one at a time while the stream is busy join the last queued message: they
/// still go out whole and in order, counted one by one, and no write grows over the
/// coalescing limit.
async fn events_sent_one_by_one_keep_order_and_the_limit() {
    let (tx, rx) = channel(16);
    let producer = spawn(async move {
        for n in 0..300 {
            tx.send(numbered(n)).await.unwrap();
        }
    });
    let (sink, seen) = recorder();
    let sse = Sse::new(rx).keep_alive(None).coalesce(100);
    let report = guard(sse.pump(sink)).await.unwrap();
    producer.await;
    assert_eq!((report.events, report.undelivered), (300, 0));
    let mut wire = Vec::new();
    while (wire.len() as u64) < report.bytes {
        let write = seen.next_write().await;
        assert!(write.len() <= 100, "a write of {} bytes", write.len());
        wire.extend(write);
    }
    let want: Vec<String> = (0..300)
        .map(|n| format!("id: {n}\ndata: event {n}"))
        .collect();
    assert_eq!(frames(&wire), want);
}

on_both!(
    events_sent_one_by_one_keep_order_and_the_limit,
    batches_are_counted_event_by_event,
    a_carried_batch_counts_when_lost,
    shutdown_counts_batched_events,
    cloned_batch_senders_never_interleave,
    stream_source,
    stream_of_results_ends_at_its_first_error,
    keep_alive_is_quiet_while_events_flow,
    keep_alive_pings_after_the_interval_reset_by_traffic,
    keep_alive_disabled_means_no_timer,
    send_timeout_covers_pings,
    shutdown_counts_what_was_queued,
    one_shutdown_ends_many_streams,
    queued_events_share_one_write,
    coalescing_respects_its_limit_and_can_be_off,
    line_endings_apply_to_every_frame,
    cloned_senders_never_interleave,
);

/// A producer that keeps its channel full, polled in the same task as the stream (as on a
/// one-thread runtime): the stream holds its frame back while the producer refills, so 40
/// events through a channel of 4 go out in one write, not ten; without coalescing, one write
/// per event.
#[test]
fn a_full_channel_refills_before_the_write() {
    for (limit, writes) in [(Sse::DEFAULT_COALESCE, 1), (0, 40)] {
        let (tx, rx) = channel(4);
        let producer = async move {
            for n in 0..40 {
                tx.send(numbered(n)).await.unwrap();
            }
        };
        let (sink, seen) = recorder();
        let pump = Sse::new(rx).keep_alive(None).coalesce(limit).pump(sink);
        let ((), report) = future::block_on(guard(future::zip(producer, pump)));
        let report = report.unwrap();
        assert_eq!(
            (report.events, seen.writes()),
            (40, writes),
            "limit {limit}"
        );
        let want: Vec<String> = (0..40)
            .map(|n| format!("id: {n}\ndata: event {n}"))
            .collect();
        assert_eq!(frames(&seen.rest()), want);
    }
}

/// A frame held back goes out as soon as the producer stops refilling, though it is still
/// there: a full channel never delays its events longer than one turn of the producer.
#[test]
fn a_held_frame_goes_out_when_the_producer_pauses() {
    let (tx, rx) = channel(2);
    let producer = async {
        for n in 0..2 {
            tx.send(numbered(n)).await.unwrap();
        }
        future::pending::<()>().await // full, and busy elsewhere
    };
    let (sink, seen) = recorder();
    let pump = Sse::new(rx).keep_alive(None).pump(sink);
    let written = future::block_on(guard(future::or(
        async {
            let _ = future::zip(producer, pump).await;
            unreachable!("the producer never ends")
        },
        seen.next_write(),
    )));
    assert_eq!(
        frames(&written),
        ["id: 0\ndata: event 0", "id: 1\ndata: event 1"]
    );
}

/// Several runtimes in several threads at once, each streaming its own events.
#[test]
fn many_runtimes_in_many_threads() {
    let run = |id: usize| async move {
        let (tx, rx) = channel(16);
        let producer = spawn(async move {
            for n in 0..2000u64 {
                tx.send(Event::new().id(format!("{id}-{n}")).data("x"))
                    .await
                    .unwrap();
            }
        });
        let mut wire = Vec::new();
        let report = guard(Sse::new(rx).pump(&mut wire)).await.unwrap();
        producer.await;
        assert_eq!(report.events, 2000);
        let want: Vec<String> = (0..2000)
            .map(|n| format!("id: {id}-{n}\ndata: x"))
            .collect();
        assert_eq!(frames(&wire), want);
    };
    std::thread::scope(|s| {
        for id in 0..6 {
            s.spawn(move || match id % 3 {
                0 => support::on_smol(run(id)),
                1 => support::on_tokio(run(id)),
                _ => tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(run(id)),
            });
        }
    });
}
