//! The wire format: events and how their bytes are laid out on the wire, with no IO.
//!
//! [`Event`] is one event, encoded as it is built; [`EventWriter`] writes events into a
//! shared buffer; [`Batch`] is many events encoded together. `encode` holds the one
//! encoder they all use, and `line_breaks` the CR/LF search that the decoder shares.

mod batch;
pub(crate) mod encode;
mod error;
mod event;
pub(crate) mod line_breaks;
mod writer;

pub use self::{
    batch::Batch, encode::LineEnding, error::FieldError, event::Event, writer::EventWriter,
};
