//! What the `sse` tests share: the binary run under a deadline, and a raw-socket server on
//! 127.0.0.1 whose bytes each test writes by hand.
#![allow(dead_code)]

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

/// How long any one step may take before the test fails instead of hanging.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The `sse` binary with `args`.
pub fn sse(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sse"));
    command
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    command
}

/// A child process killed and reaped when the guard drops, on every path out of a test.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `command` to its end with its output captured; kills it and fails the test if it
/// is still running after `limit`.
pub fn run(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start sse");
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
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < end,
            "{command:?} still running after {limit:?}"
        );
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Standard output and error as text.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Each line of `out` as JSON; fails the test on a line that is not.
pub fn json_lines(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// A request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Which connection, from 0.
    pub n: usize,
    pub method: String,
    pub path: String,
    /// Names in lower case; a repeated name keeps its values in order.
    pub headers: HashMap<String, Vec<String>>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Request {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

/// A server on 127.0.0.1 that reads each request and hands the socket to `answer`, one
/// thread per connection; the requests are sent on a channel as they come.
pub struct Server {
    pub addr: SocketAddr,
    requests: mpsc::Receiver<Request>,
}

impl Server {
    pub fn start<F>(answer: F) -> Server
    where
        F: Fn(&Request, &mut TcpStream) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, requests) = mpsc::channel();
        let answer = std::sync::Arc::new(answer);
        thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                let (tx, answer) = (tx.clone(), answer.clone());
                thread::spawn(move || {
                    let Some(request) = read_request(n, &mut stream) else {
                        return;
                    };
                    let _ = tx.send(request.clone());
                    answer(&request, &mut stream);
                });
            }
        });
        Server { addr, requests }
    }

    /// `http://127.0.0.1:PORT` and `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The next request, waiting up to [`DEADLINE`].
    pub fn request(&self) -> Request {
        self.requests
            .recv_timeout(DEADLINE)
            .expect("no request came")
    }

    /// The requests received so far.
    pub fn requests_now(&self) -> Vec<Request> {
        self.requests.try_iter().collect()
    }
}

/// Reads a request head and its `Content-Length` body.
fn read_request(n: usize, stream: &mut TcpStream) -> Option<Request> {
    stream.set_read_timeout(Some(DEADLINE)).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers: HashMap<String, Vec<String>> = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        let entry = headers.entry(name.trim().to_ascii_lowercase()).or_default();
        entry.push(value.trim().to_owned());
    }
    let length = headers
        .get("content-length")
        .and_then(|v| v[0].parse().ok());
    let mut body = vec![0; length.unwrap_or(0)];
    reader.read_exact(&mut body).ok()?;
    let at = Instant::now();
    Some(Request {
        n,
        method,
        path,
        headers,
        body,
        at,
    })
}

/// The head of a 200 event stream (no length: the body runs until the socket closes).
pub const STREAM_HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\nconnection: close\r\n\r\n";

/// Writes a whole response with a `Content-Length` body, then closes.
pub fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

/// Writes an event stream's head and `body`, then closes (the end of the stream).
pub fn stream(stream: &mut TcpStream, body: &str) {
    let _ = stream.write_all(STREAM_HEAD);
    let _ = stream.write_all(body.as_bytes());
}

/// Keeps the connection open until the client goes (or the deadline), so that only the
/// client can end the stream.
pub fn hold(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(DEADLINE));
    let mut byte = [0; 1];
    let _ = stream.read(&mut byte);
}
