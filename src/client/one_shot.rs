//! One request, one stream: a `POST` with a JSON body and a token, answered by an event
//! stream (an LLM's tokens), read to its end with no reconnection.

use std::{
    fmt,
    pin::Pin,
    task::{ready, Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use futures_lite::{future, FutureExt, Stream};
use futures_timer::Delay;
use http::{header, HeaderName, HeaderValue, Method, Request, Uri};
use http_body::Body;

use super::{
    decode_body::{decode_body_with, DecodeBody},
    error::{BoxError, Error},
    event_source::{watched::Watched, EndWhen, Timeouts},
    rejecting::{is_event_stream, Rejecting},
    EventSource, Fetch,
};
use crate::decode::{DecodeError, Decoder, MessageEvent};

/// Starts a one-shot request with `method` to `uri`, sent with `fetch` (any [`Fetch`] of
/// `http::Request<Bytes>`): set headers and a body, then
/// [`send`](RequestBuilder::send) it and read the events. The stream is not reconnected
/// and the request never sent twice; for that, see
/// [`EventSource`](crate::client::EventSource).
///
/// # Examples
///
/// ```
/// use sse_pump::client;
/// # let fetch = |_: http::Request<bytes::Bytes>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
/// let pending = client::request(&fetch, http::Method::PUT, "http://127.0.0.1:8000/jobs/7")
///     .body("{}");
/// # drop(pending);
/// ```
pub fn request<F, U>(fetch: F, method: Method, uri: U) -> RequestBuilder<F>
where
    Uri: TryFrom<U>,
    <Uri as TryFrom<U>>::Error: Into<http::Error>,
{
    RequestBuilder {
        fetch,
        head: Request::builder().method(method).uri(uri),
        body: Bytes::new(),
        error: None,
        timeouts: Timeouts::default(),
        decoder: Decoder::new(),
        end_when: None,
    }
}

/// [`request`] with `GET`.
///
/// # Examples
///
/// ```
/// # let fetch = |_: http::Request<bytes::Bytes>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
/// let pending = sse_pump::client::get(&fetch, "http://127.0.0.1:8000/events");
/// # drop(pending);
/// ```
pub fn get<F, U>(fetch: F, uri: U) -> RequestBuilder<F>
where
    Uri: TryFrom<U>,
    <Uri as TryFrom<U>>::Error: Into<http::Error>,
{
    request(fetch, Method::GET, uri)
}

/// [`request`] with `POST`: the usual way to an LLM's token stream.
///
/// # Examples
///
/// ```no_run
/// use futures_lite::StreamExt;
/// # #[allow(dead_code)]
/// # async fn run(fetch: impl Fn(http::Request<bytes::Bytes>) -> std::future::Ready<Result<http::Response<http_body_util::Full<bytes::Bytes>>, std::io::Error>>) -> Result<(), Box<dyn std::error::Error>> {
/// // `fetch` sends an `http::Request<Bytes>` with your client (hyper-util, reqwest, ...).
/// let mut events = sse_pump::client::post(&fetch, "https://api.example.com/v1/chat/completions")
///     .bearer_auth("sk-...")
///     .header("content-type", "application/json")
///     .body(r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
///     .send()
///     .await?; // status and content type checked; a rejection carries status, headers, body
/// while let Some(event) = events.next().await {
///     let event = event?; // a stream cut short is an error; a clean end is `None`
///     if event.data == "[DONE]" {
///         break;
///     }
///     println!("{}", event.data);
/// }
/// # Ok(()) }
/// ```
pub fn post<F, U>(fetch: F, uri: U) -> RequestBuilder<F>
where
    Uri: TryFrom<U>,
    <Uri as TryFrom<U>>::Error: Into<http::Error>,
{
    request(fetch, Method::POST, uri)
}

/// A one-shot request being built: see [`request`], [`get`] and [`post`].
///
/// Like `http`'s builder, a setter never fails: the first invalid header or body is kept
/// and [`send`](RequestBuilder::send) returns it as [`Error::Request`](Error::Request), sending nothing.
#[must_use = "a request does nothing until sent"]
pub struct RequestBuilder<F> {
    fetch: F,
    head: http::request::Builder,
    body: Bytes,
    error: Option<BoxError>,
    timeouts: Timeouts,
    decoder: Decoder,
    end_when: Option<EndWhen>,
}

impl<F> RequestBuilder<F> {
    /// Adds a header (`append`: a name may repeat).
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<bytes::Bytes>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// let pending = sse_pump::client::post(&fetch, "http://127.0.0.1:8000/v1/chat")
    ///     .header("x-request-id", "42");
    /// # drop(pending);
    /// ```
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.head = self.head.header(name, value);
        self
    }

    /// Sets `Authorization: Bearer <token>`, marked sensitive (clients and logs that honour
    /// [`HeaderValue::set_sensitive`] keep it out of their output).
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<bytes::Bytes>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// let pending = sse_pump::client::post(&fetch, "http://127.0.0.1:8000/v1/chat").bearer_auth("sk-test");
    /// # drop(pending);
    /// ```
    pub fn bearer_auth(mut self, token: impl fmt::Display) -> Self {
        match HeaderValue::try_from(format!("Bearer {token}")) {
            Ok(mut value) => {
                value.set_sensitive(true);
                self.head = self.head.header(header::AUTHORIZATION, value);
            }
            Err(e) => self.fail(e),
        }
        self
    }

    /// Sets the body.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<bytes::Bytes>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// let pending = sse_pump::client::post(&fetch, "http://127.0.0.1:8000/v1/chat").body("prompt");
    /// # drop(pending);
    /// ```
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the body to `value` as JSON, and `Content-Type: application/json` unless a
    /// content type was set. A value that cannot be JSON is kept as the error of
    /// [`send`](RequestBuilder::send).
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<bytes::Bytes>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// let request = serde_json::json!({ "model": "m", "stream": true });
    /// let pending = sse_pump::client::post(&fetch, "http://127.0.0.1:8000/v1/chat").json(&request);
    /// # drop(pending);
    /// ```
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => self.body = body.into(),
            Err(e) => self.fail(e),
        }
        let typed = (self.head.headers_ref()).is_some_and(|h| h.contains_key(header::CONTENT_TYPE));
        if !typed {
            self.head = self.head.header(header::CONTENT_TYPE, "application/json");
        }
        self
    }

    /// How long to wait for the response head, connecting included: past it,
    /// [`Error::ResponseTimeout`](Error::ResponseTimeout). Default 30 s.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<bytes::Bytes>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// let pending = sse_pump::client::get(&fetch, "http://127.0.0.1:8000/events")
    ///     .response_timeout(std::time::Duration::from_secs(10));
    /// # drop(pending);
    /// ```
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.response = timeout;
        self
    }

    /// How long the open stream may stay silent (not a byte): past it the stream yields a
    /// [`Error::IdleTimeout`], then ends.
    /// Default 45 s; an LLM that thinks long before its first token may need more.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<bytes::Bytes>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// let pending = sse_pump::client::get(&fetch, "http://127.0.0.1:8000/events")
    ///     .idle_timeout(std::time::Duration::from_secs(120));
    /// # drop(pending);
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.idle = timeout;
        self
    }

    /// How long a line may stay unfinished while bytes come (a server that trickles a byte
    /// now and then and never ends the line): past it the stream yields a
    /// [`Error::ProgressTimeout`], then ends. Default 60 s.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<bytes::Bytes>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// let pending = sse_pump::client::get(&fetch, "http://127.0.0.1:8000/events")
    ///     .progress_timeout(std::time::Duration::from_secs(20));
    /// # drop(pending);
    /// ```
    pub fn progress_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.progress = timeout;
        self
    }

    /// Ends the stream after the first event for which `last` returns `true`: that event
    /// is yielded, then `None`, and the connection is dropped, whether or not the server
    /// closes it (an LLM's `data: [DONE]`, or an `event: end`).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// let fetch = |_: http::Request<bytes::Bytes>| async {
    ///     let body = http_body_util::Full::new(bytes::Bytes::from("data: t\n\ndata: [DONE]\n\ndata: never\n\n"));
    ///     http::Response::builder().header("content-type", "text/event-stream").body(body)
    /// };
    /// # futures_lite::future::block_on(async {
    /// let events = sse_pump::client::post(&fetch, "http://127.0.0.1:8000/v1/chat")
    ///     .end_when(|event| event.data == "[DONE]")
    ///     .send()
    ///     .await?;
    /// let data: Vec<String> = events.map(|e| e.map(|e| e.data.into())).try_collect().await?;
    /// assert_eq!(data, ["t", "[DONE]"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn end_when(mut self, last: impl FnMut(&MessageEvent) -> bool + Send + 'static) -> Self {
        self.end_when = Some(Box::new(last));
        self
    }

    /// How long a rejection's body is read (at most
    /// [`Error::BODY_LIMIT`](Error::BODY_LIMIT) bytes): past it,
    /// [`Error::Rejected`] with what arrived. Default 5 s.
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<bytes::Bytes>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// let pending = sse_pump::client::get(&fetch, "http://127.0.0.1:8000/events")
    ///     .rejection_timeout(std::time::Duration::from_secs(1));
    /// # drop(pending);
    /// ```
    pub fn rejection_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.rejection = timeout;
        self
    }

    /// The decoder to read the stream with (its limits).
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<bytes::Bytes>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// let pending = sse_pump::client::get(&fetch, "http://127.0.0.1:8000/events")
    ///     .decoder(sse_pump::Decoder::new().max_event_size(1 << 20));
    /// # drop(pending);
    /// ```
    pub fn decoder(mut self, decoder: Decoder) -> Self {
        self.decoder = decoder;
        self
    }

    /// Keeps the first error.
    fn fail(&mut self, error: impl Into<BoxError>) {
        self.error.get_or_insert(error.into());
    }

    /// The request, with `Accept: text/event-stream` unless one was set, and the rest.
    pub(super) fn build(self) -> Result<(Request<Bytes>, Settings<F>), Error> {
        if let Some(e) = self.error {
            return Err(Error::Request(e));
        }
        let mut request = self
            .head
            .body(self.body)
            .map_err(|e| Error::Request(e.into()))?;
        let accept = HeaderValue::from_static("text/event-stream");
        request
            .headers_mut()
            .entry(header::ACCEPT)
            .or_insert(accept);
        let settings = Settings {
            fetch: self.fetch,
            timeouts: self.timeouts,
            decoder: self.decoder,
            end_when: self.end_when,
        };
        Ok((request, settings))
    }

    /// The same request as a reconnecting [`EventSource`]: sent again after a failure or
    /// the end of its stream (each attempt a copy of the request, with the last event ID
    /// as `Last-Event-ID`), with this builder's timeouts, decoder limits, last event ID
    /// and [`end_when`](RequestBuilder::end_when). A `POST` is still not sent again without
    /// [`retry_non_idempotent`](EventSource::retry_non_idempotent): resuming is the
    /// server's promise, not the client's to assume.
    ///
    /// # Errors
    ///
    /// [`Error::Request`](Error::Request): the request could not be built (nothing is sent).
    ///
    /// # Examples
    ///
    /// ```
    /// # let fetch = |_: http::Request<bytes::Bytes>| async { Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other("offline")) };
    /// let source = sse_pump::client::post(&fetch, "http://127.0.0.1:8000/v1/chat")
    ///     .bearer_auth("sk-test")
    ///     .body(r#"{"stream":true}"#)
    ///     .end_when(|event| event.data == "[DONE]")
    ///     .resumable()?
    ///     .retry_non_idempotent(true);
    /// # drop(source);
    /// # Ok::<(), sse_pump::client::Error>(())
    /// ```
    pub fn resumable(self) -> Result<EventSource<F, Bytes>, Error>
    where
        F: Fetch<Bytes>,
    {
        let (request, settings) = self.build()?;
        let last_event_id = settings.decoder.last_event_id().to_owned();
        let source = EventSource::new(settings.fetch, request)
            .with_settings(settings.timeouts, &settings.decoder, settings.end_when)
            .with_last_event_id(last_event_id);
        Ok(source)
    }

    /// Sends the request and checks the response: status 200 with content type
    /// `text/event-stream` opens the stream (204 opens an empty one); anything else is
    /// [`Error::Rejected`]. See [`post`] for a stream read to its end.
    ///
    /// # Errors
    ///
    /// [`Error::Request`]: the request could not be built; [`Error::Transport`]: the client
    /// failed; [`Error::ResponseTimeout`]: no head came in time; [`Error::Rejected`]: the
    /// server rejected the request.
    ///
    /// # Examples
    ///
    /// Servers answered by a closure, to run without a network:
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use http_body_util::Full;
    /// use sse_pump::client::Error;
    ///
    /// let answer = |status: u16, body: &'static str| {
    ///     move |_: http::Request<bytes::Bytes>| async move {
    ///         http::Response::builder().status(status).body(Full::new(bytes::Bytes::from(body)))
    ///     }
    /// };
    /// # futures_lite::future::block_on(async {
    /// let over = answer(204, "");
    /// let mut events = sse_pump::client::post(&over, "http://example.com/chat").send().await?;
    /// assert!(events.next().await.is_none()); // 204: nothing to stream
    ///
    /// let busy = answer(503, "overloaded");
    /// let sent = sse_pump::client::post(&busy, "http://example.com/chat").send().await;
    /// let Err(Error::Rejected { status, body, .. }) = sent else { panic!() };
    /// assert_eq!((status.as_u16(), &body[..]), (503, &b"overloaded"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn send(self) -> Result<Events<F::Body>, Error>
    where
        F: Fetch<Bytes>,
    {
        let (request, settings) = self.build()?;
        let Settings {
            mut fetch,
            timeouts,
            decoder,
            end_when,
        } = settings;
        let answer = async { Some(fetch.fetch(request).await) };
        let deadline = async {
            Delay::new(timeouts.response).await;
            None
        };
        let response = match answer.or(deadline).await {
            None => return Err(Error::ResponseTimeout(timeouts.response)),
            Some(Err(e)) => return Err(Error::Transport(e.into())),
            Some(Ok(response)) => response,
        };
        let (parts, body) = response.into_parts();
        let open = parts.status == http::StatusCode::OK && is_event_stream(&parts.headers);
        if open || parts.status == http::StatusCode::NO_CONTENT {
            let events = decode_body_with(decoder, Watched::new(body, timeouts));
            return Ok(Events {
                events: Some(Box::pin(events)),
                end_when,
                last_event_id: String::new(),
            });
        }
        let mut rejecting = Rejecting::new(parts, body, timeouts.rejection);
        Err(future::poll_fn(|cx| rejecting.poll_collect(cx)).await)
    }
}

