//! The errors of an [`EventSource`](crate::client::EventSource).

use std::{error::Error, fmt, time::Duration};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::decode::DecodeError;

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
        /// What failed: the client's error, or a [`Timeout`] (see
        /// [`TransportError::timeout`]).
        cause: TransportError,
    },
    /// The maximum number of consecutive attempts was reached.
    Exhausted {
        /// How many consecutive attempts failed.
        attempts: u32,
        /// The last transport error, or `None` if the last connection ended cleanly.
        last: Option<TransportError>,
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
            EventSourceError::NotRetried { method, cause } => write!(
                f,
                "the {method} request's stream failed and is not sent again (not idempotent): {cause}"
            ),
            EventSourceError::Exhausted { attempts, last } => {
                write!(f, "gave up reconnecting after {attempts} attempts")?;
                match last {
                    Some(last) => write!(f, ": {last}"),
                    None => f.write_str(": the last stream ended"),
                }
            }
        }
    }
}

// Each error displays its cause; `source` goes on from the cause's own source, so that a
// report that walks the chain prints every cause once.
impl Error for EventSourceError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            EventSourceError::Rejected(_) | EventSourceError::Decode(_) => None,
            EventSourceError::LastEventIdNotSent(_) => None,
            EventSourceError::Exhausted { last, .. } => last.as_ref().and_then(Error::source),
            EventSourceError::NotRetried { cause, .. } => cause.source(),
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

/// A deadline of the client that passed, the same type on every path: the
/// [`timeout`](TransportError::timeout) of the `cause` of an
/// [`EventSourceItem::Reconnecting`](crate::client::EventSourceItem::Reconnecting), of
/// [`EventSourceError::NotRetried`] and [`EventSourceError::Exhausted`], of a one-shot
/// stream's [`ReadError::Transport`](crate::ReadError::Transport), and of
/// [`OpenError::Timeout`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::client::{EventSourceItem, Timeout, TransportError};
///
/// fn timed_out(item: &EventSourceItem) -> Option<Timeout> {
///     match item {
///         EventSourceItem::Reconnecting { cause: Some(cause), .. } => cause.timeout(),
///         _ => None,
///     }
/// }
/// let cause = Some(TransportError::new(Timeout::Idle(Duration::from_secs(45))));
/// let item = EventSourceItem::Reconnecting { after: Duration::from_secs(3), attempt: 1, cause };
/// assert_eq!(timed_out(&item), Some(Timeout::Idle(Duration::from_secs(45))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Timeout {
    /// No response head within this time (`response_timeout`, 30 s by default).
    Response(Duration),
    /// No byte on the open stream for this time (`idle_timeout`, 45 s by default).
    Idle(Duration),
    /// Bytes kept coming but no line was completed for this time (`progress_timeout`,
    /// 60 s by default): a server that trickles a line and never ends it.
    Progress(Duration),
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timeout::Response(after) => write!(f, "no response within {after:?}"),
            Timeout::Idle(after) => write!(f, "the stream was silent for {after:?}"),
            Timeout::Progress(after) => {
                write!(
                    f,
                    "no line was completed for {after:?} while bytes trickled in"
                )
            }
        }
    }
}

impl Error for Timeout {}

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
    /// [`response_timeout`](crate::client::RequestBuilder::response_timeout): a
    /// [`Timeout::Response`].
    Timeout(Timeout),
    /// The server answered a status other than 200 (or 204), or a content type other than
    /// `text/event-stream`: the status, the headers and the start of the body.
    Rejected(Box<Rejected>),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Request(e) => write!(f, "the request could not be built: {e}"),
            OpenError::Transport(e) => write!(f, "the request failed: {e}"),
            OpenError::Timeout(timeout) => fmt::Display::fmt(timeout, f),
            OpenError::Rejected(r) => fmt::Display::fmt(r, f),
        }
    }
}

// The cause is displayed: `source` goes on from its own source (each cause printed once).
impl Error for OpenError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            OpenError::Request(e) | OpenError::Transport(e) => e.source(),
            OpenError::Timeout(_) | OpenError::Rejected(_) => None,
        }
    }
}

impl OpenError {
    /// The deadline that passed, if that is what happened.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_pump::client::{OpenError, Timeout};
    /// let err = OpenError::Timeout(Timeout::Response(Duration::from_secs(30)));
    /// assert_eq!(err.timeout(), Some(Timeout::Response(Duration::from_secs(30))));
    /// assert_eq!(err.to_string(), "no response within 30s");
    /// ```
    pub fn timeout(&self) -> Option<Timeout> {
        match self {
            OpenError::Timeout(timeout) => Some(*timeout),
            _ => None,
        }
    }
}

/// A failed connection, the same type on every path: the cause of an
/// [`EventSourceItem::Reconnecting`](crate::client::EventSourceItem::Reconnecting), of
/// [`EventSourceError::NotRetried`] and [`EventSourceError::Exhausted`], and the
/// transport error of a one-shot stream ([`Events`](crate::client::Events)). It is the
/// client's error (connecting, a body cut short: a reset, a chunked body without its last
/// chunk, an HTTP/2 reset) or a [`Timeout`]. A clean end is no error.
///
/// It displays the client's error and has that error's source.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::client::{Timeout, TransportError};
///
/// let err = TransportError::new(Timeout::Idle(Duration::from_secs(45)));
/// assert_eq!(err.timeout(), Some(Timeout::Idle(Duration::from_secs(45))));
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
    pub fn timeout(&self) -> Option<Timeout> {
        self.0.downcast_ref().copied()
    }

    /// The client's error as a `T`, if it is one (an `std::io::Error`, a
    /// `reqwest::Error`, a [`Timeout`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = sse_pump::client::TransportError::new(std::io::Error::other("reset"));
    /// assert!(err.downcast_ref::<std::io::Error>().is_some());
    /// ```
    pub fn downcast_ref<T: Error + 'static>(&self) -> Option<&T> {
        self.0.downcast_ref()
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
