//! The wire format: events and how their bytes are laid out on the wire, with no IO.
//!
//! [`Event`] is one event, encoded as it is built; [`EventWriter`] writes events into a
//! shared buffer; [`Batch`] is many events encoded together. `fields` holds the one
//! implementation of their setters, `encode` the line splitting under it, `spare` a
//! thread's spare event buffer, and `line_breaks` the CR/LF search that the decoder shares.

mod batch;
pub(crate) mod encode;
mod error;
mod event;
mod fields;
pub(crate) mod line_breaks;
mod spare;
mod writer;

pub use self::{
    batch::Batch, encode::LineEnding, error::FieldError, event::Event, writer::EventWriter,
};
