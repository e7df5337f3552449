//! The command line: what `sse --help` shows, and the request it describes.

use std::{ffi::OsString, io::Read, time::Duration};

use clap::{Parser, ValueEnum};
use reqwest::{
    header::{HeaderMap, HeaderName, HeaderValue},
    Method, Url,
};

/// The exit codes, shown by `sse --help` (and in the README).
pub const EXIT_CODES: &str = "\
Exit codes:
  0  the stream ended as asked: --until or --count reached, a 204 (the server's \"stop\"),
     or a clean end that is not reconnected (--no-reconnect, or a POST)
  1  the output could not be written (other than a closed pipe, which ends quietly)
  2  bad arguments (an unknown option, a malformed header, URL, body or duration)
  3  the connection failed or was cut, and is not reconnected (--no-reconnect, or a POST)
  4  a timeout: no response head, a silent stream, or an unfinished line (with --timeout,
     or when not reconnecting); the message names which
  5  the server answered an HTTP status other than 200 and 204 (its body is shown)
  6  the server answered 200 but not text/event-stream (its content type is shown)";

/// Watch any Server-Sent Events stream from a terminal.
///
///   sse URL           each event as it arrives: UTC time, type, #id, data (pretty when
///                     it is JSON); comments and reconnections dimmed
///   sse METHOD URL    METHOD is GET by default, POST when a body is given; http:// is
///                     assumed when the URL has no scheme
///
/// It reconnects as a browser does (Last-Event-ID, the server's retry:), and reads an
/// LLM's token stream:
///
///   sse POST URL --bearer KEY --json '{"stream":true}' --until '[DONE]' --data-only
#[derive(Parser, Debug)]
#[command(name = "sse", version, after_help = EXIT_CODES, verbatim_doc_comment)]
#[command(override_usage = "sse [OPTIONS] [METHOD] <URL>")]
pub struct Cli {
    /// [METHOD] URL (shown in the usage and the description: clap would show a list).
    #[arg(value_name = "URL", num_args = 1..=2, required = true, hide = true)]
    target: Vec<String>,

    /// Print one JSON object per event and line (time, type, id, data, retry), for jq.
    /// Followed by a JSON value (--json '{"model":"m"}'), send that value as the request
    /// body instead, with Content-Type: application/json.
    #[arg(long = "json", conflicts_with_all = ["raw", "data_only"])]
    pub json_output: bool,

    /// The JSON request body (what `--json VALUE` becomes).
    #[arg(
        long = "json-body",
        value_name = "JSON",
        hide = true,
        conflicts_with = "data"
    )]
    json_body: Option<String>,

    /// Print the bytes of the stream exactly as received.
    #[arg(long, conflicts_with = "data_only")]
    pub raw: bool,

    /// Print only the events' data, one after the other with nothing between: an LLM's
    /// tokens become its text.
    #[arg(long)]
    pub data_only: bool,

    /// Do not reconnect when the stream ends or fails (a POST is never reconnected).
    #[arg(long)]
    pub no_reconnect: bool,

    /// Resume from this event ID: the first request sends it as Last-Event-ID.
    #[arg(long, value_name = "ID")]
    pub last_event_id: Option<String>,

    /// A request header, as 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    headers: Vec<(HeaderName, HeaderValue)>,

    /// Send Authorization: Bearer KEY.
    #[arg(long, value_name = "KEY")]
    bearer: Option<String>,

    /// The request body: the text itself, @FILE, or @- for standard input.
    #[arg(short = 'd', long = "data", value_name = "BODY")]
    data: Option<String>,

    /// Stop (exit 0) at the first event whose data, or type, is TEXT; that event is not
    /// printed (an LLM's '[DONE]').
    #[arg(long, value_name = "TEXT")]
    pub until: Option<String>,

    /// Stop (exit 0) after N events.
    #[arg(short = 'n', long, value_name = "N")]
    pub count: Option<u64>,

    /// Give up (exit 4) when the server makes no progress for this long: no response head,
    /// no byte on the stream, or a line left unfinished. Seconds ("2.5") or with a unit
    /// ("500ms"). Without it, 30 s for the head, 45 s of silence and 60 s for a line end
    /// the connection, and sse reconnects.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// When to colour the output: auto means only on a terminal, and never when NO_COLOR
    /// is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The request to send at each attempt.
#[derive(Debug, Clone)]
pub struct Target {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<bytes::Bytes>,
}

impl Cli {
    /// Parses the process's arguments (after [`json_values`]); exits 2 with clap's
    /// message when they are wrong.
    pub fn from_env() -> Cli {
        Cli::parse_from(json_values(std::env::args_os()))
    }

