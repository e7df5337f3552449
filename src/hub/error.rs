//! Why a publish or a subscribe was refused.

use std::fmt;

use crate::wire::Event;

/// A [`Hub::publish`](crate::hub::Hub::publish) that was refused; the event is handed back.
///
/// # Examples
///
/// ```
/// use sse_pump::{Event, hub::Hub};
///
/// let hub = Hub::new();
/// hub.close(None);
/// let err = hub.publish(Event::new().data("late")).unwrap_err();
/// assert!(err.is_closed());
/// assert_eq!(err.to_string(), "publishing into a closed hub");
/// assert_eq!(err.into_inner().into_bytes(), "data: late\n\n"); // handed back, not lost
/// ```
pub enum PublishError {
    /// The hub was closed: stop publishing.
    Closed(Event),
    /// Under [`Lag::Wait`](crate::hub::Lag::Wait), a subscriber has no room yet; try again, or
    /// use [`Hub::publish_async`](crate::hub::Hub::publish_async), which waits. With a shared
    /// log ([`HubBuilder::backend`](crate::hub::HubBuilder::backend)): its write queue is full.
    Full(Event),
    /// The hub's shared log ([`HubBuilder::backend`](crate::hub::HubBuilder::backend)) cannot be
    /// reached, or did not confirm the write: the event may not be in the log. Try again
    /// later; the backend reconnects by itself.
    Unavailable(Event),
    /// The event refused a field ([`Event::error`]), which is this error's `source`; it
    /// was not published.
    Invalid(Event),
}

impl PublishError {
    /// The event that was not published.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// hub.close(None);
    /// let event = hub.publish(sse_pump::Event::new().data("x")).unwrap_err().into_inner();
    /// # drop(event);
    /// ```
    pub fn into_inner(self) -> Event {
        match self {
            PublishError::Closed(event)
            | PublishError::Full(event)
            | PublishError::Invalid(event) => event,
            PublishError::Unavailable(event) => event,
        }
    }

    /// Whether the hub was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// hub.close(None);
    /// assert!(hub.publish(sse_pump::Event::new()).unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, PublishError::Closed(_))
    }

    /// Whether a subscriber had no room (only under [`Lag::Wait`](crate::hub::Lag::Wait)).
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// hub.close(None);
    /// assert!(!hub.publish(sse_pump::Event::new()).unwrap_err().is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, PublishError::Full(_))
    }

    /// Whether the event refused a field.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// let refused = sse_pump::Event::new().id("a\nb");
    /// assert!(hub.publish(refused).unwrap_err().is_invalid());
    /// ```
    pub fn is_invalid(&self) -> bool {
        matches!(self, PublishError::Invalid(_))
    }

    /// Whether the hub's shared log could not be reached.
    ///
    /// # Examples
    ///
    /// ```
    /// let hub = sse_pump::hub::Hub::new();
    /// hub.close(None);
    /// assert!(!hub.publish(sse_pump::Event::new()).unwrap_err().is_unavailable());
    /// ```
    pub fn is_unavailable(&self) -> bool {
        matches!(self, PublishError::Unavailable(_))
    }
}

impl fmt::Debug for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishError::Closed(_) => f.write_str("Closed(..)"),
            PublishError::Full(_) => f.write_str("Full(..)"),
            PublishError::Invalid(_) => f.write_str("Invalid(..)"),
            PublishError::Unavailable(_) => f.write_str("Unavailable(..)"),
        }
    }
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PublishError::Closed(_) => "publishing into a closed hub",
            PublishError::Full(_) => "a subscriber of the hub, or its log's queue, has no room",
            PublishError::Invalid(_) => "the event refused a field",
            PublishError::Unavailable(_) => "the hub's shared log is unavailable",
        })
    }
}

impl std::error::Error for PublishError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PublishError::Invalid(event) => event
                .error()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            _ => None,
        }
    }
}

/// A [`Hub::subscribe`](crate::hub::Hub::subscribe) that was refused.
///
/// # Examples
///
/// ```
/// use sse_pump::hub::{Hub, SubscribeError};
///
/// let hub = Hub::builder().max_subscribers(1).build();
/// let _first = hub.subscribe(None)?;
/// let err = hub.subscribe(None).unwrap_err();
/// assert_eq!(err, SubscribeError::Full);
/// assert_eq!(err.to_string(), "the hub has its maximum of subscribers");
/// # Ok::<(), SubscribeError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The hub has [`max_subscribers`](crate::hub::HubBuilder::max_subscribers) already: an
    /// HTTP server answers 503 Service Unavailable with a `Retry-After`.
    Full,
    /// The hub has not loaded its shared log's history yet (the log is slow or unreachable
    /// while the process starts), so it cannot tell what a resuming client missed, nor
    /// where a new one starts. An HTTP server answers 503 Service Unavailable with a
    /// `Retry-After`; [`Hub::subscribe_async`](crate::hub::Hub::subscribe_async) waits for
    /// the load first.
    Loading,
    /// The hub was closed.
    Closed,
    /// A topic name was refused ([`Topics::follow`](crate::hub::Topics::follow)); none
    /// of the topics is subscribed. An HTTP server answers 400 Bad Request.
    Topic(TopicError),
}

impl From<TopicError> for SubscribeError {
    fn from(err: TopicError) -> Self {
        SubscribeError::Topic(err)
    }
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SubscribeError::Full => "the hub has its maximum of subscribers",
            SubscribeError::Loading => "the hub has not loaded its log's history yet",
            SubscribeError::Closed => "subscribing to a closed hub",
            // The name's fault is said here, once (no `source`).
            SubscribeError::Topic(err) => return err.fmt(f),
        })
    }
}

impl std::error::Error for SubscribeError {}

/// A topic name that was refused: empty, longer than [`MAX_TOPIC_NAME`](crate::hub::MAX_TOPIC_NAME) bytes, or with a
/// character other than ASCII letters, digits, `-`, `_`, `.`, `:` and `@`.
///
/// # Examples
///
/// ```
/// let topics = sse_pump::hub::Topics::new(|_| sse_pump::hub::Hub::builder());
/// let err = topics.topic("no spaces").unwrap_err();
/// assert_eq!(err.to_string(), "invalid topic name: a character other than A-Z, a-z, 0-9, -, _, ., : or @");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TopicError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_TOPIC_NAME`](crate::hub::MAX_TOPIC_NAME) bytes.
    TooLong,
    /// The name has a character other than those allowed.
    Character,
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TopicError::Empty => "invalid topic name: empty",
            TopicError::TooLong => "invalid topic name: longer than 128 bytes",
            TopicError::Character => {
                "invalid topic name: a character other than A-Z, a-z, 0-9, -, _, ., : or @"
            }
        })
    }
}

impl std::error::Error for TopicError {}
