//! The decoder's error: a broken limit, or a failed transport.

use std::{convert::Infallible, fmt};

/// The byte stream broke one of the [`Decoder`](crate::Decoder)'s limits, or (from an
/// adapter: [`decode_reader`](crate::decode_reader), [`decode`](crate::decode),
/// [`decode_stream`](crate::decode_stream)) its transport failed.
///
/// After a broken limit the decoder recovers by itself: it skips the rest of the offending
/// line, drops the event being built (later fields up to the next blank line are ignored)
/// and goes on with the next event, so memory stays bounded and a caller may keep pulling.
/// After a [`Transport`](DecodeError::Transport) error an adapter yields nothing more.
///
/// `E` is the transport's error: [`Infallible`] for the sans-IO [`Decoder`](crate::Decoder)
/// (the default, so that `DecodeError` alone is a broken limit), [`std::io::Error`] for
/// readers, the stream's own error type for [`decode_stream`](crate::decode_stream). It
/// is carried as it is, not stringified.
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
pub enum DecodeError<E = Infallible> {
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
    /// The transport failed (an adapter's reader or stream); it is the
    /// [`source`](std::error::Error::source). The adapter yields nothing more.
    Transport(E),
}

impl DecodeError {
    /// This broken limit as the error of an adapter whose transport fails with `E`.
    pub(crate) fn with_transport<E>(self) -> DecodeError<E> {
        match self {
            DecodeError::LineTooLong { limit } => DecodeError::LineTooLong { limit },
            DecodeError::IdTooLong { limit } => DecodeError::IdTooLong { limit },
            DecodeError::EventTooLarge { limit } => DecodeError::EventTooLarge { limit },
            DecodeError::Transport(never) => match never {},
        }
    }
}

#[cfg(feature = "client")]
impl<E> DecodeError<E> {
    /// The broken limit, without the transport's error type; `Err` with the transport's
    /// error if that is what failed.
    pub(crate) fn into_limit(self) -> Result<DecodeError, E> {
        match self {
            DecodeError::LineTooLong { limit } => Ok(DecodeError::LineTooLong { limit }),
            DecodeError::IdTooLong { limit } => Ok(DecodeError::IdTooLong { limit }),
            DecodeError::EventTooLarge { limit } => Ok(DecodeError::EventTooLarge { limit }),
            DecodeError::Transport(e) => Err(e),
        }
    }
}

impl<E> fmt::Display for DecodeError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::LineTooLong { limit } => write!(f, "a line is longer than {limit} bytes"),
            DecodeError::IdTooLong { limit } => write!(f, "an id is longer than {limit} bytes"),
            DecodeError::EventTooLarge { limit } => {
                write!(f, "an event is larger than {limit} bytes")
            }
            DecodeError::Transport(_) => f.write_str("the event stream's transport failed"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for DecodeError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DecodeError::Transport(e) => Some(e),
            _ => None,
        }
    }
}
