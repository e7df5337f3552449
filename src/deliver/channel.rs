//! The bounded channel from producer tasks to one stream.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{ready, Context, Poll},
};

use futures_lite::Stream;

use super::error::{SendError, TrySendError};
use crate::wire::{Batch, Event};

/// Creates a bounded channel that carries events from producers to one stream.
///
/// At most `capacity` events wait in the channel; a producer that gets ahead of the client
/// waits in [`Sender::send`]. One message is one whole event, so clones of the sender never
/// interleave the lines of their events.
///
/// # Panics
///
/// If `capacity` is zero: a fixed configuration value,
/// never run-time input.
///
/// # Examples
///
/// ```
/// use sse_pump::{channel, Event, Sse};
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = channel(8);
/// tx.send(Event::new().data("hello")).await.unwrap();
/// drop(tx); // the stream ends once every sender is gone
///
/// let mut wire = Vec::new();
/// Sse::new(rx).keep_alive(None).pump(&mut wire).await.unwrap();
/// assert_eq!(wire, b"data: hello\n\n");
/// # });
/// ```
#[doc(alias = "bounded")]
pub fn channel(capacity: usize) -> (Sender, Receiver) {
    let (tx, rx) = async_channel::bounded(capacity);
    (Sender { inner: tx }, Receiver { inner: rx })
}

/// The producer's handle: sends events to the stream, and learns when it is gone.
///
/// Cheap to clone; every clone feeds the same stream.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = sse_pump::channel(1);
/// drop(rx); // the stream ended: client gone, timeout or shutdown
/// assert!(tx.is_closed());
/// let event = tx.send(sse_pump::Event::new().data("late")).await.unwrap_err().into_inner();
/// assert_eq!(event.into_bytes(), "data: late\n\n"); // handed back, not lost
/// # });
/// ```
#[derive(Clone)]
pub struct Sender {
    inner: async_channel::Sender<Event>,
}

