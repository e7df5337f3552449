//! The decoder's string type, and its input type: both share the bytes of the stream.

use std::{borrow::Borrow, cmp::Ordering, fmt, hash, ops::Deref, sync::Arc};

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

/// The `len` of a [`Text`] that is the whole of its owner.
const WHOLE: u32 = u32::MAX;
/// The longest text held inline, in the [`Text`] itself: one byte of its eight holds the
/// length.
const INLINE: usize = 7;

/// A string of a decoded event ([`MessageEvent`](crate::MessageEvent)'s `event`, `data` and
/// `id`, an [`Item::Comment`](crate::Item::Comment)).
///
/// A field that is one whole line of one input [`Chunk`] is a view into that chunk: no copy
/// and no allocation (cloning it costs a reference count, not a copy). A string of up to 7
/// bytes (a short ID such as `42`, the event type `message`) is held in the `Text` itself,
/// with no allocation either. Only a longer value gathered from several lines (multi-line
/// `data`) or from a line split across chunks is copied, once (multi-line data into 8 KiB
/// blocks that several events share). A view keeps the memory it points into alive while
/// it lives: to keep a few strings of a stream for long, copy them
/// (`String::from(text.as_str())`).
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
// 16 bytes, so that an event is 64: an `Arc` (cloned inline, unlike `Bytes`, whose clone
// is a call through its vtable) and the range of the owner's text that this is; or, with
// no owner, the text itself (a short ID costs no allocation, and keeps no chunk alive).
#[derive(Clone, Default)]
pub struct Text {
    /// The chunk (its valid UTF-8 prefix) or the copy that holds the text; `None` for a
    /// text held in `span`.
    owner: Option<Arc<ByteString>>,
    /// With an owner: the text's start and length in it, two little-endian `u32`s (the
    /// length [`WHOLE`] for all of it). Without: the text's bytes, then its length in the
    /// last byte.
    span: [u8; 8],
}

impl Text {
    /// `"message"`, the default event type: held inline, so no event pays for it.
    pub(crate) const MESSAGE: Text = Text {
        owner: None,
        span: *b"message\x07",
    };

    /// The text `owner[start..start + len]`, which must lie on character boundaries.
    /// `None` if the range does not fit the compact form (a chunk over 4 GiB).
    #[inline]
    pub(crate) fn view(owner: &Arc<ByteString>, start: usize, len: usize) -> Option<Text> {
        let (start, len) = (u32::try_from(start).ok()?, u32::try_from(len).ok()?);
        if len == WHOLE {
            return None;
        }
        let mut span = [0; 8];
        span[..4].copy_from_slice(&start.to_le_bytes());
        span[4..].copy_from_slice(&len.to_le_bytes());
        Some(Text {
            owner: Some(Arc::clone(owner)),
            span,
        })
    }

    /// `text` held inline, if it is short enough.
    #[inline]
    pub(crate) fn inline(text: &str) -> Option<Text> {
        Text::inline_bytes(text.as_bytes())
    }

    /// `bytes`, valid UTF-8, held inline if short enough.
    #[inline]
    pub(crate) fn inline_bytes(bytes: &[u8]) -> Option<Text> {
        if bytes.len() > INLINE {
            return None;
        }
        // Built in a register: a copy through memory, read back as a whole, would stall.
        let mut word = (bytes.len() as u64) << (8 * INLINE);
        for (i, &b) in bytes.iter().enumerate() {
            word |= u64::from(b) << (8 * i);
        }
        Some(Text {
            owner: None,
            span: word.to_le_bytes(),
        })
    }

    /// A string in memory of its own (inline when short).
    fn own(text: ByteString) -> Text {
        if let Some(inline) = Text::inline(&text) {
            return inline;
        }
        Text {
            owner: Some(Arc::new(text)),
            span: [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF],
        }
    }

    /// The start and length of the text in its owner.
    #[inline]
    fn range(&self) -> (u32, u32) {
        let [a, b, c, d, e, f, g, h] = self.span;
        (
            u32::from_le_bytes([a, b, c, d]),
            u32::from_le_bytes([e, f, g, h]),
        )
    }

    /// The text held inline.
    #[inline]
    fn inline_str(&self) -> &str {
        // Only valid UTF-8 is put there: this always succeeds.
        std::str::from_utf8(self.inline_bytes_of()).unwrap_or_default()
    }

    /// The bytes held inline.
    #[inline]
    fn inline_bytes_of(&self) -> &[u8] {
        &self.span[..usize::from(self.span[INLINE]).min(INLINE)]
    }

    /// The string's bytes: as `as_str().as_bytes()`, without checking inline text again.
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        match &self.owner {
            None => self.inline_bytes_of(),
            Some(owner) => self_str(owner, self.range()).as_bytes(),
        }
    }

    /// The string, as a `&str`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::Text::from("tick").as_str(), "tick");
    /// ```
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.owner {
            None => self.inline_str(),
            Some(owner) => self_str(owner, self.range()),
        }
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
        let range = self.range();
        let Some(owner) = self.owner else {
            return String::from(self.inline_str());
        };
        match Arc::try_unwrap(owner) {
            Ok(owner) if range.1 == WHOLE => String::from(owner),
            Ok(owner) => String::from(self_str(&owner, range)),
            Err(owner) => String::from(self_str(&owner, range)),
        }
    }

    /// `bytes` decoded as UTF-8 with U+FFFD for invalid sequences, into memory of its own
    /// (inline when short).
    #[inline]
    pub(crate) fn copy(bytes: &[u8]) -> Text {
        match simdutf8::basic::from_utf8(bytes) {
            Ok(text) => Text::inline(text).unwrap_or_else(|| Text::own(ByteString::from(text))),
            Err(_) => Text::own(ByteString::from(
                String::from_utf8_lossy(bytes).into_owned(),
            )),
        }
    }

    /// All of `buf` as text, split off it without a copy when it is valid UTF-8 (a copy
    /// with U+FFFD otherwise); `buf` is left empty.
    #[inline(always)]
    pub(crate) fn split_off(buf: &mut BytesMut) -> Text {
        let bytes = buf.split().freeze();
        match ByteString::try_from(bytes.clone()) {
            Ok(text) => Text::own(text),
            Err(_) => Text::copy(&bytes),
        }
    }
}

impl Deref for Text {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

/// `owner[start..][..len]`, or all of it for [`WHOLE`].
#[inline]
fn self_str(owner: &ByteString, (start, len): (u32, u32)) -> &str {
    if len == WHOLE {
        return owner;
    }
    let (start, len) = (start as usize, len as usize);
    // Views are made on character boundaries only: this always succeeds.
    owner.get(start..start + len).unwrap_or_default()
}

impl PartialEq for Text {
    #[inline]
    fn eq(&self, other: &Text) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> Ordering {
        // Strings order as their bytes do.
        self.bytes().cmp(other.bytes())
    }
}

impl hash::Hash for Text {
    fn hash<H: hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.bytes()
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
        Text::own(ByteString::from(text))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text::own(ByteString::from(text))
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
                self.bytes() == AsRef::<str>::as_ref(other).as_bytes()
            }
        }

        impl PartialEq<Text> for $other {
            #[inline]
            fn eq(&self, other: &Text) -> bool {
                AsRef::<str>::as_ref(self).as_bytes() == other.bytes()
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
