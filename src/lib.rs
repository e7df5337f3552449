//! Server-Sent Events for Rust: producer tasks send events into a bounded channel, and a
//! runtime-agnostic pump writes them into any `futures_io::AsyncWrite`, with keep-alive
//! pings, a send timeout, write coalescing and graceful shutdown.
//!
//! A producer holds a [`Sender`] and learns that the client is gone when `send` fails or
//! [`Sender::closed`] resolves. The stream, an [`Sse`], is pumped into a socket, a pipe or
//! an HTTP body; it needs no particular runtime, and runs the same on smol and on tokio.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use sse_pump::{channel, Event, KeepAlive, Sse};
//!
//! # futures_lite::future::block_on(async {
//! let (tx, rx) = channel(32);
//! let producer = async move {
//!     for n in 0..3u64 {
//!         let event = Event::new().id(n.to_string())?.event("tick")?.data(n.to_string());
//!         if tx.send(event).await.is_err() {
//!             break; // the client is gone
//!         }
//!     }
//!     Ok::<_, sse_pump::Error>(())
//! };
//! let mut wire = Vec::new(); // any AsyncWrite: a TcpStream, a pipe, stdout
//! let stream = Sse::new(rx)
//!     .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
//!     .send_timeout(Duration::from_secs(30))
//!     .pump(&mut wire);
//! let (produced, report) = futures_lite::future::zip(producer, stream).await;
//! produced?;
//! assert_eq!(report?.events, 3);
//! assert_eq!(
//!     String::from_utf8(wire).unwrap(),
//!     "id: 0\nevent: tick\ndata: 0\n\nid: 1\nevent: tick\ndata: 1\n\nid: 2\nevent: tick\ndata: 2\n\n"
//! );
//! # Ok::<(), sse_pump::Error>(()) }).unwrap();
//! ```
//!
//! # One publisher, many clients
//!
//! A [`Hub`] encodes each published event once and streams the same bytes to every
//! [`Subscription`], with replay for clients that reconnect with a `Last-Event-ID`, and
//! bounds on history, lag ([`Lag`]) and subscribers. A subscription is a [`Source`], so it
//! is pumped like a channel's receiver, and leaves the hub when the pump drops it.
//!
//! ```
//! use sse_pump::{Event, Hub, Sse};
//! # futures_lite::future::block_on(async {
//! let hub = Hub::builder().history(128).build();
//! hub.publish(Event::new().event("chat")?.data("seen"))?; // id 1
//! hub.publish(Event::new().event("chat")?.data("missed"))?; // id 2
//! let rx = hub.subscribe(Some("1"))?; // the client reconnects: it last saw id 1
//! hub.close(None); // ends every stream once it has what it missed
//! let mut wire = Vec::new();
//! Sse::new(rx).keep_alive(None).pump(&mut wire).await?;
//! assert_eq!(wire, b"id: 2\nevent: chat\ndata: missed\n\n");
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```
//!
//! # The client side
//!
//! [`Decoder`] parses any event stream exactly as a browser's `EventSource` does (the
//! WHATWG algorithm), in linear time whatever the chunking and with bounded memory. It is
//! sans-IO: feed it bytes, pull [`MessageEvent`]s. [`decode_reader`] wraps it as an
//! `Iterator` over any `std::io::Read`, [`decode`] as a `Stream` over a futures-io
//! `AsyncRead`, and [`decode_stream`] as a `Stream` over a stream of byte chunks.
//!
//! That is also how to test a server without a socket: pump its stream into a `Vec<u8>`,
//! then decode the bytes (with the `hyper` feature, `decode_body` decodes any
//! `http_body::Body`, such as a handler's response, in process).
//!
//! With the `hyper` feature, `EventSource` adds what a browser's `EventSource` does around
//! the decoder, over any HTTP client that speaks the `http` 1.x types, on any runtime: the
//! request headers, the status and content-type checks, and reconnection with the last
//! event ID, the server's `retry:`, exponential backoff and jitter.
//!
//! ```
//! use sse_pump::{channel, decode_reader, Event, Sse};
//!
//! let (tx, rx) = channel(4);
//! tx.send_blocking(Event::new().id("1")?.data("first"))?;
//! tx.send_blocking(Event::new().event("done")?.data(""))?;
//! drop(tx);
//! let mut wire = Vec::new();
//! futures_lite::future::block_on(Sse::new(rx).keep_alive(None).pump(&mut wire))?;
//!
//! let events = decode_reader(&wire[..]).collect::<Result<Vec<_>, _>>()?;
//! assert_eq!((events[0].id.as_str(), events[0].data.as_str()), ("1", "first"));
//! assert_eq!((&*events[1].event, events[1].id.as_str()), ("done", "1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Guarantees
//!
//! - No field can inject another: `event` and `id` refuse CR and LF (and `id` refuses
//!   NUL) with [`Error::InvalidField`]; `data` and comments start a new line at every line
//!   break.
//! - An event is encoded once, when it is built; the pump moves its bytes.
//! - Every event a `send` accepted is written or counted in the [`Report`].
//! - A client that stops reading ends the stream after the send timeout, pings included,
//!   on every transport: the pump, an HTTP body (HTTP/1.1 or a stalled HTTP/2 stream),
//!   `axum::serve`.
//! - A producer that fails ends the stream after what it sent; over HTTP the response is
//!   aborted (HTTP/1.1: no terminating chunk; HTTP/2: a reset), so a client can tell a
//!   truncated stream from a finished one.
//!
//! # Features
//!
//! | feature | adds |
//! |---|---|
//! | `json` | [`Event::json`] and [`MessageEvent::json`], through serde_json |
//! | `hyper` | serving: `response(sse)`, an `http_body::Body` for hyper and axum, `unavailable` (503 + `Retry-After` for a full hub), `last_event_id`, and `WriteTimeout` to drop clients that stop reading; the client: `EventSource` (connect, check, reconnect, as a browser does) over any `http` / `http-body` 1.x client, and `decode_body` to test an endpoint without a socket |
//! | `tokio` | `adapters::tokio`: `pump` into tokio writers, `spawn` a producer tied to its stream, bare-TCP `read_request` / `respond` |
//! | `smol` | `adapters::smol::spawn`, a producer tied to its stream; `adapters::raw`, SSE over a bare TCP stream |
//! | `compression` | `SseResponse::compress` with an `Encoding` negotiated from `Accept-Encoding` (zstd, br, gzip): `CompressedBody` flushes the compressor after every frame, so no event waits for the next |
//! | `tracing` | a `tracing` span per stream (`Sse::trace`), events when it opens and ends (with its report), on client reconnections and on hub lag and resets |
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

