//! The decoder against the web-platform-tests `eventsource/format-*` cases (each test named
//! after its file) and the cases of SPEC.md. Every case runs three ways: the whole input in
//! one chunk, split in two at every byte boundary, and fed 1 to 7 bytes at a time (so that
//! a line spans several chunks at every offset); all must give the same items.

use std::time::Duration;

use sse_pump::{DecodeError, Decoder, Item, MessageEvent};

/// Everything a decoder said about one input, plus its state at the end.
#[derive(Debug, PartialEq)]
struct Outcome {
    items: Vec<Result<Item, DecodeError>>,
    last_event_id: String,
    retry: Option<Duration>,
}

fn run(decoder: Decoder, chunks: &[&[u8]]) -> Outcome {
    let mut decoder = decoder;
    let mut items = Vec::new();
    let mut drain = |decoder: &mut Decoder| loop {
        match decoder.next_item() {
            Ok(Some(item)) => items.push(Ok(item)),
            Ok(None) => break,
            Err(e) => items.push(Err(e)),
        }
    };
    for chunk in chunks {
        decoder.feed(chunk);
        drain(&mut decoder);
    }
    decoder.finish();
    drain(&mut decoder);
    Outcome {
        items,
        last_event_id: decoder.last_event_id().to_owned(),
        retry: decoder.reconnection_time(),
    }
}

/// Decodes `input` in every feeding mode, asserts they agree, and returns the outcome.
fn decode_with(make: impl Fn() -> Decoder, input: &[u8]) -> Outcome {
    let whole = run(make(), &[input]);
    for at in 0..=input.len() {
        let split = run(make(), &[&input[..at], &input[at..]]);
        assert_eq!(split, whole, "input split at byte {at}: {input:?}");
    }
    for size in 1..8 {
        let chunks: Vec<&[u8]> = input.chunks(size).collect();
        assert_eq!(
            run(make(), &chunks),
            whole,
            "input fed {size} bytes at a time: {input:?}"
        );
    }
    whole
}

fn decode(input: &[u8]) -> Outcome {
    decode_with(Decoder::new, input)
}

/// The events a browser would dispatch.
fn events(input: &[u8]) -> Vec<MessageEvent> {
    decode(input)
        .items
        .into_iter()
        .filter_map(|item| match item.unwrap() {
            Item::Event(event) => Some(event),
            _ => None,
        })
        .collect()
}

fn datas(input: &[u8]) -> Vec<String> {
    events(input).into_iter().map(|e| e.data.into()).collect()
}

/// The body WPT's `resources/message.py` sends: the message, the newline parameter
/// (`\n\n` unless `newline=none`), and a final `\n`.
fn message(text: &str, newline: bool) -> Vec<u8> {
    let mut body = text.as_bytes().to_vec();
    if newline {
        body.extend_from_slice(b"\n\n");
    }
    body.push(b'\n');
    body
}

/// Decodes several connections' bodies with one decoder, as a reconnecting EventSource
/// does; each body is also checked in every feeding mode.
fn reconnecting(bodies: &[&[u8]]) -> (Vec<MessageEvent>, String) {
    for body in bodies {
        decode(body);
    }
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    for body in bodies {
        decoder.feed(body);
        while let Some(event) = decoder.next_event().unwrap() {
            events.push(event);
        }
        decoder.finish();
    }
    (events, decoder.last_event_id().to_owned())
}

// ---- web-platform-tests eventsource/format-* ----

#[test]
fn format_bom() {
    let body = message("\u{FEFF}data:1\n\n\u{FEFF}data:2\n\ndata:3", true);
    // The second BOM is part of the field name "\u{FEFF}data", an unknown field.
    assert_eq!(datas(&body), ["1", "3"]);
}

#[test]
fn format_bom_2() {
    let body = message("\u{FEFF}\u{FEFF}data:1\n\ndata:2\n\ndata:3", true);
    assert_eq!(datas(&body), ["2", "3"]);
}

#[test]
fn format_comments() {
    let long = "x".repeat(2 * 1024);
    let text = format!("data:1\r:\0\n:\r\ndata:2\n:{long}\rdata:3\n:data:fail\r:{long}\ndata:4\n");
    assert_eq!(datas(&message(&text, false)), ["1\n2\n3\n4"]);
}

