//! Bytes on the wire and CPU per event for each compression, one frame per event (a live
//! stream: every event flushed alone, the worst case for compression), through the real
//! body: `SseBody` wrapped in `CompressedBody`.
//!
//! ```text
//! cargo run --release --example compression_figures --features compression,json
//! ```
//!
//! Two streams: the demo's (a clock, a counter with ids, a JSON stats object, in turn) and
//! an LLM-like token stream (OpenAI-style `data: {"choices":[{"delta":{"content":"..."}}]}`
//! chunks, one word each). Prints a Markdown table; the median of 7 runs. Then the memory
//! a compressed stream keeps: the resident set (RSS, which counts the C allocations of
//! zstd too) of 200 streams of each encoding, fresh (one event sent) and warm
//! (3,000 token events then 600 demo events sent, the window full), each encoding
//! measured in a child process of its own, on both paths: the HTTP body
//! (`CompressedBody`) and the `AsyncWrite` path (`Sse::pump` into a `CompressedWriter`).

use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use http_body_util::BodyExt;
use sse_pump::{
    adapters::compression::{set_max_streams, CompressedWriter},
    channel, CompressedBody, Encoding, Event, Sse, SseBody,
};

const EVENTS: usize = 3_000;
const RUNS: usize = 7;
const CODINGS: [Encoding; 4] = [
    Encoding::Identity,
    Encoding::Gzip,
    Encoding::Brotli,
    Encoding::Zstd,
];

fn demo_events() -> Vec<Event> {
    let start_ms: u64 = 1_764_536_400_000;
    (0..EVENTS as u64)
        .map(|i| {
            let (n, ms) = (i / 3, start_ms + i / 3 * 1000);
            match i % 3 {
                0 => Event::new().event("clock").data((ms / 1000).to_string()),
                1 => Event::new().id(n.to_string()).data(n.to_string()),
                _ => {
                    let stats =
                        serde_json::json!({ "count": n, "unix_ms": ms, "even": n % 2 == 0 });
                    Event::new().event("stats").json(&stats)
                }
            }
        })
        .collect()
}

fn token_events() -> Vec<Event> {
    let words = [
        " the", " stream", " of", " tokens", " arrives", " one", " word", " at", " a", " time",
        ",", " and", " each", " is", " flushed", " alone", ".",
    ];
    (0..EVENTS)
        .map(|i| {
            let chunk = serde_json::json!({
                "id": "chatcmpl-7", "object": "chat.completion.chunk",
                "choices": [{ "index": 0, "delta": { "content": words[(i * 7 + i / 5) % words.len()] } }]
            });
            Event::new().json(&chunk)
        })
        .collect()
}

/// Sends `events` one at a time through a body compressed with `encoding`, taking each
/// frame before the next event: (bytes out, time).
fn run(events: &[Event], encoding: Encoding) -> (usize, Duration) {
    block_on(async {
        let (tx, rx) = channel(1);
        let sse = Sse::new(rx).keep_alive(None);
        let mut body = CompressedBody::new(SseBody::new(sse), encoding);
        let mut bytes = 0;
        let start = Instant::now();
        for event in events {
            tx.send(event.clone()).await.unwrap();
            let frame = body.frame().await.unwrap().unwrap();
            bytes += frame.data_ref().map_or(0, |d| d.len());
        }
        drop(tx);
        while let Some(frame) = body.frame().await {
            bytes += frame.unwrap().data_ref().map_or(0, |d| d.len());
        }
        (bytes, start.elapsed())
    })
}

