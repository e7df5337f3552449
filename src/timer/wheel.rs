//! The keep-alive wheel: one thread for the whole process wakes quiet streams when their
//! interval is up, so that an idle stream costs one push into a bucket and one wake per
//! ping, and a busy one nothing but a timestamp per write (no timer per stream, none
//! re-armed per write or per ping). It knows no runtime: it wakes `Waker`s.
//!
//! Due times are rounded up to a tick (a sixteenth of the interval, at most 100 ms), so
//! streams due within the same tick share a bucket and are woken in one pass; a ping is
//! never early, and late by at most a tick (and the thread's scheduling delay).
//!
//! Lazy: traffic does not move a stream's entry. When a bucket fires, its streams are
//! woken; one that wrote in the meantime finds its quiet time short and files itself
//! again, at its new due time.

use std::{
    collections::BTreeMap,
    sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError},
    task::Waker,
    thread,
    time::{Duration, Instant},
};

/// The coarsest tick, in milliseconds.
const MAX_TICK_MS: u64 = 100;
/// The thread's stack: it only moves wakers.
const STACK: usize = 64 * 1024;

/// A stream's place in the wheel: its waker, and whether it is filed in a bucket.
#[derive(Default)]
pub(crate) struct Slot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    waker: Option<Waker>,
    filed: bool,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stream is gone: its waker (and the task it holds) is let go now, not when its
    /// bucket fires.
    pub(crate) fn release(&self) {
        drop(self.lock().waker.take());
    }
}

struct Wheel {
    epoch: Instant,
    inner: Mutex<Inner>,
    ready: Condvar,
}

struct Inner {
    /// Slots by the millisecond (since `epoch`) they are due.
    buckets: BTreeMap<u64, Vec<Arc<Slot>>>,
    /// The millisecond the thread sleeps until: a slot due earlier wakes it. 0 while it
    /// works (it looks at the buckets again before it sleeps).
    sleeps_until: u64,
    thread: bool,
}

fn wheel() -> &'static Wheel {
    static WHEEL: OnceLock<Wheel> = OnceLock::new();
    WHEEL.get_or_init(|| Wheel {
        epoch: Instant::now(),
        inner: Mutex::new(Inner {
            buckets: BTreeMap::new(),
            sleeps_until: u64::MAX,
            thread: false,
        }),
        ready: Condvar::new(),
    })
}

/// Files `slot` to wake `waker` at `due` (rounded up to the tick of `interval`), unless it
/// is filed already: then only its waker is updated (lazy: when that bucket fires, the
/// stream files itself again if its quiet time moved).
pub(crate) fn file(slot: &Arc<Slot>, due: Instant, interval: Duration, waker: &Waker) {
    {
        let mut state = slot.lock();
        if !state.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            state.waker = Some(waker.clone());
        }
        if state.filed {
            return;
        }
        state.filed = true;
    }
    let shared = wheel();
    let key = due_key(due.saturating_duration_since(shared.epoch), interval);
    let mut inner = shared.lock();
    inner.buckets.entry(key).or_default().push(Arc::clone(slot));
    if key < inner.sleeps_until {
        inner.sleeps_until = key;
        shared.ready.notify_one();
    }
    if !inner.thread {
        // Retried at the next filing if the thread cannot be started now.
        let started = thread::Builder::new()
            .name("sse-pump-keep-alive".into())
            .stack_size(STACK)
            .spawn(|| wheel().run());
        inner.thread = started.is_ok();
    }
}

/// The millisecond a slot due `after` the epoch is filed at: rounded up to the interval's
/// tick, so it is never early and late by less than a tick.
fn due_key(after: Duration, interval: Duration) -> u64 {
    let tick = tick_ms(interval);
    let ms = u64::try_from(after.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
    ms.div_ceil(tick).saturating_mul(tick)
}

/// The tick of `interval`, in milliseconds: a sixteenth of it, from 1 to 100 ms.
pub(crate) fn tick_ms(interval: Duration) -> u64 {
    let sixteenth = u64::try_from(interval.as_millis() / 16).unwrap_or(u64::MAX);
    sixteenth.clamp(1, MAX_TICK_MS)
}

impl Wheel {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Milliseconds since the epoch, rounded down.
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The thread: fires every bucket that is due, sleeps until the next one.
    fn run(&self) {
        let mut inner = self.lock();
        loop {
            let now = self.now_ms();
            let next = inner.buckets.first_key_value().map(|(&key, _)| key);
            match next {
                Some(key) if key <= now => {
                    let slots = inner.buckets.pop_first().map(|(_, slots)| slots);
                    drop(inner);
                    fire(slots.unwrap_or_default());
                    inner = self.lock();
                }
                Some(key) => {
                    inner.sleeps_until = key;
                    let wait = self.epoch + Duration::from_millis(key);
                    let wait = wait.saturating_duration_since(Instant::now());
                    inner = (self.ready.wait_timeout(inner, wait))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    inner.sleeps_until = 0;
                }
                None => {
                    inner.sleeps_until = u64::MAX;
                    inner = (self.ready.wait(inner)).unwrap_or_else(PoisonError::into_inner);
                    inner.sleeps_until = 0;
                }
            }
        }
    }
}

/// Wakes the streams of a bucket; each is unfiled first, so that it files itself again.
fn fire(slots: Vec<Arc<Slot>>) {
    for slot in slots {
        let waker = {
            let mut state = slot.lock();
            state.filed = false;
            state.waker.take()
        };
        drop(slot);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_due_time_is_rounded_up_to_its_tick_never_down() {
        let second = Duration::from_secs(1);
        assert_eq!(tick_ms(Duration::from_secs(15)), 100);
        assert_eq!(tick_ms(second), 62);
        assert_eq!(tick_ms(Duration::from_millis(5)), 1);
        for (after, interval) in [
            (Duration::from_millis(1_000), second),
            (Duration::from_nanos(1_000_000_001), second),
            (Duration::from_millis(15_001), Duration::from_secs(15)),
            (Duration::ZERO, Duration::from_secs(15)),
        ] {
            let key = Duration::from_millis(due_key(after, interval));
            let tick = Duration::from_millis(tick_ms(interval));
            assert!(key >= after, "{key:?} before {after:?}");
            assert!(key < after + tick, "{key:?} a tick after {after:?}");
        }
    }
}
