//! Every server example, run as a process on a free loopback port and read by a hyper
//! client: it serves what its doc says, and `shutdown` says farewell and exits on SIGTERM.

mod demo_server;
mod support;

use std::time::Duration;

use demo_server::Demo;
use futures_lite::StreamExt;
use sse_pump::{client::decode_body, MessageEvent};
use support::{guard, http::fetch, on_tokio};

/// The first `count` events of the example's `/events`, asked for after `Last-Event-ID:
/// 41`, and the still open stream.
fn first_events(example: &Demo, count: usize) -> Vec<MessageEvent> {
    first_events_after(example, "41", count)
}

/// The first `count` events of the example's `/events`, asked for after `last_id`.
fn first_events_after(example: &Demo, last_id: &str, count: usize) -> Vec<MessageEvent> {
    let addr: std::net::SocketAddr = example.authority().parse().unwrap();
    on_tokio(guard(async move {
        let request = http::Request::get("/events")
            .header("host", addr.to_string())
            .header("last-event-id", last_id)
            .body(())
            .unwrap();
        let response = fetch(addr, request).await.unwrap();
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream; charset=utf-8"
        );
        let events = decode_body(response.into_body()).take(count);
        events.try_collect().await.unwrap()
    }))
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
        let request = http::Request::get("/events")
            .header("host", addr.to_string())
            .body(())
            .unwrap();
        let response = fetch(addr, request).await.unwrap();
        let mut events = decode_body(response.into_body());
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
