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
        Arc, Mutex, PoisonError,
    },
    task::{Context, Wake, Waker},
    time::{Duration, Instant},
};

use futures_timer::Delay;

use crate::CloseHandle;

/// Watches one body; shared between it and the timer thread, with `T`, what else the
/// body shares (one allocation for both).
pub(super) struct Watchdog<T> {
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
    pub(super) shared: T,
}

impl<T: Send + Sync + 'static> Watchdog<T> {
    pub(super) fn new(close: Option<CloseHandle>, shared: T) -> Self {
        Watchdog {
            epoch: Instant::now(),
            handed: AtomicU64::new(0),
            limit: AtomicU64::new(0),
            running: AtomicBool::new(false),
            fired: AtomicBool::new(false),
            timer: Mutex::new(None),
            close,
            shared,
        }
    }

    /// A frame was handed to the server, which must take the next within `limit`.
    pub(super) fn handed(self: &Arc<Self>, limit: Option<Duration>) {
        let Some(limit) = limit else { return };
        let limit = u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX);
        self.limit.store(limit, Ordering::Relaxed);
        self.handed.store(self.now() + 1, Ordering::Release);
        if !self.running.swap(true, Ordering::AcqRel) {
            self.set(Duration::from_nanos(limit));
        }
    }

    /// The server asked for the next frame: the last one was taken.
    pub(super) fn taken(&self) {
        self.handed.store(0, Ordering::Release);
    }

    /// Whether a frame waited longer than its limit.
    pub(super) fn fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// Stops the timer (the body is gone), which frees the watchdog.
    pub(super) fn stop(&self) {
        self.handed.store(0, Ordering::Release);
        self.lock().take();
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Delay>> {
        self.timer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the timer to wake the watchdog after `after`.
    fn set(self: &Arc<Self>, after: Duration) {
        let waker = Waker::from(self.clone());
        let mut timer = self.lock();
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
        self.running.store(false, Ordering::Release);
        let handed = self.handed.load(Ordering::Acquire);
        if handed == 0 {
            // Nothing waits: free the timer until the next frame sets it again, unless a
            // frame handed out meanwhile has just set it (under the lock).
            let mut timer = self.lock();
            if !self.running.load(Ordering::Acquire) {
                timer.take();
            }
            return;
        }
        let due = (handed - 1).saturating_add(self.limit.load(Ordering::Relaxed));
        let now = self.now();
        if now >= due {
            self.fired.store(true, Ordering::Release);
            if let Some(close) = &self.close {
                close.close();
            }
        } else if !self.running.swap(true, Ordering::AcqRel) {
            self.set(Duration::from_nanos(due - now));
        }
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
