//! The async adapters: a `Stream` of events over a futures-io `AsyncRead`, or over a
//! stream of byte chunks (an HTTP body).

use std::{
    fmt, io,
    marker::PhantomData,
    pin::Pin,
    task::{ready, Context, Poll},
};

use futures_core::TryStream;
use futures_lite::{AsyncRead, Stream};
use pin_project_lite::pin_project;

use super::{
    reader::{Pulled, ReadBuf},
    Chunk, DecodeError, Decoded, Decoder, Item, MessageEvent,
};

/// Decodes the events of an async reader (futures-io `AsyncRead`, which every
/// `AsyncBufRead` also is; for tokio's `AsyncRead`, use `tokio_util::compat`).
///
/// The stream ends at the end of the reader (dropping an unfinished event) or after an
/// I/O error ([`DecodeError::Transport`]).
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// # futures_lite::future::block_on(async {
/// let reader = futures_lite::io::Cursor::new(b"data: a\n\nevent: b\ndata: c\n\n".to_vec());
/// let mut events = sse_pump::decode(reader);
/// assert_eq!(events.next().await.unwrap()?.data, "a");
/// assert_eq!(events.next().await.unwrap()?.event, "b");
/// assert!(events.next().await.is_none());
/// # Ok::<(), sse_pump::DecodeError<std::io::Error>>(()) }).unwrap();
/// ```
pub fn decode<R: AsyncRead>(reader: R) -> Decode<R> {
    Decode::new(Decoder::new(), reader)
}

/// Decodes the events of a stream of byte chunks, such as an HTTP client's body stream.
/// The stream's error type `E` is carried in [`DecodeError::Transport`].
///
/// Owned chunks (`bytes::Bytes`, `Vec<u8>`, `String`: any `Into<`[`Chunk`]`>`) are not
/// copied: an event's fields that are one whole line of a chunk are views of it (see
/// [`Text`](crate::Text)). It is [`Decoder::feed`] and [`Decoder::next_event`] and nothing
/// more.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use futures_lite::{stream, StreamExt};
/// # futures_lite::future::block_on(async {
/// let chunks = stream::iter([Ok(Bytes::from("data: he")), Ok(Bytes::from("llo\n\n")), Err("reset")]);
/// let mut events = sse_pump::decode_stream(chunks);
/// assert_eq!(events.next().await.unwrap().unwrap().data, "hello");
/// assert!(matches!(events.next().await, Some(Err(sse_pump::DecodeError::Transport("reset")))));
/// assert!(events.next().await.is_none());
/// # });
/// ```
pub fn decode_stream<S, B, E>(chunks: S) -> DecodeStream<S>
where
    S: Stream<Item = Result<B, E>>,
    B: Into<Chunk>,
{
    DecodeStream::new(Decoder::new(), chunks)
}

pin_project! {
    /// The stream returned by [`decode`]: yields `Result<T, DecodeError<io::Error>>`, where `T` is
    /// [`MessageEvent`] or, after [`items`](Decode::items), [`Item`](crate::Item).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// # futures_lite::future::block_on(async {
    /// let decoder = sse_pump::Decoder::new().max_line_len(1024);
    /// let mut items = sse_pump::Decode::new(decoder, &b": ping\n"[..]).items();
    /// assert_eq!(items.next().await.unwrap()?, sse_pump::Item::Comment("ping".into()));
    /// # Ok::<(), sse_pump::DecodeError<std::io::Error>>(()) }).unwrap();
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct Decode<R, T = MessageEvent> {
        #[pin]
        reader: R,
        read: ReadBuf,
        kind: PhantomData<fn() -> T>,
    }
}

impl<R> Decode<R> {
    /// Decodes `reader` with a configured decoder.
    ///
    /// # Examples
    ///
    /// ```
    /// let decoder = sse_pump::Decoder::new().max_event_size(1 << 16);
    /// let _events: sse_pump::Decode<&[u8]> = sse_pump::Decode::new(decoder, &b""[..]);
    /// ```
    pub fn new(decoder: Decoder, reader: R) -> Self {
        Decode {
            reader,
            read: ReadBuf::new(decoder),
            kind: PhantomData,
        }
    }
}

impl<R, T> Decode<R, T> {
    /// Yields every [`Item`](crate::Item): comments and retry-only blocks too.
    ///
    /// # Examples
    ///
    /// ```
    /// let _items = sse_pump::decode(&b": ping\n"[..]).items();
    /// ```
    pub fn items(self) -> Decode<R, super::Item> {
        Decode {
            reader: self.reader,
            read: self.read,
            kind: PhantomData,
        }
    }

    /// The decoder, for its [last event ID](Decoder::last_event_id) and
    /// [reconnection time](Decoder::reconnection_time).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::decode(&b""[..]).decoder().reconnection_time(), None);
    /// ```
    pub fn decoder(&self) -> &Decoder {
        &self.read.decoder
    }
}

