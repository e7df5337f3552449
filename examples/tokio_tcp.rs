//! A producer on tokio, streaming over a tokio `TcpStream`.
//!
//! ```text
//! cargo run --example tokio_tcp
//! curl -N http://127.0.0.1:8001/
//! ```
//!
//! The pump writes to any `futures_io::AsyncWrite`; `tokio_util::compat` adapts tokio's
//! sockets to it. Every request gets the stream, whatever its path. Set `SSE_ADDR` to
//! listen elsewhere.

use std::time::Duration;

use sse_pump::{channel, Event, KeepAlive, Sse};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use tokio_util::compat::TokioAsyncWriteCompatExt;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("SSE_ADDR").unwrap_or_else(|_| "127.0.0.1:8001".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("run: curl -N http://{addr}/");
    loop {
        let (mut socket, peer) = listener.accept().await?;
        tokio::spawn(async move {
            let mut head = [0u8; 4096];
            let _ = socket.read(&mut head).await; // a real server parses the request
            let status = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\n\r\n";
            if socket.write_all(status.as_bytes()).await.is_err() {
                return;
            }
            let (tx, rx) = channel(16);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(500));
                for n in 0u64.. {
                    tick.tick().await;
                    let event = Event::new()
                        .id(n.to_string())
                        .unwrap()
                        .event("tick")
                        .unwrap()
                        .data(n.to_string());
                    if tx.send(event).await.is_err() {
                        break; // the client is gone
                    }
                }
            });
            let report = Sse::new(rx)
                .keep_alive(KeepAlive::new())
                .send_timeout(Duration::from_secs(10))
                .pump(socket.compat_write())
                .await;
            println!("{peer}: {report:?}");
        });
    }
}
