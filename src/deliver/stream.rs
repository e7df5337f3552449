//! A stream's frames as a `Stream` of `Bytes`: what an HTTP body, or any framework's
//! streaming response, forwards.

use std::{
    fmt,
    pin::Pin,
    sync::{Arc, OnceLock},
    task::{ready, Context, Poll},
};

use bytes::Bytes;
use futures_lite::Stream;

use super::{
    channel::{Receiver, Source},
    error::{Error, SourceError},
    frames::Frames,
    report::{Ended, Report},
    watchdog::Watchdog,
};

/// A stream's frames, as a [`Stream`] of `Result<Bytes, Error>`: the `retry` frame first,
/// events (those queued together gathered into one frame, see
/// [`Sse::coalesce`](crate::Sse::coalesce); a single event as its own `Bytes`, with no
/// copy), keep-alive pings when quiet (the clock reset by every frame), the farewell on
/// shutdown. Made by [`Sse::into_stream`](crate::Sse::into_stream).
///
/// Every rule of delivery lives here, so any framework that takes a stream of bytes as a
/// response body (actix-web's `HttpResponse::streaming`, poem's `Body::from_bytes_stream`,
/// salvo, rocket, a hand-written server) gets what an [`SseBody`](crate::SseBody) gets;
/// an `SseBody` is this stream and nothing more. Set the SSE headers yourself
/// (`Content-Type: text/event-stream`, `Cache-Control: no-store`).
///
/// How it ends:
/// - the source ends: the stream ends;
/// - the source fails (its producer returned an error or panicked): the stream yields
///   [`Error::SourceFailed`] after what was sent, one poll later, so that the server
///   writes what came before; a server aborts the response on an error (HTTP/1.1: no
///   terminating chunk; HTTP/2: a reset), so the client can tell a truncated stream from
///   a finished one;
/// - a shutdown: the farewell, then the end;
/// - the server stops polling it for longer than the [send
///   timeout](crate::Sse::send_timeout) after a frame (the client stopped reading, so the
///   server cannot write): the source is closed then, even though nothing polls the
///   stream (a timer does it), so producers stop; if the server polls it again, it yields
///   [`Error::SendTimeout`]. This guard holds on any server that polls a body only once it
///   has written the last frame, as hyper, actix-web and poem do. It cannot hold where a
///   server buffers frames without bound (it keeps polling, so nothing looks stalled);
///   there the connection's own write timeout is the guard;
/// - the server drops it (the client went away): the source is closed, so producers'
///   sends fail, and the report says [`Ended::Disconnected`].
///
/// [`SseStream::report`] tells how it went.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use sse_pump::{channel, Event, Sse};
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = channel(8);
/// tx.send(Event::new().data("a")).await?;
/// drop(tx);
/// let mut frames = Sse::new(rx).keep_alive(None).into_stream();
/// let report = frames.report();
/// let mut wire = Vec::new();
/// while let Some(frame) = frames.next().await {
///     wire.extend_from_slice(&frame?); // a framework writes each frame to the client
/// }
/// assert_eq!(wire, b"data: a\n\n");
/// assert_eq!(report.wait().await.events, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub struct SseStream<S: Source = Receiver> {
    // Boxed so that the stream is `Unpin`, which most frameworks' bodies need.
    frames: Pin<Box<Frames<S>>>,
    shared: Arc<Watchdog<Shared>>,
    /// The error to yield once the server has had a chance to write what came before.
    failing: Option<Error>,
}

impl<S: Source> SseStream<S> {
    /// The stream of `frames`.
    pub(crate) fn new(frames: Frames<S>) -> Self {
        let shared = Shared {
            report: OnceLock::new(),
            ended: event_listener::Event::new(),
        };
        SseStream {
            frames: Box::pin(frames),
            shared: Arc::new(Watchdog::new(shared)),
            failing: None,
        }
    }

