//! The `chat` example started twice, on two ports, against one Redis (`REDIS_URL`): a
//! client cut off from one process resumes on the other; a hub on smol in this process,
//! fed by the same Redis, agrees; two Chromium pages on the two processes chat.

use std::{
    io::{ErrorKind, Read, Write},
    net::TcpStream,
    process::Command,
    thread,
    time::Instant,
};

use sse_pump::hub::{Hub, RedisStreams, Replay};

use crate::{
    demo_server::{
        browser::{chromium_and_driver, Browser},
        poll,
        redis::RedisServer,
        split_head, Demo, DEADLINE,
    },
    shared_log::read,
    support::{guard, on_smol},
    unique_key,
};

/// One instance of the chat example following the stream `key`.
fn instance(server: &RedisServer, key: &str) -> Demo {
    let url = server.url();
    let envs = [("REDIS_URL", url.as_str()), ("CHAT_STREAM", key)];
    let mut chat = Demo::start_example_with("chat", "SSE_ADDR", &envs);
    chat.wait_for_line(|line| line.starts_with("following redis stream"));
    chat
}

/// Posts `text` to the instance; its HTTP status.
fn post(authority: &str, text: &str) -> String {
    post_to(authority, "/messages", text).0
}

/// Posts `text` to `path` on the instance; its HTTP status and body.
fn post_to(authority: &str, path: &str, text: &str) -> (String, String) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        text.len()
    );
    let mut socket = TcpStream::connect(authority).unwrap();
    socket.set_read_timeout(Some(DEADLINE)).unwrap();
    socket
        .write_all(format!("{head}{text}").as_bytes())
        .unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).unwrap();
    let (head, body) = split_head(&response);
    let status = String::from_utf8_lossy(&head[9..12]).into_owned();
    (status, String::from_utf8_lossy(body).into_owned())
}

/// An `/events` stream read over HTTP/1.0 (no chunking: the body is the SSE stream).
struct Events {
    socket: TcpStream,
    raw: Vec<u8>,
    body_at: Option<usize>,
    end: Instant,
}

impl Events {
    fn open(chat: &Demo, last_event_id: Option<&str>) -> Events {
        Events::open_at(chat, "/events", last_event_id)
    }

    fn open_at(demo: &Demo, path: &str, last_event_id: Option<&str>) -> Events {
        let mut socket = TcpStream::connect(demo.authority()).unwrap();
        let header = last_event_id.map_or(String::new(), |id| format!("last-event-id: {id}\r\n"));
        let request = format!("GET {path} HTTP/1.0\r\nhost: x\r\n{header}\r\n");
        socket.write_all(request.as_bytes()).unwrap();
        Events {
            socket,
            raw: Vec::new(),
            body_at: None,
            end: Instant::now(),
        }
    }

