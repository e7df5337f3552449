//! Server-Sent Events for Rust, both halves: producer tasks send events into a bounded
//! channel and a runtime-agnostic pump streams them to the client (any `AsyncWrite`, or an
//! HTTP body for hyper and axum) with keep-alive pings, a send timeout, write coalescing
//! and graceful shutdown; a [`hub`] broadcasts to many clients with replay by
//! `Last-Event-ID`; and a spec-exact decoder and a reconnecting [`client`] read streams as
//! a browser's `EventSource` does.
//!
//! # A server (axum)
//!
//! A handler opens a channel, spawns its producer, and answers with the stream; the
//! producer learns that the client is gone when `send` fails.
//!
//! ```no_run
//! # #![allow(dead_code)]
//! # #[cfg(all(feature = "http", feature = "tokio"))]
//! # mod doc {
//! use std::time::Duration;
//! use axum::{http::HeaderMap, response::IntoResponse, routing::get, Router};
//! use sse_pump::{channel, last_event_id, response, Event, Sender, Sse};
//!
//! async fn events(headers: HeaderMap) -> impl IntoResponse {
//!     // A reconnecting browser says which event it saw last.
//!     let last: u64 = last_event_id(&headers).ok().flatten().and_then(|id| id.parse().ok()).unwrap_or(0);
//!     let (tx, rx) = channel(16);
//!     tokio::spawn(ticks(tx, last + 1));
//!     response(Sse::new(rx).retry(Duration::from_secs(2)))
//! }
//!
//! async fn ticks(tx: Sender, first: u64) {
//!     for n in first.. {
//!         let event = Event::new().id(n.to_string()).event("tick").data(format!("tick {n}"));
//!         if tx.send(event).await.is_err() {
//!             break; // the client is gone
//!         }
//!         tokio::time::sleep(Duration::from_secs(1)).await;
//!     }
//! }
//!
//! pub async fn serve() -> std::io::Result<()> {
//!     let app = Router::new().route("/events", get(events));
//!     axum::serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?, app).await
//! }
//! # }
//! ```
//!
//! Without HTTP, [`Sse::pump`] writes into any `futures_io::AsyncWrite`:
//!
//! ```
//! use sse_pump::{channel, Event, Sse};
//! # futures_lite::future::block_on(async {
//! let (tx, rx) = channel(4);
//! tx.send(Event::new().event("tick").data("1")).await?;
//! drop(tx); // the stream ends once every sender is gone
//! let mut wire = Vec::new(); // a TcpStream, a pipe, stdout
//! let report = Sse::new(rx).keep_alive(None).pump(&mut wire).await?;
//! assert_eq!((report.events, &wire[..]), (1, &b"event: tick\ndata: 1\n\n"[..]));
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```
//!
//! # A client
//!
//! [`client::EventSource`] connects, checks the response, decodes, and reconnects with the
//! last event ID and backoff, over any `http` 1.x client (here hyper-util's):
//!
//! ```no_run
//! # #![allow(dead_code)]
//! # #[cfg(feature = "client")]
//! # async fn doc() -> Result<(), Box<dyn std::error::Error>> {
//! use futures_lite::StreamExt;
//! use http_body_util::Empty;
//! use hyper_util::{client::legacy::Client, rt::TokioExecutor};
//! use sse_pump::client::{EventSource, EventSourceItem};
//!
//! let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
//! let fetch = move |request: http::Request<()>| client.request(request.map(|()| Empty::new()));
//! let request = http::Request::get("http://127.0.0.1:3000/events").body(())?;
//! let mut source = EventSource::new(fetch, request);
//! while let Some(item) = source.next().await {
//!     if let EventSourceItem::Event(event) = item? {
//!         println!("{} #{}: {}", event.event, event.id, event.data);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Building events
//!
//! - [`Event`]: one event, encoded as it is built; setters chain and never fail.
//! - [`FieldError`]: a field an event refused (a line break in an `id`); such an event is
//!   never sent, and `send` hands it back with this as the cause.
//!
//! # Producing: the channel
//!
//! - [`channel`]: a bounded channel from producers to one stream.
//! - [`Sender`]: sends events, and learns when the stream is gone ([`Sender::closed`]).
//! - [`Receiver`]: the stream's end, given to [`Sse::new`].
//! - [`Batch`]: many events encoded together, sent as one message with
//!   [`Sender::send_batch`].
//! - [`Send`], [`Closed`]: the futures of [`Sender::send`] and [`Sender::closed`].
//! - [`SendError`]: a refused send, with the event handed back.
//! - [`Spawned`]: a producer task tied to its stream (what `adapters::*::spawn` returns).
//!
//! # Streaming
//!
//! - [`Sse`]: a configured stream: keep-alive, send timeout, retry hint, shutdown; [`Sse::pump`].
//! - [`KeepAlive`]: the ping sent when the stream is quiet.
//! - [`LineEnding`]: `\n` (default), `\r\n` or `\r` on the wire.
//! - [`Shutdown`], [`ShutdownListener`]: ask every stream to say goodbye and end.
//! - [`SseStream`]: the stream as a `Stream` of frames ([`Sse::into_stream`]), for any
//!   framework that serves a stream of bytes (actix-web, poem, salvo, rocket): everything
//!   the HTTP body and the pump do, with nothing to adapt.
//! - [`Report`], [`Ended`], [`ReportHandle`]: what a stream wrote, why it ended, and a
//!   handle to wait for it.
//! - [`Error`], [`PumpError`]: a stream that could not deliver (timeout, disconnect, a
//!   failed source); [`SourceError`]: the producer's own error, kept typed.
//! - [`Source`]: where events come from; [`FromStream`] and [`IntoEventResult`] make any
//!   `Stream` of events (or of `Result<Event, E>`) one, through [`Sse::from_stream`].
//!
//! # Serving over HTTP (`http`, `hyper`)
//!
//! - [`response`]: a stream as an `http::Response` with the SSE headers (hyper, axum).
//! - [`SseResponse`]: the same, with a status, headers or version of your own.
//! - [`SseBody`]: the `http_body::Body`, which forwards an [`SseStream`].
//! - [`unavailable`]: a 503 with `Retry-After`, for a full hub.
//! - [`last_event_id`], [`MAX_LAST_EVENT_ID`]: the reconnecting client's last id;
//!   [`RequestError`]: a request refused (a malformed `Last-Event-ID`, or with `smol` or
//!   `tokio` a head the raw adapter could not read).
//! - [`WriteTimeout`] (`hyper`): drops a connection whose client stopped reading.
//! - [`FuturesIo`] (`hyper`): hyper over a futures-io stream (smol).
//!
//! # Runtimes ([`adapters`])
//!
//! - [`adapters::tokio`] (`tokio`): pump into tokio writers, spawn a producer, bare-TCP SSE.
//! - [`adapters::smol`] (`smol`): spawn a producer tied to its stream.
//! - [`adapters::raw`] (`smol` or `tokio`): SSE over a bare TCP stream, no HTTP stack.
//!
//! # One publisher, many clients ([`hub`])
//!
//! [`hub::Hub`] encodes each event once and streams it to every subscriber, with replay by
//! `Last-Event-ID` and bounds on history, lag and subscribers.
//!
//! # Decoding
//!
//! - [`Decoder`]: the sans-IO WHATWG parser: feed bytes, pull events.
//! - [`MessageEvent`]: an event as a browser dispatches it; its strings are [`Text`]s.
//! - [`Item`]: an event, a comment or a retry hint, for non-browser uses.
//! - [`decode_reader`] / [`DecodeReader`]: an `Iterator` over a `std::io::Read`.
//! - [`decode`] / [`Decode`]: a `Stream` over a futures-io `AsyncRead`.
//! - [`decode_stream`] / [`DecodeStream`]: a `Stream` over a stream of byte chunks.
//! - [`Decoded`]: what an adapter yields ([`MessageEvent`] or [`Item`]).
//! - [`DecodeError`]: a broken limit, or a failed transport.
//!
//! # The client ([`client`], feature `client`)
//!
//! [`EventSource`](client::EventSource) (a reconnecting event stream over any HTTP client), [`Backoff`](client::Backoff), [`Fetch`](client::Fetch),
//! [`EventSourceItem`](client::EventSourceItem), [`Error`](client::Error) (every failure of the client, one type), and [`decode_body`](client::decode_body) to test an
//! endpoint in process. [`post`](client::post) / [`get`](client::get) /
//! [`request`](client::request): one request with any method, headers and body (an LLM's
//! token stream: a `POST` with JSON and a key, read to `data: [DONE]`), checked
//! (a [`client::Error`] if not) and read as [`Events`](client::Events), never sent
//! twice. With the `reqwest` feature, `client::reqwest::Reqwest` is a ready-made fetch.
//!
//! # Guarantees
//!
//! - No field can inject another: an `event` or `id` with CR or LF (or an `id` with NUL) is
//!   refused ([`FieldError::InvalidByte`]) and never written; `data` and comments start a
//!   new line at every line break.
//! - An event is encoded once, when it is built; the pump moves its bytes.
//! - Every event a `send` accepted is written or counted in the [`Report`].
//! - A client that stops reading ends the stream after the send timeout, pings included,
//!   on every transport: the pump, an HTTP body (HTTP/1.1 or a stalled HTTP/2 stream),
//!   `axum::serve`.
//! - A producer that fails ends the stream after what it sent; over HTTP the response is
//!   aborted (HTTP/1.1: no terminating chunk; HTTP/2: a reset), so a client can tell a
//!   truncated stream from a finished one.
//! - Hostile peers meet documented limits with typed outcomes: a bounded `retry:`
//!   (`Backoff`), the client's response, idle, progress and rejection deadlines
//!   (`EventSource`), IDs held once and shared by the events that carry them (no ID limit
//!   but the line limit, as browsers), the raw adapter's head deadline and flood cap
//!   (`adapters::raw`). The README's "Limits" table lists them all.
//!
//! # Features
//!
//! | feature | adds |
//! |---|---|
//! | `json` | [`Event::json`] and [`MessageEvent::json`], through serde_json |
//! | `http` | serving: [`response`], [`SseResponse`], [`SseBody`] (an `http_body::Body` for hyper, axum, any http-body 1.x server), [`unavailable`], [`last_event_id`] |
//! | `hyper` | `http`, and connection IO: [`WriteTimeout`], [`FuturesIo`] |
//! | `client` | [`client`]: [`EventSource`](client::EventSource) and the one-shot [`post`](client::post) over any `http` / `http-body` 1.x client, [`decode_body`](client::decode_body) (no hyper needed) |
//! | `reqwest` | `client`, and `client::reqwest::Reqwest`, a fetch over a `reqwest::Client` |
//! | `tokio` | [`adapters::tokio`]: `pump`, `spawn`, bare-TCP `read_request` / `respond` |
//! | `smol` | [`adapters::smol::spawn`]; [`adapters::raw`], SSE over a bare TCP stream |
//! | `redis` | `hub::RedisStreams`: a [`Hub`](hub::Hub) shared by several server processes through one Redis stream, on any runtime |
//! | `compression` | `SseResponse::compress` with an `Encoding` negotiated from `Accept-Encoding` (gzip; zstd and br on request): `CompressedBody` flushes the compressor after every frame, so no event waits for the next; [`adapters::compression`]: `CompressedWriter` for any `AsyncWrite`, with `smol`/`tokio` `respond_compressed` on bare TCP, and the process-wide budget of compressed streams |
//! | `tracing` | a `tracing` span per stream (`Sse::trace`), events when it opens and ends (with its report), on client reconnections and on hub lag and resets |
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

