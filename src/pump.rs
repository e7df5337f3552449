//! The pump: source to writer, with coalescing, keep-alive, send timeout and shutdown.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{ready, Poll},
};

use bytes::{Bytes, BytesMut};
use futures_lite::{future::poll_fn, AsyncWrite};

use crate::{
    frames::{gather, Clock, Deadline},
    sse::Config,
    Ended, Error, Event, PumpError, Report, Source,
};

/// What woke the pump.
enum Wake {
    Event(Event),
    SourceEnded,
    Ping,
    Shutdown,
    Hangup,
}

/// Pumps `source` into `writer` until the source ends, a shutdown, a failed write, or
/// `hangup`: a future that resolves when the client is known to be gone without a write
/// failing (its side of the connection closed), which ends the pump as a disconnect.
#[allow(clippy::manual_async_fn)] // smaller futures: see the comment in `run`
pub(crate) fn run<S, W, H>(
    source: S,
    config: Config,
    writer: W,
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
        futures_lite::pin!(source);
        let mut shutdown = None; // the listener, once registered
        let mut pump = Pump {
            out: Out {
                writer,
                deadline: Deadline::new(config.send_timeout),
                buf: BytesMut::new(),
                ending: config.line_ending,
            },
            clock: config.clock(),
            report: Report::default(),
        };

        if let Some(head) = &config.head {
            let written = write_flush(&mut pump.out.writer, head, &mut pump.out.deadline).await;
            if let Err(error) = written {
                return Err(pump.fail(error, source.as_mut()));
            }
            pump.report.bytes += head.len() as u64;
        }
        if let Some(frame) = config.retry_frame() {
            pump.write(&frame, source.as_mut()).await?;
        }
        loop {
            // In a block of its own, so that `wake` is not kept beside the batch's future.
            let first = {
                let wake = poll_fn(|cx| {
                    if let Some(signal) = &config.shutdown {
                        if signal.poll_triggered(&mut shutdown, cx).is_ready() {
                            return Poll::Ready(Wake::Shutdown);
                        }
                    }
                    if Pin::new(&mut hangup).poll(cx).is_ready() {
                        return Poll::Ready(Wake::Hangup);
                    }
                    if let Poll::Ready(next) = source.as_mut().poll_next(cx) {
                        return Poll::Ready(next.map_or(Wake::SourceEnded, Wake::Event));
                    }
                    pump.clock.poll_due(cx).map(|()| Wake::Ping)
                })
                .await;
                match wake {
                    Wake::Event(first) => Some(first.into_bytes()),
                    Wake::SourceEnded => return Ok(pump.source_ended(source)),
                    Wake::Ping => {
                        pump.write(&config.ping(), source.as_mut()).await?;
                        pump.report.pings += 1;
                        continue;
                    }
                    Wake::Hangup => {
                        let gone = io::Error::from(io::ErrorKind::ConnectionReset);
                        return Err(pump.fail(Error::Disconnected(gone), source.as_mut()));
                    }
                    Wake::Shutdown => {
                        pump.report.undelivered += source.as_mut().close();
                        if let Some(farewell) = &config.farewell {
                            let limit = config
                                .send_timeout
                                .map_or(config.grace, |t| t.min(config.grace));
                            pump.out.deadline = Deadline::new(Some(limit));
                            pump.write(&farewell.clone().into_bytes(), source.as_mut())
                                .await?;
                            pump.report.events += 1;
                        }
                        return Ok(pump.end(Ended::Shutdown));
                    }
                }
            };
            if pump.batch(first, source.as_mut(), config.coalesce).await? {
                return Ok(pump.source_ended(source));
            }
        }
    }
}

struct Pump<W> {
    out: Out<W>,
    clock: Clock,
    report: Report,
}

