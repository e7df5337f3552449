//! A custom transport: pump into standard output, fed by a producer on a plain thread.
//!
//! ```text
//! cargo run --example stdout
//! ```
//!
//! Any `futures_io::AsyncWrite` will do; here smol's `Unblock` turns blocking stdout into
//! one, and the producer is ordinary blocking code using `send_blocking`.

use std::time::Duration;

use sse_pump::{channel, Event, SendError, Sse};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (tx, rx) = channel(4);
    let producer = std::thread::spawn(move || -> Result<(), SendError> {
        for n in 0..5 {
            let event = Event::new()
                .id(n.to_string())
                .event("line")
                .data(format!("line {n}\nof two"));
            match tx.send_blocking(event) {
                Ok(()) => {}
                Err(e) if e.is_closed() => break, // the stream is gone
                Err(e) => return Err(e),          // a field was refused
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    });
    let stdout = smol::Unblock::new(std::io::stdout());
    let report = smol::block_on(Sse::new(rx).retry(Duration::from_secs(2)).pump(stdout))?;
    producer.join().expect("producer panicked")?;
    eprintln!("{report:?}");
    Ok(())
}
