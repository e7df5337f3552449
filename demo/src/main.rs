//! The demo page and its event stream: `cargo run -p sse-pump-demo`, then open
//! http://127.0.0.1:8000/ (or `curl -N http://127.0.0.1:8000/events`). The program is
//! `examples/demo.rs`, shared with the tests that run it.

#[path = "../../examples/demo.rs"]
mod demo;

fn main() -> std::io::Result<()> {
    demo::main()
}
