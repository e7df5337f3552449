//! Per-user notifications: many named topics in one process (`Topics`), each with its own
//! ids and history, one stream per topic or one stream of several. hyper on tokio.
//!
//! ```text
//! cargo run --example notifications --features hyper,tokio
//! curl -N http://127.0.0.1:8010/topics/user:17/events &
//! curl --data-binary 'you have mail' http://127.0.0.1:8010/topics/user:17
//! curl -N 'http://127.0.0.1:8010/events?topic=user:17&topic=news'
//! curl http://127.0.0.1:8010/stats
//! ```
//!
//! It listens on `SSE_ADDR` (default `127.0.0.1:8010`; `127.0.0.1:0` picks a free port);
//! the first line on stdout is `listening on http://ADDR/`.
//!
//! - `POST /topics/{name}`: publishes the body (UTF-8 text, 1 byte to 4 KiB) as one event
//!   of the topic; `200` with the event's id, `503` with `Retry-After` when the log is
//!   unreachable, `400` for a bad name or body, `413` beyond 4 KiB. A publish is retried
//!   for up to 2 s with one idempotency key, so it is never written twice.
//! - `GET /topics/{name}/events`: the topic's stream, resuming after `Last-Event-ID`
//!   (the ids `POST` answers with) from its history (the last 100 events).
//! - `GET /events?topic=a&topic=b`: one stream of several topics; each event's id names
//!   the last event of every topic (`a=17,b=4`), so one `Last-Event-ID` resumes them all.
//! - `GET /stats`: `{"topics": …, "subscribers": …, "threads": …}` (this process's
//!   thread count).
//!
//! A topic is made on first use and dropped after a minute without subscribers
//! (`TOPICS_IDLE_MS` sets another time); in process, its history goes with it and its ids
//! start from the time in microseconds, so an id from a dropped topic gets a `reset`.
//! Authorization is the application's: check who may read or write a topic in `handle`,
//! before it is touched.
//!
//! **Scale-out.** With feature `redis` and `REDIS_URL` set, each topic's log is the Redis
//! stream `notifications:{name}`: start the example several times against one Redis, and
//! a notification posted to any of them reaches the subscribers of all, and a client
//! resumes on any of them. A topic dropped here comes back with its history from Redis.
//! Each process runs one Redis thread and two connections for all its topics
//! (`RedisStreams::stream`), whatever their number.

use std::{convert::Infallible, time::Duration};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full, LengthLimitError, Limited};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use sse_pump::{
    hub::{Following, Hub, HubBuilder, Subscription, Topics},
    last_event_id, unavailable, Event, Source, Sse, SseBody, SseResponse, WriteTimeout,
};
use tokio::net::TcpListener;

type Stream = Either<SseBody<Subscription>, SseBody<Following>>;
type Body = Either<Stream, Full<Bytes>>;

/// The largest notification accepted, in bytes.
const MAX_MESSAGE: usize = 4 * 1024;

/// How long a refused client is asked to wait before it tries again.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// How long a publish is retried while the log is unreachable.
const PUBLISH_FOR: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_ADDR").unwrap_or_else(|_| "127.0.0.1:8010".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on http://{}/", listener.local_addr()?);
    let make = topic_hubs(std::env::var("REDIS_URL").ok().as_deref());
    let idle = std::env::var("TOPICS_IDLE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok());
    let topics = Topics::new(make).idle_after(Duration::from_millis(idle.unwrap_or(60_000)));
    loop {
        let (stream, _) = listener.accept().await?;
        let io = WriteTimeout::new(TokioIo::new(stream), Duration::from_secs(30));
        let topics = topics.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(topics.clone(), request));
            let served = http1::Builder::new().serve_connection(io, service).await;
            match served {
                Err(e) if !e.is_incomplete_message() => eprintln!("connection ended: {e}"),
                _ => {}
            }
        });
    }
}

/// What makes each topic's hub: in this process, or following the Redis stream of the
/// topic (every topic's stream on one thread and two connections).
fn topic_hubs(redis: Option<&str>) -> impl Fn(&str) -> HubBuilder + Send + Sync + 'static {
    let redis = redis.map(shared);
    move |name: &str| {
        let _ = name; // the Redis stream's name, with feature `redis`
        let hub = Hub::builder().history(100).max_subscribers(10_000);
        match &redis {
            #[cfg(feature = "redis")]
            Some(redis) => hub.backend(redis.stream(&format!("notifications:{name}"))),
            _ => hub,
        }
    }
}

#[cfg(feature = "redis")]
fn shared(url: &str) -> sse_pump::hub::RedisStreams {
    match sse_pump::hub::RedisStreams::new(url, "notifications") {
        Ok(redis) => redis,
        Err(e) => panic!("REDIS_URL: {e}"),
    }
}

#[cfg(not(feature = "redis"))]
fn shared(_: &str) -> std::convert::Infallible {
    panic!("REDIS_URL needs the `redis` feature")
}

