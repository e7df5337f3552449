//! The blocking client: the one-shot [`RequestBuilder`] sent over a `std::net::TcpStream`,
//! with the same checks and deadlines as the async client, for scripts and tests without
//! a runtime.

use std::{
    fmt,
    io::{self, BufRead, BufReader, Read, Write},
    net::{TcpStream, ToSocketAddrs},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};

use super::{
    error::{BoxError, Error},
    event_source::{watched::Progress, EndWhen},
    one_shot::Settings,
    rejecting::is_event_stream,
    RequestBuilder,
};
use crate::decode::{Decoder, MessageEvent};

/// The longest response head read: 64 KiB.
const MAX_HEAD: usize = 64 << 10;
/// The longest chunk-size or trailer line read.
const MAX_CHUNK_LINE: usize = 4 << 10;

/// The blocking HTTP/1.1 client: give it to [`client::request`](crate::client::request),
/// [`get`](crate::client::get) or [`post`](crate::client::post) in place of an async
/// fetch, then [`send_blocking`](RequestBuilder::send_blocking). Plain `http://` only
/// (no TLS), one connection per request (`Connection: close`).
///
/// # Examples
///
/// ```no_run
/// use sse_pump::client::{self, blocking};
///
/// let events = client::post(blocking::Client, "http://127.0.0.1:8000/v1/chat")
///     .bearer_auth("sk-test")
///     .body(r#"{"stream":true}"#)
///     .end_when(|event| event.data == "[DONE]")
///     .send_blocking()?; // not 200 + text/event-stream: client::Error::Rejected
/// for event in events {
///     println!("{}", event?.data); // a stream cut short or stalled is an error
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Client;

impl RequestBuilder<Client> {
    /// Sends the request with the blocking [`Client`] and checks the response as
    /// [`send`](RequestBuilder::send) does: status 200 with content type
    /// `text/event-stream` opens the stream (204 an empty one); anything else is
    /// [`Error::Rejected`] with the status, the headers and the start of the body.
    /// Connecting and the response head are under the response timeout; the open stream
    /// under the idle and progress timeouts; a rejection's body under the rejection
    /// timeout.
    ///
    /// # Errors
    ///
    /// [`Error::Request`]: the request could not be built (an `https` URL among them);
    /// [`Error::Transport`]: the connection failed; [`Error::ResponseTimeout`]: no head
    /// came in time; [`Error::Rejected`]: the server rejected the request.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::client::{self, blocking, Error};
    ///
    /// let sent = client::get(blocking::Client, "https://example.com/events").send_blocking();
    /// assert!(matches!(sent, Err(Error::Request(_)))); // no TLS: nothing is sent
    /// ```
    pub fn send_blocking(self) -> Result<Events, Error> {
        let (request, settings) = self.build()?;
        let Settings {
            timeouts,
            decoder,
            end_when,
            ..
        } = settings;
        let (status, headers, body) = open(&request, timeouts.response)?;
        let open = status == StatusCode::OK && is_event_stream(&headers);
        if open || status == StatusCode::NO_CONTENT {
            return Ok(Events {
                body: body.filter(|_| open),
                decoder,
                progress: Progress::new(timeouts.progress),
                idle: timeouts.idle,
                end_when,
                buf: vec![0; 16 << 10].into_boxed_slice(),
            });
        }
        let deadline = Instant::now() + timeouts.rejection;
        let body = body.map_or_else(Vec::new, |body| body.collect(deadline));
        Err(Error::Rejected {
            status,
            headers: Box::new(headers),
            body: body.into(),
        })
    }
}

