//! Delivery: producers send into a bounded [`channel`]; an [`Sse`] is a source plus the
//! rules for delivering it (keep-alive, send timeout, retry hint, coalescing, shutdown);
//! one machine (`frames`) turns both into ready-to-write frames, which the pump writes
//! into an `AsyncWrite` and every other transport forwards.

mod channel;
mod config;
mod error;
mod frames;
mod gather;
mod keep_alive;
mod message;
pub(crate) mod pump;
mod queue;
mod report;
mod shutdown;
mod spawned;
mod sse;
mod stream;
#[cfg(feature = "tracing")]
mod trace;
mod watchdog;

#[cfg(feature = "tracing")]
pub use self::trace::Trace;
pub use self::{
    channel::{
        channel, CloseHandle, Closed, FromStream, IntoEventResult, Receiver, Send, Sender, Source,
    },
    error::{Error, PumpError, SendError, SourceError},
    keep_alive::KeepAlive,
    report::{Ended, Report},
    shutdown::{Shutdown, ShutdownListener},
    spawned::Spawned,
    sse::Sse,
    stream::{ReportHandle, SseStream},
};
