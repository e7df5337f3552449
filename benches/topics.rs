//! Per-user notifications (issue 19), `cargo bench -p sse-pump-benches --bench topics --features redis`
//! (build the server first: `cargo build --release --example notifications --features
//! hyper,tokio,redis`; needs `redis-server` on PATH for the Redis parts).
//!
//! - **memory**: heap bytes (a counting `#[global_allocator]`) per topic, for 100,000
//!   topics of `Topics` with `history(100)`: idle (made, never published to, no
//!   subscriber), holding one event, and with one subscriber each; in process, and over
//!   Redis (`RedisStreams::stream`, every topic followed by the one reader).
//! - **notify**: 10,000 topics with one client each over real connections (this process
//!   holds the 10,000 client sockets; the servers are `examples/notifications.rs`
//!   processes), then 20,000 notifications posted (`POST /topics/{name}`, 32 keep-alive
//!   connections) to random topics: deliveries/s (from the first post to the last
//!   delivery) and publish-to-receive p50/p99 (the post's send time travels in the body).
//!   First with one process in process, then with two processes on one Redis, clients
//!   and posts spread over both, in one run.
//!
//! `-- memory` or `-- notify` runs one part only.

use sse_pump_benches::{allocated, Counting};
use std::{
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use sse_pump::{
    hub::{Hub, RedisStreams, Topics},
    Event,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
};

#[global_allocator]
static GLOBAL: Counting = Counting;

const MEMORY_TOPICS: usize = 100_000;
const CLIENTS: usize = 10_000;
const POSTS: usize = 20_000;
const POSTERS: usize = 32;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let only = |part: &str| args.iter().any(|arg| arg == part);
    let all = !only("memory") && !only("notify");
    let redis = RedisServer::start();
    if all || only("memory") {
        memory(None);
        if let Some(redis) = &redis {
            memory(Some(&redis.url));
        }
    }
    if all || only("notify") {
        notify(redis.as_ref());
    }
}

/// Heap bytes per topic: idle, with one event, with one subscriber.
fn memory(redis: Option<&str>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let family = redis.map(|url| RedisStreams::new(url, "unused").unwrap());
    let prefix = format!("bench:{}", std::process::id());
    let topics = Topics::new(move |name| {
        let hub = Hub::builder().history(100);
        match &family {
            Some(redis) => hub.backend(redis.stream(&format!("{prefix}:{name}"))),
            None => hub,
        }
    });
    let name = |n: usize| format!("user:{n}");
    let per = |before: usize| (allocated() as f64 - before as f64) / MEMORY_TOPICS as f64;
    let before = allocated();
    let hubs: Vec<Hub> = (0..MEMORY_TOPICS)
        .map(|n| topics.topic(&name(n)).unwrap())
        .collect();
    // Loaded (over Redis: followed by the reader), then the handles let go.
    for hub in &hubs {
        drop(runtime.block_on(hub.subscribe_async(None)).unwrap());
    }
    drop(hubs);
    let idle = per(before);
    let before = allocated();
    runtime.block_on(async {
        for n in 0..MEMORY_TOPICS {
            let hub = topics.topic(&name(n)).unwrap();
            hub.publish_async(Event::new().data("you have mail"))
                .await
                .unwrap();
        }
    });
    if redis.is_some() {
        std::thread::sleep(Duration::from_secs(2)); // the reader feeds the rings
    }
    let one_event = per(before);
    let before = allocated();
    let subscribers: Vec<_> = (0..MEMORY_TOPICS)
        .map(|n| topics.topic(&name(n)).unwrap().subscribe(None).unwrap())
        .collect();
    let subscribed = per(before);
    let mode = if redis.is_some() {
        "over Redis"
    } else {
        "in process"
    };
    println!(
        "memory {mode}: {MEMORY_TOPICS} topics, history 100: idle {idle:.0} B/topic, \
         +{one_event:.0} B/topic for its first event, +{subscribed:.0} B/topic with a subscriber \
         (threads now: {})",
        threads()
    );
    drop(subscribers);
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |dir| dir.count())
}

/// A redis-server of our own on a free loopback port, persistence off.
struct RedisServer {
    child: Child,
    url: String,
}