pub mod adapters;
#[cfg(feature = "client")]
pub mod client;
mod decode;
mod deliver;
pub mod hub;
mod timer;
mod wire;

pub use crate::{
    decode::{
        decode, decode_reader, decode_stream, Chunk, Decode, DecodeError, DecodeReader,
        DecodeStream, Decoded, Decoder, Item, MessageEvent, Text,
    },
    deliver::{
        channel, CloseHandle, Closed, Ended, Error, FromStream, IntoEventResult, KeepAlive,
        PumpError, Receiver, Report, ReportHandle, Send, SendError, Sender, Shutdown,
        ShutdownListener, Source, SourceError, Spawned, Sse, SseStream,
    },
    wire::{Batch, Event, EventWriter, FieldError, LineEnding},
};

#[cfg(feature = "compression")]
pub use crate::adapters::http::{CompressedBody, Encoding};
#[cfg(feature = "hyper")]
pub use crate::adapters::io::FuturesIo;
#[cfg(any(feature = "hyper", feature = "tokio"))]
pub use crate::adapters::write_timeout::WriteTimeout;
#[cfg(feature = "http")]
pub use crate::adapters::{
    http::{response, unavailable, SseBody, SseResponse},
    last_event_id::last_event_id,
};
#[cfg(any(feature = "http", feature = "smol", feature = "tokio"))]
pub use crate::adapters::{last_event_id::MAX_LAST_EVENT_ID, request::RequestError};
#[cfg(feature = "tracing")]
pub use crate::deliver::Trace;
/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
