//! `EventSource` against local HTTP/1.1 servers that close connections to force reconnects.
//! The client runs on tokio, and in one scenario on smol, through hyper's `conn::http1`.
//! Tests wait on what the server records (a channel), not on sleeps, and are bounded by
//! timeouts.

mod server;

use std::time::Duration;

use futures_lite::StreamExt;
use sse_pump::{
    client::{Backoff, EventSource, EventSourceError, EventSourceItem},
    DecodeError,
};

use crate::server::*;

#[tokio::test]
async fn last_event_id_is_sent_on_reconnect_and_absent_when_empty() {
    let (addr, notes) = serve(vec![
        sse("data: a\n\n"),
        Reply::Close(
            "HTTP/1.1 200 OK\r\nContent-Type: Text/Event-Stream; charset=utf-8\r\n\r\nid: 7\ndata: b\n\n"
                .into(),
        ),
        sse("id\ndata: c\n\n"),
        no_content(),
    ]);
    let mut source =
        EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(quick());
    let items = within(drain(&mut source, 20)).await;
    assert_eq!(
        items,
        [
            "open",
            "event  a",
            "reconnecting #1 1ms",
            "open",
            "event 7 b",
            "reconnecting #1 1ms",
            "open",
            "event  c",
            "reconnecting #1 1ms",
        ]
    );
    let ids: Vec<_> = (0..4)
        .map(|_| {
            let (_, headers) = next_request(&notes);
            assert_eq!(headers["accept"], "text/event-stream");
            assert_eq!(headers["cache-control"], "no-store");
            headers.get("last-event-id").cloned()
        })
        .collect();
    assert_eq!(ids, [None, None, Some("7".into()), None]);
    assert!(source.is_closed());
}

#[tokio::test]
async fn retry_sets_the_base_delay() {
    let (addr, notes) = serve(vec![sse("retry: 40\nid: 9\ndata: x\n\n"), no_content()]);
    // Without `retry:`, the first reconnect would wait 30 s and time the test out.
    let backoff = Backoff::exponential(Duration::from_secs(30), Duration::from_secs(60));
    let mut source = EventSource::new(move |r| fetch_tokio(addr, r), request(addr))
        .reconnect(backoff)
        .with_last_event_id("41");
    let items = within(drain(&mut source, 10)).await;
    assert_eq!(items, ["open", "event 9 x", "reconnecting #1 40ms"]);
    assert_eq!(source.reconnection_time(), Some(Duration::from_millis(40)));
    let (first, headers) = next_request(&notes);
    assert_eq!(headers["last-event-id"], "41");
    let (second, headers) = next_request(&notes);
    assert_eq!(headers["last-event-id"], "9");
    assert!(
        second - first >= Duration::from_millis(40),
        "{:?}",
        second - first
    );
}

#[tokio::test]
async fn backoff_grows_across_failures_and_an_event_resets_it() {
    let (addr, notes) = serve(vec![
        drop_connection(),
        drop_connection(),
        drop_connection(),
        sse("data: ok\n\n"),
        drop_connection(),
        no_content(),
    ]);
    let backoff = Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1));
    let mut source =
        EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(backoff);
    let items = within(drain(&mut source, 20)).await;
    assert_eq!(
        items,
        [
            "reconnecting #1 10ms",
            "reconnecting #2 20ms",
            "reconnecting #3 40ms",
            "open",
            "event  ok",
            "reconnecting #1 10ms",
            "reconnecting #2 20ms",
        ]
    );
    let times: Vec<_> = (0..6).map(|_| next_request(&notes).0).collect();
    for (pair, waited) in times.windows(2).zip([10, 20, 40, 10, 20]) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(waited),
            "{:?}",
            pair[1] - pair[0]
        );
    }
}

#[tokio::test]
async fn jitter_is_seeded_and_bounded() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let (addr, _notes) = serve(vec![]);
        let backoff = Backoff::exponential(Duration::from_millis(8), Duration::from_secs(1))
            .jitter(0.5)
            .seed(7)
            .max_attempts(5);
        let mut source =
            EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(backoff);
        let mut delays = Vec::new();
        while let Some(item) = within(source.next()).await {
            if let Ok(EventSourceItem::Reconnecting { after, attempt, .. }) = item {
                let full = Duration::from_millis(8 << (attempt - 1));
                assert!(after <= full && after >= full / 2, "#{attempt}: {after:?}");
                delays.push(after);
            }
        }
        assert_eq!(delays.len(), 5);
        runs.push(delays);
    }
    assert_eq!(runs[0], runs[1], "the same seed gives the same delays");
    let unjittered = (0..5).filter(|&n| runs[0][n] == Duration::from_millis(8 << n));
    assert!(unjittered.count() < 5, "jitter was applied: {:?}", runs[0]);
}

#[tokio::test]
async fn max_attempts_ends_with_a_typed_error() {
    let (addr, notes) = serve(vec![]);
    let backoff = quick().max_attempts(3);
    let mut source =
        EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(backoff);
    let mut items = Vec::new();
    while let Some(item) = within(source.next()).await {
        items.push(item);
        assert!(items.len() <= 4);
    }
    assert!(matches!(
        items[2],
        Ok(EventSourceItem::Reconnecting { attempt: 3, .. })
    ));
    match &items[3] {
        Err(EventSourceError::Exhausted {
            attempts: 3,
            last: Some(_),
        }) => {}
        other => panic!("{other:?}"),
    }
    for _ in 0..4 {
        next_request(&notes);
    }
    no_more_requests(&notes);
}

