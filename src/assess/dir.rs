//! Judges a run: from its typed [`Results`], finds each fault's outage per
//! target and for all targets ([`super::rto`]), the fault's window and
//! failover evidence, the generator's health, and checks the SLOs
//! ([`super::slo`]). A run calls this on the files it has just written and
//! `meshdrill report DIR` calls it later (perhaps with another recovery
//! window): one code path, so the verdict a run printed is the verdict its
//! files reproduce. Pure: no I/O (the folder is read by `Results::load`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::failover::{ClusterSecond, FaultSeconds, failover};
use super::generator::{JudgedFault, judge};
use super::rto::{
    OutageReport, Region, SecondSample, T0Source, analyse, analyse_combined, regions,
};
use super::slo::{Criterion, Measured, MeasuredRto, evaluate};
use super::window::{ALL, FaultWindow, WindowFigures, faulted_scope};
use crate::record::{GeneratorHealth, new_histogram};
use crate::results::hlog::Hlog;
pub use crate::results::outage::{FaultOutage, PhaseLatency, ScopedOutage};
use crate::results::summary::{Summary, TargetSummary, percentiles};
pub use crate::results::verdict::{Assessment, Verdict, VerdictStatus};
use crate::results::{LoadError, Results, TimelineRow};
use crate::scenario::{RecoveryRule, SloPlan, SloSpec};

/// Reads the folder and judges it: [`Results::load`] then [`assess`].
pub fn assess_dir(dir: &Path, rule: &RecoveryRule, slo: &SloPlan) -> Result<Assessment, LoadError> {
    Ok(assess(&Results::load(dir)?, rule, slo))
}

/// Adds each second's histogram of a scope (from latency.hlog) into the
/// before/during/after totals of every outage whose span holds that second,
/// and into the fault window's (`all` takes every target's). Memory: four
/// histograms per outage and scope, whatever the run's length.
fn add_phase_latency(hlog: &Hlog, outages: &mut [FaultOutage]) {
    let mut sums: Vec<Vec<[Histogram<u64>; 4]>> = outages
        .iter()
        .map(|o| {
            o.scopes
                .iter()
                .map(|_| std::array::from_fn(|_| new_histogram()))
                .collect()
        })
        .collect();
    for interval in &hlog.intervals {
        let second = interval.second;
        let mut h = None;
        for (o, outage) in outages.iter().enumerate() {
            for (i, scoped) in outage.scopes.iter().enumerate() {
                if scoped.scope != interval.tag && scoped.scope != ALL {
                    continue;
                }
                let r = &scoped.report;
                let in_window = outage.window.is_some_and(|w| w.contains(second));
                let phases = [&r.before, &r.during, &r.after]
                    .map(|span| (span.from_second..span.to_second).contains(&second));
                if !in_window && !phases.contains(&true) {
                    continue;
                }
                let h = h.get_or_insert_with(|| interval.histogram());
                for (phase, _) in phases.iter().enumerate().filter(|(_, hit)| **hit) {
                    // Same bounds as every recorded histogram; a foreign
                    // log with other bounds is re-recorded by `add`.
                    let _ = sums[o][i][phase].add(&*h);
                }
                if in_window {
                    let _ = sums[o][i][3].add(&*h);
                }
            }
        }
    }
    for (o, outage) in outages.iter_mut().enumerate() {
        for (i, scoped) in outage.scopes.iter_mut().enumerate() {
            let [before, during, after, window] = &sums[o][i];
            if let Some(figures) = scoped.in_window.as_mut() {
                figures.latency_ms = percentiles(window);
            }
            scoped.latency_ms = PhaseLatency {
                before: percentiles(before),
                during: percentiles(during),
                after: percentiles(after),
            };
        }
    }
}

/// What the judgement reads of timeline.csv: per-second samples per scope
/// (targets and `all`), in file order, and pages by cluster per second.
pub struct Timeline {
    pub scopes: Vec<(String, Vec<SecondSample>)>,
    /// The cluster columns' names, in header order (`other`, `unknown` too).
    pub clusters: Vec<String>,
    /// Per scope (same order as `scopes`): pages by cluster per second.
    pub pages: Vec<Vec<ClusterSecond>>,
}

