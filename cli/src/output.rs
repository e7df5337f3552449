//! How events, comments and notices are printed: for people (coloured on a terminal), as
//! JSON lines, as raw bytes, or as the data alone.

use std::{
    io::{self, IsTerminal, Write},
    time::SystemTime,
};

use anstyle::{AnsiColor, Style};
use serde_json::ser::PrettyFormatter;
use sse_pump::MessageEvent;

use crate::args::{Cli, ColorChoice};

/// What goes to standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Time, type, id and data, one event per entry; comments and notices dimmed.
    Human,
    /// One JSON object per event and line.
    Json,
    /// The bytes of the stream.
    Raw,
    /// The data of each event, nothing between.
    DataOnly,
}

const DIM: Style = Style::new().dimmed();
const KIND: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));
const ID: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
const ERROR: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));

/// The printer: standard output for the stream, standard error for notices when standard
/// output is for machines.
pub struct Printer {
    mode: Mode,
    out: io::Stdout,
    out_color: bool,
    err_color: bool,
    /// The last byte written in data-only mode, to end the text with a line on a terminal.
    last_byte: Option<u8>,
}

impl Printer {
    /// The printer `cli` asks for.
    pub fn new(cli: &Cli) -> Printer {
        let mode = match () {
            () if cli.raw => Mode::Raw,
            () if cli.json_output => Mode::Json,
            () if cli.data_only => Mode::DataOnly,
            () => Mode::Human,
        };
        let out = io::stdout();
        Printer {
            mode,
            out_color: use_color(cli.color, out.is_terminal()),
            err_color: use_color(cli.color, io::stderr().is_terminal()),
            out,
            last_byte: None,
        }
    }

    /// Prints an event that arrived at `at`.
    pub fn event(&mut self, event: &MessageEvent, at: SystemTime) -> io::Result<()> {
        match self.mode {
            Mode::Human => {
                let text = human_event(event, at, self.out_color);
                self.write(text.as_bytes())
            }
            Mode::Json => {
                let mut line = json_event(event, at);
                line.push('\n');
                self.write(line.as_bytes())
            }
            Mode::DataOnly => {
                let data = event.data.as_str().as_bytes();
                if let Some(&last) = data.last() {
                    self.last_byte = Some(last);
                }
                self.write(data)
            }
            Mode::Raw => Ok(()),
        }
    }

    /// Prints the bytes of the stream, in raw mode.
    pub fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.mode {
            Mode::Raw => self.write(bytes),
            _ => Ok(()),
        }
    }

    /// A comment line, dimmed, for people only (a keep-alive is noise to a machine).
    pub fn comment(&mut self, text: &str, at: SystemTime) -> io::Result<()> {
        if self.mode != Mode::Human {
            return Ok(());
        }
        let line = format!("{} : {text}", clock(at));
        let line = paint(DIM, &line, self.out_color);
        self.write(format!("{line}\n").as_bytes())
    }

    /// What people like to see and machines need not (connected, `retry:`): dimmed, on
    /// standard output in the human mode only.
    pub fn status(&mut self, text: &str) -> io::Result<()> {
        match self.mode {
            Mode::Human => self.notice(text),
            _ => Ok(()),
        }
    }

    /// A notice about the connection (reconnecting, a skipped event), dimmed: on standard
    /// output for people, standard error otherwise.
    pub fn notice(&mut self, text: &str) -> io::Result<()> {
        let line = format!("{} -- {text}", clock(SystemTime::now()));
        if self.mode == Mode::Human {
            let line = paint(DIM, &line, self.out_color);
            return self.write(format!("{line}\n").as_bytes());
        }
        let line = paint(DIM, &line, self.err_color);
        // Best effort: a closed standard error must not stop the stream.
        let _ = writeln!(io::stderr(), "{line}");
        Ok(())
    }

    /// The final error, on standard error, with the body of a rejection under it.
    pub fn error(&mut self, message: &str, body: Option<&str>) {
        let _ = self.out.flush();
        let label = paint(ERROR, "error:", self.err_color);
        let mut text = format!("sse: {label} {message}\n");
        for line in body.into_iter().flat_map(str::lines) {
            text.push_str("  ");
            text.push_str(line);
            text.push('\n');
        }
        let _ = io::stderr().write_all(text.as_bytes());
    }

    /// Ends the output: in data-only mode on a terminal, ends the text with a line so the
    /// prompt starts on its own.
    pub fn finish(&mut self) {
        let open_line = self.last_byte.is_some_and(|b| b != b'\n');
        if self.mode == Mode::DataOnly && open_line && self.out.is_terminal() {
            let _ = self.write(b"\n");
        }
        let _ = self.out.flush();
    }

    /// Writes and flushes: each event is seen as it arrives.
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut out = self.out.lock();
        out.write_all(bytes)?;
        out.flush()
    }
}

