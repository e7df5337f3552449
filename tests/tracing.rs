//! The `tracing` feature: a subscriber that keeps every event, with its fields and its
//! span's, shows what a stream's end, a client's reconnection and a hub's lag and reset
//! report.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, Mutex},
};

use futures_lite::{future::block_on, StreamExt};
use http_body_util::BodyExt;
use sse_pump::{
    channel,
    hub::{Hub, Lag},
    Event, Sse, SseBody, Trace,
};
use tracing::{
    field::{Field, Visit},
    span::{Attributes, Id},
    Subscriber,
};
use tracing_subscriber::{layer::Context, prelude::*, registry::LookupSpan, Layer};

type Fields = BTreeMap<String, String>;

/// One event: its target, its fields (`message` included) and its span's fields.
#[derive(Debug, Clone)]
struct Captured {
    target: String,
    fields: Fields,
    span: Fields,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

struct Record<'a>(&'a mut Fields);

impl Visit for Record<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::new();
        attrs.record(&mut Record(&mut fields));
        ctx.span(id).unwrap().extensions_mut().insert(fields);
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::new();
        event.record(&mut Record(&mut fields));
        let span = ctx
            .event_span(event)
            .and_then(|span| span.extensions().get::<Fields>().cloned())
            .unwrap_or_default();
        let target = event.metadata().target().to_owned();
        let captured = Captured {
            target,
            fields,
            span,
        };
        self.0.lock().unwrap().push(captured);
    }
}

/// Runs `f` with a subscriber capturing every event; returns them.
fn captured(f: impl FnOnce()) -> Vec<Captured> {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, f);
    let events = capture.0.lock().unwrap().clone();
    events
}

fn find<'a>(events: &'a [Captured], message: &str) -> &'a Captured {
    events
        .iter()
        .find(|e| e.fields.get("message").is_some_and(|m| m == message))
        .unwrap_or_else(|| panic!("no {message:?} in {events:#?}"))
}

#[test]
fn a_stream_end_event_carries_its_report_in_its_span() {
    let events = captured(|| {
        block_on(async {
            let (tx, rx) = channel(4);
            tx.send(Event::new().id("8").data("a")).await.unwrap();
            tx.send(Event::new().data("b")).await.unwrap();
            drop(tx);
            let peer = "127.0.0.1:4000".parse().unwrap();
            let trace = Trace::new().peer(peer).path("/events").last_event_id("7");
            let sse = Sse::new(rx).keep_alive(None).trace(trace);
            SseBody::new(sse).collect().await.unwrap();
        })
    });
    let opened = find(&events, "sse stream opened");
    assert_eq!(opened.target, "sse_pump::stream");
    let ended = find(&events, "sse stream ended");
    assert_eq!(ended.target, "sse_pump::stream");
    assert_eq!(ended.fields["ended"], "SourceClosed");
    assert_eq!(ended.fields["events"], "2");
    assert_eq!(ended.fields["bytes"], "24"); // "id: 8\ndata: a\n\n" + "data: b\n\n"
    assert_eq!(ended.fields["undelivered"], "0");
    assert!(!ended.fields.contains_key("error"));
    assert_eq!(ended.span["peer"], "127.0.0.1:4000");
    assert_eq!(ended.span["path"], "/events");
    assert_eq!(ended.span["last_event_id"], "7");
}

#[test]
fn a_dropped_body_reports_what_it_did_not_deliver() {
    let events = captured(|| {
        let (tx, rx) = channel(4);
        tx.try_send(Event::new().data("never read")).unwrap();
        drop(SseBody::new(Sse::new(rx))); // the client went away
    });
    let ended = find(&events, "sse stream ended");
    assert_eq!(ended.fields["ended"], "Disconnected");
    assert_eq!(ended.fields["undelivered"], "1");
    assert!(!ended.span.contains_key("path"), "no fields unless given");
}

#[test]
fn a_hub_reports_a_lagging_subscriber_and_a_reset() {
    let events = captured(|| {
        let hub = (Hub::builder().history(2).subscriber_capacity(2))
            .on_lag(Lag::DropOldest)
            .build();
        let mut slow = hub.subscribe(None).unwrap();
        for n in 0..5 {
            hub.publish(Event::new().data(n.to_string())).unwrap();
        }
        let gap = block_on(slow.next()).unwrap();
        assert!(gap.into_bytes().starts_with(b"event: gap"));
        drop(hub.subscribe(Some("no such id")).unwrap());
    });
    let lagged = find(&events, "hub subscriber lagged");
    assert_eq!(lagged.target, "sse_pump::hub");
    assert_eq!(lagged.fields["missed"], "3");
    let reset = find(&events, "Last-Event-ID not in the history: reset");
    assert_eq!(reset.fields["last_event_id"], "no such id");
}

#[test]
fn a_client_reports_its_reconnection() {
    let events = captured(|| {
        let fetch = |_: http::Request<()>| async {
            Err::<http::Response<http_body_util::Empty<bytes::Bytes>>, _>(std::io::Error::other(
                "offline",
            ))
        };
        let request = http::Request::get("http://127.0.0.1:9/events")
            .body(())
            .unwrap();
        let mut source = sse_pump::client::EventSource::new(fetch, request);
        block_on(source.next()).unwrap().unwrap();
    });
    let reconnecting = find(&events, "event source reconnecting");
    assert_eq!(reconnecting.target, "sse_pump::client");
    assert_eq!(reconnecting.fields["uri"], "http://127.0.0.1:9/events");
    assert_eq!(reconnecting.fields["attempt"], "1");
    // The cause with its source, each once.
    assert_eq!(reconnecting.fields["cause"], "the request failed: offline");
}
