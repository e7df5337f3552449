//! `EventSource` against local HTTP/1.1 servers that close connections to force reconnects.
//! The client runs on tokio, and in one scenario on smol, through hyper's `conn::http1`.
//! Tests wait on what the server records (a channel), not on sleeps, and are bounded by
//! timeouts.

mod server;

use std::time::Duration;

use futures_lite::StreamExt;
use sse_pump::{
    client::{Backoff, Error, EventSource, EventSourceItem},
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
            "reconnecting #2 1ms",
            "open",
            "event  c",
            "reconnecting #3 1ms",
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
    let (addr, notes) = serve(vec![sse("retry: 150\nid: 9\ndata: x\n\n"), no_content()]);
    // Without `retry:`, the first reconnect would wait 30 s and time the test out.
    let backoff = Backoff::exponential(Duration::from_secs(30), Duration::from_secs(60));
    let mut source = EventSource::new(move |r| fetch_tokio(addr, r), request(addr))
        .reconnect(backoff)
        .with_last_event_id("41");
    let items = within(drain(&mut source, 10)).await;
    assert_eq!(items, ["open", "event 9 x", "reconnecting #1 150ms"]);
    assert_eq!(source.reconnection_time(), Some(Duration::from_millis(150)));
    let (first, headers) = next_request(&notes);
    assert_eq!(headers["last-event-id"], "41");
    let (second, headers) = next_request(&notes);
    assert_eq!(headers["last-event-id"], "9");
    assert!(
        second - first >= Duration::from_millis(150),
        "{:?}",
        second - first
    );
}