/// Colour on `terminal` for auto, unless NO_COLOR is set (and not empty) or TERM is dumb.
fn use_color(choice: ColorChoice, terminal: bool) -> bool {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !set("NO_COLOR") && !dumb,
    }
}

fn paint(style: Style, text: &str, color: bool) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

/// The time of day in UTC, to the millisecond: `14:03:07.250`.
fn clock(at: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_millis(at).to_string();
    // 2026-12-08T14:03:07.250Z
    stamp.get(11..23).unwrap_or(&stamp).to_owned()
}

/// `TIME TYPE #ID  DATA`, the data pretty-printed under the line when it is a JSON object
/// or array, or has several lines.
fn human_event(event: &MessageEvent, at: SystemTime, color: bool) -> String {
    let mut text = format!(
        "{} {}",
        paint(DIM, &clock(at), color),
        paint(KIND, &event.event, color)
    );
    if !event.id.is_empty() {
        text.push(' ');
        text.push_str(&paint(ID, &format!("#{}", event.id), color));
    }
    if let Some(retry) = event.retry {
        let note = format!(" retry={}", crate::error::secs(retry));
        text.push_str(&paint(DIM, &note, color));
    }
    let data = pretty_json(&event.data).unwrap_or_else(|| event.data.to_string());
    if data.contains('\n') {
        for line in data.lines() {
            text.push_str("\n  ");
            text.push_str(line);
        }
    } else if !data.is_empty() {
        text.push_str("  ");
        text.push_str(&data);
    }
    text.push('\n');
    text
}

/// The data, indented, if it is a JSON object or array; keys stay in their order.
fn pretty_json(data: &str) -> Option<String> {
    let start = data.trim_start().as_bytes().first()?;
    if !matches!(start, b'{' | b'[') {
        return None;
    }
    let mut input = serde_json::Deserializer::from_str(data);
    let mut pretty = Vec::new();
    let mut output =
        serde_json::Serializer::with_formatter(&mut pretty, PrettyFormatter::with_indent(b"  "));
    serde_transcode::transcode(&mut input, &mut output).ok()?;
    input.end().ok()?;
    String::from_utf8(pretty).ok()
}

/// `{"time", "type", "id", "data"}` in that order, and `"retry"` in milliseconds when
/// the event set it.
fn json_event(event: &MessageEvent, at: SystemTime) -> String {
    let string = |text: &str| serde_json::Value::from(text).to_string();
    let time = humantime::format_rfc3339_millis(at).to_string();
    let mut line = format!(
        "{{\"time\":{},\"type\":{},\"id\":{},\"data\":{}",
        string(&time),
        string(&event.event),
        string(&event.id),
        string(&event.data)
    );
    if let Some(retry) = event.retry {
        line.push_str(&format!(",\"retry\":{}", retry.as_millis()));
    }
    line.push('}');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, id: &str, data: &str) -> MessageEvent {
        let mut decoder = sse_pump::Decoder::new();
        decoder.feed(format!("event: {kind}\nid: {id}\ndata: {data}\n\n"));
        decoder.next_event().unwrap().unwrap()
    }

    #[test]
    fn human_lines_pretty_print_json_in_its_order() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(3_723_250);
        let text = human_event(&event("tick", "7", r#"{"b":1,"a":[2]}"#), at, false);
        let want = "01:02:03.250 tick #7\n  {\n    \"b\": 1,\n    \"a\": [\n      2\n    ]\n  }\n";
        assert_eq!(text, want);
        let text = human_event(&event("message", "", "hello"), at, false);
        assert_eq!(text, "01:02:03.250 message  hello\n");
        assert!(human_event(&event("m", "1", "x"), at, true).contains("\x1b["));
    }

    #[test]
    fn not_quite_json_is_printed_as_it_came() {
        assert_eq!(pretty_json("{\"a\":1} trailing"), None);
        assert_eq!(pretty_json("[DONE]"), None);
        assert_eq!(pretty_json("42"), None);
    }

    #[test]
    fn json_lines_carry_the_fields() {
        let line = json_event(&event("tick", "7", "x\"y"), SystemTime::UNIX_EPOCH);
        assert!(line.starts_with(r#"{"time":"1970-01-01T00:00:00.000Z","type":"tick","id""#));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["type"], "tick");
        assert_eq!(value["id"], "7");
        assert_eq!(value["data"], "x\"y");
        assert_eq!(value["time"], "1970-01-01T00:00:00.000Z");
        assert!(value.get("retry").is_none());
    }
}
