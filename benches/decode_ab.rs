//! A quick A/B for a noisy machine: sse-pump's `Decoder` and `decode_stream` against
//! sse-stream on one mix of `decode.rs` (16 MiB, or `SSE_BENCH_MIB`), run in turn 15 times; the best time of
//! each is kept, so a load spike on another core hits one round, not one contender.
//!
//! `cargo bench -p sse-pump-benches --bench decode_ab -- MIX CHUNK` (MIX: a, b, c or mixed;
//! CHUNK: bytes, default 8192;
//! a third argument, `sans_io`, `stream` or `sse_stream`, runs that one alone, for `perf`).

use std::{convert::Infallible, hint::black_box, time::Instant};

use bytes::Bytes;
use futures_lite::{future::block_on, stream, StreamExt};

/// A named decoder run over the chunks, returning the number of events.
type Contender = (&'static str, fn(&[Bytes]) -> usize);

fn sans_io(chunks: &[Bytes]) -> usize {
    let mut d = sse_pump::Decoder::new();
    let mut n = 0;
    for c in chunks {
        d.feed(c.clone());
        while let Some(e) = d.next_event().unwrap() {
            black_box(e);
            n += 1;
        }
    }
    n
}
fn ours(chunks: &[Bytes]) -> usize {
    block_on(
        sse_pump::decode_stream(stream::iter(
            chunks.iter().cloned().map(Ok::<_, Infallible>),
        ))
        .map(|e| black_box(e.unwrap()))
        .count(),
    )
}
fn peer(chunks: &[Bytes]) -> usize {
    block_on(
        sse_stream::SseByteStream::new(stream::iter(
            chunks.iter().cloned().map(Ok::<_, Infallible>),
        ))
        .map(|e| black_box(e.unwrap()))
        .count(),
    )
}
fn main() {
    // `cargo bench` passes `--bench` first.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mix = args.first().cloned().unwrap_or_else(|| "c".into());
    let size: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(8192);
    let make = |n: usize| -> String {
        let kind = match &mix[..] {
            "mixed" => ["a", "b", "c"][n % 3],
            kind => kind,
        };
        match kind {
            "a" => "data: hello world\n\n".to_owned(),
            "b" => {
                let mut j = format!("{{\"seq\":{n},\"user\":\"someone\",\"text\":\"");
                while j.len() < 198 {
                    j.push('x');
                }
                j.push_str("\"}");
                format!("event: update\nid: {n}\ndata: {j}\n\n")
            }
            _ => {
                let l = format!("data: {}\n", "0123456789abcdef".repeat(5));
                let mut e = l.repeat(10);
                e.push('\n');
                e
            }
        }
    };
    let mut s = String::new();
    let mut n = 0;
    let mib: usize = std::env::var("SSE_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    while s.len() < mib << 20 {
        s.push_str(&make(n));
        n += 1;
    }
    let wire = Bytes::from(s);
    let chunks: Vec<Bytes> = (0..wire.len())
        .step_by(size)
        .map(|a| wire.slice(a..(a + size).min(wire.len())))
        .collect();
    let fs: [Contender; 3] = [("sans_io", sans_io), ("stream", ours), ("sse_stream", peer)];
    // A third argument names one contender to run alone, 15 times (for `perf record`).
    let only = args.get(2);
    let mut best = [f64::MAX; 3];
    for _ in 0..15 {
        for (i, (name, f)) in fs.iter().enumerate() {
            if only.is_some_and(|only| only != name) {
                continue;
            }
            let t = Instant::now();
            assert_eq!(f(&chunks), n);
            best[i] = best[i].min(t.elapsed().as_secs_f64());
        }
    }
    let mbs = |t: f64| wire.len() as f64 / t / 1e6;
    println!(
        "{mix}/{size}: sans_io {:.0} stream {:.0} sse_stream {:.0} MB/s; ratios {:.2} {:.2}",
        mbs(best[0]),
        mbs(best[1]),
        mbs(best[2]),
        best[2] / best[0],
        best[2] / best[1]
    );
}
