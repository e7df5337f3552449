//! The `actix` and `poem` binaries from outside, as a user runs them: curl and httpx-sse
//! read the stream (headers, events, ids, pings), a reconnecting client resumes with
//! `Last-Event-ID`, and a client that leaves, or stops reading, ends its producer within
//! the send timeout (the servers print when a producer ends, and the stream's report).
//!
//! Needs `curl`, and a Python with httpx and httpx-sse (`$SSE_PUMP_PYTHON`, by default
//! `.venv/bin/python` at the repository's root, which .ci/run makes); a test is skipped
//! without its client, except on CI (`CI=true`), where it fails.

mod support;

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    process::Command,
    time::{Duration, Instant},
};

use serde_json::Value;
use socket2::{Domain, Socket, Type};
use sse_pump::{decode_reader, MessageEvent};
use support::{binary, curl, python, run, Server, Streaming, DEADLINE};

/// Runs each test on both servers, as one test per server.
macro_rules! on_both {
    ($($test:ident),* $(,)?) => {
        mod actix {
            $(#[test] fn $test() { super::$test("actix") })*
        }
        mod poem {
            $(#[test] fn $test() { super::$test("poem") })*
        }
    };
}

on_both!(
    curl_reads_the_headers_and_the_counted_events,
    curl_resumes_after_the_last_event_id,
    curl_gets_keep_alive_pings_on_a_quiet_stream,
    httpx_sse_reads_the_events,
    httpx_sse_reconnects_and_misses_nothing,
    a_client_that_leaves_ends_its_producer_within_the_send_timeout,
    a_client_that_stops_reading_ends_its_producer_after_the_send_timeout,
    a_setting_that_is_not_a_number_is_an_error_not_a_panic,
);

/// poem serves HTTP/2 too (h2c, by prior knowledge): the same stream over hyper's h2.
#[test]
fn poem_serves_the_stream_over_http2() {
    let Some(curl) = curl() else { return };
    let server = Server::start("poem", &[FAST]);
    let url = format!("{}events?limit=2", server.url);
    let args = [
        "-sSN",
        "-i",
        "--http2-prior-knowledge",
        "--max-time",
        "15",
        &url,
    ];
    let output = run(Command::new(curl).args(args));
    assert!(output.status.success(), "curl: {output:?}");
    let (head, body) = split_head(&output.stdout);
    assert!(head.starts_with("HTTP/2 200"), "{head}");
    assert_eq!(header(head, "content-type"), "text/event-stream");
    assert_eq!(String::from_utf8_lossy(body), counted(0, 2));
}

/// Events a tenth of a second apart: a test's stream goes by quickly.
const FAST: (&str, &str) = ("SSE_TICK_MS", "100");

/// What `id: first .. first + count` look like on the wire, after the `retry` hint.
fn counted(first: u64, count: u64) -> String {
    let events = (first..first + count).map(|n| format!("id: {n}\ndata: {n}\n\n"));
    std::iter::once("retry: 1000\n\n".to_owned())
        .chain(events)
        .collect()
}

/// The response's head and body, split at the blank line.
fn split_head(response: &[u8]) -> (&str, &[u8]) {
    let at = (response.windows(4).position(|w| w == b"\r\n\r\n"))
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(response)));
    let head = std::str::from_utf8(&response[..at]).expect("an ASCII head");
    (head, &response[at + 4..])
}

/// The one value of header `name` in `head`.
fn header<'a>(head: &'a str, name: &str) -> &'a str {
    let values: Vec<_> = (head.lines().skip(1))
        .filter_map(|line| line.split_once(':'))
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
        .collect();
    assert_eq!(values.len(), 1, "one {name} header in {head}");
    values[0]
}

/// The events of a body, decoded as a browser does.
fn decoded(body: &[u8]) -> Vec<MessageEvent> {
    let events = decode_reader(body).collect::<Result<Vec<_>, _>>();
    events.expect("the body decodes")
}

