//! Integrations with other crates, each behind its own feature.
//!
//! | feature | module | adds |
//! |---|---|---|
//! | `hyper` | [`response`], [`request`], [`io`] | serving: [`response`](crate::response) and [`SseBody`](crate::SseBody) for hyper and axum, [`last_event_id`](crate::last_event_id), [`WriteTimeout`](crate::WriteTimeout) and [`FuturesIo`](crate::FuturesIo) for connections |
//! | `hyper` | [`event_source`], [`backoff`], [`body`] | the client: [`EventSource`](crate::EventSource) over any `http` / `http-body` 1.x client, [`decode_body`](crate::decode_body) |

#[cfg(feature = "hyper")]
pub mod backoff;
#[cfg(feature = "hyper")]
pub mod body;
#[cfg(feature = "hyper")]
pub mod event_source;
#[cfg(feature = "hyper")]
pub mod io;
#[cfg(feature = "hyper")]
pub mod request;
#[cfg(feature = "hyper")]
pub mod response;
#[cfg(feature = "hyper")]
mod source_error;

#[cfg(feature = "hyper")]
pub use self::source_error::{Rejected, SourceError};
