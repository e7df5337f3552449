//! The encoder against the decoder: an event built from arbitrary strings, pumped with
//! each line ending, decodes to exactly one event with the same type, id and data (line
//! breaks in data as `\n`); `event` fails exactly on CR or LF, `id` exactly on CR, LF or
//! NUL; a JSON value comes back as the same value, on one line; `EventWriter` writes the
//! bytes `Event` encodes, or refuses with the same error and leaves the buffer as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use bytes::BytesMut;
use sse_pump::{channel, Decoder, Event, EventWriter, Item, LineEnding, MessageEvent, Sse};

/// The wire bytes of `event`, as the pump writes them with `ending`.
fn pump(event: Event, ending: LineEnding) -> Vec<u8> {
    futures_lite::future::block_on(async {
        let (tx, rx) = channel(1);
        tx.send(event).await.expect("the receiver is alive");
        drop(tx);
        let mut wire = Vec::new();
        let sse = Sse::new(rx).keep_alive(None).line_ending(ending);
        sse.pump(&mut wire).await.expect("a Vec never fails");
        wire
    })
}

/// The one event on `wire`; panics if there is anything else.
fn only_event(wire: &[u8]) -> MessageEvent {
    let mut decoder = Decoder::new().max_id_len(usize::MAX);
    decoder.feed(wire);
    let mut items = Vec::new();
    while let Some(item) = decoder.next_item().expect("within the decoder's limits") {
        items.push(item);
    }
    decoder.finish();
    match <[Item; 1]>::try_from(items) {
        Ok([Item::Event(event)]) => event,
        Ok(other) => panic!("not an event: {other:?}"),
        Err(items) => panic!("{} items, not one: {items:?} from {wire:?}", items.len()),
    }
}

/// Data as a decoder reports it: every CR, LF or CRLF as one `\n`.
fn normalized(data: &str) -> String {
    data.replace("\r\n", "\n").replace('\r', "\n")
}

fn check_json(data: &str, ending: LineEnding) {
    let wire = pump(Event::new().json(data).check().expect("a string is JSON"), ending);
    let back: String = serde_json::from_str(&only_event(&wire).data).expect("valid JSON");
    assert_eq!(back, data);
    let Ok(raw) = serde_json::value::RawValue::from_string(data.to_owned()) else {
        return;
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(data) else {
        return;
    };
    let wire = pump(Event::new().json(&raw).check().expect("valid JSON"), ending);
    let event = only_event(&wire);
    assert!(!event.data.contains('\n'), "one data line");
    let back: serde_json::Value = serde_json::from_str(&event.data).expect("valid JSON");
    assert_eq!(back, value);
}

fn check_writer(kind: &str, id: &str, data: &str) {
    let before = ": earlier\n\n";
    let mut buf = BytesMut::from(before);
    let written = EventWriter::new(&mut buf)
        .event(kind)
        .id(id)
        .data(data)
        .comment(data)
        .finish();
    match Event::new().event(kind).id(id).data(data).comment(data).check() {
        Ok(event) => {
            assert_eq!(written, Ok(()));
            assert_eq!(&buf[before.len()..], &event.into_bytes()[..]);
        }
        Err(error) => {
            assert_eq!(written, Err(error));
            assert_eq!(buf, before);
        }
    }
}

fuzz_target!(|input: (String, String, String, u8)| {
    let (kind, id, data, ending) = input;
    let ending = [LineEnding::Lf, LineEnding::Cr, LineEnding::CrLf][usize::from(ending % 3)];
    let breaks = |s: &str, nul: bool| s.contains(['\r', '\n']) || (nul && s.contains('\0'));
    let event = Event::new().event(&kind);
    assert_eq!(event.error().is_some(), breaks(&kind, false), "event {kind:?}");
    let event = event.id(&id);
    if !breaks(&kind, false) {
        assert_eq!(event.error().is_some(), breaks(&id, true), "id {id:?}");
    }
    if let Ok(event) = event.check() {
        let decoded = only_event(&pump(event.data(&data), ending));
        let want_kind = if kind.is_empty() { "message" } else { &kind };
        assert_eq!(decoded.event, want_kind);
        assert_eq!(decoded.id, id);
        assert_eq!(decoded.data, normalized(&data));
    }
    check_json(&data, ending);
    check_writer(&kind, &id, &data);
});
