//! Judges a results folder: reads `timeline.csv` and `summary.json`, finds
//! each fault's outage per target and for all targets ([`super::rto`]), and
//! checks the SLOs ([`super::slo`]). A run calls this on the files it has
//! just written and `meshdrill report DIR` calls it later (perhaps with
//! another recovery window): one code path, so the verdict a run printed is
//! the verdict its files reproduce.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use serde_json::Value;

use super::failover::{ClusterSecond, FaultSeconds, failover};
use super::generator::{JudgedFault, judge};
use super::rto::{
    OutageReport, Region, SecondSample, T0Source, analyse, analyse_combined, regions,
};
use super::slo::{Criterion, Measured, MeasuredRto, evaluate};
use super::window::{ALL, FaultWindow, WindowFigures, faulted_scope};
use crate::outcome::Kind;
use crate::record::{GeneratorHealth, new_histogram};
pub use crate::results::outage::{FaultOutage, PhaseLatency, ScopedOutage};
use crate::results::summary::percentiles;
use crate::results::timeline::{CLUSTER_PREFIX, FIRST_MS_PREFIX};
pub use crate::results::verdict::{Assessment, Verdict, VerdictStatus};
use crate::scenario::{RecoveryRule, SloPlan, SloSpec};

#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

pub fn assess_dir(
    dir: &Path,
    rule: &RecoveryRule,
    slo: &SloPlan,
) -> Result<Assessment, AssessError> {
    let summary_path = dir.join(crate::results::summary::FILE);
    let text = std::fs::read(&summary_path).map_err(|source| AssessError::Read {
        path: summary_path.clone(),
        source,
    })?;
    let summary: Value = serde_json::from_slice(&text).map_err(|e| AssessError::Invalid {
        path: summary_path.clone(),
        message: e.to_string(),
    })?;
    let timeline = read_timeline(&dir.join(crate::results::timeline::FILE))?;
    let mut assessment = assess(&summary, &timeline, rule, slo);
    add_phase_latency(&dir.join(crate::results::hlog::FILE), &mut assessment)?;
    Ok(assessment)
}

