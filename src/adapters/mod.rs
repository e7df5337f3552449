//! Integrations with other crates, each behind its own feature.
//!
//! | feature | module | adds |
//! |---|---|---|
//! | `tokio` | [`tokio`] | [`tokio::pump`] into a tokio writer, [`tokio::spawn`] a producer tied to its stream, bare-TCP [`tokio::read_request`] / [`tokio::respond`] |
//! | `smol` | [`smol`], [`raw`] | [`smol::spawn`] a producer tied to its stream; SSE over a bare TCP stream ([`raw::read_request`], [`raw::respond`]) |
//! | `http` | (root) | [`response`](crate::response) and [`SseBody`](crate::SseBody), an `http_body::Body` for hyper, axum and any http-body 1.x server; [`unavailable`](crate::unavailable) (503 + `Retry-After`); [`last_event_id`](crate::last_event_id) |
//! | `axum` | [`axum`] | `Sse` as an axum response, the [`axum::LastEventId`] extractor, [`axum::WriteTimeoutListener`] for `axum::serve` |
//! | `hyper` | (root) | connection IO: [`WriteTimeout`](crate::WriteTimeout) drops clients that stop reading, [`FuturesIo`](crate::FuturesIo) runs hyper on smol |

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "http")]
pub(crate) mod http;
#[cfg(feature = "hyper")]
pub(crate) mod io;
#[cfg(any(feature = "http", feature = "smol", feature = "tokio"))]
pub(crate) mod last_event_id;
#[cfg(any(feature = "smol", feature = "tokio"))]
pub mod raw;
#[cfg(feature = "smol")]
pub mod smol;
#[cfg(feature = "tokio")]
pub mod tokio;
#[cfg(any(feature = "hyper", feature = "tokio"))]
pub(crate) mod write_timeout;

/// The headers of every SSE response, in lower case: see [`response`](crate::response).
#[cfg(any(feature = "http", feature = "smol", feature = "tokio"))]
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
