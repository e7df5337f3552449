//! Serving a stream as an `http_body::Body`: hyper, axum, and anything else built on
//! http-body 1.x.

mod body;
#[cfg(feature = "compression")]
mod compressed;
#[cfg(feature = "compression")]
mod encoding;
mod response;

pub use self::{
    body::SseBody,
    response::{response, unavailable, SseResponse},
};
#[cfg(feature = "compression")]
pub use self::{compressed::CompressedBody, encoding::Encoding};
