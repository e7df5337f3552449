//! Serving a stream as an `http_body::Body`: hyper, axum, and anything else built on
//! http-body 1.x.

use std::{
    convert::Infallible,
    fmt,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
    time::Duration,
};

use bytes::{Bytes, BytesMut};
use http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode, Version};
use http_body::{Body, Frame, SizeHint};

use crate::{
    frames::{gather, Clock},
    sse::Config,
    Ended, Event, LineEnding, Receiver, Report, Source, Sse,
};

/// A `200 OK` response streaming `sse`, with the headers an event stream needs:
///
/// | header | value | why |
/// |---|---|---|
/// | `Content-Type` | `text/event-stream; charset=utf-8` | what EventSource requires |
/// | `Cache-Control` | `no-store` | no cache keeps a copy of a live stream |
/// | `X-Accel-Buffering` | `no` | nginx passes each event on at once |
/// | `Content-Encoding` | `identity` | compression middleware would buffer the stream |
///
/// To change the status, add or override headers, or answer an HTTP/1.1 request with
/// `Connection: keep-alive`, use [`SseResponse`].
///
/// Over hyper, the send timeout belongs to the connection, because hyper, not the body,
/// writes to the socket: serve the connection's IO through
/// [`WriteTimeout`](crate::WriteTimeout) so that a client that stops reading loses its
/// connection. [`Sse::send_timeout`] and [`Sse::shutdown_grace`] do not apply to a body;
/// keep-alive, `retry`, line endings, coalescing, shutdown and the farewell do.
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
/// use sse_pump::{response, unavailable, Sse, SseBody, hub::{Hub, Subscription}};
///
/// fn events(hub: &Hub) -> Response<Either<SseBody<Subscription>, Empty<Bytes>>> {
///     match hub.subscribe(None) {
///         Ok(rx) => response(Sse::new(rx)).map(Either::Left),
///         // SubscribeError::Full (max_subscribers reached), or Closed (shutting down)
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
        for (name, value) in super::HEADERS {
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

impl<S> fmt::Debug for SseResponse<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseResponse")
            .field("sse", &self.sse)
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish()
    }
}

/// The body of an SSE response: an [`http_body::Body`] whose frames are the stream's
/// events, with the `retry` frame first, keep-alive pings when quiet, and the farewell
/// on shutdown. Events queued together go out as one frame (see
/// [`Sse::coalesce`]); a single event goes out as its own `Bytes`, with no copy.
///
/// The body never fails. It ends when the source ends or on shutdown; when hyper drops
/// it early (the client went away), the source is closed, so producers' sends fail.
/// [`SseBody::report`] tells how it went.
///
/// # Examples
///
/// ```
/// use http_body_util::BodyExt;
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = sse_pump::channel(8);
/// tx.send(sse_pump::Event::new().data("a")).await?;
/// drop(tx);
/// let body = sse_pump::SseBody::new(sse_pump::Sse::new(rx).keep_alive(None));
/// let bytes = body.collect().await?.to_bytes();
/// assert_eq!(bytes, "data: a\n\n");
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub struct SseBody<S: Source = Receiver> {
    // Boxed so that the body is `Unpin`, which `BodyExt` users and some servers need.
    source: Pin<Box<S>>,
    state: State,
}

impl<S: Source> Drop for SseBody<S> {
    fn drop(&mut self) {
        if !self.state.done {
            let queued = self.source.as_mut().close();
            self.state.finish(Ended::Disconnected, queued);
        }
    }
}

struct State {
    config: Config,
    clock: Clock,
    shutdown: Option<event_listener::EventListener>,
    /// Frames to send before anything else: the `retry` frame.
    first: Option<Bytes>,
    /// An event that did not fit in the last frame.
    carry: Option<Bytes>,
    buf: BytesMut,
    report: Report,
    shared: Arc<Shared>,
    /// Whether the source ended with the last frame.
    source_ended: bool,
    done: bool,
}

impl<S: Source> SseBody<S> {
    /// The body of `sse`; [`response`] wraps it in a response with the right headers.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let body = sse_pump::SseBody::new(sse_pump::Sse::new(rx));
    /// # drop(body);
    /// ```
    pub fn new(sse: Sse<S>) -> Self {
        let Sse { source, config } = sse;
        let first = config.retry_frame();
        SseBody {
            source: Box::pin(source),
            state: State {
                clock: config.clock(),
                config,
                shutdown: None,
                first,
                carry: None,
                buf: BytesMut::new(),
                report: Report::default(),
                shared: Arc::default(),
                source_ended: false,
                done: false,
            },
        }
    }

    /// A handle on the body's [`Report`], available once the body has ended or been
    /// dropped. `events` counts the events handed to hyper; `undelivered` those still
    /// queued when the client went away or the stream was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sse_pump::channel(8);
    /// tx.try_send(sse_pump::Event::new().data("never read"))?;
    /// let body = sse_pump::SseBody::new(sse_pump::Sse::new(rx));
    /// let report = body.report();
    /// drop(body); // as hyper does when the client goes away
    /// let report = report.get().unwrap();
    /// assert_eq!(report.ended, sse_pump::Ended::Disconnected);
    /// assert_eq!(report.undelivered, 1);
    /// assert!(tx.is_closed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn report(&self) -> BodyReport {
        BodyReport {
            shared: self.state.shared.clone(),
        }
    }
}

