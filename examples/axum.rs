//! axum, complete: `Sse` is the response, `LastEventId` resumes, keep-alive pings, a send
//! timeout on the stream and on the connection (`WriteTimeoutListener`), and on Ctrl-C a
//! farewell event to every open stream before `axum::serve` returns.
//!
//! ```text
//! cargo run --example axum --features axum
//! curl -N http://127.0.0.1:8004/events
//! ```
//!
//! Set `SSE_ADDR` to listen elsewhere.

use std::time::Duration;

use axum::{extract::State, routing::get, Router};
use sse_pump::{
    adapters::{
        axum::{LastEventId, WriteTimeoutListener},
        tokio::{spawn, Task},
    },
    Event, KeepAlive, Sender, Shutdown, ShutdownListener, Spawned, Sse,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("SSE_ADDR").unwrap_or_else(|_| "127.0.0.1:8004".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}/events", listener.local_addr()?);
    // A client that reads nothing for 30 s loses its connection.
    let listener = WriteTimeoutListener::new(listener, Duration::from_secs(30));
    let shutdown = Shutdown::new();
    let app = Router::new()
        .route("/events", get(events))
        .with_state(shutdown.listener());
    let stop = async move {
        let _ = tokio::signal::ctrl_c().await;
        shutdown.trigger(); // every stream sends its farewell and ends
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    Ok(())
}

async fn events(
    State(shutdown): State<ShutdownListener>,
    LastEventId(last): LastEventId, // a malformed header is a 400, not a panic
) -> Sse<Spawned<Task>> {
    let start = last
        .and_then(|id| id.parse::<u64>().ok())
        .map_or(0, |id| id.saturating_add(1));
    let events = spawn(16, move |tx| ticks(tx, start));
    let farewell = Event::new().event("bye").data("server restarting");
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .send_timeout(Duration::from_secs(30))
        .retry(Duration::from_secs(1))
        .shutdown(shutdown)
        .farewell(farewell)
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
