//! Decode throughput: sse-pump against eventsource-stream, sse-stream and sseer on the same
//! bytes and the same chunking, plus a memchr pass that only finds line ends (the ceiling).
//! Every contender gets clones of the same `Bytes` chunks (a reference count each, no copy)
//! and yields owned events that the caller could keep (sse-pump's `Text` fields are views
//! of the chunks, `'static` and `Send`; the peers' are `String`s); each event is passed to
//! `black_box` and dropped.
//!
//! `cargo bench --bench decode`; `SSE_BENCH_MIB` sets the stream size (default 64 MiB).

use std::{convert::Infallible, hint::black_box, time::Duration};

use bytes::Bytes;
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use futures_lite::{future::block_on, stream, StreamExt};

type Chunks = Vec<Bytes>;
/// A named way to make one event of a mix, or to decode a chunked stream.
type Mix = (&'static str, fn(usize) -> String);
type Contender = (&'static str, fn(&Chunks) -> usize);

fn chunk_stream(
    chunks: &Chunks,
) -> impl futures_lite::Stream<Item = Result<Bytes, Infallible>> + '_ {
    stream::iter(chunks.iter().cloned().map(Ok))
}

fn ours(chunks: &Chunks) -> usize {
    block_on(
        sse_pump::decode_stream(chunk_stream(chunks))
            .map(|e| black_box(e.unwrap()))
            .count(),
    )
}

/// The sans-IO core, fed the same chunks (each a `Bytes`, taken over without a copy, as
/// the stream adapters get them).
fn ours_sans_io(chunks: &Chunks) -> usize {
    let mut decoder = sse_pump::Decoder::new();
    let mut events = 0;
    for chunk in chunks {
        decoder.feed(chunk.clone());
        while let Some(event) = decoder.next_event().unwrap() {
            black_box(event);
            events += 1;
        }
    }
    events
}

fn ours_unlimited(chunks: &Chunks) -> usize {
    let decoder = sse_pump::Decoder::new()
        .max_line_len(usize::MAX)
        .max_event_size(usize::MAX);
    let events = sse_pump::DecodeStream::new(decoder, chunk_stream(chunks));
    block_on(events.map(|e| black_box(e.unwrap())).count())
}

fn eventsource_stream(chunks: &Chunks) -> usize {
    use eventsource_stream::Eventsource;
    block_on(
        chunk_stream(chunks)
            .eventsource()
            .map(|e| black_box(e.unwrap()))
            .count(),
    )
}

fn sse_stream(chunks: &Chunks) -> usize {
    let events = sse_stream::SseByteStream::new(chunk_stream(chunks));
    // sse-stream also yields comment and retry-only items; the mixes have none.
    block_on(events.map(|e| black_box(e.unwrap())).count())
}

fn sseer(chunks: &Chunks) -> usize {
    let events = sseer::EventStream::new(chunk_stream(chunks));
    block_on(events.map(|e| black_box(e.unwrap())).count())
}

/// The ceiling: find every line end, nothing else.
fn memchr_ceiling(chunks: &Chunks) -> usize {
    chunks
        .iter()
        .map(|c| memchr::memchr2_iter(b'\n', b'\r', c).count())
        .sum()
}

fn mix_a(_: usize) -> String {
    "data: hello world\n\n".to_owned()
}

fn mix_b(n: usize) -> String {
    let mut json = format!("{{\"seq\":{n},\"user\":\"someone\",\"text\":\"");
    while json.len() < 198 {
        json.push('x');
    }
    json.push_str("\"}");
    format!("event: update\nid: {n}\ndata: {json}\n\n")
}

fn mix_c(_: usize) -> String {
    let line = format!("data: {}\n", "0123456789abcdef".repeat(5));
    let mut event = line.repeat(10);
    event.push('\n');
    event
}

fn mixed(n: usize) -> String {
    [mix_a, mix_b, mix_c][n % 3](n)
}

fn stream_of(make: fn(usize) -> String, bytes: usize) -> (Bytes, usize) {
    let mut out = String::with_capacity(bytes + 4096);
    let mut n = 0;
    while out.len() < bytes {
        out.push_str(&make(n));
        n += 1;
    }
    (Bytes::from(out), n)
}

fn chunked(wire: &Bytes, size: usize) -> Chunks {
    (0..wire.len())
        .step_by(size)
        .map(|at| wire.slice(at..(at + size).min(wire.len())))
        .collect()
}

fn throughput(c: &mut Criterion) {
    let mib: usize = std::env::var("SSE_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mixes: [Mix; 4] = [
        ("a_hello", mix_a),
        ("b_json", mix_b),
        ("c_10_lines", mix_c),
        ("mixed", mixed),
    ];
    let contenders: [Contender; 6] = [
        ("sse_pump", ours),
        ("sse_pump_sans_io", ours_sans_io),
        ("eventsource_stream", eventsource_stream),
        ("sse_stream", sse_stream),
        ("sseer", sseer),
        ("memchr_ceiling", memchr_ceiling),
    ];
    for (mix, make) in mixes {
        let (wire, events) = stream_of(make, mib << 20);
        for chunk in [8 * 1024, 128] {
            let chunks = chunked(&wire, chunk);
            for (name, run) in &contenders[..5] {
                assert_eq!(run(&chunks), events, "{name} disagrees on {mix}");
            }
            let mut group = c.benchmark_group(format!("decode/{mix}/{chunk}B"));
            group.throughput(Throughput::Bytes(wire.len() as u64));
            group.sampling_mode(SamplingMode::Flat).sample_size(10);
            group
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(3));
            eprintln!(
                "decode/{mix}/{chunk}B: {events} events in {} bytes",
                wire.len()
            );
            for (name, run) in contenders {
                group.bench_function(name, |b| b.iter(|| run(black_box(&chunks))));
            }
            group.finish();
        }
    }
}

fn long_line(c: &mut Criterion) {
    let mut wire = b"data: ".to_vec();
    wire.resize(6 + (8 << 20), b'x');
    wire.extend_from_slice(b"\n\n");
    let wire = Bytes::from(wire);
    let mut group = c.benchmark_group("decode/one_8MiB_line");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for parts in [1, 1024] {
        let chunks = chunked(&wire, wire.len().div_ceil(parts));
        assert_eq!(chunks.len(), parts);
        assert_eq!(ours_unlimited(&chunks), 1);
        group.bench_with_input(
            BenchmarkId::new("sse_pump", format!("{parts}_chunks")),
            &chunks,
            |b, chunks| b.iter(|| ours_unlimited(black_box(chunks))),
        );
    }
    group.finish();
}

criterion_group!(benches, throughput, long_line);
criterion_main!(benches);
