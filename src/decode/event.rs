//! What the decoder yields: dispatched events and, on request, comments and retry hints.

use std::time::Duration;

use super::Text;

/// One event as a browser dispatches it to an `EventSource` listener (the DOM's
/// `MessageEvent`; the server-side builder is [`Event`](crate::Event)).
///
/// Every line break inside `data` is reported as `\n`, whichever of `\n`, `\r` or `\r\n`
/// the server wrote; invalid UTF-8 comes out as U+FFFD.
///
/// The strings are [`Text`]s. A field that is one whole line of a chunk fed to the decoder
/// is a view of that chunk, with no copy (up to 7 bytes, such as a numeric ID, are held in
/// the `Text` itself); multi-line data and lines split across chunks are gathered once. They deref to `&str` and compare with `&str` and `String`
/// (`event.data == "hello"`); [`Text::into_string`] gives a `String`. The event is 64
/// bytes (on 64-bit targets).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::Decoder;
///
/// let mut decoder = Decoder::new();
/// decoder.feed(b"event: tick\nid: 7\nretry: 500\ndata: a\ndata: b\n\n");
/// let event = decoder.next_event()?.unwrap();
/// assert_eq!(event.event, "tick");
/// assert_eq!(event.data, "a\nb");
/// assert_eq!(event.id, "7");
/// assert_eq!(event.retry, Some(Duration::from_millis(500)));
/// # Ok::<(), sse_pump::DecodeError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MessageEvent {
    /// The event type: the last `event:` field of the block, or `"message"`.
    pub event: Text,
    /// The `data:` lines of the block, joined with `\n`.
    pub data: Text,
    /// The last event ID when the event was dispatched: it persists across events until an
    /// `id:` field changes it (an empty `id:` resets it to `""`).
    pub id: Text,
    /// The reconnection time, if a valid `retry:` field was in this block.
    pub retry: Option<Duration>,
}

impl MessageEvent {
    /// Deserializes `data` as JSON.
    ///
    /// # Errors
    ///
    /// The `serde_json` error if `data` is not valid JSON for `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Token { text: String }
    ///
    /// let mut decoder = sse_pump::Decoder::new();
    /// decoder.feed(b"data: {\"text\":\"hi\"}\n\n");
    /// let token: Token = decoder.next_event().unwrap().unwrap().json()?;
    /// assert_eq!(token.text, "hi");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.data)
    }
}

/// Everything the stream says, for non-browser uses: events, and also the comments and
/// retry-only blocks that a browser swallows (to watch keep-alives, for example).
///
/// Pull items with [`Decoder::next_item`](crate::Decoder::next_item), or turn an adapter
/// into an item adapter with its `items()` method.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::{Decoder, Item};
///
/// let mut decoder = Decoder::new();
/// decoder.feed(b": ping\n\nretry: 3000\n\ndata: x\n\n");
/// assert_eq!(decoder.next_item()?, Some(Item::Comment("ping".into())));
/// assert_eq!(decoder.next_item()?, Some(Item::Retry(Duration::from_secs(3))));
/// assert!(matches!(decoder.next_item()?, Some(Item::Event(e)) if e.data == "x"));
/// # Ok::<(), sse_pump::DecodeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Item {
    /// An event, exactly as [`Decoder::next_event`](crate::Decoder::next_event) returns it.
    Event(MessageEvent),
    /// A comment line (`:` and the text), with one leading space removed like a field
    /// value's: `: ping` gives `"ping"`. Each line of a multi-line comment is one item.
    Comment(Text),
    /// A block that set the reconnection time but had no data, so no event was dispatched.
    Retry(Duration),
}

/// What an adapter yields: [`MessageEvent`] (the default) or [`Item`].
///
/// Sealed: only these two types implement it. It lets one adapter type serve both, as
/// `decode_reader(r)` and `decode_reader(r).items()`.
///
/// # Examples
///
/// ```
/// use sse_pump::{decode_reader, DecodeReader, Item};
///
/// let items: DecodeReader<&[u8], Item> = decode_reader(&b": hi\n\n"[..]).items();
/// assert_eq!(items.count(), 1);
/// ```
pub trait Decoded: Sized + sealed::Sealed {
    /// Pulls the next value of this kind out of the decoder.
    ///
    /// # Errors
    ///
    /// As [`Decoder::next_event`](crate::Decoder::next_event).
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Decoded, Decoder, MessageEvent};
    /// let mut decoder = Decoder::new();
    /// decoder.feed(b"data: x\n\n");
    /// assert_eq!(MessageEvent::pull(&mut decoder)?.unwrap().data, "x");
    /// # Ok::<(), sse_pump::DecodeError>(())
    /// ```
    fn pull(decoder: &mut super::Decoder) -> Result<Option<Self>, super::DecodeError>;
}

// Always inlined, as every step from the parser up to the adapter's `poll_next`: a call
// returns the event through memory, written in 8-byte and read in 16-byte pieces, and each
// such copy costs a store-forwarding stall (perf: half of the time on one-line events).
impl Decoded for MessageEvent {
    #[inline(always)]
    fn pull(decoder: &mut super::Decoder) -> Result<Option<Self>, super::DecodeError> {
        decoder.next_event()
    }
}

impl Decoded for Item {
    #[inline(always)]
    fn pull(decoder: &mut super::Decoder) -> Result<Option<Self>, super::DecodeError> {
        decoder.next_item()
    }
}

pub(crate) mod sealed {
    use super::{Item, MessageEvent};

    /// Keeps [`Decoded`](super::Decoded) closed, and says what an adapter keeps.
    pub trait Sealed: Sized {
        /// Whether comments and retry-only blocks are wanted (built) at all.
        const ALL: bool;
        /// An event as this kind.
        fn event(event: MessageEvent) -> Self;
        /// A comment or retry-only block as this kind, if this kind keeps them.
        fn other(item: Item) -> Option<Self>;
    }

    impl Sealed for MessageEvent {
        const ALL: bool = false;
        #[inline]
        fn event(event: MessageEvent) -> Self {
            event
        }
        fn other(_: Item) -> Option<Self> {
            None
        }
    }

    impl Sealed for Item {
        const ALL: bool = true;
        #[inline]
        fn event(event: MessageEvent) -> Self {
            Item::Event(event)
        }
        fn other(item: Item) -> Option<Self> {
            Some(item)
        }
    }
}
