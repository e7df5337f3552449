//! [`MemoryLog`]: a shared log inside one process, for tests and as the smallest complete
//! [`Backend`].

use std::{
    collections::VecDeque,
    fmt,
    sync::{Arc, Mutex},
};

use super::{keys::Keys, Appending, Backend, EventId, Feed, Position};
use crate::{
    hub::{error::PublishError, lock::lock},
    wire::Event,
};

/// A log shared by several [`Hub`](crate::hub::Hub)s of one process, as
/// [`RedisStreams`](crate::hub::RedisStreams) is by several processes: every hub built with a
/// clone of it receives every event published on any of them, with the log's positions
/// (`1`, `2`, …) as ids, and resumes the clients of the others.
///
/// It is for tests (of a scale-out setup without a broker, including its faults:
/// [`set_available`](MemoryLog::set_available), [`lose`](MemoryLog::lose)), and the
/// smallest complete example of a [`Backend`]. Appending is synchronous: the event is in
/// every hub's ring when `publish` returns.
///
/// # Examples
///
/// ```
/// use sse_pump::{Event, hub::{Hub, MemoryLog, Replay}};
///
/// let log = MemoryLog::new();
/// let a = Hub::builder().history(10).backend(log.clone()).build();
/// let b = Hub::builder().history(10).backend(log).build();
/// let one = a.publish(Event::new().data("one"))?.unwrap();
/// a.publish(Event::new().data("two"))?;
/// // A client of `a` that saw the first one reconnects to `b`:
/// assert_eq!(b.subscribe(Some(one.as_str()))?.replay(), Replay::Resumed { missed: 1 });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct MemoryLog {
    log: Arc<Mutex<Log>>,
}

#[derive(Default)]
struct Log {
    /// The position of the next entry, from 1.
    next: u64,
    /// The newest entries, up to the largest history of the hubs that follow.
    entries: VecDeque<(u64, Event)>,
    keep: usize,
    feeds: Vec<Feed>,
    /// Hubs that started while the log was unavailable: loaded once it is back.
    loading: Vec<Feed>,
    down: bool,
    keys: Keys,
}

impl MemoryLog {
    /// An empty log.
    ///
    /// # Examples
    ///
    /// ```
    /// let log = sse_pump::hub::MemoryLog::new();
    /// # drop(log);
    /// ```
    pub fn new() -> Self {
        MemoryLog::default()
    }

    /// Makes the log unreachable (`false`: publishing is refused with
    /// [`PublishError::Unavailable`], and a hub that starts meanwhile cannot load its
    /// history until it is back) or reachable again.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Event, hub::{Hub, MemoryLog}};
    /// let log = MemoryLog::new();
    /// let hub = Hub::builder().backend(log.clone()).build();
    /// log.set_available(false);
    /// assert!(hub.publish(Event::new().data("x")).unwrap_err().is_unavailable());
    /// ```
    pub fn set_available(&self, available: bool) {
        let mut log = lock(&self.log);
        log.down = !available;
        if available {
            for feed in std::mem::take(&mut log.loading) {
                log.load(feed);
            }
        }
    }

    /// Loses every entry, as a broker restarted empty: every hub that follows the log
    /// sends `event: reset` to its subscribers. Positions go on from where they were.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_pump::{Event, hub::{Hub, MemoryLog, Replay}};
    /// let log = MemoryLog::new();
    /// let hub = Hub::builder().history(10).backend(log.clone()).build();
    /// hub.publish(Event::new().data("x"))?;
    /// log.lose();
    /// assert_eq!(hub.subscribe(Some("1"))?.replay(), Replay::Resumed { missed: 0 }); // decided by the next entry
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lose(&self) {
        let mut log = lock(&self.log);
        log.entries.clear();
        log.feeds.retain(Feed::reset);
    }
}

impl Log {
    /// Feeds the newest entries to a hub that starts following, then follows.
    fn load(&mut self, feed: Feed) {
        self.keep = self.keep.max(feed.history());
        let skip = self.entries.len().saturating_sub(feed.history());
        let ids: Vec<String> = self.entries.iter().map(|(at, _)| at.to_string()).collect();
        let backlog = self.entries.iter().zip(&ids).skip(skip);
        let entries =
            backlog.map(|((at, event), id)| (&id[..], Position::new(*at, 0), event.clone()));
        if feed.backlog(entries) {
            self.feeds.push(feed);
        }
    }
}

impl Backend for MemoryLog {
    fn start(&self, feed: Feed) {
        let mut log = lock(&self.log);
        match log.down {
            true => log.loading.push(feed),
            false => log.load(feed),
        }
    }

    fn append(&self, event: Event, key: Option<&str>) -> Result<Option<EventId>, PublishError> {
        let mut log = lock(&self.log);
        if log.down {
            return Err(PublishError::Unavailable(event));
        }
        if let Some(id) = log.keys.get(key) {
            return Ok(Some(id));
        }
        log.next = log.next.max(1);
        let at = log.next;
        log.next += 1;
        let event = event.freeze(); // one encoding, shared by the log and every hub
        let id = at.to_string();
        log.feeds
            .retain(|feed| feed.push(&id, Position::new(at, 0), event.clone()));
        log.entries.push_back((at, event));
        while log.entries.len() > log.keep {
            log.entries.pop_front();
        }
        let id = EventId::new(&id);
        log.keys.insert(key, &id);
        Ok(Some(id))
    }

    fn append_wait<'a>(&'a self, event: Event, key: Option<&'a str>) -> Appending<'a> {
        let appended = self.append(event, key).map(Option::unwrap_or_default);
        Box::pin(async move { appended })
    }

    fn position(&self, id: &str) -> Option<Position> {
        let digits = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| id.parse().ok().map(|at| Position::new(at, 0)))?
    }

    /// Nothing to stop: the log is shared with other hubs, and a closed hub's feed drops
    /// out at the next entry.
    fn stop(&self) {}
}

impl fmt::Debug for MemoryLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let log = lock(&self.log);
        f.debug_struct("MemoryLog")
            .field("next", &log.next)
            .field("entries", &log.entries.len())
            .field("hubs", &log.feeds.len())
            .finish()
    }
}
