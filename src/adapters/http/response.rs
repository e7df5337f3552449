//! The response around an [`SseBody`]: status and headers.

use std::{fmt, time::Duration};

use http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode, Version};

use super::SseBody;
#[cfg(feature = "compression")]
use super::{compressed::CompressedBody, encoding::Encoding};
use crate::{
    adapters::HEADERS,
    deliver::{Receiver, Source, Sse},
};

/// A `200 OK` response streaming `sse`, with the headers an event stream needs:
///
/// | header | value | why |
/// |---|---|---|
/// | `Content-Type` | `text/event-stream; charset=utf-8` | what EventSource requires |
/// | `Cache-Control` | `no-store` | no cache keeps a copy of a live stream |
/// | `X-Accel-Buffering` | `no` | nginx passes each event on at once |
/// | `Content-Encoding` | `identity` | compression middleware would buffer the stream (to compress, use `SseResponse::compress`, feature `compression`, which flushes every frame) |
///
/// To change the status, add or override headers, or answer an HTTP/1.1 request with
/// `Connection: keep-alive`, use [`SseResponse`].
///
/// Every rule of [`Sse`] applies to the body as to [`Sse::pump`]: keep-alive, `retry`, line
/// endings, coalescing, shutdown with the farewell and its grace, and the send timeout
/// (see [`SseBody`] for what a timeout does to a body the server no longer polls). The
/// connection is the server's: serve its IO through [`WriteTimeout`](crate::WriteTimeout)
/// (or, with axum, the listener through
/// [`WriteTimeoutListener`](crate::adapters::axum::WriteTimeoutListener)) so that a client
/// that stops reading also loses its connection.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use sse_pump::{channel, client::decode_body, response, Event, Sse};
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = channel(8);
/// tx.send(Event::new().event("greeting").data("hello")).await?;
/// drop(tx);
///
/// let response = response(Sse::new(rx));
/// assert_eq!(response.headers()["content-type"], "text/event-stream; charset=utf-8");
/// let events: Vec<_> = decode_body(response.into_body()).try_collect().await?;
/// assert_eq!((&*events[0].event, events[0].data.as_str()), ("greeting", "hello"));
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub fn response<S: Source>(sse: Sse<S>) -> Response<SseBody<S>> {
    SseResponse::new(sse).build()
}