/// Connects, sends the request and reads the response head, all within `timeout`.
fn open(
    request: &Request<Bytes>,
    timeout: Duration,
) -> Result<(StatusCode, HeaderMap, Option<Body>), Error> {
    let deadline = Instant::now() + timeout;
    let target = Target::of(request).map_err(Error::Request)?;
    let failed = |e: io::Error| match is_timeout(&e) {
        true => Error::ResponseTimeout(timeout),
        false => Error::Transport(e.into()),
    };
    let stream = connect(&target, deadline).map_err(failed)?;
    let write_timeout = remaining(deadline).map_err(failed)?;
    stream
        .set_write_timeout(Some(write_timeout))
        .map_err(failed)?;
    (&stream)
        .write_all(&head(request, &target))
        .map_err(failed)?;
    (&stream).write_all(request.body()).map_err(failed)?;
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader, deadline).map_err(failed)?;
    let framing = Framing::of(request.method(), status, &headers);
    Ok((
        status,
        headers,
        framing.map(|framing| Body { reader, framing }),
    ))
}

/// Where a request goes.
struct Target {
    /// `host:port`, to connect to.
    addr: String,
    /// The `Host` header.
    host: String,
    /// The request target: the path and query.
    path: String,
}

impl Target {
    fn of(request: &Request<Bytes>) -> Result<Target, BoxError> {
        let uri = request.uri();
        if uri.scheme_str().is_some_and(|scheme| scheme != "http") {
            return Err(format!("the blocking client speaks plain http, not {uri}").into());
        }
        let authority = uri.authority().ok_or("the URL has no host")?;
        let port = authority.port_u16().unwrap_or(80);
        Ok(Target {
            addr: format!("{}:{port}", authority.host()),
            host: authority.as_str().to_owned(),
            path: uri.path_and_query().map_or("/", |p| p.as_str()).to_owned(),
        })
    }
}

/// A connection to the first address of `target` that answers before `deadline`.
fn connect(target: &Target, deadline: Instant) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    for addr in target.addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, remaining(deadline)?) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The request head: the request's headers, then `Host`, `Content-Length` and
/// `Connection: close` unless set.
fn head(request: &Request<Bytes>, target: &Target) -> Vec<u8> {
    let mut headers = request.headers().clone();
    let mut add = |name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.entry(name).or_insert(value);
        }
    };
    add(http::header::HOST, &target.host);
    add(
        http::header::CONTENT_LENGTH,
        &request.body().len().to_string(),
    );
    add(http::header::CONNECTION, "close");
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method(), target.path).into_bytes();
    for (name, value) in &headers {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// Reads and parses the response head (interim 1xx responses skipped).
fn read_head(
    reader: &mut BufReader<TcpStream>,
    deadline: Instant,
) -> io::Result<(StatusCode, HeaderMap)> {
    loop {
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
            read_line(reader, &mut head, MAX_HEAD, deadline)?;
        }
        let mut parsed = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut parsed);
        response.parse(&head).map_err(io::Error::other)?;
        let status = StatusCode::from_u16(response.code.unwrap_or(0)).map_err(io::Error::other)?;
        if status.is_informational() {
            continue;
        }
        let mut headers = HeaderMap::new();
        for header in response.headers.iter() {
            let name = HeaderName::from_bytes(header.name.as_bytes());
            let value = HeaderValue::from_bytes(header.value);
            if let (Ok(name), Ok(value)) = (name, value) {
                headers.append(name, value);
            }
        }
        return Ok((status, headers));
    }
}

/// Appends one line (through its LF) to `line`, which may hold at most `limit` bytes.
fn read_line(
    reader: &mut BufReader<TcpStream>,
    line: &mut Vec<u8>,
    limit: usize,
    deadline: Instant,
) -> io::Result<()> {
    loop {
        reader
            .get_ref()
            .set_read_timeout(Some(remaining(deadline)?))?;
        let buffered = reader.fill_buf()?;
        if buffered.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let (take, done) = match memchr::memchr(b'\n', buffered) {
            Some(at) => (at + 1, true),
            None => (buffered.len(), false),
        };
        if line.len() + take > limit {
            return Err(io::Error::other(
                "a response head or chunk line is too long",
            ));
        }
        line.extend_from_slice(&buffered[..take]);
        reader.consume(take);
        if done {
            return Ok(());
        }
    }
}

