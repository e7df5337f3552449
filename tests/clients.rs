//! Command-line and Python clients against the `demo` example's finite stream
//! (`/events?limit=2`: two rounds of clock, counter and stats, then the end):
//! - `curl -sN -i` gets status 200, the SPEC's headers and exactly the expected bytes;
//! - httpx-sse (Python) yields the same events as `sse_pump::decode_reader` on the very
//!   bytes it read, recorded by a relay between it and the demo.
//!
//! Needs `curl`, and a Python with httpx and httpx-sse (`$SSE_PUMP_PYTHON`, by default
//! `.venv/bin/python` at the repo root, which .ci/run creates); each test is skipped
//! without its client, except on CI (`CI=true`), where it fails.

mod demo_server;

use std::{
    io::{Read, Write},
    net::{Shutdown, TcpListener, TcpStream},
    path::PathBuf,
    process::Command,
    sync::mpsc,
    thread,
};

use demo_server::{
    demo_rounds, describe, require, run_with_deadline, split_head, which, Demo, DEADLINE,
};
use serde_json::Value;
use sse_pump::{decode_reader, MessageEvent};

/// The events of a body, decoded as a browser would, and [`describe`]d.
fn decoded(body: &[u8]) -> Vec<MessageEvent> {
    decode_reader(body)
        .collect::<Result<_, _>>()
        .expect("the body decodes")
}

fn described(events: &[MessageEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| describe(&e.event, &e.data, &e.id))
        .collect()
}

#[test]
fn curl_reads_the_headers_and_bytes() {
    let Some(curl) = require("curl", which("curl"), "apt-get install curl") else {
        return;
    };
    let demo = Demo::start();
    let url = format!("{}events?limit=2", demo.url);
    let output = run_with_deadline(
        Command::new(curl).args(["-sN", "-i", "--max-time", "15", &url]),
        DEADLINE,
    );
    assert!(
        output.status.success(),
        "curl: {} {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let (head, body) = split_head(&output.stdout);

    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut response = httparse::Response::new(&mut headers);
    assert!(response.parse(head).unwrap().is_complete());
    assert_eq!((response.version, response.code), (Some(1), Some(200)));
    let header = |name: &str| {
        let values: Vec<_> = response
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value))
            .collect();
        assert_eq!(values.len(), 1, "one {name} header in {response:?}");
        values[0].clone()
    };
    assert_eq!(header("content-type"), "text/event-stream; charset=utf-8");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("x-accel-buffering"), "no");
    assert_eq!(header("content-encoding"), "identity");
    // A body that ends when the connection does: RFC 9112 §9.3 asks for `close`.
    assert_eq!(header("connection"), "close");

    let events = decoded(body);
    assert_eq!(described(&events), demo_rounds(0, 2, ""));
    // The exact bytes, with the clock and stats values the decoder read put back in.
    let mut wire = String::from("retry: 1000\n\n");
    for round in events.chunks(3) {
        let (clock, count, stats) = (&round[0], &round[1], &round[2]);
        wire += &format!("event: clock\ndata: {}\n\n", clock.data);
        wire += &format!("id: {}\ndata: {}\n\n", count.id, count.data);
        wire += &format!("event: stats\ndata: {}\n\n", stats.data);
    }
    assert_eq!(String::from_utf8_lossy(body), wire);
}

#[test]
fn httpx_sse_yields_what_decode_reader_yields() {
    let python = std::env::var_os("SSE_PUMP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let install = "python3 -m venv .venv && .venv/bin/pip install httpx httpx-sse";
    let Some(python) = require("Python (for httpx-sse)", Some(python), install) else {
        return;
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/check_httpx_sse.py"
    );
    let demo = Demo::start();
    let (relay, recording) = relay_once(demo.authority());
    let url = format!("http://{relay}/events?limit=2");
    let output = run_with_deadline(Command::new(python).args([script, &url]), DEADLINE);
    assert!(
        output.status.success(),
        "{script}: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let python_events: Vec<(String, String, String, Option<u64>)> =
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| {
                let v: Value = serde_json::from_str(line).expect("a JSON line");
                let text = |key: &str| v[key].as_str().expect(key).to_owned();
                (text("event"), text("data"), text("id"), v["retry"].as_u64())
            })
            .collect();

    let wire = recording
        .recv_timeout(DEADLINE)
        .expect("the relay's recording");
    let (_, body) = split_head(&wire);
    let events = decoded(body);
    assert_eq!(described(&events), demo_rounds(0, 2, ""));
    let ours: Vec<_> = events
        .iter()
        .map(|e| {
            let retry = e.retry.map(|r| r.as_millis() as u64);
            (
                e.event.to_string(),
                e.data.to_string(),
                e.id.to_string(),
                retry,
            )
        })
        .collect();

    // httpx-sse 0.4 dispatches a block without `data:` (here the first one, `retry: 1000`)
    // as an event with empty data; browsers and decode_reader dispatch nothing for it (the
    // decoder reports it as `Item::Retry` through `items()`). The demo sends no empty data,
    // so these are exactly the extra events.
    let (extra, same): (Vec<_>, Vec<_>) = python_events.into_iter().partition(|e| e.1.is_empty());
    let retry_only = (
        "message".to_owned(),
        String::new(),
        String::new(),
        Some(1000),
    );
    assert_eq!(extra, [retry_only]);
    assert_eq!(same, ours);
}

/// Relays one connection from a new loopback port to `upstream`, recording what the
/// upstream sends; the recording arrives on the channel once the upstream has closed.
fn relay_once(upstream: &str) -> (String, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let upstream = upstream.to_owned();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let mut server = TcpStream::connect(upstream).unwrap();
        for socket in [&client, &server] {
            socket.set_read_timeout(Some(DEADLINE)).unwrap();
        }
        let (mut client_in, mut server_out) =
            (client.try_clone().unwrap(), server.try_clone().unwrap());
        thread::spawn(move || {
            let _ = std::io::copy(&mut client_in, &mut server_out);
        });
        let mut recorded = Vec::new();
        let mut buf = [0; 16 * 1024];
        while let Ok(n @ 1..) = server.read(&mut buf) {
            recorded.extend_from_slice(&buf[..n]);
            if client.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = client.shutdown(Shutdown::Write);
        let _ = tx.send(recorded);
    });
    (address, rx)
}
