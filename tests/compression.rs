//! A compressed body decodes frame by frame: every event can be read as soon as the frame
//! that carries it arrives, with each codec's own streaming decoder (flate2, brotli, zstd),
//! and the decoded stream is the uncompressed stream, byte for byte.

use std::{io::Write, time::Duration};

use bytes::Bytes;
use futures_lite::future::block_on;
use http_body_util::BodyExt;
use sse_pump::{channel, CompressedBody, Encoding, Error, Event, KeepAlive, Sse, SseBody};

/// A streaming decoder of one encoding, written into frame by frame.
enum Decoder {
    Gzip(flate2::write::GzDecoder<Vec<u8>>),
    Brotli(Box<brotli::DecompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Decoder<'static, Vec<u8>>),
}

impl Decoder {
    fn new(encoding: Encoding) -> Decoder {
        match encoding {
            Encoding::Gzip => Decoder::Gzip(flate2::write::GzDecoder::new(Vec::new())),
            Encoding::Brotli => {
                Decoder::Brotli(Box::new(brotli::DecompressorWriter::new(Vec::new(), 4096)))
            }
            Encoding::Zstd => Decoder::Zstd(zstd::stream::write::Decoder::new(Vec::new()).unwrap()),
            other => panic!("no decoder for {other}"),
        }
    }

    /// Feeds one frame and returns everything decoded so far.
    fn feed(&mut self, frame: &[u8]) -> &[u8] {
        match self {
            Decoder::Gzip(d) => {
                d.write_all(frame).unwrap();
                d.flush().unwrap();
                d.get_ref()
            }
            Decoder::Brotli(d) => {
                d.write_all(frame).unwrap();
                d.flush().unwrap();
                d.get_ref()
            }
            Decoder::Zstd(d) => {
                d.write_all(frame).unwrap();
                d.flush().unwrap();
                d.get_ref()
            }
        }
    }
}

const CODECS: [Encoding; 3] = [Encoding::Gzip, Encoding::Brotli, Encoding::Zstd];

async fn next_data<S: sse_pump::Source>(body: &mut CompressedBody<S>) -> Option<Bytes> {
    let frame = body.frame().await?.expect("no body error");
    Some(frame.into_data().expect("a data frame"))
}

#[test]
fn every_event_decodes_as_soon_as_its_frame_arrives() {
    for encoding in CODECS {
        block_on(async {
            let (tx, rx) = channel(4);
            let sse = Sse::new(rx).keep_alive(None).retry(Duration::from_secs(2));
            let mut body = CompressedBody::new(SseBody::new(sse), encoding);
            let mut decoder = Decoder::new(encoding);
            let mut expected = b"retry: 2000\n\n".to_vec();
            let first = next_data(&mut body).await.unwrap();
            assert_eq!(
                decoder.feed(&first),
                expected,
                "{encoding}: the retry frame"
            );
            for n in 0..50u32 {
                // One event at a time: the body cannot gather two into one frame, so each
                // frame must carry exactly that event, fully decodable.
                let json = format!(r#"{{"token":"tok{n}","index":{n},"done":false}}"#);
                let event = Event::new().event("token").id(n.to_string());
                let event = event.data(json);
                expected.extend_from_slice(&event.clone().into_bytes());
                tx.send(event).await.unwrap();
                let frame = next_data(&mut body).await.unwrap();
                assert_eq!(decoder.feed(&frame), expected, "{encoding}: event {n}");
            }
            drop(tx);
            let closing = next_data(&mut body).await.expect("the closing frame");
            assert_eq!(
                decoder.feed(&closing),
                expected,
                "{encoding}: after closing"
            );
            assert!(next_data(&mut body).await.is_none());
            assert!(http_body::Body::is_end_stream(&body));
            let report = body.report().get().unwrap();
            assert_eq!(report.events, 50);
        });
    }
}

#[test]
fn the_closing_frame_ends_a_valid_compressed_stream() {
    use std::io::Read;
    for encoding in CODECS {
        let (tx, rx) = channel(4);
        tx.try_send(Event::new().data("only")).unwrap();
        drop(tx);
        let body = CompressedBody::new(SseBody::new(Sse::new(rx)), encoding);
        let wire = block_on(body.collect()).unwrap().to_bytes();
        // The whole-stream decoders fail on a stream that does not end properly.
        let mut text = Vec::new();
        match encoding {
            Encoding::Gzip => flate2::read::GzDecoder::new(&wire[..])
                .read_to_end(&mut text)
                .map(drop),
            Encoding::Brotli => brotli::Decompressor::new(&wire[..], 4096)
                .read_to_end(&mut text)
                .map(drop),
            _ => zstd::stream::read::Decoder::new(&wire[..])
                .and_then(|mut d| d.read_to_end(&mut text))
                .map(drop),
        }
        .unwrap_or_else(|e| panic!("{encoding}: {e}"));
        assert_eq!(text, b"data: only\n\n", "{encoding}");
    }
}

#[test]
fn keep_alive_pings_are_flushed_too() {
    for encoding in CODECS {
        block_on(async {
            let (_tx, rx) = channel(4);
            let ping = KeepAlive::new().interval(Duration::from_millis(20));
            let sse = Sse::new(rx).keep_alive(ping);
            let mut body = CompressedBody::new(SseBody::new(sse), encoding);
            let mut decoder = Decoder::new(encoding);
            let frame = next_data(&mut body).await.unwrap();
            assert_eq!(decoder.feed(&frame), b":\n\n", "{encoding}");
            let frame = next_data(&mut body).await.unwrap();
            assert_eq!(decoder.feed(&frame), b":\n\n:\n\n", "{encoding}");
        });
    }
}

#[test]
fn a_failed_source_still_aborts_a_compressed_body() {
    block_on(async {
        let events = sse_pump::adapters::smol::spawn(4, |tx| async move {
            tx.send(Event::new().data("sent"))
                .await
                .map_err(|_| "gone")?;
            Err::<(), _>("the feed broke")
        });
        let body = SseBody::new(Sse::new(events).keep_alive(None));
        let mut body = CompressedBody::new(body, Encoding::Gzip);
        let mut decoder = Decoder::new(Encoding::Gzip);
        let frame = next_data(&mut body).await.unwrap();
        assert_eq!(decoder.feed(&frame), b"data: sent\n\n");
        let error = body.frame().await.unwrap().unwrap_err();
        let Error::SourceFailed(cause) = error else {
            panic!("not a failed source: {error:?}");
        };
        assert_eq!(cause.to_string(), "the feed broke");
    });
}

#[test]
fn identity_passes_frames_through() {
    let (tx, rx) = channel(4);
    tx.try_send(Event::new().data("plain")).unwrap();
    drop(tx);
    let body = CompressedBody::new(SseBody::new(Sse::new(rx)), Encoding::Identity);
    let wire = block_on(body.collect()).unwrap().to_bytes();
    assert_eq!(wire, "data: plain\n\n");
}