impl State {
    /// Applies the line ending to a frame encoded with `\n`.
    fn frame(&mut self, frame: Bytes) -> Frame<Bytes> {
        if self.config.line_ending == LineEnding::Lf {
            return self.sent(frame);
        }
        self.config.line_ending.extend(&mut self.buf, &frame);
        let converted = self.buf.split().freeze();
        self.sent(converted)
    }

    /// Hands `bytes` to hyper: counted as written, and the keep-alive clock restarts.
    fn sent(&mut self, bytes: Bytes) -> Frame<Bytes> {
        self.report.bytes += bytes.len() as u64;
        self.clock.touch();
        Frame::data(bytes)
    }

    fn finish(&mut self, ended: Ended, undelivered: u64) {
        self.done = true;
        self.report.ended = ended;
        self.report.undelivered += undelivered + u64::from(self.carry.take().is_some());
        let report = std::mem::take(&mut self.report);
        *self
            .shared
            .report
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(report);
        self.shared.ended.notify(usize::MAX);
    }
}

impl<S: Source> Body for SseBody<S> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let state = &mut this.state;
        if state.done {
            return Poll::Ready(None);
        }
        if let Some(retry) = state.first.take() {
            return Poll::Ready(Some(Ok(state.frame(retry))));
        }
        if let Some(signal) = &state.config.shutdown {
            if signal.poll_triggered(&mut state.shutdown, cx).is_ready() {
                let queued = this.source.as_mut().close();
                let farewell = state.config.farewell.take();
                state.report.events += u64::from(farewell.is_some());
                let frame = farewell.map(|event| state.frame(event.into_bytes()));
                state.finish(Ended::Shutdown, queued);
                return Poll::Ready(frame.map(Ok));
            }
        }
        let first = match state.carry.take() {
            Some(frame) => Some(frame),
            None if state.source_ended => None,
            None => match this.source.as_mut().poll_next(cx) {
                Poll::Ready(next) => Some(next.map(Event::into_bytes)).flatten(),
                Poll::Pending => {
                    return match state.clock.poll_due(cx) {
                        Poll::Ready(()) => {
                            let ping = state.config.ping();
                            state.report.pings += 1;
                            Poll::Ready(Some(Ok(state.frame(ping))))
                        }
                        Poll::Pending => Poll::Pending,
                    };
                }
            },
        };
        let Some(first) = first else {
            let ended = state.report.source_ended(this.source.as_mut().take_error());
            state.finish(ended, 0);
            return Poll::Ready(None);
        };
        let (limit, ending) = (state.config.coalesce, state.config.line_ending);
        let batch = gather(
            first,
            this.source.as_mut(),
            cx,
            limit,
            ending,
            &mut state.buf,
        );
        state.carry = batch.carry;
        state.source_ended |= batch.ended;
        state.report.events += batch.events;
        let frame = match batch.alone {
            Some(frame) => state.frame(frame),
            None => {
                let gathered = state.buf.split().freeze();
                state.sent(gathered)
            }
        };
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.state.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl<S: Source> fmt::Debug for SseBody<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseBody")
            .field("source", &std::any::type_name::<S>())
            .field("done", &self.state.done)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Shared {
    report: Mutex<Option<Report>>,
    ended: event_listener::Event,
}

/// The [`Report`] of an [`SseBody`], from [`SseBody::report`]: ready once the body has
/// ended or hyper has dropped it.
///
/// # Examples
///
/// ```
/// use http_body_util::BodyExt;
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = sse_pump::channel(8);
/// tx.send(sse_pump::Event::new().data("a")).await?;
/// drop(tx);
/// let body = sse_pump::SseBody::new(sse_pump::Sse::new(rx));
/// let report = body.report();
/// body.collect().await?;
/// let report = report.wait().await;
/// assert_eq!((report.ended, report.events), (sse_pump::Ended::SourceClosed, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct BodyReport {
    shared: Arc<Shared>,
}

impl BodyReport {
    /// The report if the body has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let body = sse_pump::SseBody::new(sse_pump::Sse::new(rx));
    /// assert!(body.report().get().is_none());
    /// ```
    pub fn get(&self) -> Option<Report> {
        let report = self.shared.report.lock();
        report.unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits until the body has ended, then returns its report.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (_tx, rx) = sse_pump::channel(8);
    /// let body = sse_pump::SseBody::new(sse_pump::Sse::new(rx));
    /// let report = body.report();
    /// drop(body);
    /// assert_eq!(report.wait().await.ended, sse_pump::Ended::Disconnected);
    /// # });
    /// ```
    pub async fn wait(&self) -> Report {
        loop {
            if let Some(report) = self.get() {
                return report;
            }
            let listener = self.shared.ended.listen();
            if let Some(report) = self.get() {
                return report;
            }
            listener.await;
        }
    }
}

impl fmt::Debug for BodyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyReport")
            .field("report", &self.get())
            .finish()
    }
}