impl RedisServer {
    fn start() -> Option<RedisServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--maxclients", "1000"])
            .stdout(Stdio::null())
            .spawn()
            .ok()?;
        let url = format!("redis://127.0.0.1:{port}/");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(RedisServer { child, url })
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A notifications process; killed when dropped.
struct Server {
    child: Child,
    authority: String,
}

impl Server {
    fn start(redis: Option<&str>) -> Server {
        let bin = std::env::var("NOTIFICATIONS_BIN").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/release/examples/notifications"
            )
            .into()
        });
        let mut command = Command::new(&bin);
        command
            .env("SSE_ADDR", "127.0.0.1:0")
            .stdout(Stdio::piped());
        if let Some(url) = redis {
            command.env("REDIS_URL", url);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{bin}: {e} (build it first)"));
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        let authority = line
            .trim()
            .trim_start_matches("listening on http://")
            .trim_end_matches('/');
        Server {
            authority: authority.to_owned(),
            child,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Microseconds since the epoch: what a post carries, and what a client compares.
fn micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

fn notify(redis: Option<&RedisServer>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let one = Server::start(None);
    runtime.block_on(load("in process, one process", &[&one]));
    drop(one);
    if let Some(redis) = redis {
        let (a, b) = (
            Server::start(Some(&redis.url)),
            Server::start(Some(&redis.url)),
        );
        runtime.block_on(load("two processes on one Redis", &[&a, &b]));
    }
}

/// What the clients report.
#[derive(Default)]
struct Received {
    count: AtomicU64,
    latencies: Mutex<Vec<u64>>,
}

/// Topic `n`'s client on `servers[n % len]`, posts spread over them too.
async fn load(what: &str, servers: &[&Server]) {
    let received = Arc::new(Received::default());
    let mut clients = Vec::with_capacity(CLIENTS);
    for chunk in (0..CLIENTS).collect::<Vec<_>>().chunks(500) {
        let opening = chunk.iter().map(|&n| {
            let server = servers[n % servers.len()].authority.clone();
            tokio::spawn(open(server, n))
        });
        for open in opening.collect::<Vec<_>>() {
            let stream = open.await.unwrap();
            clients.push(tokio::spawn(listen(stream, received.clone())));
        }
    }
    for server in servers {
        let want = CLIENTS / servers.len();
        while subscribers(&server.authority).await < want {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let start = Instant::now();
    let posters: Vec<_> = (0..POSTERS)
        .map(|p| {
            let authorities: Vec<String> = servers.iter().map(|s| s.authority.clone()).collect();
            tokio::spawn(post_many(authorities, p as u64))
        })
        .collect();
    for poster in posters {
        poster.await.unwrap();
    }
    while received.count.load(Ordering::Acquire) < POSTS as u64 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "deliveries missing"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = start.elapsed();
    let mut latencies = std::mem::take(&mut *received.latencies.lock().unwrap());
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    println!(
        "notify {what}: {CLIENTS} topics x 1 client, {POSTS} posts to random topics by \
         {POSTERS} posters: {:.0} deliveries/s, publish-to-receive p50 {:.2} ms, p99 {:.2} ms",
        POSTS as f64 / elapsed.as_secs_f64(),
        at(0.50),
        at(0.99)
    );
    clients.iter().for_each(|client| client.abort());
}

/// A connection to `authority`, retried for a while when the machine is short of
/// ephemeral ports (other programs' load tests).
async fn connect(authority: &str) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match TcpStream::connect(authority).await {
            Ok(stream) => return stream,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{authority}: {e}"),
        }
    }
}

/// Topic `n`'s stream, its response head read.
async fn open(authority: String, n: usize) -> BufReader<TcpStream> {
    let mut stream = connect(&authority).await;
    let request = format!("GET /topics/t{n}/events HTTP/1.1\r\nhost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut stream = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        stream.read_line(&mut line).await.unwrap();
        assert!(!line.is_empty(), "closed before its head");
        if line == "\r\n" {
            return stream;
        }
    }
}

/// Reads a stream's `data: <micros>` lines (chunked framing lines are ignored).
async fn listen(mut stream: BufReader<TcpStream>, received: Arc<Received>) {
    let mut line = String::new();
    loop {
        line.clear();
        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        if let Some(sent) = line.trim_end().strip_prefix("data: ") {
            if let Ok(sent) = sent.parse::<u64>() {
                let latency = micros().saturating_sub(sent);
                received.latencies.lock().unwrap().push(latency);
                received.count.fetch_add(1, Ordering::Release);
            }
        }
    }
}

/// `POSTS / POSTERS` posts to random topics on random servers, one keep-alive connection
/// per server.
async fn post_many(authorities: Vec<String>, seed: u64) {
    let mut connections = Vec::new();
    for authority in &authorities {
        connections.push(BufReader::new(connect(authority).await));
    }
    let mut state = 0x9E37_79B9_7F4A_7C15 ^ (seed + 1).wrapping_mul(0x2545_F491_4F6C_DD1D);
    for _ in 0..POSTS / POSTERS {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let topic = state % CLIENTS as u64;
        let connection = &mut connections[(state >> 32) as usize % authorities.len()];
        let body = micros().to_string();
        let request = format!(
            "POST /topics/t{topic} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        connection
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .unwrap();
        let status = response(connection).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    }
}

/// Reads one response with a `content-length`; its status line.
async fn response(connection: &mut BufReader<TcpStream>) -> String {
    let (mut status, mut line, mut length) = (String::new(), String::new(), 0);
    connection.read_line(&mut status).await.unwrap();
    loop {
        line.clear();
        connection.read_line(&mut line).await.unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    connection.read_exact(&mut body).await.unwrap();
    status
}

/// The server's subscriber count, from `/stats`.
async fn subscribers(authority: &str) -> usize {
    let mut connection = BufReader::new(connect(authority).await);
    let request = "GET /stats HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    connection
        .get_mut()
        .write_all(request.as_bytes())
        .await
        .unwrap();
    let mut all = String::new();
    connection.read_to_string(&mut all).await.unwrap();
    let at = all.find("\"subscribers\":").map_or(all.len(), |at| at + 14);
    let digits: String = all[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}
