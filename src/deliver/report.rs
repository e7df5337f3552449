//! What a stream did: why it ended and what it wrote.

/// What a pump did: why it ended and what it wrote.
///
/// `events + undelivered` is every event the pump took from its source: each one that a
/// producer's `send` accepted was either written or counted here.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = sse_pump::channel(4);
/// tx.send(sse_pump::Event::new().data("a")).await.unwrap();
/// drop(tx);
/// let report = sse_pump::Sse::new(rx).pump(Vec::new()).await.unwrap();
/// assert_eq!(report.ended, sse_pump::Ended::SourceClosed);
/// assert_eq!(report.events, 1);
/// assert_eq!(report.undelivered, 0);
/// # });
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Why the pump stopped.
    pub ended: Ended,
    /// Events written and flushed, the farewell included.
    pub events: u64,
    /// Keep-alive pings written.
    pub pings: u64,
    /// Bytes written: events, pings and the `retry` frame.
    pub bytes: u64,
    /// Events taken from the source but not written: those queued when the stream ended
    /// early, and those of a write that failed.
    pub undelivered: u64,
    /// Why the source failed, when [`ended`](Report::ended) is [`Ended::SourceFailed`].
    pub source_error: Option<String>,
}

impl Report {
    /// Records how the source ended: with `error`, or cleanly.
    pub(crate) fn source_ended(&mut self, error: Option<String>) -> Ended {
        let ended = match error {
            Some(_) => Ended::SourceFailed,
            None => Ended::SourceClosed,
        };
        self.source_error = error;
        ended
    }
}

/// Why a pump stopped.
///
/// # Examples
///
/// ```
/// assert_eq!(sse_pump::Ended::default(), sse_pump::Ended::SourceClosed);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ended {
    /// Every sender was dropped, or the stream ended; everything was written.
    #[default]
    SourceClosed,
    /// The source ended with an error (its producer failed or panicked); everything it
    /// sent was written. The message is in [`Report::source_error`].
    SourceFailed,
    /// A shutdown was triggered.
    Shutdown,
    /// A write took longer than the send timeout.
    SendTimeout,
    /// The writer failed: the client went away.
    Disconnected,
}
