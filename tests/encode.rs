//! Exact wire bytes for every field combination and line ending, and every injection attempt.

use std::time::Duration;

use futures_lite::future::block_on;
use sse_pump::{channel, Event, FieldError, LineEnding, Sse};

/// The bytes a pump writes for `event` with `ending`.
fn wire(event: Event, ending: LineEnding) -> String {
    let (tx, rx) = channel(1);
    tx.try_send(event).unwrap();
    drop(tx);
    let mut out = Vec::new();
    block_on(
        Sse::new(rx)
            .keep_alive(None)
            .line_ending(ending)
            .pump(&mut out),
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn every_field_combination() {
    // Each field on its own, then all subsets, in setter order.
    type Setter = fn(Event) -> Event;
    let fields: [(&str, Setter); 5] = [
        ("data: d\n", |e| e.data("d")),
        ("event: t\n", |e| e.event("t")),
        ("id: 9\n", |e| e.id("9")),
        ("retry: 1500\n", |e| e.retry(Duration::from_millis(1500))),
        (": c\n", |e| e.comment("c")),
    ];
    for mask in 0u32..32 {
        let mut event = Event::new();
        let mut want = String::new();
        for (bit, (line, set)) in fields.iter().enumerate() {
            if mask & (1 << bit) != 0 {
                event = set(event);
                want.push_str(line);
            }
        }
        want.push('\n');
        for ending in [LineEnding::Lf, LineEnding::Cr, LineEnding::CrLf] {
            let end = std::str::from_utf8(ending.as_bytes()).unwrap();
            assert_eq!(
                wire(event.clone(), ending),
                want.replace('\n', end),
                "mask {mask:#b}"
            );
        }
    }
}

#[test]
fn data_keeps_every_line() {
    let cases = [
        ("", "data:\n\n"),
        ("a", "data: a\n\n"),
        ("a\nb", "data: a\ndata: b\n\n"),
        ("a\rb", "data: a\ndata: b\n\n"),
        ("a\r\nb", "data: a\ndata: b\n\n"),
        ("a\n\nb", "data: a\ndata:\ndata: b\n\n"),
        ("a\n", "data: a\ndata:\n\n"),
        ("\n", "data:\ndata:\n\n"),
        ("\r\n\r", "data:\ndata:\ndata:\n\n"),
        (" x", "data:  x\n\n"),
        ("x: y", "data: x: y\n\n"),
        ("\u{feff}é", "data: \u{feff}é\n\n"),
    ];
    for (data, want) in cases {
        assert_eq!(Event::new().data(data).into_bytes(), want, "{data:?}");
    }
}

#[test]
fn repeated_fields_are_all_written_in_order() {
    let event = Event::new()
        .data("1")
        .comment("c")
        .data("2")
        .id("a")
        .id("b");
    assert_eq!(
        event.into_bytes(),
        "data: 1\n: c\ndata: 2\nid: a\nid: b\n\n"
    );
}

#[test]
fn empty_event_and_id() {
    assert_eq!(Event::new().into_bytes(), "\n");
    assert_eq!(Event::new().id("").into_bytes(), "id:\n\n");
    assert_eq!(Event::new().event("").into_bytes(), "event:\n\n");
}

#[test]
fn injection_in_event_and_id_is_refused() {
    for bad in [
        "a\nb",
        "a\rb",
        "a\r\nb",
        "\n",
        "x\ndata: injected",
        "x\n\nevent: evil",
    ] {
        let byte = if bad.contains('\r') { b'\r' } else { b'\n' };
        let refused = Event::new().event(bad).data("x");
        let err = refused.error().cloned().unwrap();
        assert_eq!(
            err,
            FieldError::InvalidByte {
                field: "event",
                byte
            },
            "{bad:?}"
        );
        // The refused field was not written: the frame cannot carry it.
        assert_eq!(refused.into_bytes(), "data: x\n\n");
        let err = Event::new().id(bad).check().unwrap_err();
        assert_eq!(
            err,
            FieldError::InvalidByte { field: "id", byte },
            "{bad:?}"
        );
    }
    let err = Event::new().id("1\u{0}2").check().unwrap_err();
    assert_eq!(
        err,
        FieldError::InvalidByte {
            field: "id",
            byte: 0
        }
    );
    assert_eq!(err.to_string(), "the `id` field cannot contain a NUL");
    // A NUL is legal in an event type.
    assert_eq!(
        Event::new().event("a\u{0}b").into_bytes(),
        "event: a\u{0}b\n\n"
    );
}

#[test]
fn the_first_refused_field_is_kept() {
    let event = Event::new().id("ok").event("a\rb").id("c\nd").data("x");
    assert_eq!(
        event.error(),
        Some(&FieldError::InvalidByte {
            field: "event",
            byte: b'\r'
        })
    );
    assert_eq!(event.into_bytes(), "id: ok\ndata: x\n\n");
}

#[test]
fn an_event_with_a_refused_field_is_not_sent() {
    let (tx, rx) = sse_pump::channel(4);
    let refused = || Event::new().id("1\n2").data("x");
    let err = tx.try_send(refused()).unwrap_err();
    assert!(err.is_invalid());
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert_eq!(source, "the `id` field cannot contain a line feed");
    assert!(tx.send_blocking(refused()).unwrap_err().is_invalid());
    let sent = futures_lite::future::block_on(tx.send(refused()));
    assert!(sent.unwrap_err().is_invalid());
    let hub = sse_pump::hub::Hub::new();
    assert!(hub.publish(refused()).unwrap_err().is_invalid());
    drop(tx);
    let mut wire = Vec::new();
    let report =
        futures_lite::future::block_on(sse_pump::Sse::new(rx).keep_alive(None).pump(&mut wire));
    assert_eq!(report.unwrap().events, 0);
    assert!(wire.is_empty(), "nothing reached the wire");
}

#[test]
fn injection_in_data_and_comment_is_neutralised() {
    // A line break can only start another line of the same field.
    let event = Event::new()
        .data("x\n\nevent: evil\ndata: injected")
        .comment("c\n\ndata: evil");
    assert_eq!(
        event.into_bytes(),
        "data: x\ndata:\ndata: event: evil\ndata: data: injected\n: c\n:\n: data: evil\n\n"
    );
}

#[test]
fn retry_is_whole_milliseconds() {
    assert_eq!(
        Event::new().retry(Duration::from_secs(3)).into_bytes(),
        "retry: 3000\n\n"
    );
    assert_eq!(
        Event::new().retry(Duration::from_micros(1999)).into_bytes(),
        "retry: 1\n\n"
    );
    assert_eq!(
        Event::new().retry(Duration::ZERO).into_bytes(),
        "retry: 0\n\n"
    );
}

#[test]
fn a_frozen_event_is_shared_and_can_grow_again() {
    let frozen = Event::new().data("a").freeze();
    let grown = frozen.clone().data("b");
    assert_eq!(frozen.clone().into_bytes(), "data: a\n\n");
    assert_eq!(grown.into_bytes(), "data: a\ndata: b\n\n");
    let (x, y) = (frozen.clone().into_bytes(), frozen.into_bytes());
    assert_eq!(
        x.as_ptr(),
        y.as_ptr(),
        "clones of a frozen event share one buffer"
    );
}

#[cfg(feature = "json")]
#[test]
fn json_is_one_compact_line() {
    #[derive(serde::Serialize)]
    struct Msg<'a> {
        text: &'a str,
        n: u32,
    }
    let event = Event::new().event("token").json(&Msg {
        text: "a\nb\r\"",
        n: 1,
    });
    assert_eq!(
        event.into_bytes(),
        "event: token\ndata: {\"text\":\"a\\nb\\r\\\"\",\"n\":1}\n\n"
    );

    let mut bad = std::collections::HashMap::new();
    bad.insert(vec![1u8], 1); // a map with non-string keys cannot be JSON
    let refused = Event::new().data("kept").json(&bad);
    assert!(matches!(refused.error(), Some(FieldError::Json(_))));
    assert_eq!(refused.into_bytes(), "data: kept\n\n");
}

/// A value that brings its own text (a `RawValue` keeps its whitespace) still makes one
/// `data:` line, and decodes to the same JSON value.
#[cfg(feature = "json")]
#[test]
fn json_with_raw_line_breaks_stays_on_one_line() {
    let raw =
        serde_json::value::RawValue::from_string("{\n\"a\": [1,\r\n2],\r\"b\": \"x\"\n}".into())
            .unwrap();
    let wire = Event::new().json(&raw).check().unwrap().into_bytes();
    assert_eq!(wire, "data: { \"a\": [1,  2], \"b\": \"x\" }\n\n");
    let mut decoder = sse_pump::Decoder::new();
    decoder.feed(&wire);
    let event = decoder.next_event().unwrap().unwrap();
    let back: serde_json::Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(back, serde_json::json!({"a": [1, 2], "b": "x"}));
    assert_eq!(decoder.next_event(), Ok(None), "one event, not several");
}

/// U+2028, U+2029 and U+0085 are not line breaks for SSE, but some parsers split on them
/// (Python's `str.splitlines`): `json` escapes them (the same JSON value); `data` keeps
/// them as they are (spec-exact), and a WHATWG decoder gives them back.
#[cfg(feature = "json")]
#[test]
fn unicode_line_separators_are_escaped_in_json_and_kept_in_data() {
    let text = "a\u{2028}b\u{2029}c\u{85}d";
    let wire = Event::new().json(text).check().unwrap().into_bytes();
    assert_eq!(wire, "data: \"a\\u2028b\\u2029c\\u0085d\"\n\n");
    let back: String = serde_json::from_slice(&wire[6..wire.len() - 2]).unwrap();
    assert_eq!(back, text);
    let wire = Event::new().data(text).into_bytes();
    assert_eq!(wire, format!("data: {text}\n\n"));
    let mut decoder = sse_pump::Decoder::new();
    decoder.feed(&wire);
    assert_eq!(decoder.next_event().unwrap().unwrap().data, text);
}
