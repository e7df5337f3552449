//! One subscriber: a cursor into the hub's ring, as a [`Source`] for [`Sse`](crate::Sse).

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{atomic::Ordering, Arc},
    task::{Context, Poll},
};

use event_listener::EventListener;
use futures_lite::Stream;

use super::{
    builder::Lag,
    log::Position,
    replay::Replay,
    ring::{admit, Admit, Mark},
    shared::{Place, Shared, Start},
};
use crate::{deliver::Source, wire::Event};

/// A one-shot event that comes before the next ring event.
#[derive(Clone, Copy, Debug)]
enum Signal {
    Reset,
    Gap(u64),
}

impl Signal {
    fn event(self) -> Event {
        match self {
            Signal::Reset => Event::new().event("reset").data(""),
            Signal::Gap(missed) => Event::new().event("gap").data(missed.to_string()),
        }
    }
}

type Filter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// One subscriber's stream of a [`Hub`](crate::hub::Hub)'s events; hand it to
/// [`Sse::new`](crate::Sse::new).
///
/// It yields the replayed events (or a `reset` event), then the live ones. It is a cursor
/// into the hub's shared ring, not a queue: it holds no events of its own. Dropping it
/// (which the pump does when the client goes away) unsubscribes.
///
/// # Examples
///
/// ```
/// use sse_pump::{Event, hub::Hub, Sse};
/// # futures_lite::future::block_on(async {
/// let hub = Hub::new();
/// let rx = hub.subscribe(None)?;
/// hub.publish(Event::new().event("chat").data("hi"))?;
/// hub.close(Event::new().event("bye").data(""));
/// let mut wire = Vec::new();
/// Sse::new(rx).keep_alive(None).pump(&mut wire).await?;
/// assert_eq!(wire, b"id: 1\nevent: chat\ndata: hi\n\nevent: bye\ndata:\n\n");
/// assert_eq!(hub.stats().subscribers, 0); // the pump dropped it
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[must_use = "a subscription does nothing unless it is streamed"]
pub struct Subscription {
    shared: Arc<Shared>,
    /// The sequence number of the next event to read.
    cursor: u64,
    /// The tail when it subscribed: replayed events before it do not count as lag.
    replay_end: u64,
    replay: Replay,
    signal: Option<Signal>,
    listener: Option<EventListener>,
    /// Where it is, for publishers under `Lag::Wait`, and its key in the registry.
    position: Place,
    filter: Option<Filter>,
    /// With a shared log: the position the client presented, which this process had not
    /// read yet when it subscribed; the events up to it are skipped. Boxed: rare, and an
    /// idle subscription stays small.
    ahead: Option<Box<Position>>,
    lagged: u64,
    ended: bool,
}

impl Subscription {
    pub(super) fn new(shared: Arc<Shared>, start: Start) -> Self {
        if start.replay == Replay::Reset {
            shared.counters.resets.fetch_add(1, Ordering::Relaxed);
        }
        Subscription {
            shared,
            cursor: start.cursor,
            replay_end: start.tail,
            replay: start.replay,
            signal: (start.replay == Replay::Reset).then_some(Signal::Reset),
            listener: None,
            position: start.place,
            filter: None,
            ahead: start.ahead.map(Box::new),
            lagged: 0,
            ended: false,
        }
    }

    /// What this subscription replays, as decided when it subscribed.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// assert_eq!(hub.subscribe(None)?.replay(), sse_pump::hub::Replay::Live);
    /// # Ok::<(), sse_pump::hub::SubscribeError>(())
    /// ```
    pub fn replay(&self) -> Replay {
        self.replay
    }

