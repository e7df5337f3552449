//! `sse` against raw-socket servers written here byte by byte: what it prints, what it
//! sends, how it reconnects, and how it fails (hostile servers included).

mod common;

use std::{
    io::Write,
    thread,
    time::{Duration, Instant},
};

use common::{
    hold, json_lines, respond, run, sse, stream, text, ChildGuard, Server, DEADLINE, STREAM_HEAD,
};

#[test]
fn prints_type_id_and_pretty_json_data_then_exits_0_at_a_clean_end() {
    let server = Server::start(|_, s| {
        stream(
            s,
            ": hello\n\nevent: tick\nid: 7\ndata: {\"n\":1,\"a\":[true]}\n\ndata: plain\n\n",
        )
    });
    let output = run(
        &mut sse(&[&server.url("/events"), "--no-reconnect"]),
        DEADLINE,
    );
    let (out, err) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(!out.contains('\x1b'), "colour in a pipe: {out:?}");
    let lines: Vec<&str> = out.lines().collect();
    // a notice (connected), the comment, the JSON event on five lines, the plain one
    assert!(
        lines[0].ends_with(&format!("-- GET {} 200 OK", server.url("/events"))),
        "{out}"
    );
    assert!(lines[1].ends_with(" : hello"), "{out}");
    assert!(lines[2].ends_with(" tick #7"), "{out}");
    assert_eq!(
        lines[3..8],
        [
            "  {",
            "    \"n\": 1,",
            "    \"a\": [",
            "      true",
            "    ]"
        ]
    );
    assert_eq!(lines[8], "  }");
    assert!(lines[9].ends_with(" message #7  plain"), "{out}");
    let stamp = &lines[2][..12]; // 14:03:07.250
    assert!(
        stamp.as_bytes().iter().enumerate().all(|(i, b)| match i {
            2 | 5 => *b == b':',
            8 => *b == b'.',
            _ => b.is_ascii_digit(),
        }),
        "{stamp:?}"
    );
    let request = server.request();
    assert_eq!(request.method, "GET");
    assert_eq!(request.header("accept"), Some("text/event-stream"));
}

#[test]
fn color_always_paints_a_pipe_which_is_plain_otherwise() {
    let server = Server::start(|_, s| stream(s, "event: tick\ndata: x\n\n"));
    let url = server.url("/");
    let output = run(
        &mut sse(&[&url, "--no-reconnect", "--color", "always"]),
        DEADLINE,
    );
    assert!(text(&output).0.contains("\x1b["), "{:?}", text(&output));
    // NO_COLOR leaves a pipe plain, as it is anyway; an explicit --color always wins.
    let output = run(
        sse(&[&url, "--no-reconnect"]).env("NO_COLOR", "1"),
        DEADLINE,
    );
    assert!(!text(&output).0.contains('\x1b'));
}

/// Runs `sse ARGS` on a pseudo-terminal through util-linux's `script` (in every Debian,
/// `bsdutils`); its output as text.
fn on_a_terminal(args: &str, no_color: bool) -> String {
    let line = format!("{} {args}", env!("CARGO_BIN_EXE_sse"));
    let mut command = std::process::Command::new("script");
    command
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::null());
    command.env_remove("NO_COLOR").env("TERM", "xterm");
    if no_color {
        command.env("NO_COLOR", "1");
    }
    let output = run(&mut command, DEADLINE);
    assert!(output.status.success(), "{:?}", text(&output));
    text(&output).0
}

#[test]
fn colors_on_a_terminal_unless_no_color() {
    let server = Server::start(|_, s| stream(s, "event: tick\ndata: x\n\n"));
    let args = format!("{} --no-reconnect", server.url("/"));
    let colored = on_a_terminal(&args, false);
    assert!(
        colored.contains("\x1b[1m\x1b[36mtick\x1b[0m  x"),
        "{colored:?}"
    );
    let plain = on_a_terminal(&args, true);
    assert!(
        plain.contains(" tick  x") && !plain.contains('\x1b'),
        "{plain:?}"
    );
    // data-only on a terminal ends its text with a line, for the prompt
    let args = format!("{} --no-reconnect --data-only", server.url("/"));
    assert!(on_a_terminal(&args, false).ends_with("x\r\n"));
}

#[test]
fn json_prints_one_parsable_object_per_event() {
    let server = Server::start(|_, s| {
        stream(s, ": ping\n\nevent: tick\nid: 1\nretry: 5000\ndata: {\"n\":1}\n\ndata: two\ndata: lines\n\n")
    });
    let output = run(
        &mut sse(&[&server.url("/"), "--json", "--no-reconnect"]),
        DEADLINE,
    );
    let (out, err) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    let events = json_lines(&out);
    assert_eq!(events.len(), 2, "comments stay off stdout: {out}");
    assert_eq!(events[0]["type"], "tick");
    assert_eq!(events[0]["id"], "1");
    assert_eq!(events[0]["data"], "{\"n\":1}");
    assert_eq!(events[0]["retry"], 5000);
    assert_eq!(events[1]["type"], "message");
    assert_eq!(
        events[1]["id"], "1",
        "the last event ID persists, as in a browser"
    );
    assert_eq!(events[1]["data"], "two\nlines");
    let time = events[1]["time"].as_str().unwrap();
    assert!(time.len() == 24 && time.ends_with('Z'), "{time}");
}

