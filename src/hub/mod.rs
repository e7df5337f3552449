//! The hub: one publisher, many subscribers, replay from a bounded history ([`Hub`]).
//!
//! Design: the hub keeps one ring of the last `history + subscriber_capacity` encoded
//! frames, one lock per slot, and each [`Subscription`] is a cursor into it (as in
//! `tokio::sync::broadcast`). Appending writes the frame, encoded once, into the oldest
//! slot and bumps an atomic tail, whatever the number of subscribers; then it wakes the
//! subscribers that wait. A subscriber's "queue" is the stretch of the ring between its
//! cursor and the tail, so an idle subscriber costs under 200 bytes and a slow one
//! nothing more; falling behind triggers the [`Lag`] policy, which the subscriber applies
//! to itself when it next reads. Appends are serialised by one mutex, which `subscribe`
//! also takes briefly, so that the replay and the live events meet with no gap and no
//! duplicate.
//!
//! One implementation whatever the log: every event goes through a [`Backend`] (the
//! in-process log by default, [`MemoryLog`], or Redis), which names it and feeds it back
//! into the ring through a [`Feed`]; the ring keeps each entry's [`Position`], and a
//! `Last-Event-ID` is resolved the same way for every log (see `log/mod.rs`).
//!
//! The modules, each importing only those below it:
//!
//! - `handle` ([`Hub`], [`HubStats`]): the public face, a method per operation;
//! - `subscription` ([`Subscription`]): a cursor, and the lag policy;
//! - `shared`: the state, and the one implementation of publish, subscribe (resolve,
//!   admission), close; it follows the log as a `Follower`;
//! - `ring`, `replay`, `builder`, `error`: the ring and its marks, [`Replay`], the
//!   settings, the errors;
//! - `log` ([`Backend`], [`Feed`], the logs): knows nothing of the hub above it;
//! - `topics` ([`Topics`]) and `following` ([`Following`]): many named hubs in one
//!   process, and one stream of several, above `handle`.

mod builder;
mod error;
mod following;
mod handle;
mod lock;
mod log;
mod replay;
mod ring;
mod shared;
mod stamp;
mod subscription;
mod topics;

#[cfg(feature = "redis")]
pub use self::log::{InvalidUrl, RedisStreams};
pub use self::{
    builder::{HubBuilder, Ids, Lag},
    error::{PublishError, SubscribeError, TopicError},
    following::Following,
    handle::{Hub, HubStats},
    log::{Appending, Backend, EventId, Feed, MemoryLog, Position},
    replay::Replay,
    subscription::Subscription,
    topics::{check_topic, Topics, MAX_TOPIC_NAME},
};
