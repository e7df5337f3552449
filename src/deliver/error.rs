//! The crate's error types.

use std::{fmt, io, sync::Arc, time::Duration};

use super::report::Report;
use crate::wire::Event;

/// Why a stream could not deliver: the client stopped reading or went away, the source
/// failed, or (a compressed body) the compressor did. What a [pump](crate::Sse::pump)
/// returns in a [`PumpError`], what an [`SseStream`](crate::SseStream) and an HTTP body
/// yield last.
///
/// Each variant says what happened; the cause, where there is one, is its
/// [`source`](std::error::Error::source), not part of its text. Building an event has its
/// own error, [`FieldError`](crate::FieldError).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::Error;
///
/// let err = Error::SendTimeout(Duration::from_secs(30));
/// assert_eq!(err.to_string(), "the client read nothing for 30s");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A write or flush to the client did not finish within the send timeout.
    SendTimeout(Duration),
    /// The sink failed: the client went away. The I/O error is the [`source`](std::error::Error::source).
    Disconnected(io::Error),
    /// The source failed (its producer returned an error or panicked): the stream is cut
    /// short after what the source sent. The [`SourceError`] is the
    /// [`source`](std::error::Error::source).
    SourceFailed(SourceError),
    /// The compressor of a [`CompressedBody`](crate::CompressedBody) failed (it ran out of
    /// memory). The I/O error is the [`source`](std::error::Error::source).
    Compression(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::SendTimeout(limit) => write!(f, "the client read nothing for {limit:?}"),
            Error::Disconnected(_) => f.write_str("the client disconnected"),
            Error::SourceFailed(_) => f.write_str("the event source failed"),
            Error::Compression(_) => f.write_str("compression failed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Disconnected(e) | Error::Compression(e) => Some(e),
            Error::SourceFailed(e) => Some(e),
            Error::SendTimeout(_) => None,
        }
    }
}

/// A pump that ended in error, with the [`Report`] of what it had written by then.
///
/// Converts into [`Error`] with `?`. It displays as its error, and its `source` is the
/// error's own (the I/O error of a disconnect).
///
/// # Examples
///
/// ```
/// use sse_pump::{channel, Ended, Error, Event, Sse};
/// # futures_lite::future::block_on(async {
/// struct Gone;
/// impl futures_lite::AsyncWrite for Gone {
///     fn poll_write(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>, _: &[u8])
///         -> std::task::Poll<std::io::Result<usize>> {
///         std::task::Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()))
///     }
///     fn poll_flush(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>)
///         -> std::task::Poll<std::io::Result<()>> { std::task::Poll::Ready(Ok(())) }
///     fn poll_close(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>)
///         -> std::task::Poll<std::io::Result<()>> { std::task::Poll::Ready(Ok(())) }
/// }
/// let (tx, rx) = channel(4);
/// tx.send(Event::new().data("lost")).await.unwrap();
/// drop(tx);
/// let failed = Sse::new(rx).pump(Gone).await.unwrap_err();
/// assert!(matches!(failed.error(), Error::Disconnected(_)));
/// assert_eq!(failed.report().ended, Ended::Disconnected);
/// assert_eq!(failed.report().undelivered, 1); // counted, not lost silently
/// # });
/// ```
#[derive(Debug)]
pub struct PumpError {
    pub(crate) error: Error,
    pub(crate) report: Report,
}

