//! A `redis-server` of the test's own, on a free loopback port with persistence off, killed
//! when dropped. Missing on a developer's machine, the test is skipped; on CI, it fails.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Command, Stdio},
    time::Duration,
};

use super::{poll, require, which, ChildGuard, DEADLINE};

/// A Redis server the test owns.
pub struct RedisServer {
    pub port: u16,
    binary: PathBuf,
    child: Option<ChildGuard>,
}

impl RedisServer {
    /// Starts one, or returns `None` (the test is skipped) when `redis-server` is missing
    /// and this is not CI.
    pub fn start() -> Option<RedisServer> {
        let mut server = RedisServer::stopped()?;
        server.launch();
        Some(server)
    }

    /// A server not started yet, on a free port (to test a Redis that is down at first).
    pub fn stopped() -> Option<RedisServer> {
        let binary = require(
            "redis-server",
            which("redis-server"),
            "apt-get install redis-server",
        )?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Some(RedisServer {
            port,
            binary,
            child: None,
        })
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server and waits until it answers `PING`.
    pub fn launch(&mut self) {
        let port = self.port.to_string();
        let child = Command::new(&self.binary)
            .args([
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start redis-server");
        self.child = Some(ChildGuard(child));
        let client = redis::Client::open(self.url()).unwrap();
        let up = poll(DEADLINE, || {
            let mut con = client
                .get_connection_with_timeout(Duration::from_secs(1))
                .ok()?;
            redis::cmd("PING").query::<String>(&mut con).ok()
        });
        assert_eq!(up.as_deref(), Some("PONG"), "redis-server did not start");
    }

    /// Kills the server (SIGKILL: nothing is saved, connections break).
    pub fn kill(&mut self) {
        self.child = None;
    }

    /// Kills the server and starts an empty one on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// A connection of its own.
    pub fn connect(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).unwrap();
        client.get_connection_with_timeout(DEADLINE).unwrap()
    }

    /// Runs one command on a connection of its own.
    pub fn run<T: redis::FromRedisValue>(&self, args: &[&str]) -> T {
        let mut con = self.connect();
        let mut cmd = redis::cmd(args[0]);
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        cmd.query(&mut con).unwrap()
    }
}
