//! An LLM's token stream with reqwest: a `POST` with a JSON body and a key, the answer's
//! `data: {...}` chunks printed as they come, `data: [DONE]` the end. No reconnection:
//! the request is not sent twice.
//!
//! ```text
//! cargo run --example llm_reqwest --features reqwest,json -- http://127.0.0.1:8000/v1/chat/completions
//! OPENAI_API_KEY=sk-... cargo run --example llm_reqwest --features reqwest,json -- URL
//! ```
//!
//! (reqwest is built here without TLS; enable one of its TLS features for `https`.)

use std::{error::Error, io::Write};

use futures_lite::StreamExt;
use serde_json::{json, Value};
use sse_pump::client::{self, reqwest::Reqwest};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8000/v1/chat/completions".into());
    let key = std::env::var("OPENAI_API_KEY").unwrap_or_else(|_| "sk-test".into());
    let request = json!({
        "model": "gpt-4o-mini",
        "stream": true,
        "messages": [{"role": "user", "content": "Say hello in five words."}],
    });

    let fetch = Reqwest::new(reqwest::Client::new());
    let mut events = client::post(&fetch, url)
        .bearer_auth(key)
        .json(&request)
        .send()
        .await?; // a 4xx/5xx is OpenError::Rejected with the status, headers and body
    while let Some(event) = events.next().await {
        let event = event?; // a stream cut short is an error; a clean end is `None`
        if event.data == "[DONE]" {
            break;
        }
        let chunk: Value = serde_json::from_str(&event.data)?;
        print!(
            "{}",
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or("")
        );
        std::io::stdout().flush()?;
    }
    println!();
    Ok(())
}