    /// The next event as (data, id), or `None` once the server is gone. Each event has
    /// its own deadline: a loaded machine may be slow, never stuck.
    fn next(&mut self) -> Option<(String, Option<String>)> {
        self.end = Instant::now() + DEADLINE;
        loop {
            if let Some(event) = self.take() {
                return Some(event);
            }
            let left = self.end.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no event within {DEADLINE:?}");
            self.socket.set_read_timeout(Some(left)).unwrap();
            let mut buf = [0; 4096];
            match self.socket.read(&mut buf) {
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    panic!("no event within {DEADLINE:?}")
                }
                Ok(0) | Err(_) => return None, // killed: EOF or reset
                Ok(n) => self.raw.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// Takes one whole event out of what was read, skipping `retry:` and comments.
    fn take(&mut self) -> Option<(String, Option<String>)> {
        loop {
            let at = match self.body_at {
                Some(at) => at,
                None => {
                    let at = self.raw.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
                    assert!(
                        self.raw.starts_with(b"HTTP/1.0 200 OK\r\n"),
                        "{:?}",
                        self.raw
                    );
                    self.body_at = Some(at);
                    at
                }
            };
            let len = self.raw[at..].windows(2).position(|w| w == b"\n\n")?;
            let frame = String::from_utf8(self.raw[at..at + len].to_vec()).unwrap();
            self.raw.drain(at..at + len + 2);
            let field = |name: &str| {
                frame
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(str::to_owned)
            };
            if let Some(data) = field("data: ").or_else(|| field("event: ")) {
                return Some((data, field("id: ")));
            }
        }
    }
}

/// A publisher posts 1..=N, half to each instance; a client reading from A is cut off
/// (A is killed), reconnects to B with its Last-Event-ID, and sees exactly 1..=N, in
/// order, once. A hub on smol in this process, fed by the same Redis, sees the same, and
/// resumes the client's id too.
#[test]
fn a_client_cut_off_from_one_process_resumes_on_the_other() {
    const N: usize = 200;
    let Some(server) = RedisServer::start() else {
        return;
    };
    let key = unique_key();
    let (a, b) = (instance(&server, &key), instance(&server, &key));
    let (smol_hub, smol_live) = on_smol(async {
        let backend = RedisStreams::new(&server.url(), &key).unwrap();
        let hub = Hub::builder()
            .history(N)
            .subscriber_capacity(N)
            .backend(backend.clone())
            .build();
        guard(backend.ready()).await;
        let live = hub.subscribe(None).unwrap();
        (hub, live)
    });
    let mut client = Events::open(&a, None);
    for n in 1..=N / 2 {
        let to = if n % 2 == 0 { &a } else { &b };
        assert_eq!(post(to.authority(), &n.to_string()), "200", "message {n}");
    }
    let mut seen = Vec::new();
    let mut last = None;
    while seen.len() < N / 4 {
        let (data, id) = client.next().expect("A is up");
        seen.push(data);
        last = id.or(last);
    }
    let cut_at = last.clone().unwrap();
    let killed = Command::new("kill")
        .args(["-9", &a.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let publisher = {
        let b = b.authority().to_owned();
        thread::spawn(move || {
            for n in N / 2 + 1..=N {
                assert_eq!(post(&b, &n.to_string()), "200", "message {n}");
            }
        })
    };
    while let Some((data, id)) = client.next() {
        seen.push(data); // what A had sent before it died
        last = id.or(last);
    }
    let mut client = Events::open(&b, last.as_deref());
    while seen.len() < N {
        let (data, _) = client.next().expect("B is up");
        seen.push(data);
    }
    publisher.join().unwrap();
    let want: Vec<String> = (1..=N).map(|n| n.to_string()).collect();
    assert_eq!(seen, want);

    on_smol(async move {
        let mut live = smol_live;
        let all: Vec<String> = read(&mut live, N)
            .await
            .into_iter()
            .map(|(data, _)| data)
            .collect();
        assert_eq!(all, want);
        let mut resumed = smol_hub.subscribe(Some(&cut_at)).unwrap();
        assert_eq!(
            resumed.replay(),
            Replay::Resumed {
                missed: (N - N / 4) as u64
            }
        );
        let rest: Vec<String> = read(&mut resumed, N - N / 4)
            .await
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        assert_eq!(rest, want[N / 4..]);
    });
}

/// The notifications example twice on one Redis: a client of a topic on one process gets
/// what is posted to that topic on the other (with the id the post answered), nothing of
/// other topics, and resumes on the other process; one stream of two topics resumes
/// both; `/stats` counts topics, subscribers and threads.
#[test]
fn notifications_on_two_processes_share_topics() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = server.url();
    let envs = [("REDIS_URL", url.as_str())];
    let a = Demo::start_example_with("notifications", "SSE_ADDR", &envs);
    let b = Demo::start_example_with("notifications", "SSE_ADDR", &envs);
    let mut user = Events::open_at(&a, "/topics/user:1/events", None);
    let mut both = Events::open_at(&a, "/events?topic=user:1&topic=news", None);
    let (status, first) = post_to(b.authority(), "/topics/user:1", "hello");
    assert_eq!(status, "200", "{first}");
    assert_eq!(user.next(), Some(("hello".into(), Some(first.clone()))));
    let (_, seen) = both.next().unwrap();
    let (status, _) = post_to(a.authority(), "/topics/user:2", "not for user 1");
    assert_eq!(status, "200");
    let (_, second) = post_to(b.authority(), "/topics/user:1", "second");
    let (_, news) = post_to(b.authority(), "/topics/news", "headline");
    assert_eq!(user.next(), Some(("second".into(), Some(second))));
    let mut back = Events::open_at(&b, "/topics/user:1/events", Some(&first));
    assert_eq!(back.next().map(|(data, _)| data).as_deref(), Some("second"));
    let mut resumed = Events::open_at(&b, "/events?topic=user:1&topic=news", seen.as_deref());
    let got: Vec<String> = (0..2).map(|_| resumed.next().unwrap().0).collect();
    assert_eq!(got.len(), 2);
    assert!(got.contains(&"second".to_owned()) && got.contains(&"headline".to_owned()));
    assert!(
        news.chars().all(|c| c.is_ascii_digit() || c == '-'),
        "{news}"
    );
    let stats = get(a.authority(), "/stats");
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["subscribers"], 3); // user:1, and user:1 and news for `both`
    assert!(stats["topics"].as_u64().unwrap() >= 2, "{stats}");
    assert!(stats["threads"].as_u64().unwrap() >= 1, "{stats}");
}

/// The body of `GET path` on the instance.
fn get(authority: &str, path: &str) -> String {
    let mut socket = TcpStream::connect(authority).unwrap();
    socket.set_read_timeout(Some(DEADLINE)).unwrap();
    let request = format!("GET {path} HTTP/1.0\r\nhost: x\r\n\r\n");
    socket.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).unwrap();
    String::from_utf8_lossy(split_head(&response).1).into_owned()
}

/// Two Chromium pages, one on each instance, see each other's messages; B refreshed
/// resumes from the shared history what A posted meanwhile.
#[test]
fn pages_on_two_processes_chat_and_a_refresh_resumes() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let Some((chromium, chromedriver)) = chromium_and_driver() else {
        return;
    };
    let key = unique_key();
    let (a, b) = (instance(&server, &key), instance(&server, &key));
    let (on_a, on_b) = (
        Browser::start(&chromedriver, &chromium),
        Browser::start(&chromedriver, &chromium),
    );
    on_a.open(&a.url);
    on_b.open(&b.url);
    let shown = "return [...document.querySelectorAll('#messages li')].map((li) => li.textContent)";
    let connected = "return document.getElementById('status').textContent";
    for page in [&on_a, &on_b] {
        shows(page, connected, serde_json::json!("connected"));
    }
    let send = "document.getElementById('text').value = arguments[0];
                document.getElementById('form').requestSubmit();";
    on_a.execute(send, serde_json::json!(["from A"]));
    shows(&on_b, shown, serde_json::json!(["from A"]));
    on_b.execute(send, serde_json::json!(["from B"]));
    shows(&on_a, shown, serde_json::json!(["from A", "from B"]));
    shows(&on_b, shown, serde_json::json!(["from A", "from B"]));

