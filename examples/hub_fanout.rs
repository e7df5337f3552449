//! Fan-out over real connections: a hyper server with one `Hub` on 127.0.0.1, 2,000 client
//! connections on loopback, one event published at a time; how long until every client
//! has read it.
//!
//! ```text
//! cargo run --release --example hub_fanout --features hyper,tokio [-- CLIENTS ROUNDS]
//! ```
//!
//! Scale-out (feature `redis`): with `REDIS_URL` set, the process runs `INSTANCES`
//! instances (default 2), each a hub with its own `RedisStreams` backend (its own reader
//! thread and connections) and its own listener; the clients are spread evenly over them
//! and instance 0 publishes, so every event goes through Redis (`XADD`, then each
//! instance's `XREAD`) before the fan-out. Without `REDIS_URL`, one in-process hub.
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --release --example hub_fanout --features hyper,tokio,redis -- 2000 20 200
//! ```
//!
//! Defaults: 2,000 clients, 10 rounds, then a burst of 200 events (the third argument).
//! The process needs two descriptors per client (the
//! server's end and the client's): with the usual soft limit of 1,024 open files, run
//! `ulimit -n 8192` first (it says so and stops if the limit is too low). It stops by
//! itself, and fails after 120 seconds whatever happens.
//!
//! Method. Server and clients share one process and one tokio multi-thread runtime (one
//! worker per core), so the clients' reading competes with the server's writing, as on a
//! one-machine test. The server is `response(Sse::new(hub.subscribe(..)))` over hyper's
//! HTTP/1.1 connection, behind `WriteTimeout`, with `TCP_NODELAY`. Each client is a
//! `TcpStream` that sends `GET /events`, checks the `200` head, then reads frames. The
//! clients connect 50 at a time; once all 2,000 heads have arrived (and the hub counts
//! 2,000 subscribers), each round publishes one event whose data is its publish time, and
//! waits until every client has read it; a client's latency is the time its `read`
//! returned the event minus that publish time. Each round prints p50 / p99 / max over the
//! clients, then the same over all rounds. A subscriber inside the process on each hub
//! (no socket) records when the event reached the hub's ring, which splits the latency
//! into "to the ring" (with Redis: the `XADD` and the `XREAD` round trips) and "ring to
//! client" (the fan-out over sockets).
//!
//! Burst: then `BURST` events are published back to back (each hub's subscriber capacity
//! holds them all, so none is dropped); events/s is BURST over the time from the first
//! publish to the last client's last read, and p50 / p99 are over every delivery.

use std::{
    convert::Infallible,
    error::Error,
    net::SocketAddr,
    time::{Duration, Instant},
};

use http_body_util::{Either, Empty};
use hyper::{server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use sse_pump::{hub::Hub, response, unavailable, Event, Sse, WriteTimeout};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::mpsc,
};

type BoxError = Box<dyn Error + Send + Sync>;

/// The whole run, connections included, fails after this long.
const DEADLINE: Duration = Duration::from_secs(120);

/// How many clients connect at once: 200 at once overflowed loopback's accept queue on
/// this project's machine, and each SYN dropped costs a one-second retransmission.
const BATCH: usize = 50;

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let clients = args.next().transpose()?.unwrap_or(2000);
    let rounds = args.next().transpose()?.unwrap_or(10);
    let burst = args.next().transpose()?.unwrap_or(200);
    check_open_files(clients)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let run = async { tokio::time::timeout(DEADLINE, run(clients, rounds, burst)).await };
    runtime
        .block_on(run)
        .map_err(|_| format!("not done within {DEADLINE:?}"))?
}

type Latencies = mpsc::UnboundedReceiver<Result<Duration, BoxError>>;

