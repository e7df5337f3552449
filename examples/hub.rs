//! A hub in process: one publisher, three subscribers pumped into buffers, on smol.
//!
//! `alice` listens from the start; `bob` connects late with `Last-Event-ID: 2` and gets
//! what he missed by replay; `carol` presents an id the hub does not know and gets the
//! `reset` event. Then one `close` ends all three streams with a farewell.
//!
//! Run with `cargo run --example hub`.

use sse_pump::{
    hub::{Hub, Lag},
    Event, Sse,
};

fn chat(text: &str) -> Event {
    Event::new().event("chat").data(text)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    smol::block_on(async {
        let hub = Hub::builder()
            .history(100)
            .subscriber_capacity(16)
            .on_lag(Lag::DropOldest)
            .build();
        let pump = |name: &'static str, rx| {
            smol::spawn(async move {
                let mut wire = Vec::new();
                let report = Sse::new(rx).keep_alive(None).pump(&mut wire).await;
                (name, report, String::from_utf8(wire).unwrap_or_default())
            })
        };

        let alice = pump("alice", hub.subscribe(None)?);
        for text in ["hello", "anyone here?"] {
            hub.publish(chat(text))?; // ids 1 and 2
        }
        hub.publish(chat("bob, you missed this"))?; // id 3
        let bob = pump("bob", hub.subscribe(Some("2"))?);
        let carol = pump("carol", hub.subscribe(Some("from-another-server"))?);
        hub.publish(chat("welcome back"))?; // id 4

        println!("{:?}\n", hub.stats());
        hub.close(Event::new().event("bye").data("server restarting"));
        for task in [alice, bob, carol] {
            let (name, report, wire) = task.await;
            println!("--- {name}: {:?}\n{wire}", report?);
        }
        Ok(())
    })
}
