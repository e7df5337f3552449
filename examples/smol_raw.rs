//! SSE on smol over a bare `TcpStream`: no HTTP stack, the request head read with
//! httparse (`adapters::raw`), a producer spawned on smol that resumes from
//! `Last-Event-ID`.
//!
//! ```text
//! cargo run --example smol_raw --features smol
//! curl -N http://127.0.0.1:8005/events
//! curl -N -H 'Last-Event-ID: 41' http://127.0.0.1:8005/events
//! ```
//!
//! Set `SSE_ADDR` to listen elsewhere.

use std::time::Duration;

use smol::{io::AsyncWriteExt, net::TcpListener};
use sse_pump::{
    adapters::{raw, smol::spawn},
    Event, Sender, Sse,
};

fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_ADDR").unwrap_or_else(|_| "127.0.0.1:8005".into());
    smol::block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        println!("listening on http://{}/events", listener.local_addr()?);
        loop {
            let (mut stream, peer) = listener.accept().await?;
            smol::spawn(async move {
                let Ok(request) = raw::read_request(&mut stream).await else {
                    return;
                };
                let Ok(last_id) = request.last_event_id() else {
                    let _ = stream
                        .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                };
                let start = last_id
                    .and_then(|id| id.parse::<u64>().ok())
                    .map_or(0, |id| id.saturating_add(1));
                let events = spawn(16, move |tx| ticks(tx, start));
                let sse = Sse::new(events).retry(Duration::from_secs(1));
                let report = raw::respond(stream, sse).await;
                println!("{peer}: {report:?}");
            })
            .detach();
        }
    })
}

/// A tick a second from `start`, until the client is gone.
async fn ticks(tx: Sender, start: u64) -> Result<(), std::convert::Infallible> {
    for n in start..=u64::MAX {
        let event = Event::new()
            .id(n.to_string())
            .event("tick")
            .data(n.to_string());
        if tx.send(event).await.is_err() {
            break;
        }
        smol::Timer::after(Duration::from_secs(1)).await;
    }
    Ok(())
}
