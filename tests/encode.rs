//! Exact wire bytes for every field combination and line ending, and every injection attempt.

use std::time::Duration;

use bytes::BytesMut;
use futures_lite::future::block_on;
use sse_pump::{channel, Event, EventWriter, FieldError, LineEnding, Sse};

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

#[test]
fn a_refused_event_keeps_its_error_and_its_valid_lines_when_frozen_and_grown() {
    let frozen = Event::new().data("a").id("1\n").freeze();
    let grown = frozen.clone().data("b").event("also\rrefused");
    let first = FieldError::InvalidByte {
        field: "id",
        byte: b'\n',
    };
    assert_eq!(frozen.error(), Some(&first));
    assert_eq!(grown.error(), Some(&first), "the first refusal is kept");
    assert_eq!(frozen.clone().into_bytes(), "data: a\n\n");
    assert_eq!(
        format!("{grown:?}"),
        format!("Event(\"data: a\\ndata: b\\n\", {first:?})")
    );
    let mut buf = BytesMut::new();
    grown.encode_into(&mut buf);
    assert_eq!(buf, "data: a\ndata: b\n\n");
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

// EventWriter: the same frames as Event, written straight into the caller's buffer.

/// The frame `EventWriter` writes with `set`, after `before` in the buffer.
fn written(before: &str, set: impl FnOnce(EventWriter<'_>) -> EventWriter<'_>) -> String {
    let mut buf = BytesMut::from(before);
    set(EventWriter::new(&mut buf)).finish().unwrap();
    let frame = buf.split_off(before.len());
    assert_eq!(buf, before, "what was in the buffer is kept");
    String::from_utf8(frame.to_vec()).unwrap()
}

#[test]
fn event_writer_matches_event_for_every_field_combination() {
    type Setters = (
        fn(Event) -> Event,
        for<'a> fn(EventWriter<'a>) -> EventWriter<'a>,
    );
    let fields: [Setters; 6] = [
        (|e| e.data("d\nd"), |w| w.data("d\nd")),
        (|e| e.event("t"), |w| w.event("t")),
        (|e| e.id("9"), |w| w.id("9")),
        (
            |e| e.retry(Duration::from_millis(1500)),
            |w| w.retry(Duration::from_millis(1500)),
        ),
        (|e| e.comment("c\r\nc"), |w| w.comment("c\r\nc")),
        (|e| e.data(""), |w| w.data("")),
    ];
    for mask in 0u32..64 {
        let mut event = Event::new();
        let mut buf = BytesMut::from("data: before\n\n");
        let mut writer = EventWriter::new(&mut buf);
        for (bit, (set_event, set_writer)) in fields.iter().enumerate() {
            if mask & (1 << bit) != 0 {
                event = set_event(event);
                writer = set_writer(writer);
            }
        }
        writer.finish().unwrap();
        let want = [&b"data: before\n\n"[..], &event.into_bytes()].concat();
        assert_eq!(buf, want, "mask {mask:#b}");
    }
}

#[test]
fn event_writer_keeps_every_data_line() {
    for data in [
        "", "a", "a\nb", "a\rb", "a\r\nb", "a\n\nb", "a\n", "\n", "\r\n\r", " x",
    ] {
        let want = Event::new().data(data).into_bytes();
        assert_eq!(written("", |w| w.data(data)), want, "{data:?}");
        assert_eq!(written(": x\n\n", |w| w.data(data)), want, "{data:?}");
    }
    assert_eq!(written("", |w| w.data("")), "data:\n\n");
    assert_eq!(written("", |w| w), "\n");
}

#[test]
fn event_writer_refuses_injection_and_takes_the_event_back() {
    let before = "data: earlier\n\n";
    // The long one is searched past the short and inlined paths.
    let long_with_nul = "7".repeat(100_000) + "\0";
    let cases = [
        ("event", "x\ndata: injected", b'\n'),
        ("event", "x\r", b'\r'),
        ("id", "1\n\nevent: evil", b'\n'),
        ("id", "1\r\n", b'\r'),
        ("id", "1\0", 0),
        ("id", &long_with_nul, 0),
    ];
    for (field, bad, byte) in cases {
        let mut buf = BytesMut::from(before);
        let writer = EventWriter::new(&mut buf).data("kept?").id("fine");
        let writer = match field {
            "event" => writer.event(bad),
            _ => writer.id(bad),
        };
        // Nothing of the event is left, and later fields are not written either.
        let err = writer.data("after").comment("after").finish().unwrap_err();
        assert_eq!(
            err,
            FieldError::InvalidByte { field, byte },
            "{field} {bad:?}"
        );
        assert_eq!(buf, before, "{field} {bad:?}");
        // The buffer is usable for the next event.
        EventWriter::new(&mut buf).data("next").finish().unwrap();
        assert_eq!(buf, "data: earlier\n\ndata: next\n\n");
    }
    // NUL is fine in an event type, as in `Event::event`.
    assert_eq!(written("", |w| w.event("a\0b")), "event: a\0b\n\n");
}

#[test]
fn event_writer_keeps_the_first_refused_field() {
    let mut buf = BytesMut::new();
    let err = EventWriter::new(&mut buf)
        .event("a\rb")
        .id("c\nd")
        .finish()
        .unwrap_err();
    assert_eq!(
        err,
        FieldError::InvalidByte {
            field: "event",
            byte: b'\r'
        }
    );
    assert!(buf.is_empty());
}

#[test]
fn an_unfinished_event_writer_takes_its_lines_back() {
    let mut buf = BytesMut::from("data: earlier\n\n");
    let writer = EventWriter::new(&mut buf).id("1").data("a\nb");
    assert!(format!("{writer:?}").contains("data: b"));
    drop(writer);
    assert_eq!(buf, "data: earlier\n\n");
}

#[test]
fn event_writer_handles_huge_values() {
    let line = "x".repeat(300); // past the short and inlined searches
    let many_lines = [line.as_str(); 3_000].join("\r\n") + "\r";
    let one_line = "y".repeat(1 << 20);
    for data in [&many_lines, &one_line] {
        let mut buf = BytesMut::new();
        EventWriter::new(&mut buf)
            .id(&one_line)
            .event(&one_line)
            .data(data)
            .finish()
            .unwrap();
        let want = Event::new()
            .id(&one_line)
            .event(&one_line)
            .data(data)
            .into_bytes();
        assert!(buf == want, "{} bytes differ", want.len());
    }
    let lines = written("", |w| w.data(&many_lines));
    assert_eq!(lines.matches("data: ").count(), 3_000);
    assert!(
        lines.ends_with("data:\n\n"),
        "the trailing CR starts an empty line"
    );
}

#[cfg(feature = "json")]
#[test]
fn event_writer_writes_json_on_one_line_or_refuses_it() {
    let raw = serde_json::value::RawValue::from_string("{\"a\":\r\n[1,\n2]}".into()).unwrap();
    let want = Event::new().event("t").json(&raw).into_bytes();
    assert_eq!(written("", |w| w.event("t").json(&raw)), want);
    assert_eq!(written("", |w| w.json("\u{2028}")), "data: \"\\u2028\"\n\n");

    let mut bad = std::collections::HashMap::new();
    bad.insert(vec![1u8], 1); // a map with non-string keys cannot be JSON
    let mut buf = BytesMut::from(": x\n\n");
    let err = EventWriter::new(&mut buf)
        .data("kept?")
        .json(&bad)
        .finish()
        .unwrap_err();
    assert!(matches!(err, FieldError::Json(_)));
    assert_eq!(buf, ": x\n\n");
}
