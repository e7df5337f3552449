//! smol: producers tied to their stream. SSE over a bare smol `TcpStream` is
//! [`raw`](super::raw), which works on smol's streams as they are.

use std::{fmt, future::Future, panic::AssertUnwindSafe};

use futures_lite::FutureExt;

use crate::deliver::{channel, Sender, Spawned};

/// Spawns `producer` on smol's global executor with the sending half of a
/// [`channel`] of `capacity` events, and returns its events as a
/// [`Spawned`](crate::Spawned): the task is cancelled when the stream ends, and the
/// stream ends when the task does; an error or a panic is reported as
/// [`Ended::SourceFailed`](crate::Ended::SourceFailed).
///
/// # Panics
///
/// If `capacity` is 0.
///
/// # Examples
///
/// ```
/// use sse_pump::{adapters::smol::spawn, Ended, Event, Sse};
/// # smol::block_on(async {
/// let events = spawn(8, |tx| async move {
///     tx.send(Event::new().data("one")).await.map_err(|_| "client gone")?;
///     Ok::<_, &str>(())
/// });
/// let mut wire = Vec::new();
/// let report = Sse::new(events).pump(&mut wire).await.unwrap();
/// assert_eq!((wire.as_slice(), report.ended), (&b"data: one\n\n"[..], Ended::SourceClosed));
/// # });
/// ```
pub fn spawn<F, Fut, E>(capacity: usize, producer: F) -> Spawned<Task>
where
    F: FnOnce(Sender) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display,
{
    let (tx, rx) = channel(capacity);
    let run = AssertUnwindSafe(producer(tx)).catch_unwind();
    let task = smol::spawn(async move {
        match run.await {
            Ok(outcome) => outcome.map_err(|e| e.to_string()),
            Err(panic) => Err(super::panicked(&*panic)),
        }
    });
    Spawned::new(rx, Task { task })
}

/// A smol producer task, cancelled when dropped; see [`spawn`].
///
/// # Examples
///
/// ```
/// let events: sse_pump::Spawned<sse_pump::adapters::smol::Task> =
///     sse_pump::adapters::smol::spawn(1, |_tx| async { Ok::<_, String>(()) });
/// # drop(events);
/// ```
#[derive(Debug)]
pub struct Task {
    task: smol::Task<Result<(), String>>,
}

impl Future for Task {
    type Output = Result<(), String>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.task).poll(cx)
    }
}
