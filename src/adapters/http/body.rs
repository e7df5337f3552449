//! The body of an SSE response: the stream's frames, forwarded to the server.

use std::{
    fmt,
    pin::Pin,
    task::{ready, Context, Poll},
};

use bytes::Bytes;
use futures_lite::Stream;
use http_body::{Body, Frame, SizeHint};

use crate::deliver::{Error, Receiver, ReportHandle, Source, Sse, SseStream};

/// The body of an SSE response: an [`http_body::Body`] that forwards the frames of an
/// [`SseStream`], as [`Sse::pump`] writes them, and nothing else: every rule of
/// delivery (keep-alive, coalescing, shutdown, the send timeout, the abort on a failed
/// source) is the stream's, and is described there.
///
/// Over HTTP/1.1 the connection itself is the server's: serve it through
/// [`WriteTimeout`](crate::WriteTimeout) so that a client that stops reading loses its
/// connection too, not only its stream. Over HTTP/2, hyper polls a stream's body only
/// while the client's flow-control window for it is open, so a stalled stream is reset
/// when the client opens the window or resets it (a browser does when the page goes),
/// and holds until then at most that window and hyper's send buffer (400 KiB by
/// default); the other streams of the connection are not affected.
///
/// [`SseBody::report`] tells how it went.
///
/// # Examples
///
/// ```
/// use http_body_util::BodyExt;
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = sse_pump::channel(8);
/// tx.send(sse_pump::Event::new().data("a")).await?;
/// drop(tx);
/// let body = sse_pump::SseBody::new(sse_pump::Sse::new(rx).keep_alive(None));
/// let bytes = body.collect().await?.to_bytes();
/// assert_eq!(bytes, "data: a\n\n");
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub struct SseBody<S: Source = Receiver> {
    stream: SseStream<S>,
}

impl<S: Source> SseBody<S> {
    /// The body of `sse`; [`response`](crate::response) wraps it in a response with the
    /// right headers.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let body = sse_pump::SseBody::new(sse_pump::Sse::new(rx));
    /// # drop(body);
    /// ```
    pub fn new(sse: Sse<S>) -> Self {
        SseBody {
            stream: sse.into_stream(),
        }
    }

    /// A handle on the body's [`Report`](crate::Report), available once the body has
    /// ended or been dropped: [`SseStream::report`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sse_pump::channel(8);
    /// tx.try_send(sse_pump::Event::new().data("never read"))?;
    /// let body = sse_pump::SseBody::new(sse_pump::Sse::new(rx));
    /// let report = body.report();
    /// drop(body); // as hyper does when the client goes away
    /// let report = report.get().unwrap();
    /// assert_eq!(report.ended, sse_pump::Ended::Disconnected);
    /// assert_eq!(report.undelivered, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn report(&self) -> ReportHandle {
        self.stream.report()
    }
}

impl<S: Source> From<SseStream<S>> for SseBody<S> {
    /// The body that forwards `stream`.
    fn from(stream: SseStream<S>) -> Self {
        SseBody { stream }
    }
}

impl<S: Source> Body for SseBody<S> {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let next = ready!(Pin::new(&mut self.get_mut().stream).poll_next(cx));
        Poll::Ready(next.map(|frame| frame.map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        self.stream.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl<S: Source> fmt::Debug for SseBody<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseBody")
            .field("stream", &self.stream)
            .finish()
    }
}