async fn run(clients: usize, rounds: usize, burst: usize) -> Result<(), BoxError> {
    let base = Instant::now();
    let (hubs, addrs) = instances(clients, rounds + burst).await?;
    println!("load average before: {}", load_average());
    let (report, ring) = mpsc::unbounded_channel();
    for hub in &hubs {
        // A subscriber without a socket: when each event reached this hub's ring.
        let rx = hub.subscribe(None)?;
        tokio::spawn(probe(rx, base, rounds + burst, report.clone()));
    }
    drop(report);

    let started = Instant::now();
    let mut sockets = Vec::with_capacity(clients);
    while sockets.len() < clients {
        let batch = BATCH.min(clients - sockets.len());
        let connecting: Vec<_> = (0..batch)
            .map(|i| tokio::spawn(connect(addrs[(sockets.len() + i) % addrs.len()])))
            .collect();
        for task in connecting {
            sockets.push(task.await??);
        }
    }
    let subscribers: usize = hubs.iter().map(|hub| hub.stats().subscribers).sum();
    if subscribers != clients + hubs.len() {
        return Err(format!("{clients} clients but {subscribers} subscribers").into());
    }
    println!(
        "{clients} clients on {} instance(s) connected and subscribed in {:.2?}",
        hubs.len(),
        started.elapsed()
    );

    let (report, latencies) = mpsc::unbounded_channel();
    let events = rounds + burst;
    let readers: Vec<_> = (sockets.into_iter())
        .map(|(socket, rest)| tokio::spawn(read_events(socket, rest, base, events, report.clone())))
        .collect();
    drop(report);
    let mut probes = Probes {
        clients: latencies,
        rings: ring,
    };
    one_at_a_time(&hubs, &mut probes, clients, rounds, base).await?;
    burst_of(&hubs, &mut probes, clients, burst, base).await?;
    for (i, hub) in hubs.iter().enumerate() {
        let stats = hub.stats();
        println!(
            "hub {i}: {} published, {} lagged events, {} refused",
            stats.published, stats.lagged_events, stats.refused
        );
    }
    println!("load average after: {}", load_average());
    for reader in readers {
        drop(reader.await?); // only now: closing connections would load the last round
    }
    for hub in hubs {
        hub.close(None);
    }
    Ok(())
}

/// Where latencies arrive: from every client, and from the probe on each hub's ring.
struct Probes {
    clients: Latencies,
    rings: Latencies,
}

/// Publishes `rounds` events, each once every client has the previous one.
async fn one_at_a_time(
    hubs: &[Hub],
    probes: &mut Probes,
    clients: usize,
    rounds: usize,
    base: Instant,
) -> Result<(), BoxError> {
    let (mut all, mut to_ring) = (Vec::with_capacity(clients * rounds), Vec::new());
    for round in 1..=rounds {
        publish(&hubs[0], base)?;
        let mut this = collect(&mut probes.clients, clients).await?;
        let ring = collect(&mut probes.rings, hubs.len()).await?;
        let slowest = ms(*ring.iter().max().unwrap_or(&Duration::ZERO));
        println!(
            "round {round:2}: {}   (to the ring: max {slowest:.2} ms)",
            summary(&mut this)
        );
        all.extend(this);
        to_ring.extend(ring);
    }
    println!("all {} deliveries: {}", all.len(), summary(&mut all));
    println!("  of which to the ring: {}", summary(&mut to_ring));
    Ok(())
}

/// Publishes `burst` events back to back; events/s until the last client has them all.
async fn burst_of(
    hubs: &[Hub],
    probes: &mut Probes,
    clients: usize,
    burst: usize,
    base: Instant,
) -> Result<(), BoxError> {
    let first = base.elapsed();
    for _ in 0..burst {
        publish(&hubs[0], base)?;
    }
    let mut deliveries = collect(&mut probes.clients, clients * burst).await?;
    let took = base.elapsed() - first;
    let mut ring = collect(&mut probes.rings, hubs.len() * burst).await?;
    println!(
        "burst of {burst}: {:.0} events/s ({:.0} deliveries/s) in {took:.2?}; deliveries {}",
        burst as f64 / took.as_secs_f64(),
        (burst * clients) as f64 / took.as_secs_f64(),
        summary(&mut deliveries)
    );
    println!("  of which to the ring: {}", summary(&mut ring));
    Ok(())
}

