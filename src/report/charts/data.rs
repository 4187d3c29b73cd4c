//! What the charts show, from a results folder read back by
//! `Results::load` (timeline.csv, summary.json, latency.hlog and
//! latency-ok.hlog) plus the assessment: plain numbers per second per
//! scope. Charts never compute statistics; they draw these.

use hdrhistogram::Histogram;

use crate::assess::{Assessment, Recovery};
use crate::record::new_histogram;
use crate::results::Results;
use crate::results::faults::FaultRecord;
use crate::results::hlog::Hlog;

/// One scope (a target, or `all`) over the run.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub scope: String,
    pub rows: Vec<Row>,
}

#[derive(Clone, Debug, Default)]
pub struct Row {
    pub second: u32,
    pub sent: u64,
    pub availability_pct: Option<f64>,
    /// By [`crate::outcome::Kind::index`].
    pub kinds: Vec<u64>,
    /// Failed requests (timeline's `failed`: every kind but `ok`).
    pub failed: u64,
    /// Every request's latency (timeline.csv): failures included, so fast
    /// refusals pull these down in an outage.
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// Successes' latency (latency-ok.hlog): what the latency chart draws.
    /// `None` in a second without a success, or for a folder written
    /// before meshdrill wrote that log.
    pub ok_latency: Option<LatencyMs>,
    /// Failures' latency: latency.hlog minus latency-ok.hlog, exact (the
    /// successes are a subset of every request, on the same bounds), so a
    /// refusal in 0.5 ms and a timeout at 2 s stay apart. `None` in a
    /// second without a failure.
    pub failed_latency: Option<LatencyMs>,
    /// `[unknown, v1, v2, v3]` productpages.
    pub versions: [u64; 4],
    /// Successes by reviews version: `[v1, v2, v3]`.
    pub ok_versions: [u64; 3],
    /// Productpages per cluster column, in [`ChartData::clusters`] order.
    pub clusters: Vec<u64>,
}

/// Percentiles of one second's histogram, in ms (µs / 1000, as recorded).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyMs {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl LatencyMs {
    /// `None` for an empty histogram.
    pub fn of(h: &Histogram<u64>) -> Option<LatencyMs> {
        let ms = |us: u64| us as f64 / 1000.0;
        (!h.is_empty()).then(|| LatencyMs {
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        })
    }
}

/// A fault from inject to restore (or the run's end), in seconds.
#[derive(Clone, Debug)]
pub struct Window {
    pub name: String,
    pub from_s: f64,
    pub to_s: f64,
}

/// A fault's band: from the inject's start to the restore's *end* (a
/// restore hook that ran for 30 s kept the fault in effect until it was
/// done), else the run's end `end_s`; a failed restore says so in its
/// name. `None` for a fault that was never injected.
pub fn fault_band(fault: &FaultRecord, end_s: f64) -> Option<Window> {
    let from_s = fault.injected_at_ms? / 1000.0;
    let to_s = fault
        .restore_done_ms
        .or(fault.restored_at_ms)
        .map_or(end_s, |ms| ms / 1000.0);
    let name = &fault.name;
    let name = if fault.restore_failed {
        format!("{name} (restore FAILED)")
    } else {
        name.to_string()
    };
    Some(Window { name, from_s, to_s })
}

/// T0 and recovery of one outage on one scope.
#[derive(Clone, Debug)]
pub struct OutageMark {
    pub fault: String,
    pub scope: String,
    pub t0_s: f64,
    pub recovered_s: Option<f64>,
    /// `8.004 s` or `not recovered (> 20.000 s)`.
    pub label: String,
}

