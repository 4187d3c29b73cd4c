//! Builders shared by the integration tests: plans made in code (no TOML),
//! run in-process against the simulator on 127.0.0.1:0.
#![allow(dead_code)] // each test binary uses a different part of this file

pub mod prometheus;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use meshdrill::run::{RunOptions, RunOutput, run};
use meshdrill::scenario::RecoveryRule;
use meshdrill::scenario::{
    ConnectionPolicy, Endpoint, FaultAction, FaultPlan, HttpEndpoint, LoadModel, LoadPlan, Plan,
    Rate, SloPlan, TargetPlan,
};
use meshdrill::sim::{Cluster, SimConfig, SimFault};
use tokio_util::sync::CancellationToken;

pub fn sim_target(name: &str, cluster: Cluster) -> TargetPlan {
    TargetPlan {
        name: name.to_string(),
        endpoint: Endpoint::Sim {
            cluster,
            path: "/productpage".to_string(),
        },
        connection: ConnectionPolicy::KeepAlive,
        max_connection_age: None,
        follow_redirects: Default::default(),
        transport: Default::default(),
    }
}

pub fn http_target(name: &str, addr: SocketAddr) -> TargetPlan {
    TargetPlan {
        name: name.to_string(),
        endpoint: Endpoint::Http(HttpEndpoint {
            url: format!("http://{addr}/productpage").parse().unwrap(),
            host_header: addr.to_string(),
            connect: None,
        }),
        connection: ConnectionPolicy::KeepAlive,
        max_connection_age: None,
        follow_redirects: Default::default(),
        transport: Default::default(),
    }
}

pub fn rate(per_target: f64) -> LoadModel {
    LoadModel::Rate {
        per_target: Rate::new(per_target).unwrap(),
    }
}

pub fn users(n: u32) -> LoadModel {
    LoadModel::Concurrency {
        users: NonZeroU32::new(n).unwrap(),
        think_time: Duration::ZERO,
    }
}

pub fn plan(name: &str, targets: Vec<TargetPlan>, model: LoadModel, duration: Duration) -> Plan {
    Plan {
        name: name.to_string(),
        description: None,
        source: format!("{name}.toml").into(),
        targets,
        load: LoadPlan {
            model,
            stages: Vec::new(),
            duration,
            warmup: Duration::ZERO,
            timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            max_body_bytes: 1 << 20,
            max_buffered: 256 << 20,
            // Tests built on this plan are not about generator health: a
            // loaded machine's scheduling stalls must not make them INVALID.
            max_late_pct: 50.0,
            max_connection_age: None,
        },
        faults: Vec::new(),
        sim: SimConfig::default(),
        recovery: RecoveryRule::default(),
        slo: SloPlan::default(),
        clusters: Vec::new(),
        dns: Default::default(),
        captures: Vec::new(),
        evidence: None,
        grafana: None,
        start_at: None,
    }
}

pub fn sim_fault(
    name: &str,
    cluster: Cluster,
    fault: SimFault,
    at_ms: u64,
    restore_ms: Option<u64>,
) -> FaultPlan {
    FaultPlan {
        name: name.to_string(),
        at: Duration::from_millis(at_ms),
        action: FaultAction::Sim { cluster, fault },
        restore_at: restore_ms.map(Duration::from_millis),
    }
}

pub async fn run_in(plan: Plan, dir: &Path) -> RunOutput {
    let options = RunOptions {
        plan,
        out_dir: Some(dir.to_path_buf()),
        quiet: true,
        lanes_per_target: None,
        markers: false,
        metrics: None,
        shard: meshdrill::engine::schedule::Shard::WHOLE,
        hooks_on: 0,
    };
    run(options, CancellationToken::new())
        .await
        .expect("run succeeds")
}

/// Rows of timeline.csv as (second, target, column → value).
pub fn timeline(dir: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir.join("timeline.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

pub fn num(row: &std::collections::HashMap<String, String>, column: &str) -> u64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} = {:?}", row[column]))
}

/// `meshdrill run SCENARIO --out OUT` as a child process with stderr piped
/// (the tests read its per-second lines) and the given stdin.
pub fn spawn_run(scenario: &Path, out: &Path, stdin: std::process::Stdio) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .stdin(stdin)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// `meshdrill run SCENARIO --quiet --out OUT` to completion.
pub fn run_quiet(scenario: &Path, out: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("run")
        .arg(scenario)
        .arg("--quiet")
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// Whether a run's exit code is what the test expects on any machine:
/// `expected`, or 4 (INVALID) with summary.json saying the run was refused
/// because the generator itself fell behind (late, unsent or held-back
/// sends), which a busy machine legitimately gets whatever the target did.
/// `true` when the run was judged as expected; `false` when it was refused
/// for the generator, so the caller skips only its verdict checks. Anything
/// else (another verdict, a usage or run error) fails the test.
#[track_caller]
pub fn judged_unless_generator_limited(
    code: Option<i32>,
    expected: i32,
    summary: &serde_json::Value,
    output: &str,
) -> bool {
    if code == Some(expected) {
        return true;
    }
    assert_eq!(code, Some(4), "expected exit {expected}:\n{output}");
    assert_eq!(summary["verdict"]["status"], "invalid", "{output}");
    assert!(
        output.contains("the generator"),
        "INVALID for a reason other than the generator:\n{output}"
    );
    eprintln!(
        "generator-limited on this machine (exit 4 instead of {expected}): verdict checks skipped"
    );
    false
}

/// Pids of `sleep SECONDS` processes: each hook test sleeps for a
/// duration of its own, so it finds only its own.
pub fn sleeping(seconds: &str) -> Vec<i32> {
    let wanted = format!("sleep\0{seconds}\0");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        if std::fs::read(entry.path().join("cmdline")).unwrap_or_default() == wanted.as_bytes() {
            found.push(pid);
        }
    }
    found
}

/// Kills every `sleep SECONDS` and returns the pids it found.
pub fn kill_sleeping(seconds: &str) -> Vec<i32> {
    let found = sleeping(seconds);
    for pid in &found {
        // SAFETY: only sends SIGKILL to a `sleep` with this test's own duration.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    found
}

/// A command's exit code, stdout and stderr, for an assertion's message.
pub fn output_text(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
