//! A long-lived `POST` event stream with hyper-util's legacy client: an `EventSource`
//! whose request is built for each attempt (a fresh body, the key, the last event ID in
//! the body as well as the `Last-Event-ID` header), resent after a failure because this
//! API resumes rather than starting over (`retry_non_idempotent`), and ended by
//! `data: [DONE]`.
//!
//! ```text
//! cargo run --example llm_hyper --features client,json -- http://127.0.0.1:8000/v1/chat/completions
//! ```

use std::{error::Error, time::Duration};

use bytes::Bytes;
use futures_lite::StreamExt;
use http_body_util::Full;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use serde_json::json;
use sse_pump::client::{Backoff, EventSource, EventSourceItem};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8000/v1/chat/completions".into());
    let key = std::env::var("OPENAI_API_KEY").unwrap_or_else(|_| "sk-test".into());

    let http = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let fetch = move |request: http::Request<Bytes>| http.request(request.map(Full::new));
    let make_request = move |last_event_id: &str| {
        let body = json!({
            "model": "gpt-4o-mini",
            "stream": true,
            "messages": [{"role": "user", "content": "Count to ten."}],
            "resume_after": last_event_id, // where this API wants it
        });
        http::Request::post(&url)
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(Bytes::from(body.to_string()))
    };
    let mut source = EventSource::from_fn(fetch, make_request)
        .retry_non_idempotent(true) // this API resumes: resending is safe
        .end_when(|event| event.data == "[DONE]")
        .reconnect(
            Backoff::exponential(Duration::from_millis(500), Duration::from_secs(10))
                .max_attempts(5),
        )
        .response_timeout(Duration::from_secs(30))
        .idle_timeout(Duration::from_secs(120)); // a model may think before its first token

    while let Some(item) = source.next().await {
        match item? {
            EventSourceItem::Event(event) if event.data != "[DONE]" => println!("{}", event.data),
            EventSourceItem::Reconnecting { after, cause, .. } => {
                eprintln!("stream lost ({cause:?}); resuming in {after:?}")
            }
            _ => {}
        }
    }
    Ok(())
}