impl PumpError {
    /// Why the pump stopped.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// What the pump wrote before it stopped, and how many events it could not deliver.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The error, without the report.
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl fmt::Display for PumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for PumpError {
    // Transparent: it displays as its error, so the error is not its source too.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

impl From<PumpError> for Error {
    fn from(e: PumpError) -> Self {
        e.error
    }
}

/// A send that was refused ([`Sender::send`](crate::Sender::send),
/// [`send_batch`](crate::Sender::send_batch), [`try_send`](crate::Sender::try_send),
/// [`send_blocking`](crate::Sender::send_blocking)); the event is handed back.
///
/// Only `try_send` gives [`Full`](SendError::Full): the others wait for room.
///
/// # Examples
///
/// ```
/// use sse_pump::{channel, Event, SendError};
///
/// let (tx, rx) = channel(1);
/// let err = tx.send_blocking(Event::new().id("1\n").data("x")).unwrap_err();
/// assert!(err.is_invalid());
/// assert_eq!(err.to_string(), "the event refused a field");
///
/// tx.try_send(Event::new().data("1"))?;
/// let err = tx.try_send(Event::new().data("2")).unwrap_err();
/// assert!(err.is_full());
/// assert_eq!(err.to_string(), "sending into a full channel");
///
/// drop(rx);
/// let err = tx.send_blocking(Event::new().data("late")).unwrap_err();
/// assert!(err.is_closed());
/// assert_eq!(format!("{err:?}"), "Closed(..)");
/// assert_eq!(err.into_inner().into_bytes(), "data: late\n\n"); // handed back, not lost
/// # Ok::<(), SendError>(())
/// ```
pub enum SendError {
    /// The channel is full: the client is behind (only from
    /// [`try_send`](crate::Sender::try_send)).
    Full(Event),
    /// The stream has ended (the client left, a send timed out, or a shutdown came): stop
    /// producing.
    Closed(Event),
    /// The event refused a field ([`Event::error`](crate::Event::error)), which is this
    /// error's `source`; it was not sent.
    Invalid(Event),
}

impl SendError {
    /// The event that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sse_pump::channel(1);
    /// drop(rx);
    /// let err = tx.send_blocking(sse_pump::Event::new()).unwrap_err();
    /// assert_eq!(err.into_inner().into_bytes(), "\n");
    /// ```
    pub fn into_inner(self) -> Event {
        match self {
            SendError::Full(event) | SendError::Closed(event) | SendError::Invalid(event) => event,
        }
    }

    /// Whether the channel was full.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sse_pump::channel(1);
    /// tx.try_send(sse_pump::Event::new()).unwrap();
    /// assert!(tx.try_send(sse_pump::Event::new()).unwrap_err().is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, SendError::Full(_))
    }

    /// Whether the stream had ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sse_pump::channel(1);
    /// drop(rx);
    /// assert!(tx.try_send(sse_pump::Event::new()).unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, SendError::Closed(_))
    }

    /// Whether the event refused a field.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sse_pump::channel(1);
    /// let refused = sse_pump::Event::new().event("a\nb");
    /// assert!(tx.try_send(refused).unwrap_err().is_invalid());
    /// ```
    pub fn is_invalid(&self) -> bool {
        matches!(self, SendError::Invalid(_))
    }
}

impl fmt::Debug for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The event is not shown: it may be large, or private.
        f.write_str(match self {
            SendError::Full(_) => "Full(..)",
            SendError::Closed(_) => "Closed(..)",
            SendError::Invalid(_) => "Invalid(..)",
        })
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::Full(_) => "sending into a full channel",
            SendError::Closed(_) => "sending into a closed stream",
            SendError::Invalid(_) => "the event refused a field",
        })
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendError::Invalid(event) => event.error().map(|e| e as _),
            _ => None,
        }
    }
}

impl From<Error> for io::Error {
    /// An I/O error of the matching kind, for frameworks whose streaming bodies take one
    /// (poem's `Body::from_bytes_stream`, for example): a timeout is
    /// [`TimedOut`](io::ErrorKind::TimedOut), a disconnect keeps its own error.
    fn from(error: Error) -> Self {
        match error {
            Error::Disconnected(e) | Error::Compression(e) => e,
            Error::SendTimeout(_) => io::Error::new(io::ErrorKind::TimedOut, error),
            Error::SourceFailed(_) => io::Error::other(error),
        }
    }
}

/// Why a source failed: the error its producer returned, or its panic, kept as the error
/// it was (shared, so that a [`Report`] that holds it can be cloned).
///
/// It displays as that error, and its [`source`](std::error::Error::source) is that
/// error's own.
///
/// # Examples
///
/// ```
/// use sse_pump::SourceError;
///
/// let error = SourceError::new(std::io::Error::other("database gone"));
/// assert_eq!(error.to_string(), "database gone");
/// assert!(error.downcast_ref::<std::io::Error>().is_some());
/// ```
#[derive(Clone)]
pub struct SourceError(Arc<dyn std::error::Error + Send + Sync>);

impl SourceError {
    /// The failure `error`: any error, or a message (`&str`, `String`).
    ///
    /// # Examples
    ///
    /// ```
    /// let error = sse_pump::SourceError::new("feed closed");
    /// assert_eq!(error.to_string(), "feed closed");
    /// ```
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        SourceError(Arc::from(error.into()))
    }

    /// The error as its own type, if it is a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = sse_pump::SourceError::new(std::fmt::Error);
    /// assert_eq!(error.downcast_ref::<std::fmt::Error>(), Some(&std::fmt::Error));
    /// ```
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

impl PartialEq for SourceError {
    /// Equal when they hold the same error, or errors that print the same.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.to_string() == other.to_string()
    }
}

impl Eq for SourceError {}

impl fmt::Debug for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for SourceError {
    // Transparent: it displays as the error it holds, so that error is not its source.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}