impl<F> fmt::Debug for RequestBuilder<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.head.method_ref())
            .field("uri", &self.head.uri_ref())
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The events of a one-shot stream (see [`post`]): a `Stream` of
/// `Result<`[`MessageEvent`]`, `[`Error`]`>`.
///
/// `None` is the server's clean end, or the end after the
/// [`end_when`](RequestBuilder::end_when) event. A stream cut short (a reset, a chunked
/// body without its last chunk, an HTTP/2 reset), silent past the idle timeout or stuck
/// in a line past the progress timeout yields [`Error::Transport`],
/// [`Error::IdleTimeout`] or [`Error::ProgressTimeout`], then `None`. An event over the
/// decoder's limits is an [`Error::Decode`] and the stream goes on.
#[must_use = "streams do nothing unless polled"]
pub struct Events<B: Body<Error: Into<BoxError>>> {
    /// The body being decoded; dropped (the connection with it) after the last event.
    events: Option<Pin<Box<DecodeBody<Watched<B>>>>>,
    end_when: Option<EndWhen>,
    /// The last event ID, kept when the body is dropped.
    last_event_id: String,
}

/// What [`RequestBuilder::build`] hands on besides the request.
pub(super) struct Settings<F> {
    pub(super) fetch: F,
    pub(super) timeouts: Timeouts,
    pub(super) decoder: Decoder,
    pub(super) end_when: Option<EndWhen>,
}

