//! The decoder's string type, and its input type: both share the bytes of the stream.

use std::{borrow::Borrow, fmt, ops::Deref};

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

/// A string of a decoded event ([`MessageEvent`](crate::MessageEvent)'s `event`, `data` and
/// `id`, an [`Item::Comment`](crate::Item::Comment)).
///
/// A field that is one whole line of one input [`Chunk`] is a view into that chunk: no copy
/// and no allocation (cloning it costs a reference count, not a copy). Only a value
/// gathered from several lines (multi-line `data`) or from a line split across chunks is
/// copied, once. A view keeps its chunk's memory alive while it lives: to keep a few
/// small strings of a stream for long, copy them (`String::from(text.as_str())`).
///
/// It derefs to `&str` and compares with `&str`, `str` and `String`;
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
pub struct Text(pub(crate) ByteString);

impl Text {
    /// `"message"`, the default event type: static, so no event pays for it.
    pub(crate) const MESSAGE: Text = Text(ByteString::from_static("message"));

    /// The string, as a `&str`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::Text::from("tick").as_str(), "tick");
    /// ```
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The string, as a `String` (no copy when this is the only owner of an allocation of
    /// its own; a view into a shared chunk is copied).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::Text::from("tick").into_string(), String::from("tick"));
    /// ```
    #[inline]
    pub fn into_string(self) -> String {
        String::from(self.0)
    }

    /// `bytes` decoded as UTF-8 with U+FFFD for invalid sequences, into memory of its own.
    #[inline]
    pub(crate) fn copy(bytes: &[u8]) -> Text {
        match simdutf8::basic::from_utf8(bytes) {
            Ok(text) => Text(ByteString::from(text)),
            Err(_) => Text(ByteString::from(String::from_utf8_lossy(bytes).into_owned())),
        }
    }

    /// `bytes` as text, taking the buffer over (no copy) when it is valid UTF-8.
    pub(crate) fn adopt(bytes: Vec<u8>) -> Text {
        match String::from_utf8(bytes) {
            Ok(text) => Text(ByteString::from(text)),
            Err(e) => Text(ByteString::from(
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
            )),
        }
    }
}

impl Deref for Text {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        &self.0
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
        Text(ByteString::from(text))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text(ByteString::from(text))
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

/// Bytes of the stream for [`Decoder::feed`](crate::Decoder::feed) and
/// [`decode_stream`](crate::decode_stream).
///
/// An owned buffer (`bytes::Bytes`, `BytesMut`, `Vec<u8>`, `String`, as HTTP clients'
/// body streams yield) is taken over without a copy, and the decoded events' fields are
/// views into it ([`Text`]); borrowed bytes (`&[u8]`, `&str`, `&Vec<u8>`, `b"..."`) are
/// copied once.
///
/// # Examples
///
/// ```
/// use sse_pump::{Chunk, Decoder};
///
/// let mut decoder = Decoder::new();
/// decoder.feed(bytes::Bytes::from_static(b"data: shared\n\n")); // no copy
/// decoder.feed(b"data: copied\n\n");
/// decoder.feed(Chunk::from(String::from("data: moved\n\n")));
/// assert_eq!(decoder.next_event()?.unwrap().data, "shared");
/// assert_eq!(decoder.next_event()?.unwrap().data, "copied");
/// assert_eq!(decoder.next_event()?.unwrap().data, "moved");
/// # Ok::<(), sse_pump::DecodeError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chunk(pub(crate) Bytes);

impl Chunk {
    /// The chunk's bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::Chunk::from("data").as_bytes(), b"data");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<Bytes> for Chunk {
    #[inline]
    fn from(bytes: Bytes) -> Self {
        Chunk(bytes)
    }
}

impl From<BytesMut> for Chunk {
    fn from(bytes: BytesMut) -> Self {
        Chunk(bytes.freeze())
    }
}

impl From<Vec<u8>> for Chunk {
    fn from(bytes: Vec<u8>) -> Self {
        Chunk(Bytes::from(bytes))
    }
}

impl From<Box<[u8]>> for Chunk {
    fn from(bytes: Box<[u8]>) -> Self {
        Chunk(Bytes::from(bytes))
    }
}

impl From<String> for Chunk {
    fn from(text: String) -> Self {
        Chunk(Bytes::from(text))
    }
}

/// Borrowed bytes of any kind (`&[u8]`, `&[u8; N]`, `&str`, `&Vec<u8>`, `&Bytes`) are
/// copied.
impl<T: AsRef<[u8]> + ?Sized> From<&T> for Chunk {
    fn from(bytes: &T) -> Self {
        Chunk(Bytes::copy_from_slice(bytes.as_ref()))
    }
}
