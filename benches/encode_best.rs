//! The shared-buffer rows of `encode.rs` timed as the best of 3,000 batches of 1,000 events
//! rather than criterion's mean: on this shared 2-core machine the mean of a row moves by
//! ±30% between runs as other builds come and go, while the best batch (one that ran
//! uninterrupted) repeats to within a few percent. Same mixes and field values as
//! `encode.rs`; also the owned-`Bytes` rows and the served paths (the stream `SseBody` forwards, the pump:
//! best of 1,000 batches of 1,000 events sent one by one). Run:
//! `cargo bench -p sse-pump-benches --bench encode_best [a|b|c|d|e|f]`
//! (`WRITER_ONLY=1`: the `EventWriter` rows only, `SERVED_ONLY=1`: 30 batches through
//! that stream only, for a profiler). Mixes d to f are not
//! in `encode.rs`: 20 lines of 30 bytes, 10 lines of 80 bytes with CRLF, one 2,000-byte line.

use bytes::BytesMut;
use bytestring::ByteString;
use std::{hint::black_box, time::Instant};
use tokio_util::codec::Encoder as _;

struct Mix {
    id: Option<&'static str>,
    event: Option<&'static str>,
    data: &'static str,
}

fn writer(mix: &Mix, buf: &mut BytesMut) {
    let mut w = sse_pump::EventWriter::new(buf);
    if let Some(id) = mix.id {
        w = w.id(id);
    }
    if let Some(e) = mix.event {
        w = w.event(e);
    }
    w.data(mix.data).finish().unwrap();
}
fn russe_into(mix: &Mix, dst: &mut BytesMut) {
    let mut m = russe::Message {
        data: ByteString::from_static(mix.data),
        event: None,
        retry: None,
        id: None,
    };
    m.id = mix.id.map(ByteString::from_static);
    m.event = mix.event.map(ByteString::from_static);
    russe::Encoder::default()
        .encode(russe::Event::Message(m), dst)
        .unwrap();
}
fn event(mix: &Mix) -> sse_pump::Event {
    let mut e = sse_pump::Event::new();
    if let Some(id) = mix.id {
        e = e.id(id);
    }
    if let Some(n) = mix.event {
        e = e.event(n);
    }
    e.data(mix.data)
}
fn owned(mix: &Mix) -> bytes::Bytes {
    event(mix).into_bytes()
}
fn sse_stream(mix: &Mix) -> bytes::Bytes {
    let mut e = sse_stream::Sse::default().data(mix.data);
    if let Some(id) = mix.id {
        e = e.id(id);
    }
    if let Some(name) = mix.event {
        e = e.event(name);
    }
    e.encode().unwrap()
}

/// Best time per event (ns) over `trials` runs of `f`, which handles 1000 events.
fn best_of_batches(trials: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..trials {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_nanos() as f64 / 1000.0);
    }
    best
}
fn russe_owned(mix: &Mix) -> bytes::Bytes {
    let mut d = BytesMut::new();
    russe_into(mix, &mut d);
    d.freeze()
}

/// Best time per event (ns) over `trials` batches of 1000.
fn best(trials: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..trials {
        let t = Instant::now();
        for _ in 0..1000 {
            f();
        }
        best = best.min(t.elapsed().as_nanos() as f64 / 1000.0);
    }
    best
}

fn main() {
    let head = r#"{"user":"ada","action":"update","seq":1729,"note":""#;
    let json = format!("{head}{}\"}}", "x".repeat(200 - head.len() - 2));
    let lines = vec!["0123456789".repeat(8); 10].join("\n");
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let mixes = [
        (
            "a_hello",
            Mix {
                id: None,
                event: None,
                data: "hello world",
            },
        ),
        (
            "b_json",
            Mix {
                id: Some("1729"),
                event: Some("update"),
                data: leak(json),
            },
        ),
        (
            "c_lines",
            Mix {
                id: None,
                event: None,
                data: leak(lines),
            },
        ),
        // Not in `encode.rs`: shapes on either side of the writer's fast path.
        (
            "d_short_lines",
            Mix {
                id: None,
                event: None,
                data: leak(vec!["abcdefghij".repeat(3); 20].join("\n")),
            },
        ),
        (
            "e_crlf_lines",
            Mix {
                id: None,
                event: None,
                data: leak(vec!["0123456789".repeat(8); 10].join("\r\n")),
            },
        ),
        (
            "f_one_long_line",
            Mix {
                id: None,
                event: None,
                data: leak("z".repeat(2000)),
            },
        ),
    ];
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let trials = 3000;
    for (name, mix) in &mixes {
        if !which.is_empty() && !which.iter().any(|w| name.starts_with(w.as_str())) {
            continue;
        }
        let mut buf = BytesMut::with_capacity(64 * 1024);
        let mut run = |f: &mut dyn FnMut(&Mix, &mut BytesMut)| {
            let mut buf2 = std::mem::take(&mut buf);
            let r = best(trials, || {
                if buf2.len() + 1000 > 64 * 1024 {
                    buf2.clear();
                }
                f(black_box(mix), &mut buf2);
            });
            buf = buf2;
            r
        };
        if std::env::var_os("SERVED_ONLY").is_some() {
            let body = best_of_batches(30, || {
                sse_pump_benches::served_body(
                    1000,
                    || event(black_box(mix)),
                    |f| {
                        black_box(f);
                    },
                )
            });
            println!("{name}: SseBody {body:.1} ns");
            continue;
        }
        let w = run(&mut writer);
        if std::env::var_os("WRITER_ONLY").is_some() {
            println!("{name}: writer {w:.1} ns");
            continue;
        }
        let r = run(&mut russe_into);
        let o = best(trials, || {
            black_box(owned(black_box(mix)));
        });
        let ro = best(trials, || {
            black_box(russe_owned(black_box(mix)));
        });
        let so = best(trials, || {
            black_box(sse_stream(black_box(mix)));
        });
        let body = best_of_batches(trials / 3, || {
            sse_pump_benches::served_body(
                1000,
                || event(black_box(mix)),
                |f| {
                    black_box(f);
                },
            )
        });
        let pump = best_of_batches(trials / 3, || {
            sse_pump_benches::served_pump(
                1000,
                || event(black_box(mix)),
                |w| {
                    black_box(w);
                },
            )
        });
        let peer = ro.min(so);
        println!("{name}: writer {w:.1} ns, russe {r:.1} ns -> {:.2}x | owned Event {o:.1} ns, russe owned {ro:.1} ns -> {:.2}x | sse-stream {so:.1} ns | SseBody {body:.1} ns -> {:.2}x, pump {pump:.1} ns -> {:.2}x the fastest owned peer", r / w, ro / o, peer / body, peer / pump);
    }
}
