//! The errors of an [`EventSource`](crate::client::EventSource).

use std::{error::Error, fmt, time::Duration};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::DecodeError;

/// A boxed transport error, as the HTTP client reported it.
pub(crate) type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// Why an [`EventSource`](crate::client::EventSource) yielded an error.
///
/// After [`Rejected`](EventSourceError::Rejected), [`NotRetried`](EventSourceError::NotRetried) and [`Exhausted`](EventSourceError::Exhausted) the
/// source ends (the next item is `None`); after [`Decode`](EventSourceError::Decode) and
/// [`LastEventIdNotSent`](EventSourceError::LastEventIdNotSent) it goes on.
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
    /// The last event ID cannot be sent back as a `Last-Event-ID` header: it holds a
    /// control character (not a header value), or starts or ends with a space or tab
    /// (which servers trim, so it would name another event). The request about to be
    /// sent goes without it, so the server cannot resume where the stream stopped: stop
    /// here (drop the source) if that is worse than a gap. The source goes on.
    LastEventIdNotSent(String),
    /// The connection of a request that is not idempotent (`POST`, `PATCH`) failed or was
    /// cut short, and the request is not sent again (see
    /// [`retry_non_idempotent`](crate::client::EventSource::retry_non_idempotent)).
    NotRetried {
        /// The request's method.
        method: http::Method,
        /// What failed: the transport error, or an [`EventSourceTimeout`].
        cause: Box<dyn Error + Send + Sync + 'static>,
    },
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
            EventSourceError::LastEventIdNotSent(id) => write!(
                f,
                "the last event id ({} bytes) cannot be sent as a header; reconnecting without it",
                id.len()
            ),
            EventSourceError::NotRetried { method, .. } => write!(
                f,
                "the {method} request's stream failed and is not sent again (not idempotent)"
            ),
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
            EventSourceError::LastEventIdNotSent(_) => None,
            EventSourceError::Exhausted { last, .. } => last.as_deref().map(|e| e as &dyn Error),
            EventSourceError::NotRetried { cause, .. } => Some(&**cause),
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

/// A deadline of an [`EventSource`](crate::client::EventSource) that passed: the `cause` of the
/// [`EventSourceItem::Reconnecting`](crate::client::EventSourceItem::Reconnecting) that follows (downcast it
/// from the boxed error), or the `last` of [`EventSourceError::Exhausted`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::{client::EventSourceItem, client::EventSourceTimeout};
///
/// fn timed_out(item: &EventSourceItem) -> Option<EventSourceTimeout> {
///     match item {
///         EventSourceItem::Reconnecting { cause: Some(cause), .. } => cause.downcast_ref().copied(),
///         _ => None,
///     }
/// }
/// let cause = Some(EventSourceTimeout::Idle(Duration::from_secs(45)).into());
/// let item = EventSourceItem::Reconnecting { after: Duration::from_secs(3), attempt: 1, cause };
/// assert_eq!(timed_out(&item), Some(EventSourceTimeout::Idle(Duration::from_secs(45))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventSourceTimeout {
    /// No response head within this time
    /// ([`response_timeout`](crate::client::EventSource::response_timeout)).
    Response(Duration),
    /// No byte on the open stream for this time
    /// ([`idle_timeout`](crate::client::EventSource::idle_timeout)).
    Idle(Duration),
}

impl fmt::Display for EventSourceTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventSourceTimeout::Response(after) => write!(f, "no response within {after:?}"),
            EventSourceTimeout::Idle(after) => write!(f, "the stream was silent for {after:?}"),
        }
    }
}

impl Error for EventSourceTimeout {}

/// Why [`RequestBuilder::send`](crate::client::RequestBuilder::send) did not open a stream.
///
/// # Examples
///
/// ```
/// use sse_pump::client::{OpenError, Rejected};
///
/// let rejected = Rejected::new(http::StatusCode::UNAUTHORIZED, http::HeaderMap::new(), "bad key".into());
/// let err = OpenError::Rejected(Box::new(rejected));
/// assert_eq!(err.to_string(), "the server answered 401 Unauthorized, not an event stream");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// The request could not be built: an invalid URI or header, a value that is not JSON.
    /// Nothing was sent.
    Request(Box<dyn Error + Send + Sync + 'static>),
    /// The HTTP client failed (connecting, TLS, writing the request, reading the head).
    Transport(Box<dyn Error + Send + Sync + 'static>),
    /// No response head within the
    /// [`response_timeout`](crate::client::RequestBuilder::response_timeout).
    Timeout(Duration),
    /// The server answered a status other than 200 (or 204), or a content type other than
    /// `text/event-stream`: the status, the headers and the start of the body.
    Rejected(Box<Rejected>),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Request(_) => f.write_str("the request could not be built"),
            OpenError::Transport(_) => f.write_str("the request failed"),
            OpenError::Timeout(after) => write!(f, "no response within {after:?}"),
            OpenError::Rejected(r) => fmt::Display::fmt(r, f),
        }
    }
}

impl Error for OpenError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            OpenError::Request(e) | OpenError::Transport(e) => Some(&**e),
            OpenError::Timeout(_) | OpenError::Rejected(_) => None,
        }
    }
}

/// The transport error of a one-shot stream ([`Events`](crate::client::Events)): the
/// client's body error, a stream cut short (a reset, a chunked body without its last
/// chunk, an HTTP/2 reset), or [`EventSourceTimeout::Idle`]. A clean end is no error: the
/// stream yields `None`.
///
/// It displays the client's error and has that error's source.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::client::{EventSourceTimeout, TransportError};
///
/// let err = TransportError::new(EventSourceTimeout::Idle(Duration::from_secs(45)));
/// assert_eq!(err.timeout(), Some(EventSourceTimeout::Idle(Duration::from_secs(45))));
/// assert_eq!(err.to_string(), "the stream was silent for 45s");
/// ```
#[derive(Debug)]
pub struct TransportError(BoxError);

impl TransportError {
    /// Wraps an error, for tests of code that handles one.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = sse_pump::client::TransportError::new(std::io::Error::other("reset"));
    /// assert_eq!(err.to_string(), "reset");
    /// ```
    pub fn new(error: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        TransportError(error.into())
    }

    /// The deadline that passed, if that is what happened.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = sse_pump::client::TransportError::new(std::io::Error::other("reset"));
    /// assert_eq!(err.timeout(), None);
    /// ```
    pub fn timeout(&self) -> Option<EventSourceTimeout> {
        self.0.downcast_ref().copied()
    }

    /// The client's error.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = sse_pump::client::TransportError::new(std::io::Error::other("reset"));
    /// assert!(err.into_inner().downcast::<std::io::Error>().is_ok());
    /// ```
    pub fn into_inner(self) -> Box<dyn Error + Send + Sync + 'static> {
        self.0
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for TransportError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}
