//! Integrations with other crates, each behind its own feature.
//!
//! | feature | module | adds |
//! |---|---|---|
//! | `tokio` | [`tokio`] | [`tokio::pump`] into a tokio writer, [`tokio::spawn`] a producer tied to its stream |
//! | `smol` | [`smol`], [`raw`] | [`smol::spawn`] a producer tied to its stream; SSE over a bare TCP stream ([`raw::read_request`], [`raw::respond`]) |
//! | `tokio` | [`raw`] | the same bare-TCP SSE on tokio streams ([`tokio::read_request`], [`tokio::respond`]) |
//! | `hyper` | [`response`], [`last_event_id`], [`io`] | serving: [`response`](crate::response) and [`SseBody`](crate::SseBody) for hyper and axum, [`unavailable`](crate::unavailable) (503 + `Retry-After`), [`last_event_id`](crate::last_event_id), [`WriteTimeout`](crate::WriteTimeout) and [`FuturesIo`](crate::FuturesIo) for connections |
//! | `hyper` | [`event_source`], [`backoff`], [`body`] | the client: [`EventSource`](crate::EventSource) over any `http` / `http-body` 1.x client, [`decode_body`](crate::decode_body) |

#[cfg(feature = "hyper")]
pub mod backoff;
#[cfg(feature = "hyper")]
pub mod body;
#[cfg(feature = "hyper")]
pub mod event_source;
#[cfg(feature = "hyper")]
pub mod io;
#[cfg(any(feature = "hyper", feature = "smol", feature = "tokio"))]
pub mod last_event_id;
#[cfg(any(feature = "smol", feature = "tokio"))]
pub mod raw;
#[cfg(feature = "hyper")]
pub mod response;
#[cfg(feature = "smol")]
pub mod smol;
#[cfg(feature = "hyper")]
mod source_error;
#[cfg(feature = "tokio")]
pub mod tokio;

#[cfg(feature = "hyper")]
pub use self::source_error::{Rejected, SourceError};

/// The headers of every SSE response, in lower case: see [`response`](crate::response).
#[cfg(any(feature = "hyper", feature = "smol", feature = "tokio"))]
const HEADERS: [(&str, &str); 4] = [
    ("content-type", "text/event-stream; charset=utf-8"),
    ("cache-control", "no-store"),
    ("x-accel-buffering", "no"),
    ("content-encoding", "identity"),
];

/// A producer's panic as its error message: `producer panicked: <the payload's text>`.
#[cfg(any(feature = "tokio", feature = "smol"))]
fn panicked(payload: &(dyn std::any::Any + Send)) -> String {
    let text = (payload.downcast_ref::<&str>().copied())
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("producer panicked: {text}")
}
