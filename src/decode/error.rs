//! The decoder's errors: a broken limit, or a failed transport.

use std::{fmt, io};

/// The byte stream broke one of the [`Decoder`](crate::Decoder)'s limits.
///
/// The decoder recovers by itself: it skips the rest of the offending line, drops the event
/// being built (later fields up to the next blank line are ignored) and goes on with the
/// next event, so memory stays bounded and a caller may keep pulling.
///
/// # Examples
///
/// ```
/// use sse_pump::{DecodeError, Decoder};
///
/// let mut decoder = Decoder::new().max_line_len(8);
/// decoder.feed(b"data: far too long\n\ndata: ok\n\n");
/// let err = decoder.next_event().unwrap_err();
/// assert_eq!(err, DecodeError::LineTooLong { limit: 8 });
/// assert_eq!(err.to_string(), "a line is longer than 8 bytes");
/// assert_eq!(decoder.next_event()?.unwrap().data, "ok");
/// # Ok::<(), DecodeError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeError {
    /// A line (without its line end) was longer than the maximum line length.
    LineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// An `id:` field's value was longer than the maximum ID length
    /// ([`Decoder::max_id_len`](crate::Decoder::max_id_len)); the decoder skipped its
    /// block, and the last event ID stays what it was.
    IdTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// An event's data and type together were larger than the maximum event size.
    EventTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::LineTooLong { limit } => write!(f, "a line is longer than {limit} bytes"),
            DecodeError::IdTooLong { limit } => write!(f, "an id is longer than {limit} bytes"),
            DecodeError::EventTooLarge { limit } => {
                write!(f, "an event is larger than {limit} bytes")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why an adapter ([`decode_reader`](crate::decode_reader), [`decode`](crate::decode),
/// [`decode_stream`](crate::decode_stream)) yielded an error.
///
/// `E` is the transport's error: [`io::Error`] for readers, the stream's own error type
/// for [`decode_stream`](crate::decode_stream). It is carried as it is, not stringified.
/// After a `Transport` error the adapter ends; after a `Decode` error it goes on.
///
/// # Examples
///
/// ```
/// use sse_pump::{decode_reader, DecodeError, ReadError};
///
/// let wire = b"data: a line that is too long\n\ndata: fine\n\n";
/// let mut events = decode_reader(&wire[..]).max_line_len(16);
/// let err = events.next().unwrap().unwrap_err();
/// assert!(matches!(err, ReadError::Decode(DecodeError::LineTooLong { limit: 16 })));
/// assert_eq!(events.next().unwrap()?.data, "fine");
/// # Ok::<(), ReadError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadError<E = io::Error> {
    /// The bytes broke a limit; the decoder skipped the offending line and event.
    Decode(DecodeError),
    /// The transport failed; the adapter yields nothing more.
    Transport(E),
}

impl<E: fmt::Display> fmt::Display for ReadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Decode(e) => fmt::Display::fmt(e, f),
            ReadError::Transport(e) => write!(f, "the event stream's transport failed: {e}"),
        }
    }
}

// The cause is displayed: `source` goes on from its own source, so that a report that
// walks the chain prints each cause once.
impl<E: std::error::Error + 'static> std::error::Error for ReadError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Decode(_) => None,
            ReadError::Transport(e) => e.source(),
        }
    }
}

impl<E> From<DecodeError> for ReadError<E> {
    fn from(e: DecodeError) -> Self {
        ReadError::Decode(e)
    }
}