/// Publishes one event whose data is its publish time (since `base`, in nanoseconds).
fn publish(hub: &Hub, base: Instant) -> Result<(), BoxError> {
    hub.publish(Event::new().data(base.elapsed().as_nanos().to_string()))?;
    Ok(())
}

/// The hubs, each served on its own port: one in-process hub, or with `REDIS_URL`,
/// `INSTANCES` hubs sharing one Redis stream.
async fn instances(clients: usize, events: usize) -> Result<(Vec<Hub>, Vec<SocketAddr>), BoxError> {
    let redis = std::env::var("REDIS_URL").ok();
    let count = match (&redis, std::env::var("INSTANCES")) {
        (None, _) => 1,
        (Some(_), Ok(count)) => count.parse()?,
        (Some(_), Err(_)) => 2,
    };
    let key = format!("hub-fanout-{}", std::process::id());
    let (mut hubs, mut addrs) = (Vec::new(), Vec::new());
    for _ in 0..count {
        let builder = Hub::builder()
            .history(events)
            .subscriber_capacity(events.max(16))
            .max_subscribers(clients.max(10_000));
        let hub = match &redis {
            Some(url) => shared(builder, url, &key).await?,
            None => builder.build(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        println!("listening on http://{addr}/events");
        tokio::spawn(serve(listener, hub.clone()));
        hubs.push(hub);
        addrs.push(addr);
    }
    Ok((hubs, addrs))
}

/// A hub whose log is the Redis stream `key`, once it follows it.
#[cfg(feature = "redis")]
async fn shared(builder: sse_pump::hub::HubBuilder, url: &str, key: &str) -> Result<Hub, BoxError> {
    let backend = sse_pump::hub::RedisStreams::new(url, key)?;
    let hub = builder.backend(backend.clone()).build();
    tokio::time::timeout(Duration::from_secs(10), backend.ready())
        .await
        .map_err(|_| format!("{url} not reachable within 10 s"))?;
    Ok(hub)
}

#[cfg(not(feature = "redis"))]
async fn shared(_: sse_pump::hub::HubBuilder, _: &str, _: &str) -> Result<Hub, BoxError> {
    Err("REDIS_URL needs the `redis` feature".into())
}

/// The next `n` latencies.
async fn collect(latencies: &mut Latencies, n: usize) -> Result<Vec<Duration>, BoxError> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        got.push(latencies.recv().await.ok_or("a reader stopped early")??);
    }
    Ok(got)
}

/// Reports, for each of `events` events, when it reached the hub's ring.
async fn probe(
    mut rx: sse_pump::hub::Subscription,
    base: Instant,
    events: usize,
    report: mpsc::UnboundedSender<Result<Duration, BoxError>>,
) {
    use futures_lite::StreamExt;
    for _ in 0..events {
        let Some(frame) = rx.next().await else { break };
        let at = base.elapsed();
        let latency = event(&frame.into_bytes()).map(|(sent, _)| at.saturating_sub(sent));
        if report
            .send(latency.ok_or_else(|| "not a timed event".into()))
            .is_err()
        {
            break;
        }
    }
}

/// Serves `GET /events` (whatever the path, here) from the hub; `503` when it is full.
async fn serve(listener: TcpListener, hub: Hub) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let io = WriteTimeout::new(TokioIo::new(stream), Duration::from_secs(30));
        let hub = hub.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_request| {
                let answer = match hub.subscribe(None) {
                    Ok(rx) => response(Sse::new(rx)).map(Either::Left),
                    Err(_) => unavailable::<Empty<bytes::Bytes>>(Duration::from_secs(1))
                        .map(Either::Right),
                };
                async move { Ok::<_, Infallible>(answer) }
            });
            let _ = http1::Builder::new().serve_connection(io, service).await;
        });
    }
}

