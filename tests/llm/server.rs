//! An OpenAI-style endpoint served by sse-pump over hyper (HTTP/1.1, loopback, its own
//! thread and tokio runtime): `POST` JSON in, `data: {...}` token events and a final
//! `data: [DONE]` out. Resumes after `Last-Event-ID` or the body's `resume_after`.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc, Mutex,
    },
    time::Duration,
};

use bytes::Bytes;
use futures_lite::{stream, StreamExt};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::{
    body::Frame,
    body::Incoming,
    server::conn::{http1, http2},
    service::service_fn,
};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use sse_pump::{Event, Sse, SseResponse};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = UnsyncBoxBody<Bytes, BoxError>;

/// The key the endpoint accepts.
pub const KEY: &str = "sk-test";

/// One request as the endpoint saw it.
#[derive(Debug)]
pub struct Seen {
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A running endpoint.
pub struct Llm {
    pub addr: SocketAddr,
    seen: mpsc::Receiver<Seen>,
}

impl Llm {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The next request the endpoint saw (within 10 s).
    pub fn next_request(&self) -> Seen {
        self.seen
            .recv_timeout(Duration::from_secs(10))
            .expect("a request within 10 s")
    }

    /// Asserts that no further request comes (one would come within milliseconds).
    pub fn no_more_requests(&self) {
        if let Ok(seen) = self.seen.recv_timeout(Duration::from_millis(300)) {
            panic!("unexpected request {seen:?}");
        }
    }
}

struct Shared {
    requests: AtomicUsize,
    cut_first_after: Option<usize>,
    seen: Mutex<mpsc::Sender<Seen>>,
}

/// Serves until the test process ends. With `cut_first_after: Some(k)`, the first stream
/// fails after `k` tokens: sse-pump aborts the body (no terminating chunk).
pub fn serve(cut_first_after: Option<usize>) -> Llm {
    serve_with(cut_first_after, false)
}

/// [`serve`] over HTTP/2 (prior knowledge, no TLS) when `h2`: a failed stream is reset.
pub fn serve_with(cut_first_after: Option<usize>, h2: bool) -> Llm {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, seen) = mpsc::channel();
    let shared = Arc::new(Shared {
        requests: AtomicUsize::new(0),
        cut_first_after,
        seen: Mutex::new(tx),
    });
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                let shared = shared.clone();
                let service = service_fn(move |request| handle(request, shared.clone()));
                let io = TokioIo::new(socket);
                if h2 {
                    let h2 = http2::Builder::new(TokioExecutor::new());
                    tokio::spawn(async move { h2.serve_connection(io, service).await });
                } else {
                    tokio::spawn(http1::Builder::new().serve_connection(io, service));
                }
            }
        });
    });
    Llm { addr, seen }
}

async fn handle(
    request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let nth = shared.requests.fetch_add(1, Ordering::SeqCst);
    let seen = Seen {
        method: parts.method.clone(),
        headers: parts.headers.clone(),
        body: body.clone(),
    };
    shared.seen.lock().unwrap().send(seen).unwrap();
    match parts.uri.path() {
        "/stall/head" => std::future::pending().await,
        "/stall/body" => {
            return Ok(stream_of(
                stream::once(Ok(token(0))).chain(stream::pending()),
            ))
        }
        "/stall/rejection" => return Ok(stalled_rejection()),
        _ => {}
    }
    let auth = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {KEY}")) {
        let error = json!({"error": {"message": "invalid api key", "type": "auth"}});
        return Ok(plain(StatusCode::UNAUTHORIZED, error.to_string()));
    }
    let resume = parts
        .headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let resume = resume.or_else(|| body["resume_after"].as_str().map(str::to_owned));
    let start = resume
        .and_then(|id| id.parse::<usize>().ok())
        .map_or(0, |id| id + 1);
    let tokens = body["tokens"].as_u64().unwrap_or(5) as usize;
    let mut events: Vec<Result<Event, String>> = (start..tokens).map(|i| Ok(token(i))).collect();
    events.push(Ok(Event::new().data("[DONE]")));
    if let (0, Some(k)) = (nth, shared.cut_first_after) {
        events.truncate(k);
        events.push(Err("the model crashed".into()));
    }
    Ok(stream_of(stream::iter(events)))
}

/// Token `i`: id `i`, an OpenAI-style chunk whose content is `t{i}`.
fn token(i: usize) -> Event {
    let chunk = json!({"choices": [{"delta": {"content": format!("t{i}")}}]});
    Event::new().id(i.to_string()).data(chunk.to_string())
}

fn stream_of<S>(events: S) -> Response<Body>
where
    S: futures_lite::Stream<Item = Result<Event, String>> + Send + 'static,
{
    let sse = Sse::from_stream(Box::pin(events)).keep_alive(None);
    SseResponse::new(sse)
        .build()
        .map(|body| body.map_err(|e| Box::new(e) as BoxError).boxed_unsync())
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    let body = Full::new(Bytes::from(text))
        .map_err(|e| match e {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    response
}

/// A 429 whose body starts, then never ends.
fn stalled_rejection() -> Response<Body> {
    let start = stream::once(Ok::<_, BoxError>(Frame::data(Bytes::from("slow down"))));
    let body = StreamBody::new(start.chain(stream::pending())).boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response
}