fn table(name: &str, events: &[Event]) {
    let plain: usize = events.iter().map(|e| e.clone().into_bytes().len()).sum();
    println!(
        "\n{name}: {EVENTS} events, {plain} bytes uncompressed ({:.1} per event)\n",
        plain as f64 / EVENTS as f64
    );
    println!("| encoding | bytes on the wire | per event | vs identity | time per event | over identity |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut identity_ns = 0.0;
    for encoding in CODINGS {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..RUNS {
            let (b, t) = run(events, encoding);
            bytes = b;
            times.push(t);
        }
        times.sort();
        let ns = times[RUNS / 2].as_nanos() as f64 / EVENTS as f64;
        if encoding == Encoding::Identity {
            identity_ns = ns;
        }
        println!(
            "| {encoding} | {bytes} | {:.1} | {:.1}% | {:.2} µs | +{:.2} µs |",
            bytes as f64 / EVENTS as f64,
            100.0 * bytes as f64 / plain as f64,
            ns / 1000.0,
            (ns - identity_ns) / 1000.0,
        );
    }
}

const STREAMS: usize = 200;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, memory, coding, path] = &args[..] {
        if memory == "memory" {
            return memory_child(coding, path);
        }
    }
    // Every stream here compresses: the budget must not turn any into identity.
    set_max_streams(usize::MAX);
    table(
        "The demo's stream (clock, counter, JSON stats)",
        &demo_events(),
    );
    table(
        "An LLM-like token stream (one OpenAI-style JSON chunk per word)",
        &token_events(),
    );
    println!("\nMemory per stream ({STREAMS} streams, RSS)\n");
    println!("| encoding | fresh (1 event), body | warm, body | warm, `AsyncWrite` path |");
    println!("|---|---:|---:|---:|");
    for encoding in CODINGS {
        let exe = std::env::current_exe().unwrap();
        let child = |path| {
            let output = std::process::Command::new(&exe)
                .args(["memory", encoding.as_str(), path])
                .output()
                .unwrap();
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        };
        let (body, writer) = (child("body"), child("writer"));
        println!("| {encoding} | {body} | {writer} |");
    }
}

/// The resident set, in KiB, from `/proc/self/statm` (Linux).
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4
}

/// The events a warm stream has seen: the token stream, then part of the demo's.
fn warming_events() -> Vec<Event> {
    let mut events = token_events();
    events.extend(demo_events().into_iter().take(600));
    events
}

/// Prints the RSS growth per stream of `STREAMS` streams of `coding`: on the body path
/// fresh and warm (`a | b`), on the `AsyncWrite` path (`writer`) warm.
fn memory_child(coding: &str, path: &str) {
    set_max_streams(usize::MAX);
    let encoding = *CODINGS.iter().find(|e| e.as_str() == coding).unwrap();
    let events = warming_events();
    if path == "writer" {
        println!("{:.1} KiB", writer_memory(encoding, &events));
    } else {
        let (fresh, warm) = body_memory(encoding, &events);
        println!("{fresh:.1} KiB | {warm:.1} KiB");
    }
}

/// Per stream, fresh and warm, through `CompressedBody`.
fn body_memory(encoding: Encoding, events: &[Event]) -> (f64, f64) {
    block_on(async {
        let before = rss_kib();
        let mut streams = Vec::new();
        for _ in 0..STREAMS {
            let (tx, rx) = channel(1);
            let body = CompressedBody::new(SseBody::new(Sse::new(rx).keep_alive(None)), encoding);
            streams.push((tx, body));
        }
        for (tx, body) in &mut streams {
            tx.send(events[0].clone()).await.unwrap();
            body.frame().await.unwrap().unwrap();
        }
        let fresh = rss_kib().saturating_sub(before) as f64 / STREAMS as f64;
        for (tx, body) in &mut streams {
            for event in &events[1..] {
                tx.send(event.clone()).await.unwrap();
                body.frame().await.unwrap().unwrap();
            }
        }
        let warm = rss_kib().saturating_sub(before) as f64 / STREAMS as f64;
        (fresh, warm)
    })
}

/// Per stream, warm, through `Sse::pump` into a `CompressedWriter`.
fn writer_memory(encoding: Encoding, events: &[Event]) -> f64 {
    block_on(async {
        let before = rss_kib();
        let mut streams = Vec::new();
        for _ in 0..STREAMS {
            let (tx, rx) = channel(1);
            let writer = CompressedWriter::new(futures_lite::io::sink(), encoding);
            let pump = Box::pin(Sse::new(rx).keep_alive(None).pump(writer));
            streams.push((tx, pump));
        }
        for (tx, pump) in &mut streams {
            for event in events {
                tx.send(event.clone()).await.unwrap();
                // The pump takes the event, writes and flushes it, and waits for the next.
                assert!(futures_lite::future::poll_once(pump.as_mut())
                    .await
                    .is_none());
            }
        }
        rss_kib().saturating_sub(before) as f64 / STREAMS as f64
    })
}
