//! Events encoded together, to cross the channel as one message.

use std::fmt;

use super::{encode::CLOSING, error::FieldError, event::Event, fields::Fields};

/// Events encoded one after another into one buffer, to send with
/// [`Sender::send_batch`](crate::Sender::send_batch) as one message.
///
/// A producer that has many events at hand (a page of database rows, a burst from an
/// upstream feed) pays the channel's cost once for all of them, not once per event, and
/// [`Batch::data`] encodes a data-only event straight into the batch, with no [`Event`]
/// allocated. The events reach the stream whole and in order, never interleaved with
/// those of other senders, and count one by one in the [`Report`](crate::Report).
///
/// A batch takes one of the channel's places, whatever its size: the channel holds at
/// most `capacity` batches, so keep batches small (a few KiB) to keep the memory a slow
/// client can hold bounded, and latency low.
///
/// # Examples
///
/// ```
/// use sse_pump::{channel, Batch, Event, Sse};
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = channel(8);
/// let mut batch = Batch::new();
/// for n in 0..3 {
///     batch.data(n.to_string());
/// }
/// batch.push(Event::new().event("done").data("!")).unwrap();
/// tx.send_batch(batch).await.unwrap();
/// drop(tx);
///
/// let mut wire = Vec::new();
/// let report = Sse::new(rx).keep_alive(None).pump(&mut wire).await.unwrap();
/// assert_eq!(wire, b"data: 0\n\ndata: 1\n\ndata: 2\n\nevent: done\ndata: !\n\n");
/// assert_eq!(report.events, 4);
/// # });
/// ```
#[derive(Clone, Default)]
pub struct Batch {
    frames: Vec<u8>,
    events: u64,
}

impl Batch {
    /// An empty batch.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sse_pump::Batch::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Batch::default()
    }

    /// An empty batch with room for `bytes` bytes of encoded events.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = sse_pump::Batch::with_capacity(4096);
    /// batch.data("no allocation until 4 KiB");
    /// assert_eq!(batch.len(), 1);
    /// ```
    pub fn with_capacity(bytes: usize) -> Self {
        Batch {
            frames: Vec::with_capacity(bytes),
            events: 0,
        }
    }

    /// Adds a data-only event, encoded straight into the batch: what
    /// `push(Event::new().data(data))` adds, without allocating the event. Every line
    /// break starts a new `data:` line, as in [`Event::data`].
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = sse_pump::Batch::new();
    /// batch.data("a\nb").data("c");
    /// assert_eq!(batch.len(), 2);
    /// assert_eq!(batch.as_bytes(), b"data: a\ndata: b\n\ndata: c\n\n");
    /// ```
    #[inline]
    pub fn data(&mut self, data: impl AsRef<str>) -> &mut Self {
        self.put_data(data.as_ref());
        self.frames.push(b'\n');
        self.events += 1;
        self
    }

    /// Adds an event.
    ///
    /// # Errors
    ///
    /// An event that refused a field ([`Event::error`]) is not added: it is handed back.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Batch, Event};
    /// let mut batch = Batch::new();
    /// batch.push(Event::new().id("1").data("x")).unwrap();
    /// let refused = batch.push(Event::new().id("2\n").data("y")).unwrap_err();
    /// assert!(refused.error().is_some());
    /// assert_eq!(batch.len(), 1);
    /// ```
    pub fn push(&mut self, event: Event) -> Result<(), Event> {
        if event.error().is_some() {
            return Err(event);
        }
        event.append_to(&mut self.frames);
        event.recycle();
        self.events += 1;
        Ok(())
    }

    /// How many events the batch holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = sse_pump::Batch::new();
    /// batch.data("x");
    /// assert_eq!(batch.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.events as usize
    }

    /// Whether the batch holds no event.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sse_pump::Batch::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// The events as they go on the wire (with `\n` line ends).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = sse_pump::Batch::new();
    /// batch.data("x");
    /// assert_eq!(batch.as_bytes(), b"data: x\n\n");
    /// assert_eq!(batch.as_bytes().len(), 9); // how much of the channel's memory it takes
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.frames
    }

    /// The frames and how many events they are: how the batch crosses the channel.
    pub(crate) fn into_parts(self) -> (Vec<u8>, u64) {
        (self.frames, self.events)
    }
}

/// [`Batch::data`]'s lines go into the batch's buffer, which grows as a `Vec` does.
impl Fields for Batch {
    type Out = Vec<u8>;

    #[inline(always)]
    fn room(&mut self, room: usize) -> Option<&mut Vec<u8>> {
        self.frames.reserve(room + CLOSING);
        Some(&mut self.frames)
    }

    /// Never called: `Batch::data` writes only `data`, which no value makes refused.
    fn refuse(&mut self, _: FieldError) {}
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("events", &self.events)
            .field("bytes", &self.frames.len())
            .finish()
    }
}
