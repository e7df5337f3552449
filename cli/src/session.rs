//! The connection loop: send, check the answer, decode, reconnect as a browser does.
//!
//! `sse_pump::client::EventSource` yields events only; `sse` also shows comments, the
//! server's `retry:`, and the raw bytes, and needs a line deadline for trickling servers.
//! So it drives the library's parts itself: the [`Decoder`] (kept across connections, so
//! the last event ID and `retry:` carry over as in a browser), [`Backoff`] for the delays,
//! and [`client::Error`] for deadlines and the answers that are not an event stream.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::{header, Response, StatusCode};
use sse_pump::{
    client::{self, Backoff},
    Decoder, Item, MessageEvent,
};
use tokio::time::timeout_at;

use crate::{
    args::{Cli, Target},
    error::{secs, Failure},
    output::Printer,
};

/// How long each wait may last, and whether passing it ends `sse`.
#[derive(Debug, Clone, Copy)]
struct Deadlines {
    response: Duration,
    idle: Duration,
    line: Duration,
    /// `--timeout` given: a deadline ends `sse` (exit 4) rather than the connection.
    fatal: bool,
}

/// How a connection ended.
enum End {
    /// As asked (`--until`, `--count`, a 204): `sse` exits 0.
    Stop,
    /// The server ended the body.
    Closed,
    /// A failure.
    Failed(Failure),
}

/// One run of `sse`: the request, the decoder and the reconnection state.
pub struct Session {
    client: reqwest::Client,
    target: Target,
    decoder: Decoder,
    backoff: Backoff,
    deadlines: Deadlines,
    reconnect: bool,
    until: Option<String>,
    count: Option<u64>,
    seen: u64,
    /// Consecutive attempts since a connection last stayed up for [`HEALTHY_AFTER`].
    attempt: u32,
}

/// How long a connection must stay open to reset the backoff: the library's
/// [`Backoff::healthy_after`] default. An event alone does not, so a server that sends one
/// event and closes meets a growing delay, as `EventSource` does.
const HEALTHY_AFTER: Duration = Duration::from_secs(60);

