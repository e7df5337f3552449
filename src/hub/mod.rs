//! The hub: one publisher, many subscribers, replay from a bounded history ([`Hub`]).
//!
//! Design: the hub keeps one ring of the last `history + subscriber_capacity` encoded
//! frames, one lock per slot, and each [`Subscription`] is a cursor into it (as in
//! `tokio::sync::broadcast`). Publishing encodes the frame once, writes it into the oldest
//! slot and bumps an atomic tail, whatever the number of subscribers; then it wakes the
//! subscribers that wait. A subscriber's "queue" is the stretch of the ring between its
//! cursor and the tail, so an idle subscriber costs under 200 bytes and a slow one
//! nothing more; falling more than its capacity behind triggers the [`Lag`] policy, which
//! the subscriber applies to itself when it next reads. Publishers are serialised by one
//! mutex, which `subscribe` also takes briefly, so that the replay and the live events
//! meet with no gap and no duplicate.

mod backend;
mod builder;
mod error;
mod handle;
mod shared;
mod stamp;
mod subscription;

#[cfg(feature = "redis")]
pub use self::backend::{InvalidUrl, RedisStreams};
pub use self::{
    backend::{Appending, Backend, Feed, MemoryLog, Position},
    builder::{HubBuilder, Ids, Lag},
    error::{PublishError, SubscribeError},
    handle::{Hub, HubStats},
    subscription::{Replay, Subscription},
};
