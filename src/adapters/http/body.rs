//! The body of an SSE response: the delivery machine's frames, handed to the server.

use std::{
    fmt,
    pin::Pin,
    sync::{Arc, OnceLock},
    task::{ready, Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use futures_lite::Stream;
use http_body::{Body, Frame, SizeHint};

use super::watchdog::Watchdog;
use crate::deliver::{Ended, Frames, Receiver, Report, Source, Sse};

/// The body of an SSE response: an [`http_body::Body`] whose frames are the stream's
/// frames, as [`Sse::pump`] writes them: the `retry` frame first, events (those queued
/// together gathered into one frame, see [`Sse::coalesce`]; a single event as its own
/// `Bytes`, with no copy), keep-alive pings when quiet, the farewell on shutdown.
///
/// How it ends:
/// - the source ends: the body ends cleanly (HTTP/1.1: the terminating chunk; HTTP/2: an
///   end-of-stream flag);
/// - the source fails (its producer returned an error or panicked): the body yields
///   [`BodyError::SourceFailed`] after what was sent, which makes the server abort the
///   response (HTTP/1.1: the connection closes without the terminating chunk; HTTP/2: the
///   stream is reset), so the client can tell a truncated stream from a finished one;
/// - a shutdown: the farewell, then a clean end;
/// - the server stops polling it for longer than the [send timeout](Sse::send_timeout)
///   after a frame (the client stopped reading): the source is closed then, even though
///   the body is not polled, so producers stop; if the server polls it again, it yields
///   [`BodyError::SendTimeout`], which aborts the response. Over HTTP/1.1 the connection
///   itself is the server's: serve it through [`WriteTimeout`](crate::WriteTimeout) to
///   close it too. Over HTTP/2, hyper polls a stream's body only while the client's
///   flow-control window for it is open, so a stalled stream is reset when the client
///   opens the window or resets it (a browser does when the page goes), and holds until
///   then at most that window and hyper's send buffer (400 KiB by default); the other
///   streams of the connection are not affected;
/// - the server drops it (the client went away): the source is closed, so producers'
///   sends fail.
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
    // Boxed so that the body is `Unpin`, which `BodyExt` users and some servers need.
    frames: Pin<Box<Frames<S>>>,
    shared: Arc<Watchdog<Shared>>,
    /// The error to yield once the server has had a chance to flush what came before.
    failing: Option<BodyError>,
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
        let frames = Box::pin(sse.into_frames());
        let shared = Shared {
            report: OnceLock::new(),
            ended: event_listener::Event::new(),
        };
        SseBody {
            shared: Arc::new(Watchdog::new(shared)),
            frames,
            failing: None,
        }
    }

    /// A handle on the body's [`Report`], available once the body has ended or been
    /// dropped. `events` counts the events the server took; `undelivered` those it did
    /// not (still queued, or handed out last when the client went away).
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
    /// assert!(tx.is_closed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn report(&self) -> BodyReport {
        BodyReport {
            shared: self.shared.clone(),
        }
    }

    /// Publishes the report of a body that has ended.
    fn finish(&mut self) {
        self.shared.stop();
        let report = self.frames.as_mut().take_report();
        // A body ends once (every caller checks that the machine is not done yet).
        let _ = self.shared.shared.report.set(Box::new(report));
        self.shared.shared.ended.notify(usize::MAX);
    }

    /// Ends a body whose last frame the server did not take in time.
    fn time_out(&mut self) -> BodyError {
        let limit = self.frames.send_limit().unwrap_or_default();
        self.frames.as_mut().abort(Ended::SendTimeout);
        self.finish();
        BodyError::SendTimeout(limit)
    }
}

impl<S: Source> Drop for SseBody<S> {
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

impl<S: Source> Body for SseBody<S> {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
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
                Poll::Ready(Some(Ok(Frame::data(frame))))
            }
            None if this.frames.report().ended == Ended::SourceFailed => {
                let error = this.frames.report().source_error.clone();
                this.finish();
                // Not yet: a server aborts at once, discarding what it has not written
                // yet. One `Pending` first lets it flush the events the source did send.
                this.failing = Some(BodyError::SourceFailed(error));
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            None => {
                this.finish();
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        // A failed body is not at its end: the error is still to come.
        self.frames.is_done() && self.frames.report().ended != Ended::SourceFailed
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl<S: Source> fmt::Debug for SseBody<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseBody")
            .field("source", &std::any::type_name::<S>())
            .field("done", &self.frames.is_done())
            .finish_non_exhaustive()
    }
}

/// Why an [`SseBody`] failed, which makes the server abort the response so that the
/// client sees a truncated stream, not a finished one.
///
/// # Examples
///
/// ```
/// let error = sse_pump::BodyError::SourceFailed(Some("the feed broke".into()));
/// assert_eq!(error.to_string(), "the event source failed: the feed broke");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyError {
    /// The source failed (its producer returned an error or panicked), with its message.
    SourceFailed(Option<String>),
    /// The server did not take a frame within the send timeout: the client stopped
    /// reading.
    SendTimeout(Duration),
    /// The compressor of a [`CompressedBody`](crate::CompressedBody) failed (it ran out of
    /// memory), with its message.
    #[cfg(feature = "compression")]
    Compression(String),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::SourceFailed(Some(message)) => {
                write!(f, "the event source failed: {message}")
            }
            BodyError::SourceFailed(None) => f.write_str("the event source failed"),
            BodyError::SendTimeout(limit) => write!(f, "the client read nothing for {limit:?}"),
            #[cfg(feature = "compression")]
            BodyError::Compression(message) => write!(f, "compression failed: {message}"),
        }
    }
}

impl std::error::Error for BodyError {}

/// How a body ended, for its [`BodyReport`]s. The report is boxed: set once, at the end,
/// it costs a live stream one word instead of its whole size.
struct Shared {
    report: OnceLock<Box<Report>>,
    ended: event_listener::Event,
}

/// The [`Report`] of an [`SseBody`], from [`SseBody::report`]: ready once the body has
/// ended or the server has dropped it.
///
/// # Examples
///
/// ```
/// use http_body_util::BodyExt;
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = sse_pump::channel(8);
/// tx.send(sse_pump::Event::new().data("a")).await?;
/// drop(tx);
/// let body = sse_pump::SseBody::new(sse_pump::Sse::new(rx));
/// let report = body.report();
/// body.collect().await?;
/// let report = report.wait().await;
/// assert_eq!((report.ended, report.events), (sse_pump::Ended::SourceClosed, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct BodyReport {
    shared: Arc<Watchdog<Shared>>,
}

impl BodyReport {
    /// The report if the body has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let body = sse_pump::SseBody::new(sse_pump::Sse::new(rx));
    /// assert!(body.report().get().is_none());
    /// ```
    pub fn get(&self) -> Option<Report> {
        self.shared
            .shared
            .report
            .get()
            .map(|report| Report::clone(report))
    }

    /// Waits until the body has ended, then returns its report.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let body = sse_pump::SseBody::new(sse_pump::Sse::new(rx));
    /// let report = body.report();
    /// drop(body);
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

impl fmt::Debug for BodyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyReport")
            .field("report", &self.get())
            .finish()
    }
}