#[test]
fn raw_prints_the_bytes_as_received() {
    let body = ": c\r\nid: 1\r\ndata: é\r\n\r\nevent: x\ndata:\n\n";
    let server = Server::start(move |_, s| stream(s, body));
    let output = run(
        &mut sse(&[&server.url("/"), "--raw", "--no-reconnect"]),
        DEADLINE,
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(output.stdout, body.as_bytes());
}

#[test]
fn an_llm_post_with_bearer_and_json_body_prints_tokens_until_done() {
    // The server keeps the connection open after [DONE]: only --until ends it.
    let server = Server::start(|_, s| {
        let _ = s.write_all(STREAM_HEAD);
        for token in ["Hel", "lo,", " world", "[DONE]"] {
            let _ = write!(s, "data: {token}\n\n");
            thread::sleep(Duration::from_millis(20));
        }
        hold(s);
    });
    let body = r#"{"model":"m","stream":true}"#;
    let url = server.url("/v1/chat");
    let args = [
        "POST",
        &url,
        "--bearer",
        "sk-test",
        "--json",
        body,
        "--until",
        "[DONE]",
        "--data-only",
    ];
    let output = run(&mut sse(&args), DEADLINE);
    let (out, err) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert_eq!(out, "Hello, world");
    let request = server.request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/chat");
    assert_eq!(request.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.body, body.as_bytes());
}

#[test]
fn a_post_is_not_sent_twice() {
    let server = Server::start(|_, s| stream(s, "data: a\n\n"));
    let output = run(&mut sse(&["POST", &server.url("/"), "-d", "x"]), DEADLINE);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert_eq!(server.request().body, b"x");
    thread::sleep(Duration::from_millis(300)); // past the least reconnection delay
    assert!(server.requests_now().is_empty());
}

#[test]
fn headers_and_the_last_event_id_are_sent() {
    let server = Server::start(|_, s| stream(s, "data: a\n\n"));
    let url = server.url("/");
    let args = [
        &*url,
        "-H",
        "X-One: 1",
        "-H",
        "X-Two: a b",
        "-H",
        "X-One: 2",
    ];
    let mut command = sse(&args);
    command.args(["--last-event-id", "41", "--no-reconnect"]);
    let output = run(&mut command, DEADLINE);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let request = server.request();
    assert_eq!(request.headers["x-one"], ["1", "2"]);
    assert_eq!(request.header("x-two"), Some("a b"));
    assert_eq!(request.header("last-event-id"), Some("41"));
}

#[test]
fn a_last_event_id_header_is_the_starting_id_not_a_fixed_one() {
    let server = Server::start(|request, s| match request.n {
        0 => stream(s, "retry: 1\nid: 6\ndata: six\n\n"),
        _ => stream(s, "data: end\n\n"),
    });
    let args = [
        &*server.url("/"),
        "-H",
        "Last-Event-ID: 5",
        "--until",
        "end",
    ];
    let output = run(&mut sse(&args), DEADLINE);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert_eq!(server.request().headers["last-event-id"], ["5"]);
    assert_eq!(server.request().headers["last-event-id"], ["6"]);
}

#[test]
fn reconnects_with_the_last_event_id_after_the_servers_retry() {
    let server = Server::start(|request, s| match request.n {
        0 => stream(s, "retry: 300\nid: 1\ndata: first\n\n"),
        _ => stream(s, "id: 2\ndata: second\n\ndata: end\n\n"),
    });
    let output = run(
        &mut sse(&[&server.url("/"), "--json", "--until", "end"]),
        DEADLINE,
    );
    let (out, err) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    let data: Vec<String> = json_lines(&out)
        .iter()
        .map(|event| event["data"].to_string())
        .collect();
    assert_eq!(data, ["\"first\"", "\"second\""]);
    assert!(
        err.contains("reconnecting in"),
        "the reconnection is told: {err}"
    );
    let (first, second) = (server.request(), server.request());
    assert_eq!(first.header("last-event-id"), None);
    assert_eq!(second.header("last-event-id"), Some("1"));
    // retry: 300, waited as a browser does (less a little for two processes' clocks)
    assert!(
        second.at - first.at >= Duration::from_millis(290),
        "{:?}",
        second.at - first.at
    );
}

#[test]
fn a_4_kib_id_is_accepted_and_sent_back() {
    let id = "i".repeat(4096);
    let first = format!("id: {id}\ndata: long id\n\n");
    let server = Server::start(move |request, s| match request.n {
        0 => stream(s, &first),
        _ => stream(s, "data: end\n\n"),
    });
    let output = run(
        &mut sse(&[&server.url("/"), "--json", "--until", "end"]),
        DEADLINE,
    );
    let (out, err) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    let event = &json_lines(&out)[0];
    assert_eq!(
        (event["id"].as_str().unwrap().len(), &event["data"]),
        (4096, &"long id".into())
    );
    let _ = server.request();
    assert_eq!(
        server.request().header("last-event-id").map(str::len),
        Some(4096)
    );
}

#[test]
fn retry_0_does_not_hammer_the_server() {
    let server = Server::start(|_, s| stream(s, "retry: 0\ndata: x\n\n"));
    let child = sse(&[&server.url("/"), "--json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _child = ChildGuard(child);
    let at: Vec<Instant> = (0..6).map(|_| server.request().at).collect();
    let gaps: Vec<Duration> = at.windows(2).map(|pair| pair[1] - pair[0]).collect();
    // Backoff::RETRY_FLOOR (100 ms), less a little for the clocks of two processes; and an
    // event does not reset the backoff (only a connection that stayed up does), so each
    // wait doubles: 100, 200, 400, 800, 1,600 ms.
    for (n, gap) in gaps.iter().enumerate() {
        let floor = Duration::from_millis(90 << n);
        assert!(
            *gap >= floor,
            "attempt {n} reconnected after {gap:?}: {gaps:?}"
        );
    }
}

#[test]
fn a_401_shows_its_status_and_body() {
    let server = Server::start(|_, s| {
        respond(
            s,
            "401 Unauthorized",
            "application/json",
            r#"{"error":"invalid api key"}"#,
        )
    });
    let output = run(
        &mut sse(&["POST", &server.url("/v1"), "--bearer", "bad"]),
        DEADLINE,
    );
    let (out, err) = text(&output);
    assert_eq!(output.status.code(), Some(5), "{err}");
    assert!(err.contains("401 Unauthorized"), "{err}");
    assert!(err.contains(r#"{"error":"invalid api key"}"#), "{err}");
    assert!(out.is_empty() || !out.contains("invalid"), "{out}");
}

#[test]
fn a_page_instead_of_a_stream_names_its_content_type() {
    let server =
        Server::start(|_, s| respond(s, "200 OK", "text/html; charset=utf-8", "<h1>hi</h1>"));
    let output = run(&mut sse(&[&server.url("/")]), DEADLINE);
    let (_, err) = text(&output);
    assert_eq!(output.status.code(), Some(6), "{err}");
    assert!(err.contains("text/html"), "{err}");
    assert!(err.contains("not an event stream"), "{err}");
    assert_eq!(
        server.requests_now().len(),
        1,
        "not retried, as a browser does not"
    );
}

#[test]
fn a_trickling_server_with_no_line_end_times_out() {
    let server = Server::start(|_, s| {
        let _ = s.write_all(STREAM_HEAD);
        let _ = s.write_all(b"data: ");
        let end = Instant::now() + DEADLINE;
        while Instant::now() < end && s.write_all(b"a").is_ok() {
            thread::sleep(Duration::from_millis(50));
        }
    });
    let started = Instant::now();
    let output = run(
        &mut sse(&[&server.url("/"), "--timeout", "1"]),
        Duration::from_secs(10),
    );
    let (_, err) = text(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(err.contains("line timeout"), "names the deadline: {err}");
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[test]
fn a_silent_stream_and_a_missing_head_time_out_by_name() {
    let silent = Server::start(|_, s| {
        let _ = s.write_all(STREAM_HEAD);
        hold(s);
    });
    times_out(&silent.url("/"), "0.5", "idle timeout");
    let mute = Server::start(|_, s| hold(s));
    times_out(&mute.url("/"), "500ms", "response timeout");
}

/// Runs `sse URL --timeout AFTER`: exit 4 and a message that names the deadline.
fn times_out(url: &str, after: &str, named: &str) {
    let output = run(
        &mut sse(&[url, "--timeout", after]),
        Duration::from_secs(10),
    );
    let (_, err) = text(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(err.contains(named), "{err}");
}

#[test]
fn count_stops_after_n_events() {
    let server = Server::start(|_, s| {
        stream(s, "data: 1\n\ndata: 2\n\ndata: 3\n\n");
        hold(s);
    });
    let output = run(
        &mut sse(&[&server.url("/"), "-n", "2", "--data-only"]),
        DEADLINE,
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output).0, "12");
}

#[test]
fn a_refused_connection_and_bad_arguments_have_their_codes() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{port}/"); // bound, then closed: refused
    let output = run(&mut sse(&[&url, "--no-reconnect"]), DEADLINE);
    assert_eq!(output.status.code(), Some(3), "{:?}", text(&output));
    assert!(
        text(&output).1.contains("cannot connect"),
        "{:?}",
        text(&output)
    );
    let output = run(&mut sse(&[&url, "-H", "no colon"]), DEADLINE);
    assert_eq!(output.status.code(), Some(2));
    let output = run(&mut sse(&[&url, "--timeout", "soon"]), DEADLINE);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn help_documents_the_exit_codes() {
    let output = run(&mut sse(&["--help"]), DEADLINE);
    let (out, _) = text(&output);
    assert_eq!(output.status.code(), Some(0));
    for code in [
        "0  the stream ended",
        "4  a timeout",
        "5  the server answered an HTTP status",
    ] {
        assert!(out.contains(code), "{out}");
    }
}
