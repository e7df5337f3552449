//! The server of the scale harness (`benches/scale/run.sh`): one process of many, each
//! serving one hub's stream on a shared port (`SO_REUSEPORT`), the hub's log in Redis
//! (feature `redis`), so that every process serves the same events and resumes the others'
//! clients by their `Last-Event-ID`.
//!
//! ```text
//! cargo run --release --features hyper,smol,tokio,redis --example scale_server -- \
//!     --mode smol-raw --port 0 --redis redis://127.0.0.1:6379
//! ```
//!
//! Modes: `smol-raw` (`adapters::raw::respond` over a bare TCP stream on smol) and
//! `hyper-tokio` (`SseResponse` on hyper's HTTP/1.1 connection, a current-thread tokio
//! runtime). The stream is `Sse::new(hub.subscribe(last_event_id))` with the default 15 s
//! keep-alive, a 10 s send timeout and a farewell (`event: bye`) on shutdown.
//!
//! It prints `listening on http://127.0.0.1:PORT control http://127.0.0.1:CONTROL`. The
//! shared port and the control port serve the same routes, but only the control port
//! reaches this very process: `GET /events` (the stream), `GET /stats` (`streams=..
//! accepted=.. subscribers=.. rss_kib=.. fds=..`), `GET /publish?seq=N` (publishes
//! `data: N <publish-time-ns>` on the hub: through Redis to every process), `GET /shutdown`
//! (stops accepting, triggers `Shutdown`: every stream gets the farewell; the process
//! prints `shutdown streams=N left=M ms=T` and exits once its streams are closed or the
//! grace period `--grace-ms` is over). Options: `--key` (the Redis stream, default
//! `scale`), `--history N` (default 10,000), `--ping-ms MS` (the keep-alive interval,
//! default 15,000), `--max-secs S` (exits after S seconds,
//! default 900). Loopback only.

#[path = "common.rs"]
mod common;

use std::{
    convert::Infallible,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        atomic::{AtomicUsize, Ordering::Relaxed},
        OnceLock,
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{Either, Full};

use common::{now_ns, rss_kib};
use sse_pump::{
    hub::{Hub, RedisStreams, Subscription},
    Event, KeepAlive, Shutdown, Sse, SseBody,
};

/// Streams open now, and connections accepted since the start.
static STREAMS: AtomicUsize = AtomicUsize::new(0);
static ACCEPTED: AtomicUsize = AtomicUsize::new(0);
/// How long a write may wait before the stream is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    SmolRaw,
    HyperTokio,
}

struct Args {
    mode: Mode,
    port: u16,
    redis: String,
    key: String,
    history: usize,
    grace: Duration,
    ping: Duration,
    max_secs: u64,
}

/// What every connection shares.
struct App {
    hub: Hub,
    shutdown: Shutdown,
    grace: Duration,
    ping: Duration,
}

static APP: OnceLock<App> = OnceLock::new();

fn app() -> &'static App {
    APP.get().expect("set before serving")
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        mode: Mode::SmolRaw,
        port: 0,
        redis: String::new(),
        key: "scale".into(),
        history: 10_000,
        grace: Duration::from_secs(5),
        ping: KeepAlive::DEFAULT_INTERVAL,
        max_secs: 900,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--mode" if value == "smol-raw" => args.mode = Mode::SmolRaw,
            "--mode" if value == "hyper-tokio" => args.mode = Mode::HyperTokio,
            "--port" => args.port = number()? as u16,
            "--redis" => args.redis = value,
            "--key" => args.key = value,
            "--history" => args.history = number()? as usize,
            "--grace-ms" => args.grace = Duration::from_millis(number()?),
            "--ping-ms" => args.ping = Duration::from_millis(number()?),
            "--max-secs" => args.max_secs = number()?,
            _ => return Err(format!("unknown option {flag} {value}")),
        }
    }
    if args.redis.is_empty() {
        return Err("--redis URL is required".into());
    }
    Ok(args)
}

