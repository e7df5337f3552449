//! SSE straight over a TCP connection, with no HTTP stack: read the request head
//! (httparse), answer with the SSE headers, pump. On smol's `TcpStream` (or any futures-io
//! stream) as it is; on tokio's through [`adapters::tokio`](super::tokio).

use std::{
    future::Future,
    pin::Pin,
    task::{ready, Context, Poll},
    time::Duration,
};

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, FutureExt};
use futures_timer::Delay;

use super::request::{RequestError, HEAD_LIMIT};
use crate::deliver::{pump::Pump, PumpError, Report, Source, Sse};

/// The longest request head [`read_request`] accepts: 8 KiB.
pub const MAX_HEAD: usize = HEAD_LIMIT;

/// How long [`read_request`] waits for a complete head: 5 s. A client that connects and
/// sends nothing, or one byte a second, would otherwise hold a connection (and whatever
/// the server set aside for it) for ever.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// The most a client may send after its request head while [`respond`] streams: 64 KiB.
/// An event-stream client sends nothing; past this the connection is ended.
pub const MAX_AFTER_HEAD: usize = 64 * 1024;

/// Reads an HTTP/1.x request head from `stream`, for a server that answers with
/// [`respond`], within [`HEAD_TIMEOUT`]. Reads no further than the head's end, so nothing
/// is lost if the caller goes on to read a body.
///
/// # Errors
///
/// [`RequestError`]: the connection failed or closed first, the head is malformed or
/// incomplete (a blank line before any request line), it is larger than [`MAX_HEAD`], or
/// it took longer than [`HEAD_TIMEOUT`].
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
    read_request_within(stream, HEAD_TIMEOUT).await
}

/// [`read_request`] with another deadline than [`HEAD_TIMEOUT`]. The timer is
/// `futures-timer`'s, which needs no runtime.
///
/// # Errors
///
/// As [`read_request`], with [`RequestError::Timeout`] after `timeout`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_pump::{adapters::raw::read_request_within, RequestError};
/// # futures_lite::future::block_on(async {
/// let mut never = Never; // a client that connects and says nothing
/// let error = read_request_within(&mut never, Duration::from_millis(10)).await.unwrap_err();
/// assert!(matches!(error, RequestError::Timeout(_)));
/// # });
/// # struct Never;
/// # impl futures_lite::AsyncRead for Never {
/// #     fn poll_read(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>, _: &mut [u8])
/// #         -> std::task::Poll<std::io::Result<usize>> { std::task::Poll::Pending }
/// # }
/// ```
pub async fn read_request_within<R: AsyncRead + Unpin>(
    stream: &mut R,
    timeout: Duration,
) -> Result<Request, RequestError> {
    let expired = async {
        Delay::new(timeout).await;
        Err(RequestError::Timeout(timeout))
    };
    read_head(stream).or(expired).await
}

