//! The errors of an [`EventSource`](crate::client::EventSource).

use std::{error::Error, fmt};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::DecodeError;

/// A boxed transport error, as the HTTP client reported it.
pub(crate) type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// Why an [`EventSource`](crate::client::EventSource) yielded an error.
///
/// After [`Rejected`](EventSourceError::Rejected) and [`Exhausted`](EventSourceError::Exhausted) the
/// source ends (the next item is `None`); after [`Decode`](EventSourceError::Decode) it goes on.
/// Network errors and ends of stream are not errors: the source reconnects and says so
/// with [`EventSourceItem::Reconnecting`](crate::client::EventSourceItem::Reconnecting).
///
/// # Examples
///
/// ```
/// use sse_pump::{DecodeError, client::EventSourceError};
///
/// let err = EventSourceError::Decode(DecodeError::LineTooLong { limit: 8 });
/// assert_eq!(err.to_string(), "a line is longer than 8 bytes");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum EventSourceError {
    /// The server answered with a status other than 200 (and 204), or a content type other
    /// than `text/event-stream`. Not retried.
    Rejected(Box<Rejected>),
    /// The event stream broke one of the decoder's limits; the decoder skipped the line and
    /// its event, and the source goes on.
    Decode(DecodeError),
    /// The maximum number of consecutive attempts was reached.
    Exhausted {
        /// How many consecutive attempts failed.
        attempts: u32,
        /// The last transport error, or `None` if the last connection ended cleanly.
        last: Option<Box<dyn Error + Send + Sync + 'static>>,
    },
}

impl fmt::Display for EventSourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventSourceError::Rejected(r) => fmt::Display::fmt(r, f),
            EventSourceError::Decode(e) => fmt::Display::fmt(e, f),
            EventSourceError::Exhausted { attempts, .. } => {
                write!(f, "gave up reconnecting after {attempts} attempts")
            }
        }
    }
}

impl Error for EventSourceError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            // Displayed already: not a source too.
            EventSourceError::Rejected(_) | EventSourceError::Decode(_) => None,
            EventSourceError::Exhausted { last, .. } => last.as_deref().map(|e| e as &dyn Error),
        }
    }
}

/// A response that does not open an event stream: its status, headers and the start of
/// its body, for diagnostics.
///
/// # Examples
///
/// ```
/// use sse_pump::client::Rejected;
///
/// let rejected = Rejected::new(http::StatusCode::NOT_FOUND, http::HeaderMap::new(), "no such stream".into());
/// assert_eq!(rejected.status, 404);
/// assert_eq!(rejected.to_string(), "the server answered 404 Not Found, not an event stream");
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert(http::header::CONTENT_TYPE, "text/html".parse().unwrap());
/// let rejected = Rejected::new(http::StatusCode::OK, headers, "<html>".into());
/// assert_eq!(rejected.to_string(), r#"the server answered "text/html", not an event stream"#);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rejected {
    /// The response's status.
    pub status: StatusCode,
    /// The response's headers.
    pub headers: HeaderMap,
    /// The first [`Rejected::BODY_LIMIT`] bytes of the body (fewer if it failed or ended).
    pub body: Bytes,
}

impl Rejected {
    /// How much of a rejected body is kept: 4 KiB.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::client::Rejected::BODY_LIMIT, 4096);
    /// ```
    pub const BODY_LIMIT: usize = 4096;

    /// A rejection, for tests of code that handles one.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = sse_pump::client::Rejected::new(http::StatusCode::OK, http::HeaderMap::new(), bytes::Bytes::new());
    /// assert!(r.body.is_empty());
    /// ```
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Rejected {
            status,
            headers,
            body,
        }
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.headers.get(http::header::CONTENT_TYPE) {
            Some(kind) if self.status == StatusCode::OK => {
                write!(f, "the server answered {kind:?}, not an event stream")
            }
            _ => write!(
                f,
                "the server answered {}, not an event stream",
                self.status
            ),
        }
    }
}

impl Error for Rejected {}
