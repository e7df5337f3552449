//! The error of an event that refused a field.

use std::fmt;

/// A field that an [`Event`](crate::Event) refused: it would have corrupted the wire, or
/// could not be serialized.
///
/// The setters never fail; the event records its first refused field, writes nothing for
/// it, and is refused where it is sent or published ([`Event::error`](crate::Event::error),
/// [`Event::check`](crate::Event::check)).
///
/// # Examples
///
/// ```
/// use sse_pump::{Event, FieldError};
///
/// let err = Event::new().id("1\n2").check().unwrap_err();
/// assert_eq!(err, FieldError::InvalidByte { field: "id", byte: b'\n' });
/// assert_eq!(err.to_string(), "the `id` field cannot contain a line feed");
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum FieldError {
    /// An `event` or `id` value held a byte that would end the line early (CR or LF), or a
    /// NUL in an `id`, which a browser ignores.
    InvalidByte {
        /// The field name: `"event"` or `"id"`.
        field: &'static str,
        /// The offending byte: `b'\r'`, `b'\n'` or `0`.
        byte: u8,
    },
    /// `Event::json` could not serialize the value; the serde_json error is the
    /// [`source`](std::error::Error::source). Shared, so that an event that holds it can
    /// be cloned.
    #[cfg(feature = "json")]
    Json(std::sync::Arc<serde_json::Error>),
}

impl PartialEq for FieldError {
    /// Equal when of the same kind with the same field and byte; JSON errors compare by
    /// identity.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                FieldError::InvalidByte { field, byte },
                FieldError::InvalidByte { field: f, byte: b },
            ) => field == f && byte == b,
            #[cfg(feature = "json")]
            (FieldError::Json(a), FieldError::Json(b)) => std::sync::Arc::ptr_eq(a, b),
            #[cfg(feature = "json")]
            _ => false,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::InvalidByte { field, byte } => {
                let what = match byte {
                    b'\r' => "a carriage return",
                    b'\n' => "a line feed",
                    0 => "a NUL",
                    _ => "a forbidden byte",
                };
                write!(f, "the `{field}` field cannot contain {what}")
            }
            #[cfg(feature = "json")]
            FieldError::Json(_) => f.write_str("the value could not be serialized to JSON"),
        }
    }
}

impl std::error::Error for FieldError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            #[cfg(feature = "json")]
            FieldError::Json(e) => Some(&**e),
            _ => None,
        }
    }
}
