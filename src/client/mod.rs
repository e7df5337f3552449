//! The client: [`EventSource`](crate::EventSource) connects, checks, decodes and reconnects
//! over any `http` / `http-body` 1.x client; [`decode_body`](crate::decode_body) decodes a
//! body in process. Behind the `client` feature, which needs no hyper.

pub(crate) mod backoff;
pub(crate) mod decode_body;
pub(crate) mod error;
pub(crate) mod event_source;
