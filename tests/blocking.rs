//! The blocking client (`client::blocking`) against raw-socket servers on 127.0.0.1 (std
//! `TcpListener`, every byte written by hand): the same checks and deadlines as the async
//! client, with no runtime anywhere.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::mpsc,
    thread,
    time::Duration,
};

use sse_pump::client::{self, blocking, Error};

/// What the server does on a connection, step by step.
#[derive(Clone)]
enum Step {
    Send(String),
    Pause(Duration),
    /// Keep the connection until the client closes it, then say so.
    Hold,
}

use Step::*;

const SSE_HEAD: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n";

/// Serves each connection with the next script (then closes connections at once); sends
/// each request (head and body) it read, and `"dropped"` when a held connection closes.
fn serve(scripts: Vec<Vec<Step>>) -> (SocketAddr, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut scripts = scripts.into_iter();
        for socket in listener.incoming() {
            let (script, tx) = (scripts.next().unwrap_or_default(), tx.clone());
            thread::spawn(move || answer(socket.unwrap(), script, tx));
        }
    });
    (addr, rx)
}

fn answer(mut socket: TcpStream, script: Vec<Step>, tx: mpsc::Sender<String>) {
    let mut request = Vec::new();
    let mut buf = [0; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request).into_owned();
    let length: usize = (text.lines())
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let head_len = text.find("\r\n\r\n").unwrap() + 4;
    while request.len() < head_len + length {
        let n = socket.read(&mut buf).unwrap();
        request.extend_from_slice(&buf[..n]);
    }
    tx.send(String::from_utf8_lossy(&request).into_owned())
        .unwrap();
    for step in script {
        match step {
            Send(bytes) => {
                if socket.write_all(bytes.as_bytes()).is_err() {
                    return;
                }
            }
            Pause(pause) => thread::sleep(pause),
            Hold => {
                while !matches!(socket.read(&mut buf), Ok(0) | Err(_)) {}
                let _ = tx.send("dropped".into());
            }
        }
    }
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}/v1/chat")
}

fn recv(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the server saw nothing")
}

/// A chunked body, as hyper and axum send a stream.
fn chunk(data: &str) -> String {
    format!("{:x}\r\n{data}\r\n", data.len())
}

