//! [`EventSource`]: EventSource semantics (connect, check, decode, reconnect) over any HTTP
//! client that speaks the `http` and `http-body` 1.x types.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{ready, Context, Poll},
    time::{Duration, Instant},
};

use futures_lite::Stream;
use futures_timer::Delay;
use http::{header, HeaderValue, Method, Request, Response};
use http_body::Body;

use super::{
    decode_body::{decode_body_with, DecodeBody},
    error::BoxError,
};
use crate::{
    client::{Backoff, Error},
    decode::{DecodeError, Decoder, MessageEvent},
};

mod state;
pub(super) mod watched;

use self::{state::State, watched::Watched};

/// An HTTP client, as the client side uses it: send an `http::Request<Q>`, get a response
/// whose body is an [`http_body::Body`].
///
/// Every `FnMut(http::Request<Q>) -> impl Future<Output = Result<http::Response<B>, E>>`
/// is one, so a closure around any client does. `Q` is the request body: `()` for a plain
/// `GET` event stream, [`Bytes`](bytes::Bytes) for the one-shot [`request`](crate::client::request)
/// builder, or whatever [`EventSource::from_fn`]'s factory builds; map it to your client's
/// body type (`Full::new` for hyper, `reqwest::Body::from` for reqwest).
///
/// # Examples
///
/// A client that never connects (a real one is in [`EventSource`]'s example):
///
/// ```
/// use sse_pump::client::Fetch;
///
/// fn assert_fetch<F: Fetch>(_: &F) {}
/// let offline = |_request: http::Request<()>| async {
///     Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline"))
/// };
/// assert_fetch(&offline);
/// ```
pub trait Fetch<Q = ()> {
    /// The response body.
    type Body: Body<Error: Into<Box<dyn std::error::Error + Send + Sync>>>;
    /// The client's error.
    type Error: Into<Box<dyn std::error::Error + Send + Sync>>;
    /// The response future.
    type Future: Future<Output = Result<Response<Self::Body>, Self::Error>>;

    /// Sends `request`.
    fn fetch(&mut self, request: Request<Q>) -> Self::Future;
}

impl<F, Fut, Q, B, E> Fetch<Q> for F
where
    F: FnMut(Request<Q>) -> Fut,
    Fut: Future<Output = Result<Response<B>, E>>,
    B: Body<Error: Into<BoxError>>,
    E: Into<BoxError>,
{
    type Body = B;
    type Error = E;
    type Future = Fut;

    fn fetch(&mut self, request: Request<Q>) -> Fut {
        self(request)
    }
}

/// What an [`EventSource`] yields, besides errors.
///
/// (Not [`Item`](crate::Item), which is the decoder's: events, comments and retry-only
/// blocks. A source yields connection states too.)
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::client::EventSourceItem;
///
/// fn describe(item: &EventSourceItem) -> String {
///     match item {
///         EventSourceItem::Open => "open".into(),
///         EventSourceItem::Event(event) => format!("{}: {}", event.event, event.data),
///         EventSourceItem::Reconnecting { after, attempt, .. } => format!("retry #{attempt} in {after:?}"),
///         _ => "?".into(),
///     }
/// }
/// let item = EventSourceItem::Reconnecting { after: Duration::from_secs(1), attempt: 1, cause: None };
/// assert_eq!(describe(&item), "retry #1 in 1s");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum EventSourceItem {
    /// The server accepted: status 200, content type `text/event-stream`.
    Open,
    /// An event (comments and retry-only blocks are not events).
    Event(MessageEvent),
    /// The connection failed or ended; the source waits `after`, then connects again.
    Reconnecting {
        /// The delay before the attempt, backoff and jitter included.
        after: Duration,
        /// The number of this attempt since the last healthy connection, from 1.
        attempt: u32,
        /// What failed: the client ([`Error::Transport`]), a deadline
        /// ([`Error::is_timeout`]), or the request factory of
        /// [`from_fn`](EventSource::from_fn) ([`Error::Request`]); `None` if the stream
        /// ended cleanly.
        cause: Option<Error>,
    },
}