    /// The request, or why the arguments do not make one.
    pub fn target(&self) -> Result<Target, String> {
        let (method, url) = match &self.target[..] {
            [url] => (None, url),
            [method, url] => (Some(method), url),
            _ => unreachable!("clap takes one or two"),
        };
        let body = self.body()?;
        let method = match method {
            Some(m) => Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|_| format!("{m:?} is not an HTTP method"))?,
            None if body.is_some() => Method::POST,
            None => Method::GET,
        };
        let headers = self.header_map()?;
        let url = parse_url(url)?;
        Ok(Target {
            method,
            url,
            headers,
            body,
        })
    }

    /// The -H headers, the bearer token and the JSON content type.
    fn header_map(&self) -> Result<HeaderMap, String> {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            headers.append(name, value.clone());
        }
        if let Some(key) = &self.bearer {
            let mut value = HeaderValue::try_from(format!("Bearer {key}"))
                .map_err(|_| "the --bearer key is not a valid header value".to_owned())?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        if self.json_body.is_some() && !headers.contains_key(reqwest::header::CONTENT_TYPE) {
            let json = HeaderValue::from_static("application/json");
            headers.insert(reqwest::header::CONTENT_TYPE, json);
        }
        Ok(headers)
    }

    /// The body from --json VALUE or --data.
    fn body(&self) -> Result<Option<bytes::Bytes>, String> {
        if let Some(json) = &self.json_body {
            serde_json::from_str::<serde::de::IgnoredAny>(json)
                .map_err(|e| format!("the --json body is not JSON: {e}"))?;
            return Ok(Some(json.clone().into()));
        }
        let Some(data) = &self.data else {
            return Ok(None);
        };
        let bytes = match data.strip_prefix('@') {
            Some("-") => {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("cannot read the body from standard input: {e}"))?;
                bytes
            }
            Some(path) => std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?,
            None => data.clone().into_bytes(),
        };
        Ok(Some(bytes.into()))
    }
}

/// `--json` is both a flag (JSON output) and, followed by a JSON value, the request body:
/// rewrites `--json VALUE` and `--json=VALUE` into the hidden `--json-body=VALUE`. A value
/// is a JSON document (a URL or a method never is); everything after `--` is left alone.
pub fn json_values(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        if arg == "--" {
            out.push(arg);
            out.extend(args);
            break;
        }
        if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix("--json=")) {
            out.push(format!("--json-body={value}").into());
            continue;
        }
        let value = args.peek().and_then(|next| next.to_str()).filter(|next| {
            arg == "--json" && serde_json::from_str::<serde::de::IgnoredAny>(next).is_ok()
        });
        match value {
            Some(value) => {
                out.push(format!("--json-body={value}").into());
                args.next();
            }
            None => out.push(arg),
        }
    }
    out
}

/// `http://` is assumed when there is no scheme, as curl does.
fn parse_url(url: &str) -> Result<Url, String> {
    let full = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let parsed = Url::parse(&full).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        other => Err(format!(
            "{url:?}: the scheme {other:?} is not http or https"
        )),
    }
}

/// `Name: value`.
fn parse_header(header: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = header
        .split_once(':')
        .ok_or_else(|| format!("{header:?} is not 'Name: value'"))?;
    let name = HeaderName::try_from(name.trim())
        .map_err(|_| format!("{:?} is not a header name", name.trim()))?;
    let value = HeaderValue::try_from(value.trim())
        .map_err(|_| format!("{:?} is not a header value", value.trim()))?;
    Ok((name, value))
}

/// Seconds (`5`, `0.5`) or a duration with units (`500ms`, `1m`); more than zero.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = match text.parse::<f64>() {
        Ok(seconds) => Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())?,
        Err(_) => humantime::parse_duration(text).map_err(|e| e.to_string())?,
    };
    if duration.is_zero() {
        return Err("a timeout must be more than zero".into());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(args: &[&str]) -> Vec<String> {
        let args = args.iter().map(OsString::from);
        let out = json_values(args);
        out.into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn json_is_a_flag_or_a_body() {
        let flag = rewrite(&["sse", "--json", "http://x/events"]);
        assert_eq!(flag, ["sse", "--json", "http://x/events"]);
        let body = rewrite(&["sse", "POST", "u", "--json", r#"{"a":1}"#, "--json"]);
        assert_eq!(
            body,
            ["sse", "POST", "u", r#"--json-body={"a":1}"#, "--json"]
        );
        let equals = rewrite(&["sse", "u", "--json=[1]"]);
        assert_eq!(equals, ["sse", "u", "--json-body=[1]"]);
        let until = rewrite(&["sse", "u", "--json", "--until", "[DONE]"]);
        assert_eq!(until, ["sse", "u", "--json", "--until", "[DONE]"]);
    }

    #[test]
    fn a_body_makes_a_post_and_a_method_is_optional() {
        let cli = Cli::parse_from(json_values(
            ["sse", "127.0.0.1:1/v1", "--json", "{}"].map(OsString::from),
        ));
        let target = cli.target().unwrap();
        assert_eq!(target.method, Method::POST);
        assert_eq!(target.url.as_str(), "http://127.0.0.1:1/v1");
        assert_eq!(target.headers["content-type"], "application/json");
        let cli = Cli::parse_from(["sse", "put", "http://h/"]);
        assert_eq!(cli.target().unwrap().method, Method::PUT);
    }

    #[test]
    fn durations_and_headers() {
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("soon").is_err());
        let (name, value) = parse_header("X-Trace:  a b ").unwrap();
        assert_eq!((name.as_str(), value.to_str().unwrap()), ("x-trace", "a b"));
        assert!(parse_header("no colon").is_err());
    }
}