impl Timeline {
    pub fn of(timeline: &crate::results::Timeline) -> Timeline {
        Timeline {
            scopes: timeline
                .scopes
                .iter()
                .map(|s| (s.scope.clone(), s.rows.iter().map(sample).collect()))
                .collect(),
            clusters: timeline.clusters.clone(),
            pages: timeline
                .scopes
                .iter()
                .map(|s| {
                    s.rows
                        .iter()
                        .map(|r| ClusterSecond {
                            second: r.second,
                            pages: r.clusters.clone(),
                            first_ms: r.cluster_first_ms.clone(),
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

fn sample(row: &TimelineRow) -> SecondSample {
    SecondSample {
        second: row.second,
        sent: row.sent,
        ok: crate::outcome::Kind::ALL
            .iter()
            .filter(|k| k.is_success())
            .map(|k| row.by_kind[k.index()])
            .sum(),
        by_kind: row.by_kind,
        first_failure_ms: row.first_failure_ms,
        last_failure_ms: row.last_failure_ms,
        first_success_ms: row.first_success_ms,
        first_success_after_last_failure_ms: row.first_success_after_last_failure_ms,
        first_success_done_ms: row.first_success_done_ms,
        first_success_after_last_failure_done_ms: row.first_success_after_last_failure_done_ms,
        health: GeneratorHealth {
            planned: row.planned,
            sent: row.sent,
            late: row.late,
            not_sent: row.not_sent,
            cap_waits: row.cap_waits,
            local_errors: row.by_kind[crate::outcome::Kind::LocalError.index()],
            max_send_lag_us: row.max_send_lag_us.unwrap_or(0),
        },
    }
}

/// The assessment of a run from its results: its summary (faults, markers,
/// totals), timeline and latency log.
pub fn assess(results: &Results, rule: &RecoveryRule, slo: &SloPlan) -> Assessment {
    let summary = &results.summary;
    let timeline = Timeline::of(&results.timeline);
    let run_end_ms = u64::from(summary.seconds) * 1000;
    // Faults and markers in order of T0; a fault that never ran is placed
    // at its planned time and measured as nothing.
    let mut starts: Vec<Start> = Vec::new();
    for f in &summary.faults {
        let t0 = f.injected_at_ms.map(|ms| ms as u64);
        starts.push(Start {
            name: f.name.clone(),
            t0_ms: t0,
            source: T0Source::Hook,
            order: t0.map_or(f.planned_at_ms, |t| t as f64),
            target: f.target.clone(),
            restore_done_ms: f.restore_done_ms.map(|ms| ms as u64),
        });
    }
    for m in &summary.markers {
        starts.push(Start {
            name: format!("marker {}", m.number),
            t0_ms: Some(m.at_ms as u64),
            source: T0Source::Marker,
            order: m.at_ms,
            target: None,
            restore_done_ms: None,
        });
    }
    starts.sort_by(|a, b| a.order.total_cmp(&b.order));
    let t0s: Vec<(Option<u64>, T0Source)> = starts.iter().map(|s| (s.t0_ms, s.source)).collect();
    if starts.is_empty() {
        starts.push(Start {
            name: "first failure".to_string(),
            t0_ms: None,
            source: T0Source::FirstFailure,
            order: 0.0,
            target: None,
            restore_done_ms: None,
        });
    }
    let regions = regions(&t0s, run_end_ms);
    let restores: Vec<Option<u64>> = starts.iter().map(|s| s.restore_done_ms).collect();
    // Where the previous fault's window ended: the quiet seconds from there
    // to the next T0 are that fault's home evidence.
    let mut quiet_from = 0;
    let mut outages: Vec<FaultOutage> = regions
        .iter()
        .zip(starts)
        .map(|(region, start)| {
            let mut scopes = scoped_outages(&timeline, region, rule);
            let window = fault_window_of(&scopes, region, &start);
            add_window_figures(&timeline, &mut scopes, window.as_ref());
            add_failover(&timeline, &mut scopes, window.as_ref(), region, quiet_from);
            if let Some((w, _)) = &window {
                quiet_from = quiet_from.max(w.to_second);
            }
            FaultOutage {
                fault: start.name,
                source: region.source,
                t0_ms: region.t0_ms,
                faulted_scope: window.as_ref().map(|w| w.1.clone()),
                window: window.map(|w| w.0),
                scopes,
            }
        })
        .collect();
    add_phase_latency(&results.hlog, &mut outages);

    let mut criteria = Vec::new();
    if let Some(spec) = &slo.all {
        criteria.extend(evaluate(
            spec,
            "all",
            &measured(&summary.all, "all", &outages),
        ));
    }
    for (target, spec) in &slo.targets {
        // A target the plan names but the summary lacks measured nothing.
        let none = TargetSummary::default();
        let totals = summary
            .targets
            .iter()
            .find(|t| &t.name == target)
            .unwrap_or(&none);
        criteria.extend(evaluate(spec, target, &measured(totals, target, &outages)));
    }
    let configured = !criteria.is_empty();
    if let Some(c) = hooks_criterion(summary) {
        criteria.push(c);
    }
    criteria.extend(answered_criteria(summary));

    let judged: Vec<JudgedFault<'_>> = outages
        .iter()
        .zip(&regions)
        .enumerate()
        .map(|(i, (outage, region))| JudgedFault {
            outage,
            region_end_ms: region.end_ms,
            restore_done_ms: restores.get(i).copied().flatten(),
        })
        .collect();
    let max_late_pct = summary.scenario.max_late_pct;
    let warmup_seconds = summary.scenario.warmup_s.floor() as u32;
    let mut generator = judge(&timeline, &judged, rule, max_late_pct, warmup_seconds);
    // A summary rebuilt from a run that stopped early measured only part of
    // the drill: nothing in it can be judged as the whole.
    if let Some(rebuilt) = summary.rebuilt.as_ref().filter(|r| !r.complete()) {
        generator.invalid.insert(0, rebuilt.reason.clone());
        generator.advice.insert(
            0,
            "run the drill again to judge it: this folder holds only the seconds before it stopped"
                .to_string(),
        );
    }
    // A merge's `start` combines its shards' (the latest lag, the strictest
    // skew): each shard's own start was judged, and named, in
    // `merged.invalid` below.
    if let Some(start) = summary.start.as_ref().filter(|_| summary.merged.is_none()) {
        let reasons = super::generator::start_invalid(start);
        if !reasons.is_empty() {
            generator.advice.push(
                "start every shard a little ahead of --start-at, or allow more --max-skew"
                    .to_string(),
            );
        }
        generator.invalid.extend(reasons);
    }
    // Merged shards: a shard that could not be judged on its own cannot be
    // judged as part of the whole either.
    if let Some(merged) = summary.merged.as_ref().filter(|m| !m.invalid.is_empty()) {
        generator.invalid.extend(merged.invalid.iter().cloned());
        generator.advice.push(
            "run the shards again: start every one a little ahead of --start-at, on machines that keep up with their share".to_string(),
        );
    }
    let status = if !generator.invalid.is_empty() {
        VerdictStatus::Invalid
    } else if criteria.iter().any(|c| !c.pass) {
        VerdictStatus::Fail
    } else if !configured {
        VerdictStatus::NoSlo
    } else {
        VerdictStatus::Pass
    };
    Assessment {
        verdict: Verdict {
            status,
            criteria,
            generator,
        },
        outages,
    }
}

/// A fault or marker as the summary has it, before its region is known.
struct Start {
    name: String,
    t0_ms: Option<u64>,
    source: T0Source,
    /// Where it sorts: T0, or the planned time of a fault that never ran.
    order: f64,
    /// The target it aims at (`FaultRecord::target`).
    target: Option<String>,
    restore_done_ms: Option<u64>,
}

/// The fault's window, from its faulted scope's outage, and that scope.
fn fault_window_of(
    scopes: &[ScopedOutage],
    region: &Region,
    start: &Start,
) -> Option<(FaultWindow, String)> {
    let names: Vec<&str> = scopes.iter().map(|s| s.scope.as_str()).collect();
    let faulted = faulted_scope(start.target.as_deref(), &names);
    let report = &scopes.iter().find(|s| s.scope == faulted)?.report;
    FaultWindow::of(report, region.end_ms, start.restore_done_ms).map(|w| (w, faulted.to_string()))
}

/// Every scope's counts over the fault's window (latency comes with
/// [`add_phase_latency`]); `scopes` are in the timeline's order.
fn add_window_figures(
    timeline: &Timeline,
    scopes: &mut [ScopedOutage],
    window: Option<&(FaultWindow, String)>,
) {
    let Some((window, _)) = window else { return };
    for (scoped, (_, samples)) in scopes.iter_mut().zip(&timeline.scopes) {
        scoped.in_window = Some(WindowFigures::over(samples, window));
    }
}

/// No criteria is not a pass: a target that never once answered with a
/// complete page fails the run, SLOs or not.
fn answered_criteria(summary: &Summary) -> Vec<Criterion> {
    summary
        .targets
        .iter()
        .map(|t| Criterion {
            name: "answered".into(),
            scope: t.name.clone(),
            threshold: "≥ 1 ok response".into(),
            measured: format!("{} of {} ok", t.ok, t.requests),
            pass: t.ok > 0,
        })
        .collect()
}

/// Every target's failover evidence over the fault's window, from the
/// fault's T0 (a hook's or marker's, else the faulted scope's first
/// failure), the same for every target.
fn add_failover(
    timeline: &Timeline,
    scopes: &mut [ScopedOutage],
    window: Option<&(FaultWindow, String)>,
    region: &Region,
    quiet_from: u32,
) {
    let Some((window, faulted)) = window else {
        return;
    };
    let Some(t0_ms) = region.t0_ms.or_else(|| {
        let faulted = scopes.iter().find(|s| &s.scope == faulted)?;
        faulted.report.t0_ms
    }) else {
        return;
    };
    for (scoped, pages) in scopes.iter_mut().zip(&timeline.pages) {
        if scoped.scope == ALL {
            continue;
        }
        // Whole seconds before T0's, from the end of the previous fault's
        // window (its region runs on to this T0, but once it recovered or
        // was restored its seconds are this fault's baseline), or from the
        // region's start when that is later: a second still inside the
        // previous fault's window is not evidence of home.
        let region_from = u32::try_from(region.start_ms.div_ceil(1000)).unwrap_or(u32::MAX);
        let before_from = match region.start_ms {
            0 => region_from,
            _ => quiet_from,
        };
        let t0_second = u32::try_from(t0_ms / 1000).unwrap_or(u32::MAX);
        let fault = FaultSeconds {
            t0_ms,
            before: (before_from.min(t0_second), t0_second),
            window: (window.from_second, window.to_second),
            region_end_ms: region.end_ms,
        };
        scoped.failover = Some(failover(&timeline.clusters, pages, fault));
    }
}

/// Every target's outage, then `all`'s, which needs the targets' (see
/// [`analyse_combined`]); in the timeline's order of scopes.
fn scoped_outages(timeline: &Timeline, region: &Region, rule: &RecoveryRule) -> Vec<ScopedOutage> {
    let targets: Vec<OutageReport> = timeline
        .scopes
        .iter()
        .filter(|(scope, _)| scope != "all")
        .map(|(_, samples)| analyse(samples, region, rule))
        .collect();
    let mut per_target = targets.iter();
    timeline
        .scopes
        .iter()
        .map(|(scope, samples)| ScopedOutage {
            scope: scope.clone(),
            report: if scope == "all" {
                analyse_combined(samples, region, rule, &targets)
            } else {
                per_target.next().expect("one report per target").clone()
            },
            latency_ms: PhaseLatency::default(),
            in_window: None,
            failover: None,
        })
        .collect()
}

fn measured(totals: &TargetSummary, scope: &str, outages: &[FaultOutage]) -> Measured {
    let counts = |map: &BTreeMap<String, u64>| -> Vec<(String, u64)> {
        map.iter().map(|(k, v)| (k.clone(), *v)).collect()
    };
    let reports: Vec<&OutageReport> = outages
        .iter()
        .flat_map(|o| {
            o.scopes
                .iter()
                .filter(|s| s.scope == scope)
                .map(|s| &s.report)
        })
        .collect();
    let (requests, failed) = (totals.requests, totals.failed);
    let judged = totals.ok + failed;
    Measured {
        requests,
        failed,
        availability_pct: totals.availability_pct,
        // Over judged requests (ok + failed): abandoned ones are neither.
        error_rate_pct: (judged > 0).then(|| 100.0 * failed as f64 / judged as f64),
        p50_ms: totals.latency_ms.as_ref().map(|p| p.p50),
        p99_ms: totals.latency_ms.as_ref().map(|p| p.p99),
        p95_ms: totals.latency_ms.as_ref().map(|p| p.p95),
        worst_rto: MeasuredRto::worst(reports),
        versions: counts(&totals.ok_by_version),
        clusters: counts(&totals.ok_by_cluster),
    }
}

/// A drill whose fault did not happen as planned cannot pass: every hook
/// fault adds this criterion.
fn hooks_criterion(summary: &Summary) -> Option<Criterion> {
    let faults = &summary.faults;
    if faults.is_empty() {
        return None;
    }
    let failed: BTreeMap<&str, &str> = faults
        .iter()
        .filter_map(|f| Some((f.name.as_str(), f.error.as_deref()?)))
        .collect();
    Some(Criterion {
        name: "faults_ran".into(),
        scope: "all".into(),
        threshold: "every inject and restore succeeded".into(),
        measured: if failed.is_empty() {
            format!("{} of {} ran", faults.len(), faults.len())
        } else {
            failed
                .iter()
                .map(|(n, e)| format!("{n}: {e}"))
                .collect::<Vec<_>>()
                .join("; ")
        },
        pass: failed.is_empty(),
    })
}

/// `5s` style for tables.
pub fn seconds(ms: u64) -> String {
    format!("{:.3} s", Duration::from_millis(ms).as_secs_f64())
}

/// Every SLO spec of the plan, for callers that only need to know if any is set.
pub fn has_criteria(slo: &SloPlan) -> bool {
    slo.all.as_ref().is_some_and(|s: &SloSpec| !s.is_empty()) || !slo.targets.is_empty()
}
