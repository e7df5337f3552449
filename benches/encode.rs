//! Encoding throughput: one event in, its complete wire frame out as owned bytes.
//!
//! Three mixes, each built `BATCH` times per iteration:
//! - `a_hello`: `data: hello world`;
//! - `b_json`: `id`, `event` and a 200-byte one-line JSON `data`;
//! - `c_lines`: `data` of 10 lines of 80 characters.
//!
//! Contenders, on the same field values:
//! - `sse_pump`: `Event::new()...into_bytes()` (an owned `Event`);
//! - `sse_body`: the path a server takes: each event built with `Event::new()`, sent one at
//!   a time with `Sender::send` through `channel(64)`, and its bytes read frame by frame out
//!   of `Sse::into_stream()`, the stream an `SseBody` forwards to hyper as it is (producer
//!   and stream on one thread; one channel and stream per batch of `BATCH` events, so their
//!   setup is amortized, as axum's is);
//! - `pump`: the same through `Sse::pump` into an in-memory `AsyncWrite` that discards;
//! - in the `encode_into_64k` groups, `sse_pump_writer`: `EventWriter::new(&mut buf)...finish()`,
//!   straight into the shared buffer, and `sse_pump_encode_into`: an `Event` built, then
//!   copied in with `Event::encode_into`;
//! - `ceiling_vec_per_event`: the finished frame copied into a fresh `Vec` with
//!   `extend_from_slice` (one allocation and one copy per event: the same output shape);
//! - `ceiling_one_vec`: the finished frames appended to one reused `Vec` (memcpy only);
//! - `axum`: `axum::response::sse::Event`, encoded bytes taken from the body of
//!   `Sse::into_response()` through `http_body::Body::poll_frame` (the only public path to
//!   them); one response per batch, so its setup is amortized;
//! - `russe`: `russe::Encoder` (a `tokio_util` codec) into a fresh `BytesMut`, frozen;
//! - `russe_one_buffer`: the same codec appending to one reused `BytesMut`, as `FramedWrite`
//!   does (a different job: no per-event `Bytes`; shown for reference);
//! - `sse_stream`: `sse_stream::Sse { .. }.encode()`, which needs an owned `String` per field.
//!
//! Throughput is reported in events (criterion `Throughput::Elements`); MB/s is events/s
//! times the frame length, which every contender shares (asserted in `setup`).

use std::{
    convert::Infallible,
    hint::black_box,
    pin::Pin,
    task::{Context, Poll, Waker},
    time::Duration,
};

use axum::response::IntoResponse;
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_lite::StreamExt;
use http_body::Body as _;
use sse_pump_benches::{served_body, served_pump};
use tokio_util::codec::Encoder as _;

const BATCH: usize = 1_000;

/// The field values of one mix; every contender encodes exactly these.
struct Mix {
    name: &'static str,
    id: Option<&'static str>,
    event: Option<&'static str>,
    data: &'static str,
}

fn mixes() -> Vec<&'static Mix> {
    let head = r#"{"user":"ada","action":"update","seq":1729,"note":""#;
    let json = format!("{head}{}\"}}", "x".repeat(200 - head.len() - 2));
    assert_eq!(json.len(), 200);
    let lines = vec!["0123456789".repeat(8); 10].join("\n");
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let mixes = vec![
        Mix {
            name: "a_hello",
            id: None,
            event: None,
            data: "hello world",
        },
        Mix {
            name: "b_json",
            id: Some("1729"),
            event: Some("update"),
            data: leak(json),
        },
        Mix {
            name: "c_lines",
            id: None,
            event: None,
            data: leak(lines),
        },
    ];
    mixes
        .into_iter()
        .map(|mix| &*Box::leak(Box::new(mix)))
        .collect()
}

fn our_event(mix: &Mix) -> sse_pump::Event {
    let mut event = sse_pump::Event::new();
    if let Some(id) = mix.id {
        event = event.id(id);
    }
    if let Some(name) = mix.event {
        event = event.event(name);
    }
    event.data(mix.data)
}

fn ours(mix: &Mix) -> Bytes {
    our_event(mix).into_bytes()
}

fn axum_event(mix: &Mix) -> axum::response::sse::Event {
    let mut event = axum::response::sse::Event::default();
    if let Some(id) = mix.id {
        event = event.id(id);
    }
    if let Some(name) = mix.event {
        event = event.event(name);
    }
    event.data(mix.data)
}

