//! A blocking SSE client over `reqwest::blocking`: no async code, the response body (a
//! `std::io::Read`) handed to `sse_pump::decode_reader`. Here an LLM-style `POST`.
//!
//! ```text
//! cargo run --example blocking_reqwest -- http://127.0.0.1:8000/v1/chat/completions
//! ```
//!
//! (`reqwest` with its `blocking` feature is a dev-dependency; sse-pump needs no feature:
//! `decode_reader` is in the core. ureq's `body_mut().as_reader()` plugs in the same way.)

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8000/v1/chat/completions".into());
    let key = std::env::var("OPENAI_API_KEY").unwrap_or_else(|_| "sk-test".into());

    let response = reqwest::blocking::Client::new()
        .post(url)
        .bearer_auth(key)
        .header("accept", "text/event-stream")
        .header("content-type", "application/json")
        .body(
            r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
        )
        .send()?;
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    let is_stream = kind.is_some_and(|k| k.starts_with("text/event-stream"));
    if !response.status().is_success() || !is_stream {
        let status = response.status();
        return Err(format!("{status}, not an event stream: {}", response.text()?).into());
    }
    for event in sse_pump::decode_reader(response) {
        let event = event?; // a body cut short is DecodeError::Transport
        if event.data == "[DONE]" {
            break;
        }
        println!("{}", event.data);
    }
    Ok(())
}