#[test]
fn format_data_before_final_empty_line() {
    let body = message("retry:1000\ndata:test1\n\nid:test\ndata:test2", false);
    let outcome = decode(&body);
    assert_eq!(outcome.retry, Some(Duration::from_millis(1000)));
    assert_eq!(
        outcome.last_event_id, "",
        "the unfinished event's id is never dispatched"
    );
    // The browser reconnects and gets the same body again: its second event is "test1"
    // with an empty lastEventId.
    let (events, _) = reconnecting(&[&body, &body]);
    assert_eq!(events.len(), 2);
    assert_eq!(
        (events[1].data.as_str(), events[1].id.as_str()),
        ("test1", "")
    );
}

#[test]
fn format_field_data() {
    let body = message("data:\n\ndata\ndata\n\ndata:test", true);
    assert_eq!(datas(&body), ["", "\n", "test"]);
}

#[test]
fn format_field_event_empty() {
    let events = events(&message("event: \ndata:data", true));
    assert_eq!(events.len(), 1);
    assert_eq!(
        (&*events[0].event, events[0].data.as_str()),
        ("message", "data")
    );
}

#[test]
fn format_field_event() {
    let events = events(&message("event:test\ndata:x\n\ndata:x", true));
    let got: Vec<_> = events
        .iter()
        .map(|e| (&*e.event, e.data.as_str()))
        .collect();
    assert_eq!(got, [("test", "x"), ("message", "x")]);
}

/// `resources/last-event-id.php`: "data: <Last-Event-ID>" when the header is sent, else
/// an event with `id: …`.
fn last_event_id_body(sent: &str) -> Vec<u8> {
    if sent.is_empty() {
        "id: …\nretry: 200\ndata: hello\n\n".into()
    } else {
        format!("data: {sent}\n\n").into()
    }
}

#[test]
fn format_field_id() {
    let first = last_event_id_body("");
    let outcome = decode(&first);
    assert_eq!(outcome.last_event_id, "…");
    let second = last_event_id_body(&outcome.last_event_id);
    let (events, last) = reconnecting(&[&first, &second]);
    assert_eq!(
        (events[0].data.as_str(), events[0].id.as_str()),
        ("hello", "…")
    );
    assert_eq!((events[1].data.as_str(), events[1].id.as_str()), ("…", "…"));
    assert_eq!(last, "…");
}

#[test]
fn format_field_id_2() {
    let first = last_event_id_body("");
    let again = last_event_id_body("…");
    let (events, _) = reconnecting(&[&first, &again, &again]);
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.data.as_str(), e.id.as_str()))
        .collect();
    assert_eq!(got, [("hello", "…"), ("…", "…"), ("…", "…")]);
}

fn ids(input: &str) -> Vec<String> {
    events(input.as_bytes())
        .into_iter()
        .map(|e| e.id.into())
        .collect()
}

#[test]
fn format_field_id_3() {
    // resources/last-event-id2.py, types 1 (persists), 2 (changes and persists), 3 (resets).
    assert_eq!(ids("id: 1\ndata: 1\n\ndata:2\n\n"), ["1", "1"]);
    assert_eq!(
        ids("id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n"),
        ["1", "2", "2"]
    );
    assert_eq!(
        ids("id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n"),
        ["1", "", ""]
    );
}

#[test]
fn format_field_id_null() {
    // resources/last-event-id.py?idvalue=%00%00: the id holds NUL, so it is ignored and
    // lastEventId stays "" (current spec; an old revision of the test expected "\0\0").
    let body = b"id: \0\0\nretry: 200\ndata: hello\n\n";
    let outcome = decode(body);
    assert_eq!(outcome.last_event_id, "");
    let (events, last) = reconnecting(&[body, body]);
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.data == "hello" && e.id.is_empty()));
    assert_eq!(last, "");
}

#[test]
fn format_field_parsing() {
    let text = "data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n";
    assert_eq!(datas(&message(text, false)), ["\0\n 2\n1\n3\n\n4"]);
}

#[test]
fn format_field_retry_bogus() {
    let outcome = decode(&message("retry:2000\nretry:1000x\ndata:x", true));
    assert_eq!(outcome.retry, Some(Duration::from_millis(2000)));
}

#[test]
fn format_field_retry() {
    // "02000" is 2000, not octal.
    let outcome = decode(&message("retry:02000\ndata:x", true));
    assert_eq!(outcome.retry, Some(Duration::from_millis(2000)));
    assert_eq!(
        events(&message("retry:02000\ndata:x", true))[0].retry,
        outcome.retry
    );
}

