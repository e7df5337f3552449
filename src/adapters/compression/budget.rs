//! The process-wide budget of compressed streams: past it, new streams are served identity.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// How many streams may be compressed at once in a process unless
/// [`set_max_streams`] says otherwise: 10,000. A warm compressed stream keeps its
/// compressor's window and tables (tens to hundreds of KiB, see the figures in
/// `benches/compression-results.md`), so this bounds what compression can take in all.
pub const DEFAULT_MAX_STREAMS: usize = 10_000;

static ACTIVE: AtomicUsize = AtomicUsize::new(0);
static MAX: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_STREAMS);
static SERVED_IDENTITY: AtomicU64 = AtomicU64::new(0);

/// Sets how many streams may be compressed at once in this process: a stream asked to
/// compress past that is served identity (uncompressed, `Content-Encoding: identity`), and
/// counted in [`Stats::served_identity`]. Streams compressing already go on; `0` turns
/// compression off for new streams.
///
/// # Examples
///
/// ```
/// use sse_pump::adapters::compression::{max_streams, set_max_streams, DEFAULT_MAX_STREAMS};
/// set_max_streams(50_000);
/// assert_eq!(max_streams(), 50_000);
/// set_max_streams(DEFAULT_MAX_STREAMS);
/// ```
pub fn set_max_streams(max: usize) {
    MAX.store(max, Ordering::Relaxed);
}

/// How many streams may be compressed at once: [`DEFAULT_MAX_STREAMS`] unless
/// [`set_max_streams`] changed it.
///
/// # Examples
///
/// ```
/// assert!(sse_pump::adapters::compression::max_streams() > 0);
/// ```
pub fn max_streams() -> usize {
    MAX.load(Ordering::Relaxed)
}

/// The budget's counters, from [`stats`].
///
/// # Examples
///
/// ```
/// let stats = sse_pump::adapters::compression::stats();
/// assert!(stats.active <= stats.max || stats.max == 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Streams compressing now.
    pub active: usize,
    /// The budget: [`max_streams`].
    pub max: usize,
    /// Streams served identity because the budget was spent, since the process started.
    pub served_identity: u64,
}

/// The budget's counters now.
///
/// # Examples
///
/// ```
/// use sse_pump::adapters::compression::stats;
/// let before = stats().served_identity;
/// assert!(stats().served_identity >= before);
/// ```
pub fn stats() -> Stats {
    Stats {
        active: ACTIVE.load(Ordering::Relaxed),
        max: MAX.load(Ordering::Relaxed),
        served_identity: SERVED_IDENTITY.load(Ordering::Relaxed),
    }
}

/// One stream's place in the budget, given back when dropped.
#[derive(Debug)]
pub(crate) struct Permit(());

impl Permit {
    /// A place if the budget has one; otherwise `None`, counted as served identity.
    pub(crate) fn acquire() -> Option<Permit> {
        let taken = ACTIVE.fetch_update(Ordering::AcqRel, Ordering::Acquire, |active| {
            (active < MAX.load(Ordering::Relaxed)).then_some(active + 1)
        });
        match taken {
            Ok(_) => Some(Permit(())),
            Err(_) => {
                SERVED_IDENTITY.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::AcqRel);
    }
}
