//! SSE straight over a TCP connection, with no HTTP stack: read the request head
//! (httparse), answer with the SSE headers, pump. On smol's `TcpStream` (or any futures-io
//! stream) as it is; on tokio's through [`adapters::tokio`](super::tokio).

use std::{
    fmt,
    future::Future,
    io,
    pin::Pin,
    task::{ready, Context, Poll},
};

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::{LastEventIdError, PumpError, Report, Source, Sse};

/// The longest request head [`read_request`] accepts: 8 KiB.
pub const MAX_HEAD: usize = 8 * 1024;

/// Reads an HTTP/1.x request head from `stream`, for a server that answers with
/// [`respond`]. Reads no further than the head's end, so nothing is lost if the caller
/// goes on to read a body.
///
/// # Errors
///
/// [`RequestError`]: the connection failed or closed first, the head is malformed, or it
/// is larger than [`MAX_HEAD`].
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let mut wire = &b"GET /events?room=1 HTTP/1.1\r\nLast-Event-ID: 7\r\n\r\n"[..];
/// let request = sse_pump::adapters::raw::read_request(&mut wire).await?;
/// assert_eq!((request.method(), request.path()), ("GET", "/events?room=1"));
/// assert_eq!(request.last_event_id()?, Some("7"));
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub async fn read_request<R: AsyncRead + Unpin>(stream: &mut R) -> Result<Request, RequestError> {
    let mut head = Vec::with_capacity(512);
    let mut byte = [0];
    // One byte at a time, to stop exactly at the head's end: a head is small, and this
    // leaves whatever follows in the stream.
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() == MAX_HEAD {
            return Err(RequestError::TooLarge);
        }
        match stream.read(&mut byte).await? {
            0 => return Err(RequestError::Closed),
            _ => head.push(byte[0]),
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    parsed.parse(&head).map_err(malformed)?;
    Ok(Request {
        method: parsed.method.unwrap_or_default().to_owned(),
        path: parsed.path.unwrap_or_default().to_owned(),
        minor_version: parsed.version.unwrap_or_default(),
        headers: (parsed.headers.iter())
            .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
            .collect(),
    })
}

/// Writes the head of an SSE response (`200 OK` and the headers of
/// [`response`](crate::response), with `Connection: close`: the stream ends when the
/// connection does), then pumps `sse` into `stream`.
///
/// It also reads `stream` while streaming, so that a client that closes its side ends the
/// stream at once, idle or not, rather than at the next write that fails (on Linux the
/// second one after the close). Bytes the client sends meanwhile are read and dropped.
///
/// # Errors
///
/// As [`Sse::pump`]; the head is written as the stream's first frame, so it counts in the
/// report's bytes, and a failure to write it is a disconnect.
///
/// # Examples
///
/// ```
/// use futures_lite::AsyncReadExt;
/// # smol::block_on(async {
/// let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
/// let mut client = smol::net::TcpStream::connect(listener.local_addr()?).await?;
/// let (server, _) = listener.accept().await?;
///
/// let (tx, rx) = sse_pump::channel(4);
/// tx.send(sse_pump::Event::new().data("hi")).await?;
/// drop(tx);
/// sse_pump::adapters::raw::respond(server, sse_pump::Sse::new(rx)).await?;
///
/// let mut wire = String::new();
/// client.read_to_string(&mut wire).await?;
/// assert!(wire.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(wire.contains("content-type: text/event-stream; charset=utf-8\r\n"));
/// assert!(wire.ends_with("\r\n\r\ndata: hi\n\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
// Not an `async fn`: the future is the pump's own, with no wrapper around it.
pub fn respond<S, T>(stream: T, mut sse: Sse<S>) -> impl Future<Output = Result<Report, PumpError>>
where
    S: Source,
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
    for (name, value) in super::HEADERS {
        head.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    head.extend_from_slice(b"connection: close\r\n\r\n");
    sse.config.head = Some(head);
    let (reader, writer) = futures_lite::io::split(stream);
    sse.pump_until(writer, Hangup { reader })
}

/// Resolves when the client's side of the connection ends or fails; what the client sends
/// meanwhile is read and dropped. A plain struct, 8 bytes in the stream's future.
struct Hangup<R> {
    reader: R,
}

impl<R: AsyncRead + Unpin> Future for Hangup<R> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut sink = [0; 64];
        loop {
            match ready!(Pin::new(&mut self.reader).poll_read(cx, &mut sink)) {
                Ok(0) | Err(_) => return Poll::Ready(()),
                Ok(_) => {}
            }
        }
    }
}

