//! Every target's figures over every fault window (issue 10, item 8): the
//! demo's shape (primary down, secondary the control) run in-process against
//! the simulator; the control's availability while the primary was down is
//! in summary.json, on the console and in report.html.

mod common;

use std::time::Duration;

use common::*;
use meshdrill::scenario::RecoveryRule;
use meshdrill::sim::{Cluster, SimFault};
use serde_json::Value;

/// The demo, shorter and slower (a busy machine sends 50/s on time):
/// primary `down` 3 s → 8 s of a 12 s run, recovered after 3 good seconds.
fn demo_like() -> meshdrill::scenario::Plan {
    let mut p = plan(
        "demo-like",
        vec![
            sim_target("primary", Cluster::Primary),
            sim_target("secondary", Cluster::Secondary),
        ],
        rate(50.0),
        Duration::from_secs(12),
    );
    p.faults = vec![sim_fault(
        "primary-down",
        Cluster::Primary,
        SimFault::Down,
        3000,
        Some(8000),
    )];
    p.recovery = RecoveryRule {
        window: 3,
        threshold_pct: 99.0,
    };
    p
}

/// The cells of each row of the table that follows `heading` in the page.
fn table_after(html: &str, heading: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("<h2>{heading}</h2>"))
        .unwrap_or_else(|| panic!("no {heading} section"));
    let rest = &html[start..];
    let table = &rest[..rest.find("</table>").unwrap()];
    table
        .split("<tr>")
        .skip(2) // before the table, the heading row
        .map(|row| {
            row.split("<td>")
                .skip(1)
                .map(|cell| cell[..cell.find("</td>").unwrap()].to_string())
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_secondary_holds_while_primary_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(demo_like(), dir.path()).await;

    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["faults"][0]["target"], "primary");
    let outage = &summary["outages"][0];
    assert_eq!(outage["fault"], "primary-down");
    assert_eq!(outage["faulted_scope"], "primary");
    // From the inject's second to the primary's recovery second, excluded.
    assert_eq!(
        outage["window"],
        serde_json::json!({"from_second": 3, "to_second": 8, "ends": "recovered"})
    );
    let scope = |name: &str| {
        outage["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["scope"] == name)
            .unwrap_or_else(|| panic!("no scope {name}"))["in_window"]
            .clone()
    };
    let (primary, secondary, all) = (scope("primary"), scope("secondary"), scope("all"));
    // Five seconds at 50/s, by intended send time.
    assert_eq!(primary["requests"], 250);
    assert_eq!(secondary["requests"], 250);
    assert_eq!(all["requests"], 500);
    assert_eq!(secondary["availability_pct"], 100.0);
    assert_eq!(secondary["failed"], 0);
    assert!(secondary["latency_ms"]["p99"].as_f64().is_some());
    let primary_pct = primary["availability_pct"].as_f64().unwrap();
    assert!(primary_pct <= 1.0, "primary {primary_pct} % while down");
    let by_kind = primary["failed_by_kind"].as_object().unwrap();
    let kinds_sum: u64 = by_kind.values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(kinds_sum, primary["failed"].as_u64().unwrap());
    assert!(
        by_kind["refused"].as_u64().unwrap() >= 240,
        "a closed listener refuses: {by_kind:?}"
    );
    assert_eq!(
        all["failed"].as_u64().unwrap(),
        primary["failed"].as_u64().unwrap()
    );

    // The console says the same.
    let table = meshdrill::report::table::table(&out.summary, "x");
    let during = &table[table
        .find("during primary-down (3 s → 8 s, until primary recovered):")
        .unwrap_or_else(|| panic!("{table}"))..];
    let line = |scope: &str| {
        during
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{scope} ")))
            .unwrap_or_else(|| panic!("no {scope} row: {during}"))
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(&line("secondary")[1..5], ["250", "250", "0", "100.00"]);
    assert_eq!(line("primary")[1], "250");

    // And report.html.
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let rows = table_after(&html, "Every target during each fault");
    assert_eq!(rows.len(), 3, "{rows:?}");
    let row = |scope: &str| rows.iter().find(|r| r[2] == scope).unwrap().clone();
    let secondary_row = row("secondary");
    assert_eq!(secondary_row[0], "primary-down");
    assert_eq!(
        secondary_row[1], "3 s → 8 s (until primary recovered)",
        "{secondary_row:?}"
    );
    assert_eq!(secondary_row[3..6], ["250", "100.00 %", "0"]);
    let primary_row = row("primary");
    let shown: f64 = primary_row[4].trim_end_matches(" %").parse().unwrap();
    assert!(shown <= 1.0, "{primary_row:?}");
    assert!(primary_row[6].contains("refused"), "{primary_row:?}");
    let rto = table_after(&html, "Measured RTO");
    let secondary_rto = rto.iter().find(|r| r[1] == "secondary").unwrap();
    assert_eq!(secondary_rto[5], "100.00 %", "{secondary_rto:?}");
}