/// Opens a connection, asks for the stream and reads the response head; returns the
/// socket and the bytes read past the head.
async fn connect(addr: SocketAddr) -> Result<(TcpStream, Vec<u8>), BoxError> {
    let mut socket = TcpStream::connect(addr).await.map_err(|e| {
        format!("connect: {e} (out of file descriptors? run `ulimit -n 8192` first)")
    })?;
    socket.set_nodelay(true)?;
    let request = "GET /events HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\n\r\n";
    socket.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(1024);
    loop {
        if socket.read_buf(&mut buf).await? == 0 {
            return Err("the server closed the connection before its head".into());
        }
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            if !buf.starts_with(b"HTTP/1.1 200 ") {
                let head = String::from_utf8_lossy(&buf[..at]);
                return Err(format!("refused: {head}").into());
            }
            return Ok((socket, buf.split_off(at + 4)));
        }
    }
}

/// Reads `rounds` events, each carrying its publish time, and reports each one's latency:
/// the time the `read` that completed it returned, minus the publish time. Returns the
/// socket, still open.
async fn read_events(
    mut socket: TcpStream,
    mut buf: Vec<u8>,
    base: Instant,
    rounds: usize,
    report: mpsc::UnboundedSender<Result<Duration, BoxError>>,
) -> TcpStream {
    let mut read_at = base.elapsed();
    for _ in 0..rounds {
        let latency = loop {
            if let Some((sent, used)) = event(&buf) {
                buf.drain(..used);
                break Ok(read_at.saturating_sub(sent));
            }
            match socket.read_buf(&mut buf).await {
                Ok(0) => break Err("the stream ended".into()),
                Ok(_) => read_at = base.elapsed(),
                Err(e) => break Err(e.into()),
            }
        };
        let failed = latency.is_err();
        if report.send(latency).is_err() || failed {
            break;
        }
    }
    socket
}

/// The publish time in the first complete `data:` line of `buf` (chunk framing and pings
/// hold no `data: `), and how many bytes of `buf` it took.
fn event(buf: &[u8]) -> Option<(Duration, usize)> {
    let start = find(buf, b"data: ")? + b"data: ".len();
    let end = start + find(&buf[start..], b"\n")?;
    let nanos: u64 = std::str::from_utf8(&buf[start..end]).ok()?.parse().ok()?;
    Some((Duration::from_nanos(nanos), end + 1))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `p50 / p99 / max`, nearest rank, in milliseconds.
fn summary(latencies: &mut [Duration]) -> String {
    latencies.sort_unstable();
    let rank = |p: usize| latencies[(latencies.len() * p).div_ceil(100).max(1) - 1];
    format!(
        "p50 {:6.2} ms   p99 {:6.2} ms   max {:6.2} ms",
        ms(rank(50)),
        ms(rank(99)),
        ms(latencies[latencies.len() - 1])
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The 1, 5 and 15 minute load averages, on Linux.
fn load_average() -> String {
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let fields: Vec<&str> = loadavg.split_whitespace().take(3).collect();
    match fields.as_slice() {
        [] => "unknown".to_owned(),
        fields => fields.join(", "),
    }
}

/// Stops early, with the fix, when the soft limit of open files (read on Linux) cannot
/// hold two descriptors per client.
fn check_open_files(clients: usize) -> Result<(), BoxError> {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3)?.parse::<usize>().ok());
    let needed = 2 * clients + 64;
    match soft {
        Some(soft) if soft < needed => Err(format!(
            "{clients} clients need about {needed} open files, the limit is {soft}: \
             run `ulimit -n {}` first",
            needed.next_power_of_two()
        )
        .into()),
        _ => Ok(()),
    }
}
