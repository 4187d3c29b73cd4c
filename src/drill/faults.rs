//! Runs a plan's faults at their offsets on the run clock and records when
//! each really started and finished: those instants, not the planned ones,
//! are the truth a measured RTO is compared with. Steps run concurrently (a
//! slow `kubectl` never delays the next step); each finished step is
//! appended to `faults.jsonl` at once, so an interrupted drill keeps it.
//! On an interrupt, no new fault is injected, and every injected fault with
//! a restore pending is restored right away: a drill must not leave a
//! cluster broken because someone pressed Ctrl-C. An inject hook still
//! running when the run ends (or is interrupted) is ended then; a restore
//! runs to its own timeout. What a hook left running (`cmd &`) is ended at
//! the run's end, unless its fault says `detach = true`.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::drill::hooks::{KILL_GRACE, ProcessGroup, run_hook};
use crate::engine::clock::RunClock;
pub use crate::results::faults::{FaultRecord, HookRun};
use crate::results::faults::{JournalLine, Step, StepLine};
use crate::scenario::{Endpoint, FaultAction, FaultPlan, TargetPlan};
use crate::sim::{Sim, SimFault};

pub use crate::results::faults::FILE as JOURNAL;

/// Where step results go besides the returned records.
pub struct FaultLog<'a> {
    pub journal: Option<&'a Path>,
    pub quiet: bool,
    /// `--grafana`: each inject is annotated as it happens (queued, never awaited).
    pub annotate: Option<&'a crate::annotate::Annotator>,
    /// Sharded (`--shard`): the shard that runs the hook commands
    /// (`--hooks-on`), and whether that is this process. The others keep
    /// the same schedule and record each hook step at its time, unrun.
    pub hooks: HookShard,
}

/// Which process of a sharded run executes hook commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HookShard {
    /// `--hooks-on` when sharded; `None` unsharded.
    pub on: Option<u32>,
    /// This process runs them.
    pub here: bool,
}

impl HookShard {
    /// Unsharded: this process runs every hook.
    pub const HERE: HookShard = HookShard {
        on: None,
        here: true,
    };
}

