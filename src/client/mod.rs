//! The client: [`EventSource`] connects, checks, decodes and reconnects
//! over any `http` / `http-body` 1.x client; [`request`] (and [`get`], [`post`]) sends one
//! request, a `POST` with a JSON body for an LLM's token stream, and streams its events;
//! [`decode_body`] decodes a body in process. Behind the `client` feature, which needs no
//! hyper.
//!
//! A compressed stream (gzip, br, zstd) is inflated by the HTTP client, as it inflates any
//! body (reqwest with its `gzip`, `brotli` or `zstd` feature, or a decompression layer on
//! hyper-util's client); the decoder reads the inflated body as it arrives, so each event
//! is yielded as soon as the server's compressor flushed it (`tests/client_compression.rs`).

mod backoff;
pub mod blocking;
mod decode_body;
mod error;
mod event_source;
mod one_shot;
mod rejecting;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub mod reqwest;

pub use self::{
    backoff::Backoff,
    decode_body::{decode_body, decode_body_with, BodyChunks, DecodeBody},
    error::Error,
    event_source::{EventSource, EventSourceItem, Fetch},
    one_shot::{get, post, request, Events, RequestBuilder},
};
