//! The client side of the load figures (`benches/load.sh`): opens connections to a
//! `load_server` on loopback, counts events, and reports events/s and latency. Every run
//! is bounded in count and in time.
//!
//! ```text
//! cargo run --release --features hyper --example load -- --url http://127.0.0.1:PORT \
//!     --connections 100 --events-per-connection 10000
//! ```
//!
//! Scenarios (one per run):
//! - default: `--connections N` streams of `/events?n=M` (`--events-per-connection M`),
//!   each read to its end; or, with `--duration S`, endless streams read for S seconds;
//! - `--churn K`: K cycles of connect, read `--events-per-connection` events (default 3),
//!   disconnect, `--connections` of them at a time;
//! - `--hold`: opens `--connections` streams of `/idle`, prints `holding N`, holds them
//!   for `--hold-secs` (default 5), then closes them.
//!
//! Latency is the receive time minus the send time written in each event (`<seq>
//! <send-time-ns>`), both from the system clock. `--deadline S` (default 120) bounds the
//! run; the last line is `result key=value ...`.

mod conn;

use std::{
    io::Write as _,
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc, Mutex,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use conn::{Conn, Dial};

#[derive(Clone, Debug)]
struct Args {
    addr: SocketAddr,
    path: Option<String>,
    connections: usize,
    events: Option<u64>,
    duration: Option<Duration>,
    churn: Option<u64>,
    hold: bool,
    hold_secs: u64,
    ramp: usize,
    deadline: Duration,
    threads: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: ([127, 0, 0, 1], 8000).into(),
        path: None,
        connections: 1,
        events: None,
        duration: None,
        churn: None,
        hold: false,
        hold_secs: 5,
        ramp: 200,
        deadline: Duration::from_secs(120),
        threads: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let number = |text: String| text.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--url" => {
                let url = value()?;
                let rest = url.strip_prefix("http://").ok_or("--url: http:// only")?;
                let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
                args.addr = host.parse().map_err(|e| format!("--url: {e}"))?;
                if !args.addr.ip().is_loopback() {
                    return Err("--url: loopback addresses only".into());
                }
                args.path = (!path.is_empty()).then(|| format!("/{path}"));
            }
            "--connections" => args.connections = number(value()?)? as usize,
            "--events-per-connection" => args.events = Some(number(value()?)?),
            "--duration" => args.duration = Some(Duration::from_secs_f64(secs(&value()?)?)),
            "--churn" => args.churn = Some(number(value()?)?),
            "--hold" => args.hold = true,
            "--hold-secs" => args.hold_secs = number(value()?)?,
            "--ramp" => args.ramp = number(value()?)?.max(1) as usize,
            "--deadline" => args.deadline = Duration::from_secs_f64(secs(&value()?)?),
            "--threads" => args.threads = number(value()?)?.max(1) as usize,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(args)
}

fn secs(text: &str) -> Result<f64, String> {
    text.parse().map_err(|e| format!("{text}: {e}"))
}

fn now_ns() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.map_or(0, |d| d.as_nanos() as u64)
}

/// What every connection adds to.
#[derive(Default)]
struct Totals {
    events: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
    /// Latencies in microseconds.
    latencies: Mutex<Vec<u32>>,
    first_error: Mutex<Option<String>>,
}

impl Totals {
    fn fail(&self, error: impl std::fmt::Display) {
        self.failed.fetch_add(1, Relaxed);
        let mut first = self.first_error.lock().unwrap();
        first.get_or_insert_with(|| error.to_string());
    }
}

/// Reads one stream until it ends, `limit` events, or `until`.
async fn read_stream(
    args: &Args,
    target: &str,
    limit: u64,
    until: Option<Instant>,
    totals: &Totals,
    keep_latency: bool,
) -> std::io::Result<()> {
    let mut conn = Conn::open(args.addr, target, Duration::from_secs(10), &Dial::default()).await?;
    let mut seen = 0;
    let mut latencies = Vec::new();
    while seen < limit && until.is_none_or(|t| Instant::now() < t) {
        // The receive time, taken once per read, after it.
        let mut now = None;
        let open = conn
            .read_events(|event| {
                seen += 1;
                if keep_latency {
                    let now = *now.get_or_insert_with(now_ns);
                    let sent = (event.data.split(' ').nth(1))
                        .and_then(|t| t.parse::<u64>().ok())
                        .unwrap_or(now);
                    latencies.push((now.saturating_sub(sent) / 1000).min(u32::MAX as u64) as u32);
                }
            })
            .await?;
        if !open {
            break;
        }
    }
    totals.events.fetch_add(seen, Relaxed);
    totals.latencies.lock().unwrap().extend(latencies);
    Ok(())
}

