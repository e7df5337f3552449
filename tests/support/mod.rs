//! Sinks, runtimes and guards shared by the integration tests.
#![allow(dead_code)]

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use futures_lite::AsyncWrite;

// hyper serves these tests (the `http` feature alone has no server).
#[cfg(feature = "hyper")]
pub mod http;

/// Fails the test, instead of hanging it, if `fut` takes longer than 10 seconds. Only a
/// guard: no test relies on it to order events.
pub async fn guard<F: Future>(fut: F) -> F::Output {
    futures_lite::future::or(fut, async {
        futures_timer::Delay::new(Duration::from_secs(10)).await;
        panic!("test timed out");
    })
    .await
}

/// Runs `fut` on smol, in this thread; `spawn` puts tasks on smol's global executor.
pub fn on_smol<F: Future>(fut: F) -> F::Output {
    smol::block_on(fut)
}

/// Runs `fut` on a fresh tokio current-thread runtime.
pub fn on_tokio<F: Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}

/// Spawns `fut` on the runtime the caller runs in: tokio if there is one, else smol's.
pub fn spawn<T: Send + 'static>(
    fut: impl Future<Output = T> + Send + 'static,
) -> Pin<Box<dyn Future<Output = T> + Send>> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            let task = handle.spawn(fut);
            Box::pin(async move { task.await.expect("task panicked") })
        }
        Err(_) => Box::pin(smol::spawn(fut)),
    }
}

/// Spawns `fut` on the caller's runtime and lets it run on its own.
pub fn detach(fut: impl Future<Output = ()> + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => drop(handle.spawn(fut)),
        Err(_) => smol::spawn(fut).detach(),
    }
}

/// Generates a `smol` and a `tokio` test from one async scenario.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod smol_rt {
            $(#[test] fn $name() { $crate::support::on_smol(super::$name()) })*
        }
        mod tokio_rt {
            $(#[test] fn $name() { $crate::support::on_tokio(super::$name()) })*
        }
    };
}

/// A sink that forwards every write to a channel, so a test can wait for bytes to arrive,
/// and counts writes and flushes. It fails with `BrokenPipe` after `ok_writes` writes.
pub struct Recorder {
    tx: async_channel::Sender<Vec<u8>>,
    pub writes: Arc<AtomicUsize>,
    pub flushes: Arc<AtomicUsize>,
    ok_writes: usize,
}

/// The test's end of a [`Recorder`].
pub struct Recording {
    rx: async_channel::Receiver<Vec<u8>>,
    pub writes: Arc<AtomicUsize>,
    pub flushes: Arc<AtomicUsize>,
}

pub fn recorder() -> (Recorder, Recording) {
    failing_after(usize::MAX)
}

pub fn failing_after(ok_writes: usize) -> (Recorder, Recording) {
    let (tx, rx) = async_channel::unbounded();
    let writes = Arc::new(AtomicUsize::new(0));
    let flushes = Arc::new(AtomicUsize::new(0));
    let sink = Recorder {
        tx,
        writes: writes.clone(),
        flushes: flushes.clone(),
        ok_writes,
    };
    (
        sink,
        Recording {
            rx,
            writes,
            flushes,
        },
    )
}

impl Recording {
    /// Waits for the next write's bytes.
    pub async fn next_write(&self) -> Vec<u8> {
        guard(self.rx.recv()).await.expect("the sink is gone")
    }

    /// Collects writes into `so_far` until they end with `tail`.
    pub async fn until_ends_with(&self, so_far: &mut Vec<u8>, tail: &[u8]) {
        guard(async {
            while !so_far.ends_with(tail) {
                so_far.extend(self.next_write().await);
            }
        })
        .await
    }

    /// Everything written, once the sink has been dropped.
    pub fn rest(&self) -> Vec<u8> {
        let mut all = Vec::new();
        while let Ok(chunk) = self.rx.try_recv() {
            all.extend(chunk);
        }
        all
    }

    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    pub fn flushes(&self) -> usize {
        self.flushes.load(Ordering::SeqCst)
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let done = self.writes.fetch_add(1, Ordering::SeqCst);
        if done >= self.ok_writes {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let _ = self.tx.try_send(buf.to_vec());
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flushes.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A client that never reads: every write waits forever.
pub struct Stuck;

impl AsyncWrite for Stuck {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Pending
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Pending
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Pending
    }
}

/// Splits a wire capture into its frames (each without its closing blank line).
pub fn frames(wire: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(wire).expect("utf-8 on the wire");
    let mut frames: Vec<String> = text.split("\n\n").map(str::to_owned).collect();
    assert_eq!(
        frames.pop().as_deref(),
        Some(""),
        "the wire ends mid-frame: {text:?}"
    );
    frames
}
