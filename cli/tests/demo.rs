//! `sse` against the demo (`cargo run -p sse-pump-demo`), started on a free port.

mod common;

use std::{
    env,
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Command, Stdio},
    sync::mpsc,
    thread,
};

use common::{json_lines, run, sse, text, ChildGuard, DEADLINE};

/// Builds the demo package into this target directory and returns its binary.
fn demo_binary() -> PathBuf {
    let exe = env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> -> target/<profile>
    let profile_dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
    let mut cargo = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(["build", "--quiet", "-p", "sse-pump-demo"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cargo.arg("--release");
    }
    let output = run(&mut cargo, std::time::Duration::from_secs(600));
    assert!(output.status.success(), "{}", text(&output).1);
    profile_dir.join(format!("sse-pump-demo{}", env::consts::EXE_SUFFIX))
}

/// The demo on 127.0.0.1, and its `http://ADDR/` from the `listening on` line.
fn start_demo() -> (ChildGuard, String) {
    let mut child = Command::new(demo_binary())
        .env("SSE_DEMO_ADDR", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start the demo");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let guard = ChildGuard(child);
    let (tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = lines
            .recv_timeout(DEADLINE)
            .expect("the demo printed no address");
        if let Some(url) = line.strip_prefix("listening on ") {
            return (guard, url.trim_end_matches('/').to_owned());
        }
    }
}

#[test]
fn sse_reads_the_demo_stream() {
    let (_demo, url) = start_demo();
    let events = format!("{url}/events");

    let output = run(&mut sse(&[&events, "--json", "-n", "4"]), DEADLINE);
    let (out, err) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    let events_seen = json_lines(&out);
    assert_eq!(events_seen.len(), 4, "{out}");
    for event in &events_seen {
        assert!(
            event["type"].is_string() && event["data"].is_string(),
            "{event}"
        );
    }

    let output = run(&mut sse(&[&events, "-n", "2"]), DEADLINE);
    let (out, err) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(out.lines().next().unwrap().ends_with(" 200 OK"), "{out}");
    assert!(!out.contains('\x1b'), "no colour in a pipe: {out}");
}
