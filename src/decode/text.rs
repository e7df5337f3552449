//! The decoder's string type: short strings inline, with no allocation.

use std::{borrow::Borrow, fmt, ops::Deref};

use compact_str::CompactString;

/// A string of a decoded event ([`MessageEvent`](crate::MessageEvent)'s `event`, `data` and
/// `id`, an [`Item::Comment`](crate::Item::Comment)).
///
/// Up to 24 bytes (an event type, most IDs, a short message or token) it is stored inline,
/// so such an event costs no allocation at all; a longer one is one exact allocation, like a
/// `String`. It derefs to `&str` and compares with `&str`, `str` and `String`;
/// [`Text::into_string`] or `String::from` gives a `String`.
///
/// # Examples
///
/// ```
/// let mut decoder = sse_pump::Decoder::new();
/// decoder.feed(b"data: {\"n\":1}\n\n");
/// let event = decoder.next_event()?.unwrap();
/// assert_eq!(event.data, "{\"n\":1}");
/// let text: &str = &event.data; // a `&str` wherever one is wanted
/// assert!(text.starts_with('{'));
/// assert_eq!(event.data.len(), 7);
/// let owned: String = event.data.into_string();
/// # drop(owned);
/// # Ok::<(), sse_pump::DecodeError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(pub(crate) CompactString);

impl Text {
    /// The string, as a `&str`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::Text::from("tick").as_str(), "tick");
    /// ```
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The string, as a `String` (no copy when it was allocated already).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::Text::from("tick").into_string(), String::from("tick"));
    /// ```
    #[inline]
    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

impl Deref for Text {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text(CompactString::new(text))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text(CompactString::from(text))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.into_string()
    }
}

/// `PartialEq` both ways between [`Text`] and the standard string types.
macro_rules! eq_str {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Text {
            #[inline]
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }

        impl PartialEq<Text> for $other {
            #[inline]
            fn eq(&self, other: &Text) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}

eq_str!(str, &str, String);
