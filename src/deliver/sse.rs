//! The configured stream: a source of events plus how to deliver them.

use std::{fmt, future::Future, time::Duration};

use futures_lite::{AsyncWrite, Stream};

use super::{
    channel::{FromStream, IntoEventResult, Receiver, Source},
    config::{self, Config},
    error::PumpError,
    frames::Frames,
    keep_alive::KeepAlive,
    pump,
    report::Report,
    shutdown::ShutdownListener,
};
use crate::wire::{Event, LineEnding};

/// One Server-Sent Events stream: a source of events and the rules for delivering them.
///
/// Build it with [`Sse::new`] (from a [`channel`](crate::channel)) or [`Sse::from_stream`],
/// set what differs from the defaults, then [`pump`](Sse::pump) it into any
/// `futures_io::AsyncWrite`.
///
/// | setting | default |
/// |---|---|
/// | [`keep_alive`](Sse::keep_alive) | a `:` comment after 15 quiet seconds |
/// | [`send_timeout`](Sse::send_timeout) | 30 seconds |
/// | [`retry`](Sse::retry) | none sent |
/// | [`line_ending`](Sse::line_ending) | [`LineEnding::Lf`] |
/// | [`coalesce`](Sse::coalesce) | up to 64 KiB of queued events per write |
/// | [`shutdown`](Sse::shutdown), [`farewell`](Sse::farewell) | none |
/// | [`shutdown_grace`](Sse::shutdown_grace) | 1 second |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::{channel, Ended, Event, KeepAlive, Sse};
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = channel(32);
/// let producer = async move {
///     for n in 0..3u64 {
///         let event = Event::new().id(n.to_string()).event("tick").data(n.to_string());
///         if tx.send(event).await.is_err() {
///             break; // the stream is gone: stop producing
///         }
///     }
///     Ok::<_, sse_pump::Error>(())
/// };
/// let mut wire = Vec::new();
/// let stream = Sse::new(rx)
///     .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
///     .send_timeout(Duration::from_secs(30))
///     .retry(Duration::from_secs(3))
///     .pump(&mut wire);
/// let (produced, report) = futures_lite::future::zip(producer, stream).await;
/// produced?;
/// let report = report?;
/// assert_eq!(report.ended, Ended::SourceClosed);
/// assert_eq!(report.events, 3);
/// assert!(wire.starts_with(b"retry: 3000\n\nid: 0\nevent: tick\ndata: 0\n\n"));
/// # Ok::<(), sse_pump::Error>(()) }).unwrap();
/// ```
#[doc(alias = "server-sent events")]
#[doc(alias = "event-stream")]
#[doc(alias = "EventSourceResponse")]
#[must_use = "a stream does nothing until it is pumped"]
pub struct Sse<S = Receiver> {
    pub(crate) source: S,
    pub(crate) config: Config,
}

impl Sse {
    /// The default send timeout: 30 seconds.
    pub const DEFAULT_SEND_TIMEOUT: Duration = config::DEFAULT_SEND_TIMEOUT;
    /// The default most bytes of queued events gathered into one write: 64 KiB.
    pub const DEFAULT_COALESCE: usize = config::DEFAULT_COALESCE;
    /// The default time a farewell event may take to write: 1 second.
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = config::DEFAULT_SHUTDOWN_GRACE;
}

impl<S: Source> Sse<S> {
    /// A stream of the events of `events`: the [`Receiver`] of a [`channel`](crate::channel),
    /// or any other [`Source`] (a hub subscription, for example).
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(16);
    /// let sse = sse_pump::Sse::new(rx);
    /// # drop(sse);
    /// ```
    pub fn new(events: S) -> Self {
        Sse {
            source: events,
            config: Config::default(),
        }
    }
}

impl<S> Sse<FromStream<S>>
where
    S: Stream,
    S::Item: IntoEventResult,
{
    /// A stream of the events of any `Stream`, for when there is a stream rather than a
    /// producer task. The stream ends when `events` does. `events` yields [`Event`]s or,
    /// as axum's `Sse` takes them, `Result<Event, E>`s: an `Err` ends the stream with
    /// [`Ended::SourceFailed`] and the error's text in [`Report::source_error`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Event, Sse};
    /// # futures_lite::future::block_on(async {
    /// let events = futures_lite::stream::iter(1..=2).map(|n| Event::new().data(n.to_string()));
    /// let mut wire = Vec::new();
    /// Sse::from_stream(events).keep_alive(None).pump(&mut wire).await.unwrap();
    /// assert_eq!(wire, b"data: 1\n\ndata: 2\n\n");
    /// # });
    /// # use futures_lite::StreamExt;
    /// ```
    ///
    /// A stream of results:
    ///
    /// ```
    /// use sse_pump::{Ended, Event, Sse};
    /// # futures_lite::future::block_on(async {
    /// let rows = [Ok(Event::new().data("row 1")), Err("database gone")];
    /// let mut wire = Vec::new();
    /// let report = Sse::from_stream(futures_lite::stream::iter(rows)).keep_alive(None).pump(&mut wire).await?;
    /// assert_eq!(wire, b"data: row 1\n\n");
    /// assert_eq!(report.ended, Ended::SourceFailed);
    /// assert_eq!(report.source_error.as_deref(), Some("database gone"));
    /// # Ok::<(), sse_pump::PumpError>(()) }).unwrap();
    /// ```
    pub fn from_stream(events: S) -> Self {
        Sse {
            source: FromStream::new(events),
            config: Config::default(),
        }
    }
}