#[test]
fn format_field_retry_empty() {
    let body = message("retry\ndata:test", true);
    assert_eq!(datas(&body), ["test"]);
    assert_eq!(decode(&body).retry, None);
}

#[test]
fn format_field_unknown() {
    let text = "data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test";
    assert_eq!(datas(&message(text, true)), ["test\n\ntest"]);
}

#[test]
fn format_leading_space() {
    assert_eq!(
        datas(&message("data:\ttest\rdata: \ndata:test", true)),
        ["\ttest\n\ntest"]
    );
}

#[test]
fn format_newlines() {
    let body = message("data:test\r\ndata\ndata:test\r\n\r", false);
    assert_eq!(datas(&body), ["test\n\ntest"]);
}

#[test]
fn format_null_character() {
    assert_eq!(datas(&message("data:\0\n\n", true)), ["\0"]);
}

#[test]
fn format_utf_8() {
    assert_eq!(datas(&message("data:ok…", true)), ["ok…"]);
}

// ---- SPEC.md ----

#[test]
fn spec_line_endings_all_three() {
    assert_eq!(datas(b"data: a\r\ndata: b\rdata: c\n\r\n"), ["a\nb\nc"]);
    assert_eq!(
        datas(b"data: a\r\rdata: b\n\ndata: c\r\n\r\n"),
        ["a", "b", "c"]
    );
}