/// Builds `n` axum events and takes their frames out of one `Sse` response body.
fn axum_frames(mix: &'static Mix, n: usize, mut each: impl FnMut(Bytes)) {
    let events =
        futures_lite::stream::iter(0..n).map(move |_| Ok::<_, Infallible>(axum_event(mix)));
    let mut body = axum::response::sse::Sse::new(events)
        .into_response()
        .into_body();
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        match Pin::new(&mut body).poll_frame(&mut cx) {
            Poll::Ready(Some(Ok(frame))) => each(frame.into_data().expect("a data frame")),
            Poll::Ready(None) => return,
            Poll::Ready(Some(Err(e))) => panic!("axum body failed: {e}"),
            Poll::Pending => unreachable!("the event stream is always ready"),
        }
    }
}

fn russe_event(mix: &Mix) -> russe::Event {
    let mut message = russe::Message {
        data: ByteString::from_static(mix.data),
        event: None,
        retry: None,
        id: None,
    };
    message.id = mix.id.map(ByteString::from_static);
    message.event = mix.event.map(ByteString::from_static);
    russe::Event::Message(message)
}

fn russe_into(mix: &Mix, dst: &mut BytesMut) {
    russe::Encoder::default()
        .encode(russe_event(mix), dst)
        .expect("valid russe event");
}

fn russe(mix: &Mix) -> Bytes {
    let mut dst = BytesMut::new();
    russe_into(mix, &mut dst);
    dst.freeze()
}

fn sse_stream(mix: &Mix) -> Bytes {
    let mut event = sse_stream::Sse::default().data(mix.data);
    if let Some(id) = mix.id {
        event = event.id(id);
    }
    if let Some(name) = mix.event {
        event = event.event(name);
    }
    event.encode().expect("valid sse-stream event")
}

/// Checks that every contender produces a frame of the same length (field order may
/// differ: sse-stream always writes `event`, `data`, `id`) and returns that length.
fn setup(mix: &'static Mix) -> usize {
    let frame = ours(mix);
    let mut written = BytesMut::new();
    ours_writer(mix, &mut written);
    assert_eq!(written, frame, "EventWriter differs on {}", mix.name);
    let mut from_axum = Vec::new();
    axum_frames(mix, 1, |bytes| from_axum.push(bytes));
    assert_eq!(
        from_axum,
        std::slice::from_ref(&frame),
        "axum differs on {}",
        mix.name
    );
    assert_eq!(russe(mix), frame, "russe differs on {}", mix.name);
    let mut served = Vec::new();
    served_body(
        3,
        || our_event(mix),
        |bytes| served.extend_from_slice(&bytes),
    );
    assert_eq!(served, frame.repeat(3), "SseBody differs on {}", mix.name);
    served.clear();
    served_pump(
        3,
        || our_event(mix),
        |bytes| served.extend_from_slice(bytes),
    );
    assert_eq!(served, frame.repeat(3), "the pump differs on {}", mix.name);
    let lines = |bytes: &[u8]| {
        let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
        lines.sort();
        lines
    };
    assert_eq!(
        lines(&sse_stream(mix)),
        lines(&frame),
        "sse-stream differs on {}",
        mix.name
    );
    frame.len()
}

fn encode(c: &mut Criterion) {
    for mix in mixes() {
        let frame_len = setup(mix);
        let frame = ours(mix);
        let mut group = c.benchmark_group(format!("encode/{}_{}B", mix.name, frame_len));
        group.throughput(Throughput::Elements(BATCH as u64));

        group.bench_function(BenchmarkId::from_parameter("sse_pump"), |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    black_box(ours(black_box(mix)));
                }
            })
        });
        group.bench_function(BenchmarkId::from_parameter("sse_body"), |b| {
            b.iter(|| {
                served_body(
                    BATCH,
                    || our_event(black_box(mix)),
                    |frame| {
                        black_box(frame);
                    },
                )
            })
        });
        group.bench_function(BenchmarkId::from_parameter("pump"), |b| {
            b.iter(|| {
                served_pump(
                    BATCH,
                    || our_event(black_box(mix)),
                    |write| {
                        black_box(write);
                    },
                )
            })
        });
        group.bench_function(BenchmarkId::from_parameter("ceiling_vec_per_event"), |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    let mut out = Vec::new();
                    out.extend_from_slice(black_box(&frame[..]));
                    black_box(out);
                }
            })
        });
        let mut one = Vec::with_capacity(BATCH * frame_len);
        group.bench_function(BenchmarkId::from_parameter("ceiling_one_vec"), |b| {
            b.iter(|| {
                one.clear();
                for _ in 0..BATCH {
                    one.extend_from_slice(black_box(&frame[..]));
                }
                black_box(&one);
            })
        });
        group.bench_function(BenchmarkId::from_parameter("axum"), |b| {
            b.iter(|| {
                axum_frames(black_box(mix), BATCH, |bytes| {
                    black_box(bytes);
                })
            })
        });
        group.bench_function(BenchmarkId::from_parameter("russe"), |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    black_box(russe(black_box(mix)));
                }
            })
        });
        let mut shared = BytesMut::with_capacity(BATCH * frame_len);
        group.bench_function(BenchmarkId::from_parameter("russe_one_buffer"), |b| {
            b.iter(|| {
                shared.clear();
                for _ in 0..BATCH {
                    russe_into(black_box(mix), &mut shared);
                }
                black_box(&shared);
            })
        });
        group.bench_function(BenchmarkId::from_parameter("sse_stream"), |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    black_box(sse_stream(black_box(mix)));
                }
            })
        });
        group.finish();
        shared_buffer(c, mix, frame_len);
    }
}

