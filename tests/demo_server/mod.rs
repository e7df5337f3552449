//! What the real-client tests share: the `demo` example as a child process, child guards
//! and deadlines, and the rule for external clients (a browser, curl, Python): missing on
//! a developer's machine, the test says so and passes; missing on CI (`CI=true`), it fails.
#![allow(dead_code)]

pub mod browser;
#[cfg(feature = "redis")]
pub mod redis;

use std::{
    env,
    io::{BufRead, BufReader, Read, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{mpsc, Mutex},
    thread,
    time::{Duration, Instant},
};

/// How long any one step may take before the test fails instead of hanging.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Whether this run is CI's, where every external client must be present.
pub fn on_ci() -> bool {
    env::var("CI").is_ok_and(|v| v == "true")
}

/// Returns `path` if it is an executable file. Otherwise, on CI, fails the test; locally,
/// prints why the test is skipped (straight to stderr, past the test harness's capture)
/// and returns `None`.
pub fn require(what: &str, path: Option<PathBuf>, install: &str) -> Option<PathBuf> {
    if let Some(path) = path.filter(|p| p.is_file()) {
        return Some(path);
    }
    assert!(
        !on_ci(),
        "CI=true but {what} is missing: {install} (.ci/run does it)"
    );
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {what} not found; install it to run this test: {install}"
    );
    None
}

/// Finds a program on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A child process killed and reaped when the guard drops, on every path out of a test.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `command` to its end with stdout and stderr captured; kills it and fails the test
/// if it is still running after `limit`.
pub fn run_with_deadline(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let mut child = ChildGuard(child);
    let status = poll(limit, || child.0.try_wait().unwrap())
        .unwrap_or_else(|| panic!("{command:?} still running after {limit:?}"));
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Calls `check` every 50 ms until it gives `Some`, or gives `None` after `limit`.
pub fn poll<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= end {
            return None;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The `demo` example, running on a free loopback port; killed when dropped.
pub struct Demo {
    /// `http://127.0.0.1:PORT/` (`https://` for the `https` example), from the demo's
    /// `listening on` line.
    pub url: String,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    _child: ChildGuard,
}

impl Demo {
    /// Starts the demo binary with `SSE_DEMO_ADDR=127.0.0.1:0` and waits for the address
    /// it prints.
    pub fn start() -> Demo {
        Demo::start_example("demo", "SSE_DEMO_ADDR")
    }

    /// Starts the example `name` with `addr_env=127.0.0.1:0` and waits for the
    /// `listening on http://…` (or `https://…`) line it prints.
    pub fn start_example(name: &str, addr_env: &str) -> Demo {
        Demo::start_example_with(name, addr_env, &[])
    }

    /// [`Demo::start_example`] with more environment variables.
    pub fn start_example_with(name: &str, addr_env: &str, envs: &[(&str, &str)]) -> Demo {
        let child = Command::new(example_binary(name))
            .env(addr_env, "127.0.0.1:0")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cannot start the demo");
        let mut child = ChildGuard(child);
        let stdout = BufReader::new(child.0.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut demo = Demo {
            url: String::new(),
            lines,
            seen: Vec::new(),
            _child: child,
        };
        let line = demo.wait_for_line(|l| {
            l.starts_with("listening on http://") || l.starts_with("listening on https://")
        });
        demo.url = line["listening on ".len()..].to_owned();
        demo
    }

    /// `host:port`, for raw sockets.
    pub fn authority(&self) -> &str {
        let rest = self
            .url
            .split_once("://")
            .map_or(&*self.url, |(_, rest)| rest);
        rest.split('/').next().unwrap_or(rest)
    }

    /// The process id, to send it signals.
    pub fn pid(&self) -> u32 {
        self._child.0.id()
    }

    /// Waits up to `limit` for the process to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let child = &mut self._child.0;
        poll(limit, || child.try_wait().ok().flatten())
    }

    /// The lines seen so far that satisfy `wanted`, after taking in those printed since.
    pub fn lines_now(&mut self, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        self.seen.iter().filter(|l| wanted(l)).cloned().collect()
    }

    /// Waits (up to [`DEADLINE`]) for a line on the demo's stdout that satisfies `wanted`,
    /// looking at the lines already seen first; fails the test, listing them, otherwise.
    pub fn wait_for_line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        if let Some(line) = self.seen.iter().find(|l| wanted(l)) {
            return line.clone();
        }
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "no such line from the demo ({e}); it printed {:?}",
                    self.seen
                ),
            }
        }
    }
}

