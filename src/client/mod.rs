//! The client: [`EventSource`] connects, checks, decodes and reconnects
//! over any `http` / `http-body` 1.x client; [`decode_body`] decodes a
//! body in process. Behind the `client` feature, which needs no hyper.

mod backoff;
mod decode_body;
mod error;
mod event_source;

pub use self::{
    backoff::Backoff,
    decode_body::{decode_body, decode_body_with, BodyChunks, DecodeBody},
    error::{EventSourceError, EventSourceTimeout, Rejected},
    event_source::{EventSource, EventSourceItem, Fetch},
};
