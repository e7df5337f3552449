//! The headers every SSE response carries, whatever serves it.

/// The headers of every SSE response, in lower case: see `response`.
pub(super) const HEADERS: [(&str, &str); 4] = [
    ("content-type", "text/event-stream; charset=utf-8"),
    ("cache-control", "no-store"),
    ("x-accel-buffering", "no"),
    ("content-encoding", "identity"),
];
