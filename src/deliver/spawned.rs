//! A producer task tied to its stream: what the runtime adapters' `spawn` returns.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{ready, Context, Poll},
};

use futures_lite::Stream;

use super::{
    channel::{CloseHandle, Receiver, Source},
    error::SourceError,
    message::Message,
};
use crate::wire::Event;

pin_project_lite::pin_project! {
    /// The events of a producer task, as a [`Source`]: what the runtime adapters' `spawn`
    /// returns (`adapters::tokio::spawn`, `adapters::smol::spawn`).
    ///
    /// Its life is tied to the stream's both ways:
    /// - when the stream ends (client gone, send timeout, shutdown), the task is aborted
    ///   at its next await, besides seeing its `send` fail;
    /// - when the task ends, the stream ends once it has written what the task sent. A
    ///   task that returned an error or panicked ends the stream with
    ///   [`Ended::SourceFailed`](crate::Ended::SourceFailed), the message in
    ///   [`Report::source_error`](crate::Report::source_error) (the client sees the stream
    ///   end, not the message).
    ///
    /// `T` is the runtime's task handle, which aborts the task when dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// pub fn stream_of<T>(producer: sse_pump::Spawned<T>) -> sse_pump::Sse<sse_pump::Spawned<T>>
    /// where
    ///     T: std::future::Future<Output = Result<(), sse_pump::SourceError>> + Unpin,
    /// {
    ///     sse_pump::Sse::new(producer)
    /// }
    /// # let (_tx, rx) = sse_pump::channel(1);
    /// # let _ = stream_of(sse_pump::Spawned::new(rx, std::future::ready(Ok(()))));
    /// ```
    pub struct Spawned<T> {
        #[pin]
        events: Receiver,
        task: Option<T>,
        error: Option<SourceError>,
    }
}

impl<T> Spawned<T>
where
    T: Future<Output = Result<(), SourceError>> + Unpin,
{
    /// The events of `events`, sent by the task behind `task`. `task` resolves to the
    /// producer's outcome, an error message if it failed or panicked, and aborts the task
    /// when dropped. The runtime adapters build it; use this for another runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (tx, rx) = sse_pump::channel(4);
    /// tx.send(sse_pump::Event::new().data("only")).await.unwrap();
    /// drop(tx);
    /// let failed = std::future::ready(Err(sse_pump::SourceError::new("database gone")));
    /// let producer = sse_pump::Spawned::new(rx, failed);
    /// let report = sse_pump::Sse::new(producer).pump(Vec::new()).await.unwrap();
    /// assert_eq!(report.ended, sse_pump::Ended::SourceFailed);
    /// assert_eq!(report.source_error.unwrap().to_string(), "database gone");
    /// assert_eq!(report.events, 1);
    /// # });
    /// ```
    pub fn new(events: Receiver, task: T) -> Self {
        Spawned {
            events,
            task: Some(task),
            error: None,
        }
    }
}

impl<T> Stream for Spawned<T>
where
    T: Future<Output = Result<(), SourceError>> + Unpin,
{
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        // Read as a stream, the receiver's messages stay one per send.
        let message = ready!(self.poll_with(cx, None));
        Poll::Ready(message.map(Message::into_event))
    }
}

impl<T> Spawned<T>
where
    T: Future<Output = Result<(), SourceError>> + Unpin,
{
    /// The receiver's next message, or the task's outcome once every sender is gone.
    fn poll_with(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: Option<usize>,
    ) -> Poll<Option<Message>> {
        let this = self.project();
        if let Some(message) = ready!(this.events.poll_messages(cx, limit)) {
            return Poll::Ready(Some(message));
        }
        // Every sender is gone: the stream ends with the task.
        if let Some(task) = this.task {
            *this.error = ready!(Pin::new(task).poll(cx)).err();
            *this.task = None;
        }
        Poll::Ready(None)
    }
}

impl<T> Source for Spawned<T>
where
    T: Future<Output = Result<(), SourceError>> + Unpin,
{
    fn close(self: Pin<&mut Self>) -> u64 {
        let this = self.project();
        *this.task = None; // aborts the task
        this.events.close()
    }

    fn take_error(self: Pin<&mut Self>) -> Option<SourceError> {
        self.project().error.take()
    }

    fn close_handle(&self) -> Option<CloseHandle> {
        self.events.close_handle()
    }

    fn is_full(&self) -> bool {
        self.events.is_full()
    }

    fn poll_message(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
    ) -> Poll<Option<Message>> {
        self.poll_with(cx, Some(limit))
    }
}

impl<T> fmt::Debug for Spawned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawned")
            .field("running", &self.task.is_some())
            .finish_non_exhaustive()
    }
}
