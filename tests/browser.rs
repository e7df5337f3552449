//! A real browser against the `demo` example: headless Chromium, driven through
//! chromedriver's WebDriver HTTP API, opens the demo page, whose `EventSource` records
//! every event in `window.received`. The test reads that variable until the browser has
//! reconnected after the end of a stream, then checks every event and the server's log.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`); skipped without them, except on CI (`CI=true`), where it fails.

mod demo_server;

use demo_server::{
    browser::{chromium_and_driver, Browser},
    demo_rounds, describe, poll, Demo, DEADLINE,
};
use serde_json::Value;

#[test]
fn chromium_receives_the_events_and_resumes_from_last_event_id() {
    let Some((chromium, chromedriver)) = chromium_and_driver() else {
        return;
    };
    let mut demo = Demo::start();
    let browser = Browser::start(&chromedriver, &chromium);

    // `?limit=2`: the stream ends after two rounds (two seconds); the browser waits the
    // `retry: 1000` the demo sent first, then reconnects with `Last-Event-ID: 1`.
    browser.open(&format!("{}?limit=2", demo.url));
    let want = 1 + 6 + 2 + 3; // open, 2 rounds, error, open, 1 round
    let received = poll(DEADLINE, || {
        let received = browser.received();
        (received.len() >= want).then_some(received)
    })
    .unwrap_or_else(|| {
        let received = browser.received();
        panic!("after {DEADLINE:?} the page had only received {received:?}")
    });

    let seen: Vec<String> = received[..want].iter().map(entry).collect();
    let mut expected = vec!["open".to_owned()];
    expected.extend(demo_rounds(0, 2, ""));
    expected.extend(["error".to_owned(), "open".to_owned()]);
    expected.extend(demo_rounds(2, 1, "1"));
    assert_eq!(seen, expected);
    demo.wait_for_line(|l| l == "resumed from Last-Event-ID: 1");
}

/// One entry of the page's `window.received`: a message event [`describe`]d, or the type
/// of an `open` or `error` event.
fn entry(e: &Value) -> String {
    let field = |name: &str| e.get(name).and_then(Value::as_str);
    match (field("type"), field("data"), field("lastEventId")) {
        (Some(kind), Some(data), Some(id)) => describe(kind, data, id),
        (Some(kind), None, None) => kind.to_owned(),
        _ => panic!("unexpected entry {e}"),
    }
}
