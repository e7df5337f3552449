//! The delivery machine: every rule of sending a stream, with no IO.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use bytes::{Bytes, BytesMut};
use futures_lite::Stream;

use super::gather::{gather, Queued};
use super::{
    channel::Source,
    config::Config,
    report::{Ended, Report},
};
use crate::{
    timer::Clock,
    wire::{Event, LineEnding},
};

pin_project_lite::pin_project! {
    /// A stream's frames, ready to write: the opening frame (a raw response head, the
    /// `retry` frame), batches of queued events, keep-alive pings when quiet, the farewell on
    /// shutdown. Every transport (the pump into an `AsyncWrite`, the HTTP body) writes what
    /// this yields and nothing else, so the rules live here once.
    ///
    /// A frame counts as delivered once the transport asks for the next one; a transport
    /// that cannot deliver the last frame calls [`Frames::abort`], which counts it, and
    /// everything still queued, as undelivered.
    pub(crate) struct Frames<S> {
        #[pin]
        source: S,
        state: State,
    }
}

struct State {
    config: Config,
    clock: Clock,
    shutdown: Option<event_listener::EventListener>,
    phase: Phase,
    /// A message that did not fit in the last frame; it starts the next one.
    carry: Option<Queued>,
    source_ended: bool,
    /// What the frame last handed out holds; counted when the next one is asked for.
    in_flight: InFlight,
    /// Whether the frame last handed out is a ping (beside `in_flight`, where it would
    /// take a padded word of its own).
    ping_in_flight: bool,
    /// How many events `buf` holds back while their producer refills the source (see
    /// [`State::batch`]); 0 when `buf` is empty or holds the opening.
    held: u32,
    /// Frames held back, or in [`Phase::Opening`] what is written before anything else: a
    /// raw response head, then the `retry` frame (there, rather than in a field of its
    /// own, to keep each stream's state small).
    buf: BytesMut,
    report: Report,
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `buf` holds the opening frames.
    Opening,
    Live,
    /// The farewell was handed out: the stream ends once it is delivered.
    Farewell,
    Done,
}

#[derive(Clone, Copy, Default)]
struct InFlight {
    events: u64,
    bytes: u64,
}

impl<S: Source> Frames<S> {
    /// The machine of `source` delivered with `config`, which first writes `head` as it is
    /// (empty but for a raw HTTP response's head).
    pub(crate) fn new(source: S, config: Config, head: &[u8]) -> Self {
        let mut state = State {
            clock: Clock::new(),
            shutdown: None,
            phase: Phase::Live,
            carry: None,
            source_ended: false,
            in_flight: InFlight::default(),
            ping_in_flight: false,
            held: 0,
            buf: BytesMut::new(),
            report: Report::default(),
            #[cfg(feature = "tracing")]
            span: super::trace::stream_span(config.trace.as_deref()),
            config,
        };
        if let Some(retry) = state.config.retry_frame() {
            state.config.line_ending.extend(&mut state.buf, &retry);
            state.phase = Phase::Opening;
        }
        let mut frames = Frames { source, state };
        frames.open_with(head);
        frames
    }

    /// Writes `head` before anything else, as it is (the head of a raw HTTP response), in
    /// one frame with the `retry` frame.
    fn open_with(&mut self, head: &[u8]) {
        if head.is_empty() {
            return;
        }
        let mut opening = BytesMut::from(head);
        opening.extend_from_slice(&self.state.buf);
        self.state.buf = opening;
        self.state.phase = Phase::Opening;
    }

    /// How long the transport may take to deliver the frame last handed out: the send
    /// timeout, or for the farewell the shutdown grace if that is shorter.
    pub(crate) fn send_limit(&self) -> Option<Duration> {
        let config = &self.state.config;
        match self.state.phase {
            Phase::Farewell => Some(
                config
                    .send_timeout
                    .map_or(config.grace, |t| t.min(config.grace)),
            ),
            _ => config.send_timeout,
        }
    }

    /// Whether the stream has ended: the transport took every frame, or it was aborted.
    pub(crate) fn is_done(&self) -> bool {
        self.state.phase == Phase::Done
    }

    /// The transport delivered the frame last handed out. Asking for the next frame says
    /// the same; this is for a transport that learns it before it asks.
    pub(crate) fn delivered(self: Pin<&mut Self>) {
        self.project().state.delivered();
    }

    /// The transport could not deliver the last frame (`ended` says why): it and every
    /// queued event count as undelivered, and the source is closed, so producers learn the
    /// stream is gone. Does nothing once the stream has ended.
    pub(crate) fn abort(self: Pin<&mut Self>, ended: Ended) {
        let this = self.project();
        if this.state.phase == Phase::Done {
            return;
        }
        let state = this.state;
        let lost = state.in_flight.events
            + state.carry.take().map_or(0, |m| m.events)
            + u64::from(state.drop_held());
        state.in_flight = InFlight::default();
        state.ping_in_flight = false;
        state.report.undelivered += lost + this.source.close();
        state.finish(ended);
    }

    /// The report so far; complete once the stream has ended. Takes it out.
    pub(crate) fn take_report(self: Pin<&mut Self>) -> Report {
        std::mem::take(&mut self.project().state.report)
    }

    /// The report so far, complete once the stream has ended.
    pub(crate) fn report(&self) -> &Report {
        &self.state.report
    }

    /// The source, to ask it things that are not events.
    pub(crate) fn source(&self) -> &S {
        &self.source
    }
}

