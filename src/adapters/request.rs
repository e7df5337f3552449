//! Why a request was refused: a head the raw adapter could not read, or a `Last-Event-ID`
//! that cannot be resumed from.

use std::{fmt, io, time::Duration};

use super::last_event_id::MAX_LAST_EVENT_ID;

/// The longest request head the raw adapter reads (`adapters::raw::MAX_HEAD`).
pub(crate) const HEAD_LIMIT: usize = 8 * 1024;

/// A request the server side refused: its head could not be read
/// (`adapters::raw::read_request`, with the `smol` or `tokio` feature), or its
/// `Last-Event-ID` header cannot be resumed from ([`last_event_id`](crate::last_event_id),
/// `adapters::raw::Request::last_event_id`, the axum `LastEventId` extractor). One type,
/// so that a bare-TCP handler that reads a head and then its last event ID answers both
/// with one `?`; an HTTP server answers either with `400 Bad Request`.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "http")] {
/// let long = "7".repeat(sse_pump::MAX_LAST_EVENT_ID + 1);
/// let request = http::Request::get("/").header("last-event-id", long).body(()).unwrap();
/// let error = sse_pump::last_event_id(request.headers()).unwrap_err();
/// assert!(matches!(error, sse_pump::RequestError::LastEventIdTooLong(1025)));
/// assert_eq!(error.to_string(), "last-event-id of 1025 bytes is longer than 1024");
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum RequestError {
    /// Reading the head failed; the I/O error is the
    /// [`source`](std::error::Error::source).
    Io(io::Error),
    /// The connection closed before the head's end.
    Closed,
    /// The head is larger than the raw adapter's `MAX_HEAD` (8 KiB).
    TooLarge,
    /// The head is not HTTP/1.x; says which part was wrong (`"header name"`, `"version"`,
    /// ...).
    Malformed(&'static str),
    /// The head ended (a blank line) before a request line: no method, path or version.
    Incomplete,
    /// The head was not complete within this time (the raw adapter's `HEAD_TIMEOUT`, 5 s,
    /// by default).
    Timeout(Duration),
    /// The `Last-Event-ID` is longer than [`MAX_LAST_EVENT_ID`]; holds its length.
    LastEventIdTooLong(usize),
    /// The `Last-Event-ID` is not valid UTF-8.
    LastEventIdNotUtf8,
    /// The `Last-Event-ID` holds a NUL byte (a browser never sends one: it ignores such
    /// ids).
    LastEventIdNul,
    /// The `Last-Event-ID` header was given more than once.
    LastEventIdRepeated,
}

impl From<io::Error> for RequestError {
    fn from(error: io::Error) -> Self {
        RequestError::Io(error)
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Io(_) => f.write_str("reading the request failed"),
            RequestError::Closed => f.write_str("connection closed before the request's end"),
            RequestError::TooLarge => write!(f, "request head larger than {HEAD_LIMIT} bytes"),
            RequestError::Malformed(part) => write!(f, "malformed request: bad {part}"),
            RequestError::Incomplete => f.write_str("request head without a request line"),
            RequestError::Timeout(after) => write!(f, "no complete request head within {after:?}"),
            RequestError::LastEventIdTooLong(len) => write!(
                f,
                "last-event-id of {len} bytes is longer than {MAX_LAST_EVENT_ID}"
            ),
            RequestError::LastEventIdNotUtf8 => f.write_str("last-event-id is not utf-8"),
            RequestError::LastEventIdNul => f.write_str("last-event-id holds a nul byte"),
            RequestError::LastEventIdRepeated => f.write_str("last-event-id given more than once"),
        }
    }
}

impl std::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RequestError::Io(error) => Some(error),
            _ => None,
        }
    }
}
