//! A blocking SSE client: no async runtime, `client::blocking` over `std::net::TcpStream`
//! (plain HTTP), with the async client's checks and deadlines.
//!
//! ```text
//! cargo run --example demo --features json,smol                  # in one terminal: serves /events
//! cargo run --example blocking_client --features client          # in another
//! cargo run --example blocking_client --features client -- http://127.0.0.1:8000/events 5
//! ```
//!
//! A status other than 200 or a content type other than `text/event-stream` is a typed
//! `client::Error::Rejected` (status, headers, start of the body); a server that never
//! answers, goes silent or trickles a line without ending it is a typed timeout (`client::Error::ResponseTimeout`, `IdleTimeout`, `ProgressTimeout`).

use std::error::Error;

use sse_pump::client::{self, blocking};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let url = (args.next()).unwrap_or_else(|| "http://127.0.0.1:8000/events".into());
    let limit = args.next().map(|n| n.parse()).transpose()?;
    let events = client::get(blocking::Client, url).send_blocking()?;
    for event in events.take(limit.unwrap_or(usize::MAX)) {
        let event = event?; // a body cut short, or a deadline passed
        println!("{} (id {:?}): {}", event.event, event.id, event.data);
    }
    Ok(())
}
