//! The body of an open stream, under the idle timeout.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use http_body::{Body, Frame};
use pin_project_lite::pin_project;

use crate::{client::error::BoxError, client::EventSourceTimeout, timer::Clock};

pin_project! {
    /// A body that fails with [`EventSourceTimeout::Idle`] when no frame came for `idle`: a
    /// server that stops sending, keep-alives included, is left rather than waited on.
    /// A frame only notes the time: the timer is moved when it fires, not per frame
    /// (resetting a `futures-timer` delay wakes its thread).
    pub(crate) struct Watched<B> {
        #[pin]
        body: B,
        idle: Duration,
        clock: Clock,
    }
}

impl<B> Watched<B> {
    pub(crate) fn new(body: B, idle: Duration) -> Self {
        Watched {
            body,
            idle,
            clock: Clock::new(),
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
                Poll::Ready(frame.map(|frame| frame.map_err(Into::into)))
            }
            Poll::Pending => match this.clock.poll_due(Some(*this.idle), cx) {
                Poll::Ready(()) => {
                    Poll::Ready(Some(Err(EventSourceTimeout::Idle(*this.idle).into())))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }
}