/// A reconnecting event stream, as a browser's `EventSource`, over any HTTP client (see
/// [`Fetch`]); a `Stream` of `Result<`[`EventSourceItem`]`, `[`Error`]`>`.
///
/// The client is the first argument because this crate brings none (the issue sketched
/// `EventSource::new(request)`): it runs on tokio, smol or anything else. It sends `request`
/// with `Accept: text/event-stream`, `Cache-Control: no-store` and, when the last event ID
/// is not empty, `Last-Event-ID`. Then:
///
/// - status 200 with content type `text/event-stream` (any case, parameters ignored):
///   [`EventSourceItem::Open`], then one [`EventSourceItem::Event`] per event;
/// - status 204: the end (`None`), as the standard says;
/// - any other status or content type: [`Error::Rejected`] with the status, headers
///   and the first 4 KiB of the body, then the end, with no retry;
/// - a client or body error, or the end of the body: [`EventSourceItem::Reconnecting`], a wait
///   (see [`Backoff`]), and a new request carrying the last event ID. The `cause` tells a
///   clean end (`None`) from a stream cut short (`Some`: a reset, a chunked body without
///   its last chunk, an HTTP/2 reset, a timeout);
/// - an event for which the [`end_when`](EventSource::end_when) predicate holds (an
///   LLM's `data: [DONE]`): that event, then the end;
/// - a request that is not idempotent (`POST`, `PATCH`) is sent once, unless
///   [`retry_non_idempotent`](EventSource::retry_non_idempotent) says otherwise: after a
///   clean end the stream ends, after a failure it yields [`Error::NotRetried`];
/// - too many consecutive failures ([`Backoff::max_attempts`]): [`Error::Exhausted`],
///   then the end.
///
/// A line or event over the decoder's limits is an [`Error::Decode`] and the stream
/// goes on. Timers are `futures-timer`'s, which need no runtime.
///
/// # Limits against a hostile or broken server
///
/// - **It never waits for ever.** No response head within
///   [`response_timeout`](EventSource::response_timeout) (30 s by default: connecting,
///   TLS and the head, all inside the client's `fetch`), no byte at all, not even a
///   keep-alive comment, for [`idle_timeout`](EventSource::idle_timeout) (45 s: three of
///   this crate's default 15 s pings) on an open stream, or a line left unfinished for
///   [`progress_timeout`](EventSource::progress_timeout) (60 s) while bytes trickle in,
///   is a failed attempt: a [`EventSourceItem::Reconnecting`] whose `cause` is
///   [`Error::ResponseTimeout`], [`Error::IdleTimeout`] or [`Error::ProgressTimeout`]. The body of a
///   rejection is collected for at most
///   [`rejection_timeout`](EventSource::rejection_timeout) (5 s) and
///   [`Error::BODY_LIMIT`] bytes.
/// - **It never reconnects in a hot loop**: the server's `retry:` is bounded (see
///   [`Backoff`]), and the delay still grows over consecutive failures.
/// - **Memory follows the input**: lines and events are bounded by the decoder's limits
///   (1 MiB, 8 MiB), and the last event ID, of any length up to the line limit as in
///   browsers, is held once and shared by every event that carries it.
/// - **A last event ID that cannot be sent is said, not dropped**: one that is not a valid
///   header value (a control character) or that a header would not carry unchanged
///   (leading or trailing blanks, which servers trim) gives
///   [`Error::LastEventIdNotSent`] before each request that goes without it.
///
/// # Examples
///
/// With hyper-util's legacy `Client` on tokio (`client-legacy`, `http1` and `tokio`
/// features):
///
/// ```no_run
/// use std::time::Duration;
/// use bytes::Bytes;
/// use futures_lite::StreamExt;
/// use http_body_util::Empty;
/// use hyper_util::{client::legacy::Client, rt::TokioExecutor};
/// use sse_pump::client::{Backoff, EventSource, EventSourceItem};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
/// let fetch = move |request: http::Request<()>| client.request(request.map(|()| Empty::new()));
///
/// let request = http::Request::get("http://127.0.0.1:8000/events").body(())?;
/// let mut source = EventSource::new(fetch, request)
///     .reconnect(Backoff::exponential(Duration::from_millis(500), Duration::from_secs(30)).jitter(0.5))
///     .with_last_event_id("41");
/// while let Some(item) = source.next().await {
///     match item? {
///         EventSourceItem::Open => println!("connected"),
///         EventSourceItem::Event(event) => println!("{}: {}", event.event, event.data),
///         EventSourceItem::Reconnecting { after, attempt, .. } => println!("retry #{attempt} in {after:?}"),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
///
/// On smol, a fetch is a few lines over `hyper::client::conn::http1` and
/// `smol::net::TcpStream` (or smol-hyper): see the crate's `tests/event_source.rs`.
#[must_use = "streams do nothing unless polled"]
pub struct EventSource<F: Fetch<Q>, Q = ()> {
    fetch: F,
    make_request: MakeRequest<Q>,
    retry_non_idempotent: bool,
    end_when: Option<EndWhen>,
    /// The method of the request in flight, if one was sent.
    sent: Option<Method>,
    /// The URI of the last request sent, for the tracing events.
    #[cfg(feature = "tracing")]
    uri: http::Uri,
    backoff: Backoff,
    rng: fastrand::Rng,
    max_line_len: Option<usize>,
    max_event_size: Option<usize>,
    max_id_len: Option<usize>,
    timeouts: Timeouts,
    last_event_id: String,
    retry: Option<Duration>,
    attempt: u32,
    opened_at: Option<Instant>,
    state: State<F::Future, F::Body>,
}