/// The time left before `deadline` (at least 1 ms: zero means no timeout to std), or a
/// `TimedOut` error once it passed.
fn remaining(deadline: Instant) -> io::Result<Duration> {
    match deadline.checked_duration_since(Instant::now()) {
        Some(left) if !left.is_zero() => Ok(left.max(Duration::from_millis(1))),
        _ => Err(io::ErrorKind::TimedOut.into()),
    }
}

/// Whether a read or connect ran out of time (`WouldBlock` on Unix, `TimedOut` elsewhere).
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// How the body's end is told.
enum Framing {
    /// `Content-Length`: the bytes left.
    Length(u64),
    /// `Transfer-Encoding: chunked`: the bytes left of the current chunk, and whether a
    /// chunk was read (its CRLF is due before the next size line).
    Chunked { left: u64, started: bool },
    /// The end of the connection.
    Close,
    /// The body ended.
    Done,
}

impl Framing {
    /// The framing of a response, or `None` if it has no body.
    fn of(method: &http::Method, status: StatusCode, headers: &HeaderMap) -> Option<Framing> {
        let bodiless = status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
        if method == http::Method::HEAD || bodiless {
            return None;
        }
        let chunked = (headers.get_all(http::header::TRANSFER_ENCODING).iter()).any(|v| {
            v.to_str()
                .is_ok_and(|v| v.to_ascii_lowercase().contains("chunked"))
        });
        if chunked {
            return Some(Framing::Chunked {
                left: 0,
                started: false,
            });
        }
        let length = headers.get(http::header::CONTENT_LENGTH);
        match length.and_then(|v| v.to_str().ok()?.trim().parse().ok()) {
            Some(length) => Some(Framing::Length(length)),
            None => Some(Framing::Close),
        }
    }
}

/// A response body being read.
struct Body {
    reader: BufReader<TcpStream>,
    framing: Framing,
}

impl Body {
    /// Reads some of the body, waiting until `deadline` at most: `Ok(0)` at its end, an
    /// `UnexpectedEof` error for a body cut short.
    fn read(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
        loop {
            let left = match &mut self.framing {
                Framing::Done => return Ok(0),
                Framing::Close => {
                    self.reader
                        .get_ref()
                        .set_read_timeout(Some(remaining(deadline)?))?;
                    return self.reader.read(buf);
                }
                Framing::Length(left) => *left,
                Framing::Chunked { left: 0, started } => {
                    let started = std::mem::replace(started, true);
                    self.next_chunk(started, deadline)?;
                    continue;
                }
                Framing::Chunked { left, .. } => *left,
            };
            if left == 0 {
                self.framing = Framing::Done;
                continue;
            }
            return self.read_some(buf, left, deadline);
        }
    }

    /// Reads up to `left` bytes of the body's data.
    fn read_some(&mut self, buf: &mut [u8], left: u64, deadline: Instant) -> io::Result<usize> {
        let max = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        self.reader
            .get_ref()
            .set_read_timeout(Some(remaining(deadline)?))?;
        let n = self.reader.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the body was cut short",
            ));
        }
        match &mut self.framing {
            Framing::Length(left) | Framing::Chunked { left, .. } => *left -= n as u64,
            _ => {}
        }
        Ok(n)
    }

    /// Reads the next chunk's size line (after the last chunk's CRLF); after the last
    /// chunk, the trailers, and the body is done.
    fn next_chunk(&mut self, started: bool, deadline: Instant) -> io::Result<()> {
        if started {
            let mut crlf = Vec::new();
            read_line(&mut self.reader, &mut crlf, 2, deadline)?;
        }
        let mut line = Vec::new();
        read_line(&mut self.reader, &mut line, MAX_CHUNK_LINE, deadline)?;
        let size = match httparse::parse_chunk_size(&line) {
            Ok(httparse::Status::Complete((_, size))) => size,
            _ => return Err(io::Error::other("an invalid chunk size")),
        };
        if size > 0 {
            self.framing = Framing::Chunked {
                left: size,
                started: true,
            };
            return Ok(());
        }
        loop {
            let mut trailer = Vec::new();
            read_line(&mut self.reader, &mut trailer, MAX_CHUNK_LINE, deadline)?;
            if trailer == b"\r\n" || trailer == b"\n" {
                self.framing = Framing::Done;
                return Ok(());
            }
        }
    }

    /// The start of a rejected body: up to [`Error::BODY_LIMIT`] bytes, what arrived
    /// before `deadline`.
    fn collect(mut self, deadline: Instant) -> Vec<u8> {
        let mut body = vec![0; Error::BODY_LIMIT];
        let mut filled = 0;
        while filled < body.len() {
            match self.read(&mut body[filled..], deadline) {
                Ok(0) | Err(_) => break,
                Ok(n) => filled += n,
            }
        }
        body.truncate(filled);
        body
    }
}

