//! The process-wide budget of compressed streams: past it, new streams are served
//! identity, on both paths, counted; a stream that ends gives its place back. One test in
//! a binary of its own, since the budget is the process's.

use std::io::Read;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use http_body_util::BodyExt;
use sse_pump::{
    adapters::compression::{set_max_streams, stats},
    channel, CompressedBody, Encoding, Event, Sse, SseBody, SseResponse,
};

fn body(encoding: Encoding) -> CompressedBody {
    let (tx, rx) = channel(1);
    tx.try_send(Event::new().data("budget")).unwrap();
    CompressedBody::new(SseBody::new(Sse::new(rx)), encoding)
}

#[test]
fn past_the_budget_streams_are_served_identity_and_counted() {
    set_max_streams(2);
    let first = body(Encoding::Gzip);
    let second = body(Encoding::Zstd);
    assert_eq!(
        (first.encoding(), second.encoding()),
        (Encoding::Gzip, Encoding::Zstd)
    );
    assert_eq!(stats().active, 2);
    let before = stats().served_identity;

    // The third, on the HTTP path: identity, and its header says so.
    let (tx, rx) = channel(1);
    tx.try_send(Event::new().data("plain")).unwrap();
    drop(tx);
    let response = SseResponse::new(Sse::new(rx)).compress(Encoding::Gzip);
    assert_eq!(response.headers()["content-encoding"], "identity");
    let wire = futures_lite::future::block_on(response.into_body().collect()).unwrap();
    assert_eq!(wire.to_bytes(), "data: plain\n\n");
    assert_eq!(stats().served_identity, before + 1);

    // The fourth, on the bare TCP path: identity too.
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = smol::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client
            .write_all(b"GET / HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n")
            .await
            .unwrap();
        let request = sse_pump::adapters::raw::read_request(&mut server)
            .await
            .unwrap();
        let (tx, rx) = channel(1);
        tx.try_send(Event::new().data("plain")).unwrap();
        drop(tx);
        sse_pump::adapters::raw::respond_compressed(server, Sse::new(rx), &request)
            .await
            .unwrap();
        let mut wire = String::new();
        client.read_to_string(&mut wire).await.unwrap();
        assert!(wire.contains("content-encoding: identity\r\n"), "{wire}");
        assert!(wire.ends_with("\r\n\r\ndata: plain\n\n"), "{wire}");
    });
    assert_eq!(stats().served_identity, before + 2);

    // A stream that ends gives its place back: the next one compresses again.
    drop(first);
    assert_eq!(stats().active, 1);
    let again = body(Encoding::Gzip);
    assert_eq!(again.encoding(), Encoding::Gzip);
    let wire = futures_lite::future::block_on(again.collect())
        .unwrap()
        .to_bytes();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&wire[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "data: budget\n\n");
    // Finished (its trailer sent): the place is free though the body still exists.
    assert_eq!(stats().active, 1);
    drop(second);
    assert_eq!(stats().active, 0);
}
