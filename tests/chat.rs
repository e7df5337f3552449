//! The `chat` example as a process: two headless Chromium pages chat through it (what one
//! posts, both receive, as text), and a refreshed page gets exactly what it missed, by the
//! `?last_event_id=` its `sessionStorage` kept. Plus the HTTP rules of `/messages` and
//! `/events`, over a raw socket.
//!
//! The browser test needs `chromium` and `chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`); it is skipped without them, except on CI (`CI=true`), where it fails.

mod demo_server;

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Instant,
};

use demo_server::{
    browser::{chromium_and_driver, Browser},
    poll, split_head, Demo, DEADLINE,
};
use serde_json::{json, Value};

/// Types `text` in the page's box and presses Send, as a user does.
const TYPE_AND_SEND: &str = "
    document.getElementById('text').value = arguments[0];
    document.getElementById('form').requestSubmit();";

/// Posts `text` with the page's `fetch`; the script's value is the server's answer.
const POST: &str = "
    return fetch('/messages', { method: 'POST', body: arguments[0] })
        .then(async (r) => `${r.status} ${await r.text()}`);";

#[test]
fn two_pages_chat_and_a_refresh_replays_what_it_missed() {
    let Some((chromium, chromedriver)) = chromium_and_driver() else {
        return;
    };
    let chat = Demo::start_example_with("chat", "SSE_ADDR", &[("CHAT_FIRST_ID", "1")]);
    let (a, b) = (
        Browser::start(&chromedriver, &chromium),
        Browser::start(&chromedriver, &chromium),
    );
    a.open(&chat.url);
    b.open(&chat.url);
    wait_for(&a, &["open"]);
    wait_for(&b, &["open"]);

    // Typed in A: both pages get it, as text (the markup stays text).
    let html = "<b>bold?</b> & 'quotes'";
    a.execute(TYPE_AND_SEND, json!([html]));
    let one = format!("message id=\"1\" {html}");
    wait_for(&a, &["open", &one]);
    wait_for(&b, &["open", &one]);
    // Posted with a line break, which becomes two `data:` lines and one again in the page.
    assert_eq!(a.execute(POST, json!(["two\nlines"])), "200 2");
    let two = "message id=\"2\" two\nlines";
    wait_for(&a, &["open", &one, two]);
    wait_for(&b, &["open", &one, two]);
    let shown = "return [...document.querySelectorAll('#messages li')].map((li) => li.textContent)";
    assert_eq!(b.execute(shown, json!([])), json!([html, "two\nlines"]));
    let bold = "return document.querySelectorAll('#messages b').length";
    assert_eq!(b.execute(bold, json!([])), 0);

    // B stops listening; A posts two messages; B refreshes: it gets those two only, then
    // the live ones, and still shows the first two from its sessionStorage.
    b.execute("window.source.close()", json!([]));
    assert_eq!(a.execute(POST, json!(["three"])), "200 3");
    assert_eq!(a.execute(POST, json!(["four"])), "200 4");
    b.call("POST", "refresh", json!({}));
    let (three, four) = ("message id=\"3\" three", "message id=\"4\" four");
    wait_for(&b, &["open", three, four]);
    assert_eq!(a.execute(POST, json!(["five"])), "200 5");
    let five = "message id=\"5\" five";
    wait_for(&b, &["open", three, four, five]);
    wait_for(&a, &["open", &one, two, three, four, five]);
    assert_eq!(
        b.execute(shown, json!([])),
        json!([html, "two\nlines", "three", "four", "five"])
    );
    let resumed = b.execute("return window.source.url", json!([]));
    let resumed = resumed.as_str().unwrap_or_default();
    assert!(resumed.ends_with("/events?last_event_id=2"), "{resumed}");
}

/// Waits until the page's `window.received`, [`entry`] by entry, is exactly `expected`;
/// fails with what it holds if it is not by [`DEADLINE`] or if it gets more.
fn wait_for(page: &Browser, expected: &[&str]) {
    let seen = || page.received().iter().map(entry).collect::<Vec<_>>();
    let done = poll(DEADLINE, || {
        let seen = seen();
        (seen.len() >= expected.len()).then_some(seen)
    });
    let seen = done.unwrap_or_else(|| panic!("after {DEADLINE:?} the page had {:?}", seen()));
    assert_eq!(seen, expected);
}

