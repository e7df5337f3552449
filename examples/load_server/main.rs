//! The server side of the load figures (`benches/load.sh`): one binary, seven ways of
//! serving the same events over HTTP/1.1 on 127.0.0.1.
//!
//! ```text
//! cargo run --release --features hyper,smol,tokio --example load_server -- --mode hyper-tokio
//! ```
//!
//! Modes: `hyper-tokio` (sse-pump's `response` on hyper, tokio, its producer sending
//! `Batch`es of 32 events), `hyper-send` (the same, its producer sending one event per
//! `Sender::send`, as the README's examples do), `hyper-smol` (the same on
//! smol through `FuturesIo`), `smol-raw` (`adapters::smol::respond` over a bare TCP
//! stream), `axum-sse` (axum's own `Sse`, the baseline, on the same hyper connection
//! settings as `hyper-tokio`, fed over async-channel), `axum-mpsc` (axum's `Sse` fed by a
//! producer task over a tokio `mpsc` channel, the usual way), `hyper-iter` (sse-pump's body
//! fed by an iterator: no producer task, no channel), `ceiling` (pre-encoded events in 64 KiB writes, no
//! channel, no task per event). Endpoints: `/events?n=N` (a producer task sends N events
//! `data: <seq> <send-time-ns>`, then the stream ends), `/idle` (keep-alive pings only),
//! `/stats` (live producers, streams, connections, fds, RSS, heap with `--heap`).
//!
//! Options: `--port P` (0: any), `--threads N` (tokio workers; 1 is a current-thread
//! runtime), `--max-buf-size B`, `--writev on|off` and `--half-close on|off` (hyper's
//! `http1::Builder`), `--capacity N` and `--idle-capacity N` (the producers' channels,
//! default 256 and 16),
//! `--ping-ms MS` (the keep-alive interval of sse-pump's modes, default 15,000: short
//! intervals give many pings per second to measure their CPU cost),
//! `--heap` (count the live heap, for `/stats`), `--fixed-text` (every mode's events carry
//! one fixed text: no formatting and no clock read per event, to see what that work costs;
//! latency figures are meaningless then), `--max-secs S` (exit after S seconds,
//! default 900).

mod hyper_modes;
mod raw;
mod stats;

use std::{
    sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed},
    time::Duration,
};

#[global_allocator]
static ALLOC: stats::Counting = stats::Counting;

/// The channel capacity of `/events` producers, in every mode (`--capacity`).
static EVENTS_CAPACITY: AtomicUsize = AtomicUsize::new(256);
/// How many events an sse-pump producer of `/events` encodes into one `Batch` before it
/// sends it (`--batch`); 0 sends each event on its own with `Sender::send`.
static EVENTS_BATCH: AtomicUsize = AtomicUsize::new(32);
/// The channel capacity of `/idle` producers, in every mode (`--idle-capacity`): a quiet
/// subscription's buffer. The slots are allocated up front (40 bytes each for sse-pump).
static IDLE_CAPACITY: AtomicUsize = AtomicUsize::new(16);
/// The keep-alive interval of sse-pump's modes in milliseconds (`--ping-ms`).
static PING_MS: AtomicU64 = AtomicU64::new(15_000);

/// The keep-alive of sse-pump's modes: pings after `--ping-ms` quiet milliseconds.
pub fn keep_alive() -> sse_pump::KeepAlive {
    sse_pump::KeepAlive::new().interval(Duration::from_millis(PING_MS.load(Relaxed)))
}

/// Events per batch of sse-pump's `/events` producers (0: one `send` per event).
pub fn batch() -> usize {
    EVENTS_BATCH.load(Relaxed)
}

/// The channel capacity for a route's producer, in events.
pub fn capacity(route: &stats::Route) -> usize {
    match route {
        stats::Route::Idle => IDLE_CAPACITY.load(Relaxed),
        _ => EVENTS_CAPACITY.load(Relaxed),
    }
}

/// The channel capacity for an sse-pump producer of `route`, in messages: for batches,
/// so many that the channel holds as many events as the other modes' channels.
pub fn pump_capacity(route: &stats::Route) -> usize {
    match (route, batch()) {
        (stats::Route::Events(_), batch) if batch > 0 => (capacity(route) / batch).max(1),
        _ => capacity(route),
    }
}
/// How long a write may wait before the connection is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    HyperTokio,
    HyperSmol,
    SmolRaw,
    AxumSse,
    /// axum's `Sse` fed by a producer task over a tokio `mpsc` channel.
    AxumMpsc,
    /// sse-pump's body fed by an iterator, no producer task: the channel path's ceiling.
    HyperIter,
    Ceiling,
}