#[tokio::test]
async fn status_204_stops_the_source() {
    let (addr, notes) = serve(vec![no_content()]);
    let mut source =
        EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(quick());
    assert!(within(source.next()).await.is_none());
    next_request(&notes);
    no_more_requests(&notes);
}

#[tokio::test]
async fn wrong_content_type_is_rejected_and_not_retried() {
    let (addr, notes) = serve(vec![Reply::Close(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello".into(),
    )]);
    let mut source =
        EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(quick());
    match within(source.next()).await {
        Some(Err(EventSourceError::Rejected(rejected))) => {
            assert_eq!(rejected.status, 200);
            assert_eq!(rejected.headers["content-type"], "text/plain");
            assert_eq!(rejected.body, "hello");
        }
        other => panic!("{other:?}"),
    }
    assert!(within(source.next()).await.is_none());
    next_request(&notes);
    no_more_requests(&notes);
}

#[tokio::test]
async fn non_200_status_is_rejected_with_a_bounded_body() {
    let body = "x".repeat(10_000);
    let (addr, notes) = serve(vec![Reply::Close(format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))]);
    let mut source =
        EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(quick());
    match within(source.next()).await {
        Some(Err(EventSourceError::Rejected(rejected))) => {
            assert_eq!(rejected.status, 503);
            assert_eq!(rejected.body.len(), sse_pump::client::Rejected::BODY_LIMIT);
        }
        other => panic!("{other:?}"),
    }
    assert!(within(source.next()).await.is_none());
    next_request(&notes);
    no_more_requests(&notes);
}

#[tokio::test]
async fn an_oversized_line_is_a_typed_error_and_the_stream_goes_on() {
    let (addr, _notes) = serve(vec![
        sse("data: this line is far too long\n\ndata: ok\n\n"),
        no_content(),
    ]);
    let mut source = EventSource::new(move |r| fetch_tokio(addr, r), request(addr))
        .reconnect(quick())
        .max_line_len(16);
    assert!(matches!(
        within(source.next()).await,
        Some(Ok(EventSourceItem::Open))
    ));
    match within(source.next()).await {
        Some(Err(EventSourceError::Decode(DecodeError::LineTooLong { limit: 16 }))) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(describe(within(source.next()).await.unwrap()), "event  ok");
}

#[tokio::test]
async fn close_stops_the_source_and_drops_the_connection() {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
    let (addr, notes) = serve(vec![Reply::Hold(format!("{head}data: first\n\n"))]);
    let mut source =
        EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(quick());
    assert!(matches!(
        within(source.next()).await,
        Some(Ok(EventSourceItem::Open))
    ));
    assert_eq!(
        describe(within(source.next()).await.unwrap()),
        "event  first"
    );
    source.close();
    assert!(source.is_closed());
    assert!(within(source.next()).await.is_none());
    // Wait off the runtime's thread, which must go on driving hyper's connection task.
    let dropped = tokio::task::spawn_blocking(move || {
        next_request(&notes);
        let dropped = notes.recv_timeout(Duration::from_secs(10));
        no_more_requests(&notes);
        dropped
    });
    assert!(matches!(within(dropped).await.unwrap(), Ok(Note::Dropped)));
}

#[test]
fn on_smol_the_last_event_id_is_sent_on_reconnect() {
    let (addr, notes) = serve(vec![
        sse("id: 1\ndata: a\n\n"),
        sse("data: b\n\n"),
        no_content(),
    ]);
    let mut source =
        EventSource::new(move |r| fetch_smol(addr, r), request(addr)).reconnect(quick());
    let items = smol::block_on(async {
        let timeout = async {
            smol::Timer::after(Duration::from_secs(20)).await;
            panic!("test timed out")
        };
        smol::future::or(drain(&mut source, 10), timeout).await
    });
    assert_eq!(
        items,
        [
            "open",
            "event 1 a",
            "reconnecting #1 1ms",
            "open",
            "event 1 b",
            "reconnecting #1 1ms"
        ]
    );
    assert_eq!(next_request(&notes).1.get("last-event-id"), None);
    assert_eq!(next_request(&notes).1["last-event-id"], "1");
    assert_eq!(next_request(&notes).1["last-event-id"], "1");
}

#[tokio::test]
async fn a_connection_open_for_the_healthy_period_resets_the_backoff() {
    let mut runs = Vec::new();
    for healthy_after in [Duration::ZERO, Duration::from_secs(30)] {
        let (addr, _notes) = serve(vec![sse(": no events\n\n"), sse(""), no_content()]);
        let backoff = Backoff::exponential(Duration::from_millis(2), Duration::from_secs(1))
            .healthy_after(healthy_after);
        let mut source =
            EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(backoff);
        runs.push(within(drain(&mut source, 10)).await);
    }
    let open_and_retry = |n: u32| {
        [
            "open".to_string(),
            format!("reconnecting #{n} {}ms", 1 << n),
        ]
    };
    assert_eq!(runs[0], [open_and_retry(1), open_and_retry(1)].concat());
    assert_eq!(runs[1], [open_and_retry(1), open_and_retry(2)].concat());
}
