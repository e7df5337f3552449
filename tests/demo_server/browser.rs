//! A headless Chromium driven through chromedriver's WebDriver HTTP API, for the tests
//! that open a page of an example (`tests/browser.rs`, `tests/chat.rs`).
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`): [`chromium_and_driver`] skips without them, except on CI.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use serde_json::{json, Value};

use super::{poll, require, which, ChildGuard, DEADLINE};

/// The paths of `chromium` and `chromedriver`; `None` (the test is skipped) when one is
/// missing on a developer's machine, a failure on CI. See [`require`].
pub fn chromium_and_driver() -> Option<(PathBuf, PathBuf)> {
    let install = "apt-get install chromium chromium-driver";
    let chromium = require("chromium", which("chromium"), install)?;
    let chromedriver = require("chromedriver", which("chromedriver"), install)?;
    Some((chromium, chromedriver))
}

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

/// The key of an element reference in WebDriver's answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one browser session in it, with a fresh profile directory.
/// Dropping it ends the session (closing Chromium), stops chromedriver and removes the
/// profile.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Client<HttpConnector, Full<Bytes>>,
    session: String,
    profile: PathBuf,
    driver: ChildGuard,
}

impl Browser {
    /// Starts chromedriver on a free port and a Chromium session in it.
    pub fn start(chromedriver: &Path, chromium: &Path) -> Browser {
        Browser::start_with(chromedriver, chromium, &[])
    }

    /// [`Browser::start`] with more Chromium flags (`--ignore-certificate-errors` for a
    /// self-signed certificate).
    pub fn start_with(chromedriver: &Path, chromium: &Path, flags: &[&str]) -> Browser {
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
        args.extend(flags.iter().map(|&f| f.to_owned()));
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

    /// Opens `url` in the session's window and waits for the page to load.
    pub fn open(&self, url: &str) {
        self.call("POST", "url", json!({ "url": url }));
    }

    /// Runs `script` (a function body: `return ...` gives its value) in the page.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "execute/sync",
            json!({ "script": script, "args": args }),
        )
    }

    /// The page's `window.received`.
    pub fn received(&self) -> Vec<Value> {
        match self.execute("return window.received || []", json!([])) {
            Value::Array(entries) => entries,
            other => panic!("window.received is {other}"),
        }
    }

    /// The element that matches the CSS `selector`: its WebDriver reference.
    pub fn find(&self, selector: &str) -> String {
        let found = self.call(
            "POST",
            "element",
            json!({ "using": "css selector", "value": selector }),
        );
        let reference = found[ELEMENT].as_str();
        reference
            .unwrap_or_else(|| panic!("{selector}: {found}"))
            .to_owned()
    }

    /// Clicks the element that matches `selector`, as a user would.
    pub fn click(&self, selector: &str) {
        let element = self.find(selector);
        self.call("POST", &format!("element/{element}/click"), json!({}));
    }

    /// Types `text` into the element that matches `selector`, key by key.
    pub fn type_into(&self, selector: &str, text: &str) {
        let element = self.find(selector);
        let command = format!("element/{element}/value");
        self.call("POST", &command, json!({ "text": text }));
    }

    /// The handle of the current tab.
    pub fn tab(&self) -> String {
        let handle = self.request("GET", format!("{}/window", self.session), None);
        handle.as_str().expect("a window handle").to_owned()
    }

    /// Opens a new tab and makes it the current one; returns its handle.
    pub fn new_tab(&self) -> String {
        let created = self.call("POST", "window/new", json!({ "type": "tab" }));
        let handle = created["handle"].as_str().expect("a new tab's handle");
        self.switch_to(handle);
        handle.to_owned()
    }

    /// Makes the tab `handle` the current one.
    pub fn switch_to(&self, handle: &str) {
        self.call("POST", "window", json!({ "handle": handle }));
    }

    /// Resizes the window so that the viewport shows the whole page, `width` pixels wide.
    pub fn fit_page(&self, width: u32) {
        let sizes = "return [document.documentElement.scrollHeight, outerHeight - innerHeight]";
        let sizes = self.execute(sizes, json!([]));
        let height = sizes[0].as_u64().unwrap() + sizes[1].as_u64().unwrap();
        let rect = json!({ "width": width, "height": height });
        self.call("POST", "window/rect", rect);
    }

    /// A PNG of the current tab's viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let encoded = self.request("GET", format!("{}/screenshot", self.session), None);
        let encoded = encoded.as_str().expect("a base64 screenshot");
        let png = base64::engine::general_purpose::STANDARD.decode(encoded);
        png.expect("a screenshot in base64")
    }

    /// A WebDriver command on the session (`url`, `execute/sync`, ...): its `value`.
    pub fn call(&self, method: &str, command: &str, body: Value) -> Value {
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
