//! The `Last-Event-ID` an EventSource sends when it reconnects.

use super::request::RequestError;

/// The longest `Last-Event-ID` accepted, in bytes: 1 KiB.
pub const MAX_LAST_EVENT_ID: usize = 1024;

/// The `Last-Event-ID` header among a request's `headers`: the id of the last event a
/// reconnecting client received, so that the stream can resume after it. Takes the
/// headers, so it serves an axum handler's `HeaderMap` extractor as well as a whole
/// request (`last_event_id(request.headers())`).
///
/// `Ok(None)` when the header is absent or empty (a browser sends none before its first
/// event with an id).
///
/// # Errors
///
/// A header longer than [`MAX_LAST_EVENT_ID`], not UTF-8, holding a NUL (which a browser
/// never sends: it ignores such ids), or given twice, is a [`RequestError`]
/// (`LastEventIdTooLong`, `LastEventIdNotUtf8`, `LastEventIdNul`, `LastEventIdRepeated`); answer it
/// with `400 Bad Request`, or ignore it and start from the beginning.
///
/// # Examples
///
/// ```
/// let request = http::Request::get("/events").header("last-event-id", "42").body(())?;
/// assert_eq!(sse_pump::last_event_id(request.headers())?, Some("42"));
///
/// let fresh = http::HeaderMap::new(); // axum: a `headers: HeaderMap` argument
/// assert_eq!(sse_pump::last_event_id(&fresh)?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "http")]
pub fn last_event_id(headers: &http::HeaderMap) -> Result<Option<&str>, RequestError> {
    let values = headers.get_all("last-event-id").iter();
    check(values.map(http::HeaderValue::as_bytes))
}

/// The one value of `values`, checked as [`last_event_id`] says.
pub(crate) fn check<'a>(
    mut values: impl Iterator<Item = &'a [u8]>,
) -> Result<Option<&'a str>, RequestError> {
    let Some(bytes) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(RequestError::LastEventIdRepeated);
    }
    if bytes.len() > MAX_LAST_EVENT_ID {
        return Err(RequestError::LastEventIdTooLong(bytes.len()));
    }
    if bytes.contains(&0) {
        return Err(RequestError::LastEventIdNul);
    }
    let id = std::str::from_utf8(bytes).map_err(|_| RequestError::LastEventIdNotUtf8)?;
    Ok(Some(id).filter(|id| !id.is_empty()))
}

#[cfg(all(feature = "http", feature = "tracing"))]
impl crate::deliver::Trace {
    /// The request's path and query, and its `Last-Event-ID` when well-formed: what a
    /// server knows of a request. Add the peer with [`Trace::peer`](crate::Trace::peer) where the server has it
    /// (the accepted connection's address; axum's `ConnectInfo`).
    ///
    /// # Examples
    ///
    /// ```
    /// let request = http::Request::get("/events?topic=news")
    ///     .header("last-event-id", "41")
    ///     .body(())
    ///     .unwrap();
    /// let trace = sse_pump::Trace::from_request(&request);
    /// let expected = sse_pump::Trace::new().path("/events?topic=news").last_event_id("41");
    /// assert_eq!(trace, expected);
    /// ```
    pub fn from_request<B>(request: &http::Request<B>) -> Self {
        let uri = request.uri();
        let mut trace = Self::new().path(uri.path_and_query().map_or("/", |p| p.as_str()));
        if let Ok(Some(id)) = last_event_id(request.headers()) {
            trace = trace.last_event_id(id);
        }
        trace
    }
}
