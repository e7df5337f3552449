//! The bounded channel from producer tasks to one stream.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{ready, Context, Poll},
};

use futures_lite::Stream;

use event_listener::{EventListener, Listener};

use super::{
    error::{SendError, SourceError},
    message::Message,
    queue::{Queue, Refused},
};
use crate::wire::{Batch, Event};

/// Creates a bounded channel that carries events from producers to one stream.
///
/// At most `capacity` events (or [`Batch`]es) wait in the channel; a producer that gets
/// ahead of the client waits in [`Sender::send`]. Events are queued whole, so clones of the
/// sender never interleave the lines of their events.
///
/// Sending one event at a time is the fast path: while the stream is busy writing, a
/// sender appends its event to the last queued message instead of waking the stream, so
/// the stream takes many events at once and writes them in one frame.
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
    assert!(capacity > 0, "a channel's capacity must be at least 1");
    let queue = Arc::new(Queue::new(capacity));
    (
        Sender {
            queue: queue.clone(),
        },
        Receiver { queue },
    )
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
pub struct Sender {
    queue: Arc<Queue>,
}

impl Clone for Sender {
    fn clone(&self) -> Self {
        self.queue.add_sender();
        Sender {
            queue: self.queue.clone(),
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.queue.remove_sender();
    }
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
            None => self.send_message(Message::Event(event)),
            Some(_) => self.decided(Err(SendError::Invalid(event))),
        }
    }

    fn send_message(&self, message: Message) -> Send<'_> {
        Send {
            queue: &self.queue,
            message: Some(message),
            ready: None,
            listener: None,
        }
    }

    /// A `Send` whose outcome is known without the channel.
    fn decided(&self, outcome: Result<(), SendError>) -> Send<'_> {
        Send {
            queue: &self.queue,
            message: None,
            ready: Some(outcome),
            listener: None,
        }
    }

    /// Sends a [`Batch`] of events as one message, waiting while the channel is full: the
    /// channel's cost (its lock, a place in its bound) is paid once for the batch, not once
    /// per event. The events are written in order, none of another
    /// sender's between them. An empty batch sends nothing.
    ///
    /// # Errors
    ///
    /// Once the stream has ended, the events are handed back in [`SendError::Closed`], as
    /// one [`Event`] that holds them all: its [`into_bytes`](Event::into_bytes) gives
    /// their frames, and sending it again sends them all (counted as one event).
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
            return self.decided(Ok(()));
        }
        let (bytes, events) = batch.into_parts();
        self.send_message(Message::Frames { bytes, events })
    }

    /// Sends an event if there is room now.
    ///
    /// # Errors
    ///
    /// [`SendError::Full`] when the channel is full (the client is behind),
    /// [`SendError::Closed`] when the stream has ended, and [`SendError::Invalid`]
    /// when the event refused a field; all hand the event back.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{channel, Event, SendError};
    ///
    /// let (tx, _rx) = channel(1);
    /// tx.try_send(Event::new().data("1")).unwrap();
    /// assert!(matches!(tx.try_send(Event::new().data("2")), Err(SendError::Full(_))));
    /// ```
    pub fn try_send(&self, event: Event) -> Result<(), SendError> {
        if event.error().is_some() {
            return Err(SendError::Invalid(event));
        }
        self.queue
            .try_push(Message::Event(event))
            .map_err(|refused| match refused {
                Refused::Full(message) => SendError::Full(message.into_event()),
                Refused::Closed(message) => SendError::Closed(message.into_event()),
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
        let mut message = Message::Event(event);
        loop {
            match attempt(&self.queue, message) {
                Ok(outcome) => return outcome,
                Err(back) => message = back,
            }
            // Listening before trying again: room made in between is not missed.
            let listener = self.queue.listen_room();
            match attempt(&self.queue, message) {
                Ok(outcome) => return outcome,
                Err(back) => message = back,
            }
            listener.wait();
        }
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
            queue: &self.queue,
            listener: None,
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
        self.queue.is_closed()
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
        self.queue.len()
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
        self.queue.len() == 0
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("queued", &self.queue.len())
            .field("closed", &self.queue.is_closed())
            .finish()
    }
}

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
    queue: &'a Queue,
    /// What is to be queued; `None` once it is.
    message: Option<Message>,
    /// The outcome known without the channel: a refused event, an empty batch.
    ready: Option<Result<(), SendError>>,
    /// Waits for room once the channel was found full.
    listener: Option<EventListener>,
}

/// One try at queueing `message`: the outcome, or the message back if the channel is full.
fn attempt(queue: &Queue, message: Message) -> Result<Result<(), SendError>, Message> {
    match queue.try_push(message) {
        Ok(()) => Ok(Ok(())),
        Err(Refused::Closed(back)) => Ok(Err(SendError::Closed(back.into_event()))),
        Err(Refused::Full(back)) => Err(back),
    }
}

