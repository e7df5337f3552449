//! Graceful shutdown: on Ctrl-C (SIGINT) or SIGTERM, every open stream gets a farewell
//! event, each connection closes once its response is done, and the process exits within
//! a grace period, whatever the clients do.
//!
//! ```text
//! cargo run --example shutdown --features hyper,tokio
//! curl -N http://127.0.0.1:8006/events      # then press Ctrl-C in the server's terminal
//! ```
//!
//! Set `SSE_ADDR` to listen elsewhere.

use std::{convert::Infallible, time::Duration};

use http::{Request, Response};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown};
use sse_pump::{
    adapters::tokio::{spawn, Task},
    Event, Sender, Shutdown, ShutdownListener, Spawned, Sse, SseBody, SseResponse, WriteTimeout,
};
use tokio::{net::TcpListener, signal};

/// How long the farewells and the closing connections may take.
const GRACE: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_ADDR").unwrap_or_else(|_| "127.0.0.1:8006".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on http://{}/events", listener.local_addr()?);
    let shutdown = Shutdown::new();
    let connections = GracefulShutdown::new();
    let stop = stop_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                let io = WriteTimeout::new(TokioIo::new(stream), Duration::from_secs(30));
                let signal = shutdown.listener();
                let service = service_fn(move |request| handle(request, signal.clone()));
                let connection = http1::Builder::new().serve_connection(io, service);
                let connection = connections.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut stop => break,
        }
    }
    drop(listener);
    println!("shutting down: a farewell to every open stream");
    shutdown.trigger();
    match tokio::time::timeout(GRACE, connections.shutdown()).await {
        Ok(()) => println!("every connection closed; bye"),
        Err(_) => println!("grace period over; closing the rest"),
    }
    Ok(())
}

async fn handle(
    request: Request<Incoming>,
    signal: ShutdownListener,
) -> Result<Response<SseBody<Spawned<Task>>>, Infallible> {
    let events = spawn(16, ticks);
    let farewell = Event::new().event("bye").data("server shutting down");
    let sse = Sse::new(events)
        .shutdown(signal)
        .farewell(farewell)
        .shutdown_grace(GRACE);
    Ok(SseResponse::new(sse).version(request.version()).build())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    #[cfg(unix)]
    let terminate = async {
        match signal::unix::signal(signal::unix::SignalKind::terminate()) {
            Ok(mut term) => drop(term.recv().await),
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// A tick a second, until the stream ends.
async fn ticks(tx: Sender) -> Result<(), std::convert::Infallible> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    for n in 0u64.. {
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
