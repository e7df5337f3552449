//! Arbitrary bytes, an arbitrary chunking and small limits: the decoder must not panic,
//! must respect its limits, and chunked decoding must agree with whole-input decoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_pump::{DecodeError, Decoder, Item};

type Outcome = (Vec<Result<Item, DecodeError>>, String, Option<std::time::Duration>);

fn run(max_line: usize, max_event: usize, chunks: &[&[u8]]) -> Outcome {
    let mut decoder = Decoder::new().max_line_len(max_line).max_event_size(max_event);
    let mut items = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk);
        loop {
            match decoder.next_item() {
                Ok(Some(item)) => items.push(Ok(item)),
                Ok(None) => break,
                Err(e) => items.push(Err(e)),
            }
        }
    }
    decoder.finish();
    assert_eq!(decoder.next_item(), Ok(None), "nothing is left after finish");
    (items, decoder.last_event_id().to_owned(), decoder.reconnection_time())
}

/// Each input byte gives at most one char (invalid UTF-8 becomes one U+FFFD per maximal
/// invalid sequence), so char counts bound the raw sizes the limits apply to.
fn check_limits(items: &[Result<Item, DecodeError>], max_line: usize, max_event: usize) {
    let chars = |s: &str| s.chars().count();
    for item in items.iter().flatten() {
        match item {
            Item::Event(e) => {
                assert!(chars(&e.data) + chars(&e.event) <= max_event, "event too large");
                assert!(e.data.split('\n').all(|line| chars(line) <= max_line), "line too long");
                // No ID limit of its own: the line limit bounds it (and events share it).
                assert!(chars(&e.event) <= max_line && chars(&e.id) <= max_line);
                assert!(!e.id.contains('\0'), "an id with NUL is ignored");
                assert!(!e.event.is_empty());
            }
            Item::Comment(text) => assert!(chars(text) <= max_line, "comment too long"),
            _ => {}
        }
    }
}

fuzz_target!(|input: (Vec<u8>, Vec<u8>, u8, u8)| {
    let (bytes, cuts, line, event) = input;
    let max_line = 1 + usize::from(line % 64);
    let max_event = 1 + usize::from(event);
    let whole = run(max_line, max_event, &[&bytes]);
    check_limits(&whole.0, max_line, max_event);

    // Chunk sizes from `cuts` (0 gives an empty chunk), cycled until the input is used up.
    let mut sizes: Vec<usize> = cuts.iter().map(|&c| usize::from(c % 17)).collect();
    if sizes.iter().sum::<usize>() == 0 {
        sizes.push(1);
    }
    let mut sizes = sizes.into_iter().cycle();
    let mut chunks = Vec::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(1).min(rest.len());
        chunks.push(&rest[..n]);
        rest = &rest[n..];
    }
    assert_eq!(run(max_line, max_event, &chunks), whole, "chunked and whole decoding disagree");

    // The default limits, whole and byte by byte.
    let whole = run(1 << 20, 8 << 20, &[&bytes]);
    let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(run(1 << 20, 8 << 20, &bytewise), whole);
});
