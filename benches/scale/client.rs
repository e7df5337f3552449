//! The client of the scale harness (`benches/scale/run.sh`): holds `--connections` streams
//! of `GET /events` from one loopback source address, as browsers do: a stream that ends
//! or breaks is opened again after the retry time (`--retry-ms`, default 3,000 as
//! Chromium's, or the server's `retry:`) with jitter (uniform in [retry/2, 3·retry/2)), with the
//! `Last-Event-ID` of the last event read.
//!
//! ```text
//! cargo run --release --features hyper,smol,tokio,redis --example scale_client -- \
//!     --url http://127.0.0.1:PORT --source 127.0.0.2 --connections 10000 --out /tmp/c1
//! ```
//!
//! Every event's data is `<seq> <publish-time-ns>` (the server's `/publish?seq=N`). Each
//! stream checks that its events come in order, each once: an event whose seq is not the
//! one after the last counts as `lost` (the ones skipped) or `dup`; an `event: reset` (the
//! hub could not resume it) counts in `resets`; `event: bye` (the farewell) in
//! `farewells`. Each event's latency is its receive time minus its publish time (one
//! machine, one clock).
//!
//! Every second the client rewrites `<out>.status`, one line `open=.. opened=..
//! events=.. lost=.. dup=.. resets=.. farewells=.. reconnects=.. resumed=.. refused=..
//! errors=.. last_resume_ns=.. rss_kib=..` (and `first_error=..`), and appends the
//! latencies (µs, one a line) of each seq every stream of the process has read, or that
//! is 30 s old, to `<out>.lat.<seq>`. It exits after `--deadline` seconds (default 600).
//! Loopback only.

#[path = "common.rs"]
mod common;

#[path = "../../examples/load/conn.rs"]
mod conn;

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    io::Write as _,
    net::{IpAddr, SocketAddr},
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use common::{now_ns, rss_kib};
use conn::{Conn, Dial};

/// How long a client waits for the response head: long, as a browser does (a server with
/// a full accept queue answers late; giving up and reconnecting only adds to the queue).
const HEAD_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
struct Args {
    addr: SocketAddr,
    source: Option<IpAddr>,
    connections: u64,
    ramp: usize,
    retry: Duration,
    deadline: Duration,
    out: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: ([127, 0, 0, 1], 8000).into(),
        source: None,
        connections: 1,
        ramp: 100,
        retry: Duration::from_millis(3000),
        deadline: Duration::from_secs(600),
        out: "scale-client".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--url" => {
                let host = value.strip_prefix("http://").ok_or("--url: http:// only")?;
                args.addr = host
                    .trim_end_matches('/')
                    .parse()
                    .map_err(|e| format!("--url: {e}"))?;
            }
            "--source" => args.source = Some(value.parse().map_err(|e| format!("--source: {e}"))?),
            "--connections" => args.connections = number()?,
            "--ramp" => args.ramp = number()?.max(1) as usize,
            "--retry-ms" => args.retry = Duration::from_millis(number()?),
            "--deadline" => args.deadline = Duration::from_secs(number()?),
            "--out" => args.out = value,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    let loopback = |ip: IpAddr| ip.is_loopback();
    if !loopback(args.addr.ip()) || !args.source.is_none_or(loopback) {
        return Err("loopback addresses only".into());
    }
    Ok(args)
}

/// What every stream adds to.
#[derive(Default)]
struct Totals {
    open: AtomicU64,
    opened: AtomicU64,
    events: AtomicU64,
    lost: AtomicU64,
    dup: AtomicU64,
    resets: AtomicU64,
    farewells: AtomicU64,
    reconnects: AtomicU64,
    resumed: AtomicU64,
    refused: AtomicU64,
    errors: AtomicU64,
    last_resume_ns: AtomicU64,
    /// Per seq: when its first reader read it, and every reader's latency in µs.
    latencies: Mutex<BTreeMap<u64, (Instant, Vec<u32>)>>,
    first_error: Mutex<Option<String>>,
}

/// One stream's place in the event sequence.
#[derive(Default)]
struct Place {
    last_id: Option<String>,
    last_seq: Option<u64>,
    retry: Option<Duration>,
}

impl Place {
    /// Checks and records one event.
    fn read(&mut self, event: &sse_pump::MessageEvent, totals: &Totals) {
        if let Some(retry) = event.retry {
            self.retry = Some(retry);
        }
        let counter = match &*event.event {
            "bye" => Some(&totals.farewells),
            "reset" => Some(&totals.resets),
            _ => None,
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Relaxed);
            return;
        }
        let mut fields = event.data.split(' ').map(str::parse::<u64>);
        let (Some(Ok(seq)), Some(Ok(sent))) = (fields.next(), fields.next()) else {
            return;
        };
        totals.events.fetch_add(1, Relaxed);
        if let Some(last) = self.last_seq {
            if seq <= last {
                totals.dup.fetch_add(1, Relaxed);
                return;
            }
            totals.lost.fetch_add(seq - last - 1, Relaxed);
        }
        self.last_seq = Some(seq);
        self.last_id = Some(event.id.to_string()).filter(|id| !id.is_empty());
        let micros = (now_ns().saturating_sub(sent) / 1000).min(u32::MAX.into()) as u32;
        let mut latencies = totals.latencies.lock().unwrap();
        let entry = latencies
            .entry(seq)
            .or_insert_with(|| (Instant::now(), Vec::new()));
        entry.1.push(micros);
    }

    fn dial(&self, source: Option<IpAddr>) -> Dial {
        let headers = match &self.last_id {
            Some(id) => format!("last-event-id: {id}\r\n"),
            None => String::new(),
        };
        Dial {
            source,
            headers,
            buf: 1024,
        }
    }
}

