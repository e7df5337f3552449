//! The pump: the delivery machine's frames written into an `AsyncWrite`, each within the
//! send deadline.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{ready, Poll},
};

use futures_lite::{future::poll_fn, AsyncWrite, Stream};

use crate::{deliver::Frames, timer::Deadline, Ended, Error, PumpError, Report, Source};

/// Writes `frames` into `writer` until they end, a write fails or times out, or `hangup`
/// resolves: a future that resolves when the client is known to be gone without a write
/// failing (its side of the connection closed), which ends the pump as a disconnect.
#[allow(clippy::manual_async_fn)] // smaller futures: see below
pub(crate) fn run<S, W, H>(
    frames: Frames<S>,
    mut writer: W,
    mut hangup: H,
) -> impl Future<Output = Result<Report, PumpError>>
where
    S: Source,
    W: AsyncWrite + Unpin,
    H: Future<Output = ()> + Unpin,
{
    // An `async move` block rather than an `async fn`: an `async fn` keeps its arguments
    // and its moved copies of them side by side in the future (rust-lang/rust#62958),
    // hundreds of bytes per idle stream.
    async move {
        futures_lite::pin!(frames);
        let mut deadline = Deadline::new(None);
        loop {
            let next = poll_fn(|cx| {
                if Pin::new(&mut hangup).poll(cx).is_ready() {
                    return Poll::Ready(Err(()));
                }
                frames.as_mut().poll_next(cx).map(Ok)
            })
            .await;
            let frame = match next {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(frames.as_mut().take_report()),
                Err(()) => {
                    let gone = io::Error::from(io::ErrorKind::ConnectionReset);
                    return Err(fail(frames.as_mut(), Error::Disconnected(gone)));
                }
            };
            deadline.limit = frames.send_limit();
            if let Err(error) = write_flush(&mut writer, &frame, &mut deadline).await {
                return Err(fail(frames.as_mut(), error));
            }
            frames.as_mut().delivered();
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

/// Writes all of `bytes` and flushes, within the deadline.
fn write_flush<'a, W: AsyncWrite + Unpin>(
    writer: &'a mut W,
    bytes: &'a [u8],
    deadline: &'a mut Deadline,
) -> impl Future<Output = Result<(), Error>> + 'a {
    let mut rest = bytes;
    deadline.disarm();
    poll_fn(move |cx| {
        let done = loop {
            if rest.is_empty() {
                match Pin::new(&mut *writer).poll_flush(cx) {
                    Poll::Pending => break ready!(deadline.poll_expired(cx)),
                    Poll::Ready(done) => break done,
                }
            }
            match Pin::new(&mut *writer).poll_write(cx, rest) {
                Poll::Ready(Ok(0)) => break Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => rest = &rest[n..],
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => break Err(e),
                Poll::Pending => break ready!(deadline.poll_expired(cx)),
            }
        };
        Poll::Ready(done.map_err(|e| match deadline.limit {
            Some(limit) if e.kind() == io::ErrorKind::TimedOut && deadline.armed => {
                Error::SendTimeout(limit)
            }
            _ => Error::Disconnected(e),
        }))
    })
}
