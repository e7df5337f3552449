//! [`Following`]: one stream of several topics, resumed from one `Last-Event-ID`.

use std::{
    fmt,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_lite::Stream;

use super::{error::SubscribeError, handle::Hub, shared::Seen, stamp, subscription::Subscription};
use crate::{deliver::Source, wire::Event};

/// One subscriber's stream of several [`Topics`](crate::hub::Topics) (Mercure's model),
/// from [`Topics::follow`](crate::hub::Topics::follow); hand it to
/// [`Sse::new`](crate::Sse::new).
///
/// Each event goes out with an `id` that names the last event of *every* topic followed
/// (`a=17,b=4`, in the order the topics were given), so one `Last-Event-ID` resumes each
/// topic where the client was. A topic that had no event yet is written with an empty
/// id (`b=`): on resume, the client gets all it published since (or a `reset` if it no
/// longer holds it all). Each event is stamped for each subscriber (one copy per event
/// per subscriber, against none for a single topic). `gap` and `reset` events do not say
/// which topic they come from. The stream ends when any of its topics ends it (its hub
/// closed, or [`Lag::Disconnect`](crate::hub::Lag::Disconnect)): the client reconnects
/// and resumes.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use sse_pump::{Event, hub::{Hub, Topics}};
/// # futures_lite::future::block_on(async {
/// let topics = Topics::new(|_| Hub::builder().history(16));
/// let mut both = topics.follow(&["a", "b"], None)?;
/// topics.topic("a")?.publish(Event::new().data("to a"))?;
/// let first = both.next().await.unwrap().into_bytes();
/// assert!(first.starts_with(b"id: a="));
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[must_use = "a subscription does nothing unless it is streamed"]
pub struct Following {
    parts: Vec<Part>,
    /// The part to look at first next time, so that no topic starves the others.
    next: usize,
}

struct Part {
    name: Box<str>,
    rx: Subscription,
    /// The id of the last event of this topic the client was sent (or had seen); empty
    /// before its first.
    last: Bytes,
}

impl Following {
    /// Subscribes to each `(name, hub)`, resuming each from its part of `last_event_id`.
    pub(super) fn new(
        topics: Vec<(&str, Hub)>,
        last_event_id: Option<&str>,
    ) -> Result<Self, SubscribeError> {
        let resumed = last_event_id.filter(|id| !id.is_empty());
        let mut parts = Vec::with_capacity(topics.len());
        for (name, hub) in topics {
            let seen = resumed.and_then(|ids| part(ids, name)); // not there: a new topic
            let rx = match seen {
                None => hub.subscribe(None)?,
                Some(None) => hub.subscribe_after(Seen::Start)?,
                Some(Some(id)) => hub.subscribe(Some(id))?,
            };
            let last = match seen.flatten() {
                Some(id) => Bytes::copy_from_slice(id.as_bytes()),
                None => hub.newest_id().unwrap_or_default(),
            };
            let name = name.into();
            parts.push(Part { name, rx, last });
        }
        Ok(Following { parts, next: 0 })
    }

    /// The id naming the last event of every topic: `a=17,b=4`.
    fn id(&self) -> Vec<u8> {
        let mut id = Vec::new();
        for (n, part) in self.parts.iter().enumerate() {
            if n > 0 {
                id.push(b',');
            }
            id.extend_from_slice(part.name.as_bytes());
            id.push(b'=');
            id.extend_from_slice(&part.last);
        }
        id
    }

    /// `event` from part `n`, with the id of the whole stream if it has one of its own.
    fn stamp(&mut self, n: usize, event: Event) -> Event {
        let frame = event.into_bytes();
        let Some(at) = stamp::field(&frame, b"id:") else {
            return Event::from_frame(frame); // gap, reset, farewell
        };
        self.parts[n].last = frame.slice(at);
        let id = self.id();
        if id.iter().any(|b| matches!(b, b'\n' | b'\r' | 0)) {
            return Event::from_frame(frame);
        }
        Event::from_frame(stamp::with_text_id(&frame, &id))
    }
}

/// The id of topic `name` in a stream's id (`a=17,b=4`): `None` if it is not there,
/// `Some(None)` if it is there empty (before the topic's first event).
fn part<'a>(ids: &'a str, name: &str) -> Option<Option<&'a str>> {
    let id = ids
        .split(',')
        .find_map(|pair| pair.split_once('=').filter(|(topic, _)| *topic == name))?
        .1;
    Some((!id.is_empty()).then_some(id))
}

impl Stream for Following {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let this = &mut *self;
        let count = this.parts.len();
        for k in 0..count {
            let n = (this.next + k) % count;
            match Pin::new(&mut this.parts[n].rx).poll_next(cx) {
                Poll::Ready(Some(event)) => {
                    this.next = (n + 1) % count;
                    return Poll::Ready(Some(this.stamp(n, event)));
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {}
            }
        }
        match count {
            0 => Poll::Ready(None),
            _ => Poll::Pending,
        }
    }
}

impl Source for Following {
    /// Unsubscribes from every topic, and returns how many events it had not read.
    fn close(mut self: Pin<&mut Self>) -> u64 {
        let parts = self.parts.iter_mut();
        parts.map(|part| Pin::new(&mut part.rx).close()).sum()
    }
}

impl fmt::Debug for Following {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.parts.iter().map(|part| &*part.name).collect();
        f.debug_struct("Following").field("topics", &names).finish()
    }
}