impl<W: AsyncWrite + Unpin> Pump<W> {
    /// Writes the `carry` frame and the events already queued behind it, gathering up to `limit`
    /// bytes per write; an event that would overflow a write starts the next one. Returns
    /// whether the source ended.
    // The methods here return `async move` blocks rather than being `async fn`s, which
    // would keep their arguments twice in the future (rust-lang/rust#62958).
    #[allow(clippy::manual_async_fn)] // smaller futures: see the comment in `run`
    fn batch<'a, S: Source>(
        &'a mut self,
        mut carry: Option<Bytes>,
        mut source: Pin<&'a mut S>,
        limit: usize,
    ) -> impl Future<Output = Result<bool, PumpError>> + 'a {
        async move {
            let mut ended = false;
            while carry.is_some() {
                // Once the source has ended, what is left goes out alone.
                let limit = if ended { 0 } else { limit };
                let (out, ending) = (&mut self.out.buf, self.out.ending);
                let batch = poll_fn(|cx| {
                    let first = carry.take().expect("checked above, polled once");
                    Poll::Ready(gather(first, source.as_mut(), cx, limit, ending, out))
                })
                .await;
                carry = batch.carry;
                ended |= batch.ended;
                let written = match &batch.alone {
                    Some(frame) => self.out.write_frame(frame).await,
                    None => self.out.write_buf().await,
                };
                match written {
                    Ok(bytes) => {
                        self.report.events += batch.events;
                        self.report.bytes += bytes as u64;
                        self.clock.touch();
                    }
                    Err(error) => {
                        self.report.undelivered += batch.events + u64::from(carry.is_some());
                        return Err(self.fail(error, source));
                    }
                }
            }
            Ok(ended)
        }
    }

    /// Writes one frame that is not an event: the retry frame, a ping or the farewell.
    #[allow(clippy::manual_async_fn)] // smaller futures: see the comment in `run`
    fn write<'a, S: Source>(
        &'a mut self,
        frame: &'a Bytes,
        source: Pin<&'a mut S>,
    ) -> impl Future<Output = Result<(), PumpError>> + 'a {
        async move {
            match self.out.write_frame(frame).await {
                Ok(bytes) => {
                    self.report.bytes += bytes as u64;
                    self.clock.touch();
                    Ok(())
                }
                Err(error) => Err(self.fail(error, source)),
            }
        }
    }

    fn fail<S: Source>(&mut self, error: Error, source: Pin<&mut S>) -> PumpError {
        self.report.undelivered += source.close();
        self.report.ended = match error {
            Error::SendTimeout(_) => Ended::SendTimeout,
            _ => Ended::Disconnected,
        };
        PumpError {
            error,
            report: std::mem::take(&mut self.report),
        }
    }

    /// Ends after the source did, asking it whether it failed.
    fn source_ended<S: Source>(&mut self, source: Pin<&mut S>) -> Report {
        let ended = self.report.source_ended(source.take_error());
        self.end(ended)
    }

    fn end(&mut self, ended: Ended) -> Report {
        self.report.ended = ended;
        std::mem::take(&mut self.report)
    }
}

/// The writer, with the send timeout and the line-ending conversion buffer.
struct Out<W> {
    writer: W,
    deadline: Deadline,
    buf: BytesMut,
    ending: crate::LineEnding,
}

impl<W: AsyncWrite + Unpin> Out<W> {
    /// Writes and flushes a frame encoded with `\n`, converting its line ends if need be.
    fn write_frame<'a>(
        &'a mut self,
        frame: &'a [u8],
    ) -> impl Future<Output = Result<usize, Error>> + 'a {
        let bytes = if self.ending == crate::LineEnding::Lf {
            frame
        } else {
            self.buf.clear();
            self.ending.extend(&mut self.buf, frame);
            &self.buf[..]
        };
        write_flush(&mut self.writer, bytes, &mut self.deadline)
    }

    fn write_buf(&mut self) -> impl Future<Output = Result<usize, Error>> + '_ {
        write_flush(&mut self.writer, &self.buf, &mut self.deadline)
    }
}

/// Writes all of `bytes` and flushes, within the deadline. Returns the bytes written.
fn write_flush<'a, W: AsyncWrite + Unpin>(
    writer: &'a mut W,
    bytes: &'a [u8],
    deadline: &'a mut Deadline,
) -> impl Future<Output = Result<usize, Error>> + 'a {
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
        Poll::Ready(
            done.map(|()| bytes.len())
                .map_err(|e| match deadline.limit {
                    Some(limit) if e.kind() == io::ErrorKind::TimedOut && deadline.armed => {
                        Error::SendTimeout(limit)
                    }
                    _ => Error::Disconnected(e),
                }),
        )
    })
}
