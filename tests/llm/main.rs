//! The client on an LLM's token stream, against sse-pump's own server over loopback: a
//! one-shot `POST` with a JSON body and a key (hyper-util and reqwest on tokio, hyper on
//! smol), a reconnecting `POST` source that is not resent without opt-in and, with it,
//! resends the factory's new body with the last event ID; and the deadlines.

#[path = "../demo_server/mod.rs"]
mod demo_server;
mod server;

use std::{future::Future, net::SocketAddr, time::Duration};

use bytes::Bytes;
use futures_lite::{Stream, StreamExt};
use http_body_util::Full;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use serde_json::{json, Value};
use sse_pump::{
    client::{self, reqwest::Reqwest, Backoff, Error, EventSource, EventSourceItem, Fetch},
    FuturesIo, MessageEvent,
};

use crate::server::{serve, serve_with, BoxError, KEY};

const PATH: &str = "/v1/chat/completions";

/// hyper-util's legacy client, on tokio.
fn hyper_util(
) -> impl Fn(http::Request<Bytes>) -> hyper_util::client::legacy::ResponseFuture + Clone {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    move |request| client.request(request.map(Full::new))
}

/// hyper's own connection, on smol: one connection per request.
async fn fetch_smol(
    addr: SocketAddr,
    request: http::Request<Bytes>,
) -> Result<http::Response<hyper::body::Incoming>, BoxError> {
    let stream = smol::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(FuturesIo::new(stream)).await?;
    smol::spawn(conn).detach();
    Ok(sender.send_request(request.map(Full::new)).await?)
}

/// On tokio, under a 20 s guard.
fn on_tokio(test: impl Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), test)
            .await
            .expect("test timed out")
    });
}

/// What a token event says: its content, or `[DONE]`.
fn content(event: &MessageEvent) -> String {
    if event.data == "[DONE]" {
        return "[DONE]".into();
    }
    let chunk: Value = serde_json::from_str(&event.data).unwrap();
    chunk["choices"][0]["delta"]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What the client's error of a cut stream names: "transport" (its source is the HTTP
/// client's own error).
fn source_of(error: &Error) -> &'static str {
    match std::error::Error::source(error) {
        Some(_) => "transport",
        None => "no cause",
    }
}

/// Everything a one-shot stream yields, to its end.
async fn drain_events<S>(events: &mut S) -> Vec<String>
where
    S: Stream<Item = Result<MessageEvent, Error>> + Unpin,
{
    let mut seen = Vec::new();
    while let Some(event) = events.next().await {
        seen.push(match event {
            Ok(event) => content(&event),
            Err(e @ Error::Transport(_)) => format!("cut: {}", source_of(&e)),
            Err(e) if e.is_timeout() => format!("cut: {e}"),
            Err(e) => format!("error {e}"),
        });
        assert!(seen.len() < 100, "too many items: {seen:?}");
    }
    seen
}

const EVERY_TOKEN: [&str; 6] = ["t0", "t1", "t2", "t3", "t4", "[DONE]"];

/// A one-shot POST with `fetch`: every token once, `[DONE]`, a clean end; the endpoint got
/// the method, the key, the JSON body and `Accept`.
async fn one_shot<F: Fetch<Bytes>>(fetch: F, llm: &server::Llm) {
    let request =
        json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let mut events = client::post(fetch, llm.url(PATH))
        .bearer_auth(KEY)
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(drain_events(&mut events).await, EVERY_TOKEN);
    let seen = llm.next_request();
    assert_eq!(seen.method, http::Method::POST);
    assert_eq!(seen.headers["authorization"], format!("Bearer {KEY}"));
    assert_eq!(seen.headers["content-type"], "application/json");
    assert_eq!(seen.headers["accept"], "text/event-stream");
    assert_eq!(seen.body, request);
    llm.no_more_requests();
}

#[test]
fn one_shot_post_with_hyper_util_on_tokio_gets_every_token() {
    let llm = serve(None);
    on_tokio(async { one_shot(&hyper_util(), &llm).await });
}

#[test]
fn one_shot_post_with_reqwest_gets_every_token() {
    let llm = serve(None);
    on_tokio(async { one_shot(Reqwest::new(reqwest::Client::new()), &llm).await });
}

