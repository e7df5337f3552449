//! The pump: the delivery machine's frames written into an `AsyncWrite`, each within the
//! send deadline.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{ready, Context, Poll},
};

use bytes::{Buf, Bytes};
use futures_lite::{AsyncWrite, Stream};

use super::{
    channel::Source,
    error::{Error, PumpError},
    frames::Frames,
    report::{Ended, Report},
};
use crate::timer::Deadline;

pin_project_lite::pin_project! {
    /// Writes `frames` into `writer` until they end, a write fails or times out, or `hangup`
    /// resolves: a future that resolves when the client is known to be gone without a write
    /// failing (its side of the connection closed), which ends the pump as a disconnect.
    ///
    /// A future by hand, not an `async` block: the block would keep the machine twice, as
    /// its captured argument and as the pinned local (rust-lang/rust#62958), and an idle
    /// stream's memory is mostly this future.
    pub(crate) struct Pump<S, W, H> {
        #[pin]
        frames: Frames<S>,
        writer: W,
        hangup: H,
        deadline: Deadline,
        // The rest of the frame being written; empty when it is written but not flushed.
        writing: Option<Bytes>,
    }
}

impl<S, W, H> Pump<S, W, H> {
    pub(crate) fn new(frames: Frames<S>, writer: W, hangup: H) -> Self {
        Pump {
            frames,
            writer,
            hangup,
            deadline: Deadline::new(None),
            writing: None,
        }
    }
}

impl<S, W, H> Future for Pump<S, W, H>
where
    S: Source,
    W: AsyncWrite + Unpin,
    H: Future<Output = ()> + Unpin,
{
    type Output = Result<Report, PumpError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // Once per poll, not per frame: a reader may try a read syscall each time (async-io
        // does), and an idle stream's ping is one frame per wake.
        if Pin::new(&mut *this.hangup).poll(cx).is_ready() {
            let gone = io::Error::from(io::ErrorKind::ConnectionReset);
            return Poll::Ready(Err(fail(this.frames, Error::Disconnected(gone))));
        }
        loop {
            if this.writing.is_some() {
                let written = ready!(write_flush(this.writer, this.writing, this.deadline, cx));
                if let Err(error) = written {
                    return Poll::Ready(Err(fail(this.frames, error)));
                }
                this.frames.as_mut().delivered();
                continue;
            }
            match ready!(this.frames.as_mut().poll_next(cx)) {
                Some(frame) => {
                    this.deadline.restart(this.frames.send_limit());
                    *this.writing = Some(frame);
                }
                None => return Poll::Ready(Ok(this.frames.take_report())),
            }
        }
    }
}

fn fail<S: Source>(mut frames: Pin<&mut Frames<S>>, error: Error) -> PumpError {
    let ended = match error {
        Error::SendTimeout(_) => Ended::SendTimeout,
        _ => Ended::Disconnected,
    };
    frames.as_mut().abort(ended);
    PumpError {
        error,
        report: frames.take_report(),
    }
}

/// Writes the rest of `writing` and flushes, within the deadline; `writing` is `None`
/// once done.
fn write_flush<W: AsyncWrite + Unpin>(
    writer: &mut W,
    writing: &mut Option<Bytes>,
    deadline: &mut Deadline,
    cx: &mut Context<'_>,
) -> Poll<Result<(), Error>> {
    let rest = writing.as_mut().expect("a frame is being written");
    let done = loop {
        if rest.is_empty() {
            match Pin::new(&mut *writer).poll_flush(cx) {
                Poll::Pending => break ready!(deadline.poll_expired(cx)),
                Poll::Ready(done) => break done,
            }
        }
        match Pin::new(&mut *writer).poll_write(cx, rest) {
            Poll::Ready(Ok(0)) => break Err(io::ErrorKind::WriteZero.into()),
            Poll::Ready(Ok(n)) => rest.advance(n),
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => break Err(e),
            Poll::Pending => break ready!(deadline.poll_expired(cx)),
        }
    };
    *writing = None;
    Poll::Ready(done.map_err(|e| match deadline.expired(&e) {
        Some(limit) => Error::SendTimeout(limit),
        None => Error::Disconnected(e),
    }))
}