/// A `503 Service Unavailable` response with a `Retry-After` header and an empty body: the
/// answer to a subscription the server refuses for now, such as
/// [`SubscribeError::Full`](crate::hub::SubscribeError::Full) when a [`Hub`](crate::hub::Hub) has
/// its [`max_subscribers`](crate::hub::HubBuilder::max_subscribers).
///
/// `Retry-After` is written in whole seconds, rounded up (`1500 ms` becomes `2`, anything
/// under a second but not zero becomes `1`). A browser's `EventSource` treats any status
/// but 200 as fatal and does not reconnect by itself: a page that should come back listens
/// for `error` with `readyState == CLOSED` and opens a new `EventSource` later. Scripts,
/// load balancers and proxies read the header.
///
/// `B` is the body type of the server's responses; any body whose `Default` is empty fits
/// (`http_body_util::Empty`, `Full`, `String`, `()`); map it into an `Either` next to an
/// [`SseBody`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use bytes::Bytes;
/// use http::Response;
/// use http_body_util::{Either, Empty};
/// use sse_pump::{hub::{Hub, Subscription}, response, unavailable, Sse, SseBody};
///
/// fn events(hub: &Hub) -> Response<Either<SseBody<Subscription>, Empty<Bytes>>> {
///     match hub.subscribe(None) {
///         Ok(rx) => response(Sse::new(rx)).map(Either::Left),
///         // SubscribeError::Full (max_subscribers reached), Loading (a shared log's
///         // history not loaded yet) or Closed (shutting down)
///         Err(_) => unavailable(Duration::from_secs(5)).map(Either::Right),
///     }
/// }
///
/// let hub = Hub::builder().max_subscribers(1).build();
/// let first = events(&hub);
/// assert_eq!(first.status(), 200);
/// let second = events(&hub);
/// assert_eq!(second.status(), 503);
/// assert_eq!(second.headers()["retry-after"], "5");
/// ```
#[doc(alias = "503")]
#[doc(alias = "retry-after")]
pub fn unavailable<B: Default>(retry_after: Duration) -> Response<B> {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    let mut response = Response::new(B::default());
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    (response.headers_mut()).insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// A response builder for when [`response`] is not enough: another status, more or other
/// headers, `Connection: keep-alive` for HTTP/1.1.
///
/// # Examples
///
/// ```
/// use http::{header, HeaderValue, StatusCode, Version};
/// use sse_pump::{channel, Sse, SseResponse};
///
/// let (_tx, rx) = channel(8);
/// let response = SseResponse::new(Sse::new(rx))
///     .version(Version::HTTP_11)
///     .header(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=29"))
///     .status(StatusCode::OK)
///     .build();
/// assert_eq!(response.headers()[header::CACHE_CONTROL], "public, max-age=29");
/// assert_eq!(response.headers()[header::CONNECTION], "keep-alive");
/// ```
#[must_use = "a response builder does nothing until built"]
pub struct SseResponse<S = Receiver> {
    sse: Sse<S>,
    status: StatusCode,
    headers: HeaderMap,
}

impl<S: Source> SseResponse<S> {
    /// A `200 OK` response streaming `sse`, with the headers listed under [`response`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let response = sse_pump::SseResponse::new(sse_pump::Sse::new(rx)).build();
    /// assert_eq!(response.headers()["cache-control"], "no-store");
    /// ```
    pub fn new(sse: Sse<S>) -> Self {
        let mut headers = HeaderMap::with_capacity(5);
        for (name, value) in HEADERS {
            let name = HeaderName::from_static(name);
            headers.insert(name, HeaderValue::from_static(value));
        }
        SseResponse {
            sse,
            status: StatusCode::OK,
            headers,
        }
    }

    /// Sets the status. Default: `200 OK`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let response = sse_pump::SseResponse::new(sse_pump::Sse::new(rx))
    ///     .status(http::StatusCode::ACCEPTED)
    ///     .build();
    /// assert_eq!(response.status(), 202);
    /// ```
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Sets a header, replacing the default of the same name if there is one.
    ///
    /// # Examples
    ///
    /// ```
    /// use http::HeaderValue;
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let response = sse_pump::SseResponse::new(sse_pump::Sse::new(rx))
    ///     .header(http::header::VARY, HeaderValue::from_static("origin"))
    ///     .build();
    /// assert_eq!(response.headers()["vary"], "origin");
    /// ```
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Says which HTTP version the request came in: an HTTP/1.1 response gets
    /// `Connection: keep-alive`, which HTTP/2 and HTTP/3 forbid. Pass the request's
    /// [`version`](http::Request::version).
    ///
    /// # Examples
    ///
    /// ```
    /// use http::Version;
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let response = sse_pump::SseResponse::new(sse_pump::Sse::new(rx))
    ///     .version(Version::HTTP_2)
    ///     .build();
    /// assert!(response.headers().get("connection").is_none());
    /// ```
    pub fn version(mut self, version: Version) -> Self {
        if version == Version::HTTP_11 {
            let keep_alive = HeaderValue::from_static("keep-alive");
            self.headers.entry(header::CONNECTION).or_insert(keep_alive);
        } else {
            self.headers.remove(header::CONNECTION);
        }
        self
    }

    /// The response.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let response = sse_pump::SseResponse::new(sse_pump::Sse::new(rx)).build();
    /// assert_eq!(response.status(), 200);
    /// ```
    pub fn build(self) -> Response<SseBody<S>> {
        let mut response = Response::new(SseBody::new(self.sse));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

#[cfg(feature = "compression")]
impl<S: Source> SseResponse<S> {
    /// The response, its body compressed with `encoding` (from [`Encoding::negotiate`] on
    /// the request's headers), each frame flushed at once (see [`CompressedBody`]).
    /// Sets `Content-Encoding` to the encoding's token (`identity` stays when uncompressed,
    /// and when the process-wide budget of compressed streams is spent: see
    /// [`set_max_streams`](crate::adapters::compression::set_max_streams)) and adds
    /// `accept-encoding` to `Vary`, since the body depends on that header.
    ///
    /// Mind the security caveat under [`CompressedBody`]: do not compress a stream that
    /// carries both a secret and data an attacker chooses.
    ///
    /// # Examples
    ///
    /// ```
    /// use http::{header, HeaderMap, HeaderValue, Version};
    /// use sse_pump::{channel, Encoding, Sse, SseResponse};
    ///
    /// let mut request = HeaderMap::new();
    /// request.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip, br"));
    /// let (_tx, rx) = channel(8);
    /// let response = SseResponse::new(Sse::new(rx))
    ///     .version(Version::HTTP_2)
    ///     .compress(Encoding::negotiate(&request));
    /// assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    /// assert_eq!(response.headers()[header::VARY], "accept-encoding");
    /// assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    /// ```
    ///
    /// [`Encoding::negotiate`]: crate::Encoding::negotiate
    /// [`CompressedBody`]: crate::CompressedBody
    pub fn compress(self, encoding: Encoding) -> Response<CompressedBody<S>> {
        // The body first: past the budget it is identity, and the header must say so.
        let mut response = self.build().map(|body| CompressedBody::new(body, encoding));
        let coding = HeaderValue::from_static(response.body().encoding().as_str());
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_ENCODING, coding);
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        response
    }
}

impl<S> fmt::Debug for SseResponse<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseResponse")
            .field("sse", &self.sse)
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish()
    }
}
