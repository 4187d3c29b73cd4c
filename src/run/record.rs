//! Recording: every lane's outcomes into the recorder (and through it the
//! per-second files and console lines) while the faults and the manual
//! markers run beside them on the same clock, until the last lane ends.

use std::io;
use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::RunOptions;
use super::start::Engine;
use crate::drill::{FaultLog, FaultRecord, Marker, MarkerLog, drive_faults, watch_markers};
use crate::engine::clock::RunClock;
use crate::engine::profile::LoadProfile;
use crate::engine::schedule::Shard;
use crate::record::{Recorder, Totals, second_of};
use crate::report::Writers;
use crate::results::faults::JournalLine;
use crate::scenario::{LoadModel, Plan};
use crate::sim::Sim;

/// What the recording stage leaves for the results.
pub(super) struct Recorded {
    pub totals: Totals,
    pub faults: Vec<FaultRecord>,
    pub markers: Vec<Marker>,
    /// When the last request had its outcome, on the run clock.
    pub requests_ended_ms: f64,
    /// The user stopped the run before its planned end.
    pub interrupted: bool,
}

/// Records until every lane has ended, then writes the last seconds. A
/// failed write stops the lanes and is returned once they have ended.
/// `annotator` (`--grafana`) is handed to the faults, which queue each
/// inject's annotation.
#[allow(clippy::too_many_arguments)] // the run's stages, passed straight through
pub(super) async fn record(
    opts: &RunOptions,
    sim: Option<&Sim>,
    engine: Engine,
    clock: RunClock,
    writers: &mut Writers,
    out_dir: &Path,
    stop: &CancellationToken,
    annotator: Option<&crate::annotate::Annotator>,
) -> io::Result<Recorded> {
    let plan = &opts.plan;
    let Engine {
        mut outcomes,
        lanes,
        end,
        stop: lanes_stop,
        ..
    } = engine;
    let mut recorder = Recorder::new(
        plan.targets.len(),
        lanes,
        second_of(plan.load.warmup.as_micros() as u64),
    )
    .with_planned(planned_per_second(plan, end, opts.shard))
    .with_planned_users(users_per_second(plan, end, opts.shard));
    let faults_stop = lanes_stop.child_token();
    let journal = out_dir.join(crate::drill::JOURNAL);
    let log = FaultLog {
        journal: Some(&journal),
        quiet: opts.quiet,
        annotate: annotator,
        hooks: crate::drill::faults::HookShard {
            on: (!opts.shard.is_whole()).then_some(opts.hooks_on),
            here: opts.runs_hooks(),
        },
    };
    let faults = drive_faults(
        &plan.faults,
        &plan.targets,
        sim,
        clock,
        faults_stop.clone(),
        log,
    );
    let record = async {
        let mut failure = None;
        while let Some(report) = outcomes.recv().await {
            crate::live::progress(Duration::from_micros(clock.elapsed_us()).min(end));
            if failure.is_none()
                && let Err(e) = recorder.accept(report, writers)
            {
                failure = Some(e);
                lanes_stop.cancel();
            }
        }
        // Every lane has ended: the last request has its outcome.
        let ended_ms = clock.elapsed_us() as f64 / 1000.0;
        faults_stop.cancel();
        (failure, ended_ms)
    };
    let mut marker_log = MarkerLog::new(clock);
    let markers = async {
        if !opts.markers {
            return;
        }
        let mut signals = watch_markers(true);
        loop {
            tokio::select! {
                _ = faults_stop.cancelled() => break,
                Some(signal) = signals.recv() => {
                    // Sharded, one process records markers: the one running
                    // the hooks. The others still take SIGUSR1 (unhandled,
                    // it would end them) and say where markers go.
                    if !opts.runs_hooks() {
                        eprintln!(
                            "meshdrill: marker ({}) not recorded: shard {} takes the markers",
                            signal.1, opts.hooks_on
                        );
                        continue;
                    }
                    let marker = marker_log.add(signal);
                    if !opts.quiet {
                        crate::live::event(marker.at_ms, &format!(
                            "[{:>8.3}s] marker {} ({})",
                            marker.at_ms / 1000.0,
                            marker.number,
                            marker.source
                        ));
                    }
                    append_to_journal(&journal, &JournalLine::Marker { marker: marker.clone() });
                }
            }
        }
    };
    let (faults, (failure, requests_ended_ms), ()) = tokio::join!(faults, record, markers);
    if let Some(e) = failure {
        return Err(e);
    }

    let interrupted = stop.is_cancelled();
    let end_second = seconds_to_write(end, interrupted.then(|| clock.elapsed_us()));
    let totals = recorder.finish(end_second, writers);
    // Every second's line is out: what happened after the last one too.
    crate::live::finish();
    Ok(Recorded {
        totals: totals?,
        faults,
        markers: marker_log.markers,
        requests_ended_ms,
        interrupted,
    })
}

/// A marker's line in faults.jsonl. Best effort: the marker is in
/// summary.json whatever happens to the journal.
fn append_to_journal(journal: &Path, entry: &JournalLine) {
    if let Ok(mut line) = serde_json::to_string(entry) {
        line.push('\n');
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(journal)
            .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
    }
}

