//! A real browser against the `demo` example: headless Chromium, driven through
//! chromedriver's WebDriver HTTP API.
//!
//! - The plain page (`/?limit=2`, an `EventSource` on `/events`) records every event in
//!   `window.received`; the test reads it until the browser has reconnected after the end
//!   of a stream, then checks every event and the server's log.
//! - The dashboard (`/`): its chart moves, a dropped connection resumes with every id once,
//!   two tabs see each other's broadcasts and the hub's figures; then the test saves the
//!   screenshot the README shows, `docs/demo.png`.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`); skipped without them, except on CI (`CI=true`), where it fails.

mod demo_server;

use demo_server::{
    browser::{chromium_and_driver, Browser},
    demo_rounds, describe, poll, Demo, DEADLINE,
};
use serde_json::{json, Value};

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

/// The window: a laptop's (the screenshot is then as tall as the page).
const WINDOW: &[&str] = &[
    "--window-size=1280,800",
    "--force-device-scale-factor=1",
    "--hide-scrollbars",
];

#[test]
fn the_dashboard_charts_resumes_and_broadcasts() {
    let Some((chromium, chromedriver)) = chromium_and_driver() else {
        return;
    };
    let mut demo = Demo::start();
    let browser = Browser::start_with(&chromedriver, &chromium, WINDOW);
    browser.open(&demo.url);
    let first = browser.tab();
    wait_for(&browser, "the first tab's stream is open", OPEN);
    the_chart_moves(&browser);

    let held = drop_and_resume(&browser);
    demo.wait_for_line(|l| l == format!("resumed from Last-Event-ID: {held}"));

    let second = browser.new_tab();
    browser.open(&demo.url);
    wait_for(&browser, "the second tab's stream is open", OPEN);
    wait_for(
        &browser,
        "the hub counts two subscribers",
        "return document.getElementById('h-subscribers').textContent === '2'",
    );
    say(&browser, "hello from the second tab");
    browser.switch_to(&first);
    heard(&browser, "hello from the second tab", "tab-");
    say(&browser, "hello from the first tab");
    browser.switch_to(&second);
    heard(&browser, "hello from the first tab", "tab-");
    browser.switch_to(&first);
    heard(&browser, "hello from the first tab", "you");

    save_screenshot(&browser);
}

/// A script that is true once the dashboard's stream is open.
const OPEN: &str = "return document.getElementById('status').textContent === 'open'";

/// Polls `script` (truthy when done) for up to [`DEADLINE`]; fails naming `what`.
fn wait_for(browser: &Browser, what: &str, script: &str) -> Value {
    let done = poll(DEADLINE, || {
        let value = browser.execute(script, json!([]));
        let truthy = !matches!(value, Value::Null | Value::Bool(false));
        truthy.then_some(value)
    });
    done.unwrap_or_else(|| panic!("after {DEADLINE:?}, not yet: {what}"))
}

/// How many of the chart's pixels have each series' colour (p50, p90, p99), once each
/// has more than 100 (a line across the chart); `false` before.
const SERIES_PIXELS: &str = "
    const canvas = document.getElementById('chart');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const colours = [[0x38, 0xbd, 0xf8], [0xa7, 0x8b, 0xfa], [0xfb, 0xbf, 0x24]];
    const counts = [0, 0, 0];
    for (let i = 0; i < data.length; i += 4) {
        colours.forEach(([r, g, b], s) => {
            const near = Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b);
            if (data[i + 3] === 255 && near < 24) counts[s] += 1;
        });
    }
    return counts.every((n) => n > 100) && counts;";

/// The canvas shows the three series, and its pixels change as points arrive.
fn the_chart_moves(browser: &Browser) {
    let image = "return document.getElementById('chart').toDataURL()";
    wait_for(browser, "the chart draws its three series", SERIES_PIXELS);
    let before = browser.execute(image, json!([]));
    let changed = poll(DEADLINE, || {
        (browser.execute(image, json!([])) != before).then_some(())
    });
    changed.expect("the chart's pixels did not change");
}