fn main() {
    let args = parse_args().unwrap_or_else(|error| {
        eprintln!("scale_server: {error}");
        std::process::exit(2);
    });
    let max = Duration::from_secs(args.max_secs);
    std::thread::spawn(move || {
        std::thread::sleep(max);
        eprintln!("scale_server: --max-secs reached, exiting");
        std::process::exit(0);
    });
    if let Err(error) = run(&args) {
        eprintln!("scale_server: {error}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let redis = RedisStreams::new(&args.redis, &args.key)?;
    let hub = (Hub::builder().history(args.history))
        .max_subscribers(1_000_000)
        .backend(redis)
        .build();
    let shutdown = Shutdown::new();
    let _ = APP.set(App {
        hub,
        shutdown,
        grace: args.grace,
        ping: args.ping,
    });
    let shared = shared_listener(args.port)?;
    let control = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    control.set_nonblocking(true)?;
    println!(
        "listening on http://{} control http://{}",
        shared.local_addr()?,
        control.local_addr()?
    );
    match args.mode {
        Mode::SmolRaw => smol::block_on(raw::serve([shared, control])),
        Mode::HyperTokio => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(hyper_tokio::serve([shared, control]))
        }
    }?;
    Ok(())
}

/// A listener on 127.0.0.1:`port` that other processes may share (`SO_REUSEPORT`).
fn shared_listener(port: u16) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into())?;
    socket.listen(4096)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// The stream of one client: the hub's events, pinged every `--ping-ms` (default 15 s),
/// with a farewell.
fn sse(subscription: Subscription) -> Sse<Subscription> {
    let app = app();
    Sse::new(subscription)
        .keep_alive(KeepAlive::new().interval(app.ping))
        .send_timeout(SEND_TIMEOUT)
        .shutdown(app.shutdown.listener())
        .farewell(Event::new().event("bye").data("shutting down"))
        .shutdown_grace(app.grace)
}

/// What a request asks for.
enum Route {
    Events,
    Stats,
    Publish(u64),
    Shutdown,
    NotFound,
}

fn route(target: &str) -> Route {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match path {
        "/events" => Route::Events,
        "/stats" => Route::Stats,
        "/shutdown" => Route::Shutdown,
        "/publish" => {
            let seq = query.strip_prefix("seq=").and_then(|n| n.parse().ok());
            seq.map_or(Route::NotFound, Route::Publish)
        }
        _ => Route::NotFound,
    }
}

/// Answers a control route: (status, text).
async fn control(route: Route) -> (u16, String) {
    let app = app();
    match route {
        Route::Stats => (200, stats()),
        Route::Publish(seq) => {
            let event = Event::new().data(format!("{seq} {}", now_ns()));
            match app.hub.publish_async(event).await {
                Ok(id) => (200, format!("id={}\n", id.as_str())),
                Err(error) => (503, format!("{error}\n")),
            }
        }
        Route::Shutdown => {
            std::thread::spawn(shut_down);
            (200, "shutting down\n".into())
        }
        Route::Events | Route::NotFound => (404, "not found\n".into()),
    }
}

/// Triggers the shutdown, waits until every stream is closed (or the grace period and a
/// second are over), prints how long it took and exits.
fn shut_down() {
    let app = app();
    let start = Instant::now();
    let streams = STREAMS.load(Relaxed);
    app.shutdown.trigger();
    let limit = app.grace + Duration::from_secs(1);
    while STREAMS.load(Relaxed) > 0 && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "shutdown streams={streams} left={} ms={}",
        STREAMS.load(Relaxed),
        start.elapsed().as_millis()
    );
    std::process::exit(0);
}

fn stats() -> String {
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count().saturating_sub(1));
    format!(
        "streams={} accepted={} subscribers={} rss_kib={} fds={fds}\n",
        STREAMS.load(Relaxed),
        ACCEPTED.load(Relaxed),
        app().hub.stats().subscribers,
        rss_kib(),
    )
}

/// Counts one open stream while it exists.
struct Live;

impl Live {
    fn new() -> Self {
        STREAMS.fetch_add(1, Relaxed);
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        STREAMS.fetch_sub(1, Relaxed);
    }
}

/// Waits after a failed `accept` (out of descriptors: the others' clients may be landing
/// here), so that the loop neither spins nor dies.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);

mod raw {
    use futures_lite::{future, AsyncWriteExt as _};
    use sse_pump::adapters::raw::{read_request, respond};

    use super::*;

