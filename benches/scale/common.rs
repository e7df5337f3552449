//! What the scale harness's server and client both read: the clock and their own RSS.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch: an event's publish time, and its receive time.
pub fn now_ns() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.map_or(0, |d| d.as_nanos() as u64)
}

/// VmRSS from `/proc/self/status`, in KiB.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    (status.lines())
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