/// The size of the write buffer a server gathers frames into before one write.
const WRITE_BUFFER: usize = 64 * 1024;

/// Appends `frame` to `buf` as a server gathers frames: a full buffer is written (here,
/// cleared) first.
fn gather_into(buf: &mut BytesMut, frame: &[u8]) {
    if buf.len() + frame.len() > WRITE_BUFFER {
        black_box(&buf[..]);
        buf.clear();
    }
    buf.extend_from_slice(frame);
}

/// Every contender writing into one shared 64 KiB buffer, as a server does.
fn shared_buffer(c: &mut Criterion, mix: &'static Mix, frame_len: usize) {
    let mut group = c.benchmark_group(format!("encode_into_64k/{}_{}B", mix.name, frame_len));
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut buf = BytesMut::with_capacity(WRITE_BUFFER);
    group.bench_function(BenchmarkId::from_parameter("sse_pump_writer"), |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                if buf.len() + frame_len > WRITE_BUFFER {
                    black_box(&buf[..]);
                    buf.clear();
                }
                ours_writer(black_box(mix), &mut buf);
            }
        })
    });
    group.bench_function(BenchmarkId::from_parameter("sse_pump_encode_into"), |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                if buf.len() + frame_len > WRITE_BUFFER {
                    black_box(&buf[..]);
                    buf.clear();
                }
                ours_into(black_box(mix), &mut buf);
            }
        })
    });
    group.bench_function(BenchmarkId::from_parameter("sse_pump_event_copied"), |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                gather_into(&mut buf, &ours(black_box(mix)));
            }
        })
    });
    group.bench_function(BenchmarkId::from_parameter("russe"), |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                if buf.len() + frame_len > WRITE_BUFFER {
                    black_box(&buf[..]);
                    buf.clear();
                }
                russe_into(black_box(mix), &mut buf);
            }
        })
    });
    group.bench_function(BenchmarkId::from_parameter("sse_stream"), |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                gather_into(&mut buf, &sse_stream(black_box(mix)));
            }
        })
    });
    group.bench_function(BenchmarkId::from_parameter("axum"), |b| {
        b.iter(|| axum_frames(black_box(mix), BATCH, |bytes| gather_into(&mut buf, &bytes)))
    });
    group.bench_function(BenchmarkId::from_parameter("ceiling_copy"), |b| {
        let frame = ours(mix);
        b.iter(|| {
            for _ in 0..BATCH {
                gather_into(&mut buf, black_box(&frame[..]));
            }
        })
    });
    group.finish();
}

/// sse-pump's frame appended to `buf` with `Event::encode_into`: no `Bytes` per event.
fn ours_into(mix: &Mix, buf: &mut BytesMut) {
    let mut event = sse_pump::Event::new();
    if let Some(id) = mix.id {
        event = event.id(id);
    }
    if let Some(name) = mix.event {
        event = event.event(name);
    }
    event.data(mix.data).encode_into(buf);
}

/// sse-pump's frame written straight into `buf` with `EventWriter`: no `Event` built.
fn ours_writer(mix: &Mix, buf: &mut BytesMut) {
    let mut writer = sse_pump::EventWriter::new(buf);
    if let Some(id) = mix.id {
        writer = writer.id(id);
    }
    if let Some(name) = mix.event {
        writer = writer.event(name);
    }
    writer.data(mix.data).finish().expect("valid fields");
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = encode
}
criterion_main!(benches);