    pub async fn serve(listeners: [std::net::TcpListener; 2]) -> io::Result<()> {
        let mut loops = Vec::new();
        for listener in listeners {
            let listener = smol::net::TcpListener::try_from(listener)?;
            loops.push(smol::spawn(accept_loop(listener)));
        }
        for accepting in loops {
            accepting.await;
        }
        future::pending().await
    }

    async fn accept_loop(listener: smol::net::TcpListener) {
        let stop = app().shutdown.listener();
        loop {
            // The stop first: once triggered, no connection waiting in the queue wins.
            let accepted = future::or(
                async {
                    stop.wait().await;
                    None
                },
                async { Some(listener.accept().await) },
            );
            match accepted.await {
                None => return, // the listener closes: new clients go to the others
                Some(Ok((stream, _))) => {
                    ACCEPTED.fetch_add(1, Relaxed);
                    let _ = stream.set_nodelay(true);
                    smol::spawn(serve_one(stream)).detach();
                }
                Some(Err(_)) => {
                    smol::Timer::after(ACCEPT_PAUSE).await;
                }
            }
        }
    }

    async fn serve_one(mut stream: smol::net::TcpStream) {
        let Ok(request) = read_request(&mut stream).await else {
            return;
        };
        let (status, text) = match route(request.path()) {
            Route::Events => {
                let id = request.last_event_id().ok().flatten().map(str::to_owned);
                drop(request); // not held for the stream's life
                match app().hub.subscribe_async(id.as_deref()).await {
                    Ok(subscription) => {
                        let _live = Live::new();
                        let _ = respond(stream, sse(subscription)).await;
                        return;
                    }
                    Err(error) => (503, format!("{error}\n")),
                }
            }
            route => control(route).await,
        };
        let _ = stream.write_all(plain(status, &text).as_bytes()).await;
    }

    fn plain(status: u16, text: &str) -> String {
        format!(
            "HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
            text.len()
        )
    }
}

mod hyper_tokio {
    use http::{Request, Response, StatusCode};
    use hyper::{body::Incoming, server::conn::http1, service::service_fn};
    use hyper_util::rt::TokioIo;
    use sse_pump::{SseResponse, WriteTimeout};

    use super::*;

    type Reply = Response<Either<Counted, Full<Bytes>>>;

    pub async fn serve(listeners: [std::net::TcpListener; 2]) -> io::Result<()> {
        let mut loops = Vec::new();
        for listener in listeners {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            loops.push(tokio::spawn(accept_loop(listener)));
        }
        for accepting in loops {
            let _ = accepting.await;
        }
        std::future::pending().await
    }

    async fn accept_loop(listener: tokio::net::TcpListener) {
        let stop = app().shutdown.listener();
        loop {
            let stream = tokio::select! {
                biased; // the stop first: once triggered, no waiting connection wins
                () = stop.wait() => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        tokio::time::sleep(ACCEPT_PAUSE).await;
                        continue;
                    }
                },
            };
            ACCEPTED.fetch_add(1, Relaxed);
            let _ = stream.set_nodelay(true);
            let io = WriteTimeout::new(TokioIo::new(stream), SEND_TIMEOUT);
            let serving = http1::Builder::new().serve_connection(io, service_fn(reply));
            tokio::spawn(async move {
                let _ = serving.await;
            });
        }
    }

    async fn reply(request: Request<Incoming>) -> Result<Reply, Infallible> {
        let target = request.uri().to_string();
        let (status, text) = match route(&target) {
            Route::Events => {
                let id = sse_pump::last_event_id(request.headers()).ok().flatten();
                match app().hub.subscribe_async(id).await {
                    Ok(subscription) => {
                        let response = SseResponse::new(sse(subscription))
                            .version(request.version())
                            .build();
                        return Ok(response.map(|body| {
                            Either::Left(Counted {
                                body,
                                _live: Live::new(),
                            })
                        }));
                    }
                    Err(error) => (503, format!("{error}\n")),
                }
            }
            route => control(route).await,
        };
        let mut response = Response::new(Either::Right(Full::new(Bytes::from(text))));
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        Ok(response)
    }
}

/// A stream's body, counted in [`STREAMS`] while it exists.
struct Counted {
    body: SseBody<Subscription>,
    _live: Live,
}

impl Body for Counted {
    type Data = Bytes;
    type Error = <SseBody<Subscription> as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