impl<B: Body<Error: Into<BoxError>>> Events<B> {
    /// The last event ID seen, to resume with if the API allows it.
    ///
    /// # Examples
    ///
    /// A server answered by a closure, to run without a network:
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use http_body_util::Full;
    ///
    /// let fetch = |_: http::Request<bytes::Bytes>| async {
    ///     let body = Full::new(bytes::Bytes::from("id: 7\ndata: t7\n\n"));
    ///     http::Response::builder().header("content-type", "text/event-stream").body(body)
    /// };
    /// # futures_lite::future::block_on(async {
    /// let mut events = sse_pump::client::get(&fetch, "http://example.com/events").send().await?;
    /// assert_eq!(events.next().await.unwrap()?.data, "t7");
    /// assert_eq!(events.last_event_id(), "7");
    /// assert!(events.next().await.is_none()); // the clean end
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn last_event_id(&self) -> &str {
        match &self.events {
            Some(events) => events.decoder().last_event_id(),
            None => &self.last_event_id,
        }
    }

    /// Drops the body (and the connection) after the last event, keeping its ID.
    fn end(&mut self) {
        if let Some(events) = self.events.take() {
            self.last_event_id = events.decoder().last_event_id().to_owned();
        }
    }
}

impl<B> Stream for Events<B>
where
    B: Body<Error: Into<BoxError>>,
{
    type Item = Result<MessageEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(events) = &mut this.events else {
            return Poll::Ready(None);
        };
        let item = match ready!(events.as_mut().poll_next(cx)) {
            Some(Ok(event)) => {
                if this.end_when.as_mut().is_some_and(|last| last(&event)) {
                    this.end();
                }
                Ok(event)
            }
            Some(Err(e)) => Err(failed(this, e)),
            None => {
                this.end();
                return Poll::Ready(None);
            }
        };
        Poll::Ready(Some(item))
    }
}

/// The error of a failed read: a broken limit (the stream goes on), or the end.
fn failed<B: Body<Error: Into<BoxError>>>(
    events: &mut Events<B>,
    e: DecodeError<BoxError>,
) -> Error {
    e.into_limit().map_or_else(
        |e| {
            events.end();
            Error::transport(e)
        },
        Error::Decode,
    )
}

impl<B: Body<Error: Into<BoxError>>> fmt::Debug for Events<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("body", &std::any::type_name::<B>())
            .finish()
    }
}
