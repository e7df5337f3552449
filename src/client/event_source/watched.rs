//! The body of an open stream, under the idle and progress timeouts.

use std::{
    future::Future,
    pin::Pin,
    task::{ready, Context, Poll},
    time::{Duration, Instant},
};

use bytes::Buf;
use futures_timer::Delay;
use http_body::{Body, Frame};
use pin_project_lite::pin_project;

use super::Timeouts;
use crate::{
    client::error::{BoxError, Error},
    timer::Clock,
};

pin_project! {
    /// A body that fails with [`Error::IdleTimeout`](crate::client::Error::IdleTimeout) when no frame came for the idle timeout
    /// (a server that stops sending, keep-alives included, is left rather than waited on),
    /// and with [`Error::ProgressTimeout`](crate::client::Error::ProgressTimeout) when a line stays unfinished for the progress
    /// timeout while bytes come (a server that trickles a line and never ends it).
    /// A frame only notes the time: the timers are moved when they fire, not per frame
    /// (resetting a `futures-timer` delay wakes its thread).
    pub(crate) struct Watched<B> {
        #[pin]
        body: B,
        idle: Duration,
        clock: Clock,
        progress: Progress,
    }
}

impl<B> Watched<B> {
    pub(crate) fn new(body: B, timeouts: Timeouts) -> Self {
        Watched {
            body,
            idle: timeouts.idle,
            clock: Clock::new(),
            progress: Progress::new(timeouts.progress),
        }
    }
}

impl<B> Body for Watched<B>
where
    B: Body<Error: Into<BoxError>>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let this = self.project();
        match this.body.poll_frame(cx) {
            Poll::Ready(frame) => {
                this.clock.touch(Some(*this.idle));
                if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref)) {
                    this.progress.saw(data);
                }
                Poll::Ready(frame.map(|frame| frame.map_err(Into::into)))
            }
            Poll::Pending => {
                if this.progress.poll_stalled(cx).is_ready() {
                    let stalled = Error::ProgressTimeout(this.progress.limit);
                    return Poll::Ready(Some(Err(stalled.into())));
                }
                ready!(this.clock.poll_due(Some(*this.idle), cx));
                Poll::Ready(Some(Err(Error::IdleTimeout(*this.idle).into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }
}

/// Whether lines get completed: the time the unfinished line (the bytes after the last
/// CR or LF) began, if there is one. Shared by the async and the blocking client.
pub(crate) struct Progress {
    pub(crate) limit: Duration,
    unfinished_since: Option<Instant>,
    /// Set once, moved when it fires early (as [`Clock`]'s).
    delay: Option<Delay>,
}

impl Progress {
    pub(crate) fn new(limit: Duration) -> Self {
        Progress {
            limit,
            unfinished_since: None,
            delay: None,
        }
    }

    /// Notes a data frame: a line end completes a line; bytes after the last one start (or
    /// continue) an unfinished line. One search from the end, which usually stops at once.
    fn saw(&mut self, data: Option<&impl Buf>) {
        let Some(data) = data.filter(|data| data.has_remaining()) else {
            return;
        };
        match data.chunk() {
            bytes if bytes.len() == data.remaining() => self.saw_bytes(bytes),
            // A frame in several pieces (rare): counted as progress rather than searched.
            _ => self.unfinished_since = None,
        }
    }

    /// Notes bytes read.
    pub(crate) fn saw_bytes(&mut self, bytes: &[u8]) {
        match memchr::memrchr2(b'\r', b'\n', bytes) {
            Some(at) if at + 1 == bytes.len() => self.unfinished_since = None,
            Some(_) => self.unfinished_since = Some(Instant::now()),
            None if bytes.is_empty() => {}
            None => {
                self.unfinished_since.get_or_insert_with(Instant::now);
            }
        }
    }

    /// When the unfinished line, if any, runs out of time.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.unfinished_since.map(|since| since + self.limit)
    }

    /// Ready once a line has stayed unfinished for the limit.
    fn poll_stalled(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(since) = self.unfinished_since else {
            return Poll::Pending;
        };
        let delay = self.delay.get_or_insert_with(|| Delay::new(self.limit));
        loop {
            let waited = since.elapsed();
            if waited >= self.limit {
                return Poll::Ready(());
            }
            // Due later than the delay says (it was set for an earlier line): moved.
            ready!(Pin::new(&mut *delay).poll(cx));
            delay.reset(self.limit - waited);
        }
    }
}
