//! The blocking adapter: an `Iterator` of events over any `std::io::Read`.

use std::{
    fmt,
    io::{self, Read},
    marker::PhantomData,
};

use bytes::BytesMut;

use super::{DecodeError, Decoded, Decoder, MessageEvent};

/// How many bytes an adapter asks its transport for at a time.
pub(super) const READ_SIZE: usize = 16 * 1024;

/// Decodes the events of a blocking reader: a file, stdin, a `TcpStream`, a blocking HTTP
/// client's body, or bytes in memory.
///
/// The iterator ends at the end of the reader (dropping an unfinished event) or after an
/// I/O error. Wrapping the reader in a `BufReader` is not needed: the adapter reads 16 KiB
/// at a time.
///
/// # Examples
///
/// Testing a server without a socket: pump its stream into a `Vec<u8>`, then decode it.
///
/// ```
/// use sse_pump::{channel, decode_reader, Event, Sse};
///
/// let (tx, rx) = channel(4);
/// tx.send_blocking(Event::new().event("greeting").data("hello\nworld"))?;
/// drop(tx);
/// let mut wire = Vec::new();
/// futures_lite::future::block_on(Sse::new(rx).keep_alive(None).pump(&mut wire))?;
///
/// let events: Vec<_> = decode_reader(&wire[..]).collect::<Result<_, _>>()?;
/// assert_eq!(events.len(), 1);
/// assert_eq!(events[0].event, "greeting");
/// assert_eq!(events[0].data, "hello\nworld");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "client")]
pub fn decode_reader<R: Read>(reader: R) -> DecodeReader<R> {
    DecodeReader::new(Decoder::new(), reader)
}

/// The iterator returned by [`decode_reader`]: yields `Result<T, DecodeError<io::Error>>`, where `T` is
/// [`MessageEvent`] or, after [`items`](DecodeReader::items), [`Item`](crate::Item).
///
/// # Examples
///
/// ```
/// let mut events = sse_pump::decode_reader(&b"data: 1\n\ndata: 2\n\n"[..]);
/// assert_eq!(events.next().unwrap()?.data, "1");
/// assert_eq!(events.decoder().last_event_id(), "");
/// # Ok::<(), sse_pump::DecodeError<std::io::Error>>(())
/// ```
#[must_use = "iterators do nothing unless consumed"]
pub struct DecodeReader<R, T = MessageEvent> {
    reader: R,
    read: ReadBuf,
    kind: PhantomData<fn() -> T>,
}

impl<R> DecodeReader<R> {
    /// Decodes `reader` with a configured decoder.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{DecodeReader, Decoder, MessageEvent};
    /// let decoder = Decoder::new().max_line_len(64 * 1024);
    /// let events: DecodeReader<_, MessageEvent> = DecodeReader::new(decoder, &b""[..]);
    /// assert_eq!(events.count(), 0);
    /// ```
    pub fn new(decoder: Decoder, reader: R) -> Self {
        DecodeReader {
            reader,
            read: ReadBuf::new(decoder),
            kind: PhantomData,
        }
    }
}

impl<R, T> DecodeReader<R, T> {
    /// Yields every [`Item`](crate::Item): comments and retry-only blocks too.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::Item;
    /// let mut items = sse_pump::decode_reader(&b": ping\n"[..]).items();
    /// assert_eq!(items.next().unwrap()?, Item::Comment("ping".into()));
    /// # Ok::<(), sse_pump::DecodeError<std::io::Error>>(())
    /// ```
    pub fn items(self) -> DecodeReader<R, super::Item> {
        DecodeReader {
            reader: self.reader,
            read: self.read,
            kind: PhantomData,
        }
    }

    /// Sets the decoder's maximum line length (see [`Decoder::max_line_len`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut events = sse_pump::decode_reader(&b"data: 0123456789\n\n"[..]).max_line_len(8);
    /// assert!(events.next().unwrap().is_err());
    /// ```
    pub fn max_line_len(mut self, bytes: usize) -> Self {
        self.read.decoder = self.read.decoder.max_line_len(bytes);
        self
    }