impl Session {
    /// The session `cli` describes.
    pub fn new(cli: &Cli, mut target: Target) -> Result<Session, Failure> {
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| Failure::Usage(Failure::chain(&e)))?;
        let deadlines = match cli.timeout {
            Some(t) => Deadlines {
                response: t,
                idle: t,
                line: t,
                fatal: true,
            },
            None => Deadlines {
                response: Duration::from_secs(30),
                idle: Duration::from_secs(45),
                line: Duration::from_secs(60),
                fatal: false,
            },
        };
        // A browser accepts an id of any length; the line limit bounds it.
        let mut decoder = Decoder::new().max_id_len(1 << 20);
        // `-H 'Last-Event-ID: 5'` is `--last-event-id 5`: a fixed header would be sent
        // again after newer events.
        let header = target.headers.remove("last-event-id");
        let header = header.and_then(|v| v.to_str().ok().map(str::to_owned));
        if let Some(id) = cli.last_event_id.clone().or(header) {
            decoder = decoder.with_last_event_id(id);
        }
        Ok(Session {
            client,
            // Browsers reconnect GETs only; a POST may have been acted on (tokens billed).
            reconnect: !cli.no_reconnect && target.method.is_idempotent(),
            target,
            decoder,
            // No jitter: the server's `retry:` is waited exactly, as a browser does (and
            // still grows over consecutive failures).
            backoff: Backoff::default().jitter(0.0),
            deadlines,
            until: cli.until.clone(),
            count: cli.count,
            seen: 0,
            attempt: 0,
        })
    }

    /// Connects and reconnects until a stop, or a failure that ends `sse`.
    pub async fn run(&mut self, out: &mut Printer) -> Result<(), Failure> {
        loop {
            let end = match self.connect(out).await {
                Ok(Some(response)) => {
                    self.opened(&response, out)?;
                    let since = Instant::now();
                    let end = self.read(response, out).await;
                    if since.elapsed() >= HEALTHY_AFTER {
                        self.attempt = 0;
                    }
                    end
                }
                Ok(None) => {
                    out.status("204 No Content: the server says stop")
                        .map_err(Failure::Output)?;
                    End::Stop
                }
                Err(failure) => End::Failed(failure),
            };
            self.decoder.finish();
            let cause = match end {
                End::Stop => return Ok(()),
                End::Closed => None,
                End::Failed(failure) => Some(failure),
            };
            if let Some(failure) = &cause {
                let fatal = matches!(failure, Failure::Timeout(_)) && self.deadlines.fatal;
                if fatal || !failure.is_retryable() || !self.reconnect {
                    return Err(cause.unwrap_or_else(|| unreachable!()));
                }
            } else if !self.reconnect {
                return Ok(());
            }
            self.wait(cause.as_ref(), out).await?;
        }
    }

    /// Announces the next attempt and waits for it.
    async fn wait(&mut self, cause: Option<&Failure>, out: &mut Printer) -> Result<(), Failure> {
        self.attempt = self.attempt.saturating_add(1);
        let retry = self.decoder.reconnection_time();
        let delay = self.backoff.delay(retry, self.attempt, 0.0);
        // The floor holds whatever the policy: `retry: 0` never reconnects faster.
        let delay = delay.max(Backoff::RETRY_FLOOR);
        let why = cause.map_or_else(
            || "the server ended the stream".to_owned(),
            |f| f.to_string(),
        );
        let mut notice = format!(
            "{why}; reconnecting in {} (attempt {})",
            secs(delay),
            self.attempt
        );
        if !self.decoder.last_event_id().is_empty() {
            notice.push_str(&format!(
                ", Last-Event-ID: {}",
                shorten(self.decoder.last_event_id())
            ));
        }
        out.notice(&notice).map_err(Failure::Output)?;
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// Sends the request: `Some` open stream, `None` for a 204, or why not.
    async fn connect(&mut self, out: &mut Printer) -> Result<Option<Response>, Failure> {
        let (request, unsent) = self.request()?;
        if unsent {
            let id = shorten(self.decoder.last_event_id());
            let notice = format!("the last event ID {id:?} is not a header value: sent without it");
            out.notice(&notice).map_err(Failure::Output)?;
        }
        let deadline = Instant::now() + self.deadlines.response;
        let response = match timeout_at(deadline.into(), self.client.execute(request)).await {
            Err(_) => {
                return Err(Failure::Timeout(client::Error::ResponseTimeout(
                    self.deadlines.response,
                )))
            }
            Ok(Err(e)) => return Err(Failure::Connect(Failure::chain(&e))),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        if status == StatusCode::OK && is_event_stream(response.headers()) {
            return Ok(Some(response));
        }
        let rejected = rejection(response).await;
        Err(match status {
            StatusCode::OK => Failure::NotEventStream(rejected),
            _ => Failure::Status(rejected),
        })
    }

    /// The request of this attempt, with the last event ID; `true` if the ID could not go
    /// in it (a control character).
    fn request(&self) -> Result<(reqwest::Request, bool), Failure> {
        let target = &self.target;
        let mut builder = self
            .client
            .request(target.method.clone(), target.url.clone())
            .headers(target.headers.clone());
        let mut headers = header::HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            header::HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        let id = self.decoder.last_event_id();
        let value = (!id.is_empty()).then(|| header::HeaderValue::try_from(id));
        let unsent = matches!(value, Some(Err(_)));
        if let Some(Ok(value)) = value {
            headers.insert("last-event-id", value);
        }
        for (name, value) in &headers {
            if !target.headers.contains_key(name) {
                builder = builder.header(name, value);
            }
        }
        if let Some(body) = &target.body {
            builder = builder.body(body.clone());
        }
        let request = builder
            .build()
            .map_err(|e| Failure::Usage(Failure::chain(&e)))?;
        Ok((request, unsent))
    }

    /// Says the stream is open, for people.
    fn opened(&self, response: &Response, out: &mut Printer) -> Result<(), Failure> {
        let notice = format!(
            "{} {} {}",
            self.target.method,
            response.url(),
            response.status()
        );
        out.status(&notice).map_err(Failure::Output)
    }

    /// Reads the open stream until it ends, fails, passes a deadline, or a stop.
    async fn read(&mut self, mut response: Response, out: &mut Printer) -> End {
        let mut last_byte = Instant::now();
        // When the unfinished line at the end of the input began, if there is one.
        let mut line_since: Option<Instant> = None;
        loop {
            let (deadline, timeout) = self.next_deadline(last_byte, line_since);
            let chunk = match timeout_at(deadline.into(), response.chunk()).await {
                Err(_) => return End::Failed(Failure::Timeout(timeout)),
                Ok(Err(e)) => return End::Failed(Failure::Cut(Failure::chain(&e))),
                Ok(Ok(None)) => return End::Closed,
                Ok(Ok(Some(chunk))) => chunk,
            };
            last_byte = Instant::now();
            line_since = unfinished_since(&chunk, line_since, last_byte);
            if let Err(e) = out.raw(&chunk) {
                return End::Failed(Failure::Output(e));
            }
            self.decoder.feed(chunk);
            match self.drain(out) {
                Ok(None) => {}
                Ok(Some(end)) => return end,
                Err(e) => return End::Failed(Failure::Output(e)),
            }
        }
    }

    /// The next deadline: the idle one, or the line one if a line is unfinished and it
    /// comes first.
    fn next_deadline(
        &self,
        last_byte: Instant,
        line_since: Option<Instant>,
    ) -> (Instant, client::Error) {
        let idle = (
            last_byte + self.deadlines.idle,
            client::Error::IdleTimeout(self.deadlines.idle),
        );
        match line_since {
            Some(since) if since + self.deadlines.line < idle.0 => (
                since + self.deadlines.line,
                client::Error::ProgressTimeout(self.deadlines.line),
            ),
            _ => idle,
        }
    }

    /// Prints what the decoder has; `Some(End::Stop)` at `--until` or `--count`.
    fn drain(&mut self, out: &mut Printer) -> std::io::Result<Option<End>> {
        let now = SystemTime::now();
        loop {
            match self.decoder.next_item() {
                Ok(None) => return Ok(None),
                Ok(Some(Item::Event(event))) => {
                    if self.on_event(&event, now, out)? {
                        return Ok(Some(End::Stop));
                    }
                }
                Ok(Some(Item::Comment(text))) => out.comment(&text, now)?,
                Ok(Some(Item::Retry(retry))) => out.status(&format!("retry: {}", secs(retry)))?,
                Ok(Some(_)) => {}
                Err(e) => out.notice(&format!("skipped: {e}"))?,
            }
        }
    }

    /// Prints an event; `true` when `sse` should stop.
    fn on_event(
        &mut self,
        event: &MessageEvent,
        now: SystemTime,
        out: &mut Printer,
    ) -> std::io::Result<bool> {
        let last = self.until.as_deref();
        if last.is_some_and(|last| event.data == last || event.event == last) {
            return Ok(true);
        }
        out.event(event, now)?;
        self.seen += 1;
        Ok(self.count.is_some_and(|n| self.seen >= n))
    }
}

/// When the unfinished line at the end of the input began, after `chunk` arrived `now`.
fn unfinished_since(chunk: &Bytes, before: Option<Instant>, now: Instant) -> Option<Instant> {
    match chunk.iter().rposition(|&b| b == b'\n' || b == b'\r') {
        Some(at) if at + 1 == chunk.len() => None,
        Some(_) => Some(now),
        None if chunk.is_empty() => before,
        None => Some(before.unwrap_or(now)),
    }
}

/// Whether the content type's essence is `text/event-stream` (any case, parameters aside).
fn is_event_stream(headers: &header::HeaderMap) -> bool {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|k| k.to_str().ok());
    let essence = kind.and_then(|k| k.split(';').next()).unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/event-stream")
}