async fn handle(topics: Topics, request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_owned();
    let topic = path.strip_prefix("/topics/");
    Ok(match (request.method(), topic) {
        (&Method::GET, _) if path == "/stats" => stats(&topics),
        (&Method::GET, _) if path == "/events" => several(&topics, &request).await,
        (&Method::GET, Some(rest)) => match rest.strip_suffix("/events") {
            Some(name) => one(&topics, name, &request).await,
            None => plain(StatusCode::NOT_FOUND, "try /topics/{name}/events"),
        },
        (&Method::POST, Some(name)) => post(&topics, name, request).await,
        _ => plain(StatusCode::NOT_FOUND, "try POST /topics/{name}"),
    })
}

/// The request's `Last-Event-ID`, or why it is refused (a 400).
fn resume_from(request: &Request<Incoming>) -> Result<Option<&str>, String> {
    last_event_id(request.headers()).map_err(|e| e.to_string())
}

/// `GET /topics/{name}/events`.
async fn one(topics: &Topics, name: &str, request: &Request<Incoming>) -> Response<Body> {
    let last = match resume_from(request) {
        Ok(last) => last,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &e),
    };
    let hub = match topics.topic(name) {
        Ok(hub) => hub,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match hub.subscribe_async(last).await {
        Ok(rx) => stream(Sse::new(rx), request).map(|body| Either::Left(Either::Left(body))),
        Err(_) => unavailable(RETRY_AFTER).map(Either::Right),
    }
}

/// `GET /events?topic=a&topic=b`.
async fn several(topics: &Topics, request: &Request<Incoming>) -> Response<Body> {
    let last = match resume_from(request) {
        Ok(last) => last,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &e),
    };
    let query = request.uri().query().unwrap_or("");
    let names: Vec<&str> = (query.split('&'))
        .filter_map(|pair| pair.strip_prefix("topic="))
        .collect();
    if names.is_empty() {
        return plain(
            StatusCode::BAD_REQUEST,
            "name topics: /events?topic=a&topic=b",
        );
    }
    match topics.follow_async(&names, last).await {
        Ok(rx) => stream(Sse::new(rx), request).map(|body| Either::Left(Either::Right(body))),
        Err(sse_pump::hub::SubscribeError::Topic(e)) => {
            plain(StatusCode::BAD_REQUEST, &e.to_string())
        }
        Err(_) => unavailable(RETRY_AFTER).map(Either::Right),
    }
}

fn stream<S: Source>(sse: Sse<S>, request: &Request<Incoming>) -> Response<SseBody<S>> {
    let sse = sse.retry(Duration::from_secs(1));
    SseResponse::new(sse).version(request.version()).build()
}

/// `POST /topics/{name}`: publishes the body as one event.
async fn post(topics: &Topics, name: &str, request: Request<Incoming>) -> Response<Body> {
    let hub = match topics.topic(name) {
        Ok(hub) => hub,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let text = match body(request).await {
        Ok(text) => text,
        Err((status, why)) => return plain(status, &why),
    };
    // One key for every try: a try whose answer was lost is not written twice.
    let key = format!("{:x}-{}", std::process::id(), next_key());
    let deadline = tokio::time::Instant::now() + PUBLISH_FOR;
    loop {
        match hub.publish_once_async(&key, Event::new().data(&text)).await {
            Ok(id) => return plain(StatusCode::OK, id.as_str()),
            Err(e) if e.is_unavailable() && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await; // the log reconnects
            }
            Err(e) => {
                let mut response = unavailable(RETRY_AFTER).map(Either::Right);
                *response.body_mut() = Either::Right(Full::new(Bytes::from(e.to_string())));
                return response;
            }
        }
    }
}

/// A number for this process's idempotency keys.
fn next_key() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The request's body as text, or the status and reason refusing it.
async fn body(request: Request<Incoming>) -> Result<String, (StatusCode, String)> {
    let declared = request.headers().get(header::CONTENT_LENGTH);
    let declared = declared.and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "at most 4096 bytes".to_owned(),
        )
    };
    if declared.is_some_and(|length| length > MAX_MESSAGE as u64) {
        return Err(too_large());
    }
    let body = match Limited::new(request.into_body(), MAX_MESSAGE)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return Err(too_large()),
        Err(e) => return Err((StatusCode::BAD_REQUEST, e.to_string())),
    };
    match String::from_utf8(body.to_vec()) {
        Ok(text) if !text.is_empty() => Ok(text),
        _ => Err((
            StatusCode::BAD_REQUEST,
            "a notification is UTF-8 text".into(),
        )),
    }
}

/// `GET /stats`.
fn stats(topics: &Topics) -> Response<Body> {
    let threads = std::fs::read_dir("/proc/self/task").map_or(0, |tasks| tasks.count());
    let json = format!(
        "{{\"topics\":{},\"subscribers\":{},\"threads\":{}}}",
        topics.len(),
        topics.subscribers(),
        threads
    );
    let mut response = plain(StatusCode::OK, &json);
    let content_type = HeaderValue::from_static("application/json");
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    response
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::from(text.to_owned()))));
    *response.status_mut() = status;
    let content_type = HeaderValue::from_static("text/plain; charset=utf-8");
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    response
}