    /// Sets the decoder's maximum event size (see [`Decoder::max_event_size`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut events = sse_pump::decode_reader(&b"data: 0123456789\n\n"[..]).max_event_size(8);
    /// assert!(events.next().unwrap().is_err());
    /// ```
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.read.decoder = self.read.decoder.max_event_size(bytes);
        self
    }

    /// The decoder, for its [last event ID](Decoder::last_event_id) and
    /// [reconnection time](Decoder::reconnection_time).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut events = sse_pump::decode_reader(&b"retry: 10\nid: 3\n\n"[..]);
    /// assert!(events.next().is_none());
    /// assert_eq!(events.decoder().last_event_id(), "3");
    /// ```
    pub fn decoder(&self) -> &Decoder {
        &self.read.decoder
    }

    /// The reader.
    ///
    /// # Examples
    ///
    /// ```
    /// let events = sse_pump::decode_reader(std::io::empty());
    /// let _reader: std::io::Empty = events.into_inner();
    /// ```
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: Read, T: Decoded> Iterator for DecodeReader<R, T> {
    type Item = Result<T, DecodeError<io::Error>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.read.pull::<T>() {
                Pulled::Item(item) => return Some(item.map_err(DecodeError::with_transport)),
                Pulled::End => return None,
                Pulled::NeedInput => {}
            }
            let read = self.reader.read(self.read.space());
            if let Some(e) = self.read.filled(read) {
                return Some(Err(DecodeError::Transport(e)));
            }
        }
    }
}

impl<R, T> fmt::Debug for DecodeReader<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeReader")
            .field("reader", &std::any::type_name::<R>())
            .field("decoder", &self.read.decoder)
            .finish()
    }
}

/// What both reading adapters keep: the decoder, and the buffer the transport reads into.
/// Each read becomes a chunk fed to the decoder without a copy; the buffer's memory is
/// reused once the decoder and the events are done with it.
pub(super) struct ReadBuf {
    pub(super) decoder: Decoder,
    buf: BytesMut,
    done: bool,
}

/// What [`ReadBuf::pull`] found.
pub(super) enum Pulled<T> {
    Item(Result<T, DecodeError>),
    /// The transport ended and everything it sent is parsed.
    End,
    /// The chunks read are used up: read into [`ReadBuf::space`], then call
    /// [`ReadBuf::filled`].
    NeedInput,
}

impl ReadBuf {
    pub(super) fn new(decoder: Decoder) -> Self {
        ReadBuf {
            decoder,
            buf: BytesMut::new(),
            done: false,
        }
    }

    /// The next item in the bytes read so far.
    pub(super) fn pull<T: Decoded>(&mut self) -> Pulled<T> {
        match T::pull(&mut self.decoder) {
            Ok(Some(value)) => Pulled::Item(Ok(value)),
            Err(e) => Pulled::Item(Err(e)),
            Ok(None) if self.done => Pulled::End,
            Ok(None) => Pulled::NeedInput,
        }
    }

    /// The buffer to read into, once [`pull`](ReadBuf::pull) said `NeedInput`.
    pub(super) fn space(&mut self) -> &mut [u8] {
        // Reuses the memory of earlier reads when nothing refers to it any more.
        self.buf.clear();
        self.buf.resize(READ_SIZE, 0);
        &mut self.buf
    }

    /// Takes the outcome of a read into [`space`](ReadBuf::space). Returns the transport's
    /// error, after which (as after its end) only what is already parsed comes out.
    pub(super) fn filled(&mut self, read: io::Result<usize>) -> Option<io::Error> {
        match read {
            Ok(0) => self.end(),
            Ok(n) => {
                self.buf.truncate(n);
                self.decoder.feed(self.buf.split());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                self.end();
                return Some(e);
            }
        }
        None
    }

    fn end(&mut self) {
        self.decoder.finish();
        self.done = true;
    }
}
