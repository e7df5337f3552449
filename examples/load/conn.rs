//! One client connection: raw TCP, a tiny HTTP/1.1 request, the response head parsed with
//! httparse, the body de-chunked when hyper chunks it, and `sse_pump::Decoder` on the rest.

use std::{io, net::SocketAddr, time::Duration};

use sse_pump::{Decoder, MessageEvent};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const BUF: usize = 64 * 1024;

/// How [`Conn::open`] connects: from which local address, with which extra request
/// headers, with how large a read buffer.
pub struct Dial {
    pub source: Option<std::net::IpAddr>,
    pub headers: String,
    pub buf: usize,
}

impl Default for Dial {
    fn default() -> Self {
        Dial {
            source: None,
            headers: String::new(),
            buf: BUF,
        }
    }
}

pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    chunked: Option<Dechunk>,
    decoder: Decoder,
    /// Body bytes that came with the head.
    early: Vec<u8>,
    ended: bool,
}

impl Conn {
    /// Connects from `dial.source`, sends `GET target` with `dial.headers` (each line
    /// ending in `\r\n`) and reads the response head (within `head_timeout`) with a read
    /// buffer of `dial.buf` bytes.
    pub async fn open(
        addr: SocketAddr,
        target: &str,
        head_timeout: Duration,
        dial: &Dial,
    ) -> io::Result<Self> {
        let mut stream = match dial.source {
            None => TcpStream::connect(addr).await?,
            Some(ip) => connect_from(ip, addr).await?,
        };
        stream.set_nodelay(true)?;
        let extra = &dial.headers;
        let request = format!(
            "GET {target} HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n{extra}\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut buf = vec![0; dial.buf.max(256)];
        let mut len = 0;
        let read_head = async {
            loop {
                let n = stream.read(&mut buf[len..]).await?;
                if n == 0 {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no response"));
                }
                len += n;
                let mut headers = [httparse::EMPTY_HEADER; 32];
                let mut response = httparse::Response::new(&mut headers);
                match response.parse(&buf[..len]) {
                    Ok(httparse::Status::Complete(head)) => {
                        if response.code != Some(200) {
                            let status = response.code.unwrap_or(0);
                            return Err(io::Error::other(format!("status {status}")));
                        }
                        let chunked = response.headers.iter().any(|h| {
                            h.name.eq_ignore_ascii_case("transfer-encoding")
                                && h.value.eq_ignore_ascii_case(b"chunked")
                        });
                        return Ok((head, chunked));
                    }
                    Ok(httparse::Status::Partial) if len < buf.len() => {}
                    Ok(httparse::Status::Partial) => {
                        return Err(io::Error::other("head too large"))
                    }
                    Err(error) => return Err(io::Error::other(error)),
                }
            }
        };
        let (head, chunked) = tokio::time::timeout(head_timeout, read_head)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no response head"))??;
        let early = buf[head..len].to_vec();
        Ok(Conn {
            stream,
            buf,
            chunked: chunked.then(Dechunk::default),
            decoder: Decoder::new(),
            early,
            ended: false,
        })
    }

    /// Reads once and hands every complete event to `on_event`; `Ok(false)` once the body
    /// has ended.
    pub async fn read_events(
        &mut self,
        mut on_event: impl FnMut(&MessageEvent),
    ) -> io::Result<bool> {
        if self.ended {
            return Ok(false);
        }
        let n = if self.early.is_empty() {
            self.stream.read(&mut self.buf).await?
        } else {
            let early = std::mem::take(&mut self.early);
            self.buf[..early.len()].copy_from_slice(&early);
            early.len()
        };
        if n == 0 {
            self.ended = true;
            self.decoder.finish();
        } else {
            let bytes = &self.buf[..n];
            match &mut self.chunked {
                Some(dechunk) => {
                    let decoder = &mut self.decoder;
                    self.ended = dechunk.feed(bytes, |data| decoder.feed(data));
                }
                None => self.decoder.feed(bytes),
            }
        }
        while let Some(event) = self.decoder.next_event().map_err(io::Error::other)? {
            on_event(&event);
        }
        Ok(!self.ended)
    }
}

/// Connects to `addr` from `ip`, choosing the local port here, at random: the kernel's
/// choice for `bind(ip:0)` scans the port range and took milliseconds per call with
/// 15,000 ports in use (strace: 4.7 ms per `bind`), where binding a given port is one
/// lookup; and ports taken in sequence spread unevenly over `SO_REUSEPORT` listeners (7
/// listeners, 14,000 sequential ports: 1,844 to 2,299 each; random ports: 1,927 to 2,084).
/// Each client process has a source address of its own, so a port is busy only if this
/// process holds it; a busy one is skipped. The ports are outside the kernel's ephemeral
/// range (`ip_local_port_range`): a port bound by hand on any address is one `connect`
/// without `bind` (curl, a server's Redis connection) may no longer take, so with a
/// million streams bound across that range every other program's `connect` failed with
/// "Cannot assign requested address".
async fn connect_from(ip: std::net::IpAddr, addr: SocketAddr) -> io::Result<TcpStream> {
    use std::hash::BuildHasher;
    let (low, high) = ephemeral_ports();
    let mut last = None;
    for _ in 0..256 {
        // std's hasher keys are random: a random port above the privileged ones and
        // outside the ephemeral range.
        let random = std::collections::hash_map::RandomState::new().hash_one(0);
        let choices = u64::from(low - 1024) + u64::from(65535 - high);
        let pick = (random % choices.max(1)) as u16 + 1024;
        let port = if pick < low {
            pick
        } else {
            pick - low + high + 1
        };
        let socket = tokio::net::TcpSocket::new_v4()?;
        if let Err(error) = socket.bind(SocketAddr::new(ip, port)) {
            last = Some(error);
            continue;
        }
        match socket.connect(addr).await {
            Err(error) if error.kind() == io::ErrorKind::AddrNotAvailable => last = Some(error),
            connected => return connected,
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no local port")))
}

/// The kernel's ephemeral port range, `ip_local_port_range` (32768-60999 if unreadable).
fn ephemeral_ports() -> (u16, u16) {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range");
    let mut bounds = range.iter().flat_map(|text| text.split_whitespace());
    let mut next = || bounds.next().and_then(|n| n.parse::<u16>().ok());
    match (next(), next()) {
        (Some(low), Some(high)) if 1024 < low && low <= high => (low, high),
        _ => (32768, 60999),
    }
}

/// A de-chunker for `Transfer-Encoding: chunked`.
#[derive(Default)]
pub struct Dechunk {
    state: State,
}

#[derive(Default, Clone, Copy)]
enum State {
    #[default]
    Size,
    SizeDigits(u64),
    Extension(u64),
    SizeLf(u64),
    Data(u64),
    DataCr,
    DataLf,
    Trailer(usize),
    Done,
}

impl Dechunk {
    /// Feeds bytes, passing the data inside chunks to `out`; true once the last chunk and
    /// trailers are through.
    pub fn feed(&mut self, mut input: &[u8], mut out: impl FnMut(&[u8])) -> bool {
        while let Some((&byte, rest)) = input.split_first() {
            match self.state {
                State::Data(remaining) => {
                    let take = input.len().min(remaining as usize);
                    out(&input[..take]);
                    input = &input[take..];
                    let left = remaining - take as u64;
                    self.state = if left == 0 {
                        State::DataCr
                    } else {
                        State::Data(left)
                    };
                    continue;
                }
                State::Size => self.state = digit(byte, 0),
                State::SizeDigits(n) => self.state = digit(byte, n),
                State::Extension(n) => match byte {
                    b'\r' => self.state = State::SizeLf(n),
                    b'\n' => self.state = chunk(n),
                    _ => {}
                },
                State::SizeLf(n) => self.state = chunk(n),
                State::DataCr => {
                    self.state = if byte == b'\n' {
                        State::Size
                    } else {
                        State::DataLf
                    }
                }
                State::DataLf => self.state = State::Size,
                State::Trailer(len) => match byte {
                    b'\r' => {}
                    b'\n' if len == 0 => self.state = State::Done,
                    b'\n' => self.state = State::Trailer(0),
                    _ => self.state = State::Trailer(len + 1),
                },
                State::Done => return true,
            }
            input = rest;
        }
        matches!(self.state, State::Done)
    }
}

fn digit(byte: u8, n: u64) -> State {
    match (byte as char).to_digit(16) {
        Some(d) => State::SizeDigits(n * 16 + u64::from(d)),
        None if byte == b'\r' => State::SizeLf(n),
        None if byte == b'\n' => chunk(n),
        None => State::Extension(n),
    }
}

fn chunk(n: u64) -> State {
    if n == 0 {
        State::Trailer(0)
    } else {
        State::Data(n)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dechunks_across_splits() {
        let wire = b"5\r\nhello\r\n3;x=1\r\n, w\r\n0\r\n\r\n";
        for split in 0..wire.len() {
            let mut dechunk = super::Dechunk::default();
            let mut data = Vec::new();
            let first = dechunk.feed(&wire[..split], |d| data.extend_from_slice(d));
            let done = dechunk.feed(&wire[split..], |d| data.extend_from_slice(d));
            assert!(!first && done, "split {split}");
            assert_eq!(data, b"hello, w");
        }
    }
}