/// One entry of the page's `window.received`: `TYPE id="ID" DATA` for a message, or the
/// type of an `open` or `error` event.
fn entry(e: &Value) -> String {
    let field = |name: &str| e.get(name).and_then(Value::as_str);
    match (field("type"), field("data"), field("lastEventId")) {
        (Some(kind), Some(data), Some(id)) => format!("{kind} id={id:?} {data}"),
        (Some(kind), None, None) => kind.to_owned(),
        _ => panic!("unexpected entry {e}"),
    }
}

/// `/messages` takes 1 byte to 4 KiB of UTF-8 text, and answers with the id;
/// `/events` prefers the `Last-Event-ID` header to the query parameter.
#[test]
fn messages_are_bounded_and_events_resume_by_header_or_query() {
    let chat = Demo::start_example_with("chat", "SSE_ADDR", &[("CHAT_FIRST_ID", "1")]);
    let post = |body: &[u8]| {
        let head = format!(
            "POST /messages HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let response = exchange(chat.authority(), &[head.as_bytes(), body].concat());
        let (head, body) = split_head(&response);
        let status = String::from_utf8_lossy(&head[9..12]).into_owned();
        (status, String::from_utf8_lossy(body).into_owned())
    };
    assert_eq!(post(b"first"), ("200".into(), "1".into()));
    assert_eq!(post(&[b'a'; 4096]).0, "200");
    let (status, text) = post(&[b'a'; 4097]);
    assert_eq!(
        (status.as_str(), text.as_str()),
        ("413", "a message is at most 4096 bytes")
    );
    assert_eq!(post(b"").0, "400");
    assert_eq!(post(b" \n ").0, "400");
    assert_eq!(post(b"\xff\xfe").0, "400");
    assert_eq!(post(b"third\r\nline").0, "200"); // id 3

    // The header wins over the query; the query works alone. Each stream replays what
    // follows its id, in order, and stays open: read until the last event arrives.
    let last = "id: 3\ndata: third\ndata: line\n\n";
    let header = stream(&chat, "/events?last_event_id=1", Some("2"), last);
    assert_eq!(header, format!("retry: 1000\n\n{last}"));
    let query = stream(&chat, "/events?last_event_id=2", None, last);
    assert_eq!(query, format!("retry: 1000\n\n{last}"));
    let fresh = stream(&chat, "/events?last_event_id=", None, "retry: 1000\n\n");
    assert_eq!(fresh, "retry: 1000\n\n");
}

/// Sends `request` on a new connection and reads the response to its end.
fn exchange(authority: &str, request: &[u8]) -> Vec<u8> {
    let mut socket = TcpStream::connect(authority).unwrap();
    socket.set_read_timeout(Some(DEADLINE)).unwrap();
    socket.write_all(request).unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).unwrap();
    response
}

/// The body of `GET path` (chunked: the chunk framing removed) up to and including `until`.
fn stream(chat: &Demo, path: &str, last_event_id: Option<&str>, until: &str) -> String {
    let mut socket = TcpStream::connect(chat.authority()).unwrap();
    let header = last_event_id.map_or(String::new(), |id| format!("last-event-id: {id}\r\n"));
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n{header}\r\n");
    socket.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let end = Instant::now() + DEADLINE; // a read timeout alone: pings would defeat it
    loop {
        let left = end.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no {until:?} by {DEADLINE:?}: {:?}",
            String::from_utf8_lossy(&raw)
        );
        socket.set_read_timeout(Some(left)).unwrap();
        let mut buf = [0; 4096];
        let n = socket
            .read(&mut buf)
            .expect("the stream within the deadline");
        assert!(
            n > 0,
            "the stream ended: {:?}",
            String::from_utf8_lossy(&raw)
        );
        raw.extend_from_slice(&buf[..n]);
        let (head, body) = match raw.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(at) => (&raw[..at + 4], &raw[at + 4..]),
            None => continue,
        };
        assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"), "{head:?}");
        let body = dechunk(body);
        if body.ends_with(until) {
            return body;
        }
    }
}

/// The data of the complete chunks of a chunked body.
fn dechunk(mut body: &[u8]) -> String {
    let mut data = Vec::new();
    while let Some(at) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..at]).unwrap();
        let size = usize::from_str_radix(size, 16).unwrap();
        let Some(chunk) = body.get(at + 2..at + 2 + size) else {
            break;
        };
        data.extend_from_slice(chunk);
        body = &body[(at + 4 + size).min(body.len())..];
    }
    String::from_utf8(data).unwrap()
}
