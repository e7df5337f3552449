//! poem 3 serving the demo's counter at `GET /events`, through `Sse::into_stream()`:
//! keep-alive pings, a send timeout, resume by `Last-Event-ID`.
//!
//! ```text
//! cargo run -p sse-pump-frameworks --bin poem
//! curl -N http://127.0.0.1:8000/events
//! ```
//!
//! `SSE_ADDR` sets the address; the other settings are in the package's documentation.

use std::time::Duration;

use poem::{
    get, handler, listener::TcpAcceptor, web::Data, Body, EndpointExt, Request, Response, Route,
    Server,
};
use sse_pump::{channel, Sse};
use sse_pump_frameworks::{counter, first_id, limit, say, Settings};

#[handler]
fn events(request: &Request, settings: Data<&Settings>) -> Response {
    let last_event_id = request.headers().get("last-event-id");
    let first = first_id(last_event_id.map(|id| id.as_bytes()));
    let (tx, rx) = channel(16);
    let frames = Sse::new(rx)
        .keep_alive(settings.keep_alive.clone())
        .send_timeout(settings.send_timeout)
        .retry(Duration::from_secs(1))
        .into_stream();
    // The producer runs on tokio; it stops when the stream is dropped.
    let limit = limit(request.uri().query().unwrap_or(""));
    tokio::spawn(counter(tx, first, limit, settings.tick, frames.report()));
    Response::builder()
        .content_type("text/event-stream")
        .header("cache-control", "no-store")
        .header("x-accel-buffering", "no")
        .body(Body::from_bytes_stream(frames))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let settings = Settings::from_env()?;
    let listener = tokio::net::TcpListener::bind(&settings.addr).await?;
    say(format_args!(
        "listening on http://{}/",
        listener.local_addr()?
    ));
    let app = Route::new().at("/events", get(events)).data(settings);
    Server::new_with_acceptor(TcpAcceptor::from_tokio(listener)?)
        .run(app)
        .await
}
