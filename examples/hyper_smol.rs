//! hyper 1.x on smol: `FuturesIo` makes smol's `TcpStream` hyper IO, `WriteTimeout` drops
//! clients that stop reading, `response(sse)` is the body.
//!
//! ```text
//! cargo run --example hyper_smol --features hyper,smol
//! curl -N http://127.0.0.1:8003/events
//! ```
//!
//! Set `SSE_ADDR` to listen elsewhere.

use std::{convert::Infallible, time::Duration};

use http::{Request, Response};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use smol::net::TcpListener;
use sse_pump::{
    adapters::smol::{spawn, Task},
    Event, FuturesIo, Sender, Spawned, Sse, SseBody, SseResponse, WriteTimeout,
};

fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_ADDR").unwrap_or_else(|_| "127.0.0.1:8003".into());
    smol::block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        println!("listening on http://{}/events", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let io = WriteTimeout::new(FuturesIo::new(stream), Duration::from_secs(30));
            smol::spawn(async move {
                let served = http1::Builder::new().serve_connection(io, service_fn(handle));
                if let Err(e) = served.await {
                    eprintln!("connection ended: {e}");
                }
            })
            .detach();
        }
    })
}

/// Every path gets the stream.
async fn handle(
    request: Request<Incoming>,
) -> Result<Response<SseBody<Spawned<Task>>>, Infallible> {
    let events = spawn(16, ticks);
    let sse = Sse::new(events).retry(Duration::from_secs(1));
    Ok(SseResponse::new(sse).version(request.version()).build())
}

/// A tick a second, until the client is gone.
async fn ticks(tx: Sender) -> Result<(), std::convert::Infallible> {
    for n in 0u64.. {
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
