//! Integrations with other crates, each behind its own feature.
//!
//! | feature | module | adds |
//! |---|---|---|
//! | `hyper` | [`event_source`], [`backoff`], [`body`] | [`EventSource`](crate::EventSource) over any `http` / `http-body` 1.x client, [`decode_body`](crate::decode_body) |

#[cfg(feature = "hyper")]
pub mod backoff;
#[cfg(feature = "hyper")]
pub mod body;
#[cfg(feature = "hyper")]
pub mod event_source;
#[cfg(feature = "hyper")]
mod source_error;

#[cfg(feature = "hyper")]
pub use self::source_error::{Rejected, SourceError};
