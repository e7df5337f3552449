//! hyper 1.x on tokio: `response(sse)` is the body, `WriteTimeout` drops clients that stop
//! reading, the producer resumes from `Last-Event-ID`.
//!
//! ```text
//! cargo run --example hyper_tokio --features hyper,tokio
//! curl -N http://127.0.0.1:8002/events
//! ```
//!
//! Set `SSE_ADDR` to listen elsewhere.

use std::{convert::Infallible, time::Duration};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use sse_pump::{
    adapters::tokio::{spawn, Task},
    last_event_id, Event, Sender, Spawned, Sse, SseBody, SseResponse, WriteTimeout,
};
use tokio::net::TcpListener;

type Body = Either<SseBody<Spawned<Task>>, Full<Bytes>>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_ADDR").unwrap_or_else(|_| "127.0.0.1:8002".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on http://{}/events", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let io = WriteTimeout::new(TokioIo::new(stream), Duration::from_secs(30));
        tokio::spawn(async move {
            let served = http1::Builder::new().serve_connection(io, service_fn(handle));
            if let Err(e) = served.await {
                eprintln!("connection ended: {e}");
            }
        });
    }
}

async fn handle(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if request.uri().path() != "/events" {
        return Ok(plain(StatusCode::NOT_FOUND, "try /events".into()));
    }
    let start = match last_event_id(request.headers()) {
        Ok(id) => id
            .and_then(|id| id.parse::<u64>().ok())
            .map_or(0, |id| id.saturating_add(1)),
        Err(e) => return Ok(plain(StatusCode::BAD_REQUEST, e.to_string())),
    };
    let events = spawn(16, move |tx| ticks(tx, start));
    let sse = Sse::new(events).retry(Duration::from_secs(1));
    let response = SseResponse::new(sse).version(request.version()).build();
    Ok(response.map(Either::Left))
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::from(text))));
    *response.status_mut() = status;
    response
}

/// A tick a second from `start`, until the client is gone.
async fn ticks(tx: Sender, start: u64) -> Result<(), std::convert::Infallible> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    for n in start..=u64::MAX {
        tick.tick().await;
        let event = Event::new()
            .id(n.to_string())
            .event("tick")
            .data(n.to_string());
        if tx.send(event).await.is_err() {
            break;
        }
    }
    Ok(())
}