/// Says whether an event is the last.
pub(super) type EndWhen = Box<dyn FnMut(&MessageEvent) -> bool + Send>;

/// Builds the request of each attempt from the last event ID.
type MakeRequest<Q> = Box<dyn FnMut(&str) -> Result<Request<Q>, BoxError> + Send>;

// The future and the body are boxed, and `fetch` is only used through `&mut`: nothing is
// structurally pinned.
impl<F: Fetch<Q>, Q> Unpin for EventSource<F, Q> {}

impl<F: Fetch<Q>, Q> EventSource<F, Q> {
    /// A source that sends `request` (its method, URI, version, headers and a clone of its
    /// body) with `fetch` at each attempt. Nothing happens until the stream is polled.
    ///
    /// A method that is not idempotent (`POST`, `PATCH`) is sent once: see
    /// [`retry_non_idempotent`](EventSource::retry_non_idempotent). To build each
    /// attempt's request (a new body, a fresh token, the last event ID in the body), use
    /// [`from_fn`](EventSource::from_fn).
    ///
    /// # Examples
    ///
    /// ```
    /// let fetch = |_: http::Request<()>| async {
    ///     Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline"))
    /// };
    /// let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request);
    /// assert_eq!(source.last_event_id(), "");
    /// ```
    pub fn new(fetch: F, request: Request<Q>) -> Self
    where
        Q: Clone + Send + 'static,
    {
        let (parts, body) = request.into_parts();
        let (method, uri, version, headers) =
            (parts.method, parts.uri, parts.version, parts.headers);
        EventSource::from_fn(fetch, move |_: &str| {
            let mut request = Request::new(body.clone());
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri.clone();
            *request.version_mut() = version;
            *request.headers_mut() = headers.clone();
            // The source sets the current ID; a fixed one would be sent for ever.
            request.headers_mut().remove("last-event-id");
            Ok::<_, BoxError>(request)
        })
    }

    /// A source whose requests `make_request` builds, one per attempt, from the last event
    /// ID (empty at first, unless [`with_last_event_id`](EventSource::with_last_event_id)
    /// set one): a body built again, a token refreshed, the ID placed where the API wants
    /// it. The source then adds what is missing of `Accept: text/event-stream`,
    /// `Cache-Control: no-store` and `Last-Event-ID` (when the ID is not empty). An `Err`
    /// is a failed attempt (nothing was sent), retried as a network error is.
    ///
    /// A method that is not idempotent (`POST`, `PATCH`) is not sent again unless
    /// [`retry_non_idempotent`](EventSource::retry_non_idempotent) says so.
    ///
    /// # Examples
    ///
    /// An LLM-style stream: a `POST` with a JSON body and a token, resumed with the ID in
    /// the body, ended by `[DONE]`:
    ///
    /// ```
    /// use sse_pump::client::EventSource;
    /// # let fetch = |_: http::Request<String>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// let token = "sk-test".to_string();
    /// let source = EventSource::from_fn(fetch, move |last_event_id: &str| {
    ///     http::Request::post("http://127.0.0.1:8000/v1/chat")
    ///         .header("authorization", format!("Bearer {token}"))
    ///         .header("content-type", "application/json")
    ///         .body(format!(r#"{{"stream":true,"resume_after":"{last_event_id}"}}"#))
    /// })
    /// .retry_non_idempotent(true)
    /// .end_when(|event| event.data == "[DONE]");
    /// # drop(source);
    /// ```
    pub fn from_fn<M, E>(fetch: F, mut make_request: M) -> Self
    where
        M: FnMut(&str) -> Result<Request<Q>, E> + Send + 'static,
        E: Into<BoxError>,
    {
        let backoff = Backoff::default();
        EventSource {
            fetch,
            make_request: Box::new(move |id| make_request(id).map_err(Into::into)),
            retry_non_idempotent: false,
            end_when: None,
            sent: None,
            #[cfg(feature = "tracing")]
            uri: http::Uri::default(),
            rng: backoff.rng(),
            backoff,
            max_line_len: None,
            max_event_size: None,
            max_id_len: None,
            timeouts: Timeouts::default(),
            last_event_id: String::new(),
            retry: None,
            attempt: 0,
            opened_at: None,
            state: State::Idle,
        }
    }