#[test]
fn a_post_streams_until_done_and_the_connection_is_closed() {
    let (addr, seen) = serve(vec![vec![
        Send(format!("{SSE_HEAD}Transfer-Encoding: chunked\r\n\r\n")),
        Send(chunk("id: 1\ndata: t0\n\n")),
        Send(chunk("data: t1\n\ndata: [DONE]\n\n")),
        Hold,
    ]]);
    let events = client::post(blocking::Client, url(addr))
        .bearer_auth("sk-test")
        .header("content-type", "application/json")
        .body(r#"{"stream":true}"#)
        .end_when(|event| event.data == "[DONE]")
        .send_blocking()
        .unwrap();
    let data: Vec<String> = events.map(|e| e.unwrap().data.into()).collect();
    assert_eq!(data, ["t0", "t1", "[DONE]"]);
    let request = recv(&seen);
    assert!(
        request.starts_with("POST /v1/chat HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request.contains("authorization: Bearer sk-test\r\n"),
        "{request}"
    );
    assert!(
        request.contains("accept: text/event-stream\r\n"),
        "{request}"
    );
    assert!(request.ends_with("\r\n\r\n{\"stream\":true}"), "{request}");
    assert_eq!(recv(&seen), "dropped");
}

#[test]
fn every_body_framing_ends_cleanly_or_says_it_was_cut() {
    let body = "id: 7\ndata: a\n\n";
    let (addr, _seen) = serve(vec![
        vec![Send(format!(
            "{SSE_HEAD}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ))],
        vec![Send(format!("{SSE_HEAD}Connection: close\r\n\r\n{body}"))],
        vec![Send(format!(
            "{SSE_HEAD}Transfer-Encoding: chunked\r\n\r\n{}0\r\n\r\n",
            chunk(body)
        ))],
        vec![Send(format!(
            "{SSE_HEAD}Transfer-Encoding: chunked\r\n\r\n{}",
            chunk(body)
        ))],
        vec![Send(format!("{SSE_HEAD}Content-Length: 99\r\n\r\n{body}"))],
    ]);
    for clean in [true, true, true, false, false] {
        let mut events = client::get(blocking::Client, url(addr))
            .send_blocking()
            .unwrap();
        assert_eq!(events.next().unwrap().unwrap().data, "a");
        assert_eq!(events.last_event_id(), "7");
        match events.next() {
            None => assert!(clean),
            Some(Err(e @ Error::Transport(_))) => assert!(!clean, "{e}"),
            other => panic!("{other:?}"),
        }
        assert!(events.next().is_none());
    }
}

#[test]
fn a_rejection_is_typed_with_its_status_headers_and_body() {
    let (addr, _seen) = serve(vec![
        vec![Send("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 9\r\n\r\nslow down".into())],
        vec![Send("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>".into())],
        vec![Send("HTTP/1.1 204 No Content\r\n\r\n".into())],
    ]);
    let rejected = |sent: Result<blocking::Events, Error>| match sent {
        Err(Error::Rejected {
            status,
            headers,
            body,
        }) => (status, headers, body),
        other => panic!("{other:?}"),
    };
    let (status, headers, body) =
        rejected(client::post(blocking::Client, url(addr)).send_blocking());
    assert_eq!((status.as_u16(), &body[..]), (429, &b"slow down"[..]));
    assert_eq!(headers["retry-after"], "7");
    let (status, _, body) = rejected(client::post(blocking::Client, url(addr)).send_blocking());
    assert_eq!((status.as_u16(), &body[..]), (200, &b"<html>"[..]));
    let mut events = client::get(blocking::Client, url(addr))
        .send_blocking()
        .unwrap();
    assert!(events.next().is_none(), "204: an empty stream");
}

const LIMIT: Duration = Duration::from_millis(300);

#[test]
fn a_server_that_never_answers_is_a_response_timeout() {
    let (addr, _seen) = serve(vec![vec![Hold]]);
    let sent = client::get(blocking::Client, url(addr))
        .response_timeout(LIMIT)
        .send_blocking();
    assert!(
        matches!(sent, Err(Error::ResponseTimeout(LIMIT))),
        "{sent:?}"
    );
}

#[test]
fn a_silent_stream_is_an_idle_timeout() {
    let (addr, _seen) = serve(vec![vec![Send(format!("{SSE_HEAD}\r\ndata: a\n\n")), Hold]]);
    let mut events = client::get(blocking::Client, url(addr))
        .idle_timeout(LIMIT)
        .send_blocking()
        .unwrap();
    assert_eq!(events.next().unwrap().unwrap().data, "a");
    match events.next() {
        Some(Err(Error::IdleTimeout(LIMIT))) => {}
        other => panic!("{other:?}"),
    }
    assert!(events.next().is_none());
}

#[test]
fn a_trickling_line_is_a_progress_timeout() {
    let mut script = vec![Send(format!("{SSE_HEAD}\r\ndata: a\n\ndata: "))];
    for _ in 0..100 {
        script.extend([Pause(Duration::from_millis(50)), Send("x".into())]);
    }
    let (addr, _seen) = serve(vec![script]);
    let mut events = client::get(blocking::Client, url(addr))
        .idle_timeout(Duration::from_secs(1))
        .progress_timeout(LIMIT)
        .send_blocking()
        .unwrap();
    assert_eq!(events.next().unwrap().unwrap().data, "a");
    match events.next() {
        Some(Err(Error::ProgressTimeout(LIMIT))) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_refused_connection_is_a_transport_error_with_its_cause() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = client::get(blocking::Client, url(addr))
        .send_blocking()
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(err.to_string(), "the request failed");
    // The cause is the source, not repeated in the text.
    let cause = std::error::Error::source(&err).expect("the OS's error");
    let io = cause
        .downcast_ref::<std::io::Error>()
        .expect("an io::Error");
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
}