async fn streams(args: Arc<Args>, totals: Arc<Totals>) {
    let (target, limit, until) = match (args.duration, args.events) {
        (Some(d), _) => (
            "/events?n=1000000000000".to_owned(),
            u64::MAX,
            Some(Instant::now() + d),
        ),
        (None, m) => {
            let m = m.unwrap_or(1000);
            (format!("/events?n={m}"), m, None)
        }
    };
    let target = args.path.clone().unwrap_or(target);
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let (args, totals, target) = (args.clone(), totals.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            match read_stream(&args, &target, limit, until, &totals, true).await {
                Ok(()) => {
                    totals.ok.fetch_add(1, Relaxed);
                }
                Err(error) => totals.fail(error),
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
}

async fn churn(args: Arc<Args>, totals: Arc<Totals>, cycles: u64) {
    let next = Arc::new(AtomicU64::new(0));
    let target = args.path.clone().unwrap_or("/events?n=1000000000".into());
    let per = args.events.unwrap_or(3);
    let mut workers = Vec::new();
    for _ in 0..args.connections.max(1) {
        let (args, totals, next, target) =
            (args.clone(), totals.clone(), next.clone(), target.clone());
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Relaxed) < cycles {
                match read_stream(&args, &target, per, None, &totals, false).await {
                    Ok(()) => {
                        totals.ok.fetch_add(1, Relaxed);
                    }
                    Err(error) => totals.fail(error),
                }
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
}

async fn hold(args: Arc<Args>, totals: Arc<Totals>) {
    let target = args.path.clone().unwrap_or("/idle".into());
    let permits = Arc::new(tokio::sync::Semaphore::new(args.ramp));
    let mut opening = Vec::new();
    for _ in 0..args.connections {
        let (args, target, permits) = (args.clone(), target.clone(), permits.clone());
        opening.push(tokio::spawn(async move {
            let _permit = permits.acquire().await;
            Conn::open(
                args.addr,
                &target,
                Duration::from_secs(10),
                &Dial::default(),
            )
            .await
        }));
    }
    let mut held = Vec::with_capacity(args.connections);
    for task in opening {
        match task.await {
            Ok(Ok(conn)) => {
                totals.ok.fetch_add(1, Relaxed);
                held.push(conn);
            }
            Ok(Err(error)) => totals.fail(error),
            Err(error) => totals.fail(error),
        }
    }
    println!(
        "holding {} (failed {})",
        held.len(),
        totals.failed.load(Relaxed)
    );
    let _ = std::io::stdout().flush();
    tokio::time::sleep(Duration::from_secs(args.hold_secs)).await;
    drop(held);
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[at]) / 1000.0
}

fn main() {
    let args = match parse_args() {
        Ok(args) => Arc::new(args),
        Err(error) => {
            eprintln!("load: {error}");
            std::process::exit(2);
        }
    };
    // The last resort if the runtime itself hangs.
    let hard = args.deadline + Duration::from_secs(5);
    std::thread::spawn(move || {
        std::thread::sleep(hard);
        eprintln!("load: hard deadline, exiting");
        std::process::exit(3);
    });
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        (tokio::runtime::Builder::new_multi_thread())
            .worker_threads(args.threads)
            .enable_all()
            .build()
    }
    .expect("a tokio runtime");
    let totals = Arc::new(Totals::default());
    let start = Instant::now();
    let (scenario, finished) = runtime.block_on(async {
        let (scenario, run) = match (args.churn, args.hold) {
            (Some(cycles), _) => (
                "churn",
                tokio::spawn(churn(args.clone(), totals.clone(), cycles)),
            ),
            (None, true) => ("hold", tokio::spawn(hold(args.clone(), totals.clone()))),
            (None, false) => (
                "events",
                tokio::spawn(streams(args.clone(), totals.clone())),
            ),
        };
        (
            scenario,
            tokio::time::timeout(args.deadline, run).await.is_ok(),
        )
    });
    let secs = start.elapsed().as_secs_f64();
    let mut latencies = std::mem::take(&mut *totals.latencies.lock().unwrap());
    latencies.sort_unstable();
    let events = totals.events.load(Relaxed);
    if let Some(error) = totals.first_error.lock().unwrap().as_ref() {
        eprintln!("load: first error: {error}");
    }
    println!(
        "result scenario={scenario} conns={} ok={} failed={} events={events} secs={secs:.3} \
         events_per_s={:.0} p50_ms={:.3} p99_ms={:.3} deadline_hit={}",
        args.churn.unwrap_or(args.connections as u64),
        totals.ok.load(Relaxed),
        totals.failed.load(Relaxed),
        events as f64 / secs,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        !finished,
    );
    std::process::exit(if finished { 0 } else { 3 });
}
