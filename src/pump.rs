//! The pump: source to writer, with coalescing, keep-alive, send timeout and shutdown.

use std::{future::Future, io, pin::Pin, task::Poll};

use bytes::{Bytes, BytesMut};
use futures_lite::{future::poll_fn, AsyncWrite};

use crate::{
    frames::{gather, Batch, Clock, Deadline},
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
pub(crate) async fn run<S, W, H>(
    source: S,
    config: Config,
    writer: W,
    hangup: H,
) -> Result<Report, PumpError>
where
    S: Source,
    W: AsyncWrite + Unpin,
    H: Future<Output = ()>,
{
    futures_lite::pin!(source);
    futures_lite::pin!(hangup);
    let shutdown = async {
        match &config.shutdown {
            Some(signal) => signal.wait().await,
            None => std::future::pending().await,
        }
    };
    futures_lite::pin!(shutdown);
    let mut pump = Pump {
        out: Out {
            writer,
            deadline: Deadline::new(config.send_timeout),
            buf: BytesMut::new(),
            ending: config.line_ending,
        },
        clock: Clock::new(config.keep_alive.as_ref().map(|ka| ka.interval)),
        report: Report::default(),
    };

    if let Some(head) = &config.head {
        let written = write_flush(&mut pump.out.writer, head, &mut pump.out.deadline).await;
        if let Err(error) = written {
            return Err(pump.fail(error, source.as_mut()));
        }
        pump.report.bytes += head.len() as u64;
    }
    if let Some(retry) = config.retry {
        let frame = Event::new().retry(retry).into_bytes();
        pump.write(&frame, source.as_mut()).await?;
    }
    loop {
        let wake = poll_fn(|cx| {
            if shutdown.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Shutdown);
            }
            if hangup.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Hangup);
            }
            if let Poll::Ready(next) = source.as_mut().poll_next(cx) {
                return Poll::Ready(next.map_or(Wake::SourceEnded, Wake::Event));
            }
            pump.clock.poll_due(cx).map(|()| Wake::Ping)
        })
        .await;
        match wake {
            Wake::Event(first) => {
                if pump.batch(first, source.as_mut(), config.coalesce).await? {
                    return Ok(pump.source_ended(source));
                }
            }
            Wake::SourceEnded => return Ok(pump.source_ended(source)),
            Wake::Ping => {
                let ping = config.keep_alive.as_ref().map(|ka| ka.ping_frame());
                pump.write(&ping.unwrap_or_default(), source.as_mut())
                    .await?;
                pump.report.pings += 1;
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
    }
}

struct Pump<W> {
    out: Out<W>,
    clock: Clock,
    report: Report,
}

impl<W: AsyncWrite + Unpin> Pump<W> {
    /// Writes `first` and the events already queued behind it, gathering up to `limit`
    /// bytes per write; an event that would overflow a write starts the next one. Returns
    /// whether the source ended.
    async fn batch<S: Source>(
        &mut self,
        first: Event,
        mut source: Pin<&mut S>,
        limit: usize,
    ) -> Result<bool, PumpError> {
        let mut carry = Some(first.into_bytes());
        let mut ended = false;
        while let Some(first) = carry.take() {
            let batch = if ended {
                Batch::alone(first)
            } else {
                let mut first = Some(first);
                let (out, ending) = (&mut self.out.buf, self.out.ending);
                poll_fn(|cx| {
                    let first = first.take().expect("polled once");
                    Poll::Ready(gather(first, source.as_mut(), cx, limit, ending, out))
                })
                .await
            };
            (carry, ended) = (batch.carry, batch.ended);
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

    /// Writes one frame that is not an event: the retry frame, a ping or the farewell.
    async fn write<S: Source>(
        &mut self,
        frame: &Bytes,
        source: Pin<&mut S>,
    ) -> Result<(), PumpError> {
        match self.out.write_frame(frame).await {
            Ok(bytes) => {
                self.report.bytes += bytes as u64;
                self.clock.touch();
                Ok(())
            }
            Err(error) => Err(self.fail(error, source)),
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
    async fn write_frame(&mut self, frame: &[u8]) -> Result<usize, Error> {
        if self.ending == crate::LineEnding::Lf {
            return write_flush(&mut self.writer, frame, &mut self.deadline).await;
        }
        self.buf.clear();
        self.ending.extend(&mut self.buf, frame);
        self.write_buf().await
    }

    async fn write_buf(&mut self) -> Result<usize, Error> {
        write_flush(&mut self.writer, &self.buf, &mut self.deadline).await
    }
}

/// Writes all of `bytes` and flushes, within the deadline. Returns the bytes written.
async fn write_flush<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
    deadline: &mut Deadline,
) -> Result<usize, Error> {
    let mut rest = bytes;
    deadline.disarm();
    poll_fn(|cx| {
        while !rest.is_empty() {
            match Pin::new(&mut *writer).poll_write(cx, rest) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => rest = &rest[n..],
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return deadline.poll_expired(cx),
            }
        }
        match Pin::new(&mut *writer).poll_flush(cx) {
            Poll::Pending => deadline.poll_expired(cx),
            done => done,
        }
    })
    .await
    .map_err(|e| match deadline.limit {
        Some(limit) if e.kind() == io::ErrorKind::TimedOut && deadline.armed => {
            Error::SendTimeout(limit)
        }
        _ => Error::Disconnected(e),
    })?;
    Ok(bytes.len())
}
