//! The client side: a sans-IO decoder and its blocking and async adapters.

mod block;
mod error;
mod event;
mod lines;
mod parser;
mod reader;
mod stream;

pub use self::{
    error::{DecodeError, ReadError},
    event::{Decoded, Item, MessageEvent},
    parser::Decoder,
    reader::{decode_reader, DecodeReader},
    stream::{decode, decode_stream, Decode, DecodeStream},
};