impl Sender {
    /// Sends an event, waiting while the channel is full.
    ///
    /// # Errors
    ///
    /// Once the stream has ended (the client left, a send timed out, or a shutdown came),
    /// the event is handed back in [`SendError::Closed`]: stop producing. An event that
    /// refused a field ([`Event::error`]) is handed back in [`SendError::Invalid`] at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (tx, _rx) = sse_pump::channel(1);
    /// assert!(tx.send(sse_pump::Event::new().data("x")).await.is_ok());
    /// # });
    /// ```
    pub fn send(&self, event: Event) -> Send<'_> {
        match event.error() {
            None => Send {
                inner: Some(self.inner.send(event)),
                ready: None,
            },
            Some(_) => Send {
                inner: None,
                ready: Some(Err(SendError::Invalid(event))),
            },
        }
    }

    /// Sends a [`Batch`] of events as one message, waiting while the channel is full: the
    /// channel's cost (its lock-free queue, the wake-up of the stream) is paid once for
    /// the batch, not once per event. The events are written in order, none of another
    /// sender's between them. An empty batch sends nothing.
    ///
    /// # Errors
    ///
    /// Once the stream has ended, the events are handed back in [`SendError::Closed`], as
    /// one [`Event`] that holds them all: its [`into_bytes`](Event::into_bytes) gives
    /// their frames, and sending it again sends them all.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{channel, Batch};
    /// # futures_lite::future::block_on(async {
    /// let (tx, rx) = channel(1);
    /// let mut batch = Batch::new();
    /// batch.data("a").data("b");
    /// tx.send_batch(batch).await.unwrap();
    /// assert_eq!(tx.len(), 1); // one place taken for two events
    ///
    /// drop(rx);
    /// let mut late = Batch::new();
    /// late.data("c");
    /// let handed_back = tx.send_batch(late).await.unwrap_err().into_inner();
    /// assert_eq!(handed_back.into_bytes(), "data: c\n\n");
    /// # });
    /// ```
    pub fn send_batch(&self, batch: Batch) -> Send<'_> {
        if batch.is_empty() {
            return Send {
                inner: None,
                ready: Some(Ok(())),
            };
        }
        Send {
            inner: Some(self.inner.send(batch.into_event())),
            ready: None,
        }
    }

    /// Sends an event if there is room now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] when the channel is full (the client is behind),
    /// [`TrySendError::Closed`] when the stream has ended, and [`TrySendError::Invalid`]
    /// when the event refused a field; all hand the event back.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{channel, Event, TrySendError};
    ///
    /// let (tx, _rx) = channel(1);
    /// tx.try_send(Event::new().data("1")).unwrap();
    /// assert!(matches!(tx.try_send(Event::new().data("2")), Err(TrySendError::Full(_))));
    /// ```
    pub fn try_send(&self, event: Event) -> Result<(), TrySendError> {
        if event.error().is_some() {
            return Err(TrySendError::Invalid(event));
        }
        self.inner.try_send(event).map_err(|e| match e {
            async_channel::TrySendError::Full(event) => TrySendError::Full(event),
            async_channel::TrySendError::Closed(event) => TrySendError::Closed(event),
        })
    }

    /// Sends an event from code that is not async, blocking the thread while the channel
    /// is full. Do not call it inside an async task: it would block the executor.
    ///
    /// # Errors
    ///
    /// As [`Sender::send`]: the event is handed back once the stream has ended, or if it
    /// refused a field.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sse_pump::channel(4);
    /// std::thread::spawn(move || {
    ///     for n in 0..3 {
    ///         if tx.send_blocking(sse_pump::Event::new().data(n.to_string())).is_err() {
    ///             break;
    ///         }
    ///     }
    /// });
    /// let mut wire = Vec::new();
    /// futures_lite::future::block_on(sse_pump::Sse::new(rx).keep_alive(None).pump(&mut wire)).unwrap();
    /// assert_eq!(wire, b"data: 0\n\ndata: 1\n\ndata: 2\n\n");
    /// ```
    pub fn send_blocking(&self, event: Event) -> Result<(), SendError> {
        if event.error().is_some() {
            return Err(SendError::Invalid(event));
        }
        (self.inner.send_blocking(event)).map_err(|e| SendError::Closed(e.0))
    }

    /// Resolves once the stream has ended, for any reason: the client left, a send timed
    /// out, a shutdown came, or the stream was dropped. A producer that waits on something
    /// else (a database, a timer) can race this against its work to stop and clean up.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (tx, rx) = sse_pump::channel(1);
    /// let producer = async {
    ///     let work = futures_lite::future::pending::<()>(); // e.g. a database query
    ///     futures_lite::future::or(async { work.await; "done" }, async { tx.closed().await; "client gone" }).await
    /// };
    /// drop(rx);
    /// assert_eq!(producer.await, "client gone");
    /// # });
    /// ```
    pub fn closed(&self) -> Closed<'_> {
        Closed {
            inner: self.inner.closed(),
        }
    }

    /// Whether the stream has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sse_pump::channel(1);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// How many events are waiting to be written.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sse_pump::channel(4);
    /// tx.try_send(sse_pump::Event::new().data("x")).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether no event is waiting to be written.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sse_pump::channel(4);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("queued", &self.inner.len())
            .field("closed", &self.inner.is_closed())
            .finish()
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Sender::send`]: resolves once the event is in the channel, or
    /// refused.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (tx, _rx) = sse_pump::channel(1);
    /// let sending: sse_pump::Send<'_> = tx.send(sse_pump::Event::new().data("x"));
    /// assert!(sending.await.is_ok());
    /// # });
    /// ```
    #[must_use = "futures do nothing unless you .await or poll them"]
    pub struct Send<'a> {
        #[pin]
        inner: Option<async_channel::Send<'a, Event>>,
        // The outcome known without the channel: a refused event, an empty batch.
        ready: Option<Result<(), SendError>>,
    }
}

impl Future for Send<'_> {
    type Output = Result<(), SendError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(outcome) = this.ready.take() {
            return Poll::Ready(outcome);
        }
        match this.inner.as_pin_mut() {
            Some(send) => send.poll(cx).map_err(|e| SendError::Closed(e.0)),
            None => panic!("`Send` polled after it completed"),
        }
    }
}

impl fmt::Debug for Send<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Send").finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Sender::closed`]: resolves once the stream has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (tx, rx) = sse_pump::channel(1);
    /// let closed: sse_pump::Closed<'_> = tx.closed();
    /// drop(rx);
    /// closed.await;
    /// # });
    /// ```
    #[must_use = "futures do nothing unless you .await or poll them"]
    pub struct Closed<'a> {
        #[pin]
        inner: async_channel::Closed<'a, Event>,
    }
}

impl Future for Closed<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx)
    }
}

