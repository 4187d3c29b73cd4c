//! Ctrl-C mid-drill: the process exits 130 and every file is complete and
//! consistent with the others.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{num, spawn_run, timeline};

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
    let total = summary["targets"][0]["requests"].as_u64().unwrap();
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