/// Seconds the timeline gets: every planned second of a run of length
/// `end`, or of an interrupted one (`interrupted_at_us` on the run clock)
/// those up to the second it was stopped in.
fn seconds_to_write(end: Duration, interrupted_at_us: Option<u64>) -> u32 {
    let planned_seconds = end.as_secs_f64().ceil() as u32;
    match interrupted_at_us {
        Some(at) => planned_seconds.min(second_of(at) + 1),
        None => planned_seconds,
    }
}

/// Per target, the sends the open model intends in each second of `end`
/// (`None` for the closed model): this shard's share of them.
fn planned_per_second(plan: &Plan, end: Duration, shard: Shard) -> Vec<Option<Vec<u64>>> {
    let seconds = end.as_secs_f64().ceil() as u32;
    plan.targets
        .iter()
        .map(|_| match plan.load.model {
            LoadModel::Rate { .. } => {
                let profile = LoadProfile::of(&plan.load);
                let before = |s: u32| {
                    shard.share_of(profile.slots_before(Duration::from_secs(u64::from(s)).min(end)))
                };
                Some((0..seconds).map(|s| before(s + 1) - before(s)).collect())
            }
            LoadModel::Concurrency { .. } => None,
        })
        .collect()
}

/// Per target, the users the closed model plans at some instant of each
/// second of `end` (`None` for the open model): under a ramp, the most it
/// reaches in that second (a user started in it counts in it); of them,
/// this shard's (users `k` with `k % N == I`).
fn users_per_second(plan: &Plan, end: Duration, shard: Shard) -> Vec<Option<Vec<u64>>> {
    let seconds = end.as_secs_f64().ceil() as u64;
    let end_ns = u64::try_from(end.as_nanos()).unwrap_or(u64::MAX);
    plan.targets
        .iter()
        .map(|_| match plan.load.model {
            LoadModel::Rate { .. } => None,
            LoadModel::Concurrency { .. } => {
                let profile = LoadProfile::of(&plan.load);
                let second = |s: u64| {
                    let from = s * 1_000_000_000;
                    shard.share_of(profile.users_planned(from, (from + 1_000_000_000).min(end_ns)))
                };
                Some((0..seconds).map(second).collect())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::Overrides;

    fn plan(load: &str) -> Plan {
        let text = format!(
            "[[target]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/\"\n\
             [[target]]\nname = \"b\"\nurl = \"http://127.0.0.1:9/\"\n[load]\n{load}"
        );
        crate::scenario::parse(&text, Path::new("p.toml"), &Overrides::default(), &|_| None)
            .unwrap()
    }

    #[test]
    fn an_interrupted_run_writes_the_seconds_up_to_the_one_it_stopped_in() {
        let end = Duration::from_millis(10_500);
        assert_eq!(seconds_to_write(end, None), 11);
        assert_eq!(seconds_to_write(end, Some(0)), 1);
        assert_eq!(seconds_to_write(end, Some(3_999_999)), 4);
        assert_eq!(seconds_to_write(end, Some(4_000_000)), 5);
        // Stopped after the planned end (the last outcomes): no extra second.
        assert_eq!(seconds_to_write(end, Some(12_000_000)), 11);
    }

    #[test]
    fn the_open_model_plans_each_seconds_sends_and_the_closed_none() {
        let open = plan("rate = 4\nduration = \"2s\"\nwarmup = \"500ms\"\n");
        let end = open.load.warmup + open.load.duration;
        assert_eq!(
            planned_per_second(&open, end, Shard::WHOLE),
            [Some(vec![4, 4, 2]), Some(vec![4, 4, 2])]
        );
        let closed = plan("concurrency = 3\nduration = \"2s\"\n");
        assert_eq!(
            planned_per_second(&closed, closed.load.duration, Shard::WHOLE),
            [None, None]
        );
        assert_eq!(
            users_per_second(&closed, closed.load.duration, Shard::WHOLE),
            [Some(vec![3, 3]), Some(vec![3, 3])]
        );
        assert_eq!(users_per_second(&open, end, Shard::WHOLE), [None, None]);
        // Shard 1 of 3 plans slots 1, 4, 7 of 0..10; users 1 of 0..3.
        let shard = Shard::new(1, 3).unwrap();
        assert_eq!(
            planned_per_second(&open, end, shard)[0],
            Some(vec![1, 2, 0])
        );
        assert_eq!(
            users_per_second(&closed, closed.load.duration, shard)[0],
            Some(vec![1, 1])
        );
    }

    #[test]
    fn stages_plan_each_seconds_ramped_sends_and_users() {
        let open = plan(
            "[[load.stage]]\nduration = \"3s\"\nrate = 30\n\
             [[load.stage]]\nduration = \"1500ms\"\nrate = 0\n",
        );
        let end = open.load.duration;
        assert_eq!(end, Duration::from_millis(4_500));
        // N(t) = 5 t² up to 3 s (45), then 45 + 30 τ - 10 τ² (to 67.5).
        assert_eq!(
            planned_per_second(&open, end, Shard::WHOLE),
            [Some(vec![5, 15, 25, 20, 3]), Some(vec![5, 15, 25, 20, 3])]
        );
        let closed = plan(
            "[[load.stage]]\nduration = \"4s\"\nusers = 20\n\
             [[load.stage]]\nduration = \"2s\"\nusers = 20\n\
             [[load.stage]]\nduration = \"2s\"\nusers = 0\n",
        );
        assert_eq!(
            users_per_second(&closed, closed.load.duration, Shard::WHOLE)[0],
            Some(vec![5, 10, 15, 20, 20, 20, 20, 10])
        );
    }
}
