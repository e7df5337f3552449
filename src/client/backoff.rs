//! How an [`EventSource`](crate::client::EventSource) waits before reconnecting.

use std::time::Duration;

/// The least initial delay: a zero one would not grow.
const MIN_INITIAL: Duration = Duration::from_millis(1);

/// The reconnection policy of an [`EventSource`](crate::client::EventSource): exponential backoff
/// with jitter, a healthy period that resets it, and an optional maximum of attempts.
///
/// The delay before the `n`th consecutive attempt (`n` from 1) is
/// `base × factor^(n−1)`, capped at `max` (or at `base`, if the server asked for more), then
/// shortened by a random fraction of up to `jitter` of itself: with `jitter(0.5)` it lies in
/// `[delay / 2, delay]`. `base` is the server's `retry:` value once it sent one, and the
/// initial delay until then.
///
/// The server's `retry:` is bounded, so that a hostile or broken server can neither turn
/// reconnection into a hot loop nor send the client away for ever: it counts as at least
/// [`Backoff::RETRY_FLOOR`] (100 ms) and at most [`Backoff::RETRY_CEILING`] (10 minutes);
/// [`Backoff::retry_bounds`] changes both. Once the server sent `retry:`, the floor also
/// holds after the jitter: no delay is ever under it. An initial delay of zero counts as
/// 1 ms, so the delay grows from it too.
///
/// The count of consecutive attempts goes back to zero only once a connection stayed open
/// for [`healthy_after`](Backoff::healthy_after) (60 s by default, as LaunchDarkly's
/// clients): events do not reset it. So a server that sends one event and closes meets a
/// growing delay, as one that keeps failing does. With the default jitter (0.5), a server
/// that sends `retry: 0` and closes sees its client come back after
///
/// | attempt | 1 | 2 | 3 | 4 | 5 | ... | 11 and on |
/// |---|---|---|---|---|---|---|---|
/// | delay | 100 ms | 100-200 ms | 200-400 ms | 400-800 ms | 0.8-1.6 s | | 30-60 s |
///
/// and, without `retry:`, after 1.5-3 s, 3-6 s, 6-12 s, ... up to 30-60 s.
///
/// Default: [`Backoff::exponential`]`(3 s, 60 s)` (3 s is what browsers use), jitter 0.5,
/// no maximum of attempts.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::client::Backoff;
///
/// let backoff = Backoff::exponential(Duration::from_millis(500), Duration::from_secs(30))
///     .jitter(0.0)
///     .max_attempts(5);
/// assert_eq!(backoff.delay(None, 1, 0.0), Duration::from_millis(500));
/// assert_eq!(backoff.delay(None, 3, 0.0), Duration::from_secs(2));
/// assert_eq!(backoff.delay(None, 20, 0.0), Duration::from_secs(30));
/// // after `retry: 100` from the server
/// assert_eq!(backoff.delay(Some(Duration::from_millis(100)), 2, 0.0), Duration::from_millis(200));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    factor: f64,
    jitter: f64,
    max_attempts: Option<u32>,
    healthy_after: Duration,
    seed: Option<u64>,
    retry_floor: Duration,
    retry_ceiling: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::exponential(Duration::from_secs(3), Duration::from_secs(60)).jitter(0.5)
    }
}

