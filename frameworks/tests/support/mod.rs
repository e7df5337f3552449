//! What the tests share: a server binary as a child process with its stdout lines, curl as
//! a child process read as it streams, deadlines, and the rule for external clients
//! (curl, Python): missing on a developer's machine, the test says so and passes; missing
//! on CI (`CI=true`), it fails.
#![allow(dead_code)]

use std::{
    env,
    io::{BufRead, BufReader, Read, Write},
    path::PathBuf,
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

/// How long any one step may take before the test fails instead of hanging.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A child process killed and reaped when dropped, on every path out of a test.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a pipe of a child gives, chunk by chunk, on a channel (closed at its end).
fn drain(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = [0; 16 * 1024];
        while let Ok(n @ 1..) = pipe.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

/// One of the package's server binaries (`actix`, `poem`) on a free loopback port, with
/// the lines it prints; killed when dropped.
pub struct Server {
    /// The binary's name.
    pub name: &'static str,
    /// `http://127.0.0.1:PORT/`, from the first line the server printed.
    pub url: String,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    _child: ChildGuard,
}

impl Server {
    /// Starts the binary `name` (its path from Cargo) with `SSE_ADDR=127.0.0.1:0` and
    /// `envs`, and reads the address from its first line.
    pub fn start(name: &'static str, envs: &[(&str, &str)]) -> Server {
        let child = Command::new(binary(name))
            .env("SSE_ADDR", "127.0.0.1:0")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
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
        let first = lines.recv_timeout(DEADLINE);
        let first = first.unwrap_or_else(|e| panic!("{name} printed no first line: {e}"));
        let url = first.strip_prefix("listening on ").unwrap_or_else(|| {
            panic!("{name}'s first line is {first:?}, not `listening on http://ADDR/`")
        });
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
            "{first:?}"
        );
        Server {
            name,
            url: url.to_owned(),
            lines,
            seen: vec![first.clone()],
            _child: child,
        }
    }

    /// `127.0.0.1:PORT`, for raw sockets.
    pub fn authority(&self) -> &str {
        let rest = self.url.trim_start_matches("http://");
        rest.trim_end_matches('/')
    }

    /// Waits up to `limit` for a line that satisfies `wanted`, looking at the lines
    /// already seen first; `None` if none came in time.
    pub fn line_within(
        &mut self,
        limit: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> Option<String> {
        if let Some(line) = self.seen.iter().find(|l| wanted(l)) {
            return Some(line.clone());
        }
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).ok()?;
            self.seen.push(line.clone());
            if wanted(&line) {
                return Some(line);
            }
        }
    }

    /// Waits (up to [`DEADLINE`]) for a line that satisfies `wanted`; fails the test,
    /// listing the lines seen, otherwise.
    pub fn wait_for_line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        match self.line_within(DEADLINE, wanted) {
            Some(line) => line,
            None => panic!(
                "no such line from {}; it printed {:?}",
                self.name, self.seen
            ),
        }
    }
}

/// The path of the package's binary `name`, which Cargo builds for the tests.
pub fn binary(name: &str) -> PathBuf {
    match name {
        "actix" => PathBuf::from(env!("CARGO_BIN_EXE_actix")),
        "poem" => PathBuf::from(env!("CARGO_BIN_EXE_poem")),
        _ => panic!("no binary {name}"),
    }
}

/// Whether this run is CI's, where every external client must be present.
pub fn on_ci() -> bool {
    env::var("CI").is_ok_and(|v| v == "true")
}

/// Returns `path` if it is a file. Otherwise, on CI, fails the test; locally, prints why
/// the test is skipped (to stderr, past the test harness's capture) and returns `None`.
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

/// curl, from `PATH`.
pub fn curl() -> Option<PathBuf> {
    let found = env::split_paths(&env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("curl"))
        .find(|p| p.is_file());
    require("curl", found, "apt-get install curl")
}

/// A Python with httpx and httpx-sse: `$SSE_PUMP_PYTHON`, or the repository's `.venv`.
pub fn python() -> Option<PathBuf> {
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let python = env::var_os("SSE_PUMP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(repo).join(".venv/bin/python"));
    let install = "python3 -m venv .venv && .venv/bin/pip install httpx httpx-sse";
    require("Python (for httpx-sse)", Some(python), install)
}

/// Runs `command` to its end, failing the test if it takes longer than [`DEADLINE`].
pub fn run(command: &mut Command) -> Output {
    let mut streaming = Streaming::start(command);
    let end = Instant::now() + DEADLINE;
    let mut stdout = Vec::new();
    while let Some(chunk) = streaming.next_chunk(end) {
        stdout.extend_from_slice(&chunk);
    }
    assert!(
        Instant::now() < end,
        "{command:?} still running after {DEADLINE:?}"
    );
    let status = streaming.child.0.wait().expect("the child's status");
    let mut stderr = Vec::new();
    while let Ok(chunk) = streaming.stderr.recv_timeout(DEADLINE) {
        stderr.extend_from_slice(&chunk);
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

/// A child process whose stdout is read as it comes (curl `-N` on an endless stream);
/// killed when dropped.
pub struct Streaming {
    /// The child, to kill it as a client that goes away.
    pub child: ChildGuard,
    stdout: mpsc::Receiver<Vec<u8>>,
    stderr: mpsc::Receiver<Vec<u8>>,
    /// Everything read from stdout so far.
    pub read: Vec<u8>,
}

impl Streaming {
    /// Starts `command` with its stdout and stderr piped.
    pub fn start(command: &mut Command) -> Streaming {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let stdout = drain(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        Streaming {
            child: ChildGuard(child),
            stdout,
            stderr,
            read: Vec::new(),
        }
    }

    /// The next chunk of stdout, or `None` at its end or at `end`.
    fn next_chunk(&mut self, end: Instant) -> Option<Vec<u8>> {
        let left = end.saturating_duration_since(Instant::now());
        let chunk = self.stdout.recv_timeout(left).ok()?;
        self.read.extend_from_slice(&chunk);
        Some(chunk)
    }

    /// Reads until what was read satisfies `done`; fails the test after [`DEADLINE`].
    pub fn read_until(&mut self, done: impl Fn(&[u8]) -> bool) {
        let end = Instant::now() + DEADLINE;
        while !done(&self.read) {
            if self.next_chunk(end).is_none() {
                let read = String::from_utf8_lossy(&self.read);
                panic!("the stream ended or stalled before what was awaited; read {read:?}");
            }
        }
    }
}