/// A request head read by [`read_request`].
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let mut wire = &b"GET / HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n"[..];
/// let request = sse_pump::adapters::raw::read_request(&mut wire).await?;
/// assert_eq!(request.header("accept"), Some(&b"text/event-stream"[..]));
/// assert_eq!(request.minor_version(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Request {
    method: String,
    path: String,
    minor_version: u8,
    headers: Vec<(String, Vec<u8>)>,
}

impl Request {
    /// The method, as sent: `GET`.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let request = sse_pump::adapters::raw::read_request(&mut &b"GET / HTTP/1.1\r\n\r\n"[..]).await?;
    /// assert_eq!(request.method(), "GET");
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request target, query included: `/events?room=1`.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let request = sse_pump::adapters::raw::read_request(&mut &b"GET /a?b HTTP/1.1\r\n\r\n"[..]).await?;
    /// assert_eq!(request.path(), "/a?b");
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let request = sse_pump::adapters::raw::read_request(&mut &b"GET / HTTP/1.1\r\n\r\n"[..]).await?;
    /// assert_eq!(request.minor_version(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn minor_version(&self) -> u8 {
        self.minor_version
    }

    /// The value of the first header called `name` (in lower case).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let request = sse_pump::adapters::raw::read_request(&mut &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..]).await?;
    /// assert_eq!(request.header("host"), Some(&b"x"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers(name).next()
    }

    fn headers<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        (self.headers.iter())
            .filter(move |(n, _)| n == name)
            .map(|(_, value)| &value[..])
    }

    /// The `Last-Event-ID` header, checked as [`last_event_id`](crate::last_event_id)
    /// checks it.
    ///
    /// # Errors
    ///
    /// A [`LastEventIdError`] for a header too long, not UTF-8, with a NUL, or repeated.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let request = sse_pump::adapters::raw::read_request(&mut &b"GET / HTTP/1.1\r\n\r\n"[..]).await?;
    /// assert_eq!(request.last_event_id()?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn last_event_id(&self) -> Result<Option<&str>, LastEventIdError> {
        super::last_event_id::check(self.headers("last-event-id"))
    }
}

/// Why [`read_request`] failed.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// use sse_pump::adapters::raw::{read_request, RequestError};
/// let error = read_request(&mut &b"GET / HTTP/1.1\r\n"[..]).await.unwrap_err();
/// assert!(matches!(error, RequestError::Closed));
/// # });
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum RequestError {
    /// Reading failed.
    Io(io::Error),
    /// The connection closed before the head's end.
    Closed,
    /// The head is larger than [`MAX_HEAD`].
    TooLarge,
    /// The head is not HTTP/1.x; says which part was wrong (`"header name"`, `"version"`,
    /// ...).
    Malformed(&'static str),
}

/// httparse's error as ours: which part of the head was wrong.
fn malformed(error: httparse::Error) -> RequestError {
    RequestError::Malformed(match error {
        httparse::Error::HeaderName => "header name",
        httparse::Error::HeaderValue => "header value",
        httparse::Error::NewLine => "line ending",
        httparse::Error::Status => "status",
        httparse::Error::Token => "token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "version",
    })
}

impl From<io::Error> for RequestError {
    fn from(error: io::Error) -> Self {
        RequestError::Io(error)
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Io(_) => f.write_str("reading the request failed"),
            RequestError::Closed => f.write_str("connection closed before the request's end"),
            RequestError::TooLarge => write!(f, "request head larger than {MAX_HEAD} bytes"),
            RequestError::Malformed(part) => write!(f, "malformed request: bad {part}"),
        }
    }
}

impl std::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RequestError::Io(error) => Some(error),
            _ => None,
        }
    }
}