    // B stops listening; A gets two messages; B refreshes: it resumes from the log.
    on_b.execute("window.source.close()", serde_json::json!([]));
    assert_eq!(post(a.authority(), "while B was away"), "200");
    assert_eq!(post(a.authority(), "and another"), "200");
    on_b.call("POST", "refresh", serde_json::json!({}));
    let all = serde_json::json!(["from A", "from B", "while B was away", "and another"]);
    shows(&on_b, shown, all.clone());
    shows(&on_a, shown, all);
    let kinds = "return window.received.map((e) => e.type)";
    let events = on_b.execute(kinds, serde_json::json!([]));
    assert_eq!(events, serde_json::json!(["open", "message", "message"])); // no reset
}

/// Waits until `script` gives `want` on `page`; fails with what it gives otherwise.
fn shows(page: &Browser, script: &str, want: serde_json::Value) {
    let args = serde_json::json!([]);
    let done = poll(DEADLINE, || {
        (page.execute(script, args.clone()) == want).then_some(())
    });
    assert!(
        done.is_some(),
        "the page shows {} instead of {want}",
        page.execute(script, args)
    );
}

/// The notifications example on Redis runs as many threads, and holds as many Redis
/// connections, with 10,010 topics subscribed as with 10: one Redis thread and two
/// connections per process, whatever the number of topics.
#[test]
fn notifications_threads_do_not_grow_with_topics() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = server.url();
    let a = Demo::start_example_with("notifications", "SSE_ADDR", &[("REDIS_URL", &url)]);
    let query = |topics: std::ops::Range<usize>| {
        let names: Vec<String> = topics.map(|n| format!("topic=t{n}")).collect();
        format!("/events?{}", names.join("&"))
    };
    let stats = |subscribers: u64| {
        let settled = poll(DEADLINE, || {
            let stats: serde_json::Value =
                serde_json::from_str(&get(a.authority(), "/stats")).ok()?;
            (stats["subscribers"] == subscribers).then_some(stats)
        });
        let stats = settled.unwrap_or_else(|| panic!("never {subscribers} subscribers"));
        let clients: String = server.run(&["CLIENT", "LIST"]);
        (stats["threads"].as_u64().unwrap(), clients.lines().count())
    };
    let mut streams = vec![Events::open_at(&a, &query(0..10), None)];
    let at_ten = stats(10);
    for first in (10..10_010).step_by(500) {
        streams.push(Events::open_at(&a, &query(first..first + 500), None));
    }
    let at_ten_thousand = stats(10_010);
    assert_eq!(
        at_ten_thousand, at_ten,
        "(threads, Redis clients) at 10 and 10,010 topics"
    );
    // And each topic still goes to its stream only.
    let (status, id) = post_to(a.authority(), "/topics/t4321", "for t4321");
    assert_eq!(status, "200", "{id}");
    let (data, _) = streams[1 + (4321 - 10) / 500].next().unwrap();
    assert_eq!(data, "for t4321");
}

