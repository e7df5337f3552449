//! Collecting the start of a rejected response's body, under a size cap and a deadline.

use std::{
    future::Future,
    pin::Pin,
    task::{ready, Context, Poll},
    time::Duration,
};

use bytes::Buf;
use futures_timer::Delay;
use http_body::Body;

use crate::client::Error;

/// A rejected response whose body is being collected, up to [`Error::BODY_LIMIT`] and
/// until a deadline: a server that stalls it does not hold the rejection back.
pub(crate) struct Rejecting<B> {
    status: http::StatusCode,
    headers: http::HeaderMap,
    collected: Vec<u8>,
    body: Pin<Box<B>>,
    deadline: Delay,
}

impl<B: Body> Rejecting<B> {
    pub(crate) fn new(parts: http::response::Parts, body: B, timeout: Duration) -> Self {
        Rejecting {
            status: parts.status,
            headers: parts.headers,
            collected: Vec::new(),
            body: Box::pin(body),
            deadline: Delay::new(timeout),
        }
    }

    /// Polls until the limit, the end of the body, an error or the deadline.
    /// The rejection: an [`Error::Rejected`].
    pub(crate) fn poll_collect(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        while self.collected.len() < Error::BODY_LIMIT {
            let frame = match self.body.as_mut().poll_frame(cx) {
                Poll::Ready(frame) => frame,
                Poll::Pending => {
                    ready!(Pin::new(&mut self.deadline).poll(cx));
                    break;
                }
            };
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.keep(data);
                    }
                }
                Some(Err(_)) | None => break,
            }
        }
        Poll::Ready(Error::Rejected {
            status: self.status,
            headers: Box::new(std::mem::take(&mut self.headers)),
            body: std::mem::take(&mut self.collected).into(),
        })
    }

    /// Keeps what fits under the limit.
    fn keep(&mut self, mut data: impl Buf) {
        while data.has_remaining() && self.collected.len() < Error::BODY_LIMIT {
            let room = Error::BODY_LIMIT - self.collected.len();
            let chunk = data.chunk();
            let take = chunk.len().min(room);
            self.collected.extend_from_slice(&chunk[..take]);
            data.advance(take);
        }
    }
}

/// Whether the content type's essence is `text/event-stream`.
pub(crate) fn is_event_stream(headers: &http::HeaderMap) -> bool {
    let Some(value) = headers.get(http::header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/event-stream")
}
