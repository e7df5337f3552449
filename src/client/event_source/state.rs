//! The state machine behind [`EventSource`]'s `Stream` implementation.

use super::*;
#[cfg(feature = "tracing")]
use crate::client::error::Chain;
use crate::client::rejecting::{is_event_stream, Rejecting};

/// Where an [`EventSource`] is; `Fut` and `B` are the fetch's future and response body.
pub(super) enum State<Fut, B: Body<Error: Into<BoxError>>> {
    /// About to send a request.
    Idle,
    /// Waiting for the response, until the response timeout.
    Connecting(Pin<Box<Fut>>, Delay),
    /// Reading events, under the idle timeout.
    Open(Pin<Box<DecodeBody<Watched<B>>>>),
    /// Reading the start of a rejected response's body.
    Rejecting(Box<Rejecting<B>>),
    /// Waiting before the next attempt.
    Waiting(Delay),
    /// Ended.
    Done,
}

impl<Fut, B: Body<Error: Into<BoxError>>> State<Fut, B> {
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

/// What one transition produced.
pub(super) enum Step {
    /// Poll again.
    Again,
    /// Yield an item.
    Yield(Result<EventSourceItem, Error>),
    /// End the stream.
    End,
}

impl<F: Fetch<Q>, Q> Stream for EventSource<F, Q> {
    type Item = Result<EventSourceItem, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let step = match &mut this.state {
                State::Idle => this.connect(),
                State::Connecting(future, deadline) => match future.as_mut().poll(cx) {
                    Poll::Ready(Ok(response)) => this.on_response(response),
                    Poll::Ready(Err(e)) => this.on_failure(Some(Error::transport(e.into()))),
                    Poll::Pending => {
                        ready!(Pin::new(deadline).poll(cx));
                        let timeout = Error::ResponseTimeout(this.timeouts.response);
                        this.on_failure(Some(timeout))
                    }
                },
                State::Open(events) => match ready!(events.as_mut().poll_next(cx)) {
                    Some(item) => this.on_read(item),
                    None => this.on_failure(None),
                },
                State::Rejecting(rejecting) => {
                    let rejected = ready!(rejecting.poll_collect(cx));
                    this.state = State::Done;
                    Step::Yield(Err(rejected))
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

impl<F: Fetch<Q>, Q> EventSource<F, Q> {
    /// Builds and sends the request; says so if the last event ID could not go in it. A
    /// request that cannot be built is a failed attempt (nothing was sent).
    fn connect(&mut self) -> Step {
        let (request, unsent) = match self.request() {
            Ok(built) => built,
            Err(e) => return self.on_failure(Some(Error::Request(e))),
        };
        self.sent = Some(request.method().clone());
        #[cfg(feature = "tracing")]
        {
            self.uri = request.uri().clone();
        }
        let future = Box::pin(self.fetch.fetch(request));
        self.state = State::Connecting(future, Delay::new(self.timeouts.response));
        match unsent {
            Some(id) => Step::Yield(Err(Error::LastEventIdNotSent(id))),
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
            let events = decode_body_with(self.decoder(), Watched::new(body, self.timeouts));
            self.state = State::Open(Box::pin(events));
            self.opened_at = Some(Instant::now());
            return Step::Yield(Ok(EventSourceItem::Open));
        }
        let rejecting = Rejecting::new(parts, body, self.timeouts.rejection);
        self.state = State::Rejecting(Box::new(rejecting));
        Step::Again
    }

    /// Handles what the open stream yielded.
    fn on_read(&mut self, item: Result<MessageEvent, DecodeError<BoxError>>) -> Step {
        match item {
            Ok(event) => {
                if self.end_when.as_mut().is_some_and(|last| last(&event)) {
                    self.state = State::Done;
                }
                Step::Yield(Ok(EventSourceItem::Event(event)))
            }
            Err(e) => match e.into_limit() {
                Ok(limit) => Step::Yield(Err(Error::Decode(limit))),
                Err(e) => self.on_failure(Some(Error::transport(e))),
            },
        }
    }

    /// A failed attempt or a lost connection: announce the next attempt, or give up.
    fn on_failure(&mut self, cause: Option<Error>) -> Step {
        if let State::Open(events) = &self.state {
            let decoder = events.decoder();
            self.last_event_id = decoder.last_event_id().to_owned();
            self.retry = decoder.reconnection_time().or(self.retry);
        }
        if let Some(step) = self.not_retried(cause.as_ref()) {
            return step.unwrap_or_else(|| self.end_not_retried(cause));
        }
        self.count_attempt();
        if self
            .backoff
            .attempt_limit()
            .is_some_and(|max| self.attempt > max)
        {
            return self.give_up(cause);
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
            cause = cause.as_ref().map(|e| tracing::field::display(Chain(e))),
            "event source reconnecting"
        );
        Step::Yield(Ok(EventSourceItem::Reconnecting {
            after,
            attempt,
            cause,
        }))
    }

    /// Ends after too many consecutive attempts.
    fn give_up(&mut self, last: Option<Error>) -> Step {
        self.state = State::Done;
        let attempts = self.attempt - 1;
        #[cfg(feature = "tracing")]
        tracing::warn!(target: "sse_pump::client", uri = %self.uri, attempts, "event source gave up");
        let last = last.map(Box::new);
        Step::Yield(Err(Error::Exhausted { attempts, last }))
    }

    /// Counts the next attempt: the first again after a connection that stayed up for the
    /// healthy period (events alone do not reset the count, so that a server that sends one
    /// and closes meets a growing delay).
    fn count_attempt(&mut self) {
        let healthy = self.backoff.healthy_period();
        if (self.opened_at.take()).is_some_and(|at| at.elapsed() >= healthy) {
            self.attempt = 0;
        }
        self.attempt = self.attempt.saturating_add(1);
    }

    /// When the request that was sent must not be sent again (not idempotent, no opt-in):
    /// `Some(Some(End))` after a clean end, `Some(None)` after a failure.
    fn not_retried(&mut self, cause: Option<&Error>) -> Option<Option<Step>> {
        let method = self.sent.take()?;
        if method.is_idempotent() || self.retry_non_idempotent {
            return None;
        }
        self.sent = Some(method);
        self.state = State::Done;
        Some(cause.is_none().then_some(Step::End))
    }

    /// Ends with the failure of a request that is not sent again.
    fn end_not_retried(&mut self, cause: Option<Error>) -> Step {
        let method = self.sent.take().unwrap_or_default();
        let cause = cause.unwrap_or_else(|| Error::Transport("the stream ended".into()));
        let cause = Box::new(cause);
        Step::Yield(Err(Error::NotRetried { method, cause }))
    }
}