    /// A handle on the stream's [`Report`], available once the stream has ended or been
    /// dropped. `events` counts the events the server took; `undelivered` those it did not
    /// (still queued, or handed out last when the client went away).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sse_pump::channel(8);
    /// tx.try_send(sse_pump::Event::new().data("never read"))?;
    /// let stream = sse_pump::Sse::new(rx).into_stream();
    /// let report = stream.report();
    /// drop(stream); // as a server does when the client goes away
    /// let report = report.get().unwrap();
    /// assert_eq!(report.ended, sse_pump::Ended::Disconnected);
    /// assert_eq!(report.undelivered, 1);
    /// assert!(tx.is_closed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn report(&self) -> ReportHandle {
        ReportHandle {
            shared: self.shared.clone(),
        }
    }

    /// Whether the stream has nothing more to yield, so that a server may end the response
    /// without polling it again (as `http_body::Body::is_end_stream` lets hyper do).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// # futures_lite::future::block_on(async {
    /// let (tx, rx) = sse_pump::channel(1);
    /// drop(tx);
    /// let mut frames = sse_pump::Sse::new(rx).into_stream();
    /// assert!(!frames.is_end_stream());
    /// assert!(frames.next().await.is_none());
    /// assert!(frames.is_end_stream());
    /// # });
    /// ```
    pub fn is_end_stream(&self) -> bool {
        // A failed stream is not at its end: the error is still to come.
        self.frames.is_done()
            && self.failing.is_none()
            && self.frames.report().ended != Ended::SourceFailed
    }

    /// Publishes the report of a stream that has ended.
    fn finish(&mut self) {
        self.shared.stop();
        let report = self.frames.as_mut().take_report();
        // A stream ends once (every caller checks that the machine is not done yet).
        let _ = self.shared.shared.report.set(Box::new(report));
        self.shared.shared.ended.notify(usize::MAX);
    }

    /// Ends a stream whose last frame the server did not take in time.
    fn time_out(&mut self) -> Error {
        let limit = self.frames.send_limit().unwrap_or_default();
        self.frames.as_mut().abort(Ended::SendTimeout);
        self.finish();
        Error::SendTimeout(limit)
    }

    /// Ends a stream whose source failed; the error is yielded on the next poll.
    fn fail(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Error>>> {
        let error = self.frames.report().source_error.clone();
        let error = error.unwrap_or_else(|| SourceError::new("the source failed"));
        self.finish();
        // Not yet: a server aborts at once, discarding what it has not written yet. One
        // `Pending` first lets it write the events the source did send.
        self.failing = Some(Error::SourceFailed(error));
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<S: Source> Stream for SseStream<S> {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(error) = this.failing.take() {
            return Poll::Ready(Some(Err(error)));
        }
        if this.frames.is_done() {
            return Poll::Ready(None);
        }
        this.shared.taken();
        if this.shared.fired() {
            return Poll::Ready(Some(Err(this.time_out())));
        }
        match ready!(this.frames.as_mut().poll_next(cx)) {
            Some(frame) => {
                let frames = &this.frames;
                (this.shared).handed(frames.send_limit(), || frames.source().close_handle());
                Poll::Ready(Some(Ok(frame)))
            }
            None if this.frames.report().ended == Ended::SourceFailed => this.fail(cx),
            None => {
                this.finish();
                Poll::Ready(None)
            }
        }
    }
}

impl<S: Source> Drop for SseStream<S> {
    fn drop(&mut self) {
        if !self.frames.is_done() {
            let fired = self.shared.fired();
            self.frames.as_mut().abort(match fired {
                true => Ended::SendTimeout,
                false => Ended::Disconnected,
            });
            self.finish();
        }
    }
}

impl<S: Source> fmt::Debug for SseStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseStream")
            .field("source", &std::any::type_name::<S>())
            .field("done", &self.frames.is_done())
            .finish_non_exhaustive()
    }
}

/// How a stream ended, for its [`ReportHandle`]s. The report is boxed: set once, at the
/// end, it costs a live stream one word instead of its whole size.
struct Shared {
    report: OnceLock<Box<Report>>,
    ended: event_listener::Event,
}

/// The [`Report`] of an [`SseStream`] (or of the HTTP body that forwards one), from
/// [`SseStream::report`]: ready once the stream has ended or the server has dropped it.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = sse_pump::channel(8);
/// tx.send(sse_pump::Event::new().data("a")).await?;
/// drop(tx);
/// let stream = sse_pump::Sse::new(rx).into_stream();
/// let report = stream.report();
/// let _frames: Vec<_> = stream.collect().await;
/// let report = report.wait().await;
/// assert_eq!((report.ended, report.events), (sse_pump::Ended::SourceClosed, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct ReportHandle {
    shared: Arc<Watchdog<Shared>>,
}

impl ReportHandle {
    /// The report if the stream has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let stream = sse_pump::Sse::new(rx).into_stream();
    /// assert!(stream.report().get().is_none());
    /// ```
    pub fn get(&self) -> Option<Report> {
        let report = self.shared.shared.report.get();
        report.map(|report| Report::clone(report))
    }

    /// Waits until the stream has ended, then returns its report.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let stream = sse_pump::Sse::new(rx).into_stream();
    /// let report = stream.report();
    /// drop(stream);
    /// assert_eq!(report.wait().await.ended, sse_pump::Ended::Disconnected);
    /// # });
    /// ```
    pub async fn wait(&self) -> Report {
        loop {
            if let Some(report) = self.get() {
                return report;
            }
            let listener = self.shared.shared.ended.listen();
            if let Some(report) = self.get() {
                return report;
            }
            listener.await;
        }
    }
}

impl fmt::Debug for ReportHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportHandle")
            .field("report", &self.get())
            .finish()
    }
}
