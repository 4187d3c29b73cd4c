//! Fault hooks on the run clock: stamped, journaled, failures loud, and a
//! pending restore still runs when the drill is interrupted.

mod common;

use std::time::Duration;

use common::*;
use meshdrill::run::{RunOptions, run};
use meshdrill::scenario::{FaultAction, FaultPlan, HookCommand};
use meshdrill::sim::Cluster;
use tokio_util::sync::CancellationToken;

fn hook(
    name: &str,
    at_ms: u64,
    inject: HookCommand,
    restore: Option<(HookCommand, u64)>,
) -> FaultPlan {
    FaultPlan {
        name: name.into(),
        at: Duration::from_millis(at_ms),
        restore_at: restore.as_ref().map(|(_, ms)| Duration::from_millis(*ms)),
        action: FaultAction::Hook {
            inject,
            restore: restore.map(|(c, _)| c),
            timeout: Duration::from_secs(10),
            target: Some("primary".into()),
            detach: false,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_hook_is_reported_and_journaled() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = plan(
        "hooks",
        vec![sim_target("primary", Cluster::Primary)],
        rate(50.0),
        Duration::from_secs(2),
    );
    p.faults = vec![hook(
        "breaks",
        500,
        HookCommand::Shell("echo injecting; echo no such pod >&2; exit 3".into()),
        Some((HookCommand::Argv(vec!["true".into()]), 1500)),
    )];
    let out = run_in(p, dir.path()).await;
    let f = &out.summary.faults[0];
    let inject = f.inject_hook.as_ref().unwrap();
    assert_eq!(inject.exit_code, Some(3));
    assert_eq!(inject.stdout, "injecting\n");
    assert_eq!(
        f.error.as_deref(),
        Some("inject failed: `echo injecting; echo no such pod >&2; exit 3` exit 3: no such pod")
    );
    let at = f.injected_at_ms.unwrap();
    assert!(
        (500.0..560.0).contains(&at),
        "injected at {at} ms, planned 500"
    );
    let restored = f.restored_at_ms.unwrap();
    assert!(
        (1500.0..1560.0).contains(&restored),
        "restored at {restored} ms, planned 1500"
    );
    assert!(f.restore_hook.as_ref().unwrap().succeeded());
    assert!(!f.restored_early);

    let journal = std::fs::read_to_string(dir.path().join("faults.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["step"], "inject");
    assert_eq!(lines[0]["ok"], false);
    assert_eq!(lines[0]["hook"]["exit_code"], 3);
    assert_eq!(lines[1]["step"], "restore");
    assert_eq!(lines[1]["ok"], true);

    let table = meshdrill::report::table::table(&out.summary, "x");
    assert!(table.contains("ERROR: inject failed"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_restores_what_was_broken() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("restored");
    let mut p = plan(
        "interrupted",
        vec![sim_target("primary", Cluster::Primary)],
        rate(20.0),
        Duration::from_secs(30),
    );
    p.faults = vec![
        hook(
            "scale-down",
            200,
            HookCommand::Argv(vec!["true".into()]),
            Some((
                HookCommand::Argv(vec!["touch".into(), marker.display().to_string()]),
                25_000,
            )),
        ),
        hook(
            "later",
            20_000,
            HookCommand::Argv(vec!["false".into()]),
            None,
        ),
    ];
    let stop = CancellationToken::new();
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
    let interrupt = stop.clone();
    // The operator presses Ctrl-C one second into a 30 s drill.
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        interrupt.cancel();
    });
    let out = run(options, stop).await.unwrap();
    assert!(out.summary.interrupted);
    let f = &out.summary.faults[0];
    assert!(f.restored_early, "{f:?}");
    assert!(f.restored_at_ms.unwrap() < 5_000.0);
    assert!(marker.exists(), "the restore command ran");
    assert_eq!(
        out.summary.faults[1].injected_at_ms, None,
        "no new fault after the interrupt"
    );
}
