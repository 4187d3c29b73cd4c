//! Ctrl-C mid-drill: the process exits 130 and every file is complete and
//! consistent with the others; requests in flight at the interrupt are
//! counted, as `abandoned`, in the seconds they were sent in.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{http_target, num, plan, rate, spawn_run, timeline};
use meshdrill::outcome::Kind;
use meshdrill::run::{RunOptions, run};
use meshdrill::scenario::SloPlan;
use meshdrill::scenario::SloSpec;
use tokio_util::sync::CancellationToken;

#[test]
fn sigint_mid_run_leaves_complete_consistent_files() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("long.toml");
    std::fs::write(
        &scenario,
        r#"
[[target]]
name = "primary"
url = "sim:primary"

[[target]]
name = "secondary"
url = "sim:secondary"

[load]
model = "rate"
rate = 100
duration = "60s"
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let mut child = spawn_run(&scenario, &out, Stdio::null());
    // Wait for the line of second 2: three seconds are on disk by then.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let mut seen = Vec::new();
    loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "meshdrill ended early: {seen:?}"
        );
        seen.push(line.clone());
        if line.starts_with("[   2s]") {
            break;
        }
        assert!(
            seen.len() < 100,
            "no per-second line for second 2: {seen:?}"
        );
    }
    let status = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["interrupted"], true);
    let seconds = summary["seconds"].as_u64().unwrap();
    assert!((3..60).contains(&seconds), "{seconds} seconds written");
    let rows = timeline(&out);
    assert_eq!(
        rows.len() as u64,
        seconds * 3,
        "every second has all its rows"
    );
    for (i, target) in ["primary", "secondary"].iter().enumerate() {
        let t = &summary["targets"][i];
        let sent: u64 = rows
            .iter()
            .filter(|r| r["target"] == *target)
            .map(|r| num(r, "sent"))
            .sum();
        assert_eq!(sent, t["requests"].as_u64().unwrap(), "{target}");
        assert!(sent >= 300, "{target}: {sent}");
        let full: Vec<u64> = rows
            .iter()
            .filter(|r| r["target"] == *target)
            .map(|r| num(r, "sent"))
            .take(seconds as usize - 2)
            .collect();
        // The last second is cut by the interrupt, and the one before it may
        // lose a request that was in flight at that instant (abandoned).
        assert!(
            full.iter().all(|&n| n == 100),
            "{target}: full seconds have every request: {full:?}"
        );
    }
    let hgrm = std::fs::read_to_string(out.join("latency-primary.hgrm")).unwrap();
    // Requests still in flight at the interrupt have no latency.
    let t = &summary["targets"][0];
    let total = t["requests"].as_u64().unwrap() - t["outcomes"]["abandoned"].as_u64().unwrap();
    assert!(
        hgrm.contains(&format!("Total count    = {total:>12}]")),
        "{hgrm}"
    );
    let hlog = std::fs::read_to_string(out.join("latency.hlog")).unwrap();
    assert_eq!(
        hlog.lines().filter(|l| l.starts_with("Tag=")).count() as u64,
        seconds * 2
    );
}