/// Streams latency.hlog once, adding each second's histogram of a scope
/// into the before/during/after totals of every outage whose span holds
/// that second, and into the fault window's (`all` takes every target's).
/// Memory: four histograms per outage and scope, whatever the run's length.
fn add_phase_latency(path: &Path, assessment: &mut Assessment) -> Result<(), AssessError> {
    let invalid = |message: String| AssessError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let log = std::fs::read(path).map_err(|source| AssessError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut sums: Vec<Vec<[Histogram<u64>; 4]>> = assessment
        .outages
        .iter()
        .map(|o| {
            o.scopes
                .iter()
                .map(|_| std::array::from_fn(|_| new_histogram()))
                .collect()
        })
        .collect();
    let mut deserializer = Deserializer::new();
    for entry in IntervalLogIterator::new(&log) {
        let Ok(LogEntry::Interval(interval)) = entry else {
            continue;
        };
        let Some(tag) = interval.tag() else { continue };
        let second = interval.start_timestamp().as_secs() as u32;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .map_err(|e| invalid(format!("interval of {} at {second}s: {e}", tag.as_str())))?;
        let h: Histogram<u64> = deserializer
            .deserialize(&mut std::io::Cursor::new(bytes))
            .map_err(|e| invalid(format!("interval of {} at {second}s: {e:?}", tag.as_str())))?;
        for (o, outage) in assessment.outages.iter().enumerate() {
            for (i, scoped) in outage.scopes.iter().enumerate() {
                if scoped.scope != tag.as_str() && scoped.scope != "all" {
                    continue;
                }
                let r = &scoped.report;
                for (phase, span) in [&r.before, &r.during, &r.after].into_iter().enumerate() {
                    if (span.from_second..span.to_second).contains(&second) {
                        // Same bounds as every recorded histogram; a foreign
                        // log with other bounds is re-recorded by `add`.
                        let _ = sums[o][i][phase].add(&h);
                    }
                }
                if outage.window.is_some_and(|w| w.contains(second)) {
                    let _ = sums[o][i][3].add(&h);
                }
            }
        }
    }
    for (o, outage) in assessment.outages.iter_mut().enumerate() {
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
    Ok(())
}

/// Per-second samples per scope (targets and `all`), in file order.
pub struct Timeline {
    pub scopes: Vec<(String, Vec<SecondSample>)>,
    /// The cluster columns' names, in header order (`other`, `unknown` too).
    pub clusters: Vec<String>,
    /// Per scope (same order as `scopes`): pages by cluster per second.
    pub pages: Vec<Vec<ClusterSecond>>,
}

pub fn read_timeline(path: &Path) -> Result<Timeline, AssessError> {
    let invalid = |message: String| AssessError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(source) => AssessError::Read {
            path: path.to_path_buf(),
            source,
        },
        other => invalid(format!("{other:?}")),
    })?;
    let headers = reader
        .headers()
        .map_err(|e| invalid(e.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| invalid(format!("no column {name}")))
    };
    let (second, target, sent) = (column("second")?, column("target")?, column("sent")?);
    let kinds: Vec<usize> = Kind::ALL
        .iter()
        .map(|k| column(k.name()))
        .collect::<Result<_, _>>()?;
    let marks = [
        column("first_failure_ms")?,
        column("last_failure_ms")?,
        column("first_success_ms")?,
        column("first_success_after_last_failure_ms")?,
    ];
    // Completion marks came later: a timeline without them falls back to
    // placing recovery by send time.
    let done_marks = [
        column("first_success_done_ms").ok(),
        column("first_success_after_last_failure_done_ms").ok(),
    ];
    // Generator health came later too: absent columns read as a healthy,
    // unplanned second (what older runs recorded of it: nothing).
    let health_columns = [
        column("late").ok(),
        column("planned").ok(),
        column("not_sent").ok(),
        column("cap_waits").ok(),
        column("max_send_lag_ms").ok(),
    ];
    let clusters: Vec<String> = headers
        .iter()
        .filter_map(|h| h.strip_prefix(CLUSTER_PREFIX).map(String::from))
        .collect();
    let cluster_columns: Vec<(usize, Option<usize>)> = clusters
        .iter()
        .map(|c| {
            let pages = column(&format!("{CLUSTER_PREFIX}{c}"))?;
            Ok((pages, column(&format!("{FIRST_MS_PREFIX}{c}")).ok()))
        })
        .collect::<Result<_, AssessError>>()?;
    let mut scopes: Vec<(String, Vec<SecondSample>)> = Vec::new();
    let mut pages: Vec<Vec<ClusterSecond>> = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| invalid(e.to_string()))?;
        let number = |i: usize| -> Result<u64, AssessError> {
            record[i]
                .parse()
                .map_err(|_| invalid(format!("row {}: {:?} is not a count", line + 2, &record[i])))
        };
        let optional = |i: usize| -> Result<Option<u64>, AssessError> {
            if record[i].is_empty() {
                Ok(None)
            } else {
                number(i).map(Some)
            }
        };
        let mut by_kind = [0u64; Kind::COUNT];
        for (k, &i) in kinds.iter().enumerate() {
            by_kind[k] = number(i)?;
        }
        let count = |i: Option<usize>| -> Result<Option<u64>, AssessError> {
            i.map(optional).transpose().map(Option::flatten)
        };
        let [late, planned, not_sent, cap_waits, max_lag] = health_columns;
        let max_send_lag_us = match max_lag.map(|i| &record[i]) {
            None | Some("") => 0,
            Some(text) => millis_to_us(text).ok_or_else(|| {
                invalid(format!("row {}: {text:?} is not a time in ms", line + 2))
            })?,
        };
        let sample = SecondSample {
            second: u32::try_from(number(second)?)
                .map_err(|_| invalid("second out of range".into()))?,
            sent: number(sent)?,
            ok: Kind::ALL
                .iter()
                .filter(|k| k.is_success())
                .map(|k| by_kind[k.index()])
                .sum(),
            by_kind,
            first_failure_ms: optional(marks[0])?,
            last_failure_ms: optional(marks[1])?,
            first_success_ms: optional(marks[2])?,
            first_success_after_last_failure_ms: optional(marks[3])?,
            first_success_done_ms: done_marks[0].map(optional).transpose()?.flatten(),
            first_success_after_last_failure_done_ms: done_marks[1]
                .map(optional)
                .transpose()?
                .flatten(),
            health: GeneratorHealth {
                planned: count(planned)?,
                sent: number(sent)?,
                late: count(late)?.unwrap_or(0),
                not_sent: count(not_sent)?.unwrap_or(0),
                cap_waits: count(cap_waits)?.unwrap_or(0),
                local_errors: by_kind[Kind::LocalError.index()],
                max_send_lag_us,
            },
        };
        let mut by_cluster = ClusterSecond {
            second: sample.second,
            ..ClusterSecond::default()
        };
        for &(count, first) in &cluster_columns {
            by_cluster.pages.push(number(count)?);
            by_cluster
                .first_ms
                .push(first.map(optional).transpose()?.flatten());
        }
        let name = &record[target];
        match scopes.iter().position(|(n, _)| n == name) {
            Some(i) => {
                scopes[i].1.push(sample);
                pages[i].push(by_cluster);
            }
            None => {
                scopes.push((name.to_string(), vec![sample]));
                pages.push(vec![by_cluster]);
            }
        }
    }
    Ok(Timeline {
        scopes,
        clusters,
        pages,
    })
}