fn curl_reads_the_headers_and_the_counted_events(name: &'static str) {
    let Some(curl) = curl() else { return };
    let mut server = Server::start(name, &[FAST]);
    let url = format!("{}events?limit=3", server.url);
    let output = run(Command::new(curl).args(["-sSN", "-i", "--max-time", "15", &url]));
    assert!(output.status.success(), "curl: {output:?}");
    let (head, body) = split_head(&output.stdout);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(header(head, "content-type"), "text/event-stream");
    assert_eq!(header(head, "cache-control"), "no-store");
    assert_eq!(String::from_utf8_lossy(body), counted(0, 3));
    let ids: Vec<_> = decoded(body).iter().map(|e| e.id.to_string()).collect();
    assert_eq!(ids, ["0", "1", "2"]);
    server.wait_for_line(|l| l == "producer from 0 ended after 3 events: limit reached");
    let report = server.wait_for_line(|l| l.starts_with("stream from 0 ended: "));
    assert!(report.contains("SourceClosed, 3 events"), "{report}");
}

fn curl_resumes_after_the_last_event_id(name: &'static str) {
    let Some(curl) = curl() else { return };
    let mut server = Server::start(name, &[FAST]);
    let url = format!("{}events?limit=2", server.url);
    let args = ["-sSN", "--max-time", "15", "-H", "Last-Event-ID: 41", &url];
    let output = run(Command::new(curl).args(args));
    assert!(output.status.success(), "curl: {output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), counted(42, 2));
    server.wait_for_line(|l| l == "resumed from Last-Event-ID: 41");
}

fn curl_gets_keep_alive_pings_on_a_quiet_stream(name: &'static str) {
    let Some(curl) = curl() else { return };
    // One event, then an hour of quiet: only pings keep the connection alive.
    let quiet = [("SSE_TICK_MS", "3600000"), ("SSE_KEEP_ALIVE_MS", "100")];
    let server = Server::start(name, &quiet);
    let url = format!("{}events", server.url);
    let mut curl = Streaming::start(Command::new(curl).args(["-sSN", &url]));
    let pinged = |read: &[u8]| read.ends_with(b":\n\n:\n\n");
    curl.read_until(pinged);
    assert!(curl.read.starts_with(counted(0, 1).as_bytes()));
    let rest = &curl.read[counted(0, 1).len()..];
    assert!(rest.chunks(3).all(|ping| ping == b":\n\n"), "{rest:?}");
}

/// Runs the Python `script` with `args`; its lines of JSON.
fn python_lines(script: &str, args: &[&str]) -> Option<Vec<Value>> {
    let python = python()?;
    let output = run(Command::new(python).arg(script).args(args));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script}: {}\n{stderr}",
        output.status
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let lines = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"));
    Some(lines.collect())
}

fn httpx_sse_reads_the_events(name: &'static str) {
    let server = Server::start(name, &[FAST]);
    let url = format!("{}events?limit=3", server.url);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/python/check_httpx_sse.py"
    );
    let Some(lines) = python_lines(script, &[&url]) else {
        return;
    };
    let events: Vec<_> = lines
        .iter()
        .map(|v| (v["event"].as_str(), v["data"].as_str(), v["id"].as_str()))
        .collect();
    // httpx-sse 0.4 yields the `retry` block as an event with empty data (browsers do not).
    let expected = [
        (Some("message"), Some(""), Some("")),
        (Some("message"), Some("0"), Some("0")),
        (Some("message"), Some("1"), Some("1")),
        (Some("message"), Some("2"), Some("2")),
    ];
    assert_eq!(events, expected);
    assert_eq!(lines[0]["retry"], 1000);
}

/// Reads N events, reconnects with the last one's id, reads N more.
const RESUME: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/resume.py");