/// The events of a stream opened by [`send_blocking`](RequestBuilder::send_blocking): an
/// `Iterator` of `Result<`[`MessageEvent`]`, `[`Error`]`>`,
/// as the async [`Events`](crate::client::Events) is a `Stream` of them.
///
/// `None` is the server's clean end, or the end after the
/// [`end_when`](RequestBuilder::end_when) event (the connection is then closed). A body
/// cut short, silent past the idle timeout or stuck in a line past the progress timeout
/// yields [`Error::Transport`], [`Error::IdleTimeout`] or [`Error::ProgressTimeout`], then
/// `None`. An event over the decoder's limits is an [`Error::Decode`] and the stream goes
/// on.
#[must_use = "iterators do nothing unless iterated"]
pub struct Events {
    /// The body; `None` once it ended (the connection closed with it).
    body: Option<Body>,
    decoder: Decoder,
    progress: Progress,
    idle: Duration,
    end_when: Option<EndWhen>,
    buf: Box<[u8]>,
}

impl Events {
    /// The last event ID seen, to resume with if the API allows it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use sse_pump::client::{self, blocking};
    /// let mut events = client::get(blocking::Client, "http://127.0.0.1:8000/events").send_blocking()?;
    /// let _first = events.next();
    /// println!("resume after {}", events.last_event_id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn last_event_id(&self) -> &str {
        self.decoder.last_event_id()
    }

    /// Reads the next piece of the body into the decoder: false at its clean end.
    fn fill(&mut self) -> Result<bool, Error> {
        let Some(body) = &mut self.body else {
            return Ok(false);
        };
        let idle = Instant::now() + self.idle;
        let deadline = self.progress.due().map_or(idle, |due| due.min(idle));
        match body.read(&mut self.buf, deadline) {
            Ok(0) => Ok(false),
            Ok(n) => {
                self.progress.saw_bytes(&self.buf[..n]);
                self.decoder.feed(&self.buf[..n]);
                Ok(true)
            }
            Err(e) if is_timeout(&e) => {
                let stalled = self.progress.due().is_some_and(|due| due <= Instant::now());
                Err(match stalled {
                    true => Error::ProgressTimeout(self.progress.limit),
                    false => Error::IdleTimeout(self.idle),
                })
            }
            Err(e) => Err(Error::Transport(e.into())),
        }
    }

    /// Closes the connection; the events left undispatched are dropped.
    fn end(&mut self) {
        self.body = None;
        self.decoder.finish();
    }
}

impl Iterator for Events {
    type Item = Result<MessageEvent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.decoder.next_event() {
                Ok(Some(event)) => {
                    if self.end_when.as_mut().is_some_and(|last| last(&event)) {
                        self.end();
                    }
                    return Some(Ok(event));
                }
                Err(e) => return Some(Err(Error::Decode(e))),
                Ok(None) => {}
            }
            match self.fill() {
                Ok(true) => {}
                Ok(false) => {
                    self.end();
                    return self
                        .decoder
                        .next_event()
                        .transpose()
                        .map(|r| r.map_err(Error::Decode));
                }
                Err(e) => {
                    self.end();
                    return Some(Err(e));
                }
            }
        }
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("open", &self.body.is_some())
            .field("decoder", &self.decoder)
            .finish()
    }
}