/// Runs every inject and restore at its time until done or `stop`.
pub async fn drive_faults(
    faults: &[FaultPlan],
    targets: &[TargetPlan],
    sim: Option<&Sim>,
    clock: RunClock,
    stop: CancellationToken,
    log: FaultLog<'_>,
) -> Vec<FaultRecord> {
    let mut records: Vec<FaultRecord> = faults.iter().map(|f| record_for(f, targets)).collect();
    for (record, fault) in records.iter_mut().zip(faults) {
        if matches!(fault.action, FaultAction::Hook { .. }) {
            record.hooks_on_shard = log.hooks.on;
        }
    }
    let mut journal = log
        .journal
        .and_then(|p| File::options().create(true).append(true).open(p).ok());
    // What each fault does, for its inject's annotation (`--grafana`).
    let actions: Vec<String> = records.iter().map(|r| r.action.clone()).collect();
    let mut pending = FuturesUnordered::new();
    for (i, fault) in faults.iter().enumerate() {
        pending.push(step(
            fault,
            i,
            Step::Inject,
            fault.at,
            sim,
            clock,
            stop.clone(),
            log.annotate.map(|a| (a, actions[i].as_str())),
            log.hooks.here,
        ));
    }
    let mut restores_left: Vec<bool> = faults.iter().map(|f| f.restore_at.is_some()).collect();
    // Groups hooks left processes running in, to end at the run's end.
    let mut left_running: Vec<(usize, Step, ProcessGroup)> = Vec::new();
    while let Some((i, step_done, outcome)) = pending.next().await {
        let Some((started, done, result, mut hook, group)) = outcome else {
            continue;
        };
        let verb = if step_done == Step::Inject {
            "inject"
        } else {
            "restore"
        };
        if let (Some(group), Some(run)) = (group, hook.as_mut()) {
            let detach = matches!(faults[i].action, FaultAction::Hook { detach: true, .. });
            run.detached = detach;
            let what = if detach {
                "left running (detach = true)"
            } else {
                "to be ended at the run's end"
            };
            if !log.quiet {
                crate::live::event(
                    run.ended_ms,
                    &format!(
                        "[{:>8.3}s] fault {}: {verb} left {} running, {what}",
                        run.ended_ms / 1000.0,
                        faults[i].name,
                        processes(&run.left_running)
                    ),
                );
            }
            if detach {
                group.detach();
            } else {
                left_running.push((i, step_done, group));
            }
        }
        let record = &mut records[i];
        let (start_ms, done_ms) = (ms(clock, started), ms(clock, done));
        match step_done {
            Step::Inject => {
                record.injected_at_ms = Some(start_ms);
                record.inject_done_ms = Some(done_ms);
                record.inject_hook = hook;
                if let Some(restore_at) = faults[i].restore_at {
                    // The restore is scheduled only once the inject has run.
                    pending.push(step(
                        &faults[i],
                        i,
                        Step::Restore,
                        restore_at,
                        sim,
                        clock,
                        stop.clone(),
                        None,
                        log.hooks.here,
                    ));
                }
            }
            Step::Restore => {
                restores_left[i] = false;
                record.restored_at_ms = Some(start_ms);
                record.restore_done_ms = Some(done_ms);
                record.restored_early = stop.is_cancelled()
                    && faults[i].restore_at.is_some_and(|r| clock.at(r) > started);
                record.restore_hook = hook;
            }
        }
        if let Err(e) = &result {
            record.restore_failed |= step_done == Step::Restore;
            let message = format!("{verb} failed: {e}");
            record.error = Some(match record.error.take() {
                Some(earlier) => format!("{earlier}; {message}"),
                None => message,
            });
        }
        let elsewhere = match record.hooks_on_shard {
            Some(shard) if !log.hooks.here => format!(" (not run here: shard {shard} runs it)"),
            _ => String::new(),
        };
        let line = match &result {
            Ok(()) => format!(
                "[{:>8.3}s] fault {}: {verb} {}{elsewhere}",
                start_ms / 1000.0,
                record.name,
                record.action
            ),
            Err(e) => format!(
                "[{:>8.3}s] FAULT {} {verb} FAILED: {e}",
                start_ms / 1000.0,
                record.name
            ),
        };
        if !log.quiet || result.is_err() {
            crate::live::event(start_ms, &line);
        }
        if let Some(file) = journal.as_mut() {
            let hook = if step_done == Step::Inject {
                record.inject_hook.clone()
            } else {
                record.restore_hook.clone()
            };
            let entry = JournalLine::Step(StepLine {
                fault: record.name.clone(),
                step: step_done,
                started_ms: start_ms,
                done_ms,
                ok: result.is_ok(),
                error: result.as_ref().err().cloned(),
                hook,
                hooks_on_shard: record.hooks_on_shard,
            });
            if let Ok(mut text) = serde_json::to_string(&entry) {
                text.push('\n');
                let _ = file.write_all(text.as_bytes());
            }
        }
    }
    if !left_running.is_empty() {
        stop.cancelled().await;
        let ending = left_running.into_iter().map(|(i, step, group)| async move {
            group.end_and_forget(KILL_GRACE).await;
            (i, step, ms(clock, Instant::now()))
        });
        for (i, step, ended_ms) in futures_util::future::join_all(ending).await {
            let record = &mut records[i];
            let hook = match step {
                Step::Inject => record.inject_hook.as_mut(),
                Step::Restore => record.restore_hook.as_mut(),
            };
            if let Some(hook) = hook {
                hook.left_running_ended_ms = Some(ended_ms);
                if !log.quiet {
                    crate::live::event(
                        ended_ms,
                        &format!(
                            "[{:>8.3}s] fault {}: ended {} the hook left running",
                            ended_ms / 1000.0,
                            record.name,
                            processes(&hook.left_running)
                        ),
                    );
                }
            }
        }
    }
    for (i, left) in restores_left.iter().enumerate() {
        if *left && records[i].injected_at_ms.is_some() && records[i].restored_at_ms.is_none() {
            let message = "restore did not run".to_string();
            records[i].error.get_or_insert(message);
            records[i].restore_failed = true;
        }
    }
    records
}

/// `2 processes (1234 sleep, 1235 kubectl)`.
fn processes(left: &[crate::results::faults::LeftProcess]) -> String {
    let each: Vec<String> = left
        .iter()
        .map(|p| format!("{} {}", p.pid, p.program))
        .collect();
    let noun = if left.len() == 1 {
        "process"
    } else {
        "processes"
    };
    format!("{} {noun} ({})", left.len(), each.join(", "))
}

type StepResult = (
    Instant,
    Instant,
    Result<(), String>,
    Option<HookRun>,
    Option<ProcessGroup>,
);

/// Waits for the step's time, then runs it. An inject not yet started when
/// `stop` fires is skipped (`None`); a restore runs at once instead.
/// `announce`: an inject's annotation is queued the moment it starts.
#[allow(clippy::too_many_arguments)] // one step's whole context, passed once
async fn step(
    fault: &FaultPlan,
    index: usize,
    which: Step,
    at: Duration,
    sim: Option<&Sim>,
    clock: RunClock,
    stop: CancellationToken,
    announce: Option<(&crate::annotate::Annotator, &str)>,
    runs_hooks: bool,
) -> (usize, Step, Option<StepResult>) {
    tokio::select! {
        _ = stop.cancelled() => {
            if which == Step::Inject {
                return (index, which, None);
            }
        }
        _ = tokio::time::sleep_until(clock.at(at)) => {}
    }
    let started = Instant::now();
    if let Some((annotator, action)) = announce {
        annotator.injecting(&fault.name, action, ms(clock, started));
    }
    // A restore is never cut short: it heals, and its timeout bounds it.
    let cut = match which {
        Step::Inject => stop,
        Step::Restore => CancellationToken::new(),
    };
    let (result, hook, group) = if runs_hooks || !matches!(fault.action, FaultAction::Hook { .. }) {
        apply(fault, which, sim, clock, &cut).await
    } else {
        // Another shard runs this hook: the step is kept at its time, unrun.
        (Ok(()), None, None)
    };
    (
        index,
        which,
        Some((started, Instant::now(), result, hook, group)),
    )
}