/// Clicks "Drop the connection", waits for the browser to reconnect and read on, and
/// checks what arrived: every id once, in order, across the drop, some of them replayed;
/// the chart's points have no hole. Returns the `Last-Event-ID` the browser resumed from.
fn drop_and_resume(browser: &Browser) -> String {
    let before = browser.received().len();
    browser.click("#drop");
    wait_for(
        browser,
        "the page reconnected and read ten more points",
        &format!(
            "const after = window.received.slice({before});
             const open = after.findIndex((e) => e.type === 'open');
             return open >= 0 && after.slice(open).filter((e) => e.type === 'metric').length >= 10"
        ),
    );
    let received = browser.received();
    let kinds: Vec<&str> = received
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    let error = kinds
        .iter()
        .position(|&k| k == "error")
        .expect("an error (the drop)");
    assert_eq!(
        kinds.iter().filter(|&&k| k == "error").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|&&k| k == "open").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds[error - 1],
        "dropped",
        "the server's farewell comes last"
    );
    assert_eq!(kinds[error + 1], "open", "{kinds:?}");

    let ids = |entries: &[Value]| -> Vec<u64> {
        let published = entries
            .iter()
            .filter(|e| e["type"] != "dropped" && e.get("data").is_some());
        published
            .map(|e| {
                let id = e["lastEventId"].as_str().unwrap_or_default();
                id.parse()
                    .unwrap_or_else(|_| panic!("an event without a numeric id: {e}"))
            })
            .collect()
    };
    let all = ids(&received);
    let consecutive = all.windows(2).all(|w| w[1] == w[0] + 1);
    assert!(consecutive, "ids with a gap or a repeat: {all:?}");
    let held = *ids(&received[..error])
        .last()
        .expect("events before the drop");
    let resumed = ids(&received[error..])[0];
    assert_eq!(resumed, held + 1);

    // Published while the tab was away, delivered after it came back: replayed.
    let reopened = received[error + 1]["at"].as_u64().unwrap();
    let replayed = received[error + 1..]
        .iter()
        .filter(|e| e["type"] == "metric");
    let replayed = replayed.filter(|e| point(e)["t"].as_u64().unwrap() < reopened);
    assert!(replayed.count() > 0, "nothing was replayed after the drop");

    let ticks = browser.execute("return window.chartTicks()", json!([]));
    let ticks: Vec<u64> = serde_json::from_value(ticks).unwrap();
    assert!(
        ticks.windows(2).all(|w| w[1] == w[0] + 1),
        "a hole in the chart: {ticks:?}"
    );
    let shown = browser.execute(
        "return document.getElementById('resumed').textContent",
        json!([]),
    );
    assert_eq!(shown, held.to_string());
    let reconnects = "return document.getElementById('reconnects').textContent";
    assert_eq!(browser.execute(reconnects, json!([])), "1");
    held.to_string()
}

/// The JSON data of a `metric` entry.
fn point(entry: &Value) -> Value {
    serde_json::from_str(entry["data"].as_str().unwrap()).unwrap()
}

/// Types `text` into the broadcast box and sends it.
fn say(browser: &Browser, text: &str) {
    browser.type_into("#message", text);
    browser.click("#send");
}

/// Waits until the current tab has received `text` as a broadcast and lists it under a
/// sender that starts with `from` (`you` for its own, `tab-` for another's).
fn heard(browser: &Browser, text: &str, from: &str) {
    let script = "
        const [text, from] = arguments;
        const got = window.received.some((e) => e.type === 'broadcast' && JSON.parse(e.data).text === text);
        const shown = [...document.querySelectorAll('#messages li')].some((li) =>
            li.querySelector('.text').textContent === text
            && li.querySelector('.from').textContent.startsWith(from));
        return got && shown;";
    let heard = poll(DEADLINE, || {
        (browser.execute(script, json!([text, from])) == true).then_some(())
    });
    heard.unwrap_or_else(|| panic!("{text:?} from {from:?} never showed"));
}

/// Saves the current tab as `docs/demo.png`, the README's picture of the demo.
fn save_screenshot(browser: &Browser) {
    browser.fit_page(1280);
    wait_for(browser, "the chart redrawn at the new size", SERIES_PIXELS);
    let png = browser.screenshot();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert!(width >= 1000, "a screenshot {width} pixels wide");
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("demo.png"), png).unwrap();
}
