//! An LLM's token stream with reqwest: a `POST` with a JSON body and a key, the answer's
//! tokens printed as they come, `data: [DONE]` the end. No reconnection: the request is
//! not sent twice. The README's LLM example, with the URL from the command line.
//!
//! ```text
//! cargo run --example llm_reqwest --features reqwest,json -- http://127.0.0.1:8000/v1/chat/completions
//! OPENAI_API_KEY=sk-... cargo run --example llm_reqwest --features reqwest,json -- URL
//! ```
//!
//! (reqwest is built here without TLS; enable one of its TLS features for `https`.)

use futures_lite::StreamExt;
use sse_pump::client::{post, reqwest::Reqwest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url =
        (std::env::args().nth(1)).unwrap_or("https://api.openai.com/v1/chat/completions".into());
    let mut events = post(Reqwest::default(), url)
        .bearer_auth(std::env::var("OPENAI_API_KEY")?)
        .json(&serde_json::json!({"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "Hi!"}]}))
        .end_when(|event| event.data == "[DONE]").send().await?;
    while let Some(event) = events.next().await {
        let chunk: serde_json::Value = event?.json().unwrap_or_default(); // `[DONE]` is no JSON
        print!(
            "{}",
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or("")
        );
        std::io::Write::flush(&mut std::io::stdout())?;
    }
    Ok(())
}