impl fmt::Debug for Closed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed").finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// The stream's end of the channel; hand it to [`Sse::new`](crate::Sse::new).
    ///
    /// There is one receiver per stream. Dropping it (which the pump does when it ends)
    /// closes the channel: producers' sends fail and [`Sender::closed`] resolves.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sse_pump::channel(1);
    /// let sse = sse_pump::Sse::new(rx);
    /// drop(sse);
    /// assert!(tx.is_closed());
    /// ```
    pub struct Receiver {
        #[pin]
        inner: async_channel::Receiver<Event>,
    }

    impl PinnedDrop for Receiver {
        fn drop(this: Pin<&mut Self>) {
            this.inner.close();
        }
    }
}

impl Stream for Receiver {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.project().inner.poll_next(cx)
    }
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("queued", &self.inner.len())
            .finish()
    }
}

/// Where a stream's events come from: a [`Receiver`], a hub
/// [`Subscription`](crate::hub::Subscription), a spawned task ([`Spawned`](crate::Spawned)),
/// or any `Stream` through [`Sse::from_stream`](crate::Sse::from_stream).
///
/// # Examples
///
/// ```
/// fn takes_any_source<S: sse_pump::Source>(sse: sse_pump::Sse<S>) -> sse_pump::Sse<S> { sse }
/// let (_tx, rx) = sse_pump::channel(1);
/// let _ = takes_any_source(sse_pump::Sse::new(rx));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Source` of events",
    label = "not a `Source`",
    note = "for a `Stream` of `Event`s or of `Result<Event, E>`, call `Sse::from_stream(stream)` rather than `Sse::new`"
)]
pub trait Source: Stream<Item = Event> {
    /// Stops accepting events and drops those still queued, returning how many there were.
    ///
    /// The pump calls it when it ends early, so that senders fail at once and the lost
    /// events are counted in the [`Report`](crate::Report). The default does nothing and
    /// returns 0.
    fn close(self: Pin<&mut Self>) -> u64 {
        0
    }

    /// Why the source ended, if it failed (a producer task that returned an error or
    /// panicked, for example); asked once, after the source returned `None`. The pump then
    /// ends with [`Ended::SourceFailed`](crate::Ended::SourceFailed) and the message in
    /// [`Report::source_error`](crate::Report::source_error). The default is `None`.
    fn take_error(self: Pin<&mut Self>) -> Option<String> {
        None
    }

    /// Whether the source is full, so that its producer waits (or soon will) for room. The
    /// delivery machine then holds the frame it is gathering back while the producer
    /// refills, up to the [coalescing limit](crate::Sse::coalesce), so that a fast
    /// producer's events go out in large writes. The default is `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::Source;
    /// let (tx, rx) = sse_pump::channel(1);
    /// assert!(!rx.is_full());
    /// tx.try_send(sse_pump::Event::new().data("x")).unwrap();
    /// assert!(rx.is_full());
    /// ```
    fn is_full(&self) -> bool {
        false
    }

    /// A handle that closes the source from any thread, as [`close`](Source::close) does
    /// but without the events' count, or `None` if the source has no producer to stop.
    ///
    /// An HTTP body uses it when the server stops polling it because the client stopped
    /// reading (an HTTP/2 stream out of flow-control window, a full socket): after the
    /// send timeout the producers' sends fail, although the body is not polled.
    fn close_handle(&self) -> Option<CloseHandle> {
        None
    }
}

/// Closes a [`Source`] from anywhere: see [`Source::close_handle`].
///
/// # Examples
///
/// ```
/// use sse_pump::Source;
/// let (tx, rx) = sse_pump::channel(1);
/// let handle = rx.close_handle().unwrap();
/// std::thread::spawn(move || handle.close()).join().unwrap();
/// assert!(tx.is_closed());
/// ```
#[derive(Clone)]
pub struct CloseHandle {
    close: Arc<dyn Fn() + std::marker::Send + Sync>,
}

impl CloseHandle {
    /// A handle that runs `close` to close its source. `close` may run more than once,
    /// and on any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = sse_pump::CloseHandle::new(|| println!("closing"));
    /// handle.close();
    /// ```
    pub fn new(close: impl Fn() + std::marker::Send + Sync + 'static) -> Self {
        CloseHandle {
            close: Arc::new(close),
        }
    }

