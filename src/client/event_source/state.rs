//! The state machine behind [`EventSource`]'s `Stream` implementation.

use bytes::Buf;

use super::*;

/// Where an [`EventSource`] is.
pub(super) enum State<F: Fetch> {
    /// About to send a request.
    Idle,
    /// Waiting for the response, until the response timeout.
    Connecting(Pin<Box<F::Future>>, Delay),
    /// Reading events, under the idle timeout.
    Open(Pin<Box<DecodeBody<Watched<F::Body>>>>),
    /// Reading the start of a rejected response's body.
    Rejecting(Box<Rejecting<F::Body>>),
    /// Waiting before the next attempt.
    Waiting(Delay),
    /// Ended.
    Done,
}

impl<F: Fetch> State<F> {
    pub(super) fn name(&self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connecting(..) => "Connecting",
            State::Open(_) => "Open",
            State::Rejecting(_) => "Rejecting",
            State::Waiting(_) => "Waiting",
            State::Done => "Done",
        }
    }
}

/// A rejected response whose body is being collected, up to [`Rejected::BODY_LIMIT`] and
/// until a deadline: a server that stalls it does not hold the rejection back.
pub(super) struct Rejecting<B> {
    rejected: Rejected,
    collected: Vec<u8>,
    body: Pin<Box<B>>,
    deadline: Delay,
}

impl<B: Body> Rejecting<B> {
    /// Polls until the limit, the end of the body, an error or the deadline.
    fn poll_collect(&mut self, cx: &mut Context<'_>) -> Poll<Rejected> {
        while self.collected.len() < Rejected::BODY_LIMIT {
            let frame = match self.body.as_mut().poll_frame(cx) {
                Poll::Ready(frame) => frame,
                Poll::Pending => {
                    ready!(Pin::new(&mut self.deadline).poll(cx));
                    break;
                }
            };
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(mut data) = frame.into_data() {
                        while data.has_remaining() && self.collected.len() < Rejected::BODY_LIMIT {
                            let room = Rejected::BODY_LIMIT - self.collected.len();
                            let chunk = data.chunk();
                            let take = chunk.len().min(room);
                            self.collected.extend_from_slice(&chunk[..take]);
                            data.advance(take);
                        }
                    }
                }
                Some(Err(_)) | None => break,
            }
        }
        let mut rejected = self.rejected.clone();
        rejected.body = std::mem::take(&mut self.collected).into();
        Poll::Ready(rejected)
    }
}

/// What one transition produced.
pub(super) enum Step {
    /// Poll again.
    Again,
    /// Yield an item.
    Yield(Result<EventSourceItem, EventSourceError>),
    /// End the stream.
    End,
}

impl<F: Fetch> Stream for EventSource<F> {
    type Item = Result<EventSourceItem, EventSourceError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let step = match &mut this.state {
                State::Idle => this.connect(),
                State::Connecting(future, deadline) => match future.as_mut().poll(cx) {
                    Poll::Ready(Ok(response)) => this.on_response(response),
                    Poll::Ready(Err(e)) => this.on_failure(Some(e.into())),
                    Poll::Pending => {
                        ready!(Pin::new(deadline).poll(cx));
                        let timeout = EventSourceTimeout::Response(this.timeouts.response);
                        this.on_failure(Some(timeout.into()))
                    }
                },
                State::Open(events) => match ready!(events.as_mut().poll_next(cx)) {
                    Some(item) => this.on_read(item),
                    None => this.on_failure(None),
                },
                State::Rejecting(rejecting) => {
                    let rejected = ready!(rejecting.poll_collect(cx));
                    this.state = State::Done;
                    Step::Yield(Err(EventSourceError::Rejected(Box::new(rejected))))
                }
                State::Waiting(delay) => {
                    ready!(Pin::new(delay).poll(cx));
                    this.state = State::Idle;
                    Step::Again
                }
                State::Done => Step::End,
            };
            match step {
                Step::Again => {}
                Step::Yield(item) => return Poll::Ready(Some(item)),
                Step::End => return Poll::Ready(None),
            }
        }
    }
}