/// The status, headers and the first [`client::Error::BODY_LIMIT`] bytes of the body, read for
/// at most 5 s.
async fn rejection(mut response: Response) -> client::Error {
    let (status, headers) = (response.status(), response.headers().clone());
    let mut body = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while body.len() < client::Error::BODY_LIMIT {
        match timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(client::Error::BODY_LIMIT);
    client::Error::Rejected {
        status,
        headers: Box::new(headers),
        body: body.into(),
    }
}

/// An ID for a notice: at most 64 characters.
fn shorten(id: &str) -> String {
    match id.char_indices().nth(64) {
        Some((at, _)) => format!("{}... ({} bytes)", &id[..at], id.len()),
        None => id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_line_keeps_its_start() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(
            unfinished_since(&Bytes::from("data: a\n"), Some(t0), t1),
            None
        );
        assert_eq!(unfinished_since(&Bytes::from("data: a\r"), None, t1), None);
        assert_eq!(
            unfinished_since(&Bytes::from("a\ndata"), Some(t0), t1),
            Some(t1)
        );
        assert_eq!(
            unfinished_since(&Bytes::from("more"), Some(t0), t1),
            Some(t0)
        );
        assert_eq!(unfinished_since(&Bytes::from("more"), None, t1), Some(t1));
    }

    #[test]
    fn event_stream_content_types() {
        let mut headers = header::HeaderMap::new();
        assert!(!is_event_stream(&headers));
        headers.insert(
            header::CONTENT_TYPE,
            "Text/Event-Stream; charset=utf-8".parse().unwrap(),
        );
        assert!(is_event_stream(&headers));
        headers.insert(header::CONTENT_TYPE, "text/html".parse().unwrap());
        assert!(!is_event_stream(&headers));
    }
}