/// Two Chromium pages subscribed to different topics on different notifications
/// processes (one Redis): each sees only its own topic's notifications, wherever they are
/// posted.
#[test]
fn pages_on_two_processes_see_only_their_topic() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let Some((chromium, chromedriver)) = chromium_and_driver() else {
        return;
    };
    let url = server.url();
    let envs = [("REDIS_URL", url.as_str())];
    let a = Demo::start_example_with("notifications", "SSE_ADDR", &envs);
    let b = Demo::start_example_with("notifications", "SSE_ADDR", &envs);
    let pages = [(&a, "user:a"), (&b, "user:b")].map(|(demo, topic)| {
        let page = Browser::start(&chromedriver, &chromium);
        page.open(&format!("http://{}/stats", demo.authority()));
        let listen = "window.got = [];
            const source = new EventSource('/topics/' + arguments[0] + '/events');
            source.onopen = () => { window.opened = true; };
            source.onmessage = (e) => window.got.push(e.data);";
        page.execute(listen, serde_json::json!([topic]));
        shows(
            &page,
            "return window.opened === true",
            serde_json::json!(true),
        );
        page
    });
    for (on, topic, text) in [
        (&b, "user:a", "a1"),
        (&a, "user:b", "b1"),
        (&a, "user:a", "a2"),
    ] {
        let (status, id) = post_to(on.authority(), &format!("/topics/{topic}"), text);
        assert_eq!(status, "200", "{id}");
    }
    let got = "return window.got";
    shows(&pages[0], got, serde_json::json!(["a1", "a2"]));
    shows(&pages[1], got, serde_json::json!(["b1"]));
}
