//! axum: a stream as a response, the `Last-Event-ID` as an extractor, and a listener whose
//! connections drop clients that stop reading.
//!
//! # Examples
//!
//! A complete server: resumes after the client's `Last-Event-ID`, pings when quiet, gives
//! up on a client that reads nothing for 10 seconds.
//!
//! ```no_run
//! use std::time::Duration;
//! use axum::{routing::get, Router};
//! use sse_pump::{adapters::axum::{LastEventId, WriteTimeoutListener}, channel, Event, Sse};
//!
//! async fn events(LastEventId(last): LastEventId) -> Sse {
//!     let start = last.and_then(|id| id.parse::<u64>().ok()).map_or(0, |id| id.saturating_add(1));
//!     let (tx, rx) = channel(16);
//!     tokio::spawn(async move {
//!         for n in start.. {
//!             let event = Event::new().id(n.to_string()).data(format!("tick {n}"));
//!             if tx.send(event).await.is_err() {
//!                 break; // the client is gone
//!             }
//!             tokio::time::sleep(Duration::from_secs(1)).await;
//!         }
//!     });
//!     Sse::new(rx).send_timeout(Duration::from_secs(10))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! let listener = WriteTimeoutListener::new(listener, Duration::from_secs(10));
//! axum::serve(listener, Router::new().route("/events", get(events))).await
//! # }
//! ```
//!
//! Compressed (feature `compression`), with the request's path and `Last-Event-ID` on the
//! stream's span (feature `tracing`): `SseResponse` takes the request's version (no
//! `Connection` header over HTTP/2) and its `Accept-Encoding`.
//!
//! ```
//! # #[cfg(all(feature = "compression", feature = "tracing"))]
//! # fn main() {
//! use axum::{http::{HeaderMap, Uri, Version}, response::IntoResponse};
//! use sse_pump::{adapters::axum::LastEventId, channel, Encoding, Sse, SseResponse, Trace};
//!
//! async fn events(
//!     version: Version,
//!     uri: Uri,
//!     headers: HeaderMap,
//!     LastEventId(last): LastEventId,
//! ) -> impl IntoResponse {
//!     let (tx, rx) = channel(16);
//!     # drop(tx);
//!     let mut trace = Trace::new().path(uri.path());
//!     if let Some(id) = last {
//!         trace = trace.last_event_id(id);
//!     }
//!     let sse = Sse::new(rx).trace(trace);
//!     SseResponse::new(sse)
//!         .version(version)
//!         .compress(Encoding::negotiate(&headers))
//! }
//! let _app: axum::Router = axum::Router::new().route("/events", axum::routing::get(events));
//! # }
//! # #[cfg(not(all(feature = "compression", feature = "tracing")))]
//! # fn main() {}
//! ```

use std::{io, time::Duration};

use axum::{
    extract::FromRequestParts,
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
    serve::Listener,
};

use crate::{
    adapters::{http::response, last_event_id, request::RequestError, write_timeout::WriteTimeout},
    deliver::{Source, Sse},
};

/// An `Sse` is an axum response: `200 OK` with the headers of
/// [`response`](crate::response) and the stream as its body.
impl<S: Source + Send + 'static> IntoResponse for Sse<S> {
    fn into_response(self) -> Response {
        response(self).map(axum::body::Body::new)
    }
}

/// The request's `Last-Event-ID`, checked as [`last_event_id`](crate::last_event_id)
/// says: `None` when absent or empty. A malformed one is refused with
/// `400 Bad Request` (the [`RequestError`]).
///
/// # Examples
///
/// ```
/// use sse_pump::adapters::axum::LastEventId;
///
/// async fn events(LastEventId(last): LastEventId) -> String {
///     format!("resuming after {last:?}")
/// }
/// let _app: axum::Router = axum::Router::new().route("/events", axum::routing::get(events));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LastEventId(pub Option<String>);

impl<T: Send + Sync> FromRequestParts<T> for LastEventId {
    type Rejection = RequestError;

    async fn from_request_parts(parts: &mut Parts, _: &T) -> Result<Self, Self::Rejection> {
        let values = parts.headers.get_all("last-event-id").iter();
        let id = last_event_id::check(values.map(|value| value.as_bytes()))?;
        Ok(LastEventId(id.map(str::to_owned)))
    }
}

/// A refused request (a malformed `Last-Event-ID`, the extractor's rejection) is
/// `400 Bad Request`, with the reason as the body.
///
/// # Examples
///
/// ```
/// use axum::response::IntoResponse;
/// use sse_pump::RequestError;
///
/// let response = RequestError::LastEventIdNul.into_response();
/// assert_eq!(response.status(), 400);
/// ```
impl IntoResponse for RequestError {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.to_string()).into_response()
    }
}

/// A listener for `axum::serve` whose connections are served through
/// [`WriteTimeout`]: a write that waits longer than the limit fails, and axum closes the
/// connection. With it, a client that stops reading loses its connection, and its
/// stream's producer ends, within the limit (plus what the kernel buffers first: see
/// [`WriteTimeout`]).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use sse_pump::adapters::axum::WriteTimeoutListener;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// let listener = WriteTimeoutListener::new(listener, Duration::from_secs(30));
/// axum::serve(listener, axum::Router::new()).await
/// # }
/// ```
#[derive(Debug)]
pub struct WriteTimeoutListener<L> {
    inner: L,
    limit: Duration,
}

impl<L> WriteTimeoutListener<L> {
    /// `inner`, whose connections' writes may wait at most `limit` each.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use std::time::Duration;
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let listener = sse_pump::adapters::axum::WriteTimeoutListener::new(listener, Duration::from_secs(30));
    /// # drop(listener); Ok(()) }
    /// ```
    pub fn new(inner: L, limit: Duration) -> Self {
        WriteTimeoutListener { inner, limit }
    }
}

impl<L: Listener> Listener for WriteTimeoutListener<L> {
    type Io = WriteTimeout<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = self.inner.accept().await;
        (WriteTimeout::new(io, self.limit), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}