/// The blocking client against the same endpoint (hyper's chunked HTTP/1.1), no runtime
/// on the client side: every token, `end_when` `[DONE]`, the same request.
#[test]
fn one_shot_post_with_the_blocking_client_gets_every_token() {
    let llm = serve(None);
    let request =
        json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let events = client::post(client::blocking::Client, llm.url(PATH))
        .bearer_auth(KEY)
        .json(&request)
        .end_when(|event| event.data == "[DONE]")
        .send_blocking()
        .unwrap();
    let tokens: Vec<String> = events.map(|event| content(&event.unwrap())).collect();
    assert_eq!(tokens, EVERY_TOKEN);
    let seen = llm.next_request();
    assert_eq!(seen.headers["authorization"], format!("Bearer {KEY}"));
    assert_eq!(seen.body, request);
    llm.no_more_requests();
}

#[test]
fn one_shot_post_with_hyper_on_smol_gets_every_token() {
    let llm = serve(None);
    let addr = llm.addr;
    let guard = async {
        smol::Timer::after(Duration::from_secs(20)).await;
        panic!("test timed out");
    };
    smol::block_on(smol::future::or(
        one_shot(move |r| fetch_smol(addr, r), &llm),
        guard,
    ));
}

#[test]
fn a_stream_cut_short_is_an_error_not_a_clean_end() {
    let llm = serve(Some(2));
    on_tokio(async {
        let mut events = client::post(&hyper_util(), llm.url(PATH))
            .bearer_auth(KEY)
            .json(&json!({"stream": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            drain_events(&mut events).await,
            ["t0", "t1", "cut: transport"]
        );
    });
}

#[test]
fn over_http2_a_reset_stream_is_an_error_and_a_whole_one_ends_cleanly() {
    let cut = serve_with(Some(2), true);
    on_tokio(async {
        let http = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build_http::<Full<Bytes>>();
        let fetch = move |request: http::Request<Bytes>| http.request(request.map(Full::new));
        for expected in [&["t0", "t1", "cut: transport"][..], &EVERY_TOKEN[..]] {
            let mut events = client::post(&fetch, cut.url(PATH))
                .bearer_auth(KEY)
                .json(&json!({"stream": true}))
                .send()
                .await
                .unwrap();
            assert_eq!(drain_events(&mut events).await, expected);
            assert_eq!(
                cut.next_request().headers["authorization"],
                format!("Bearer {KEY}")
            );
        }
    });
}

#[test]
fn a_rejection_carries_status_headers_and_body() {
    let llm = serve(None);
    on_tokio(async {
        let sent = client::post(Reqwest::default(), llm.url(PATH))
            .bearer_auth("sk-wrong")
            .json(&json!({"stream": true}))
            .send()
            .await;
        let Err(Error::Rejected {
            status,
            headers,
            body,
        }) = sent
        else {
            panic!("{sent:?}")
        };
        assert_eq!(status, 401);
        assert_eq!(headers["content-type"], "application/json");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["message"], "invalid api key");
    });
}

#[test]
fn an_invalid_header_is_an_error_and_nothing_is_sent() {
    let llm = serve(None);
    on_tokio(async {
        let sent = client::post(&hyper_util(), llm.url(PATH))
            .bearer_auth("bad\nkey")
            .send()
            .await;
        assert!(matches!(sent, Err(Error::Request(_))), "{sent:?}");
        llm.no_more_requests();
    });
}

/// A POST source whose factory records the last event ID in the body.
fn post_source<F: Fetch<Bytes>>(fetch: F, llm: &server::Llm) -> EventSource<F, Bytes> {
    let url = llm.url(PATH);
    let mut attempt = 0;
    EventSource::from_fn(fetch, move |last_event_id: &str| {
        attempt += 1;
        let body = json!({"stream": true, "attempt": attempt, "resume_after": last_event_id});
        http::Request::post(&url)
            .header("authorization", format!("Bearer {KEY}"))
            .header("content-type", "application/json")
            .body(Bytes::from(body.to_string()))
    })
    .reconnect(Backoff::exponential(
        Duration::from_millis(1),
        Duration::from_millis(1),
    ))
}

/// Everything a source yields, to its end, as short strings.
async fn drain_source<S>(source: &mut S) -> Vec<String>
where
    S: Stream<Item = Result<EventSourceItem, Error>> + Unpin,
{
    let mut seen = Vec::new();
    while let Some(item) = source.next().await {
        seen.push(match item {
            Ok(EventSourceItem::Open) => "open".into(),
            Ok(EventSourceItem::Event(event)) => content(&event),
            Ok(EventSourceItem::Reconnecting { cause, .. }) => {
                format!("reconnecting (cut: {})", cause.is_some())
            }
            Ok(other) => format!("{other:?}"),
            Err(Error::NotRetried { method, .. }) => format!("not retried {method}"),
            Err(e) => format!("error {e}"),
        });
        assert!(seen.len() < 100, "too many items: {seen:?}");
    }
    seen
}

#[test]
fn a_post_source_is_not_resent_without_opt_in() {
    let llm = serve(Some(2));
    on_tokio(async {
        let mut source = post_source(hyper_util(), &llm);
        assert_eq!(
            drain_source(&mut source).await,
            ["open", "t0", "t1", "not retried POST"]
        );
        assert_eq!(llm.next_request().body["attempt"], 1);
        llm.no_more_requests();
    });
}

#[test]
fn a_post_source_ends_with_its_stream() {
    let llm = serve(None);
    on_tokio(async {
        let mut source = post_source(hyper_util(), &llm);
        let mut expected = vec!["open"];
        expected.extend(EVERY_TOKEN);
        assert_eq!(drain_source(&mut source).await, expected);
        llm.next_request();
        llm.no_more_requests();
    });
}

/// With the opt-in, the cut stream is resumed: the factory's new body and the header
/// both carry the last event ID, and every token arrives once; `[DONE]` ends the source.
async fn resent_with_opt_in<F: Fetch<Bytes>>(fetch: F) {
    let llm = serve(Some(2));
    let mut source = post_source(fetch, &llm)
        .retry_non_idempotent(true)
        .end_when(|event| event.data == "[DONE]");
    let seen = drain_source(&mut source).await;
    let expected = [
        "open",
        "t0",
        "t1",
        "reconnecting (cut: true)",
        "open",
        "t2",
        "t3",
        "t4",
        "[DONE]",
    ];
    assert_eq!(seen, expected);
    let first = llm.next_request();
    assert_eq!(
        (
            first.body["attempt"].as_u64(),
            first.headers.get("last-event-id")
        ),
        (Some(1), None)
    );
    let second = llm.next_request();
    assert_eq!(second.method, http::Method::POST);
    assert_eq!(second.body["attempt"], 2);
    assert_eq!(second.body["resume_after"], "1");
    assert_eq!(second.headers["last-event-id"], "1");
    llm.no_more_requests();
}

#[test]
fn with_opt_in_a_post_source_resends_a_new_body_with_the_last_event_id() {
    on_tokio(resent_with_opt_in(hyper_util()));
}

#[test]
fn with_opt_in_a_post_source_over_reqwest_resumes() {
    on_tokio(resent_with_opt_in(Reqwest::new(reqwest::Client::new())));
}

#[test]
fn a_server_that_stalls_before_its_head_is_a_response_timeout() {
    let llm = serve(None);
    on_tokio(async {
        let sent = client::post(&hyper_util(), llm.url("/stall/head"))
            .response_timeout(Duration::from_millis(300))
            .send()
            .await;
        assert!(
            matches!(sent, Err(Error::ResponseTimeout(t)) if t == Duration::from_millis(300)),
            "{sent:?}"
        );
    });
}

#[test]
fn a_stream_that_stalls_mid_body_is_an_idle_timeout() {
    let llm = serve(None);
    on_tokio(async {
        let mut events = client::post(Reqwest::default(), llm.url("/stall/body"))
            .idle_timeout(Duration::from_millis(300))
            .send()
            .await
            .unwrap();
        let idle = Error::IdleTimeout(Duration::from_millis(300));
        assert_eq!(
            drain_events(&mut events).await,
            ["t0".to_owned(), format!("cut: {idle}")]
        );
    });
}

#[test]
fn a_rejection_whose_body_stalls_gives_what_arrived() {
    let llm = serve(None);
    on_tokio(async {
        let sent = client::post(&hyper_util(), llm.url("/stall/rejection"))
            .rejection_timeout(Duration::from_millis(300))
            .send()
            .await;
        let Err(Error::Rejected { status, body, .. }) = sent else {
            panic!("{sent:?}")
        };
        assert_eq!((status.as_u16(), &body[..]), (429, &b"slow down"[..]));
    });
}

/// Runs example `name` with `url` and returns its stdout, within 60 s (the binary is built
/// first, a no-op after `cargo test --all-features`).
fn run_example(name: &str, url: &str) -> String {
    use std::process::{Command, Stdio};
    let binary = demo_server::example_binary(name);
    let mut child = Command::new(binary)
        .arg(url)
        .env("OPENAI_API_KEY", KEY)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
        tx.send(out).unwrap();
    });
    let out = rx.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let status = child.wait().unwrap();
    let out = out.expect("the example did not finish within 60 s");
    assert!(status.success(), "{name} failed: {out}");
    out
}

