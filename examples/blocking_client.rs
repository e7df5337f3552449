//! A blocking SSE client: no async runtime, only `std::net::TcpStream` and
//! `sse_pump::decode_reader`.
//!
//! ```text
//! cargo run --example demo --features json,smol      # in one terminal: serves /events
//! cargo run --example blocking_client           # in another: 127.0.0.1:8000/events
//! cargo run --example blocking_client -- 127.0.0.1:8000/events 5   # stop after 5 events
//! ```
//!
//! It writes the GET by hand, reads the response head (parsed with httparse), checks the
//! status and content type, then hands the rest of the socket to the decoder. Plain HTTP
//! only, and no chunked transfer encoding: this is a sketch of the blocking path, not an
//! HTTP client (a blocking client's body reader, such as ureq's, plugs in the same way).

use std::{
    error::Error,
    io::{BufRead, BufReader, Write},
    net::TcpStream,
};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:8000/events".into());
    let limit: usize = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(usize::MAX);
    let url = url.strip_prefix("http://").unwrap_or(&url);
    let (host, path) = url.split_at(url.find('/').unwrap_or(url.len()));
    let path = if path.is_empty() { "/" } else { path };

    let mut socket = TcpStream::connect(host)?;
    write!(
        socket,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n"
    )?;
    let mut reader = BufReader::new(socket);
    check_head(&read_head(&mut reader)?)?;

    // The BufReader keeps whatever followed the head: the decoder starts there.
    for event in sse_pump::decode_reader(reader).take(limit) {
        let event = event?;
        println!("{} (id {:?}): {}", event.event, event.id, event.data);
    }
    Ok(())
}

/// Reads the response head, up to and including the blank line.
fn read_head(reader: &mut impl BufRead) -> Result<Vec<u8>, Box<dyn Error>> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
        if reader.read_until(b'\n', &mut head)? == 0 || head.len() > 64 * 1024 {
            return Err("the connection ended in the response head".into());
        }
    }
    Ok(head)
}

/// Status 200 and `text/event-stream`, or an error.
fn check_head(head: &[u8]) -> Result<(), Box<dyn Error>> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    response.parse(head)?;
    let status = response.code.unwrap_or(0);
    let header = |name: &str| {
        let found = response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name));
        found.map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
    };
    let content_type = header("content-type").unwrap_or_default();
    if status != 200 || content_type.split(';').next().map(str::trim) != Some("text/event-stream") {
        return Err(format!("not an event stream: status {status}, type {content_type:?}").into());
    }
    if header("transfer-encoding").is_some_and(|te| te.contains("chunked")) {
        return Err("chunked responses are not handled by this example".into());
    }
    Ok(())
}
