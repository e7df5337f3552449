//! SSE on tokio over a bare `TcpStream`: no HTTP stack, the request head read with
//! httparse (`adapters::tokio::read_request`), a producer spawned on tokio.
//!
//! ```text
//! cargo run --example tokio_raw --features tokio
//! curl -N http://127.0.0.1:8001/events
//! ```
//!
//! Set `SSE_ADDR` to listen elsewhere.

use std::time::Duration;

use sse_pump::{
    adapters::tokio::{read_request, respond, spawn},
    Event, Sender, Sse,
};
use tokio::{io::AsyncWriteExt, net::TcpListener};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_ADDR").unwrap_or_else(|_| "127.0.0.1:8001".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on http://{}/events", listener.local_addr()?);
    loop {
        let (mut stream, peer) = listener.accept().await?;
        tokio::spawn(async move {
            let Ok(request) = read_request(&mut stream).await else {
                return;
            };
            if request.path() != "/events" {
                let _ = stream
                    .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                    .await;
                return;
            }
            let events = spawn(16, ticks);
            let report = respond(stream, Sse::new(events)).await;
            println!("{peer}: {report:?}");
        });
    }
}

/// Two ticks a second until the client is gone.
async fn ticks(tx: Sender) -> Result<(), std::convert::Infallible> {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
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