impl<R: AsyncRead, T: Decoded> Stream for Decode<R, T> {
    type Item = Result<T, DecodeError<io::Error>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            match this.read.pull::<T>() {
                Pulled::Item(item) => {
                    return Poll::Ready(Some(item.map_err(DecodeError::with_transport)))
                }
                Pulled::End => return Poll::Ready(None),
                Pulled::NeedInput => {}
            }
            let read = ready!(this.reader.as_mut().poll_read(cx, this.read.space()));
            if let Some(e) = this.read.filled(read) {
                return Poll::Ready(Some(Err(DecodeError::Transport(e))));
            }
        }
    }
}

pin_project! {
    /// The stream returned by [`decode_stream`]: yields `Result<T, DecodeError<E>>`, where
    /// `T` is [`MessageEvent`] or, after [`items`](DecodeStream::items),
    /// [`Item`](crate::Item).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::{stream, StreamExt};
    /// # futures_lite::future::block_on(async {
    /// let chunks = stream::iter([Ok::<_, std::io::Error>(&b"retry: 5\n\n"[..])]);
    /// let mut items = sse_pump::DecodeStream::new(sse_pump::Decoder::new(), chunks).items();
    /// let item = items.next().await.unwrap().unwrap();
    /// assert_eq!(item, sse_pump::Item::Retry(std::time::Duration::from_millis(5)));
    /// # });
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct DecodeStream<S, T = MessageEvent> {
        #[pin]
        chunks: S,
        // Each chunk is fed to it as it comes, and its events pulled one by one as they
        // are polled: no copy, no queue.
        decoder: Decoder,
        done: bool,
        kind: PhantomData<fn() -> T>,
    }
}

impl<S> DecodeStream<S> {
    /// Decodes `chunks` with a configured decoder.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::stream;
    /// let decoder = sse_pump::Decoder::new().max_line_len(1024);
    /// let chunks = stream::empty::<Result<Vec<u8>, std::io::Error>>();
    /// let _events: sse_pump::DecodeStream<_> = sse_pump::DecodeStream::new(decoder, chunks);
    /// ```
    pub fn new(decoder: Decoder, chunks: S) -> Self {
        DecodeStream {
            chunks,
            decoder,
            done: false,
            kind: PhantomData,
        }
    }

    /// Yields every [`Item`](crate::Item): comments and retry-only blocks too.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::stream;
    /// let chunks = stream::empty::<Result<Vec<u8>, std::io::Error>>();
    /// let _items = sse_pump::decode_stream(chunks).items();
    /// ```
    pub fn items(self) -> DecodeStream<S, Item> {
        let DecodeStream {
            chunks,
            decoder,
            done,
            ..
        } = self;
        DecodeStream {
            chunks,
            decoder,
            done,
            kind: PhantomData,
        }
    }
}

impl<S, T> DecodeStream<S, T> {
    /// The decoder, for its [last event ID](Decoder::last_event_id) and
    /// [reconnection time](Decoder::reconnection_time).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::stream;
    /// let chunks = stream::empty::<Result<Vec<u8>, std::io::Error>>();
    /// assert_eq!(sse_pump::decode_stream(chunks).decoder().last_event_id(), "");
    /// ```
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }
}

impl<S, T> Stream for DecodeStream<S, T>
where
    S: TryStream,
    S::Ok: Into<Chunk>,
    T: Decoded,
{
    type Item = Result<T, DecodeError<S::Error>>;

    // Inlined into the caller, so that the event is built where the caller wants it rather
    // than returned through memory (a store-forwarding stall per event, perf showed).
    #[inline(always)]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            match T::pull(this.decoder) {
                Ok(Some(value)) => return Poll::Ready(Some(Ok(value))),
                Err(e) => return Poll::Ready(Some(Err(e.with_transport()))),
                Ok(None) => {}
            }
            if *this.done {
                return Poll::Ready(None);
            }
            match ready!(this.chunks.as_mut().try_poll_next(cx)) {
                Some(Ok(chunk)) => this.decoder.feed(chunk),
                Some(Err(e)) => {
                    end(this.decoder, this.done);
                    return Poll::Ready(Some(Err(DecodeError::Transport(e))));
                }
                None => end(this.decoder, this.done),
            }
        }
    }
}

/// The end of the stream: drop the unfinished event.
fn end(decoder: &mut Decoder, done: &mut bool) {
    decoder.finish();
    *done = true;
}

impl<R, T> fmt::Debug for Decode<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decode")
            .field("reader", &std::any::type_name::<R>())
            .field("decoder", &self.read.decoder)
            .finish()
    }
}

impl<S, T> fmt::Debug for DecodeStream<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeStream")
            .field("chunks", &std::any::type_name::<S>())
            .field("decoder", &self.decoder)
            .finish()
    }
}