/// `12.345` (the timeline's ms with three decimals) as µs.
fn millis_to_us(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac: u64 = format!("{frac:0<3}").parse().ok()?;
    whole
        .parse::<u64>()
        .ok()?
        .checked_mul(1000)?
        .checked_add(frac)
}

/// The assessment of a run from its summary (faults, markers, totals) and
/// its timeline.
pub fn assess(
    summary: &Value,
    timeline: &Timeline,
    rule: &RecoveryRule,
    slo: &SloPlan,
) -> Assessment {
    let run_end_ms = summary["seconds"].as_u64().unwrap_or(0) * 1000;
    // Faults and markers in order of T0; a fault that never ran is placed
    // at its planned time and measured as nothing.
    let mut starts: Vec<Start> = Vec::new();
    for f in summary["faults"].as_array().into_iter().flatten() {
        let t0 = f["injected_at_ms"].as_f64().map(|ms| ms as u64);
        let planned = f["planned_at_ms"].as_f64().unwrap_or(0.0);
        starts.push(Start {
            name: f["name"].as_str().unwrap_or("fault").to_string(),
            t0_ms: t0,
            source: T0Source::Hook,
            order: t0.map_or(planned, |t| t as f64),
            target: f["target"].as_str().map(str::to_string),
            restore_done_ms: f["restore_done_ms"].as_f64().map(|ms| ms as u64),
        });
    }
    for m in summary["markers"].as_array().into_iter().flatten() {
        let at = m["at_ms"].as_f64().unwrap_or(0.0);
        starts.push(Start {
            name: format!("marker {}", m["number"]),
            t0_ms: Some(at as u64),
            source: T0Source::Marker,
            order: at,
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
    let outages: Vec<FaultOutage> = regions
        .iter()
        .zip(starts)
        .map(|(region, start)| {
            let mut scopes = scoped_outages(timeline, region, rule);
            let window = fault_window_of(&scopes, region, &start);
            add_window_figures(timeline, &mut scopes, window.as_ref());
            add_failover(timeline, &mut scopes, window.as_ref(), region);
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

    let mut criteria = Vec::new();
    if let Some(spec) = &slo.all {
        criteria.extend(evaluate(
            spec,
            "all",
            &measured(&summary["all"], "all", &outages),
        ));
    }
    for (target, spec) in &slo.targets {
        let totals = summary["targets"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["name"] == target.as_str()))
            .unwrap_or(&Value::Null);
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
    let scenario = &summary["scenario"];
    let max_late_pct = scenario["max_late_pct"]
        .as_f64()
        .unwrap_or(crate::scenario::DEFAULT_MAX_LATE_PCT);
    let warmup_seconds = scenario["warmup_s"].as_f64().unwrap_or(0.0).floor() as u32;
    let generator = judge(timeline, &judged, rule, max_late_pct, warmup_seconds);
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
fn answered_criteria(summary: &Value) -> Vec<Criterion> {
    summary["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let ok = t["ok"].as_u64().unwrap_or(0);
            let requests = t["requests"].as_u64().unwrap_or(0);
            Criterion {
                name: "answered".into(),
                scope: t["name"].as_str().unwrap_or("?").to_string(),
                threshold: "≥ 1 ok response".into(),
                measured: format!("{ok} of {requests} ok"),
                pass: ok > 0,
            }
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
        // Whole seconds of this fault's region before T0's: one that began
        // in the previous fault's region is not evidence of home.
        let before_from = u32::try_from(region.start_ms.div_ceil(1000)).unwrap_or(u32::MAX);
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

fn measured(totals: &Value, scope: &str, outages: &[FaultOutage]) -> Measured {
    let requests = totals["requests"].as_u64().unwrap_or(0);
    let failed = totals["failed"].as_u64().unwrap_or(0);
    let counts = |key: &str| -> Vec<(String, u64)> {
        totals[key]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
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
    Measured {
        requests,
        failed,
        availability_pct: totals["availability_pct"].as_f64(),
        error_rate_pct: (requests > 0).then(|| 100.0 * failed as f64 / requests as f64),
        p50_ms: totals["latency_ms"]["p50"].as_f64(),
        p99_ms: totals["latency_ms"]["p99"].as_f64(),
        worst_rto: MeasuredRto::worst(reports),
        versions: counts("ok_by_version"),
        clusters: counts("ok_by_cluster"),
    }
}

/// A drill whose fault did not happen as planned cannot pass: every hook
/// fault adds this criterion.
fn hooks_criterion(summary: &Value) -> Option<Criterion> {
    let faults = summary["faults"].as_array()?;
    if faults.is_empty() {
        return None;
    }
    let failed: BTreeMap<&str, &str> = faults
        .iter()
        .filter_map(|f| Some((f["name"].as_str()?, f["error"].as_str()?)))
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
