//! Every server example, run as a process on a free loopback port and read by a hyper
//! client: it serves what its doc says, and `shutdown` says farewell and exits on SIGTERM.

mod demo_server;
mod support;

use std::{net::SocketAddr, time::Duration};

use demo_server::Demo;
use futures_lite::StreamExt;
use sse_pump::{
    client::{decode_body, DecodeBody},
    MessageEvent,
};
use support::{guard, http::fetch, on_tokio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The first `count` events of the example's `/events`, asked for after `Last-Event-ID:
/// 41`, and the still open stream.
fn first_events(example: &Demo, count: usize) -> Vec<MessageEvent> {
    first_events_after(example, "41", count)
}

/// The first `count` events of the example's `/events`, asked for after `last_id`.
fn first_events_after(example: &Demo, last_id: &str, count: usize) -> Vec<MessageEvent> {
    first_events_of(example, "/events", Some(last_id), count)
}

/// The first `count` events of the stream at `path`, asked for after `last_id` if any.
fn first_events_of(
    example: &Demo,
    path: &str,
    last_id: Option<&str>,
    count: usize,
) -> Vec<MessageEvent> {
    let addr: std::net::SocketAddr = example.authority().parse().unwrap();
    on_tokio(guard(async move {
        let events = open_stream(addr, path, last_id).await.take(count);
        events.try_collect().await.unwrap()
    }))
}

/// Opens the event stream at `path` (after `last_id` if any) and decodes its body.
async fn open_stream(
    addr: SocketAddr,
    path: &str,
    last_id: Option<&str>,
) -> DecodeBody<hyper::body::Incoming> {
    let mut request = http::Request::get(path).header("host", addr.to_string());
    if let Some(id) = last_id {
        request = request.header("last-event-id", id);
    }
    let response = fetch(addr, request.body(()).unwrap()).await.unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    decode_body(response.into_body())
}

fn ticks(example: &str, ids: [&str; 2]) {
    let server = Demo::start_example(example, "SSE_ADDR");
    let events = first_events(&server, 2);
    let seen: Vec<_> = events
        .iter()
        .map(|e| (&*e.event, e.id.as_str(), e.data.as_str()))
        .collect();
    assert_eq!(seen, [("tick", ids[0], ids[0]), ("tick", ids[1], ids[1])]);
}

#[test]
fn tokio_raw_streams_ticks() {
    ticks("tokio_raw", ["0", "1"]);
}

#[test]
fn smol_raw_resumes_after_last_event_id() {
    ticks("smol_raw", ["42", "43"]);
}

#[test]
fn hyper_tokio_resumes_after_last_event_id() {
    ticks("hyper_tokio", ["42", "43"]);
}

#[test]
fn hyper_smol_streams_ticks() {
    ticks("hyper_smol", ["0", "1"]);
}

#[test]
fn axum_resumes_after_last_event_id() {
    ticks("axum", ["42", "43"]);
}

/// A hostile `Last-Event-ID`, the largest u64: the examples that resume after it must not
/// overflow `id + 1` (a panic in a debug build); they resume at the largest id.
#[test]
fn examples_survive_the_largest_last_event_id() {
    for example in ["smol_raw", "hyper_tokio", "axum"] {
        let server = Demo::start_example(example, "SSE_ADDR");
        let max = u64::MAX.to_string();
        let events = first_events_after(&server, &max, 1);
        assert_eq!(events[0].id, max, "{example}");
    }
}

/// Three producers feed one stream: their events arrive whole, each in its own order.
#[test]
fn memory_channel_merges_producers() {
    let server = Demo::start_example("memory_channel", "SSE_ADDR");
    // By 1.5 s: 3 welcomes (every 300 ms), 2 clocks (every second, the first at once) and
    // a heartbeat, interleaved in an order that depends on timing.
    let events = first_events(&server, 6);
    let of = |name: &str| -> Vec<String> {
        let events = events.iter().filter(|e| e.event == name);
        events.map(|e| e.data.to_string()).collect()
    };
    let welcomes = of("welcome");
    assert_eq!(
        welcomes,
        ["welcome #0", "welcome #1", "welcome #2"][..welcomes.len()]
    );
    let clocks = of("clock");
    assert_eq!(clocks, ["clock #0", "clock #1"][..clocks.len()]);
    let heartbeats = of("heartbeat");
    assert_eq!(
        heartbeats,
        ["heartbeat #0", "heartbeat #1"][..heartbeats.len()]
    );
    assert!(
        welcomes.len() >= 2 && !clocks.is_empty() && !heartbeats.is_empty(),
        "{events:?}"
    );
}

/// SIGTERM: the open stream gets the farewell and ends, and the process exits by itself
/// within its grace period.
#[cfg(unix)]
#[test]
fn shutdown_says_farewell_and_exits() {
    let mut server = Demo::start_example("shutdown", "SSE_ADDR");
    let addr: std::net::SocketAddr = server.authority().parse().unwrap();
    let pid = server.pid().to_string();
    let events: Vec<MessageEvent> = on_tokio(guard(async move {
        let mut events = open_stream(addr, "/events", None).await;
        let first = events.next().await.unwrap().unwrap();
        let kill = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(kill.success());
        let mut seen = vec![first];
        while let Some(event) = events.next().await {
            seen.push(event.unwrap());
        }
        seen
    }));
    assert_eq!(events[0].event, "tick");
    let last = events.last().unwrap();
    assert_eq!(
        (&*last.event, last.data.as_str()),
        ("bye", "server shutting down")
    );
    let status = server
        .wait_exit(Duration::from_secs(5))
        .expect("exits within its grace period");
    assert!(status.success());
    server.wait_for_line(|l| l == "every connection closed; bye");
}

/// The demo's dashboard stream, `/live`: a new client `backlog` events back gets the hub's
/// ids in order; one that comes back with `Last-Event-ID` gets every event published since,
/// once each and in order, a message posted meanwhile included.
#[test]
fn demo_live_resumes_after_last_event_id_with_the_broadcasts() {
    let demo = Demo::start();
    let first = first_events_of(&demo, "/live?backlog=5", None, 5);
    let first = ids(&first);
    assert!(first.windows(2).all(|w| w[1] == w[0] + 1), "{first:?}");
    let last = first[4];

    let answer = exchange(&demo, post("/broadcast?tab=t-1", "hello, hub"));
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    let published: u64 = answer.split("\r\n\r\n").nth(1).unwrap().parse().unwrap();
    assert!(published > last);

    let count = (published - last) as usize;
    let resumed = first_events_of(&demo, "/live", Some(&last.to_string()), count);
    let expected: Vec<u64> = (last + 1..=published).collect();
    assert_eq!(ids(&resumed), expected);
    let message = resumed.last().unwrap();
    assert_eq!(message.event, "broadcast");
    let data: serde_json::Value = serde_json::from_str(&message.data).unwrap();
    assert_eq!(
        data,
        serde_json::json!({ "from": "t-1", "text": "hello, hub" })
    );
    for metric in resumed.iter().filter(|e| e.event == "metric") {
        let point: serde_json::Value = serde_json::from_str(&metric.data).unwrap();
        assert!(["k", "t", "p50", "p90", "p99"]
            .iter()
            .all(|k| point[k].is_number()));
    }
}

/// `POST /drop?tab=NAME` ends that tab's stream, after the `dropped` farewell, and no other.
#[test]
fn demo_drop_ends_that_tabs_stream_with_a_farewell() {
    let demo = Demo::start();
    let addr: SocketAddr = demo.authority().parse().unwrap();
    let (dropped, events) = on_tokio(guard(async move {
        let mut events = open_stream(addr, "/live?tab=mine", None).await;
        let first = events.next().await.unwrap().unwrap(); // the stream is open
        let other = exchange_async(addr, post("/drop?tab=theirs", "")).await;
        assert!(other.ends_with("\r\n\r\n0"), "{other}");
        let dropped = exchange_async(addr, post("/drop?tab=mine", "")).await;
        let mut seen = vec![first];
        while let Some(event) = events.next().await {
            seen.push(event.unwrap());
        }
        (dropped, seen)
    }));
    assert!(dropped.ends_with("\r\n\r\n1"), "{dropped}");
    let last = events.last().unwrap();
    assert_eq!(
        (&*last.event, &*last.data),
        ("dropped", "the server ended this stream")
    );
}

/// Bad requests to the demo's POST routes get a status, never a hang or a panic.
#[test]
fn demo_answers_bad_posts_with_a_status() {
    let demo = Demo::start();
    let before = ids(&first_events_of(&demo, "/live?backlog=1", None, 1))[0];
    let too_long = format!(
        "POST /broadcast?tab=t HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        1025
    );
    let cases = [
        (post("/broadcast?tab=t", ""), "400 Bad Request"),
        (post("/broadcast?tab=t", " \n "), "400 Bad Request"),
        (post("/broadcast?tab=<b>", "hi"), "400 Bad Request"),
        (too_long.into_bytes(), "413 Content Too Large"),
        (
            b"POST /broadcast HTTP/1.1\r\n\r\n".to_vec(),
            "411 Length Required",
        ),
        (
            b"POST /broadcast HTTP/1.1\r\nContent-Length: 2\r\n\r\n\xff\xfe".to_vec(),
            "400 Bad Request",
        ),
        (
            b"GET /broadcast HTTP/1.1\r\n\r\n".to_vec(),
            "405 Method Not Allowed",
        ),
        (post("/drop", ""), "400 Bad Request"),
        (post("/nowhere", ""), "404 Not Found"),
    ];
    for (request, status) in cases {
        let answer = exchange(&demo, request.clone());
        let want = format!("HTTP/1.1 {status}\r\n");
        assert!(
            answer.starts_with(&want),
            "{:?}: {answer}",
            String::from_utf8_lossy(&request)
        );
    }
    // None of them was published: from `before` to a good message, it is the only one.
    let answer = exchange(&demo, post("/broadcast?tab=t", "good"));
    let good: u64 = answer.split("\r\n\r\n").nth(1).unwrap().parse().unwrap();
    let since = (good - before) as usize;
    let since = first_events_of(&demo, "/live", Some(&before.to_string()), since);
    let broadcasts: Vec<_> = since.iter().filter(|e| e.event == "broadcast").collect();
    assert_eq!(broadcasts.len(), 1, "{broadcasts:?}");
    assert_eq!(broadcasts[0].id, good.to_string());
}

/// The ids of `events`, as numbers.
fn ids(events: &[MessageEvent]) -> Vec<u64> {
    events.iter().map(|e| e.id.parse().unwrap()).collect()
}

/// A POST request to `target` with `body`, as bytes.
fn post(target: &str, body: &str) -> Vec<u8> {
    let head = format!(
        "POST {target} HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body.as_bytes()].concat()
}

/// Sends `request` on a new connection to the example and reads the answer to its end.
fn exchange(example: &Demo, request: Vec<u8>) -> String {
    let addr: SocketAddr = example.authority().parse().unwrap();
    on_tokio(guard(exchange_async(addr, request)))
}

async fn exchange_async(addr: SocketAddr, request: Vec<u8>) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}
