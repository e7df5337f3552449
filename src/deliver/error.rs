//! The crate's error types.

use std::{fmt, io, time::Duration};

use super::report::Report;
use crate::wire::Event;

/// Why a pump could not deliver: the client stopped reading, or went away.
///
/// Building an event has its own error, [`FieldError`].
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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::SendTimeout(limit) => write!(f, "the client read nothing for {limit:?}"),
            Error::Disconnected(_) => f.write_str("the client disconnected"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Disconnected(e) => Some(e),
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

/// A [`Sender::send`](crate::Sender::send) or
/// [`send_blocking`](crate::Sender::send_blocking) that was refused; the event is handed
/// back.
///
/// # Examples
///
/// ```
/// use sse_pump::{channel, Event};
///
/// let (tx, rx) = channel(1);
/// let err = tx.send_blocking(Event::new().id("1\n").data("x")).unwrap_err();
/// assert!(err.is_invalid());
/// assert_eq!(err.to_string(), "the event refused a field");
///
/// drop(rx);
/// let err = tx.send_blocking(Event::new().data("late")).unwrap_err();
/// assert!(err.is_closed());
/// assert_eq!(format!("{err:?}"), "Closed(..)");
/// assert_eq!(err.into_inner().into_bytes(), "data: late\n\n"); // handed back, not lost
/// ```
pub enum SendError {
    /// The stream has ended (the client left, a send timed out, or a shutdown came): stop
    /// producing.
    Closed(Event),
    /// The event refused a field ([`Event::error`](crate::Event::error)), which is this
    /// error's `source`; it was not sent.
    Invalid(Event),
}

/// A [`Sender::try_send`](crate::Sender::try_send) that was refused; the event is handed
/// back.
///
/// # Examples
///
/// ```
/// use sse_pump::{channel, Event, TrySendError};
///
/// let (tx, _rx) = channel(1);
/// tx.try_send(Event::new().data("1"))?;
/// let err = tx.try_send(Event::new().data("2")).unwrap_err();
/// assert!(err.is_full());
/// assert_eq!(err.to_string(), "sending into a full channel");
/// assert_eq!(err.into_inner().into_bytes(), "data: 2\n\n");
/// # Ok::<(), TrySendError>(())
/// ```
pub enum TrySendError {
    /// The channel is full: the client is behind.
    Full(Event),
    /// The stream has ended: stop producing.
    Closed(Event),
    /// The event refused a field, which is this error's `source`; it was not sent.
    Invalid(Event),
}

/// The methods and traits that [`SendError`] and [`TrySendError`] share.
macro_rules! send_error {
    ($name:ident, $send:literal { $($variant:ident => $text:literal),* }) => {
        impl $name {
            /// The event that was not sent.
            ///
            /// # Examples
            ///
            /// ```
            /// let (tx, rx) = sse_pump::channel(1);
            /// drop(rx);
            #[doc = concat!("let err = tx.", $send, "(sse_pump::Event::new()).unwrap_err();")]
            /// assert_eq!(err.into_inner().into_bytes(), "\n");
            /// ```
            pub fn into_inner(self) -> Event {
                match self {
                    $($name::$variant(event))|* => event,
                }
            }

            /// Whether the stream had ended.
            ///
            /// # Examples
            ///
            /// ```
            /// let (tx, rx) = sse_pump::channel(1);
            /// drop(rx);
            #[doc = concat!("let err = tx.", $send, "(sse_pump::Event::new()).unwrap_err();")]
            /// assert!(err.is_closed());
            /// ```
            pub fn is_closed(&self) -> bool {
                matches!(self, $name::Closed(_))
            }

            /// Whether the event refused a field.
            ///
            /// # Examples
            ///
            /// ```
            /// let (tx, _rx) = sse_pump::channel(1);
            /// let refused = sse_pump::Event::new().event("a\nb");
            #[doc = concat!("let err = tx.", $send, "(refused).unwrap_err();")]
            /// assert!(err.is_invalid());
            /// ```
            pub fn is_invalid(&self) -> bool {
                matches!(self, $name::Invalid(_))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // The event is not shown: it may be large, or private.
                f.write_str(match self {
                    $($name::$variant(_) => concat!(stringify!($variant), "(..)")),*
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self {
                    $($name::$variant(_) => $text),*
                })
            }
        }

        impl std::error::Error for $name {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                match self {
                    $name::Invalid(event) => {
                        event.error().map(|e| e as &(dyn std::error::Error + 'static))
                    }
                    _ => None,
                }
            }
        }
    };
}

send_error!(SendError, "send_blocking" {
    Closed => "sending into a closed stream",
    Invalid => "the event refused a field"
});
send_error!(TrySendError, "try_send" {
    Full => "sending into a full channel",
    Closed => "sending into a closed stream",
    Invalid => "the event refused a field"
});

impl TrySendError {
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
        matches!(self, TrySendError::Full(_))
    }
}
