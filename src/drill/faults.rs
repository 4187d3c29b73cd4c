//! Runs a plan's faults at their offsets on the run clock and records when
//! each really started and finished: those instants, not the planned ones,
//! are the truth a measured RTO is compared with.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::clock::RunClock;
use crate::scenario::{FaultAction, FaultPlan};
use crate::sim::{Sim, SimFault};

/// One fault as it happened. Times are milliseconds on the run clock.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FaultRecord {
    pub name: String,
    /// What was done, e.g. `sim down on primary`.
    pub action: String,
    pub planned_at_ms: f64,
    pub injected_at_ms: Option<f64>,
    pub inject_done_ms: Option<f64>,
    pub planned_restore_ms: Option<f64>,
    pub restored_at_ms: Option<f64>,
    pub restore_done_ms: Option<f64>,
    /// Why injecting or restoring failed; the run goes on and says so.
    pub error: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Inject,
    Restore,
}

/// Runs every inject and restore at its time until done or `stop`.
/// Progress lines go to stderr unless `quiet`.
pub async fn drive_faults(
    faults: &[FaultPlan],
    sim: Option<&Sim>,
    clock: RunClock,
    stop: CancellationToken,
    quiet: bool,
) -> Vec<FaultRecord> {
    let mut records: Vec<FaultRecord> = faults
        .iter()
        .map(|f| FaultRecord {
            name: f.name.clone(),
            action: describe(&f.action),
            planned_at_ms: ms(f.at),
            planned_restore_ms: f.restore_at.map(ms),
            ..FaultRecord::default()
        })
        .collect();
    let mut steps: Vec<(Duration, Step, usize)> = Vec::new();
    for (i, f) in faults.iter().enumerate() {
        steps.push((f.at, Step::Inject, i));
        if let Some(r) = f.restore_at {
            steps.push((r, Step::Restore, i));
        }
    }
    steps.sort();
    for (at, step, i) in steps {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep_until(clock.at(at)) => {}
        }
        let started = Instant::now();
        let result = apply(&faults[i].action, step, sim).await;
        let done = Instant::now();
        let record = &mut records[i];
        let (start_ms, done_ms) = (
            clock.us(started) as f64 / 1000.0,
            clock.us(done) as f64 / 1000.0,
        );
        match step {
            Step::Inject => {
                record.injected_at_ms = Some(start_ms);
                record.inject_done_ms = Some(done_ms);
            }
            Step::Restore => {
                record.restored_at_ms = Some(start_ms);
                record.restore_done_ms = Some(done_ms);
            }
        }
        let verb = if step == Step::Inject {
            "inject"
        } else {
            "restore"
        };
        let line = match &result {
            Ok(()) => format!(
                "[{:>8.3}s] fault {}: {verb} {}\n",
                start_ms / 1000.0,
                record.name,
                record.action
            ),
            Err(e) => {
                record.error = Some(format!("{verb} failed: {e}"));
                format!(
                    "[{:>8.3}s] FAULT {} {verb} FAILED: {e}\n",
                    start_ms / 1000.0,
                    record.name
                )
            }
        };
        if !quiet || result.is_err() {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }
    records
}

async fn apply(action: &FaultAction, step: Step, sim: Option<&Sim>) -> Result<(), String> {
    match action {
        FaultAction::Sim { cluster, fault } => {
            let sim = sim.ok_or("the simulator is not running")?;
            let fault = if step == Step::Inject {
                *fault
            } else {
                SimFault::Restore
            };
            sim.apply(*cluster, fault).await.map_err(|e| e.to_string())
        }
    }
}

fn describe(action: &FaultAction) -> String {
    match action {
        FaultAction::Sim { cluster, fault } => {
            let what = match fault {
                SimFault::Down => "down".to_string(),
                SimFault::Blackhole => "blackhole".to_string(),
                SimFault::Http503 => "http503".to_string(),
                SimFault::Latency(d) => format!("latency +{}ms", d.as_millis()),
                SimFault::Degraded => "degraded".to_string(),
                SimFault::CrossCluster => "cross-cluster".to_string(),
                SimFault::Restore => "restore".to_string(),
            };
            format!("sim {what} on {}", cluster.name())
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