    /// Sets the reconnection policy. Default: [`Backoff::default`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request)
    ///     .reconnect(sse_pump::client::Backoff::default().max_attempts(3));
    /// # drop(source);
    /// ```
    pub fn reconnect(mut self, backoff: Backoff) -> Self {
        self.rng = backoff.rng();
        self.backoff = backoff;
        self
    }

    /// Sends a request that is not idempotent (`POST`, `PATCH`: see
    /// [`Method::is_idempotent`]) again after a failure or the end of its stream. Off by
    /// default: the server may have acted on the request (charged for the tokens, posted
    /// the message), and the source cannot know. Off, such a source ends after its first
    /// connection: with `None` after a clean end, with [`Error::NotRetried`]
    /// after a failure (a timeout, a reset, a body cut short).
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// let request = http::Request::post("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request).retry_non_idempotent(true);
    /// # drop(source);
    /// ```
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }

    /// Ends the source after the first event for which `last` returns `true` (the event is
    /// yielded, then `None`), rather than reconnecting when the server ends the stream: an
    /// LLM's `data: [DONE]`, or an `event: end`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request)
    ///     .end_when(|event| event.data == "[DONE]");
    /// # drop(source);
    /// ```
    pub fn end_when(mut self, last: impl FnMut(&MessageEvent) -> bool + Send + 'static) -> Self {
        self.end_when = Some(Box::new(last));
        self
    }

    /// Sets the last event ID, for example one saved before a restart: the first request
    /// already carries it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request).with_last_event_id("41");
    /// assert_eq!(source.last_event_id(), "41");
    /// ```
    pub fn with_last_event_id(mut self, id: impl Into<String>) -> Self {
        self.last_event_id = id.into();
        self
    }

    /// The decoder's maximum line length (see [`Decoder::max_line_len`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request).max_line_len(64 * 1024);
    /// # drop(source);
    /// ```
    pub fn max_line_len(mut self, bytes: usize) -> Self {
        self.max_line_len = Some(bytes);
        self
    }

    /// The decoder's maximum event size (see [`Decoder::max_event_size`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request).max_event_size(1 << 20);
    /// # drop(source);
    /// ```
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = Some(bytes);
        self
    }

    /// A maximum `id:` length (see [`Decoder::max_id_len`]). Default: none but the line
    /// limit, as in browsers.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request).max_id_len(4096);
    /// # drop(source);
    /// ```
    pub fn max_id_len(mut self, bytes: usize) -> Self {
        self.max_id_len = Some(bytes);
        self
    }

    /// How long to wait for the response head, from the request (connecting included):
    /// past it the attempt fails with [`Error::ResponseTimeout`] and the source
    /// reconnects. Default 30 s.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request)
    ///     .response_timeout(std::time::Duration::from_secs(10));
    /// # drop(source);
    /// ```
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.response = timeout;
        self
    }

    /// How long an open stream may stay silent (no byte, not even a keep-alive comment):
    /// past it the connection is dropped with [`Error::IdleTimeout`] and the source
    /// reconnects. Default 45 s; keep it above the server's keep-alive interval.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request)
    ///     .idle_timeout(std::time::Duration::from_secs(90));
    /// # drop(source);
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.idle = timeout;
        self
    }

    /// How long a line may stay unfinished while bytes come (a server that trickles a byte
    /// now and then and never ends the line, which the idle timeout does not catch): past
    /// it the connection is dropped with [`Error::ProgressTimeout`] and the source reconnects.
    /// Default 60 s; keep it above the time your longest line takes to arrive.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request)
    ///     .progress_timeout(std::time::Duration::from_secs(20));
    /// # drop(source);
    /// ```
    pub fn progress_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.progress = timeout;
        self
    }

    /// How long the body of a rejection is read, for the body of [`Error::Rejected`]:
    /// past it the source yields the rejection with what arrived. Default 5 s.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request)
    ///     .rejection_timeout(std::time::Duration::from_secs(1));
    /// # drop(source);
    /// ```
    pub fn rejection_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.rejection = timeout;
        self
    }

    /// The current last event ID: the one to save, to resume after a restart.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let source = sse_pump::client::EventSource::new(fetch, request);
    /// assert_eq!(source.last_event_id(), "");
    /// ```
    pub fn last_event_id(&self) -> &str {
        match &self.state {
            State::Open(events) => events.decoder().last_event_id(),
            _ => &self.last_event_id,
        }
    }

    /// The reconnection time the server set with `retry:`, if it did.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// assert_eq!(sse_pump::client::EventSource::new(fetch, request).reconnection_time(), None);
    /// ```
    pub fn reconnection_time(&self) -> Option<Duration> {
        match &self.state {
            State::Open(events) => events.decoder().reconnection_time().or(self.retry),
            _ => self.retry,
        }
    }

    /// Stops the source: drops the connection or the pending attempt; the stream then
    /// yields `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// let mut source = sse_pump::client::EventSource::new(fetch, request);
    /// source.close();
    /// assert!(source.is_closed());
    /// assert!(futures_lite::future::block_on(source.next()).is_none());
    /// ```
    pub fn close(&mut self) {
        self.state = State::Done;
    }

    /// Whether the source has ended: closed, rejected, told to stop (204) or exhausted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<()>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// # let request = http::Request::get("http://example.com/events").body(()).unwrap();
    /// assert!(!sse_pump::client::EventSource::new(fetch, request).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Takes a one-shot builder's timeouts, decoder limits and end predicate.
    pub(super) fn with_settings(
        mut self,
        timeouts: Timeouts,
        decoder: &Decoder,
        end_when: Option<EndWhen>,
    ) -> Self {
        self.timeouts = timeouts;
        let (line, event, id) = decoder.limits();
        (self.max_line_len, self.max_event_size) = (Some(line), Some(event));
        self.max_id_len = Some(id);
        self.end_when = end_when;
        self
    }

    /// The request for the next attempt, and the last event ID if it could not go in it.
    fn request(&mut self) -> Result<(Request<Q>, Option<String>), BoxError> {
        let mut request = (self.make_request)(&self.last_event_id)?;
        let headers = request.headers_mut();
        let accept = HeaderValue::from_static("text/event-stream");
        headers.entry(header::ACCEPT).or_insert(accept);
        let no_store = HeaderValue::from_static("no-store");
        headers.entry(header::CACHE_CONTROL).or_insert(no_store);
        let last_id = header::HeaderName::from_static("last-event-id");
        if self.last_event_id.is_empty() || headers.contains_key(&last_id) {
            return Ok((request, None));
        }
        match header_value(&self.last_event_id) {
            Some(id) => {
                headers.insert(last_id, id);
                Ok((request, None))
            }
            None => Ok((request, Some(self.last_event_id.clone()))),
        }
    }

    /// A decoder for a new connection, with the limits and the last event ID.
    fn decoder(&self) -> Decoder {
        let mut decoder = Decoder::new();
        if let Some(bytes) = self.max_line_len {
            decoder = decoder.max_line_len(bytes);
        }
        if let Some(bytes) = self.max_event_size {
            decoder = decoder.max_event_size(bytes);
        }
        if let Some(bytes) = self.max_id_len {
            decoder = decoder.max_id_len(bytes);
        }
        decoder.with_last_event_id(self.last_event_id.clone())
    }
}

/// The ID as a header value that a server reads back unchanged: none for a control
/// character (not a header value) or a leading or trailing blank (trimmed by servers).
fn header_value(id: &str) -> Option<HeaderValue> {
    let blank = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    let bytes = id.as_bytes();
    if blank(bytes.first()) || blank(bytes.last()) {
        return None;
    }
    HeaderValue::from_bytes(bytes).ok()
}

/// The deadlines of an attempt.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeouts {
    pub(super) response: Duration,
    pub(super) idle: Duration,
    pub(super) progress: Duration,
    pub(super) rejection: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            response: Duration::from_secs(30),
            idle: Duration::from_secs(45),
            progress: Duration::from_secs(60),
            rejection: Duration::from_secs(5),
        }
    }
}

impl<F: Fetch<Q>, Q> fmt::Debug for EventSource<F, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSource")
            .field("sent", &self.sent)
            .field("last_event_id", &self.last_event_id())
            .field("attempt", &self.attempt)
            .field("state", &self.state.name())
            .finish()
    }
}
