//! What a new subscription replays ([`Replay`]).

/// What a new subscription gets before the live events, depending on the `Last-Event-ID`
/// it presented to [`Hub::subscribe`](crate::hub::Hub::subscribe).
///
/// # Examples
///
/// ```
/// use sse_pump::{Event, hub::{Hub, Replay}};
///
/// let hub = Hub::builder().history(8).build();
/// let id = hub.publish(Event::new().data("a"))?.unwrap(); // "1"
/// hub.publish(Event::new().data("b"))?;
/// assert_eq!(hub.subscribe(None)?.replay(), Replay::Live);
/// assert_eq!(hub.subscribe(Some(id.as_str()))?.replay(), Replay::Resumed { missed: 1 });
/// assert_eq!(hub.subscribe(Some("no such id"))?.replay(), Replay::Reset);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Replay {
    /// No `Last-Event-ID` (a first connection): live events only.
    Live,
    /// The id was in the history: the `missed` events published after it come first, in
    /// order, then the live ones, with no gap and no duplicate in between.
    Resumed {
        /// How many events are replayed.
        missed: u64,
    },
    /// The id is unknown, or too old for the history: the subscription's first event is
    /// `event: reset` (with empty data), so the client can fetch the full state again,
    /// then the live events.
    Reset,
}
