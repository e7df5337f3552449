//! What the benchmarks share (`cargo bench -p sse-pump-benches`): the path a server
//! actually takes, for the encode benches' `sse_body` and `pump` rows, and a heap counter.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    io,
    pin::Pin,
    sync::atomic::{AtomicUsize, Ordering},
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_lite::{future, AsyncWrite, StreamExt};
use sse_pump::{channel, Event, Sse};

/// The channel's capacity on the served paths: the README's examples use 16 to 32; a
/// server that expects bursts, more.
pub const CAPACITY: usize = 64;

/// `n` events, each built by `make` and sent one at a time with `Sender::send` by a
/// producer, read out of `Sse::into_stream()` frame by frame (`each` sees every frame):
/// what a server built on this crate does per event. `SseBody` is that stream and nothing
/// more (it forwards each frame as it is), so this is the hyper path without the `http`
/// feature, which the benchmarks' package leaves off (enabling it here would turn it on for
/// every workspace build). Producer and stream run on one thread, as a producer task and
/// its stream share a current-thread runtime.
pub fn served_body(n: usize, make: impl Fn() -> Event, mut each: impl FnMut(Bytes)) {
    let (tx, rx) = channel(CAPACITY);
    let mut frames = Sse::new(rx).keep_alive(None).into_stream();
    let producer = async move {
        for _ in 0..n {
            tx.send(make()).await.expect("the body reads to the end");
        }
    };
    let reader = async {
        while let Some(frame) = frames.next().await {
            each(frame.expect("no error on this stream"));
        }
    };
    future::block_on(future::zip(producer, reader));
}

/// [`served_body`] through `Sse::pump` into an in-memory [`AsyncWrite`] that hands every
/// write to `each` and discards it.
pub fn served_pump(n: usize, make: impl Fn() -> Event, each: impl FnMut(&[u8]) + Unpin) {
    let (tx, rx) = channel(CAPACITY);
    let mut sink = Sink(each);
    let producer = async move {
        for _ in 0..n {
            tx.send(make()).await.expect("the pump writes to the end");
        }
    };
    let pump = Sse::new(rx).keep_alive(None).pump(&mut sink);
    let (_, report) = future::block_on(future::zip(producer, pump));
    assert_eq!(
        report.expect("an in-memory sink never fails").events,
        n as u64
    );
}

/// An in-memory writer: every write goes to the closure, then is dropped.
struct Sink<F>(F);

impl<F: FnMut(&[u8]) + Unpin> AsyncWrite for Sink<F> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        (self.get_mut().0)(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The system allocator, counting the bytes allocated now: a benchmark installs it with
/// `#[global_allocator] static GLOBAL: Counting = Counting;` and reads [`allocated`].
pub struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// Heap bytes allocated now, through [`Counting`].
pub fn allocated() -> usize {
    ALLOCATED.load(Ordering::SeqCst)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}