    /// Closes the source: its producers' sends fail from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::Source;
    /// let (tx, rx) = sse_pump::channel(1);
    /// rx.close_handle().unwrap().close();
    /// assert!(tx.try_send(sse_pump::Event::new().data("late")).is_err());
    /// ```
    pub fn close(&self) {
        (self.close)()
    }
}

impl fmt::Debug for CloseHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloseHandle").finish_non_exhaustive()
    }
}

impl Source for Receiver {
    fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    fn close_handle(&self) -> Option<CloseHandle> {
        let weak = self.inner.downgrade();
        Some(CloseHandle::new(move || {
            if let Some(receiver) = weak.upgrade() {
                receiver.close();
            }
        }))
    }

    fn close(self: Pin<&mut Self>) -> u64 {
        self.inner.close();
        let mut dropped = 0;
        while let Ok(event) = self.inner.try_recv() {
            dropped += event.count();
        }
        dropped
    }
}

pin_project_lite::pin_project! {
    /// A `Stream` of events as a [`Source`]; made by [`Sse::from_stream`](crate::Sse::from_stream).
    ///
    /// The stream yields [`Event`]s, or `Result<Event, E>`s (as axum's `Sse` takes them):
    /// an `Err` ends the stream as a failed source does, with
    /// [`Ended::SourceFailed`](crate::Ended::SourceFailed) and the error's text in
    /// [`Report::source_error`](crate::Report::source_error).
    ///
    /// # Examples
    ///
    /// ```
    /// let events = futures_lite::stream::iter([sse_pump::Event::new().data("x")]);
    /// let _sse: sse_pump::Sse<sse_pump::FromStream<_>> = sse_pump::Sse::from_stream(events);
    /// ```
    pub struct FromStream<S> {
        #[pin]
        inner: S,
        error: Option<String>,
        failed: bool,
    }
}

impl<S> FromStream<S> {
    /// The source of `inner`'s events.
    pub(crate) fn new(inner: S) -> Self {
        FromStream {
            inner,
            error: None,
            failed: false,
        }
    }
}

impl<S> Stream for FromStream<S>
where
    S: Stream,
    S::Item: IntoEventResult,
{
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let this = self.project();
        if *this.failed {
            return Poll::Ready(None);
        }
        match ready!(this.inner.poll_next(cx)).map(IntoEventResult::into_event_result) {
            Some(Ok(event)) => Poll::Ready(Some(event)),
            Some(Err(error)) => {
                // The first error ends the stream: the source failed.
                *this.failed = true;
                *this.error = Some(error);
                Poll::Ready(None)
            }
            None => Poll::Ready(None),
        }
    }
}

impl<S> Source for FromStream<S>
where
    S: Stream,
    S::Item: IntoEventResult,
{
    fn take_error(self: Pin<&mut Self>) -> Option<String> {
        self.project().error.take()
    }
}

impl<S> fmt::Debug for FromStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FromStream")
            .field(&std::any::type_name::<S>())
            .finish()
    }
}

/// What a stream given to [`Sse::from_stream`](crate::Sse::from_stream) may yield: an
/// [`Event`], or a `Result<Event, E>` whose error ends the stream (its text goes in the
/// report). Sealed: only these implement it.
///
/// # Examples
///
/// ```
/// fn takes<T: sse_pump::IntoEventResult>(_: T) {}
/// takes(sse_pump::Event::new());
/// takes(Ok::<_, std::io::Error>(sse_pump::Event::new()));
/// ```
pub trait IntoEventResult: sealed::Sealed {
    /// The event, or the error's text.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::IntoEventResult;
    /// let failed = Err::<sse_pump::Event, _>("database gone").into_event_result();
    /// assert_eq!(failed.unwrap_err(), "database gone");
    /// ```
    fn into_event_result(self) -> Result<Event, String>;
}

impl IntoEventResult for Event {
    #[inline]
    fn into_event_result(self) -> Result<Event, String> {
        Ok(self)
    }
}

impl<E: fmt::Display> IntoEventResult for Result<Event, E> {
    #[inline]
    fn into_event_result(self) -> Result<Event, String> {
        self.map_err(|e| e.to_string())
    }
}

mod sealed {
    /// Keeps [`IntoEventResult`](super::IntoEventResult) closed.
    pub trait Sealed {}
    impl Sealed for crate::wire::Event {}
    impl<E> Sealed for Result<crate::wire::Event, E> {}
}
