//! Keep-alive configuration.

use std::{fmt, sync::Arc, time::Duration};

use bytes::Bytes;

use crate::wire::Event;

/// Keep-alive pings: what to write after a quiet stretch, and how long the stretch is.
///
/// The clock counts quiet time: every write of real events resets it, so a busy stream
/// never pings. Proxies commonly close connections idle for 60 seconds; the default,
/// 15 seconds, is the interval the HTML standard suggests. To turn pings off, pass `None`
/// to [`Sse::keep_alive`](crate::Sse::keep_alive): then there is no timer at all.
///
/// Streams share one timer: a thread per process (started with the first quiet stream)
/// wakes each stream when its interval is up, in ticks of a sixteenth of the interval, at
/// most 100 ms. A ping is never early, and at most a tick late; a write only notes the
/// time, so traffic costs the timer nothing, and an idle stream one wake per ping.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::KeepAlive;
///
/// let ka = KeepAlive::new().interval(Duration::from_secs(20)).text("ping");
/// assert_eq!(ka.ping_frame(), ": ping\n\n");
/// assert_eq!(KeepAlive::new().ping_frame(), ":\n\n");
/// ```
#[doc(alias = "heartbeat")]
#[doc(alias = "ping")]
#[derive(Clone)]
pub struct KeepAlive {
    pub(crate) interval: Duration,
    ping: Ping,
}

#[derive(Clone)]
enum Ping {
    Frame(Bytes),
    Factory(Arc<dyn Fn() -> Event + Send + Sync>),
}

impl KeepAlive {
    /// The default quiet time before a ping: 15 seconds.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);

    /// Pings with an empty comment (`:` and a blank line) after 15 quiet seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// let ka = sse_pump::KeepAlive::new();
    /// assert_eq!(ka.ping_frame(), ":\n\n");
    /// ```
    pub fn new() -> Self {
        KeepAlive {
            interval: Self::DEFAULT_INTERVAL,
            ping: Ping::Frame(Bytes::from_static(b":\n\n")),
        }
    }

    /// Sets the quiet time before a ping. Default 15 seconds. A zero interval turns pings
    /// off rather than writing them in a loop.
    ///
    /// # Examples
    ///
    /// ```
    /// let ka = sse_pump::KeepAlive::new().interval(std::time::Duration::from_secs(5));
    /// # let _ = ka;
    /// ```
    #[must_use]
    pub fn interval(mut self, every: std::time::Duration) -> Self {
        self.interval = every;
        self
    }

    /// Pings with this comment text (one `:` line per line of it).
    ///
    /// # Examples
    ///
    /// ```
    /// let ka = sse_pump::KeepAlive::new().text("keep-alive");
    /// assert_eq!(ka.ping_frame(), ": keep-alive\n\n");
    /// ```
    #[must_use]
    pub fn text(mut self, text: impl AsRef<str>) -> Self {
        self.ping = Ping::Frame(Event::new().comment(text).into_bytes());
        self
    }

    /// Pings with an event that `make` builds afresh for every ping (for example one that
    /// carries the time). Pings are counted in the report's `pings`, not its `events`. A
    /// field the event refused ([`Event::error`]) is left out of the ping, as it always is.
    ///
    /// # Examples
    ///
    /// ```
    /// let ka = sse_pump::KeepAlive::new().event(|| sse_pump::Event::new().event("ping"));
    /// assert_eq!(ka.ping_frame(), "event: ping\n\n");
    /// ```
    #[must_use]
    pub fn event(mut self, make: impl Fn() -> Event + Send + Sync + 'static) -> Self {
        self.ping = Ping::Factory(Arc::new(make));
        self
    }

    /// The bytes of the next ping, with `\n` line ends.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::KeepAlive::new().ping_frame(), ":\n\n");
    /// ```
    pub fn ping_frame(&self) -> Bytes {
        match &self.ping {
            Ping::Frame(frame) => frame.clone(),
            Ping::Factory(make) => make().into_bytes(),
        }
    }
}

impl Default for KeepAlive {
    fn default() -> Self {
        KeepAlive::new()
    }
}

impl fmt::Debug for KeepAlive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("KeepAlive");
        s.field("interval", &self.interval);
        match &self.ping {
            Ping::Frame(frame) => s.field("frame", frame),
            Ping::Factory(_) => s.field("frame", &"<factory>"),
        };
        s.finish()
    }
}