/// Issue 12: a target that accepts and never answers, 50 requests a second
/// with a 30 s timeout, interrupted (the run's CancellationToken) after
/// about 2.5 s of traffic. Every request sent is in flight at the stop:
/// each is counted as `abandoned` in the second it was sent in (the
/// timeline used to read `sent=0` there), and none is judged: no
/// availability, no failure, no latency, criteria as with nothing judged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_at_the_interrupt_are_counted_in_their_seconds() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (accepted_tx, mut accepted) = tokio::sync::watch::channel(0usize);
    // Accepts and holds every connection, reading nothing, answering nothing.
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
            accepted_tx.send_replace(held.len());
        }
    });

    let dir = tempfile::tempdir().unwrap();
    let mut p = plan(
        "blackhole",
        vec![http_target("primary", addr)],
        rate(50.0),
        Duration::from_secs(60),
    );
    p.load.timeout = Duration::from_secs(30);
    p.slo = SloPlan {
        all: Some(SloSpec {
            availability_min_pct: Some(99.0),
            max_failed_requests: Some(0),
            error_rate_max_pct: Some(1.0),
            p99_max_ms: Some(500.0),
            ..SloSpec::default()
        }),
        targets: Vec::new(),
    };
    let options = RunOptions {
        plan: p,
        out_dir: Some(dir.path().to_path_buf()),
        quiet: true,
        lanes_per_target: None,
        markers: false,
        metrics: None,
        shard: meshdrill::engine::schedule::Shard::WHOLE,
        hooks_on: 0,
    };
    let stop = CancellationToken::new();
    let running = tokio::spawn(run(options, stop.clone()));
    // 125 connections: the schedule is past 2.5 s, so seconds 0 and 1 are
    // wholly sent (each lane sends its slots in order). Awaited, not timed.
    tokio::time::timeout(Duration::from_secs(60), accepted.wait_for(|n| *n >= 125))
        .await
        .expect("the run sends to the target")
        .unwrap();
    stop.cancel();
    let output = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("an interrupted run ends without waiting for its timeouts")
        .unwrap()
        .expect("run succeeds");
    server.abort();

    let summary = serde_json::to_value(&output.summary).unwrap();
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["outcomes_after_row_written"], 0);
    let rows = timeline(dir.path());
    let seconds = summary["seconds"].as_u64().unwrap();
    assert_eq!(
        rows.len() as u64,
        seconds * 2,
        "a primary and an all row per second"
    );
    let primary: Vec<_> = rows.iter().filter(|r| r["target"] == "primary").collect();
    let kinds = |r: &std::collections::HashMap<String, String>| -> u64 {
        Kind::ALL.iter().map(|k| num(r, k.name())).sum()
    };
    // What the timeline used to lose: these seconds read `sent=0`.
    for second in ["0", "1"] {
        let r = primary.iter().find(|r| r["second"] == second).unwrap();
        assert_eq!(num(r, "planned"), 50);
        assert_eq!(
            num(r, "sent"),
            50,
            "second {second} was wholly sent before the stop"
        );
    }
    for r in &primary {
        let second = &r["second"];
        let sent = num(r, "sent");
        assert_eq!(
            sent,
            kinds(r),
            "second {second}: sent is the sum over kinds"
        );
        assert_eq!(
            num(r, "abandoned"),
            sent,
            "second {second}: nothing answered"
        );
        assert_eq!(
            num(r, "failed"),
            0,
            "second {second}: an interrupt is no failure"
        );
        assert_eq!(
            (num(r, "late"), num(r, "not_sent")),
            (0, 0),
            "second {second}"
        );
        for column in [
            "availability_pct",
            "p50_ms",
            "p99_ms",
            "max_ms",
            "first_failure_ms",
        ] {
            assert_eq!(
                r[column], "",
                "second {second}: {column} with nothing judged"
            );
        }
    }
    for second in ["0", "1"] {
        let r = primary.iter().find(|r| r["second"] == second).unwrap();
        assert_eq!(num(r, "planned"), 50);
        assert_eq!(
            num(r, "sent"),
            50,
            "second {second} was wholly sent before the stop"
        );
        assert_eq!(num(r, "abandoned"), 50, "second {second}");
    }
    let sent: u64 = primary.iter().map(|r| num(r, "sent")).sum();
    let abandoned: u64 = primary.iter().map(|r| num(r, "abandoned")).sum();
    assert!(sent >= 100, "{sent}");
    assert_eq!(abandoned, sent);
    assert_eq!(summary["abandoned_in_flight"].as_u64(), Some(abandoned));
    let all_abandoned: u64 = rows
        .iter()
        .filter(|r| r["target"] == "all")
        .map(|r| num(r, "abandoned"))
        .sum();
    assert_eq!(all_abandoned, abandoned);

    let t = &summary["targets"][0];
    assert_eq!(t["requests"].as_u64(), Some(sent));
    assert_eq!(t["outcomes"]["abandoned"].as_u64(), Some(sent));
    assert_eq!((t["ok"].as_u64(), t["failed"].as_u64()), (Some(0), Some(0)));
    assert_eq!(t["availability_pct"], serde_json::Value::Null);
    assert_eq!(t["latency_ms"], serde_json::Value::Null);
    assert_eq!(t["failures"], serde_json::json!({}));
    assert_eq!(t["generator"]["late"], 0);
    let hgrm = std::fs::read_to_string(dir.path().join("latency-primary.hgrm")).unwrap();
    assert!(
        hgrm.contains(&format!("Total count    = {:>12}]", 0)),
        "{hgrm}"
    );

    // The criteria read as with nothing judged: no failure, no
    // availability, no error rate, no latency; only `answered` sees sends.
    let verdict = &summary["verdict"];
    assert_eq!(verdict["status"], "fail", "{verdict}");
    let criteria: Vec<(String, String, bool)> = verdict["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["measured"].as_str().unwrap().to_string(),
                c["pass"].as_bool().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("availability_min_pct", "no requests".to_string(), false),
        ("max_failed_requests", "0".to_string(), true),
        ("error_rate_max_pct", "no requests".to_string(), false),
        ("p99_max_ms", "no requests".to_string(), false),
        ("answered", format!("0 of {sent} ok"), false),
    ];
    let expected: Vec<(String, String, bool)> = expected
        .into_iter()
        .map(|(n, m, p)| (n.to_string(), m, p))
        .collect();
    assert_eq!(criteria, expected, "{verdict}");
    // No failure, so no outage: T0 is the first failure and there is none.
    let outages = summary["outages"].as_array().unwrap();
    assert_eq!(outages.len(), 1, "{outages:?}");
    for scope in outages[0]["scopes"].as_array().unwrap() {
        assert_eq!(scope["recovery"]["state"], "no_outage", "{scope}");
        assert_eq!(
            (&scope["t0_ms"], &scope["failed"]),
            (&serde_json::Value::Null, &serde_json::json!(0))
        );
        assert!(
            scope["failed_by_kind"].get("abandoned").is_none(),
            "{scope}"
        );
        let before = &scope["before"];
        assert_eq!(before["requests"].as_u64(), Some(sent), "{scope}");
        assert_eq!(
            (&before["failed"], &before["availability_pct"]),
            (&serde_json::json!(0), &serde_json::Value::Null)
        );
    }
}
