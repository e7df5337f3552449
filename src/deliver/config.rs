//! How a stream is delivered: the settings an [`Sse`] builds, which the delivery machine
//! follows.

use std::time::Duration;

use bytes::Bytes;

use super::{keep_alive::KeepAlive, shutdown::ShutdownListener};
use crate::wire::{Event, LineEnding};

/// The default send timeout ([`Sse::DEFAULT_SEND_TIMEOUT`](super::Sse::DEFAULT_SEND_TIMEOUT)).
pub(crate) const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// The default most bytes of queued events gathered into one write.
pub(crate) const DEFAULT_COALESCE: usize = 64 * 1024;
/// The default time a farewell event may take to write.
pub(crate) const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// The delivery settings of one stream; see the table on [`Sse`](super::Sse) for the defaults.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) keep_alive: Option<KeepAlive>,
    pub(crate) send_timeout: Option<Duration>,
    pub(crate) retry: Option<Duration>,
    pub(crate) line_ending: LineEnding,
    pub(crate) coalesce: usize,
    pub(crate) shutdown: Option<ShutdownListener>,
    /// Boxed: most streams have none, and every stream carries its config.
    pub(crate) farewell: Option<Box<Event>>,
    pub(crate) grace: Duration,
    /// What the stream's span says about it (boxed: most streams have none).
    #[cfg(feature = "tracing")]
    pub(crate) trace: Option<Box<super::trace::Trace>>,
}

impl Config {
    /// The keep-alive clock of a stream sent with this configuration.
    /// The keep-alive interval, if pings are on.
    pub(crate) fn ping_interval(&self) -> Option<Duration> {
        self.keep_alive.as_ref().map(|ka| ka.interval)
    }

    /// The next keep-alive ping (the clock never fires when keep-alive is off).
    pub(crate) fn ping(&self) -> Bytes {
        (self.keep_alive.as_ref())
            .map(KeepAlive::ping_frame)
            .unwrap_or_default()
    }

    /// The `retry:` frame that opens the stream, if a reconnection time is set.
    pub(crate) fn retry_frame(&self) -> Option<Bytes> {
        self.retry
            .map(|retry| Event::new().retry(retry).into_bytes())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            keep_alive: Some(KeepAlive::new()),
            send_timeout: Some(DEFAULT_SEND_TIMEOUT),
            retry: None,
            line_ending: LineEnding::Lf,
            coalesce: DEFAULT_COALESCE,
            shutdown: None,
            farewell: None,
            grace: DEFAULT_SHUTDOWN_GRACE,
            #[cfg(feature = "tracing")]
            trace: None,
        }
    }
}