async fn apply(
    fault: &FaultPlan,
    step: Step,
    sim: Option<&Sim>,
    clock: RunClock,
    cut: &CancellationToken,
) -> (Result<(), String>, Option<HookRun>, Option<ProcessGroup>) {
    match &fault.action {
        FaultAction::Sim { cluster, fault: f } => {
            let Some(sim) = sim else {
                return (Err("the simulator is not running".into()), None, None);
            };
            let f = if step == Step::Inject {
                *f
            } else {
                SimFault::Restore
            };
            (
                sim.apply(*cluster, f).await.map_err(|e| e.to_string()),
                None,
                None,
            )
        }
        FaultAction::Hook {
            inject,
            restore,
            timeout,
            ..
        } => {
            let command = match step {
                Step::Inject => inject,
                Step::Restore => match restore {
                    Some(r) => r,
                    None => return (Ok(()), None, None),
                },
            };
            let step_name = if step == Step::Inject {
                "inject"
            } else {
                "restore"
            };
            let env = [
                ("MESHDRILL_FAULT", fault.name.as_str()),
                ("MESHDRILL_STEP", step_name),
            ];
            let (run, group) = run_hook(command, *timeout, clock, &env, cut).await;
            let result = if run.succeeded() {
                Ok(())
            } else {
                let detail = run
                    .stderr
                    .lines()
                    .last()
                    .map(|l| format!(": {l}"))
                    .unwrap_or_default();
                Err(format!("`{}` {}{detail}", run.command, run.status()))
            };
            (result, Some(run), group)
        }
    }
}

/// The record before the fault ran. A simulator fault aims at the (first)
/// target on that simulated cluster: the scope whose outage bounds the
/// fault's window (`super::window`).
/// The record of a planned fault before it runs: what it does, to whom, when.
pub fn record_for(f: &FaultPlan, targets: &[TargetPlan]) -> FaultRecord {
    let (action, target) = match &f.action {
        FaultAction::Sim { cluster, fault } => (
            describe_sim(*fault, cluster.name()),
            targets
                .iter()
                .find(|t| matches!(&t.endpoint, Endpoint::Sim { cluster: c, .. } if c == cluster))
                .map(|t| t.name.clone()),
        ),
        FaultAction::Hook { inject, target, .. } => (inject.display(), target.clone()),
    };
    FaultRecord {
        name: f.name.clone(),
        action,
        target,
        planned_at_ms: f.at.as_secs_f64() * 1000.0,
        planned_restore_ms: f.restore_at.map(|d| d.as_secs_f64() * 1000.0),
        ..FaultRecord::default()
    }
}

fn describe_sim(fault: SimFault, cluster: &str) -> String {
    let what = match fault {
        SimFault::Latency(d) => format!("latency +{}ms", d.as_millis()),
        other => other.word().to_string(),
    };
    format!("sim {what} on {cluster}")
}

fn ms(clock: RunClock, t: Instant) -> f64 {
    clock.us(t) as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::ConnectionPolicy;
    use crate::sim::Cluster;

    fn sim_target(name: &str, cluster: Cluster) -> TargetPlan {
        TargetPlan {
            name: name.into(),
            endpoint: Endpoint::Sim {
                cluster,
                path: "/productpage".into(),
            },
            connection: ConnectionPolicy::KeepAlive,
            max_connection_age: None,
            follow_redirects: Default::default(),
            transport: Default::default(),
        }
    }

    fn sim_fault(cluster: Cluster) -> FaultPlan {
        FaultPlan {
            name: "down".into(),
            at: Duration::from_secs(3),
            action: FaultAction::Sim {
                cluster,
                fault: SimFault::Down,
            },
            restore_at: Some(Duration::from_secs(8)),
        }
    }

    #[test]
    fn a_sim_fault_aims_at_the_first_target_on_its_cluster() {
        let targets = [
            sim_target("front", Cluster::Secondary),
            sim_target("east", Cluster::Primary),
            sim_target("east-again", Cluster::Primary),
        ];
        let record = record_for(&sim_fault(Cluster::Primary), &targets);
        assert_eq!(record.target.as_deref(), Some("east"));
        assert_eq!(record.action, "sim down on primary");
        assert_eq!(record.planned_at_ms, 3000.0);
        assert_eq!(record.planned_restore_ms, Some(8000.0));
        let none = record_for(&sim_fault(Cluster::Primary), &targets[..1]);
        assert_eq!(none.target, None);
    }
}