/// Reads and parses the head, with no deadline.
async fn read_head<R: AsyncRead + Unpin>(stream: &mut R) -> Result<Request, RequestError> {
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
    // Partial: httparse skips blank lines before the request line, so `\r\n\r\n` alone
    // is a head that never started.
    let httparse::Status::Complete(_) = parsed.parse(&head).map_err(malformed)? else {
        return Err(RequestError::Incomplete);
    };
    let (Some(method), Some(path), Some(minor_version)) =
        (parsed.method, parsed.path, parsed.version)
    else {
        return Err(RequestError::Incomplete);
    };
    Ok(Request {
        method: method.to_owned(),
        path: path.to_owned(),
        minor_version,
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
/// second one after the close). Bytes the client sends meanwhile are read and dropped, up
/// to [`MAX_AFTER_HEAD`] in all: past that the stream ends as if the client had left (an
/// event-stream client sends nothing, and one that floods must not take the thread from
/// its neighbours). Each read yields to the executor, however fast the bytes come.
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
pub fn respond<S, T>(stream: T, sse: Sse<S>) -> impl Future<Output = Result<Report, PumpError>>
where
    S: Source,
    T: AsyncRead + AsyncWrite + Unpin,
{
    let head = response_head(None);
    let (reader, writer) = futures_lite::io::split(stream);
    Pump::new(sse.into_frames(&head), writer, Hangup::new(reader))
}

/// The head of an SSE response; with `encoding`, its `Content-Encoding` and `Vary`.
fn response_head(encoding: Option<&str>) -> Vec<u8> {
    let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
    for (name, value) in super::HEADERS {
        let value = match (name, encoding) {
            ("content-encoding", Some(coding)) => coding,
            _ => value,
        };
        head.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if encoding.is_some() {
        head.extend_from_slice(b"vary: accept-encoding\r\n");
    }
    head.extend_from_slice(b"connection: close\r\n\r\n");
    head
}

/// How long [`respond_compressed`] waits to write the compressed stream's closing bytes
/// once the events have ended: 5 s.
#[cfg(feature = "compression")]
pub const FINISH_TIMEOUT: Duration = Duration::from_secs(5);

/// [`respond`], compressed with the coding `request` prefers
/// ([`Request::negotiate_encoding`]): `Content-Encoding` says which (and `identity` when
/// the client accepts none, or the process-wide budget of compressed streams is spent:
/// see [`set_max_streams`](super::compression::set_max_streams)), and `Vary:
/// accept-encoding`. Each frame is compressed and flushed at once, so no event waits for
/// the next; when the events end, the compressed stream is closed (gzip's trailer, the
/// last zstd block) within [`FINISH_TIMEOUT`], then the connection.
///
/// Mind the security caveat under [`CompressedBody`](crate::CompressedBody): do not
/// compress a stream that carries both a secret and data an attacker chooses.
///
/// # Errors
///
/// As [`respond`]; [`Error::Compression`](crate::Error::Compression) when the compressor
/// fails. Failing to write the closing bytes is no error: every event was delivered.
///
/// # Examples
///
/// ```
/// use std::io::Read;
/// use futures_lite::AsyncReadExt;
/// use sse_pump::adapters::raw::{read_request, respond_compressed};
/// # smol::block_on(async {
/// let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
/// let mut client = smol::net::TcpStream::connect(listener.local_addr()?).await?;
/// let (mut server, _) = listener.accept().await?;
/// futures_lite::AsyncWriteExt::write_all(&mut client, b"GET / HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n").await?;
///
/// let request = read_request(&mut server).await?;
/// let (tx, rx) = sse_pump::channel(4);
/// tx.send(sse_pump::Event::new().data("hi")).await?;
/// drop(tx);
/// respond_compressed(server, sse_pump::Sse::new(rx), &request).await?;
///
/// let mut wire = Vec::new();
/// client.read_to_end(&mut wire).await?;
/// let body = wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
/// assert!(String::from_utf8_lossy(&wire[..body]).contains("content-encoding: gzip\r\n"));
/// let mut text = String::new();
/// flate2::read::GzDecoder::new(&wire[body..]).read_to_string(&mut text)?;
/// assert_eq!(text, "data: hi\n\n");
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[cfg(feature = "compression")]
pub async fn respond_compressed<S, T>(
    stream: T,
    sse: Sse<S>,
    request: &Request,
) -> Result<Report, PumpError>
where
    S: Source,
    T: AsyncRead + AsyncWrite + Unpin,
{
    use super::compression::CompressedWriter;
    use futures_lite::AsyncWriteExt;

    let (reader, writer) = futures_lite::io::split(stream);
    let mut writer = CompressedWriter::new(writer, request.negotiate_encoding());
    let head = response_head(Some(writer.encoding().as_str()));
    writer.pass_through(head.len());
    let report = Pump::new(sse.into_frames(&head), &mut writer, Hangup::new(reader)).await?;
    let expired = async {
        Delay::new(FINISH_TIMEOUT).await;
        Ok(())
    };
    // The events are all delivered: a client gone before the trailer loses nothing.
    let _ = writer.close().or(expired).await;
    Ok(report)
}

/// Resolves when the client's side of the connection ends or fails, or once it sent more
/// than [`MAX_AFTER_HEAD`] bytes; what the client sends meanwhile is read and dropped.
struct Hangup<R> {
    reader: R,
    discarded: usize,
}

impl<R> Hangup<R> {
    fn new(reader: R) -> Self {
        Hangup {
            reader,
            discarded: 0,
        }
    }
}

impl<R: AsyncRead + Unpin> Future for Hangup<R> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut sink = [0; 64];
        match ready!(Pin::new(&mut self.reader).poll_read(cx, &mut sink)) {
            Ok(0) | Err(_) => Poll::Ready(()),
            Ok(n) => {
                self.discarded += n;
                if self.discarded > MAX_AFTER_HEAD {
                    return Poll::Ready(());
                }
                // One read per poll: a client whose bytes keep coming must not keep this
                // task, and the thread, from everyone else. Poll again after a yield.
                cx.waker().wake_by_ref();
                Poll::Pending
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

    /// The content coding the client prefers among
    /// [`Encoding::OFFERED`](crate::Encoding::OFFERED), from its `Accept-Encoding` headers,
    /// as [`Encoding::negotiate`](crate::Encoding::negotiate) reads them.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::Encoding;
    /// # futures_lite::future::block_on(async {
    /// let mut wire = &b"GET / HTTP/1.1\r\nAccept-Encoding: gzip, br\r\n\r\n"[..];
    /// let request = sse_pump::adapters::raw::read_request(&mut wire).await?;
    /// assert_eq!(request.negotiate_encoding(), Encoding::Gzip);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    #[cfg(feature = "compression")]
    pub fn negotiate_encoding(&self) -> super::http::Encoding {
        use super::http::Encoding;
        Encoding::negotiate_values(self.headers("accept-encoding"), &Encoding::OFFERED)
    }

    /// The `Last-Event-ID` header, checked as [`last_event_id`](crate::last_event_id)
    /// checks it.
    ///
    /// # Errors
    ///
    /// A [`RequestError`] (`LastEventIdTooLong`, `LastEventIdNotUtf8`, `LastEventIdNul`,
    /// `LastEventIdRepeated`) for a header too long, not UTF-8, with a NUL, or repeated.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let request = sse_pump::adapters::raw::read_request(&mut &b"GET / HTTP/1.1\r\n\r\n"[..]).await?;
    /// assert_eq!(request.last_event_id()?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn last_event_id(&self) -> Result<Option<&str>, RequestError> {
        super::last_event_id::check(self.headers("last-event-id"))
    }
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