    /// Keeps only the events whose type (`"message"` when they have no `event:` field)
    /// passes `filter`. The `reset`, `gap` and farewell events always pass. Skipped events
    /// are not lag: they count as read.
    ///
    /// For topics that most subscribers do not want, prefer one [`Hub`](crate::hub::Hub) per
    /// topic: a filter still wakes the subscriber for every event.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Event, hub::Hub};
    /// use futures_lite::StreamExt;
    /// # futures_lite::future::block_on(async {
    /// let hub = Hub::new();
    /// let mut rx = hub.subscribe(None)?.filter(|kind| kind == "chat");
    /// hub.publish(Event::new().event("presence").data("ann joined"))?;
    /// hub.publish(Event::new().event("chat").data("hello"))?;
    /// assert_eq!(rx.next().await.unwrap().into_bytes(), "id: 2\nevent: chat\ndata: hello\n\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn filter(mut self, filter: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(Arc::new(filter));
        self
    }

    /// How many events this subscriber missed because it fell behind: skipped under
    /// [`Lag::DropOldest`], or still unread when [`Lag::Disconnect`] ended it.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// assert_eq!(hub.subscribe(None)?.lagged(), 0);
    /// # Ok::<(), sse_pump::hub::SubscribeError>(())
    /// ```
    pub fn lagged(&self) -> u64 {
        self.lagged
    }

    /// How many published events this subscriber has not read yet (0 once it has ended).
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// let rx = hub.subscribe(None)?;
    /// hub.publish(sse_pump::Event::new().data("x"))?;
    /// assert_eq!(rx.pending(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pending(&self) -> u64 {
        if self.ended {
            return 0;
        }
        self.shared
            .tail
            .load(Ordering::Acquire)
            .saturating_sub(self.cursor)
    }

    /// Reads the event at the cursor, or applies the lag policy. `None`: nothing to yield
    /// (filtered out, or lagged), look again.
    fn take(&mut self, tail: u64) -> Option<Event> {
        let config = &self.shared.config;
        let first = self.shared.ring.first(tail);
        // Under `DropOldest`, a subscriber reads a burst from the ring, however far it is
        // behind, until its next event is overwritten: only then has it really fallen
        // behind (a skip would lose events the ring still holds). The other policies act
        // at `capacity`: they lose nothing by it (a disconnected client resumes from the
        // history, a waiting publisher is only held back).
        let behind = tail - self.cursor.max(self.replay_end);
        let over = config.lag != Lag::DropOldest && behind > config.capacity as u64;
        if over || self.cursor < first {
            self.lag(tail, first);
            return None;
        }
        let slot = self.shared.ring.get(self.cursor);
        if slot.seq != self.cursor {
            return None; // overwritten since `tail` was read: the next look sees the lag
        }
        let live = self.cursor >= self.replay_end;
        let wanted = match admit(slot.mark, &mut self.ahead, live) {
            Admit::Pass => true,
            Admit::Skip => false,
            Admit::ResetFirst => {
                self.signal = Some(Signal::Reset);
                self.shared.counters.resets.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        self.cursor += 1;
        let signal = matches!(slot.mark, Mark::Reset);
        if signal {
            self.shared.counters.resets.fetch_add(1, Ordering::Relaxed);
        }
        let wanted =
            wanted && (signal || self.filter.as_ref().is_none_or(|keep| keep(slot.kind())));
        let event = wanted.then(|| Event::from_frame(slot.frame.clone()));
        drop(slot);
        if let Some((position, _)) = &self.position {
            position.store(self.cursor.max(self.replay_end), Ordering::Release);
            self.shared.moved.notify(usize::MAX);
        }
        event
    }

    /// Applies the lag policy to a subscriber too far behind.
    fn lag(&mut self, tail: u64, first: u64) {
        let config = &self.shared.config;
        let counters = &self.shared.counters;
        let to = match config.lag {
            Lag::DropOldest => tail.saturating_sub(config.capacity as u64).max(first),
            _ => tail,
        };
        let missed = to.saturating_sub(self.cursor);
        self.lagged += missed;
        counters.lagged_events.fetch_add(missed, Ordering::Relaxed);
        #[cfg(feature = "tracing")]
        tracing::warn!(target: "sse_pump::hub", missed, policy = ?config.lag, "hub subscriber lagged");
        if config.lag == Lag::DropOldest {
            self.cursor = to;
            self.signal = Some(Signal::Gap(missed));
        } else {
            counters.lag_disconnects.fetch_add(1, Ordering::Relaxed);
            self.end();
        }
    }

    /// Stops reading and unsubscribes.
    fn end(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.listener = None;
        self.shared.leave(self.position.take());
    }
}

impl Stream for Subscription {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let this = &mut *self;
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            if let Some(signal) = this.signal.take() {
                return Poll::Ready(Some(signal.event()));
            }
            let closed = this.shared.is_closed();
            let tail = this.shared.tail.load(Ordering::Acquire);
            if this.cursor < tail {
                match this.take(tail) {
                    Some(event) => return Poll::Ready(Some(event)),
                    None => continue,
                }
            }
            if closed {
                this.end();
                return Poll::Ready(this.shared.farewell().map(Event::from_frame));
            }
            match &mut this.listener {
                None => this.listener = Some(this.shared.published.listen()),
                Some(listener) => match Pin::new(listener).poll(cx) {
                    Poll::Ready(()) => this.listener = None,
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}

impl Source for Subscription {
    /// Unsubscribes, and returns how many published events it had not read.
    fn close(mut self: Pin<&mut Self>) -> u64 {
        let pending = self.pending();
        self.end();
        pending
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.end();
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("cursor", &self.cursor)
            .field("replay", &self.replay)
            .field("lagged", &self.lagged)
            .field("ended", &self.ended)
            .finish()
    }
}