impl<S> Sse<S> {
    /// Sets the keep-alive pings, or turns them off with `None`. Default: a `:` comment
    /// after 15 quiet seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_pump::{channel, KeepAlive, Sse};
    ///
    /// let (_tx, rx) = channel(1);
    /// let sse = Sse::new(rx).keep_alive(KeepAlive::new().interval(Duration::from_secs(30)));
    /// # let _ = sse;
    /// let (_tx, rx) = channel(1);
    /// let no_pings = Sse::new(rx).keep_alive(None);
    /// # let _ = no_pings;
    /// ```
    pub fn keep_alive(mut self, keep_alive: impl Into<Option<KeepAlive>>) -> Self {
        self.config.keep_alive = keep_alive.into().filter(|ka| !ka.interval.is_zero());
        self
    }

    /// Sets how long one frame (events, a ping or the farewell) may take to deliver before
    /// the stream gives up on the client, or turns the limit off with `None`. Default 30
    /// seconds. The stream then ends with [`Ended::SendTimeout`]: its source is closed, so
    /// producers' sends fail, and what it held is counted as undelivered.
    ///
    /// It means the same on every transport. [`Sse::pump`] times each write and flush, and
    /// starts the clock only when the writer stops accepting bytes, so a writer that
    /// accepts at once costs no timer at all. An [`SseBody`](crate::SseBody) times how
    /// long the server takes to ask for the next frame after one was handed out; a server
    /// stops asking while it cannot write (a full socket, an HTTP/2 stream out of
    /// flow-control window), and the body closes its source on time although it is not
    /// polled. On TCP, a client that reads nothing fills the kernel's buffers first: see
    /// [`WriteTimeout`](crate::WriteTimeout) for how large they grow and how to cap them.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(1);
    /// let sse = sse_pump::Sse::new(rx).send_timeout(std::time::Duration::from_secs(10));
    /// # let _ = sse;
    /// ```
    pub fn send_timeout(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.config.send_timeout = limit.into();
        self
    }

    /// Sends `retry: <milliseconds>` as the stream's first frame, telling the browser how
    /// long to wait before it reconnects. Default: not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (tx, rx) = sse_pump::channel(1);
    /// drop(tx);
    /// let mut wire = Vec::new();
    /// sse_pump::Sse::new(rx).retry(std::time::Duration::from_secs(3)).pump(&mut wire).await.unwrap();
    /// assert_eq!(wire, b"retry: 3000\n\n");
    /// # });
    /// ```
    pub fn retry(mut self, hint: Duration) -> Self {
        self.config.retry = Some(hint);
        self
    }

    /// Sets the line end of every line of every frame. Default [`LineEnding::Lf`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(1);
    /// let sse = sse_pump::Sse::new(rx).line_ending(sse_pump::LineEnding::CrLf);
    /// # let _ = sse;
    /// ```
    pub fn line_ending(mut self, ending: LineEnding) -> Self {
        self.config.line_ending = ending;
        self
    }

    /// Sets the most bytes of already-queued events that one write gathers. Default 64 KiB.
    ///
    /// The pump never waits for events to fill a write: it writes as soon as an event
    /// arrives, and gathers only events that are already queued. One exception, for
    /// speed: when it finds the channel full, the producer is waiting for room and, on a
    /// one-thread runtime, can refill only once the pump yields; the pump then lets it
    /// refill and gathers again, up to this limit, before it writes (see
    /// [`Source::is_full`](crate::Source::is_full)). The write goes out as soon as the
    /// channel is not full or the producer has nothing new. `0` writes and flushes each
    /// event on its own.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(1);
    /// let one_write_per_event = sse_pump::Sse::new(rx).coalesce(0);
    /// # let _ = one_write_per_event;
    /// ```
    pub fn coalesce(mut self, max_bytes: usize) -> Self {
        self.config.coalesce = max_bytes;
        self
    }