fn httpx_sse_reconnects_and_misses_nothing(name: &'static str) {
    let mut server = Server::start(name, &[("SSE_TICK_MS", "20")]);
    let url = format!("{}events", server.url);
    let Some(lines) = python_lines(RESUME, &[&url, "5"]) else {
        return;
    };
    let events: Vec<_> = lines
        .iter()
        .map(|v| {
            (
                v["connection"].as_u64().unwrap(),
                v["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<_> = (0..10u64).map(|n| (1 + n / 5, n.to_string())).collect();
    assert_eq!(events, expected, "nothing missed, nothing twice");
    assert!(lines.iter().all(|v| v["data"] == v["id"]));
    server.wait_for_line(|l| l == "resumed from Last-Event-ID: 4");
    // The first connection's producer learned that its client left (having sent a few
    // events more than the client read: those were on their way, and came again).
    let gone = |l: &str| l.starts_with("producer from 0 ended after ");
    let line = server.wait_for_line(gone);
    assert!(
        line.ends_with(" events: the stream closed its channel"),
        "{line}"
    );
}

/// The send timeout the last two tests give the servers.
const SEND_TIMEOUT: Duration = Duration::from_secs(3);

fn a_client_that_leaves_ends_its_producer_within_the_send_timeout(name: &'static str) {
    let Some(curl) = curl() else { return };
    // One event, then quiet but for pings: the producer waits, and must learn that the
    // client left from the stream, not from a send of its own.
    let settings = [
        ("SSE_TICK_MS", "3600000"),
        ("SSE_KEEP_ALIVE_MS", "200"),
        ("SSE_SEND_TIMEOUT_MS", "3000"),
    ];
    let mut server = Server::start(name, &settings);
    let url = format!("{}events", server.url);
    let mut curl = Streaming::start(Command::new(curl).args(["-sSN", &url]));
    curl.read_until(|read| read.ends_with(b"id: 0\ndata: 0\n\n"));
    curl.child.0.kill().expect("curl killed");
    let left = Instant::now();
    let ended = |l: &str| l.starts_with("producer from 0 ended after 1 events: ");
    let line = server.line_within(SEND_TIMEOUT, ended);
    let line = line.unwrap_or_else(|| panic!("the producer still runs {SEND_TIMEOUT:?} on"));
    assert!(line.ends_with("the stream closed its channel"), "{line}");
    let report = server.wait_for_line(|l| l.starts_with("stream from 0 ended: "));
    assert!(report.contains("Disconnected"), "{report}");
    eprintln!("{name}: the producer ended {:?} after curl", left.elapsed());
}

fn a_client_that_stops_reading_ends_its_producer_after_the_send_timeout(name: &'static str) {
    // Events as fast as the client reads: the socket fills at once when it stops.
    let settings = [("SSE_TICK_MS", "0"), ("SSE_SEND_TIMEOUT_MS", "3000")];
    let mut server = Server::start(name, &settings);
    let client = stalled_client(server.authority());
    let stopped = Instant::now();
    let ended = |l: &str| l.starts_with("producer from 0 ended after ");
    // The kernel's socket buffers (up to 4 MiB on Linux) take a few seconds to fill on a
    // loaded machine; then the send timeout runs.
    let margin = Duration::from_secs(10);
    let limit = SEND_TIMEOUT + margin;
    let line = server.line_within(limit, ended);
    let line = line.unwrap_or_else(|| panic!("the producer still runs {limit:?} on"));
    let took = stopped.elapsed();
    assert!(line.ends_with("the stream closed its channel"), "{line}");
    assert!(
        took >= SEND_TIMEOUT,
        "ended after {took:?}, before the send timeout"
    );
    // The client is still connected: the stream's timer ended the producer. Once the
    // client goes, the server drops the stream, whose report says why it ended.
    drop(client);
    let report = server.wait_for_line(|l| l.starts_with("stream from 0 ended: "));
    assert!(report.contains("SendTimeout"), "{report}");
    eprintln!("{name}: the producer ended {took:?} after the client stopped reading");
}

/// A client with a small receive buffer that asks for `/events`, reads the first event,
/// then reads no more.
fn stalled_client(authority: &str) -> TcpStream {
    let addr: SocketAddr = authority.parse().expect("an address");
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket
        .connect_timeout(&addr.into(), DEADLINE)
        .expect("connected");
    let mut client = TcpStream::from(socket);
    client
        .set_read_timeout(Some(DEADLINE))
        .expect("a read timeout");
    let request = format!("GET /events HTTP/1.1\r\nhost: {authority}\r\n\r\n");
    client.write_all(request.as_bytes()).expect("the request");
    let mut read = Vec::new();
    let mut buf = [0; 512];
    while !read.windows(14).any(|w| w == b"id: 0\ndata: 0\n") {
        let n = client.read(&mut buf).expect("the response");
        assert!(
            n > 0,
            "the server closed: {:?}",
            String::from_utf8_lossy(&read)
        );
        read.extend_from_slice(&buf[..n]);
    }
    client
}

fn a_setting_that_is_not_a_number_is_an_error_not_a_panic(name: &'static str) {
    let mut server = Command::new(binary(name));
    let output = run(server
        .env("SSE_ADDR", "127.0.0.1:0")
        .env("SSE_TICK_MS", "soon"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty(), "it did not listen");
    assert!(
        stderr.contains("SSE_TICK_MS=soon is not a number"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
