//! `tracing` for streams (feature `tracing`): what a stream's span says about it, and the
//! events the crate emits.
//!
//! | target | level | when | fields |
//! |---|---|---|---|
//! | `sse_pump::stream` (span `sse`) | INFO | one per stream | `peer`, `path`, `last_event_id` (see [`Trace`]) |
//! | `sse_pump::stream` | DEBUG | the stream opens | |
//! | `sse_pump::stream` | INFO | the stream ends | `ended`, `events`, `pings`, `bytes`, `undelivered`, `error` |
//! | `sse_pump::client` | INFO | an `EventSource` reconnects | `uri`, `attempt`, `after`, `last_event_id`, `cause` |
//! | `sse_pump::client` | WARN | an `EventSource` gives up | `uri`, `attempts` |
//! | `sse_pump::hub` | WARN | a subscriber lags: skipped events, or disconnected | `missed`, `policy` |
//! | `sse_pump::hub` | INFO | a `Last-Event-ID` is not in the history: a `reset` | `last_event_id` |

use std::net::SocketAddr;

use super::report::Report;

/// What the span of a stream says about it: the peer, the path and the `Last-Event-ID` it
/// resumed from, for [`Sse::trace`](crate::Sse::trace). The crate does not know them: the
/// server does.
///
/// # Examples
///
/// ```
/// use sse_pump::{channel, Sse, Trace};
/// let (_tx, rx) = channel(8);
/// let peer = "127.0.0.1:50000".parse().unwrap();
/// let sse = Sse::new(rx).trace(Trace::new().peer(peer).path("/events").last_event_id("41"));
/// # drop(sse);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    peer: Option<SocketAddr>,
    path: Option<String>,
    last_event_id: Option<String>,
}

impl Trace {
    /// No fields set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::Trace::new(), sse_pump::Trace::default());
    /// ```
    pub fn new() -> Self {
        Trace::default()
    }

    /// The client's address.
    ///
    /// # Examples
    ///
    /// ```
    /// let trace = sse_pump::Trace::new().peer("[::1]:8000".parse().unwrap());
    /// # drop(trace);
    /// ```
    #[must_use]
    pub fn peer(mut self, peer: SocketAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// The request's path (and query, if you like).
    ///
    /// # Examples
    ///
    /// ```
    /// let trace = sse_pump::Trace::new().path("/events?topic=news");
    /// # drop(trace);
    /// ```
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The `Last-Event-ID` the client sent, which the stream resumes after.
    ///
    /// # Examples
    ///
    /// ```
    /// let trace = sse_pump::Trace::new().last_event_id("17");
    /// # drop(trace);
    /// ```
    #[must_use]
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.last_event_id = Some(id.into());
        self
    }
}

/// The span of one stream, child of the span current where the stream is built (a
/// request's span, under tower-http's `TraceLayer` for example).
pub(crate) fn stream_span(trace: Option<&Trace>) -> tracing::Span {
    let none = Trace::default();
    let trace = trace.unwrap_or(&none);
    let span = tracing::info_span!(
        target: "sse_pump::stream",
        "sse",
        peer = trace.peer.map(tracing::field::display),
        path = trace.path.as_deref().map(tracing::field::display),
        last_event_id = trace.last_event_id.as_deref().map(tracing::field::display),
    );
    tracing::debug!(target: "sse_pump::stream", parent: &span, "sse stream opened");
    span
}

/// The end of a stream, with its report.
pub(crate) fn stream_ended(span: &tracing::Span, report: &Report) {
    tracing::info!(
        target: "sse_pump::stream",
        parent: span,
        ended = ?report.ended,
        events = report.events,
        pings = report.pings,
        bytes = report.bytes,
        undelivered = report.undelivered,
        error = report.source_error.as_deref(),
        "sse stream ended"
    );
}