impl Backoff {
    /// Doubles the delay at each consecutive failure, from `initial` up to `max`; no jitter.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let backoff = sse_pump::client::Backoff::exponential(Duration::from_secs(1), Duration::from_secs(4));
    /// assert_eq!(backoff.delay(None, 2, 0.0), Duration::from_secs(2));
    /// ```
    pub fn exponential(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            factor: 2.0,
            jitter: 0.0,
            max_attempts: None,
            healthy_after: Duration::from_secs(60),
            seed: None,
            retry_floor: Self::RETRY_FLOOR,
            retry_ceiling: Self::RETRY_CEILING,
        }
    }

    /// The least a server's `retry:` counts as, and the least delay once the server sent
    /// one, jitter included: 100 ms. `retry: 0` would otherwise reconnect with no pause at
    /// all, for ever.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_pump::client::Backoff;
    ///
    /// let backoff = Backoff::default().jitter(0.0);
    /// assert_eq!(backoff.delay(Some(Duration::ZERO), 1, 0.0), Backoff::RETRY_FLOOR);
    /// assert_eq!(backoff.delay(Some(Duration::ZERO), 3, 0.0), 4 * Backoff::RETRY_FLOOR);
    /// // The floor holds after the jitter too: the shortest first delay is still 100 ms.
    /// let jittered = Backoff::default().jitter(0.5);
    /// assert_eq!(jittered.delay(Some(Duration::ZERO), 1, 0.99), Backoff::RETRY_FLOOR);
    /// ```
    pub const RETRY_FLOOR: Duration = Duration::from_millis(100);

    /// The most a server's `retry:` counts as: 10 minutes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_pump::client::Backoff;
    ///
    /// let huge = Some(Duration::from_millis(u64::MAX)); // `retry: 99999999999999999999`
    /// assert_eq!(Backoff::default().delay(huge, 1, 0.0), Backoff::RETRY_CEILING);
    /// ```
    pub const RETRY_CEILING: Duration = Duration::from_secs(600);

    /// Bounds the server's `retry:` value to `floor..=ceiling` (a `floor` above `ceiling`
    /// is lowered to it). Default [`RETRY_FLOOR`](Backoff::RETRY_FLOOR) to
    /// [`RETRY_CEILING`](Backoff::RETRY_CEILING).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let backoff = sse_pump::client::Backoff::default()
    ///     .retry_bounds(Duration::from_secs(1), Duration::from_secs(60));
    /// assert_eq!(backoff.delay(Some(Duration::from_millis(10)), 1, 0.0), Duration::from_secs(1));
    /// assert_eq!(backoff.delay(Some(Duration::from_secs(3600)), 1, 0.0), Duration::from_secs(60));
    /// ```
    pub fn retry_bounds(mut self, floor: Duration, ceiling: Duration) -> Self {
        self.retry_floor = floor.min(ceiling);
        self.retry_ceiling = ceiling;
        self
    }

    /// The same delay every time (the server's `retry:` once it sent one): what a browser
    /// does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let backoff = sse_pump::client::Backoff::constant(Duration::from_secs(3));
    /// assert_eq!(backoff.delay(None, 9, 0.0), Duration::from_secs(3));
    /// ```
    pub fn constant(delay: Duration) -> Self {
        Backoff::exponential(delay, delay).factor(1.0)
    }

    /// The growth factor between consecutive attempts, at least 1. Default 2.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let backoff = sse_pump::client::Backoff::exponential(Duration::from_secs(1), Duration::MAX).factor(3.0);
    /// assert_eq!(backoff.delay(None, 3, 0.0), Duration::from_secs(9));
    /// ```
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = if factor >= 1.0 { factor } else { 1.0 };
        self
    }

    /// Shortens each delay by a random fraction of up to `ratio` of itself (clamped to
    /// `0.0..=1.0`), so that clients dropped together do not come back together.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let backoff = sse_pump::client::Backoff::constant(Duration::from_secs(2)).jitter(0.5);
    /// assert_eq!(backoff.delay(None, 1, 1.0), Duration::from_secs(1)); // the shortest
    /// ```
    pub fn jitter(mut self, ratio: f64) -> Self {
        self.jitter = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        self
    }

    /// Gives up after `attempts` consecutive failed attempts: the source then yields
    /// [`Error::Exhausted`](crate::client::Error::Exhausted) and ends. Default: never.
    ///
    /// # Examples
    ///
    /// ```
    /// let backoff = sse_pump::client::Backoff::default().max_attempts(10);
    /// # drop(backoff);
    /// ```
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// The maximum of consecutive attempts, if any.
    pub(crate) fn attempt_limit(&self) -> Option<u32> {
        self.max_attempts
    }

    /// How long a connection must stay open to count as healthy and reset the backoff,
    /// events or not. Default 60 s.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let _backoff = sse_pump::client::Backoff::default().healthy_after(Duration::from_secs(10));
    /// ```
    pub fn healthy_after(mut self, open_for: Duration) -> Self {
        self.healthy_after = open_for;
        self
    }

    /// Seeds the jitter's random numbers, for reproducible tests. Default: a random seed.
    ///
    /// # Examples
    ///
    /// ```
    /// let _backoff = sse_pump::client::Backoff::default().seed(42);
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The delay before consecutive attempt `attempt` (from 1), given the server's `retry:`
    /// value if any and a random `unit` in `0.0..1.0` (0 means no jitter).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let backoff = sse_pump::client::Backoff::exponential(Duration::from_secs(1), Duration::from_secs(8)).jitter(0.5);
    /// assert_eq!(backoff.delay(None, 3, 0.0), Duration::from_secs(4));
    /// assert_eq!(backoff.delay(None, 3, 0.5), Duration::from_secs(3));
    /// ```
    #[must_use]
    pub fn delay(&self, retry: Option<Duration>, attempt: u32, unit: f64) -> Duration {
        let base = match retry {
            Some(retry) => retry.clamp(self.retry_floor, self.retry_ceiling),
            // A zero base would stay zero however often it doubles.
            None => self.initial.max(MIN_INITIAL),
        };
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let grown = base.as_secs_f64() * self.factor.powi(exponent);
        let cap = self.max.max(base).as_secs_f64();
        let full = grown.min(cap);
        let shortened = full * (1.0 - self.jitter * unit.clamp(0.0, 1.0));
        let delay = Duration::try_from_secs_f64(shortened).unwrap_or(self.max.max(base));
        // The server's floor holds after the jitter, not only before it.
        match retry {
            Some(_) => delay.max(self.retry_floor),
            None => delay,
        }
    }

    pub(crate) fn healthy_period(&self) -> Duration {
        self.healthy_after
    }

    pub(crate) fn rng(&self) -> fastrand::Rng {
        match self.seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        }
    }
}
