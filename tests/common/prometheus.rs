//! A real Prometheus (Debian's `prometheus`, which .ci/run installs) for
//! the tests that need one: a temporary config and TSDB, 127.0.0.1 ports,
//! killed when the handle drops however the test ends.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BINARY: &str = "/usr/bin/prometheus";

/// A port nothing listens on right now.
pub fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A minimal HTTP/1.0 GET: status line and body, or `None` while nothing listens.
pub fn get(addr: SocketAddr, path: &str) -> Option<(String, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.to_string(), body.to_string()))
}

/// Kills the Prometheus it holds when the test ends, however it ends.
pub struct Prometheus {
    child: Child,
    pub web: SocketAddr,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `None` (the test skips) without the binary, except in CI, which must have it.
pub fn available() -> bool {
    if Path::new(BINARY).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have prometheus (.ci/run installs it)"
    );
    eprintln!("skipped: no {BINARY}");
    false
}

/// Starts Prometheus scraping `targets` (as `job_name: meshdrill`, at
/// `metrics_path`) every second, and waits (at most 20 s) until it is ready.
pub fn start(dir: &Path, targets: &[SocketAddr], metrics_path: &str) -> Prometheus {
    let web = free_port();
    let config = dir.join("prometheus.yml");
    let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: meshdrill\n    metrics_path: {metrics_path}\n    static_configs:\n      - targets: [{}]\n",
            list.join(", ")
        ),
    )
    .unwrap();
    let child = Command::new(BINARY)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={web}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let prometheus = Prometheus { child, web };
    let ready = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(200));
        get(web, "/-/ready").is_some_and(|(head, _)| head.contains(" 200"))
    });
    assert!(ready, "prometheus never became ready on {web}");
    prometheus
}