#[test]
fn spec_cr_then_lf_in_the_next_chunk_is_one_line_end() {
    let whole = run(Decoder::new(), &[b"data: a\r\ndata: b\r\n\r\n"]);
    let split = run(
        Decoder::new(),
        &[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"],
    );
    assert_eq!(split, whole);
    assert_eq!(whole.items, [Ok(Item::Event(event("message", "a\nb", "")))]);
}

#[test]
fn spec_blank_line_ending_in_cr_dispatches_without_waiting() {
    let mut decoder = Decoder::new();
    decoder.feed(b"data: now\n\r");
    assert_eq!(decoder.next_event().unwrap().unwrap().data, "now");
}

#[test]
fn spec_only_one_leading_space_removed() {
    assert_eq!(
        datas(b"data:  two\n\ndata:none\n\ndata: \n\n"),
        [" two", "none", ""]
    );
}

#[test]
fn spec_field_without_colon_has_empty_value() {
    assert_eq!(datas(b"data\ndata\n\n"), ["\n"]);
    let e = &events(b"event\ndata: x\n\n")[0];
    assert_eq!(e.event, "message");
}

#[test]
fn spec_field_names_are_case_sensitive() {
    assert_eq!(
        datas(b"Data: no\nDATA: no\ndata: yes\nEvent: x\n\n"),
        ["yes"]
    );
    assert_eq!(events(b"Event: x\ndata: y\n\n")[0].event, "message");
    assert_eq!(decode(b"Retry: 5\nID: 3\n\n").retry, None);
}

#[test]
fn spec_comments_are_ignored_but_can_be_surfaced() {
    let outcome = decode(b": one\n:two\ndata: x\n: three\n\n");
    let comments: Vec<_> = outcome
        .items
        .iter()
        .filter(|i| matches!(i, Ok(Item::Comment(_))))
        .collect();
    assert_eq!(comments.len(), 3);
    assert_eq!(outcome.items[0], Ok(Item::Comment("one".into())));
    assert_eq!(outcome.items[1], Ok(Item::Comment("two".into())));
    assert_eq!(datas(b": one\n:two\ndata: x\n: three\n\n"), ["x"]);
}

#[test]
fn spec_id_with_nul_is_ignored() {
    assert_eq!(ids("id: 1\ndata: a\n\nid: 2\0\ndata: b\n\n"), ["1", "1"]);
}

#[test]
fn spec_empty_id_resets_and_id_persists() {
    assert_eq!(
        ids("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n"),
        ["7", "7", ""]
    );
}

#[test]
fn spec_id_without_data_still_updates_last_event_id() {
    let outcome = decode(b"id: 9\n\n");
    assert!(outcome.items.is_empty());
    assert_eq!(outcome.last_event_id, "9");
}

#[test]
fn spec_retry_must_be_digits_only() {
    for bogus in ["+12", "1_0", "1000x", "", "  5", "5 ", "-1", "1.5", "0x10"] {
        let input = format!("retry:{bogus}\ndata: x\n\n");
        let outcome = decode(input.as_bytes());
        assert_eq!(outcome.retry, None, "retry:{bogus}");
    }
    assert_eq!(decode(b"retry: 0\n\n").retry, Some(Duration::ZERO));
    let huge = decode(b"retry: 99999999999999999999999999\n\n").retry;
    assert_eq!(huge, Some(Duration::from_millis(u64::MAX)));
}

#[test]
fn spec_retry_only_block_dispatches_nothing_but_counts() {
    let outcome = decode(b"retry: 1500\n\n");
    assert_eq!(outcome.retry, Some(Duration::from_millis(1500)));
    assert_eq!(
        outcome.items,
        [Ok(Item::Retry(Duration::from_millis(1500)))]
    );
    assert!(datas(b"retry: 1500\n\n").is_empty());
}

#[test]
fn spec_event_retry_is_only_the_blocks_own() {
    let events = events(b"retry: 10\ndata: a\n\ndata: b\n\n");
    assert_eq!(events[0].retry, Some(Duration::from_millis(10)));
    assert_eq!(events[1].retry, None);
}

#[test]
fn spec_type_is_reset_after_dispatch_and_after_an_empty_block() {
    let got: Vec<_> = events(b"event: a\ndata: 1\n\ndata: 2\n\nevent: b\n\ndata: 3\n\n")
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(got, ["a", "message", "message"]);
}

#[test]
fn spec_last_event_field_wins() {
    let e = &events(b"event: a\nevent: b\nid: 1\nid: 2\ndata: x\n\n")[0];
    assert_eq!((&*e.event, e.id.as_str()), ("b", "2"));
}

#[test]
fn spec_incomplete_final_event_is_dropped() {
    assert_eq!(datas(b"data: a\n\ndata: b\n"), ["a"]);
    assert_eq!(datas(b"data: a\n\ndata: b"), ["a"]);
}

#[test]
fn spec_invalid_utf8_is_replaced_not_an_error() {
    let e = &events(b"event: \xFFx\nid: \xC3\ndata: a\xF0\x9F\x98b\xE2\x82\n\n")[0];
    assert_eq!(e.data, "a\u{FFFD}b\u{FFFD}");
    assert_eq!(e.event, "\u{FFFD}x");
    assert_eq!(e.id, "\u{FFFD}");
    // A UTF-8 sequence split between chunks is joined back (checked by every split).
    assert_eq!(datas("data: é😀\n\n".as_bytes()), ["é😀"]);
}

#[test]
fn spec_bom_split_and_partial() {
    assert_eq!(datas(b"\xEF\xBB\xBFdata: a\n\n"), ["a"]);
    // A BOM prefix that is not a BOM is data (here, part of an unknown field name).
    assert_eq!(datas(b"\xEF\xBBdata: a\n\ndata: b\n\n"), ["b"]);
    // A BOM after the start is not stripped.
    assert_eq!(datas(b"\n\xEF\xBB\xBFdata: a\n\n"), Vec::<String>::new());
}

#[test]
fn spec_colon_in_value_is_kept() {
    assert_eq!(datas(b"data: a:b: c\n\n"), ["a:b: c"]);
}

#[test]
fn finish_keeps_id_and_retry_and_strips_a_new_bom() {
    let mut decoder = Decoder::new();
    decoder.feed(b"\xEF\xBB\xBFid: 5\nretry: 7\ndata: a\n\ndata: lost");
    assert_eq!(decoder.next_event().unwrap().unwrap().id, "5");
    decoder.finish();
    decoder.feed(b"\xEF\xBB\xBFdata: b\n\n");
    let e = decoder.next_event().unwrap().unwrap();
    assert_eq!((e.data.as_str(), e.id.as_str()), ("b", "5"));
    assert_eq!(decoder.reconnection_time(), Some(Duration::from_millis(7)));
}

fn event(kind: &str, data: &str, id: &str) -> MessageEvent {
    MessageEvent {
        event: kind.to_owned().into(),
        data: data.into(),
        id: id.into(),
        retry: None,
    }
}

// ---- limits ----

#[test]
fn line_too_long_is_a_typed_error_in_every_feeding_mode() {
    let input = b"data: a\n\ndata: 0123456789abcdef\n\ndata: b\n\n";
    let outcome = decode_with(|| Decoder::new().max_line_len(12), input);
    assert_eq!(
        outcome.items,
        [
            Ok(Item::Event(event("message", "a", ""))),
            Err(DecodeError::LineTooLong { limit: 12 }),
            Ok(Item::Event(event("message", "b", ""))),
        ]
    );
}

#[test]
fn line_too_long_drops_the_rest_of_its_event() {
    let input = b"data: keep\n\nid: 1\ndata: 0123456789abcdef\ndata: dropped\n\ndata: next\n\n";
    let outcome = decode_with(|| Decoder::new().max_line_len(12), input);
    assert_eq!(
        outcome.items[1],
        Err(DecodeError::LineTooLong { limit: 12 })
    );
    let datas: Vec<_> = outcome
        .items
        .iter()
        .filter_map(|i| match i {
            Ok(Item::Event(e)) => Some(e.data.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(datas, ["keep", "next"]);
}

#[test]
fn line_limit_is_exact() {
    let ok = decode_with(|| Decoder::new().max_line_len(7), b"data: x\n\n");
    assert_eq!(ok.items.len(), 1);
    assert!(ok.items[0].is_ok());
    let too_long = decode_with(|| Decoder::new().max_line_len(6), b"data: x\n\n");
    assert_eq!(too_long.items, [Err(DecodeError::LineTooLong { limit: 6 })]);
}

#[test]
fn a_long_line_fed_byte_by_byte_errors_before_its_end_and_memory_stays_bounded() {
    let mut decoder = Decoder::new().max_line_len(1024);
    decoder.feed(b"data: ");
    let mut errors = 0;
    for _ in 0..100_000 {
        decoder.feed(b"x");
        match decoder.next_event() {
            Err(DecodeError::LineTooLong { limit: 1024 }) => errors += 1,
            Err(e) => panic!("{e}"),
            Ok(event) => assert_eq!(event, None),
        }
    }
    assert_eq!(errors, 1, "one error per over-long line");
    decoder.feed(b"\n\ndata: after\n\n");
    assert_eq!(decoder.next_event().unwrap().unwrap().data, "after");
}

#[test]
fn event_too_large_is_a_typed_error_in_every_feeding_mode() {
    let input = b"data: 12345\ndata: 67890\ndata: abc\n\ndata: ok\n\n";
    let outcome = decode_with(|| Decoder::new().max_event_size(12), input);
    assert_eq!(
        outcome.items,
        [
            Err(DecodeError::EventTooLarge { limit: 12 }),
            Ok(Item::Event(event("message", "ok", "")))
        ]
    );
    let fits = decode_with(
        || Decoder::new().max_event_size(12),
        b"data: 12345\ndata: 6789\n\n",
    );
    assert_eq!(
        fits.items,
        [Ok(Item::Event(event("message", "12345\n6789", "")))]
    );
}

/// Lines longer than 64 KiB that span chunks take another way through the decoder (the
/// gathered line becomes the event's data buffer in place): every chunking must give the
/// same events, errors and limits as one chunk.
#[test]
fn huge_lines_across_chunks_decode_as_in_one_chunk() {
    let big = "é".repeat(50 << 10) + "x"; // 100 KiB, with two-byte characters to split
    let input = format!(
        "data: {big}\ndata: tail\n\n\
         data:{big}\r\n\r\n\
         id: {big}\ndata: after a huge id\n\n\
         event: e\ndata: {big}\n\n\
         data: small\n\n"
    );
    let expected = [
        event("message", &format!("{big}\ntail"), ""),
        event("message", &big, ""),
        event("message", "after a huge id", &big),
        event("e", &big, &big),
        event("message", "small", &big),
    ]
    .map(|e| Ok(Item::Event(e)));
    let too_large = [
        Err(DecodeError::EventTooLarge { limit: 64 << 10 }),
        Err(DecodeError::EventTooLarge { limit: 64 << 10 }),
        Ok(Item::Event(event("message", "after a huge id", &big))),
        Err(DecodeError::EventTooLarge { limit: 64 << 10 }),
        Ok(Item::Event(event("message", "small", &big))),
    ];
    let decoder = Decoder::new;
    for size in [input.len(), 1, 1000, 4096, 65_537] {
        let chunks: Vec<&[u8]> = input.as_bytes().chunks(size).collect();
        assert_eq!(
            run(decoder(), &chunks).items,
            expected,
            "{size}-byte chunks"
        );
        let limited = run(decoder().max_event_size(64 << 10), &chunks);
        assert_eq!(
            limited.items, too_large,
            "{size}-byte chunks, 64 KiB events"
        );
    }
}

#[test]
fn a_line_over_both_limits_gives_the_same_one_error_however_chunked() {
    let input = b"data: 0123456789abcdefghij\n\ndata: 0123456789\n\ndata: ok\n\n";
    let outcome = decode_with(|| Decoder::new().max_event_size(8).max_line_len(16), input);
    assert_eq!(
        outcome.items,
        [
            Err(DecodeError::LineTooLong { limit: 16 }),
            Err(DecodeError::EventTooLarge { limit: 8 }),
            Ok(Item::Event(event("message", "ok", "")))
        ]
    );
}

#[test]
fn event_size_counts_the_type() {
    let outcome = decode_with(
        || Decoder::new().max_event_size(8),
        b"event: abcdef\ndata: xyz\n\n",
    );
    assert_eq!(
        outcome.items,
        [Err(DecodeError::EventTooLarge { limit: 8 })]
    );
}

#[test]
fn defaults_are_one_and_eight_mib() {
    let line = format!("data: {}\n\n", "x".repeat((1 << 20) - 6));
    let mut decoder = Decoder::new();
    decoder.feed(line.as_bytes());
    assert!(decoder.next_event().unwrap().is_some());
    decoder.feed(format!("data: {}\n\n", "x".repeat(1 << 20)).as_bytes());
    assert_eq!(
        decoder.next_event(),
        Err(DecodeError::LineTooLong { limit: 1 << 20 })
    );
    let chunk = format!("data: {}\n", "x".repeat(1 << 19));
    for _ in 0..15 {
        decoder.feed(chunk.as_bytes());
        assert_eq!(decoder.next_event(), Ok(None));
    }
    decoder.feed(chunk.as_bytes());
    assert_eq!(
        decoder.next_event(),
        Err(DecodeError::EventTooLarge { limit: 8 << 20 })
    );
}

// ---- the sync adapter ----

#[test]
fn decode_reader_matches_the_decoder_and_carries_io_errors() {
    use std::io::{self, Read};
    struct Flaky(Vec<io::Result<Vec<u8>>>);
    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let chunk = self.0.remove(0)?;
            buf[..chunk.len()].copy_from_slice(&chunk);
            Ok(chunk.len())
        }
    }
    let reader = Flaky(vec![
        Ok(b"data: a\n\ndata: b".to_vec()),
        Err(io::ErrorKind::Interrupted.into()),
        Ok(b"\n\ndata: c".to_vec()),
        Err(io::ErrorKind::ConnectionReset.into()),
        Ok(b"\n\ndata: never\n\n".to_vec()),
    ]);
    let mut events = sse_pump::decode_reader(reader);
    assert_eq!(events.next().unwrap().unwrap().data, "a");
    assert_eq!(events.next().unwrap().unwrap().data, "b");
    match events.next() {
        Some(Err(err @ sse_pump::DecodeError::Transport(_))) => {
            // This layer's words, and the transport's error as the source (printed once).
            assert_eq!(err.to_string(), "the event stream's transport failed");
            let cause = std::error::Error::source(&err).expect("the transport's error");
            let io = cause.downcast_ref::<io::Error>().expect("an io::Error");
            assert_eq!(io.kind(), io::ErrorKind::ConnectionReset);
            assert!(!err.to_string().contains(&io.to_string()));
        }
        other => panic!("expected the transport error, got {other:?}"),
    }
    assert!(events.next().is_none());
}

/// Browsers keep an `id:` of any length: a 4 KiB one is the last event ID and every
/// event's `id`, whole, split at every byte and fed a few bytes at a time.
#[test]
fn a_4_kib_id_is_kept_as_browsers_keep_it() {
    let id = "7".repeat(4096);
    let outcome = decode(format!("id: {id}\ndata: a\n\ndata: b\n\n").as_bytes());
    assert_eq!(outcome.last_event_id, id);
    let ids: Vec<_> = (outcome.items.iter())
        .map(|item| match item {
            Ok(Item::Event(e)) => e.id.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, [4096, 4096]);
}

/// The same 4 KiB ID through the adapters, whole and a byte at a time: `decode_reader`
/// (reads of one byte) and `decode_stream` (chunks of one byte).
#[test]
fn a_4_kib_id_is_kept_by_the_adapters_whole_and_byte_by_byte() {
    use futures_lite::StreamExt;
    let id = "7".repeat(4096);
    let input = format!("id: {id}\ndata: a\n\ndata: b\n\n").into_bytes();
    struct OneByte<'a>(&'a [u8]);
    impl std::io::Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Some((first, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            (buf[0], self.0) = (*first, rest);
            Ok(1)
        }
    }
    let ids = |events: Vec<MessageEvent>| events.into_iter().map(|e| e.id.into_string());
    let whole = sse_pump::decode_reader(&input[..])
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let bytewise = sse_pump::decode_reader(OneByte(&input)).collect::<Result<Vec<_>, _>>();
    let chunks = |size| {
        input
            .chunks(size)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
    };
    let streamed = |size| {
        let events = sse_pump::decode_stream(futures_lite::stream::iter(chunks(size)));
        futures_lite::future::block_on(events.try_collect::<_, _, Vec<_>>()).unwrap()
    };
    for events in [whole, bytewise.unwrap(), streamed(input.len()), streamed(1)] {
        assert!(ids(events).eq([id.clone(), id.clone()]));
    }
}

/// One 512 KiB `id:` then 2,000 tiny events, fed in 4 KiB chunks: every event carries
/// the ID, and they all share one copy of it (the same bytes in memory), so holding the
/// events costs the ID once, not 2,000 times (`tests/decode_memory.rs` measures the RSS).
#[test]
fn a_huge_id_is_held_once_and_shared_by_every_event() {
    let id = "x".repeat(512 << 10);
    let mut input = format!("id: {id}\n").into_bytes();
    input.extend(b"data: a\n\n".repeat(2000));
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    for chunk in input.chunks(4096) {
        decoder.feed(chunk.to_vec());
        while let Some(event) = decoder.next_event().unwrap() {
            events.push(event);
        }
    }
    assert_eq!(events.len(), 2000);
    assert!(events.iter().all(|e| e.id == id));
    let first = events[0].id.as_ptr();
    assert!(events.iter().all(|e| e.id.as_ptr() == first), "one copy");
    assert_eq!(decoder.last_event_id().as_ptr(), first);
}

#[test]
fn an_id_limit_is_opt_in() {
    let input = format!("id: {}\ndata: a\n\ndata: b\n\n", "7".repeat(1025));
    let outcome = decode_with(|| Decoder::new().max_id_len(1024), input.as_bytes());
    assert_eq!(
        outcome.items[0],
        Err(DecodeError::IdTooLong { limit: 1024 })
    );
    assert_eq!(outcome.last_event_id, "");
}

/// A decoded string reads like a `str` wherever a user has one: comparisons both ways,
/// `&str` by deref, a map key looked up by `&str`, JSON parsed from it.
#[test]
fn text_reads_like_a_str() {
    let mut decoder = Decoder::new();
    decoder.feed(b"event: tick\ndata: {\"n\":1}\n\n");
    let event = decoder.next_event().unwrap().unwrap();
    assert_eq!(event.event, "tick");
    assert_eq!("tick", event.event);
    assert_eq!(event.event, String::from("tick"));
    assert_eq!(String::from("tick"), event.event);
    let name: &str = &event.event;
    assert_eq!(name, "tick");
    let mut counts = std::collections::HashMap::new();
    counts.insert(event.event.clone(), 1);
    assert_eq!(counts.get("tick"), Some(&1));
    let value: serde_json::Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(value["n"], 1);
    assert_eq!(event.data.to_string(), "{\"n\":1}");
    assert_eq!(format!("{:?}", event.event), "\"tick\"");
    assert_eq!(event.data.into_string(), "{\"n\":1}");
}

/// Whether `text` lies inside `chunk`'s memory (a view, not a copy).
fn inside(text: &str, chunk: &bytes::Bytes) -> bool {
    let range = chunk.as_ptr_range();
    range.contains(&text.as_ptr()) && text.len() <= range.end as usize - text.as_ptr() as usize
}

#[test]
fn fields_of_whole_lines_are_views_of_the_fed_chunk() {
    let chunk = bytes::Bytes::from("id: 7-abcdef\nevent: tick\ndata: hello world\n\n: ping pong\n");
    let mut decoder = Decoder::new();
    decoder.feed(chunk.clone());
    let event = decoder.next_event().unwrap().unwrap();
    assert_eq!(
        (&*event.id, &*event.event, &*event.data),
        ("7-abcdef", "tick", "hello world")
    );
    assert!(inside(&event.data, &chunk), "data is a view of the chunk");
    assert!(inside(&event.id, &chunk), "id is a view of the chunk");
    let mut items = Decoder::new();
    items.feed(chunk.clone());
    let comment = std::iter::from_fn(|| items.next_item().unwrap()).last();
    assert!(
        matches!(comment, Some(Item::Comment(text)) if text == "ping pong" && inside(&text, &chunk))
    );
}

#[test]
fn short_fields_are_held_in_the_event_not_in_the_chunk() {
    // Up to 7 bytes (a numeric ID) are copied into the `Text` itself: no allocation, and
    // no hold on the chunk's memory (so the decoder reuses the chunk's bookkeeping).
    let chunk = bytes::Bytes::from("id: 1234567\nevent: tick\ndata: hi\n\n");
    let mut decoder = Decoder::new();
    decoder.feed(chunk.clone());
    let event = decoder.next_event().unwrap().unwrap();
    assert_eq!(
        (&*event.id, &*event.event, &*event.data),
        ("1234567", "tick", "hi")
    );
    let held = std::ptr::from_ref(&event).cast::<u8>();
    let held = held..held.wrapping_add(std::mem::size_of_val(&event));
    for text in [&event.id, &event.event, &event.data] {
        assert!(!inside(text, &chunk), "{text} is a copy");
        assert!(held.contains(&text.as_ptr()), "{text} is inside the event");
    }
}

#[test]
fn lines_split_across_chunks_and_multi_line_data_are_gathered() {
    let (first, second) = (
        bytes::Bytes::from("data: a\ndata: he"),
        bytes::Bytes::from("llo\n\n"),
    );
    let mut decoder = Decoder::new();
    decoder.feed(first.clone());
    decoder.feed(second.clone());
    let event = decoder.next_event().unwrap().unwrap();
    assert_eq!(event.data, "a\nhello");
    assert!(!inside(&event.data, &first) && !inside(&event.data, &second));
}

#[test]
fn chunks_fed_before_pulling_are_decoded_in_order() {
    let mut decoder = Decoder::new();
    for chunk in ["data: 1\n\nda", "ta: 2\n", "\ndata: 3\r", "\n\r\n"] {
        decoder.feed(chunk);
    }
    let data: Vec<String> = std::iter::from_fn(|| decoder.next_event().unwrap())
        .map(|e| e.data.into_string())
        .collect();
    assert_eq!(data, ["1", "2", "3"]);
}

#[test]
fn invalid_utf8_in_a_chunk_spoils_only_its_own_field() {
    let chunk = bytes::Bytes::from(
        &b"data: caf\xC3\xA9\n\ndata: \xFF!\n\nid: \xE2\x82\xAC\ndata: ok\n\n"[..],
    );
    let mut decoder = Decoder::new();
    decoder.feed(chunk);
    let events: Vec<MessageEvent> = std::iter::from_fn(|| decoder.next_event().unwrap()).collect();
    let data: Vec<&str> = events.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(data, ["café", "\u{FFFD}!", "ok"]);
    assert_eq!(events[2].id, "€");
}

#[test]
fn a_character_split_across_chunks_is_whole_in_the_event() {
    let mut decoder = Decoder::new();
    decoder.feed(bytes::Bytes::from(&b"data: \xE2\x82"[..]));
    decoder.feed(bytes::Bytes::from(&b"\xAC\n\ndata: \xE2\x82\xAC\n\n"[..]));
    assert_eq!(decoder.next_event().unwrap().unwrap().data, "€");
    assert_eq!(decoder.next_event().unwrap().unwrap().data, "€");
}

#[test]
fn decoder_and_events_cross_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let mut decoder = Decoder::new();
    decoder.feed(bytes::Bytes::from("data: x\n\n"));
    let event = decoder.next_event().unwrap().unwrap();
    send_sync(&decoder);
    send_sync(&event);
    let event = std::thread::spawn(move || event).join().unwrap();
    assert_eq!(event.data, "x");
}
