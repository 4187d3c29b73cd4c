//! `--metrics-listen`: a short sim run scraped over HTTP while it runs; the
//! last scrape (served during `--metrics-linger`) agrees exactly with what
//! summary.json says, and a port already taken stops the run before traffic.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use meshdrill::results::Results;

const SCENARIO: &str = "[[target]]\nname = \"primary\"\nurl = \"sim:primary\"\n\
                        [load]\nmodel = \"rate\"\nrate = 20\nduration = \"3s\"\nmax_late_pct = 100\n";

use common::prometheus::{free_port, get};

fn run(scenario: &Path, out: &Path, listen: SocketAddr, linger: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshdrill"));
    cmd.arg("run")
        .arg(scenario)
        .arg("--quiet")
        .arg("--out")
        .arg(out)
        .arg("--metrics-listen")
        .arg(listen.to_string())
        .arg("--metrics-linger")
        .arg(linger)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    cmd
}

fn value(line: &str) -> u64 {
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn the_last_scrape_matches_the_summary_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("metrics.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = dir.path().join("out");
    let addr = free_port();
    let mut child = run(&scenario, &out, addr, "3s").spawn().unwrap();
    let mut last = None;
    let mut not_found = None;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Some((head, body)) = get(addr, "/metrics") {
            assert!(head.starts_with("HTTP/1.0 200"), "{head}");
            assert!(
                head.to_ascii_lowercase()
                    .contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
                "{head}"
            );
            last = Some(body);
            if not_found.is_none() {
                not_found = get(addr, "/other").map(|(head, _)| head);
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.code().is_some_and(|c| c == 0 || c == 4), "{status}");
    let not_found = not_found.expect("no scrape of /other");
    assert!(not_found.starts_with("HTTP/1.0 404"), "{not_found}");
    let body = last.expect("no scrape of /metrics while the run was on");

    let results = Results::load(&out).unwrap();
    let primary = results
        .summary
        .targets
        .iter()
        .find(|t| t.name == "primary")
        .unwrap();
    assert!(primary.requests > 0);

    let requests: u64 = body
        .lines()
        .filter(|l| l.starts_with("meshdrill_requests_total{target=\"primary\",outcome=\""))
        .map(value)
        .sum();
    assert_eq!(requests, primary.requests, "{body}");
    let one = |prefix: &str| {
        let lines: Vec<&str> = body.lines().filter(|l| l.starts_with(prefix)).collect();
        assert_eq!(lines.len(), 1, "{prefix}: {body}");
        value(lines[0])
    };
    let count = one("meshdrill_request_duration_seconds_count{target=\"primary\"}");
    assert_eq!(count, primary.requests);
    let inf = one("meshdrill_request_duration_seconds_bucket{target=\"primary\",le=\"+Inf\"}");
    assert_eq!(inf, count);
    let buckets: Vec<u64> = body
        .lines()
        .filter(|l| l.starts_with("meshdrill_request_duration_seconds_bucket{target=\"primary\","))
        .map(value)
        .collect();
    assert_eq!(buckets.len(), 14, "{body}");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    let seconds = one("meshdrill_seconds_recorded{target=\"primary\"}");
    assert_eq!(seconds, u64::from(results.summary.seconds), "{body}");
    for kind in [
        "# TYPE meshdrill_requests_total counter",
        "# TYPE meshdrill_request_duration_seconds histogram",
    ] {
        assert!(body.contains(kind), "{body}");
    }
}

#[test]
fn a_taken_port_is_a_usage_error_before_any_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("metrics.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = dir.path().join("out");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let output = run(&scenario, &out, taken.local_addr().unwrap(), "0s")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--metrics-listen") && stderr.contains("cannot listen"),
        "{stderr}"
    );
    assert!(!out.join("timeline.csv").exists());
}

/// A real Prometheus (Debian's `prometheus`; required in CI) scrapes the
/// run every second and ends up with the summary's request count.
#[test]
fn prometheus_scrapes_the_final_counts() {
    if !common::prometheus::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("metrics.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let addr = free_port();
    let prometheus = common::prometheus::start(dir.path(), &[addr], "/metrics");
    let web = prometheus.web;
    let out = dir.path().join("out");
    let status = run(&scenario, &out, addr, "4s").status().unwrap();
    assert!(status.code().is_some_and(|c| c == 0 || c == 4), "{status}");
    let results = Results::load(&out).unwrap();
    let requests = results
        .summary
        .targets
        .iter()
        .find(|t| t.name == "primary")
        .unwrap()
        .requests;
    assert!(requests > 0);
    // The run's end made the series stale (its scrapes fail now), so the
    // query takes each counter's last value over the last minute.
    let query = "/api/v1/query?query=sum(max_over_time(meshdrill_requests_total%7Btarget%3D%22primary%22%7D%5B1m%5D))";
    let (head, body) = get(web, query).expect("prometheus answers");
    assert!(head.contains(" 200"), "{head}\n{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let value = json["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(value.parse::<f64>().unwrap(), requests as f64, "{body}");
}
