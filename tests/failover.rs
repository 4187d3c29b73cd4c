//! Failover evidence (issue 10, "What to build"): with the simulator's
//! `cross-cluster` fault, the primary ingress serves pages from the
//! secondary cluster's reviews. The run must say the primary's home was
//! `primary`, that pages came from `secondary` within one request interval
//! of the inject, each cluster's share in the fault window, and that
//! `primary` came back after the restore — in summary.json, on the console
//! and in report.html.

mod common;

use std::time::Duration;

use common::*;
use meshdrill::sim::{Cluster, SimFault};
use serde_json::Value;

/// 50/s per target (20 ms apart): a busy machine sends that on time.
const INTERVAL_MS: f64 = 20.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_cluster_fails_over_within_one_request_and_fails_back_after_the_restore() {
    let mut p = plan(
        "cross-cluster",
        vec![
            sim_target("primary", Cluster::Primary),
            sim_target("secondary", Cluster::Secondary),
        ],
        rate(50.0),
        Duration::from_secs(7),
    );
    p.faults = vec![sim_fault(
        "link-down",
        Cluster::Primary,
        SimFault::CrossCluster,
        2000,
        Some(5000),
    )];
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(p, dir.path()).await;
    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();

    let fault = &summary["faults"][0];
    let ms = |key: &str| fault[key].as_f64().unwrap();
    let (injected, inject_done) = (ms("injected_at_ms"), ms("inject_done_ms"));
    let (restore_start, restore_done) = (ms("restored_at_ms"), ms("restore_done_ms"));
    let outage = &summary["outages"][0];
    let scope = |name: &str| {
        outage["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["scope"] == name)
            .unwrap()
    };

    let f = &scope("primary")["failover"];
    assert_eq!(f["home"], serde_json::json!(["primary"]), "{f:#}");
    assert_eq!(f["failover_to"], "secondary", "{f:#}");
    // Requests intended between the hook's start and the sim's switch may
    // still be served by the primary: the bound is one interval after that.
    let at = f["failover_at_ms"].as_f64().unwrap();
    assert!(
        at >= injected.floor() && at <= inject_done + INTERVAL_MS,
        "failover at {at} ms; injected {injected} → {inject_done} ms"
    );
    assert_eq!(
        f["time_to_failover_ms"].as_f64().unwrap(),
        at - outage["t0_ms"].as_f64().unwrap()
    );

    // Every page from T0's second to the restore's, by cluster, exactly as
    // timeline.csv has them; all but the few sent before T0 from secondary.
    let rows = timeline(dir.path());
    let (from, to) = (
        f["window_from_second"].as_u64().unwrap(),
        f["window_to_second"].as_u64().unwrap(),
    );
    assert_eq!((from, to), (2, 5), "T0's second to the restore's end");
    let in_window = |cluster: &str| -> u64 {
        rows.iter()
            .filter(|r| r["target"] == "primary" && (from..to).contains(&num(r, "second")))
            .map(|r| num(r, &format!("cluster_{cluster}")))
            .sum()
    };
    let (primary, secondary) = (in_window("primary"), in_window("secondary"));
    assert_eq!(f["pages_during"], primary + secondary);
    let during = f["during"].as_array().unwrap();
    let share = |cluster: &str| {
        during
            .iter()
            .find(|c| c["cluster"] == cluster)
            .map_or(0.0, |c| c["share_pct"].as_f64().unwrap())
    };
    let expected = 100.0 * secondary as f64 / (primary + secondary) as f64;
    assert!((share("secondary") - expected).abs() < 1e-9);
    // Only pages intended before the sim switched (the inject hook's end)
    // can come from the primary: a busy machine may start the hook late,
    // so the bound is the slots up to then, plus one at the boundary.
    let before_switch = ((inject_done - (from * 1000) as f64) / INTERVAL_MS).ceil() as u64 + 1;
    assert!(
        primary <= before_switch,
        "{primary} primary pages in the window, {before_switch} intended before the switch at {inject_done} ms: {during:?}"
    );
    assert!(secondary > 0, "{during:?}");

    // Home came back with the first request sent after the restore; one
    // sent just before it but held back by a busy machine may come back
    // from home too (by intended time it is earlier).
    let back = f["failback_at_ms"].as_f64().expect("failback reported");
    let restore_second = (restore_start / 1000.0) as u64;
    let late_around_restore: u64 = rows
        .iter()
        .filter(|r| r["target"] == "primary")
        .filter(|r| (restore_second - 1..=restore_second).contains(&num(r, "second")))
        .map(|r| num(r, "late"))
        .sum();
    let earliest = if late_around_restore == 0 {
        restore_start - 2.0 * INTERVAL_MS
    } else {
        (restore_second as f64 - 1.0) * 1000.0
    };
    assert!(
        back >= earliest && back <= restore_done + INTERVAL_MS,
        "failback at {back} ms; restore {restore_start} → {restore_done} ms"
    );
    assert_eq!(
        f["failback_after_ms"].as_f64().unwrap(),
        back - outage["t0_ms"].as_f64().unwrap()
    );

    // The control: home secondary, never moved.
    let control = &scope("secondary")["failover"];
    assert_eq!(control["home"], serde_json::json!(["secondary"]));
    assert_eq!(control["failover_at_ms"], Value::Null);
    assert_eq!(control["failback_at_ms"], Value::Null);
    assert!(scope("all")["failover"].is_null());

    let table = meshdrill::report::table::table(&out.summary, "dir");
    let lines: Vec<&str> = table.lines().collect();
    let first = lines
        .iter()
        .position(|l| {
            l.trim_start()
                .starts_with("primary: home primary → secondary after")
        })
        .unwrap_or_else(|| panic!("{table}"));
    // The line with the lines it wrapped onto (indented deeper).
    let indent = |l: &str| l.len() - l.trim_start().len();
    let wrapped = lines[first + 1..]
        .iter()
        .take_while(|l| indent(l) > indent(lines[first]));
    let line = std::iter::once(&lines[first])
        .chain(wrapped)
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(line.contains("failback at"), "{line}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("<h2>Failover: which cluster answered</h2>"));
}