impl<F: Fetch> EventSource<F> {
    /// Sends the request; says so if the last event ID could not go in it.
    fn connect(&mut self) -> Step {
        let (request, unsent) = self.request();
        let future = Box::pin(self.fetch.fetch(request));
        self.state = State::Connecting(future, Delay::new(self.timeouts.response));
        match unsent {
            Some(id) => Step::Yield(Err(EventSourceError::LastEventIdNotSent(id))),
            None => Step::Again,
        }
    }

    /// Checks a response: open, stop (204) or reject.
    fn on_response(&mut self, response: Response<F::Body>) -> Step {
        let (parts, body) = response.into_parts();
        if parts.status == http::StatusCode::NO_CONTENT {
            self.state = State::Done;
            return Step::End;
        }
        if parts.status == http::StatusCode::OK && is_event_stream(&parts.headers) {
            let events = decode_body_with(self.decoder(), Watched::new(body, self.timeouts.idle));
            self.state = State::Open(Box::pin(events));
            self.opened_at = Some(Instant::now());
            return Step::Yield(Ok(EventSourceItem::Open));
        }
        self.state = State::Rejecting(Box::new(Rejecting {
            rejected: Rejected::new(parts.status, parts.headers, bytes::Bytes::new()),
            collected: Vec::new(),
            body: Box::pin(body),
            deadline: Delay::new(self.timeouts.rejection),
        }));
        Step::Again
    }

    /// Handles what the open stream yielded.
    fn on_read(&mut self, item: Result<MessageEvent, ReadError<BoxError>>) -> Step {
        match item {
            Ok(event) => {
                self.attempt = 0; // an event: the connection is healthy
                Step::Yield(Ok(EventSourceItem::Event(event)))
            }
            Err(ReadError::Decode(e)) => Step::Yield(Err(EventSourceError::Decode(e))),
            Err(ReadError::Transport(e)) => self.on_failure(Some(e)),
        }
    }

    /// A failed attempt or a lost connection: announce the next attempt, or give up.
    fn on_failure(&mut self, cause: Option<BoxError>) -> Step {
        if let State::Open(events) = &self.state {
            let decoder = events.decoder();
            self.last_event_id = decoder.last_event_id().to_owned();
            self.retry = decoder.reconnection_time().or(self.retry);
        }
        let healthy = self.backoff.healthy_period();
        if self
            .opened_at
            .take()
            .is_some_and(|at| at.elapsed() >= healthy)
        {
            self.attempt = 0;
        }
        self.attempt = self.attempt.saturating_add(1);
        if let Some(max) = self.backoff.attempt_limit() {
            if self.attempt > max {
                self.state = State::Done;
                let attempts = self.attempt - 1;
                #[cfg(feature = "tracing")]
                tracing::warn!(target: "sse_pump::client", uri = %self.uri, attempts, "event source gave up");
                return Step::Yield(Err(EventSourceError::Exhausted {
                    attempts,
                    last: cause,
                }));
            }
        }
        let after = self.backoff.delay(self.retry, self.attempt, self.rng.f64());
        self.state = State::Waiting(Delay::new(after));
        let attempt = self.attempt;
        #[cfg(feature = "tracing")]
        tracing::info!(
            target: "sse_pump::client",
            uri = %self.uri,
            attempt,
            after = ?after,
            last_event_id = %self.last_event_id,
            cause = cause.as_ref().map(tracing::field::display),
            "event source reconnecting"
        );
        Step::Yield(Ok(EventSourceItem::Reconnecting {
            after,
            attempt,
            cause,
        }))
    }
}

/// Whether the content type's essence is `text/event-stream`.
fn is_event_stream(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/event-stream")
}
