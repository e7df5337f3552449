//! The async adapters, on smol and on tokio: `decode` over a futures-io `AsyncRead`
//! (a scripted reader and a real localhost socket fed by `Sse::pump`) and `decode_stream`
//! over a stream of chunks, with a transport error mid-stream.

use std::{
    collections::VecDeque,
    io,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_lite::{stream, AsyncRead, StreamExt};
use sse_pump::{channel, decode, decode_stream, DecodeError, Event, MessageEvent, Sse};

/// Returns its chunks one per read, answering `Pending` (after waking) before each one, so
/// the adapter's pending path runs.
struct Scripted {
    chunks: VecDeque<io::Result<Vec<u8>>>,
    ready: bool,
}

impl Scripted {
    fn new(chunks: Vec<io::Result<Vec<u8>>>) -> Self {
        Scripted {
            chunks: chunks.into(),
            ready: false,
        }
    }
}

impl AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if !std::mem::replace(&mut self.ready, false) {
            self.ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match self.chunks.pop_front() {
            None => Poll::Ready(Ok(0)),
            Some(Err(e)) => Poll::Ready(Err(e)),
            Some(Ok(chunk)) => {
                buf[..chunk.len()].copy_from_slice(&chunk);
                Poll::Ready(Ok(chunk.len()))
            }
        }
    }
}

fn script() -> Scripted {
    Scripted::new(vec![
        Ok(b"data: a\r".to_vec()),
        Ok(b"\n\r\nevent: x\ndata: b\n".to_vec()),
        Ok(b"\n".to_vec()),
        Ok(b"data: c".to_vec()),
        Err(io::ErrorKind::ConnectionReset.into()),
        Ok(b"\n\ndata: never\n\n".to_vec()),
    ])
}

async fn reader_with_a_reset() {
    let mut events = decode(script());
    assert_eq!(events.next().await.unwrap().unwrap().data, "a");
    let b = events.next().await.unwrap().unwrap();
    assert_eq!((&*b.event, b.data.as_str()), ("x", "b"));
    match events.next().await {
        Some(Err(DecodeError::Transport(e))) => {
            assert_eq!(e.kind(), io::ErrorKind::ConnectionReset)
        }
        other => panic!("expected the transport error, got {other:?}"),
    }
    assert!(events.next().await.is_none());
}

#[derive(Debug, PartialEq)]
struct Reset;

async fn chunks_with_a_reset() {
    let chunks = stream::iter(vec![
        Ok(Bytes::from_static(b"id: 1\ndata: a")),
        Ok(Bytes::from_static(b"\n\ndata: b\n\n: ping\n")),
        Ok(Bytes::from_static(b"data: half")),
        Err(Reset),
        Ok(Bytes::from_static(b"\n\n")),
    ]);
    let mut events = decode_stream(chunks);
    let a = events.next().await.unwrap().unwrap();
    assert_eq!((a.data.as_str(), a.id.as_str()), ("a", "1"));
    assert_eq!(events.next().await.unwrap().unwrap().id, "1");
    assert!(matches!(
        events.next().await,
        Some(Err(DecodeError::Transport(Reset)))
    ));
    assert!(events.next().await.is_none());
    assert_eq!(events.decoder().last_event_id(), "1");
}

/// A server pumps three events into a localhost socket; the client decodes them.
async fn over_a_socket() -> Vec<MessageEvent> {
    let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = async {
        let (socket, _) = listener.accept().await.unwrap();
        let (tx, rx) = channel(8);
        for n in 0..3 {
            tx.send(Event::new().id(n.to_string()).data(format!("{n}\n{n}")))
                .await
                .unwrap();
        }
        drop(tx);
        Sse::new(rx).keep_alive(None).pump(socket).await.unwrap();
    };
    let client = async {
        let socket = smol::net::TcpStream::connect(addr).await.unwrap();
        decode(socket).map(Result::unwrap).collect::<Vec<_>>().await
    };
    futures_lite::future::zip(server, client).await.1
}

fn check_socket_events(events: Vec<MessageEvent>) {
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.id.as_str(), e.data.as_str()))
        .collect();
    assert_eq!(got, [("0", "0\n0"), ("1", "1\n1"), ("2", "2\n2")]);
}

#[test]
fn smol_decode_reader_with_a_reset() {
    smol::block_on(reader_with_a_reset());
}

#[test]
fn smol_decode_stream_with_a_reset() {
    smol::block_on(chunks_with_a_reset());
}

#[test]
fn smol_decode_over_a_socket() {
    check_socket_events(smol::block_on(over_a_socket()));
}

#[tokio::test]
async fn tokio_decode_reader_with_a_reset() {
    reader_with_a_reset().await;
}

#[tokio::test]
async fn tokio_decode_stream_with_a_reset() {
    chunks_with_a_reset().await;
}

#[tokio::test]
async fn tokio_decode_over_a_socket() {
    check_socket_events(over_a_socket().await);
}

#[tokio::test]
async fn tokio_items_surface_comments() {
    let chunks = stream::iter([Ok::<_, Reset>(&b": keep-alive\n\ndata: x\n\n"[..])]);
    let items: Vec<_> = decode_stream(chunks)
        .items()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0], sse_pump::Item::Comment("keep-alive".into()));
}

#[test]
fn limits_surface_through_the_async_adapters_and_decoding_goes_on() {
    let long = format!("data: {}\n\ndata: ok\n\n", "x".repeat(100));
    let chunks: Vec<Result<Vec<u8>, Reset>> =
        long.as_bytes().chunks(1).map(|c| Ok(c.to_vec())).collect();
    let decoder = sse_pump::Decoder::new().max_line_len(50);
    let items: Vec<_> = smol::block_on(
        sse_pump::DecodeStream::new(decoder, stream::iter(chunks)).collect::<Vec<_>>(),
    );
    assert_eq!(items.len(), 2);
    assert!(matches!(
        items[0],
        Err(DecodeError::LineTooLong { limit: 50 })
    ));
    assert_eq!(items[1].as_ref().unwrap().data, "ok");
}
