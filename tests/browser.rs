//! A real browser against the `demo` example: headless Chromium, driven through
//! chromedriver's WebDriver HTTP API, opens the demo page, whose `EventSource` records
//! every event in `window.received`. The test reads that variable until the browser has
//! reconnected after the end of a stream, then checks every event and the server's log.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`); skipped without them, except on CI (`CI=true`), where it fails.

mod demo_server;

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use bytes::Bytes;
use demo_server::{demo_rounds, describe, poll, require, which, ChildGuard, Demo, DEADLINE};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use serde_json::{json, Value};

/// Without these Chromium waits on the network, which this machine does not have.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

#[test]
fn chromium_receives_the_events_and_resumes_from_last_event_id() {
    let install = "apt-get install chromium chromium-driver";
    let Some(chromium) = require("chromium", which("chromium"), install) else {
        return;
    };
    let Some(chromedriver) = require("chromedriver", which("chromedriver"), install) else {
        return;
    };
    let mut demo = Demo::start();
    let browser = Browser::start(&chromedriver, &chromium);

    // `?limit=2`: the stream ends after two rounds (two seconds); the browser waits the
    // `retry: 1000` the demo sent first, then reconnects with `Last-Event-ID: 1`.
    browser.call(
        "POST",
        "url",
        json!({ "url": format!("{}?limit=2", demo.url) }),
    );
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

/// A chromedriver process and one browser session in it, with a fresh profile directory.
/// Dropping it ends the session (closing Chromium), stops chromedriver and removes the
/// profile.
struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Client<HttpConnector, Full<Bytes>>,
    session: String,
    profile: PathBuf,
    driver: ChildGuard,
}

impl Browser {
    fn start(chromedriver: &Path, chromium: &Path) -> Browser {
        let driver = Command::new(chromedriver)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cannot start chromedriver");
        let mut driver = ChildGuard(driver);
        let port = driver_port(driver.0.stdout.take().unwrap());
        let profile =
            std::env::temp_dir().join(format!("sse-pump-chromium-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("a profile directory");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|&f| f.to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut browser = Browser {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            session: format!("http://127.0.0.1:{port}/session"),
            profile,
            driver,
        };
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "goog:chromeOptions": { "binary": chromium, "args": args }
        }}});
        let created = browser.request("POST", browser.session.clone(), Some(capabilities));
        let id = created["sessionId"].as_str().expect("a session id");
        browser.session = format!("{}/{id}", browser.session);
        browser
    }

    /// The page's `window.received`.
    fn received(&self) -> Vec<Value> {
        let script = json!({ "script": "return window.received || []", "args": [] });
        match self.call("POST", "execute/sync", script) {
            Value::Array(entries) => entries,
            other => panic!("window.received is {other}"),
        }
    }

    /// A WebDriver command on the session (`url`, `execute/sync`, ...): its `value`.
    fn call(&self, method: &str, command: &str, body: Value) -> Value {
        self.request(method, format!("{}/{command}", self.session), Some(body))
    }

    fn request(&self, method: &str, url: String, body: Option<Value>) -> Value {
        self.try_request(method, &url, body)
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
    }

    fn try_request(&self, method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
        let request = hyper::Request::builder()
            .method(method)
            .uri(url)
            .header("content-type", "application/json")
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        let call = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((status, body.to_bytes()))
        };
        let (status, bytes) = self
            .runtime
            .block_on(async { tokio::time::timeout(DEADLINE, call).await })
            .map_err(|_| format!("no answer in {DEADLINE:?}"))??;
        let reply: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status} {reply}"));
        }
        Ok(reply["value"].clone())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closes Chromium (ignoring a failure: the driver may be gone), stops the driver,
        // then removes the profile, retrying while Chromium's last writes land.
        let _ = self.try_request("DELETE", &self.session, None);
        let _ = self.driver.0.kill();
        let _ = self.driver.0.wait();
        let _ = poll(Duration::from_secs(5), || {
            std::fs::remove_dir_all(&self.profile).ok()
        });
    }
}

/// Reads chromedriver's stdout up to "ChromeDriver was started successfully on port N."
fn driver_port(stdout: std::process::ChildStdout) -> u16 {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let port = line
                .split_once("started successfully on port ")
                .and_then(|(_, rest)| rest.trim_end_matches('.').parse::<u16>().ok());
            if let Some(port) = port {
                let _ = tx.send(port);
            }
        }
    });
    rx.recv_timeout(DEADLINE)
        .expect("chromedriver did not say which port it listens on")
}
