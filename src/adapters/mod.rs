//! Integrations with other crates, each behind its own feature.
//!
//! | feature | module | adds |
//! |---|---|---|
//! | `tokio` | [`tokio`] | [`tokio::pump`] into a tokio writer, [`tokio::spawn`] a producer tied to its stream, bare-TCP [`tokio::read_request`] / [`tokio::respond`] |
//! | `smol` | [`smol`], [`raw`] | [`smol::spawn`] a producer tied to its stream; SSE over a bare TCP stream ([`raw::read_request`], [`raw::respond`]) |
//! | `http` | (root) | [`response`](crate::response) and [`SseBody`](crate::SseBody), an `http_body::Body` for hyper, axum and any http-body 1.x server; [`unavailable`](crate::unavailable) (503 + `Retry-After`); [`last_event_id`](crate::last_event_id) |
//! | `axum` | [`axum`] | `Sse` as an axum response, the [`axum::LastEventId`] extractor, [`axum::WriteTimeoutListener`] for `axum::serve` |
//! | `compression` | [`compression`] | [`compression::CompressedWriter`], a compressing `AsyncWrite`; the process-wide budget of compressed streams; with `smol` or `tokio`, [`raw::respond_compressed`] |
//! | `hyper` | (root) | connection IO: [`WriteTimeout`](crate::WriteTimeout) drops clients that stop reading, [`FuturesIo`](crate::FuturesIo) runs hyper on smol |

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "compression")]
pub mod compression;
#[cfg(feature = "http")]
pub(crate) mod http;
#[cfg(feature = "hyper")]
pub(crate) mod io;
#[cfg(any(feature = "http", feature = "smol", feature = "tokio"))]
pub(crate) mod last_event_id;
#[cfg(any(feature = "smol", feature = "tokio"))]
pub mod raw;
#[cfg(any(feature = "http", feature = "smol", feature = "tokio"))]
pub(crate) mod request;
#[cfg(feature = "smol")]
pub mod smol;
#[cfg(feature = "tokio")]
pub mod tokio;
#[cfg(any(feature = "hyper", feature = "tokio"))]
pub(crate) mod write_timeout;

#[cfg(any(feature = "http", feature = "smol", feature = "tokio"))]
mod headers;
#[cfg(any(feature = "tokio", feature = "smol"))]
mod panic;

#[cfg(any(feature = "http", feature = "smol", feature = "tokio"))]
use self::headers::HEADERS;
#[cfg(any(feature = "tokio", feature = "smol"))]
use self::panic::panicked;
