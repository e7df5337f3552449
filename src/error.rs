//! The crate's error types.

use std::{fmt, io, time::Duration};

use crate::Report;

/// What can go wrong in sse-pump.
///
/// A field that would corrupt the wire is refused where it enters ([`Error::InvalidField`]);
/// a pump that cannot deliver ends with [`Error::SendTimeout`] or [`Error::Disconnected`].
///
/// # Examples
///
/// ```
/// use sse_pump::{Error, Event};
///
/// let err = Event::new().id("1\n2").unwrap_err();
/// assert!(matches!(err, Error::InvalidField { field: "id", byte: b'\n' }));
/// assert_eq!(err.to_string(), "the `id` field cannot contain a line feed");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An `event` or `id` value held a byte that would end the line early (CR or LF), or a
    /// NUL in an `id`, which a browser ignores.
    InvalidField {
        /// The field name: `"event"` or `"id"`.
        field: &'static str,
        /// The offending byte: `b'\r'`, `b'\n'` or `0`.
        byte: u8,
    },
    /// A write or flush to the client did not finish within the send timeout.
    SendTimeout(Duration),
    /// The sink failed: the client went away.
    Disconnected(io::Error),
    /// `Event::json` could not serialize the value.
    #[cfg(feature = "json")]
    Json(serde_json::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidField { field, byte } => {
                let what = match byte {
                    b'\r' => "a carriage return",
                    b'\n' => "a line feed",
                    0 => "a NUL",
                    _ => "a forbidden byte",
                };
                write!(f, "the `{field}` field cannot contain {what}")
            }
            Error::SendTimeout(limit) => write!(f, "the client read nothing for {limit:?}"),
            Error::Disconnected(_) => f.write_str("the client disconnected"),
            #[cfg(feature = "json")]
            Error::Json(_) => f.write_str("the value could not be serialized to JSON"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Disconnected(e) => Some(e),
            #[cfg(feature = "json")]
            Error::Json(e) => Some(e),
            _ => None,
        }
    }
}

/// A pump that ended in error, with the [`Report`] of what it had written by then.
///
/// Converts into [`Error`] with `?`.
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
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<PumpError> for Error {
    fn from(e: PumpError) -> Self {
        e.error
    }
}
