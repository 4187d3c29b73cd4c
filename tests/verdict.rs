//! The measured RTO against a known outage, the SLO verdict and its exit
//! code, `meshdrill report` reproducing a run's verdict, and every shipped
//! scenario validating.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use meshdrill::assess::Recovery;
use meshdrill::sim::{Cluster, SimFault};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measured_rto_matches_the_scheduled_outage() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = plan(
        "rto",
        vec![
            sim_target("primary", Cluster::Primary),
            sim_target("secondary", Cluster::Secondary),
        ],
        rate(100.0),
        Duration::from_secs(9),
    );
    p.faults = vec![sim_fault(
        "down",
        Cluster::Primary,
        SimFault::Down,
        1000,
        Some(2500),
    )];
    let out = run_in(p, dir.path()).await;
    let fault = &out.summary.faults[0];
    let truth = fault.restore_done_ms.unwrap() - fault.injected_at_ms.unwrap();
    let outage = &out.summary.outages[0];
    assert_eq!(outage.fault, "down");
    let primary = &outage.scopes[0];
    assert_eq!(primary.scope, "primary");
    assert!(
        matches!(primary.report.recovery, Recovery::Recovered { .. }),
        "{:?}",
        primary.report
    );
    let rto = primary.report.rto_ms.unwrap() as f64;
    // Within one request interval (10 ms at 100/s) + 50 ms of the truth.
    assert!(
        (rto - truth).abs() <= 60.0,
        "measured {rto} ms, true outage {truth:.1} ms"
    );
    assert_eq!(outage.scopes[1].scope, "secondary");
    assert_eq!(outage.scopes[1].report.recovery, Recovery::NoOutage);
    // What users waited before, during and after, from latency.hlog: during
    // the outage the primary answered at once (connection refused).
    let latency = &primary.latency_ms;
    let (before, during, after) = (
        latency.before.as_ref().unwrap(),
        latency.during.as_ref().unwrap(),
        latency.after.as_ref().unwrap(),
    );
    assert!(
        during.p50 < before.p50 && during.p50 < after.p50,
        "{latency:?}"
    );
    assert!(
        before.p50 >= 2.0,
        "the simulator's 2 ms base latency: {before:?}"
    );
}

fn write_scenario(dir: &std::path::Path, slo: &str) -> std::path::PathBuf {
    let path = dir.join("drill.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[[target]]
name = "primary"
url = "sim:primary"
[[target]]
name = "secondary"
url = "sim:secondary"
[load]
rate = 50
duration = "10s"
# These tests are about the SLO verdict; a loaded machine's scheduling
# stalls (tens of ms, a few sends a second) must not turn them INVALID.
max_late_pct = 50
[[fault]]
name = "primary-down"
target = "primary"
sim = "down"
at = "1s"
restore_at = "3s"
{slo}
"#
        ),
    )
    .unwrap();
    path
}

fn meshdrill(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_failed_slo_exits_1_and_names_the_criterion_and_report_reproduces_it() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "[slo.target.primary]\navailability_min = 99.9\nrto_max = \"5s\"\n[slo.target.secondary]\nmax_failed_requests = 0\n",
    );
    let out = dir.path().join("out");
    let run = run_quiet(&scenario, &out);
    let stdout = String::from_utf8(run.stdout).unwrap();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let judged = judged_unless_generator_limited(run.status.code(), 1, &summary, &stdout);
    // The saved folder gives the same outages and verdict, judged or not.
    let report = meshdrill(&["report", out.to_str().unwrap()]);
    assert_eq!(report.status.code(), run.status.code());
    let report_text = String::from_utf8(report.stdout).unwrap();
    let from_run =
        stdout[stdout.find("measured RTO").unwrap()..stdout.find("results:").unwrap()].to_string();
    assert_eq!(report_text.trim(), from_run.trim());
    if !judged {
        return;
    }
    let failing: Vec<&str> = stdout
        .lines()
        .filter(|l| l.ends_with(" FAIL") && !l.starts_with("verdict"))
        .collect();
    assert_eq!(failing.len(), 1, "{stdout}");
    // Columns as wide as their cells: compare the cells, not the spacing.
    assert_eq!(
        failing[0].split_whitespace().take(5).collect::<Vec<_>>(),
        ["availability_min_pct", "primary", "≥", "99.90", "%"],
        "{}",
        failing[0]
    );
    assert!(stdout.contains("verdict: FAIL"));
    let passing = stdout.lines().filter(|l| l.ends_with(" pass")).count();
    assert_eq!(
        passing, 5,
        "rto_max, max_failed_requests, faults_ran and both targets' answered pass: {stdout}"
    );

    // A stricter window moves nothing here but is taken from the flag, and
    // judged into a folder of its own (tests/rejudge.rs has the details).
    let wider = meshdrill(&["report", out.to_str().unwrap(), "--window", "4s"]);
    assert_eq!(wider.status.code(), Some(1));
    assert!(
        String::from_utf8(wider.stdout)
            .unwrap()
            .contains("recovered = 4 s in a row")
    );
    let rejudged: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("rejudged-window-4s-threshold-99/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(rejudged["recovery"]["window"], 4);
    assert_eq!(
        meshdrill(&["report", out.to_str().unwrap(), "--window", "1500ms"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_met_slo_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "[slo.target.secondary]\nmax_failed_requests = 0\navailability_min = 100\n",
    );
    let out = dir.path().join("out");
    let run = run_quiet(&scenario, &out);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    judged_unless_generator_limited(
        run.status.code(),
        0,
        &summary,
        &String::from_utf8_lossy(&run.stdout),
    );
}

#[test]
fn every_shipped_scenario_validates() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        // Documentation addresses only: --check sends nothing anywhere.
        let out = Command::new(env!("CARGO_BIN_EXE_meshdrill"))
            .args(["run", path.to_str().unwrap(), "--check"])
            .env("PRIMARY_INGRESS_IP", "198.51.100.10")
            .env("SECONDARY_INGRESS_IP", "203.0.113.20")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 1);
}