    /// Ends the stream when `signal` is triggered: queued events are dropped (and counted
    /// in the report's `undelivered`), the [`farewell`](Sse::farewell) event is written if
    /// there is one, and the pump returns a report that says [`Ended::Shutdown`].
    ///
    /// The signal is checked between writes; a write under way finishes (or times out)
    /// first, so no frame is cut in half.
    ///
    /// # Examples
    ///
    /// ```
    /// let shutdown = sse_pump::Shutdown::new();
    /// let (_tx, rx) = sse_pump::channel(1);
    /// let sse = sse_pump::Sse::new(rx).shutdown(shutdown.listener());
    /// # let _ = sse;
    /// ```
    pub fn shutdown(mut self, signal: ShutdownListener) -> Self {
        self.config.shutdown = Some(signal);
        self
    }

    /// The event written last when a [`shutdown`](Sse::shutdown) ends the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(1);
    /// let sse = sse_pump::Sse::new(rx).farewell(sse_pump::Event::new().event("bye"));
    /// # let _ = sse;
    /// # Ok::<(), sse_pump::Error>(())
    /// ```
    pub fn farewell(mut self, event: Event) -> Self {
        self.config.farewell = Some(Box::new(event));
        self
    }

    /// How long the farewell event may take to write (the send timeout also applies, if
    /// it is shorter). Default 1 second.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(1);
    /// let sse = sse_pump::Sse::new(rx).shutdown_grace(std::time::Duration::from_millis(200));
    /// # let _ = sse;
    /// ```
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.config.grace = grace;
        self
    }

    /// Sets what the stream's `tracing` span says about it: the peer, the path, the
    /// `Last-Event-ID` (see [`Trace`](crate::Trace)). Every stream has a span (`sse`,
    /// target `sse_pump::stream`), child of the span current where the stream's body or
    /// pump is made, with an event when it opens (DEBUG) and one when it ends (INFO) with
    /// its [`Report`]: how it ended, events, pings, bytes, undelivered, the source's error.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{channel, Sse, Trace};
    /// let (_tx, rx) = channel(8);
    /// let sse = Sse::new(rx).trace(Trace::new().path("/events").last_event_id("7"));
    /// # drop(sse);
    /// ```
    #[cfg(feature = "tracing")]
    pub fn trace(mut self, trace: super::trace::Trace) -> Self {
        self.config.trace = Some(Box::new(trace));
        self
    }
}

impl<S: Source> Sse<S> {
    /// Writes the stream into `writer` until the source ends, a shutdown comes, the client
    /// goes away or a write times out. The writer is flushed after every write and is not
    /// closed: pass `&mut writer` to keep using it.
    ///
    /// # Errors
    ///
    /// A [`PumpError`] holding [`Error::Disconnected`](crate::Error::Disconnected) when the
    /// writer fails, or [`Error::SendTimeout`](crate::Error::SendTimeout) when a write
    /// takes longer than the send timeout, with the [`Report`] of what was written. Either
    /// way the channel is closed, so producers learn the stream is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (tx, rx) = sse_pump::channel(4);
    /// tx.send(sse_pump::Event::new().data("x")).await.unwrap();
    /// drop(tx);
    /// let report = sse_pump::Sse::new(rx).pump(Vec::new()).await.unwrap();
    /// assert_eq!((report.events, report.bytes), (1, 9));
    /// # });
    /// ```
    // Not an `async fn`: the future is the pump's own, with no wrapper holding `self`
    // beside it (an idle stream's memory is mostly this future).
    pub fn pump<W: AsyncWrite + Unpin>(
        self,
        writer: W,
    ) -> impl Future<Output = Result<Report, PumpError>> {
        pump::Pump::new(self.into_frames(), writer, std::future::pending())
    }

    /// [`Sse::pump`] for a raw connection: writes `head` first, as it is (an HTTP response
    /// head), and also ends as a disconnect when `hangup` resolves, for transports that can
    /// tell a client left while the stream is idle (its side of the connection closed)
    /// before a write fails.
    #[cfg(any(feature = "smol", feature = "tokio"))]
    pub(crate) fn pump_raw<W, H>(
        self,
        head: &[u8],
        writer: W,
        hangup: H,
    ) -> impl Future<Output = Result<Report, PumpError>>
    where
        W: AsyncWrite + Unpin,
        H: Future<Output = ()> + Unpin,
    {
        pump::Pump::new(self.into_frames().open_with(head), writer, hangup)
    }
}

impl<S> fmt::Debug for Sse<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sse")
            .field("source", &std::any::type_name::<S>())
            .field("config", &self.config)
            .finish()
    }
}

impl<S: Source> Sse<S> {
    /// The delivery machine of this stream.
    pub(crate) fn into_frames(self) -> Frames<S> {
        Frames::new(self.source, self.config)
    }
}
