//! The send timeout of a body that the server stopped polling.
//!
//! A server polls a body for its next frame only once it has written the last one: a
//! client that stops reading (a full socket, an HTTP/2 stream out of flow-control window)
//! means the body is never polled again, so it cannot time itself out. The watchdog is a
//! timer with no task behind it: the timer's own thread wakes it, and the wake-up itself
//! checks whether the frame handed out last is still waiting, and if it is past its limit,
//! closes the source, so that producers stop although nothing polls the body.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, OnceLock, PoisonError,
    },
    task::{Context, Wake, Waker},
    time::{Duration, Instant},
};

use futures_timer::Delay;

use crate::deliver::CloseHandle;

/// Watches one body; shared between it and the timer thread, with `T`, what else the
/// body shares (one allocation for both). The watch itself is made with the first frame
/// that has a limit, so an idle stream does not pay for it.
pub(super) struct Watchdog<T> {
    watch: OnceLock<Box<Watch>>,
    pub(super) shared: T,
}

struct Watch {
    epoch: Instant,
    /// When the frame still waiting to be taken was handed out, in nanoseconds since
    /// `epoch`, plus one; 0 when the server took it.
    handed: AtomicU64,
    /// That frame's limit, in nanoseconds.
    limit: AtomicU64,
    /// Whether the timer is set (and will wake the watchdog).
    running: AtomicBool,
    fired: AtomicBool,
    timer: Mutex<Option<Delay>>,
    close: Option<CloseHandle>,
}

impl<T: Send + Sync + 'static> Watchdog<T> {
    pub(super) fn new(shared: T) -> Self {
        Watchdog {
            watch: OnceLock::new(),
            shared,
        }
    }

    /// A frame was handed to the server, which must take the next within `limit`;
    /// `close` closes the source if it does not.
    pub(super) fn handed(
        self: &Arc<Self>,
        limit: Option<Duration>,
        close: impl FnOnce() -> Option<CloseHandle>,
    ) {
        let Some(limit) = limit else { return };
        let watch = self.watch.get_or_init(|| Box::new(Watch::new(close())));
        let limit = u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX);
        watch.limit.store(limit, Ordering::Relaxed);
        watch.handed.store(watch.now() + 1, Ordering::Release);
        if !watch.running.swap(true, Ordering::AcqRel) {
            self.set(watch, Duration::from_nanos(limit));
        }
    }

    /// The server asked for the next frame: the last one was taken.
    pub(super) fn taken(&self) {
        if let Some(watch) = self.watch.get() {
            watch.handed.store(0, Ordering::Release);
        }
    }

    /// Whether a frame waited longer than its limit.
    pub(super) fn fired(&self) -> bool {
        (self.watch.get()).is_some_and(|watch| watch.fired.load(Ordering::Acquire))
    }

    /// Stops the timer (the body is gone), which frees the watchdog.
    pub(super) fn stop(&self) {
        if let Some(watch) = self.watch.get() {
            watch.handed.store(0, Ordering::Release);
            watch.lock().take();
        }
    }

    /// Sets the timer to wake the watchdog after `after`.
    fn set(self: &Arc<Self>, watch: &Watch, after: Duration) {
        let waker = Waker::from(self.clone());
        let mut timer = watch.lock();
        let delay = timer.get_or_insert_with(|| Delay::new(after));
        delay.reset(after);
        let due = Pin::new(delay).poll(&mut Context::from_waker(&waker));
        drop(timer);
        if due.is_ready() {
            self.check();
        }
    }

    /// The timer fired: fire in turn if the frame is still waiting past its limit, set
    /// the timer again if a later frame is waiting, rest if none is.
    fn check(self: &Arc<Self>) {
        let Some(watch) = self.watch.get() else {
            return;
        };
        watch.running.store(false, Ordering::Release);
        let handed = watch.handed.load(Ordering::Acquire);
        if handed == 0 {
            // Nothing waits: free the timer until the next frame sets it again, unless a
            // frame handed out meanwhile has just set it (under the lock).
            let mut timer = watch.lock();
            if !watch.running.load(Ordering::Acquire) {
                timer.take();
            }
            return;
        }
        let due = (handed - 1).saturating_add(watch.limit.load(Ordering::Relaxed));
        let now = watch.now();
        if now >= due {
            watch.fired.store(true, Ordering::Release);
            if let Some(close) = &watch.close {
                close.close();
            }
        } else if !watch.running.swap(true, Ordering::AcqRel) {
            self.set(watch, Duration::from_nanos(due - now));
        }
    }
}

impl Watch {
    fn new(close: Option<CloseHandle>) -> Self {
        Watch {
            epoch: Instant::now(),
            handed: AtomicU64::new(0),
            limit: AtomicU64::new(0),
            running: AtomicBool::new(false),
            fired: AtomicBool::new(false),
            timer: Mutex::new(None),
            close,
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Delay>> {
        self.timer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Send + Sync + 'static> Wake for Watchdog<T> {
    fn wake(self: Arc<Self>) {
        self.check();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.check();
    }
}