#[derive(Clone, Debug)]
pub struct Args {
    pub mode: Mode,
    pub port: u16,
    pub threads: usize,
    pub max_buf_size: Option<usize>,
    pub writev: Option<bool>,
    pub half_close: Option<bool>,
    pub max_secs: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        mode: Mode::HyperTokio,
        port: 0,
        threads: 1,
        max_buf_size: None,
        writev: None,
        half_close: None,
        max_secs: 900,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--mode" => {
                args.mode = match value()?.as_str() {
                    "hyper-tokio" => Mode::HyperTokio,
                    "hyper-send" => {
                        EVENTS_BATCH.store(0, Relaxed);
                        Mode::HyperTokio
                    }
                    "hyper-smol" => Mode::HyperSmol,
                    "smol-raw" => Mode::SmolRaw,
                    "axum-sse" => Mode::AxumSse,
                    "axum-mpsc" => Mode::AxumMpsc,
                    "hyper-iter" => Mode::HyperIter,
                    "ceiling" => Mode::Ceiling,
                    other => return Err(format!("unknown mode {other}")),
                }
            }
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--threads" => {
                args.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?
            }
            "--max-buf-size" => {
                let size = value()?
                    .parse()
                    .map_err(|e| format!("--max-buf-size: {e}"))?;
                args.max_buf_size = Some(size);
            }
            "--writev" => args.writev = Some(value()? == "on"),
            "--half-close" => args.half_close = Some(value()? == "on"),
            "--batch" => {
                let batch = value()?.parse().map_err(|e| format!("--batch: {e}"))?;
                EVENTS_BATCH.store(batch, Relaxed);
            }
            "--capacity" | "--idle-capacity" => {
                let capacity = value()?.parse().map_err(|e| format!("{flag}: {e}"))?;
                match flag.as_str() {
                    "--capacity" => EVENTS_CAPACITY.store(capacity, Relaxed),
                    _ => IDLE_CAPACITY.store(capacity, Relaxed),
                }
            }
            "--max-secs" => {
                args.max_secs = value()?.parse().map_err(|e| format!("--max-secs: {e}"))?
            }
            "--ping-ms" => {
                let ms = value()?.parse().map_err(|e| format!("--ping-ms: {e}"))?;
                PING_MS.store(ms, Relaxed);
            }
            "--heap" => stats::count_heap(),
            "--fixed-text" => stats::fixed_text(),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("load_server: {error}");
            std::process::exit(2);
        }
    };
    // Every run stops by itself.
    let max = Duration::from_secs(args.max_secs);
    std::thread::spawn(move || {
        std::thread::sleep(max);
        eprintln!("load_server: --max-secs reached, exiting");
        std::process::exit(0);
    });
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], args.port));
    let result = match args.mode {
        Mode::HyperSmol | Mode::SmolRaw => smol::block_on(async {
            let listener = smol::net::TcpListener::bind(addr).await?;
            announce(listener.local_addr()?);
            match args.mode {
                Mode::HyperSmol => hyper_modes::serve_smol(listener, &args).await,
                _ => raw::serve_smol(listener).await,
            }
        }),
        Mode::HyperTokio | Mode::AxumSse | Mode::AxumMpsc | Mode::HyperIter | Mode::Ceiling => {
            let runtime = if args.threads <= 1 {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
            } else {
                (tokio::runtime::Builder::new_multi_thread())
                    .worker_threads(args.threads)
                    .enable_all()
                    .build()
            };
            runtime.and_then(|runtime| {
                runtime.block_on(async {
                    let listener = tokio::net::TcpListener::bind(addr).await?;
                    announce(listener.local_addr()?);
                    match args.mode {
                        Mode::Ceiling => raw::serve_ceiling(listener).await,
                        _ => hyper_modes::serve_tokio(listener, &args).await,
                    }
                })
            })
        }
    };
    if let Err(error) = result {
        eprintln!("load_server: {error}");
        std::process::exit(1);
    }
}

fn announce(addr: std::net::SocketAddr) {
    use std::io::Write;
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
}
