//! The client side: a sans-IO decoder and its blocking and async adapters.

mod block;
mod decoder;
mod error;
mod event;
mod input;
mod lines;
mod reader;
mod stream;
mod text;

pub use self::{
    decoder::Decoder,
    error::DecodeError,
    event::{Decoded, Item, MessageEvent},
    reader::{decode_reader, DecodeReader},
    stream::{decode, decode_stream, Decode, DecodeStream},
    text::{Chunk, Text},
};
