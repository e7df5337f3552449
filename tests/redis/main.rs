//! Hubs in several "instances" sharing one Redis stream (`RedisStreams`): the shared-log
//! scenarios of tests/hub on a real `redis-server`, on smol and on tokio, and its faults:
//! down at start, connections cut, restarted empty, a hundred restarts; and the losses
//! the hub must not have (tests/redis/loss.rs).
//!
//! Each test starts its own `redis-server` on a free loopback port, persistence off. They
//! are skipped without `redis-server` (Debian: `apt-get install redis-server`), except on
//! CI (`CI=true`), where they fail.

#[path = "../support/mod.rs"]
mod support;

#[path = "../demo_server/mod.rs"]
mod demo_server;

#[path = "../hub/shared_log.rs"]
mod shared_log;

mod cluster;
mod faults;
mod loss;
mod topics;

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc, Mutex,
};

use demo_server::redis::RedisServer;
use shared_log::Cluster;
use sse_pump::hub::{Hub, HubBuilder, RedisStreams};
use support::guard;

/// Instances following one stream on one test server.
#[derive(Clone)]
struct Redis {
    server: Arc<Mutex<RedisServer>>,
    url: String,
    key: String,
}

impl Redis {
    /// A fresh server, or `None` when the test is skipped.
    fn start() -> Option<Redis> {
        let server = RedisServer::start()?;
        Some(Redis {
            url: server.url(),
            server: Arc::new(Mutex::new(server)),
            key: unique_key(),
        })
    }

    fn backend(&self) -> RedisStreams {
        RedisStreams::new(&self.url, &self.key).unwrap()
    }
}

/// A stream key no other test uses.
fn unique_key() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "sse-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl Cluster for Redis {
    async fn hub(&self, builder: HubBuilder) -> Hub {
        let backend = self.backend();
        let hub = builder.backend(backend.clone()).build();
        guard(backend.ready()).await;
        hub
    }

    async fn lose(&self, _hubs: &[&Hub]) {
        self.server.lock().unwrap().restart();
    }
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        $(async fn $name() {
            if let Some(redis) = Redis::start() {
                shared_log::$name(redis).await;
            }
        })*
        crate::on_both!($($name),*);
    };
}

scenarios!(
    resume_on_any_instance,
    away_longer_than_the_history_gets_reset,
    a_new_instance_resumes_the_others_clients,
    every_hub_guarantee_holds,
    a_lost_log_resets_then_goes_live,
);