impl Future for Send<'_> {
    type Output = Result<(), SendError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(outcome) = this.ready.take() {
            return Poll::Ready(outcome);
        }
        loop {
            let message = this
                .message
                .take()
                .expect("`Send` polled after it completed");
            match attempt(this.queue, message) {
                Ok(outcome) => return Poll::Ready(outcome),
                Err(back) => this.message = Some(back),
            }
            match &mut this.listener {
                // Listening before trying again: room made in between is not missed.
                None => this.listener = Some(this.queue.listen_room()),
                Some(listener) => {
                    ready!(Pin::new(listener).poll(cx));
                    this.listener = None;
                }
            }
        }
    }
}

impl fmt::Debug for Send<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Send").finish_non_exhaustive()
    }
}

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
    queue: &'a Queue,
    listener: Option<EventListener>,
}

impl Future for Closed<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if this.queue.is_closed() {
                return Poll::Ready(());
            }
            match &mut this.listener {
                // Listening before looking again: a close in between is not missed.
                None => this.listener = Some(this.queue.listen_closed()),
                Some(listener) => {
                    ready!(Pin::new(listener).poll(cx));
                    this.listener = None;
                }
            }
        }
    }
}

impl fmt::Debug for Closed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed").finish_non_exhaustive()
    }
}

/// The stream's end of the channel; hand it to [`Sse::new`](crate::Sse::new).
///
/// There is one receiver per stream. Dropping it (which the pump does when it ends)
/// closes the channel: producers' sends fail and [`Sender::closed`] resolves.
///
/// Read as a `Stream`, it yields the events one by one as they were sent, except that
/// the events of a [`Batch`] come as one [`Event`] holding all their frames.
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
    queue: Arc<Queue>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.queue.close();
    }
}

impl Receiver {
    /// The next message; `limit`, if given, is the stream's coalescing limit, under which
    /// senders append to the last queued message.
    pub(crate) fn poll_messages(
        &self,
        cx: &mut Context<'_>,
        limit: Option<usize>,
    ) -> Poll<Option<Message>> {
        self.queue.poll_pop(cx, limit)
    }
}

impl Stream for Receiver {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        // No coalescing limit given: what senders append stays as it is (none, unless a
        // stream read this receiver before).
        let message = ready!(self.poll_messages(cx, None));
        Poll::Ready(message.map(Message::into_event))
    }
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("queued", &self.queue.len())
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
    fn take_error(self: Pin<&mut Self>) -> Option<SourceError> {
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

    /// The next message: what the delivery machine reads. A channel's receiver gives
    /// many events in one message, appended while the stream was busy, up to `limit`
    /// bytes (the coalescing limit); any other source gives its events one by one.
    #[doc(hidden)]
    fn poll_message(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
    ) -> Poll<Option<Message>> {
        let _ = limit;
        self.poll_next(cx).map(|event| event.map(Message::Event))
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
        self.queue.is_full()
    }

    fn close_handle(&self) -> Option<CloseHandle> {
        let weak = Arc::downgrade(&self.queue);
        Some(CloseHandle::new(move || {
            if let Some(queue) = weak.upgrade() {
                queue.close();
            }
        }))
    }

    fn close(self: Pin<&mut Self>) -> u64 {
        self.queue.close();
        self.queue.drain()
    }

    fn poll_message(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
    ) -> Poll<Option<Message>> {
        self.poll_messages(cx, Some(limit))
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
        error: Option<SourceError>,
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
    fn take_error(self: Pin<&mut Self>) -> Option<SourceError> {
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
    /// The event, or the error.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::IntoEventResult;
    /// let failed = Err::<sse_pump::Event, _>("database gone").into_event_result();
    /// assert_eq!(failed.unwrap_err().to_string(), "database gone");
    /// ```
    fn into_event_result(self) -> Result<Event, SourceError>;
}

impl IntoEventResult for Event {
    #[inline]
    fn into_event_result(self) -> Result<Event, SourceError> {
        Ok(self)
    }
}

impl<E> IntoEventResult for Result<Event, E>
where
    E: Into<Box<dyn std::error::Error + std::marker::Send + Sync>>,
{
    #[inline]
    fn into_event_result(self) -> Result<Event, SourceError> {
        self.map_err(SourceError::new)
    }
}

mod sealed {
    /// Keeps [`IntoEventResult`](super::IntoEventResult) closed.
    pub trait Sealed {}
    impl Sealed for crate::wire::Event {}
    impl<E> Sealed for Result<crate::wire::Event, E> {}
}
