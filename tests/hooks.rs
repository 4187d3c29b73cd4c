//! Hooks never hang a drill (issue 11): a hook runs in a process group of
//! its own, its timeout and the run's end end the whole group, a background
//! child neither holds the run nor outlives it (unless `detach = true`),
//! and what it left running is named in the results. Every test sleeps for
//! a duration of its own (`sleep 1004.5`) and checks `/proc` for it at the
//! end, so none leaves a process behind unnoticed.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use meshdrill::run::RunOutput;
use meshdrill::scenario::{FaultAction, FaultPlan, HookCommand, Plan};
use meshdrill::sim::Cluster;

/// A generous bound that catches a hang, never a slow machine.
const HANG: Duration = Duration::from_secs(40);

fn shell_hook(name: &str, at_ms: u64, inject: &str, timeout: Duration, detach: bool) -> FaultPlan {
    FaultPlan {
        name: name.into(),
        at: Duration::from_millis(at_ms),
        restore_at: None,
        action: FaultAction::Hook {
            inject: HookCommand::Shell(inject.into()),
            restore: None,
            timeout,
            target: None,
            detach,
        },
    }
}

fn short_run(seconds: u64, fault: FaultPlan) -> Plan {
    let mut p = plan(
        "hooks",
        vec![sim_target("primary", Cluster::Primary)],
        rate(20.0),
        Duration::from_secs(seconds),
    );
    p.faults = vec![fault];
    p
}

/// Runs `plan` in-process, failing (after cleaning up) if it hangs.
async fn run_bounded(plan: Plan, dir: &Path, sleeps: &[&str]) -> RunOutput {
    match tokio::time::timeout(HANG, run_in(plan, dir)).await {
        Ok(out) => out,
        Err(_) => {
            for s in sleeps {
                kill_sleeping(s);
            }
            panic!("the run did not end within {HANG:?}");
        }
    }
}

fn journal(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("faults.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Issue 11: `sleep 1004 & echo started` exited 0 in 2 ms, and the 10 s run
/// ended only when the sleep was killed, at ~25 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_child_does_not_delay_the_end_of_a_short_run() {
    let dir = tempfile::tempdir().unwrap();
    let fault = shell_hook(
        "port-forward",
        200,
        "sleep 1004.5 & echo started",
        Duration::from_secs(60),
        false,
    );
    let out = run_bounded(short_run(2, fault), dir.path(), &["1004.5"]).await;
    assert_eq!(
        kill_sleeping("1004.5"),
        [] as [i32; 0],
        "ended at the run's end"
    );
    assert!(!out.summary.interrupted);
    assert_eq!(out.summary.seconds, 2);
    let f = &out.summary.faults[0];
    let hook = f.inject_hook.as_ref().unwrap();
    assert!(hook.succeeded(), "{hook:?}");
    assert_eq!(f.error, None);
    assert_eq!(hook.stdout, "started\n");
    assert_eq!(hook.left_running.len(), 1, "{hook:?}");
    assert_eq!(hook.left_running[0].program, "sleep");
    assert!(!hook.detached);
    let ended = hook.left_running_ended_ms.expect("ended at the run's end");
    assert!(
        ended >= 2000.0,
        "ended at {ended} ms, traffic until 2000 ms"
    );
    let line = meshdrill::report::table::fault_line(f);
    let pid = hook.left_running[0].pid;
    assert!(
        line.ends_with(&format!(
            "; inject left running: {pid} sleep, ended at {:.3}s",
            ended / 1000.0
        )),
        "{line}"
    );

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    let recorded = &summary["faults"][0]["inject_hook"];
    assert_eq!(recorded["left_running"][0]["program"], "sleep");
    assert_eq!(recorded["left_running"][0]["pid"], hook.left_running[0].pid);
    assert_eq!(recorded["left_running_ended_ms"], ended);
    let lines = journal(dir.path());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["hook"]["left_running"][0]["program"], "sleep");
    assert_eq!(lines[0]["hook"]["detached"], false);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        html.contains(&format!(
            "<p>left running: {pid} sleep · ended at {:.3} s</p>",
            ended / 1000.0
        )),
        "report.html names what the hook left running"
    );
}

/// Issue 11: with `timeout = "2s"` sh was killed, both sleeps survived
/// holding its pipes, and the run never finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_timeout_kills_its_children_and_the_run_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let fault = shell_hook(
        "hung",
        200,
        "sleep 1002.5 & sleep 1003.5; echo done",
        Duration::from_secs(2),
        false,
    );
    let out = run_bounded(short_run(4, fault), dir.path(), &["1002.5", "1003.5"]).await;
    let left = [kill_sleeping("1002.5"), kill_sleeping("1003.5")].concat();
    assert_eq!(left, [] as [i32; 0], "both sleeps were killed with sh");
    let f = &out.summary.faults[0];
    let hook = f.inject_hook.as_ref().unwrap();
    assert!(hook.timed_out, "{hook:?}");
    assert_eq!(hook.stdout, "");
    assert!(hook.left_running.is_empty(), "{hook:?}");
    assert_eq!(
        f.error.as_deref(),
        Some("inject failed: `sleep 1002.5 & sleep 1003.5; echo done` timed out (killed)")
    );
    assert!(dir.path().join("summary.json").exists());
    assert_eq!(out.summary.seconds, 4, "the last second is written");
    let rows = timeline(dir.path());
    assert!(
        rows.iter()
            .any(|r| r["second"] == "3" && r["target"] == "primary"),
        "second 3 in timeline.csv"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_hook_leaves_its_processes_running_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let fault = shell_hook(
        "rollout",
        200,
        "sleep 1009.5 & echo started",
        Duration::from_secs(60),
        true,
    );
    let out = run_bounded(short_run(1, fault), dir.path(), &["1009.5"]).await;
    let left = kill_sleeping("1009.5");
    let hook = out.summary.faults[0].inject_hook.as_ref().unwrap();
    assert!(hook.detached, "{hook:?}");
    assert_eq!(hook.left_running_ended_ms, None);
    assert_eq!(
        hook.left_running.iter().map(|p| p.pid).collect::<Vec<_>>(),
        left,
        "the detached sleep was still running after the run"
    );
    assert_eq!(left.len(), 1);
    assert_eq!(journal(dir.path())[0]["hook"]["detached"], true);
    let line = meshdrill::report::table::fault_line(&out.summary.faults[0]);
    assert!(
        line.ends_with(&format!(
            "; inject left running: {} sleep, still running (detach = true)",
            left[0]
        )),
        "{line}"
    );
}

/// An inject still running when traffic ends is ended with the run (its
/// group), not awaited until its timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inject_still_running_at_the_runs_end_is_ended_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let fault = shell_hook(
        "slow",
        200,
        "sleep 1010.5; echo finished",
        Duration::from_secs(600),
        false,
    );
    let out = run_bounded(short_run(1, fault), dir.path(), &["1010.5"]).await;
    assert_eq!(kill_sleeping("1010.5"), [] as [i32; 0]);
    let f = &out.summary.faults[0];
    let hook = f.inject_hook.as_ref().unwrap();
    assert!(hook.cut_by_run_end && !hook.timed_out, "{hook:?}");
    assert_eq!(
        f.error.as_deref(),
        Some(
            "inject failed: `sleep 1010.5; echo finished` still running when the run ended (killed)"
        )
    );
    assert!(hook.ended_ms >= 1000.0, "{hook:?}");
}