/// The contents of the chunks an example printed, one JSON chunk a line.
fn printed_tokens(out: &str) -> Vec<String> {
    let chunk = |line: &str| serde_json::from_str::<Value>(line).unwrap();
    out.lines()
        .map(|line| {
            chunk(line)["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn the_llm_reqwest_example_prints_the_answer() {
    let llm = serve(None);
    assert_eq!(run_example("llm_reqwest", &llm.url(PATH)), "t0t1t2t3t4");
}

#[test]
fn the_llm_hyper_example_resumes_a_cut_stream() {
    let llm = serve(Some(2));
    let out = run_example("llm_hyper", &llm.url(PATH));
    assert_eq!(printed_tokens(&out), ["t0", "t1", "t2", "t3", "t4"]);
    assert_eq!(llm.next_request().body["resume_after"], "");
    assert_eq!(llm.next_request().body["resume_after"], "1");
}

#[test]
fn the_blocking_reqwest_example_prints_every_chunk() {
    let llm = serve(None);
    let out = run_example("blocking_reqwest", &llm.url(PATH));
    assert_eq!(printed_tokens(&out), ["t0", "t1", "t2", "t3", "t4"]);
}

#[test]
fn a_get_source_over_reqwest_reconnects_after_a_clean_end_with_the_last_event_id() {
    let llm = serve(None);
    on_tokio(async {
        let request = http::Request::get(llm.url(PATH))
            .header("authorization", format!("Bearer {KEY}"))
            .body(())
            .unwrap();
        let mut source = EventSource::new(Reqwest::default(), request).reconnect(
            Backoff::exponential(Duration::from_millis(1), Duration::from_millis(1)),
        );
        let mut seen = Vec::new();
        while seen.len() < 10 {
            let item = source.next().await.expect("the source goes on");
            seen.push(match item {
                Ok(EventSourceItem::Open) => "open".into(),
                Ok(EventSourceItem::Event(event)) => content(&event),
                Ok(EventSourceItem::Reconnecting { cause, .. }) => {
                    format!("reconnecting (cut: {})", cause.is_some())
                }
                other => format!("{other:?}"),
            });
        }
        source.close();
        let expected = [
            "open",
            "t0",
            "t1",
            "t2",
            "t3",
            "t4",
            "[DONE]",
            "reconnecting (cut: false)",
            "open",
            "[DONE]",
        ];
        assert_eq!(seen, expected);
        assert_eq!(llm.next_request().method, http::Method::GET);
        let again = llm.next_request();
        assert_eq!(
            (
                again.method,
                again.headers["last-event-id"].to_str().unwrap()
            ),
            (http::Method::GET, "4")
        );
    });
}

#[test]
fn a_post_source_whose_server_stalls_before_its_head_times_out_once() {
    let llm = serve(None);
    on_tokio(async {
        let request = http::Request::post(llm.url("/stall/head"))
            .body(Bytes::new())
            .unwrap();
        let mut source =
            EventSource::new(hyper_util(), request).response_timeout(Duration::from_millis(300));
        let item = source.next().await.expect("an item");
        let Err(Error::NotRetried { method, cause }) = item else {
            panic!("{item:?}")
        };
        assert_eq!(method, http::Method::POST);
        assert!(
            matches!(*cause, Error::ResponseTimeout(t) if t == Duration::from_millis(300)),
            "{cause:?}"
        );
        assert!(source.next().await.is_none());
        llm.next_request();
        llm.no_more_requests();
    });
}