/// One stream, opened again whenever it ends or breaks, until the process ends.
async fn stream(args: Arc<Args>, totals: Arc<Totals>, ramp: Arc<tokio::sync::Semaphore>) {
    let mut place = Place::default();
    let mut first = true;
    loop {
        let permit = if first {
            ramp.acquire().await.ok()
        } else {
            None
        };
        let opened = Conn::open(args.addr, "/events", HEAD_TIMEOUT, &place.dial(args.source)).await;
        drop(permit);
        match opened {
            Ok(mut conn) => {
                totals.open.fetch_add(1, Relaxed);
                totals.opened.fetch_add(1, Relaxed);
                if !first {
                    totals.resumed.fetch_add(1, Relaxed);
                    totals.last_resume_ns.fetch_max(now_ns(), Relaxed);
                }
                first = false;
                let ended = loop {
                    match conn.read_events(|event| place.read(event, &totals)).await {
                        Ok(true) => {}
                        Ok(false) => break None,
                        Err(error) => break Some(error),
                    }
                };
                totals.open.fetch_sub(1, Relaxed);
                if let Some(error) = ended {
                    fail(&totals, &totals.reconnects, error);
                } else {
                    totals.reconnects.fetch_add(1, Relaxed);
                }
            }
            Err(error) if error.to_string() == "status 503" => {
                fail(&totals, &totals.refused, error);
            }
            Err(error) => fail(&totals, &totals.errors, error),
        }
        let retry = place.retry.unwrap_or(args.retry).as_millis() as u64;
        let jitter = retry / 2 + random() % retry.max(1);
        tokio::time::sleep(Duration::from_millis(jitter)).await;
    }
}

/// A random number (std's hasher keys are random).
fn random() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(0)
}

fn fail(totals: &Totals, counter: &AtomicU64, error: impl std::fmt::Display) {
    counter.fetch_add(1, Relaxed);
    let mut first = totals.first_error.lock().unwrap();
    first.get_or_insert_with(|| error.to_string());
}

/// Every second: the status line, and the latencies of each finished seq.
async fn report(args: Arc<Args>, totals: Arc<Totals>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let done = finished(&args, &totals);
        for (seq, latencies) in done {
            let mut text = String::with_capacity(latencies.len() * 8);
            for micros in latencies {
                let _ = writeln!(text, "{micros}");
            }
            let path = format!("{}.lat.{seq}", args.out);
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path);
            let _ = file.and_then(|mut file| file.write_all(text.as_bytes()));
        }
        let tmp = format!("{}.status.tmp", args.out);
        if std::fs::write(&tmp, status(&totals)).is_ok() {
            let _ = std::fs::rename(&tmp, format!("{}.status", args.out));
        }
    }
}

/// Takes out the seqs every stream has read, or whose first reading is 30 s old.
fn finished(args: &Args, totals: &Totals) -> Vec<(u64, Vec<u32>)> {
    let mut latencies = totals.latencies.lock().unwrap();
    let done: Vec<u64> = (latencies.iter())
        .filter(|(_, (first, all))| {
            all.len() as u64 >= args.connections || first.elapsed() > Duration::from_secs(30)
        })
        .map(|(seq, _)| *seq)
        .collect();
    (done.into_iter())
        .filter_map(|seq| latencies.remove(&seq).map(|(_, all)| (seq, all)))
        .collect()
}

fn status(t: &Totals) -> String {
    let first_error = t.first_error.lock().unwrap().clone().unwrap_or_default();
    format!(
        "open={} opened={} events={} lost={} dup={} resets={} farewells={} reconnects={} \
         resumed={} refused={} errors={} last_resume_ns={} rss_kib={}\nfirst_error={}\n",
        t.open.load(Relaxed),
        t.opened.load(Relaxed),
        t.events.load(Relaxed),
        t.lost.load(Relaxed),
        t.dup.load(Relaxed),
        t.resets.load(Relaxed),
        t.farewells.load(Relaxed),
        t.reconnects.load(Relaxed),
        t.resumed.load(Relaxed),
        t.refused.load(Relaxed),
        t.errors.load(Relaxed),
        t.last_resume_ns.load(Relaxed),
        rss_kib(),
        first_error.replace('\n', " "),
    )
}

fn main() {
    let args = Arc::new(parse_args().unwrap_or_else(|error| {
        eprintln!("scale_client: {error}");
        std::process::exit(2);
    }));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let totals = Arc::new(Totals::default());
    runtime.block_on(async {
        let ramp = Arc::new(tokio::sync::Semaphore::new(args.ramp));
        for _ in 0..args.connections {
            tokio::spawn(stream(args.clone(), totals.clone(), ramp.clone()));
        }
        let reporting = tokio::spawn(report(args.clone(), totals.clone()));
        let _ = tokio::time::timeout(args.deadline, reporting).await;
    });
    let _ = std::fs::write(format!("{}.status", args.out), status(&totals));
    std::process::exit(0);
}