impl<S: Source> Stream for Frames<S> {
    type Item = Bytes;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = self.project();
        let (state, mut source) = (this.state, this.source);
        state.delivered();
        match state.phase {
            Phase::Opening => {
                state.phase = Phase::Live;
                return state.release(); // no events held: the opening alone
            }
            Phase::Live => {}
            Phase::Farewell => {
                state.finish(Ended::Shutdown);
                return Poll::Ready(None);
            }
            Phase::Done => return Poll::Ready(None),
        }
        if state.shutdown_triggered(cx) {
            return state.shut_down(source);
        }
        if let Some(first) = state.carry.take() {
            return state.batch(first, source, cx, false);
        }
        if state.source_ended {
            return state.source_done(source);
        }
        let full = source.is_full();
        match source.as_mut().poll_message(cx, state.config.coalesce) {
            Poll::Ready(Some(message)) => state.batch(Queued::from(message), source, cx, full),
            Poll::Ready(None) if state.held > 0 => {
                state.source_ended = true;
                state.release()
            }
            Poll::Ready(None) => state.source_done(source),
            Poll::Pending if state.held > 0 => state.release(),
            Poll::Pending => state.poll_ping(cx),
        }
    }
}

impl State {
    /// The transport took the frame last handed out (it asks for the next one).
    fn delivered(&mut self) {
        let InFlight { events, bytes } = std::mem::take(&mut self.in_flight);
        let ping = std::mem::take(&mut self.ping_in_flight);
        if bytes == 0 {
            return;
        }
        self.report.events += events;
        self.report.bytes += bytes;
        self.report.pings += u64::from(ping);
        self.clock.touch(self.config.ping_interval());
    }

    /// Hands out `frame`, which holds `events` events, or is a ping.
    fn hand(&mut self, frame: Bytes, events: u64, ping: bool) -> Poll<Option<Bytes>> {
        let bytes = frame.len() as u64;
        self.in_flight = InFlight { events, bytes };
        self.ping_in_flight = ping;
        Poll::Ready(Some(frame))
    }

    /// A frame encoded with `\n`, with the stream's line ending.
    fn convert(&mut self, frame: Bytes) -> Bytes {
        if self.config.line_ending == LineEnding::Lf {
            return frame;
        }
        self.config.line_ending.extend(&mut self.buf, &frame);
        self.buf.split().freeze()
    }

    /// `first` and the messages queued behind it, as one frame.
    ///
    /// If the source was `full` when `first` was taken, its producer was waiting for
    /// room: on one thread, it can refill only once this task yields. So the frame is
    /// held back (this task wakes itself behind the producer) and grows with each
    /// refill, up to the coalescing limit: one large write instead of one per channel's
    /// worth, for the same bound on what the channel holds. It goes out as soon as the
    /// source is not full, has nothing new, or ends.
    fn batch<S: Source>(
        &mut self,
        first: Queued,
        source: Pin<&mut S>,
        cx: &mut Context<'_>,
        full: bool,
    ) -> Poll<Option<Bytes>> {
        // Once the source has ended, what is left goes out alone.
        let limit = if self.source_ended {
            0
        } else {
            self.config.coalesce
        };
        let ending = self.config.line_ending;
        let gathered = gather(
            first,
            source,
            cx,
            limit,
            ending,
            &mut self.buf,
            self.held > 0,
        );
        self.carry = gathered.carry;
        self.source_ended |= gathered.ended;
        let events = gathered.events + u64::from(std::mem::take(&mut self.held));
        let len = self.buf.len() + gathered.alone.as_ref().map_or(0, Bytes::len);
        let hold = full && self.carry.is_none() && !self.source_ended && len < limit;
        if let (true, Ok(held)) = (hold, u32::try_from(events)) {
            if let Some(frame) = gathered.alone {
                ending.extend(&mut self.buf, &frame);
            }
            self.held = held;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let frame = match gathered.alone {
            Some(frame) => self.convert(frame),
            None => self.buf.split().freeze(),
        };
        self.hand(frame, events, false)
    }

    /// Hands out the frame held back.
    fn release(&mut self) -> Poll<Option<Bytes>> {
        let events = u64::from(std::mem::take(&mut self.held));
        let frame = self.buf.split().freeze();
        self.hand(frame, events, false)
    }

    /// Drops the frame held back, returning how many events it held.
    fn drop_held(&mut self) -> u32 {
        self.buf.clear();
        std::mem::take(&mut self.held)
    }

    fn poll_ping(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        std::task::ready!(self.clock.poll_due(self.config.ping_interval(), cx));
        let ping = self.config.ping();
        let ping = self.convert(ping);
        self.hand(ping, 0, true)
    }

    fn shutdown_triggered(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(signal) = &self.config.shutdown else {
            return false;
        };
        signal.poll_triggered(&mut self.shutdown, cx).is_ready()
    }

    /// Ends on shutdown: what is queued is dropped and counted, the farewell goes last.
    fn shut_down<S: Source>(&mut self, source: Pin<&mut S>) -> Poll<Option<Bytes>> {
        let carried = self.carry.take().map_or(0, |m| m.events) + u64::from(self.drop_held());
        self.report.undelivered += source.close() + carried;
        let Some(farewell) = self
            .config
            .farewell
            .as_ref()
            .map(|e| Event::clone(e).into_bytes())
        else {
            self.finish(Ended::Shutdown);
            return Poll::Ready(None);
        };
        self.phase = Phase::Farewell;
        let frame = self.convert(farewell);
        self.hand(frame, 1, false)
    }

    /// Ends after the source did, asking it whether it failed.
    fn source_done<S: Source>(&mut self, source: Pin<&mut S>) -> Poll<Option<Bytes>> {
        let ended = self.report.source_ended(source.take_error());
        self.finish(ended);
        Poll::Ready(None)
    }

    fn finish(&mut self, ended: Ended) {
        self.phase = Phase::Done;
        self.report.ended = ended;
        #[cfg(feature = "tracing")]
        super::trace::stream_ended(&self.span, &self.report);
    }
}
