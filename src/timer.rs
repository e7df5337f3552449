//! The delivery timers: the keep-alive clock, and the send deadline of a write.

mod wheel;

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::Arc,
    task::{ready, Context, Poll},
    time::{Duration, Instant},
};

use futures_timer::Delay;

use wheel::Slot;

/// The keep-alive clock: counts quiet time since the last write. The interval is the
/// caller's (its config holds it), not stored twice in every stream. Its timer is the
/// process's keep-alive wheel ([`wheel`]): a write only notes the time.
pub(crate) struct Clock {
    slot: Option<Arc<Slot>>,
    last_write: Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            slot: None,
            last_write: Instant::now(),
        }
    }

    /// A write happened; with no keep-alive (`interval` is `None`), nothing to note.
    pub(crate) fn touch(&mut self, interval: Option<Duration>) {
        if interval.is_some() {
            self.last_write = Instant::now();
        }
    }

    /// Ready once `interval` has passed with no write; until then the wheel holds the
    /// task's waker, filed at the due time (again, if writes moved it since).
    pub(crate) fn poll_due(
        &mut self,
        interval: Option<Duration>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let Some(interval) = interval else {
            return Poll::Pending;
        };
        if self.last_write.elapsed() >= interval {
            return Poll::Ready(());
        }
        // An interval past the clock's range is never due: nothing to file.
        if let Some(due) = self.last_write.checked_add(interval) {
            let slot = self.slot.get_or_insert_with(Arc::default);
            wheel::file(slot, due, interval, cx.waker());
        }
        Poll::Pending
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        if let Some(slot) = &self.slot {
            slot.release();
        }
    }
}

/// The send timeout: a timer armed only once a write has to wait.
pub(crate) struct Deadline {
    limit: Option<Duration>,
    delay: Option<Delay>,
    armed: bool,
}

impl Deadline {
    pub(crate) fn new(limit: Option<Duration>) -> Self {
        Deadline {
            limit,
            delay: None,
            armed: false,
        }
    }

    /// The limit: `None` is none.
    #[cfg(any(feature = "hyper", feature = "tokio"))]
    pub(crate) fn limit(&self) -> Option<Duration> {
        self.limit
    }

    /// Starts over for a new write, with `limit`.
    pub(crate) fn restart(&mut self, limit: Option<Duration>) {
        self.limit = limit;
        self.armed = false;
    }

    /// Ends the wait of a write that made progress.
    #[cfg(any(feature = "hyper", feature = "tokio"))]
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }

    /// The limit, if `error` is this deadline running out (not an error of the IO).
    pub(crate) fn expired(&self, error: &io::Error) -> Option<Duration> {
        let ours = self.armed && error.kind() == io::ErrorKind::TimedOut;
        self.limit.filter(|_| ours)
    }

    /// Called when the writer is not ready: starts the clock if it is not running, and
    /// fails with `TimedOut` once it runs out.
    pub(crate) fn poll_expired<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let Some(limit) = self.limit else {
            return Poll::Pending;
        };
        if !self.armed {
            self.armed = true;
            match &mut self.delay {
                Some(delay) => delay.reset(limit),
                None => self.delay = Some(Delay::new(limit)),
            }
        }
        let delay = self.delay.as_mut().expect("armed above");
        ready!(Pin::new(delay).poll(cx));
        Poll::Ready(Err(io::ErrorKind::TimedOut.into()))
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{mpsc, Mutex},
        task::{Wake, Waker},
    };

    use super::*;

    /// A waker that sends on a channel when woken.
    struct Signal(Mutex<mpsc::Sender<()>>);

    impl Wake for Signal {
        fn wake(self: Arc<Self>) {
            let _ = self.0.lock().map(|tx| tx.send(()));
        }
    }

    fn signal() -> (Arc<Signal>, mpsc::Receiver<()>) {
        let (tx, rx) = mpsc::channel();
        (Arc::new(Signal(Mutex::new(tx))), rx)
    }

    #[test]
    fn a_quiet_clock_wakes_its_task_once_the_interval_is_up() {
        let interval = Duration::from_millis(50);
        let (signal, woken) = signal();
        let waker = Waker::from(Arc::clone(&signal));
        let mut clock = Clock::new();
        let start = Instant::now();
        let mut cx = Context::from_waker(&waker);
        assert!(clock.poll_due(Some(interval), &mut cx).is_pending());
        woken.recv_timeout(Duration::from_secs(10)).expect("woken");
        assert!(start.elapsed() >= interval, "early: {:?}", start.elapsed());
        assert!(clock.poll_due(Some(interval), &mut cx).is_ready());
    }

    #[test]
    fn a_dropped_clock_lets_its_task_go_at_once() {
        let (signal, _woken) = signal();
        let waker = Waker::from(Arc::clone(&signal));
        let mut clock = Clock::new();
        let mut cx = Context::from_waker(&waker);
        let interval = Some(Duration::from_secs(3600));
        assert!(clock.poll_due(interval, &mut cx).is_pending());
        drop(waker);
        assert_eq!(Arc::strong_count(&signal), 2, "the wheel holds the waker");
        drop(clock);
        assert_eq!(Arc::strong_count(&signal), 1, "the wheel let it go");
    }
}
