//! axum: `response(sse)` is a response axum serves as it is (any `http_body::Body`), and
//! `last_event_id` reads the `HeaderMap` extractor.
//!
//! ```text
//! cargo run --example axum --features hyper,tokio
//! curl -N http://127.0.0.1:8004/events
//! ```
//!
//! Set `SSE_ADDR` to listen elsewhere.

use std::time::Duration;

use axum::{
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::get,
    Router,
};
use sse_pump::{adapters::tokio::spawn, last_event_id, response, Event, Sender, Sse};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_ADDR").unwrap_or_else(|_| "127.0.0.1:8004".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}/events", listener.local_addr()?);
    let app = Router::new().route("/events", get(events));
    axum::serve(listener, app).await
}

async fn events(headers: HeaderMap) -> axum::response::Response {
    let start = match last_event_id(&headers) {
        Ok(id) => id
            .and_then(|id| id.parse::<u64>().ok())
            .map_or(0, |id| id.saturating_add(1)),
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let events = spawn(16, move |tx| ticks(tx, start));
    response(Sse::new(events).retry(Duration::from_secs(1))).into_response()
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