pub mod adapters;
mod channel;
#[cfg(feature = "client")]
mod client;
mod config;
mod decode;
mod deliver;
mod encode;
mod error;
mod event;
mod hub;
mod keep_alive;
mod producer;
mod pump;
mod shutdown;
mod sse;
mod timer;
#[cfg(feature = "tracing")]
mod trace;

pub use compact_str::CompactString;

pub use crate::{
    channel::{
        channel, CloseHandle, FromStream, Receiver, SendError, Sender, Source, TrySendError,
    },
    decode::{
        decode, decode_reader, decode_stream, Decode, DecodeError, DecodeReader, DecodeStream,
        Decoded, Decoder, Item, MessageEvent, ReadError,
    },
    encode::LineEnding,
    error::{Error, PumpError},
    event::Event,
    hub::{
        Hub, HubBuilder, HubStats, Ids, Lag, PublishError, Replay, SubscribeError, Subscription,
    },
    keep_alive::KeepAlive,
    producer::Producer,
    shutdown::{Shutdown, ShutdownListener},
    sse::{Ended, Report, Sse},
};

#[cfg(feature = "compression")]
pub use crate::adapters::http::{CompressedBody, Encoding};
#[cfg(feature = "hyper")]
pub use crate::adapters::io::FuturesIo;
#[cfg(any(feature = "http", feature = "smol", feature = "tokio"))]
pub use crate::adapters::last_event_id::{LastEventIdError, MAX_LAST_EVENT_ID};
#[cfg(any(feature = "hyper", feature = "tokio"))]
pub use crate::adapters::write_timeout::WriteTimeout;
#[cfg(feature = "http")]
pub use crate::adapters::{
    http::{response, unavailable, BodyError, BodyReport, SseBody, SseResponse},
    last_event_id::last_event_id,
};
#[cfg(feature = "client")]
pub use crate::client::{
    backoff::Backoff,
    decode_body::{decode_body, decode_body_with, BodyChunks, DecodeBody},
    error::{Rejected, SourceError},
    event_source::{EventSource, Fetch, SourceItem},
};
#[cfg(feature = "tracing")]
pub use crate::trace::Trace;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
