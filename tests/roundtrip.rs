//! Round trip: for generated events, decode(encode(event)) gives the event back, with every
//! line break in data normalised to `\n`, for every line ending the pump can write.

use std::time::Duration;

use proptest::prelude::*;
use sse_pump::{channel, decode_reader, Event, EventWriter, LineEnding, MessageEvent, Sse};

#[derive(Clone, Debug)]
struct Spec {
    data: String,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
}

/// Text with every kind of line break, spaces, colons and non-ASCII.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_owned()),
        Just("\r".to_owned()),
        Just("\r\n".to_owned()),
        Just(" ".to_owned()),
        Just(":".to_owned()),
        "[a-z0-9é😀\u{FEFF}\0]{0,6}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
}

/// An `event` (`nul`: NUL allowed) or `id` value: no CR or LF, which the encoder refuses,
/// and leading spaces, which it must keep.
fn line(nul: bool) -> impl Strategy<Value = String> {
    let chars = if nul {
        "[ :a-zA-Z0-9é\0]{0,12}"
    } else {
        "[ :a-zA-Z0-9é]{0,12}"
    };
    chars.prop_map(|s| s)
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        text(),
        prop::option::of(line(true)),
        prop::option::of(line(false)),
        prop::option::of(0..10_000_000u64),
    )
        .prop_map(|(data, event, id, retry)| Spec {
            data,
            event,
            id,
            retry,
        })
}

fn build(spec: &Spec) -> Event {
    let mut event = Event::new();
    if let Some(id) = &spec.id {
        event = event.id(id);
    }
    if let Some(name) = &spec.event {
        event = event.event(name);
    }
    if let Some(ms) = spec.retry {
        event = event.retry(Duration::from_millis(ms));
    }
    event.data(&spec.data)
}

/// `spec` written with `EventWriter`, the same setters in the same order as [`build`].
fn write(spec: &Spec, buf: &mut bytes::BytesMut) {
    let mut writer = EventWriter::new(buf);
    if let Some(id) = &spec.id {
        writer = writer.id(id);
    }
    if let Some(name) = &spec.event {
        writer = writer.event(name);
    }
    if let Some(ms) = spec.retry {
        writer = writer.retry(Duration::from_millis(ms));
    }
    writer.data(&spec.data).finish().unwrap();
}

fn wire(specs: &[Spec], ending: LineEnding) -> Vec<u8> {
    let (tx, rx) = channel(specs.len().max(1));
    for spec in specs {
        tx.try_send(build(spec)).unwrap();
    }
    drop(tx);
    let mut wire = Vec::new();
    let pump = Sse::new(rx)
        .keep_alive(None)
        .line_ending(ending)
        .pump(&mut wire);
    futures_lite::future::block_on(pump).unwrap();
    wire
}

fn expected(specs: &[Spec]) -> Vec<MessageEvent> {
    let mut id = String::new();
    let mut out = Vec::new();
    for spec in specs {
        if let Some(new) = &spec.id {
            id.clone_from(new);
        }
        out.push(MessageEvent {
            event: match spec.event.as_deref() {
                None | Some("") => "message".into(),
                Some(name) => name.to_owned().into(),
            },
            data: spec.data.replace("\r\n", "\n").replace('\r', "\n").into(),
            id: id.as_str().into(),
            retry: spec.retry.map(Duration::from_millis),
        });
    }
    out
}

proptest! {
    #[test]
    fn decode_of_encode_is_identity(specs in prop::collection::vec(spec(), 1..6), cut in any::<prop::sample::Index>()) {
        let want = expected(&specs);
        for ending in [LineEnding::Lf, LineEnding::Cr, LineEnding::CrLf] {
            let bytes = wire(&specs, ending);
            let got: Vec<_> = decode_reader(&bytes[..]).map(Result::unwrap).collect();
            prop_assert_eq!(&got, &want, "{:?}", ending);
            // The same bytes in two chunks, cut anywhere.
            let at = cut.index(bytes.len() + 1);
            let mut decoder = sse_pump::Decoder::new();
            let mut split = Vec::new();
            for chunk in [&bytes[..at], &bytes[at..]] {
                decoder.feed(chunk);
                while let Some(event) = decoder.next_event().unwrap() {
                    split.push(event);
                }
            }
            prop_assert_eq!(&split, &want, "{:?} cut at {}", ending, at);
        }
    }
}

proptest! {
    /// Frames written straight into one buffer are the bytes `Event` encodes, one after the
    /// other, and decode to the same events.
    #[test]
    fn event_writer_writes_what_event_encodes(specs in prop::collection::vec(spec(), 1..6)) {
        let mut buf = bytes::BytesMut::new();
        let mut want = Vec::new();
        for spec in &specs {
            write(spec, &mut buf);
            want.extend_from_slice(&build(spec).into_bytes());
        }
        prop_assert_eq!(&buf[..], &want[..]);
        let got: Vec<_> = decode_reader(&buf[..]).map(Result::unwrap).collect();
        prop_assert_eq!(got, expected(&specs));
    }
}