/// The binary of example `name`, `target/<profile>/examples/<name>`, built once per test
/// binary.
///
/// `cargo test` builds examples too, but `cargo test --test browser` does not, and a
/// binary left from an older build may be stale. So this runs `cargo build --example NAME
/// --all-features` with this test's profile: a no-op when `cargo test --all-features` (the
/// README's second run, the only one that runs these tests) has just built it.
pub fn example_binary(name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let exe = env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> -> target/<profile>
    let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", env::consts::EXE_SUFFIX));
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == name) {
        let mut cargo = cargo();
        cargo.args(["build", "--example", name, "--all-features"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        let output = run_with_deadline(&mut cargo, Duration::from_secs(600));
        assert!(
            output.status.success(),
            "cargo build --example {name} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        built.push(name.to_owned());
    }
    assert!(binary.is_file(), "no {name} binary at {}", binary.display());
    binary
}

/// Splits an HTTP response into its head (up to the blank line) and body.
pub fn split_head(response: &[u8]) -> (&[u8], &[u8]) {
    let at = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(response)));
    (&response[..at + 4], &response[at + 4..])
}

/// One demo event in a form tests compare: `TYPE id="ID" DATA`, where a clock's data
/// becomes `<now>` once checked to be the current Unix time in seconds, and a stats event's
/// becomes `count=N even=B` once checked to be that JSON object with a `unix_ms` number.
pub fn describe(kind: &str, data: &str, id: &str) -> String {
    let data = match kind {
        "clock" => {
            let secs: u64 = data
                .parse()
                .unwrap_or_else(|_| panic!("clock data {data:?}"));
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            assert!(secs.abs_diff(now) < 120, "clock {secs} is not now ({now})");
            "<now>".to_owned()
        }
        "stats" => {
            let value: serde_json::Value = serde_json::from_str(data).expect("stats JSON");
            let object = value.as_object().expect("stats is an object");
            assert_eq!(object.len(), 3, "stats keys: {data}");
            assert!(object["unix_ms"].is_u64(), "stats unix_ms: {data}");
            format!("count={} even={}", object["count"], object["even"])
        }
        _ => data.to_owned(),
    };
    format!("{kind} id={id:?} {data}")
}

/// What the demo sends in `rounds` rounds from counter `from`, each event [`describe`]d;
/// `id_before` is the last event ID before the first round (the clock, which has no `id:`,
/// carries the previous one).
pub fn demo_rounds(from: u64, rounds: u64, id_before: &str) -> Vec<String> {
    let mut id = id_before.to_owned();
    let mut events = Vec::new();
    for n in from..from + rounds {
        events.push(format!("clock id={id:?} <now>"));
        id = n.to_string();
        events.push(format!("message id={id:?} {n}"));
        events.push(format!("stats id={id:?} count={n} even={}", n % 2 == 0));
    }
    events
}

/// `cargo`, as a developer would run it in this crate's directory.
fn cargo() -> Command {
    let mut cargo = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // `cargo test` hands its test binaries the variables it sets for a crate
    // (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, ...). A build script that watches one of
    // them (ring's does) would see it change and rebuild the whole tree, twice: now,
    // and again in the next plain `cargo` run.
    // The user's own settings (`CARGO_HOME`, `CARGO_INCREMENTAL`, ...) stay.
    const SET_FOR_A_CRATE: [&str; 7] = [
        "CARGO_MANIFEST_",
        "CARGO_PKG_",
        "CARGO_CRATE_",
        "CARGO_BIN_",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
    ];
    for (name, _) in env::vars_os() {
        let name = name.to_string_lossy();
        if SET_FOR_A_CRATE.iter().any(|set| name.starts_with(set)) {
            cargo.env_remove(&*name);
        }
    }
    cargo.current_dir(env!("CARGO_MANIFEST_DIR"));
    cargo
}
