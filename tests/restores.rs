//! Restores (issue 10, item 7): a fault keeps its restore's start and end,
//! the console and report.html print both, the charts' band runs to the
//! restore's end, and a restore that failed or never ran reads FAILED.

mod common;

use std::time::Duration;

use common::*;
use meshdrill::assess::assess;
use meshdrill::drill::FaultRecord;
use meshdrill::report::charts::ChartData;
use meshdrill::report::table::fault_line;
use meshdrill::results::Results;
use meshdrill::scenario::RecoveryRule;
use meshdrill::scenario::{FaultAction, FaultPlan, HookCommand, SloPlan};
use meshdrill::sim::Cluster;
use serde_json::Value;

fn shell_hook(name: &str, at_ms: u64, restore: &str, restore_ms: u64) -> FaultPlan {
    FaultPlan {
        name: name.into(),
        at: Duration::from_millis(at_ms),
        restore_at: Some(Duration::from_millis(restore_ms)),
        action: FaultAction::Hook {
            inject: HookCommand::Shell("true".into()),
            restore: Some(HookCommand::Shell(restore.into())),
            timeout: Duration::from_secs(10),
            target: Some("primary".into()),
            detach: false,
        },
    }
}

/// `18.001s`, as the console prints a run-clock instant.
fn at(ms: Option<f64>) -> String {
    format!("{:.3}s", ms.unwrap() / 1000.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restores_are_stamped_from_start_to_end_and_a_failed_one_reads_failed() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = plan(
        "restores",
        vec![sim_target("primary", Cluster::Primary)],
        rate(20.0),
        Duration::from_secs(4),
    );
    p.faults = vec![
        shell_hook("slow-restore", 500, "sleep 0.5", 1500),
        shell_hook("bad-restore", 700, "echo cannot scale up >&2; exit 3", 1700),
    ];
    let out = run_in(p, dir.path()).await;
    let (slow, bad) = (&out.summary.faults[0], &out.summary.faults[1]);

    // The slow restore: its end is at least the hook's 0.5 s after its start.
    let (started, done) = (slow.restored_at_ms.unwrap(), slow.restore_done_ms.unwrap());
    assert!(done - started >= 500.0, "{started} → {done}");
    assert!(!slow.restore_failed);
    assert_eq!(slow.error, None);
    let line = fault_line(slow);
    assert!(
        line.contains(&format!(
            "restore {} → {} (planned 1.500s)",
            at(slow.restored_at_ms),
            at(slow.restore_done_ms)
        )),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "inject {} → {} (planned 0.500s)",
            at(slow.injected_at_ms),
            at(slow.inject_done_ms)
        )),
        "{line}"
    );
    assert!(!line.contains("FAILED"), "{line}");

    // The failed restore: FAILED everywhere.
    assert!(bad.restore_failed);
    assert_eq!(
        bad.error.as_deref(),
        Some("restore failed: `echo cannot scale up >&2; exit 3` exit 3: cannot scale up")
    );
    let line = fault_line(bad);
    assert!(
        line.contains(&format!(
            "restore {} → {} (planned 1.700s) FAILED",
            at(bad.restored_at_ms),
            at(bad.restore_done_ms)
        )),
        "{line}"
    );
    let table = meshdrill::report::table::table(&out.summary, "x");
    // The table wraps long lines to the console's width.
    let fit = |line: String| meshdrill::report::width::fit(&line, 2);
    assert!(table.contains(&fit(fault_line(slow))), "{table}");
    assert!(table.contains(&fit(fault_line(bad))), "{table}");

    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["faults"][0]["restore_failed"], false);
    assert_eq!(summary["faults"][1]["restore_failed"], true);
    assert_eq!(summary["faults"][0]["restore_done_ms"], done);

    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let s = |ms: f64| format!("{:.3} s", ms / 1000.0);
    assert!(
        html.contains(&format!(
            "restore {} → {} (planned 1.500 s)</p>",
            s(started),
            s(done)
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "restore {} → {} (planned 1.700 s) <span class=\"fail\">FAILED</span>",
            s(bad.restored_at_ms.unwrap()),
            s(bad.restore_done_ms.unwrap())
        )),
        "{html}"
    );

    // The charts' bands run from the inject's start to the restore's end.
    let results = Results::load(dir.path()).unwrap();
    let assessment = assess(&results, &RecoveryRule::default(), &SloPlan::default());
    let data = ChartData::read(&results, &assessment);
    assert_eq!(data.windows.len(), 2);
    assert_eq!(data.windows[0].name, "slow-restore");
    assert_eq!(
        data.windows[0].from_s,
        slow.injected_at_ms.unwrap() / 1000.0
    );
    assert_eq!(data.windows[0].to_s, done / 1000.0);
    assert_eq!(data.windows[1].name, "bad-restore (restore FAILED)");
    assert_eq!(data.windows[1].to_s, bad.restore_done_ms.unwrap() / 1000.0);
}

#[test]
fn a_restore_that_did_not_run_reads_failed() {
    let f = FaultRecord {
        name: "scale-down".into(),
        action: "kubectl scale".into(),
        planned_at_ms: 10_000.0,
        injected_at_ms: Some(10_002.0),
        inject_done_ms: Some(10_840.0),
        planned_restore_ms: Some(20_000.0),
        restore_failed: true,
        error: Some("restore did not run".into()),
        ..FaultRecord::default()
    };
    assert_eq!(
        fault_line(&f),
        "fault scale-down: kubectl scale, inject 10.002s → 10.840s (planned 10.000s), \
         restore FAILED: did not run (planned 20.000s) — ERROR: restore did not run"
    );
    let ran = FaultRecord {
        restored_at_ms: Some(20_001.0),
        restore_done_ms: Some(49_512.0),
        restore_failed: false,
        error: None,
        ..f
    };
    assert_eq!(
        fault_line(&ran),
        "fault scale-down: kubectl scale, inject 10.002s → 10.840s (planned 10.000s), \
         restore 20.001s → 49.512s (planned 20.000s)"
    );
}