#[derive(Clone, Debug, Default)]
pub struct ChartData {
    pub title: String,
    pub scopes: Vec<Series>,
    /// Cluster column names (`primary`, ..., `other`, `unknown`).
    pub clusters: Vec<String>,
    pub windows: Vec<Window>,
    pub outages: Vec<OutageMark>,
    /// Seconds in which the generator was limited on any target, as
    /// inclusive runs `[from, to]`: drawn shaded grey, because there the
    /// generator, not the target, set the numbers.
    pub limited: Vec<[u32; 2]>,
    pub end_s: f64,
    /// `[evidence]`: one panel per query Prometheus answered, in the
    /// scenario's order; empty without `[evidence]`.
    pub mesh: Vec<MeshPanel>,
}

/// One evidence query's series, as evidence/<name>.csv holds them.
#[derive(Clone, Debug, Default)]
pub struct MeshPanel {
    pub name: String,
    /// In the order Prometheus answered them.
    pub series: Vec<MeshSeries>,
    /// Labels every series has (`code=503`), named once in the legend.
    pub common: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct MeshSeries {
    /// What the legend names it by: the labels that tell the panel's
    /// series apart, Istio's long names shortened (see [`legend_labels`]).
    pub label: String,
    /// `(run second, value)` in time order.
    pub points: Vec<(f64, f64)>,
}

/// The panels of every query that answered, each sample's series kept
/// together in the order they first appear.
pub fn mesh_panels(evidence: Option<&crate::results::evidence::Evidence>) -> Vec<MeshPanel> {
    let Some(evidence) = evidence else {
        return Vec::new();
    };
    evidence
        .queries
        .iter()
        .filter(|q| q.record.status == crate::results::evidence::QueryStatus::Ok)
        .map(|q| {
            let mut series: Vec<MeshSeries> = Vec::new();
            for row in &q.rows {
                let point = (row.second as f64, row.value);
                match series.iter_mut().rev().find(|s| s.label == row.series) {
                    Some(s) => s.points.push(point),
                    None => series.push(MeshSeries {
                        label: row.series.clone(),
                        points: vec![point],
                    }),
                }
            }
            let (labels, common) =
                legend_labels(&series.iter().map(|s| s.label.as_str()).collect::<Vec<_>>());
            for (s, label) in series.iter_mut().zip(labels) {
                s.label = label;
            }
            MeshPanel {
                name: q.record.name.clone(),
                series,
                common,
            }
        })
        .collect()
}

/// Istio's label names as a legend shows them.
const SHORT: [(&str, &str); 6] = [
    ("destination_cluster", "dst"),
    ("source_cluster", "src"),
    ("response_code", "code"),
    ("response_flags", "flags"),
    ("destination_service_name", "dst_svc"),
    ("destination_workload", "dst_wl"),
];

/// Per series, the `k=v` pairs that differ between the series (Istio's
/// names shortened: `dst=primary src=secondary`); and the pairs all share,
/// said once (`code=503`, `flags=UH`). A label string that does not parse
/// is kept as it is.
pub fn legend_labels(series: &[&str]) -> (Vec<String>, Vec<String>) {
    let parsed: Vec<Option<Vec<(String, String)>>> =
        series.iter().map(|s| parse_labels(s)).collect();
    let all_parsed: Vec<&Vec<(String, String)>> = parsed.iter().flatten().collect();
    let shared = |pair: &(String, String)| {
        all_parsed.len() == series.len()
            && series.len() > 1
            && all_parsed.iter().all(|p| p.contains(pair))
    };
    let short = |k: &str| {
        SHORT
            .iter()
            .find(|(long, _)| *long == k)
            .map_or(k.to_string(), |(_, s)| s.to_string())
    };
    let common = all_parsed
        .first()
        .map(|first| {
            first
                .iter()
                .filter(|p| shared(p))
                .map(|(k, v)| format!("{}={v}", short(k)))
                .collect()
        })
        .unwrap_or_default();
    let labels = series
        .iter()
        .zip(&parsed)
        .map(|(raw, p)| match p {
            None => raw.to_string(),
            Some(pairs) => {
                let own: Vec<String> = pairs
                    .iter()
                    .filter(|p| !shared(p))
                    .map(|(k, v)| format!("{}={v}", short(k)))
                    .collect();
                if own.is_empty() {
                    "(no labels)".to_string()
                } else {
                    own.join(" ")
                }
            }
        })
        .collect();
    (labels, common)
}

/// `name{a="1",b="x\"y"}` → `[("a", "1"), ("b", "x\"y")]` (the metric
/// name is dropped); `None` when it is not in that form.
fn parse_labels(s: &str) -> Option<Vec<(String, String)>> {
    let body = s.get(s.find('{')? + 1..)?.strip_suffix('}')?;
    let mut pairs = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        pairs.push((key.to_string(), value));
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
    Some(pairs)
}

impl ChartData {
    /// The charts' numbers of a run read back by `Results::load`.
    pub fn read(results: &Results, assessment: &Assessment) -> ChartData {
        let summary = &results.summary;
        let timeline = &results.timeline;
        let scopes: Vec<Series> = timeline
            .scopes
            .iter()
            .map(|s| Series {
                scope: s.scope.clone(),
                rows: s
                    .rows
                    .iter()
                    .map(|r| Row {
                        second: r.second,
                        sent: r.sent,
                        availability_pct: r.availability_pct,
                        kinds: r.by_kind.to_vec(),
                        failed: r.failed,
                        p50_ms: r.p50_ms,
                        p90_ms: r.p90_ms,
                        p99_ms: r.p99_ms,
                        max_ms: r.max_ms,
                        ok_latency: None,
                        failed_latency: None,
                        versions: r.reviews,
                        ok_versions: r.ok_versions,
                        clusters: r.clusters.clone(),
                    })
                    .collect(),
            })
            .collect();
        let mut scopes = scopes;
        if let Some(ok_log) = &results.hlog_ok {
            add_split_latency(&results.hlog, ok_log, &mut scopes);
        }
        let clusters = timeline.clusters.clone();
        let end_s = f64::from(summary.seconds);
        let windows = summary
            .faults
            .iter()
            .filter_map(|f| fault_band(f, end_s))
            .collect();
        let mut outages = Vec::new();
        for o in &assessment.outages {
            for s in &o.scopes {
                let Some(t0) = s.report.t0_ms else { continue };
                let (recovered_s, label) = match s.report.recovery {
                    Recovery::NoOutage => continue,
                    Recovery::Recovered { at_ms } => (
                        Some(at_ms as f64 / 1000.0),
                        format!("RTO {:.3} s", s.report.rto_ms.unwrap_or(0) as f64 / 1000.0),
                    ),
                    Recovery::NotRecovered { lower_bound_ms } => (
                        None,
                        format!("not recovered (> {:.3} s)", lower_bound_ms as f64 / 1000.0),
                    ),
                };
                outages.push(OutageMark {
                    fault: o.fault.clone(),
                    scope: s.scope.clone(),
                    t0_s: t0 as f64 / 1000.0,
                    recovered_s,
                    label,
                });
            }
        }
        let mut limited: Vec<u32> = assessment
            .verdict
            .generator
            .scopes
            .iter()
            .filter(|s| s.scope != "all")
            .flat_map(|s| s.limited_seconds.iter().flat_map(|[a, b]| *a..=*b))
            .collect();
        limited.sort_unstable();
        limited.dedup();
        ChartData {
            limited: crate::assess::generator::runs(&limited),
            title: summary.scenario.name.clone(),
            scopes,
            clusters,
            windows,
            outages,
            end_s,
            mesh: mesh_panels(results.evidence.as_ref()),
        }
    }
}

/// Fills [`Row::ok_latency`] and [`Row::failed_latency`] from the two
/// interval logs, read in step (same seconds, same tags, same order); `all`
/// is every target's sum per second. A folder without latency-ok.hlog
/// (written before it existed) keeps `None`.
/// Successes' and failures' latency per second and scope from the two
/// logs, which `Results::load` has already checked hold the same intervals
/// in the same order (failures: every request minus the successes, exact).
fn add_split_latency(every: &Hlog, ok: &Hlog, scopes: &mut [Series]) {
    let (mut all_ok, mut all_failed) = (new_histogram(), new_histogram());
    let mut current: Option<u32> = None;
    for (e, o) in every.intervals.iter().zip(&ok.intervals) {
        if current.is_some_and(|s| s != e.second) {
            set_latency(scopes, "all", current.unwrap_or(0), &all_ok, &all_failed);
            all_ok.reset();
            all_failed.reset();
        }
        current = Some(e.second);
        let (every_h, ok_h) = (e.histogram(), o.histogram());
        let mut failed = every_h.clone();
        // A subset, checked by `hlog::read_ok` when the folder was read.
        let _ = failed.subtract(&ok_h);
        set_latency(scopes, &e.tag, e.second, &ok_h, &failed);
        // A foreign log with other bounds is re-recorded by `add`.
        let _ = all_ok.add(&ok_h);
        let _ = all_failed.add(&failed);
    }
    if let Some(second) = current {
        set_latency(scopes, "all", second, &all_ok, &all_failed);
    }
}

fn set_latency(
    scopes: &mut [Series],
    scope: &str,
    second: u32,
    ok: &Histogram<u64>,
    failed: &Histogram<u64>,
) {
    let row = scopes
        .iter_mut()
        .filter(|s| s.scope == scope)
        .flat_map(|s| s.rows.iter_mut())
        .find(|r| r.second == second);
    if let Some(row) = row {
        row.ok_latency = LatencyMs::of(ok);
        row.failed_latency = LatencyMs::of(failed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(name: &str) -> FaultRecord {
        FaultRecord {
            name: name.to_string(),
            planned_at_ms: 1.0,
            ..FaultRecord::default()
        }
    }

    #[test]
    fn a_fault_band_ends_at_the_restore_end() {
        let f = FaultRecord {
            injected_at_ms: Some(10_002.0),
            restored_at_ms: Some(20_000.0),
            restore_done_ms: Some(49_512.0),
            ..fault("scale-down")
        };
        let band = fault_band(&f, 60.0).unwrap();
        assert_eq!(
            (band.name.as_str(), band.from_s, band.to_s),
            ("scale-down", 10.002, 49.512)
        );
    }

    #[test]
    fn a_fault_band_without_a_restore_runs_to_the_end() {
        let f = FaultRecord {
            injected_at_ms: Some(5_000.0),
            restore_failed: true,
            ..fault("kill")
        };
        let band = fault_band(&f, 30.0).unwrap();
        assert_eq!(
            (band.name.as_str(), band.from_s, band.to_s),
            ("kill (restore FAILED)", 5.0, 30.0)
        );
        assert!(fault_band(&fault("never"), 30.0).is_none());
    }

    #[test]
    fn legends_name_what_tells_series_apart_and_what_they_share_once() {
        let (labels, common) = legend_labels(&[
            r#"{destination_cluster="primary",response_code="503",response_flags="UH"}"#,
            r#"{destination_cluster="secondary",response_code="503",response_flags="UH"}"#,
        ]);
        assert_eq!(labels, ["dst=primary", "dst=secondary"]);
        assert_eq!(common, ["code=503", "flags=UH"]);
        let (labels, common) = legend_labels(&[r#"up{job="a \"b\"",x="1"}"#, "not labels"]);
        assert_eq!(labels, [r#"job=a "b" x=1"#, "not labels"]);
        assert!(common.is_empty());
        let (labels, common) = legend_labels(&["{}", r#"{a="1"}"#]);
        assert_eq!(labels, ["(no labels)", "a=1"]);
        assert!(common.is_empty());
        // One series: every label is its own.
        let (labels, common) = legend_labels(&[r#"{source_cluster="primary"}"#]);
        assert_eq!((labels, common), (vec!["src=primary".to_string()], vec![]));
    }
}
