//! Why `sse` stopped: one type per cause, each with its exit code (see `EXIT_CODES`).

use std::{error::Error, fmt, io, time::Duration};

use bytes::Bytes;
use reqwest::{header::HeaderMap, StatusCode};
use sse_pump::client::Error as ClientError;

/// A deadline that passed, named for people: the library's timeouts, whose
/// `ProgressTimeout` is a line left unfinished.
fn describe(timeout: &ClientError, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match *timeout {
        ClientError::ResponseTimeout(d) => {
            write!(f, "response timeout: no response head within {}", secs(d))
        }
        ClientError::IdleTimeout(d) => write!(
            f,
            "idle timeout: the stream sent nothing for {} (not even a keep-alive comment)",
            secs(d)
        ),
        ClientError::ProgressTimeout(d) => write!(
            f,
            "line timeout: a line stayed unfinished for {} (bytes trickle in, no line end)",
            secs(d)
        ),
        _ => write!(f, "timeout: {timeout}"),
    }
}

/// A duration for people: `1.5s`, `250ms`.
pub fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", (d.as_millis() as f64 / 1000.0))
    }
}

/// Why a connection, or `sse`, ended in failure.
#[derive(Debug)]
pub enum Failure {
    /// The arguments do not make a request.
    Usage(String),
    /// Connecting or sending failed (refused, DNS, TLS), with the client's error chain.
    Connect(String),
    /// The open stream failed (a reset, a body cut short).
    Cut(String),
    /// A deadline passed: one of the library's timeouts.
    Timeout(ClientError),
    /// A status other than 200 and 204: the library's [`ClientError::Rejected`].
    Status(ClientError),
    /// 200, but not `text/event-stream`: the library's [`ClientError::Rejected`].
    NotEventStream(ClientError),
    /// Writing the output failed.
    Output(io::Error),
}

impl Failure {
    /// The process's exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Output(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Connect(_) | Failure::Cut(_) => 3,
            Failure::Timeout(_) => 4,
            Failure::Status(_) => 5,
            Failure::NotEventStream(_) => 6,
        }
    }

    /// Whether reconnecting could help: not for an answer the server gave on purpose
    /// (browsers do not retry those either), nor for our own output.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Failure::Connect(_) | Failure::Cut(_) | Failure::Timeout(_)
        )
    }

    /// A client error and its sources, as one line.
    pub fn chain(error: &(dyn Error + 'static)) -> String {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let more = cause.to_string();
            if !text.contains(&more) {
                text.push_str(": ");
                text.push_str(&more);
            }
            source = cause.source();
        }
        text
    }

    /// The body of a rejection, for the lines under the message (at most 20 lines).
    pub fn body(&self) -> Option<String> {
        let (Failure::Status(rejected) | Failure::NotEventStream(rejected)) = self else {
            return None;
        };
        let (_, _, body) = rejection(rejected)?;
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let mut lines: Vec<&str> = text.lines().take(21).collect();
        if lines.len() > 20 {
            lines[20] = "...";
        }
        Some(lines.join("\n"))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(why) => f.write_str(why),
            Failure::Connect(why) => write!(f, "cannot connect: {why}"),
            Failure::Cut(why) => write!(f, "the stream failed: {why}"),
            Failure::Timeout(t) => describe(t, f),
            Failure::Status(r) => {
                let (_, headers, body) = rejection(r).ok_or(fmt::Error)?;
                let kind = headers.get(reqwest::header::CONTENT_TYPE);
                let kind = kind
                    .and_then(|k| k.to_str().ok())
                    .unwrap_or("no content type");
                write!(f, "{r} ({kind}, {} bytes of body)", body.len())
            }
            Failure::NotEventStream(r) => {
                let (_, headers, _) = rejection(r).ok_or(fmt::Error)?;
                match headers.get(reqwest::header::CONTENT_TYPE) {
                    Some(_) => fmt::Display::fmt(r, f),
                    None => f.write_str(
                        "the server answered 200 with no content type, not an event stream",
                    ),
                }
            }
            Failure::Output(e) => write!(f, "cannot write the output: {e}"),
        }
    }
}

/// The status, headers and start of the body of a rejection.
fn rejection(error: &ClientError) -> Option<(StatusCode, &HeaderMap, &Bytes)> {
    match error {
        ClientError::Rejected {
            status,
            headers,
            body,
        } => Some((*status, headers, body)),
        _ => None,
    }
}