#[tokio::test]
async fn backoff_grows_across_failures_and_an_event_does_not_reset_it() {
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
            "reconnecting #4 80ms",
            "reconnecting #5 160ms",
        ]
    );
    let times: Vec<_> = (0..6).map(|_| next_request(&notes).0).collect();
    for (pair, waited) in times.windows(2).zip([10, 20, 40, 80, 160]) {
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
        Err(Error::Exhausted {
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
        Some(Err(Error::Rejected {
            status,
            headers,
            body,
        })) => {
            assert_eq!(status, 200);
            assert_eq!(headers["content-type"], "text/plain");
            assert_eq!(body, "hello");
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
        Some(Err(Error::Rejected { status, body, .. })) => {
            assert_eq!(status, 503);
            assert_eq!(body.len(), Error::BODY_LIMIT);
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
        Some(Err(Error::Decode(DecodeError::LineTooLong { limit: 16 }))) => {}
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
    let items = on_smol(drain(&mut source, 10));
    assert_eq!(
        items,
        [
            "open",
            "event 1 a",
            "reconnecting #1 1ms",
            "open",
            "event 1 b",
            "reconnecting #2 1ms"
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

/// The cause of a `Reconnecting` item, if it is one of the source's deadlines.
fn timeout_of(item: &Result<EventSourceItem, Error>) -> Option<&Error> {
    match item {
        Ok(EventSourceItem::Reconnecting {
            cause: Some(cause), ..
        }) if cause.is_timeout() => Some(cause),
        _ => None,
    }
}

#[tokio::test]
async fn retry_zero_is_floored_and_the_backoff_still_grows() {
    let (addr, _notes) = serve(vec![
        sse("retry: 0\ndata: x\n\n"),
        drop_connection(),
        drop_connection(),
        no_content(),
    ]);
    let backoff = Backoff::exponential(Duration::from_millis(1), Duration::from_secs(1));
    let mut source =
        EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(backoff);
    let items = within(drain(&mut source, 10)).await;
    assert_eq!(
        items,
        [
            "open",
            "event  x",
            "reconnecting #1 100ms",
            "reconnecting #2 200ms",
            "reconnecting #3 400ms",
        ]
    );
}

/// A server that sends `retry: 0` and one event, then closes, again and again: with the
/// default backoff (jitter 0.5), every delay is at least the 100 ms floor, jitter
/// included, and the delay grows (an event does not reset the backoff; only a connection
/// that stayed up does). Returns the delays announced and the gaps the server saw.
async fn one_event_then_close<F>(
    fetch: impl FnOnce(std::net::SocketAddr) -> F,
) -> (Vec<(u32, Duration)>, Vec<Duration>)
where
    F: sse_pump::client::Fetch,
{
    let (addr, notes) = serve((0..5).map(|_| sse("retry: 0\ndata: x\n\n")).collect());
    let backoff = Backoff::default().seed(3);
    let mut source = EventSource::new(fetch(addr), request(addr)).reconnect(backoff);
    let mut delays = Vec::new();
    while delays.len() < 4 {
        if let Ok(EventSourceItem::Reconnecting { after, attempt, .. }) =
            source.next().await.unwrap()
        {
            delays.push((attempt, after));
        }
    }
    assert!(matches!(
        source.next().await,
        Some(Ok(EventSourceItem::Open))
    ));
    source.close();
    let times: Vec<_> = (0..5).map(|_| next_request(&notes).0).collect();
    let gaps = times.windows(2).map(|w| w[1] - w[0]).collect();
    (delays, gaps)
}

fn assert_floored_and_growing((delays, gaps): (Vec<(u32, Duration)>, Vec<Duration>)) {
    for (n, &(attempt, after)) in delays.iter().enumerate() {
        assert_eq!(attempt, n as u32 + 1, "the count is not reset by events");
        let full = Duration::from_millis(100 << n);
        let least = (full / 2).max(Backoff::RETRY_FLOOR);
        assert!(least <= after && after <= full, "#{attempt}: {after:?}");
        assert!(
            gaps[n] >= after,
            "the server saw {:?} before #{attempt}",
            gaps[n]
        );
    }
}

#[tokio::test]
async fn one_event_then_close_meets_a_floored_growing_delay_on_tokio() {
    let seen = one_event_then_close(|addr| move |r| fetch_tokio(addr, r));
    assert_floored_and_growing(within(seen).await);
}

#[test]
fn one_event_then_close_meets_a_floored_growing_delay_on_smol() {
    let seen = one_event_then_close(|addr| move |r| fetch_smol(addr, r));
    assert_floored_and_growing(on_smol(seen));
}

#[tokio::test]
async fn a_huge_retry_is_capped() {
    let (addr, _notes) = serve(vec![sse("retry: 99999999999999999999\ndata: x\n\n")]);
    let mut source =
        EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(quick());
    let items: Vec<_> = within(async {
        let mut items = Vec::new();
        for _ in 0..3 {
            items.push(describe(source.next().await.unwrap()));
        }
        items
    })
    .await;
    let ceiling = Backoff::RETRY_CEILING.as_millis();
    assert_eq!(items[2], format!("reconnecting #1 {ceiling}ms"));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_and_is_retried() {
    let (addr, notes) = serve(vec![Reply::Hold(String::new()), no_content()]);
    let mut source = EventSource::new(move |r| fetch_tokio(addr, r), request(addr))
        .reconnect(quick())
        .response_timeout(Duration::from_millis(200));
    let item = within(source.next()).await.unwrap();
    let limit = Duration::from_millis(200);
    let timeout = timeout_of(&item);
    assert!(
        matches!(timeout, Some(Error::ResponseTimeout(d)) if *d == limit),
        "{item:?}"
    );
    assert!(within(source.next()).await.is_none(), "the retry got 204");
    next_request(&notes);
}

#[tokio::test]
async fn a_silent_open_stream_is_left_and_reconnected() {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
    let (addr, notes) = serve(vec![
        Reply::Hold(format!("{head}: ping\n\ndata: a\n\n")),
        no_content(),
    ]);
    let mut source = EventSource::new(move |r| fetch_tokio(addr, r), request(addr))
        .reconnect(quick())
        .idle_timeout(Duration::from_millis(200));
    assert_eq!(describe(within(source.next()).await.unwrap()), "open");
    assert_eq!(describe(within(source.next()).await.unwrap()), "event  a");
    let item = within(source.next()).await.unwrap();
    let limit = Duration::from_millis(200);
    let timeout = timeout_of(&item);
    assert!(
        matches!(timeout, Some(Error::IdleTimeout(d)) if *d == limit),
        "{item:?}"
    );
    assert!(within(source.next()).await.is_none(), "the retry got 204");
    next_request(&notes);
}

#[tokio::test]
async fn a_rejection_whose_body_stalls_ends_with_what_arrived() {
    let (addr, _notes) = serve(vec![Reply::Hold(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\npartial".into(),
    )]);
    let mut source = EventSource::new(move |r| fetch_tokio(addr, r), request(addr))
        .reconnect(quick())
        .rejection_timeout(Duration::from_millis(200));
    match within(source.next()).await {
        Some(Err(Error::Rejected { status, body, .. })) => {
            assert_eq!(status, 503);
            assert_eq!(body, "partial");
        }
        other => panic!("{other:?}"),
    }
    assert!(within(source.next()).await.is_none());
}

#[tokio::test]
async fn an_id_that_cannot_be_a_header_is_reported_not_dropped() {
    let (addr, notes) = serve(vec![
        sse("id: a\x01b\ndata: x\n\n"),
        sse("id:  7\ndata: y\n\n"),
        no_content(),
    ]);
    let mut source =
        EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(quick());
    let items = within(drain(&mut source, 20)).await;
    let not_sent = |len| {
        format!("error the last event id ({len} bytes) cannot be sent as a header; reconnecting without it")
    };
    assert_eq!(
        items,
        [
            "open".to_string(),
            "event a\u{1}b x".into(),
            "reconnecting #1 1ms".into(),
            not_sent(3),
            "open".into(),
            "event  7 y".into(),
            "reconnecting #2 1ms".into(),
            not_sent(2),
        ]
    );
    for _ in 0..3 {
        assert_eq!(next_request(&notes).1.get("last-event-id"), None);
    }
}

/// A 4 KiB `id:` (browsers keep it) is every later event's ID, and is sent back whole as
/// `Last-Event-ID`.
#[tokio::test]
async fn a_4_kib_id_is_kept_and_sent_back() {
    let id = "i".repeat(4096);
    let (addr, notes) = serve(vec![
        sse(&format!(
            "id: 5\ndata: a\n\nid: {id}\ndata: b\n\ndata: c\n\n"
        )),
        no_content(),
    ]);
    let mut source =
        EventSource::new(move |r| fetch_tokio(addr, r), request(addr)).reconnect(quick());
    let items = within(drain(&mut source, 10)).await;
    let event = |data| format!("event {id} {data}");
    assert_eq!(
        items,
        [
            "open".into(),
            "event 5 a".into(),
            event("b"),
            event("c"),
            "reconnecting #1 1ms".into()
        ]
    );
    next_request(&notes);
    assert_eq!(next_request(&notes).1["last-event-id"], id);
}

#[tokio::test]
async fn keep_alive_comments_keep_an_open_stream_from_going_idle() {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
    let mut chunks = vec![": ping\n\n".to_string(); 24];
    chunks.push("data: after the pings\n\n".into());
    let pause = Duration::from_millis(50);
    let (addr, _notes) = serve(vec![Reply::Drip(head.into(), chunks, pause), no_content()]);
    let mut source = EventSource::new(move |r| fetch_tokio(addr, r), request(addr))
        .reconnect(quick())
        .idle_timeout(Duration::from_millis(400));
    let items = within(drain(&mut source, 10)).await;
    assert_eq!(
        items,
        ["open", "event  after the pings", "reconnecting #1 1ms"]
    );
}

/// A server that answers, sends one event, then trickles a line one byte every 50 ms and
/// never ends it (for 5 s): the idle timeout (1 s) never fires, as bytes keep coming.
fn trickle() -> Reply {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: a\n\n";
    Reply::Drip(
        head.into(),
        vec!["x".to_string(); 100],
        Duration::from_millis(50),
    )
}

const PROGRESS: Duration = Duration::from_millis(300);

/// The source gives up on the trickling connection after the progress timeout, with a
/// typed cause, and reconnects (to a 204 here).
async fn a_trickling_line_is_a_progress_timeout<F: sse_pump::client::Fetch>(
    fetch: impl FnOnce(std::net::SocketAddr) -> F,
) {
    let (addr, _notes) = serve(vec![trickle(), no_content()]);
    let mut source = EventSource::new(fetch(addr), request(addr))
        .reconnect(quick())
        .idle_timeout(Duration::from_secs(1))
        .progress_timeout(PROGRESS);
    assert_eq!(describe(source.next().await.unwrap()), "open");
    assert_eq!(describe(source.next().await.unwrap()), "event  a");
    let item = source.next().await.unwrap();
    let timeout = timeout_of(&item);
    assert!(
        matches!(timeout, Some(Error::ProgressTimeout(PROGRESS))),
        "{item:?}"
    );
    assert!(source.next().await.is_none(), "the retry got 204");
}

/// The one-shot stream: the event, then a transport error whose timeout is `Progress`.
async fn a_trickling_line_ends_a_one_shot_stream<F: sse_pump::client::Fetch<bytes::Bytes>>(
    fetch: impl FnOnce(std::net::SocketAddr) -> F,
) {
    let (addr, _notes) = serve(vec![trickle()]);
    let mut events = sse_pump::client::get(fetch(addr), format!("http://{addr}/events"))
        .idle_timeout(Duration::from_secs(1))
        .progress_timeout(PROGRESS)
        .send()
        .await
        .unwrap();
    assert_eq!(events.next().await.unwrap().unwrap().data, "a");
    match events.next().await {
        Some(Err(Error::ProgressTimeout(PROGRESS))) => {}
        other => panic!("{other:?}"),
    }
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn a_trickling_line_is_a_progress_timeout_on_tokio() {
    within(async {
        a_trickling_line_is_a_progress_timeout(|addr| move |r| fetch_tokio(addr, r)).await;
        a_trickling_line_ends_a_one_shot_stream(|addr| move |r| fetch_tokio(addr, r)).await;
    })
    .await;
}

#[test]
fn a_trickling_line_is_a_progress_timeout_on_smol() {
    on_smol(async {
        a_trickling_line_is_a_progress_timeout(|addr| move |r| fetch_smol(addr, r)).await;
        a_trickling_line_ends_a_one_shot_stream(|addr| move |r| fetch_smol(addr, r)).await;
    });
}

/// An error and its chain of sources, as a report prints them (`anyhow`'s `{:#}`).
fn report(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// Every error says what failed and why, and a report that walks the sources prints each
/// cause once.
#[tokio::test]
async fn errors_print_their_cause_once() {
    let (addr, _notes) = serve(vec![trickle(), drop_connection()]);
    let url = format!("http://{addr}/events");
    // A one-shot stream stuck in a line.
    let mut events = sse_pump::client::get(move |r| fetch_tokio(addr, r), url.as_str())
        .progress_timeout(PROGRESS)
        .send()
        .await
        .unwrap();
    events.next().await.unwrap().unwrap();
    let err = within(events.next()).await.unwrap().unwrap_err();
    assert_eq!(
        report(&err),
        "no line was completed for 300ms while bytes trickled in"
    );
    // A POST source whose connection is dropped: the client's error, once.
    let post = http::Request::post(url.as_str()).body(()).unwrap();
    let mut source = EventSource::new(move |r| fetch_tokio(addr, r), post);
    let err = match within(source.next()).await {
        Some(Err(err @ Error::NotRetried { .. })) => err,
        other => panic!("{other:?}"),
    };
    let Error::NotRetried { cause, .. } = &err else {
        unreachable!()
    };
    let text = report(&err);
    assert!(
        text.starts_with("the POST request's stream failed and is not sent again"),
        "{text}"
    );
    assert_eq!(text.matches(&cause.to_string()).count(), 1, "{text}");
    // A request that cannot connect: the OS's error, once.
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let sent = sse_pump::client::get(
        move |r| fetch_tokio(refused, r),
        format!("http://{refused}/"),
    )
    .send()
    .await;
    let err = sent.unwrap_err();
    let text = report(&err);
    let os = std::io::Error::from(std::io::ErrorKind::ConnectionRefused).to_string();
    assert!(text.starts_with("the request failed: "), "{text}");
    assert_eq!(
        text.to_lowercase().matches("refused").count(),
        1,
        "{text} ({os})"
    );
}

/// An LLM-style request: a `POST` with a key and a JSON body, ended by `[DONE]`.
fn chat(
    addr: std::net::SocketAddr,
) -> sse_pump::client::RequestBuilder<impl sse_pump::client::Fetch<bytes::Bytes>> {
    sse_pump::client::post(
        move |r| fetch_tokio(addr, r),
        format!("http://{addr}/v1/chat"),
    )
    .bearer_auth("sk-test")
    .header("content-type", "application/json")
    .body(r#"{"stream":true}"#)
    .end_when(|event| event.data == "[DONE]")
}

/// The one-shot builder's `end_when`: the `[DONE]` event ends the stream and drops the
/// connection, though the server holds it open (without it: an idle timeout, an error).
#[tokio::test]
async fn end_when_ends_a_one_shot_stream_the_server_holds_open() {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
    let (addr, notes) = serve(vec![Reply::Hold(format!(
        "{head}data: t\n\ndata: [DONE]\n\n"
    ))]);
    let events = chat(addr).send().await.unwrap();
    let data: Vec<String> = within(events.map(|e| e.unwrap().data.into()).collect()).await;
    assert_eq!(data, ["t", "[DONE]"]);
    let (_, headers) = next_request(&notes);
    assert_eq!(headers["authorization"], "Bearer sk-test");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers[":body"], r#"{"stream":true}"#);
    assert_dropped(notes).await;
}

/// Waits for the server to see the connection dropped, off the runtime's thread (which
/// must go on driving hyper's connection task).
async fn assert_dropped(notes: std::sync::mpsc::Receiver<Note>) {
    let dropped = tokio::task::spawn_blocking(move || notes.recv_timeout(Duration::from_secs(10)));
    assert!(matches!(within(dropped).await.unwrap(), Ok(Note::Dropped)));
}

/// The same builder, `.resumable()`: an `EventSource` whose every attempt is the request
/// rebuilt (method, key, JSON body) with the last event ID, ended by `end_when`.
#[tokio::test]
async fn the_builder_becomes_a_resumable_source_that_rebuilds_each_request() {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
    let (addr, notes) = serve(vec![
        sse("id: 1\ndata: t1\n\n"),
        Reply::Hold(format!("{head}id: 2\ndata: t2\n\ndata: [DONE]\n\n")),
    ]);
    let mut source = chat(addr)
        .resumable()
        .unwrap()
        .reconnect(quick())
        .retry_non_idempotent(true);
    let items = within(drain(&mut source, 10)).await;
    assert_eq!(
        items,
        [
            "open",
            "event 1 t1",
            "reconnecting #1 1ms",
            "open",
            "event 2 t2",
            "event 2 [DONE]"
        ]
    );
    for last_event_id in [None, Some("1")] {
        let (_, headers) = next_request(&notes);
        assert_eq!(headers["authorization"], "Bearer sk-test");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["accept"], "text/event-stream");
        assert_eq!(headers[":body"], r#"{"stream":true}"#);
        assert_eq!(
            headers.get("last-event-id").map(String::as_str),
            last_event_id
        );
    }
    assert_dropped(notes).await;
}

/// `.resumable()` does not make a `POST` safe to resend: without the opt-in, one attempt.
#[tokio::test]
async fn a_resumable_post_is_not_resent_without_the_opt_in() {
    let (addr, notes) = serve(vec![sse("id: 1\ndata: t1\n\n")]);
    let mut source = sse_pump::client::post(
        move |r| fetch_tokio(addr, r),
        format!("http://{addr}/v1/chat"),
    )
    .body("{}")
    .resumable()
    .unwrap()
    .reconnect(quick());
    assert_eq!(within(drain(&mut source, 10)).await, ["open", "event 1 t1"]);
    next_request(&notes);
    no_more_requests(&notes);
}
