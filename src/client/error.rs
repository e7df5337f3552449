//! The client's one error type.

use std::{fmt, time::Duration};

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

use crate::decode::DecodeError;

/// A boxed transport error, as the HTTP client reported it.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why the client failed: the same type on every path, so that one `match` serves an
/// [`EventSource`](crate::client::EventSource), a one-shot
/// [`RequestBuilder::send`](crate::client::RequestBuilder::send) and its
/// [`Events`](crate::client::Events), and the [`blocking`](crate::client::blocking) client.
///
/// Each variant's text says what happened at this layer; the cause, where there is one,
/// is its [`source`](std::error::Error::source), not part of its text, so that a report
/// that walks the chain prints every cause once. [`Decode`](Error::Decode) is the
/// decoder's error as it is: it displays as that error.
///
/// An [`EventSource`](crate::client::EventSource) ends (the next item is `None`) after
/// [`Rejected`](Error::Rejected), [`NotRetried`](Error::NotRetried) and
/// [`Exhausted`](Error::Exhausted); after [`Decode`](Error::Decode) and
/// [`LastEventIdNotSent`](Error::LastEventIdNotSent) it goes on. Network errors, timeouts
/// and ends of stream are not its errors: it reconnects and says so with
/// [`EventSourceItem::Reconnecting`](crate::client::EventSourceItem::Reconnecting), whose
/// `cause` is a [`Transport`](Error::Transport) error, a timeout, or (a request factory
/// that failed) a [`Request`](Error::Request) error.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::{client::Error, DecodeError};
///
/// let err = Error::Decode(DecodeError::LineTooLong { limit: 8 });
/// assert_eq!(err.to_string(), "a line is longer than 8 bytes");
///
/// let err = Error::IdleTimeout(Duration::from_secs(45));
/// assert!(err.is_timeout());
/// assert_eq!(err.to_string(), "the stream was silent for 45s");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be built: an invalid URI or header, a value that is not JSON
    /// (the error is the [`source`](std::error::Error::source)). Nothing was sent.
    Request(BoxError),
    /// The HTTP client failed: connecting, TLS, writing the request, reading the head, or a
    /// body cut short (a reset, a chunked body without its last chunk, an HTTP/2 reset). A
    /// clean end is no error. The client's error is the
    /// [`source`](std::error::Error::source).
    Transport(BoxError),
    /// No response head within the response timeout (30 s by default).
    ResponseTimeout(Duration),
    /// No byte on the open stream for the idle timeout (45 s by default).
    IdleTimeout(Duration),
    /// Bytes kept coming but no line was completed within the progress timeout (60 s by
    /// default): a server that trickles a line and never ends it.
    ProgressTimeout(Duration),
    /// The server answered a status other than 200 (and 204), or a content type other than
    /// `text/event-stream`. Not retried.
    Rejected {
        /// The response's status.
        status: StatusCode,
        /// The response's headers (boxed: the error stays small on the event path).
        headers: Box<HeaderMap>,
        /// The first [`Error::BODY_LIMIT`] bytes of the body (fewer if it failed, ended, or
        /// stalled past the rejection timeout).
        body: Bytes,
    },
    /// The event stream broke one of the decoder's limits; the decoder skipped the line and
    /// its event, and the stream goes on. It displays as the [`DecodeError`].
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
        method: Method,
        /// What failed (also the [`source`](std::error::Error::source)): a
        /// [`Transport`](Error::Transport) error or a timeout.
        cause: Box<Error>,
    },
    /// The maximum number of consecutive attempts was reached.
    Exhausted {
        /// How many consecutive attempts failed.
        attempts: u32,
        /// The last attempt's failure (also the [`source`](std::error::Error::source)), or
        /// `None` if the last connection ended cleanly.
        last: Option<Box<Error>>,
    },
}

impl Error {
    /// How much of a rejected body is kept: 4 KiB.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::client::Error::BODY_LIMIT, 4096);
    /// ```
    pub const BODY_LIMIT: usize = 4096;

    /// Whether a deadline passed: [`ResponseTimeout`](Error::ResponseTimeout),
    /// [`IdleTimeout`](Error::IdleTimeout) or [`ProgressTimeout`](Error::ProgressTimeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_pump::client::Error;
    ///
    /// assert!(Error::ResponseTimeout(Duration::from_secs(30)).is_timeout());
    /// assert!(!Error::Transport("reset".into()).is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Error::ResponseTimeout(_) | Error::IdleTimeout(_) | Error::ProgressTimeout(_)
        )
    }

    /// The error of a failed transport: a boxed client [`Error`] (a timeout of a watched
    /// body) as itself, anything else as [`Transport`](Error::Transport).
    pub(crate) fn transport(error: BoxError) -> Self {
        match error.downcast::<Error>() {
            Ok(error) => *error,
            Err(error) => Error::Transport(error),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Request(_) => f.write_str("the request could not be built"),
            Error::Transport(_) => f.write_str("the request failed"),
            Error::ResponseTimeout(after) => write!(f, "no response within {after:?}"),
            Error::IdleTimeout(after) => write!(f, "the stream was silent for {after:?}"),
            Error::ProgressTimeout(after) => write!(
                f,
                "no line was completed for {after:?} while bytes trickled in"
            ),
            Error::Rejected {
                status, headers, ..
            } => rejected(*status, headers, f),
            Error::Decode(e) => fmt::Display::fmt(e, f),
            Error::LastEventIdNotSent(id) => write!(
                f,
                "the last event id ({} bytes) cannot be sent as a header; reconnecting without it",
                id.len()
            ),
            Error::NotRetried { method, .. } => write!(
                f,
                "the {method} request's stream failed and is not sent again (not idempotent)"
            ),
            Error::Exhausted { attempts, last } => {
                write!(f, "gave up reconnecting after {attempts} attempts")?;
                match last {
                    Some(_) => Ok(()),
                    None => f.write_str(": the last stream ended"),
                }
            }
        }
    }
}

/// What a rejection says: the content type of a 200, the status otherwise.
fn rejected(status: StatusCode, headers: &HeaderMap, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match headers.get(http::header::CONTENT_TYPE) {
        Some(kind) if status == StatusCode::OK => {
            write!(f, "the server answered {kind:?}, not an event stream")
        }
        _ => write!(f, "the server answered {status}, not an event stream"),
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Request(e) | Error::Transport(e) => Some(&**e),
            Error::NotRetried { cause, .. } => Some(&**cause),
            Error::Exhausted { last, .. } => last.as_deref().map(|e| e as _),
            _ => None,
        }
    }
}

/// An error and its sources as one line (`the request failed: offline`), for a log that
/// has room for one field: each cause printed once, as each error prints only its own words.
#[cfg(feature = "tracing")]
pub(crate) struct Chain<'a>(pub(crate) &'a Error);

#[cfg(feature = "tracing")]
impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)?;
        let mut source = std::error::Error::source(self.0);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
