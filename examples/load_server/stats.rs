//! What the server reports at `/stats`: live producers, streams and connections, open file
//! descriptors, RSS and, with `--heap`, the live heap from a counting allocator.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering::Relaxed},
    time::{SystemTime, UNIX_EPOCH},
};

pub static PRODUCERS: AtomicUsize = AtomicUsize::new(0);
pub static STREAMS: AtomicUsize = AtomicUsize::new(0);
pub static CONNS: AtomicUsize = AtomicUsize::new(0);

/// Counts one live thing while it exists: moved into a producer task, a body, a connection.
#[derive(Debug)]
pub struct Live(&'static AtomicUsize);

impl Live {
    pub fn new(counter: &'static AtomicUsize) -> Self {
        counter.fetch_add(1, Relaxed);
        Live(counter)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

/// The system allocator, counting live bytes and allocations once `--heap` turned it on.
pub struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static HEAP_BYTES: AtomicI64 = AtomicI64::new(0);
static HEAP_BLOCKS: AtomicI64 = AtomicI64::new(0);

pub fn count_heap() {
    COUNTING.store(true, Relaxed);
}

// SAFETY (all four): each call forwards its arguments to `System` unchanged and returns
// its result; the counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() && COUNTING.load(Relaxed) {
            HEAP_BYTES.fetch_add(layout.size() as i64, Relaxed);
            HEAP_BLOCKS.fetch_add(1, Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        if COUNTING.load(Relaxed) {
            HEAP_BYTES.fetch_sub(layout.size() as i64, Relaxed);
            HEAP_BLOCKS.fetch_sub(1, Relaxed);
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() && COUNTING.load(Relaxed) {
            HEAP_BYTES.fetch_add(layout.size() as i64, Relaxed);
            HEAP_BLOCKS.fetch_add(1, Relaxed);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() && COUNTING.load(Relaxed) {
            HEAP_BYTES.fetch_add(new_size as i64 - layout.size() as i64, Relaxed);
        }
        new
    }
}

/// One line: `producers=.. streams=.. conns=.. fds=.. rss_kib=.. heap_bytes=.. heap_blocks=..`
/// (the heap figures are 0 without `--heap`, and count from the flag's parsing on).
pub fn report() -> String {
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count().saturating_sub(1));
    format!(
        "producers={} streams={} conns={} fds={fds} rss_kib={} heap_bytes={} heap_blocks={}\n",
        PRODUCERS.load(Relaxed),
        STREAMS.load(Relaxed),
        CONNS.load(Relaxed),
        rss_kib(),
        HEAP_BYTES.load(Relaxed),
        HEAP_BLOCKS.load(Relaxed),
    )
}

/// VmRSS from `/proc/self/status`, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    (status.lines())
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Nanoseconds since the Unix epoch: the send time written into every event.
pub fn now_ns() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.map_or(0, |d| d.as_nanos() as u64)
}

/// Whether `event_text` skips its work (`--fixed-text`): for the profile only, to see
/// what the producer's formatting and clock read cost every mode. The latency figures
/// are meaningless then.
static FIXED_TEXT: AtomicBool = AtomicBool::new(false);

pub fn fixed_text() {
    FIXED_TEXT.store(true, Relaxed);
}

/// The text of event `seq`, the same in every mode: `<seq> <send-time-ns>`.
pub fn event_text(seq: u64) -> String {
    if FIXED_TEXT.load(Relaxed) {
        // The same length as a real one, still one allocation, no formatting, no clock.
        return String::from("1000000 1764547200000000000");
    }
    format!("{seq} {}", now_ns())
}

/// Sends events `0..n` as the other modes make them (`event_text`), in batches of
/// `batch` events (0: one `send` per event): sse-pump's producer of `/events`.
pub async fn produce_events(
    tx: &sse_pump::Sender,
    n: u64,
    batch: usize,
) -> Result<(), &'static str> {
    use sse_pump::{Batch, Event};
    if batch == 0 {
        for seq in 0..n {
            let event = Event::new().data(event_text(seq));
            tx.send(event).await.map_err(|_| "client gone")?;
        }
        return Ok(());
    }
    let mut seq = 0;
    while seq < n {
        let mut events = Batch::with_capacity(batch * 48);
        while seq < n && events.len() < batch {
            events.data(event_text(seq));
            seq += 1;
        }
        tx.send_batch(events).await.map_err(|_| "client gone")?;
    }
    Ok(())
}

/// What a request asks for.
pub enum Route {
    /// `/events?n=N`: N events as fast as the channel takes them, then the end.
    Events(u64),
    /// `/idle`: keep-alive pings only.
    Idle,
    /// `/stats`: [`report`].
    Stats,
    NotFound,
}

/// The route of a request target.
pub fn route(target: &str) -> Route {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match path {
        "/events" => {
            let n = (query.split('&'))
                .find_map(|pair| pair.strip_prefix("n="))
                .and_then(|n| n.parse().ok());
            Route::Events(n.unwrap_or(1000))
        }
        "/idle" => Route::Idle,
        "/stats" => Route::Stats,
        _ => Route::NotFound,
    }
}
