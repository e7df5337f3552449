//! Decoding an `http_body::Body` in process: the way to test an SSE endpoint without a
//! socket.

use std::{
    fmt,
    pin::Pin,
    task::{ready, Context, Poll},
};

use bytes::{Buf, Bytes};
use futures_lite::Stream;
use http_body::Body;
use pin_project_lite::pin_project;

use crate::decode::{DecodeStream, Decoder};

/// The stream returned by [`decode_body`]: [`MessageEvent`](crate::MessageEvent)s, or a
/// [`DecodeError`](crate::DecodeError) carrying the body's own error type.
pub type DecodeBody<B> = DecodeStream<BodyChunks<B>>;

/// Decodes the events of any [`http_body::Body`]: a hyper `Incoming`, an axum `Body`, an
/// `http_body_util::Full`, and so on. No socket and no runtime are involved, which makes it
/// the way to test an SSE endpoint: call the handler, then decode its response body.
///
/// Async tests `.await` the stream; blocking tests wrap it in
/// `futures_lite::stream::block_on`, which turns it into an `Iterator`.
///
/// # Examples
///
/// An async test:
///
/// ```
/// use futures_lite::StreamExt;
/// use http_body_util::Full;
/// # futures_lite::future::block_on(async {
/// let body = Full::new(bytes::Bytes::from("id: 1\ndata: hello\n\ndata: bye\n\n"));
/// let events: Vec<_> = sse_pump::client::decode_body(body).try_collect().await?;
/// assert_eq!((events[0].id.as_str(), events[0].data.as_str()), ("1", "hello"));
/// assert_eq!(events[1].data, "bye");
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
///
/// A blocking test of a handler that returns an `http::Response` (here its body is an
/// sse-pump stream pumped into memory):
///
/// ```
/// use http_body_util::Full;
/// use sse_pump::{channel, Event, Sse};
///
/// fn handler() -> Result<http::Response<Full<bytes::Bytes>>, Box<dyn std::error::Error>> {
///     let (tx, rx) = channel(4);
///     tx.send_blocking(Event::new().event("greeting").data("hi"))?;
///     drop(tx);
///     let mut wire = Vec::new();
///     futures_lite::future::block_on(Sse::new(rx).keep_alive(None).pump(&mut wire))?;
///     Ok(http::Response::new(Full::new(wire.into())))
/// }
///
/// let body = handler()?.into_body();
/// let mut events = futures_lite::stream::block_on(sse_pump::client::decode_body(body));
/// let event = events.next().unwrap()?;
/// assert_eq!((&*event.event, event.data.as_str()), ("greeting", "hi"));
/// assert!(events.next().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode_body<B: Body>(body: B) -> DecodeBody<B> {
    decode_body_with(Decoder::new(), body)
}

/// [`decode_body`] with a configured decoder (limits, a saved last event ID).
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use sse_pump::{DecodeError, Decoder};
/// # futures_lite::future::block_on(async {
/// let body = http_body_util::Full::new(bytes::Bytes::from("data: far too long\n\n"));
/// let mut events = sse_pump::client::decode_body_with(Decoder::new().max_line_len(8), body);
/// let err = events.next().await.unwrap().unwrap_err();
/// assert!(matches!(err, DecodeError::LineTooLong { limit: 8 }));
/// # });
/// ```
pub fn decode_body_with<B: Body>(decoder: Decoder, body: B) -> DecodeBody<B> {
    DecodeStream::new(decoder, BodyChunks::new(body))
}

pin_project! {
    /// The data frames of an [`http_body::Body`] as a `Stream` of [`Bytes`]; trailers are
    /// skipped. [`decode_body`] feeds it to [`decode_stream`](crate::decode_stream).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// # futures_lite::future::block_on(async {
    /// let body = http_body_util::Full::new(bytes::Bytes::from("data: x\n\n"));
    /// let mut chunks = sse_pump::client::BodyChunks::new(body);
    /// assert_eq!(chunks.next().await.unwrap().unwrap(), "data: x\n\n");
    /// assert!(chunks.next().await.is_none());
    /// # });
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct BodyChunks<B> {
        #[pin]
        body: B,
    }
}

impl<B> BodyChunks<B> {
    /// Wraps `body`.
    ///
    /// # Examples
    ///
    /// ```
    /// let _chunks = sse_pump::client::BodyChunks::new(http_body_util::Empty::<bytes::Bytes>::new());
    /// ```
    pub fn new(body: B) -> Self {
        BodyChunks { body }
    }
}

impl<B: Body> Stream for BodyChunks<B> {
    type Item = Result<Bytes, B::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut body = self.project().body;
        loop {
            let frame = match ready!(body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => frame,
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            };
            if let Ok(mut data) = frame.into_data() {
                if data.has_remaining() {
                    let len = data.remaining();
                    return Poll::Ready(Some(Ok(data.copy_to_bytes(len))));
                }
            }
        }
    }
}

impl<B> fmt::Debug for BodyChunks<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyChunks")
            .field("body", &std::any::type_name::<B>())
            .finish()
    }
}
