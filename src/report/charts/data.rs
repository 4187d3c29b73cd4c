//! What the charts show, read back from a results folder (timeline.csv,
//! summary.json, latency.hlog and latency-ok.hlog) plus the assessment:
//! plain numbers per second per scope. Charts never compute statistics;
//! they draw these.

use std::path::Path;

use hdrhistogram::Histogram;
use serde_json::Value;

use crate::assess::{Assessment, Recovery};
use crate::outcome::Kind;
use crate::record::new_histogram;
use crate::results::hlog;
use crate::results::timeline::CLUSTER_PREFIX;

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
    /// By [`Kind::index`].
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
pub fn fault_band(fault: &Value, end_s: f64) -> Option<Window> {
    let from_s = fault["injected_at_ms"].as_f64()? / 1000.0;
    let to_s = fault["restore_done_ms"]
        .as_f64()
        .or(fault["restored_at_ms"].as_f64())
        .map_or(end_s, |ms| ms / 1000.0);
    let name = fault["name"].as_str().unwrap_or("fault");
    let name = if fault["restore_failed"].as_bool() == Some(true) {
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
}

impl ChartData {
    pub fn read(dir: &Path, summary: &Value, assessment: &Assessment) -> Result<ChartData, String> {
        let path = dir.join(crate::results::timeline::FILE);
        let mut reader =
            csv::Reader::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let headers = reader.headers().map_err(|e| e.to_string())?.clone();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let clusters: Vec<String> = headers
            .iter()
            .filter_map(|h| h.strip_prefix(CLUSTER_PREFIX).map(String::from))
            .collect();
        let cluster_cols: Vec<usize> = clusters
            .iter()
            .filter_map(|c| col(&format!("{CLUSTER_PREFIX}{c}")))
            .collect();
        let kind_cols: Vec<Option<usize>> = Kind::ALL.iter().map(|k| col(k.name())).collect();
        let version_cols: Vec<Option<usize>> =
            ["reviews_unknown", "reviews_v1", "reviews_v2", "reviews_v3"]
                .iter()
                .map(|c| col(c))
                .collect();
        let ok_version_cols: Vec<Option<usize>> =
            ["ok_v1", "ok_v2", "ok_v3"].iter().map(|c| col(c)).collect();
        let (second, target, sent) = (col("second"), col("target"), col("sent"));
        let (Some(second), Some(target), Some(sent)) = (second, target, sent) else {
            return Err(format!("{}: not a meshdrill timeline", path.display()));
        };
        let mut scopes: Vec<Series> = Vec::new();
        for record in reader.records() {
            let r = record.map_err(|e| e.to_string())?;
            let int = |i: usize| r.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            let float = |name: &str| {
                col(name)
                    .and_then(|i| r.get(i))
                    .and_then(|v| v.parse::<f64>().ok())
            };
            let mut versions = [0; 4];
            for (slot, c) in version_cols.iter().enumerate() {
                versions[slot] = c.map_or(0, int);
            }
            let mut ok_versions = [0; 3];
            for (slot, c) in ok_version_cols.iter().enumerate() {
                ok_versions[slot] = c.map_or(0, int);
            }
            let row = Row {
                ok_versions,
                second: int(second) as u32,
                sent: int(sent),
                failed: col("failed").map_or(0, int),
                availability_pct: float("availability_pct"),
                kinds: kind_cols.iter().map(|c| c.map_or(0, int)).collect(),
                p50_ms: float("p50_ms"),
                p90_ms: float("p90_ms"),
                p99_ms: float("p99_ms"),
                max_ms: float("max_ms"),
                ok_latency: None,
                failed_latency: None,
                versions,
                clusters: cluster_cols.iter().map(|&c| int(c)).collect(),
            };
            let name = r.get(target).unwrap_or("?");
            match scopes.iter_mut().find(|s| s.scope == name) {
                Some(s) => s.rows.push(row),
                None => scopes.push(Series {
                    scope: name.to_string(),
                    rows: vec![row],
                }),
            }
        }
        add_split_latency(dir, &mut scopes)?;
        let end_s = summary["seconds"].as_f64().unwrap_or(0.0);
        let windows = summary["faults"]
            .as_array()
            .into_iter()
            .flatten()
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
        Ok(ChartData {
            limited: crate::assess::generator::runs(&limited),
            title: summary["scenario"]["name"]
                .as_str()
                .unwrap_or("meshdrill")
                .to_string(),
            scopes,
            clusters,
            windows,
            outages,
            end_s,
        })
    }
}

/// Fills [`Row::ok_latency`] and [`Row::failed_latency`] from the two
/// interval logs, read in step (same seconds, same tags, same order); `all`
/// is every target's sum per second. A folder without latency-ok.hlog
/// (written before it existed) keeps `None`.
fn add_split_latency(dir: &Path, scopes: &mut [Series]) -> Result<(), String> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| (e.kind(), format!("{}: {e}", path.display())))
    };
    let ok_log = match read(hlog::OK_FILE) {
        Ok(bytes) => bytes,
        Err((std::io::ErrorKind::NotFound, _)) => return Ok(()),
        Err((_, e)) => return Err(e),
    };
    let every_log = read(hlog::FILE).map_err(|(_, e)| e)?;
    let named = |name: &'static str| move |e: String| format!("{}: {e}", dir.join(name).display());
    let (mut all_ok, mut all_failed) = (new_histogram(), new_histogram());
    let mut current: Option<u32> = None;
    // A run cut short may end one log an interval before the other: `zip`
    // stops at the shorter.
    let pairs = hlog::intervals(&every_log).zip(hlog::intervals(&ok_log));
    for (e, o) in pairs {
        let (e, o) = (
            e.map_err(named(hlog::FILE))?,
            o.map_err(named(hlog::OK_FILE))?,
        );
        if (e.tag.as_str(), e.second) != (o.tag.as_str(), o.second) {
            return Err(format!(
                "{} and {} disagree: {} at {}s against {} at {}s",
                hlog::FILE,
                hlog::OK_FILE,
                e.tag,
                e.second,
                o.tag,
                o.second
            ));
        }
        if current.is_some_and(|s| s != e.second) {
            set_latency(scopes, "all", current.unwrap_or(0), &all_ok, &all_failed);
            all_ok.reset();
            all_failed.reset();
        }
        current = Some(e.second);
        let mut failed = e.histogram.clone();
        failed.subtract(&o.histogram).map_err(|err| {
            format!(
                "{} holds more of {} at {}s than {}: {err:?}",
                hlog::OK_FILE,
                e.tag,
                e.second,
                hlog::FILE
            )
        })?;
        set_latency(scopes, &e.tag, e.second, &o.histogram, &failed);
        // A foreign log with other bounds is re-recorded by `add`.
        let _ = all_ok.add(&o.histogram);
        let _ = all_failed.add(&failed);
    }
    if let Some(second) = current {
        set_latency(scopes, "all", second, &all_ok, &all_failed);
    }
    Ok(())
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
    use serde_json::json;

    #[test]
    fn a_fault_band_ends_at_the_restore_end() {
        let f = json!({"name": "scale-down", "injected_at_ms": 10_002.0,
            "restored_at_ms": 20_000.0, "restore_done_ms": 49_512.0});
        let band = fault_band(&f, 60.0).unwrap();
        assert_eq!(
            (band.name.as_str(), band.from_s, band.to_s),
            ("scale-down", 10.002, 49.512)
        );
    }

    #[test]
    fn a_fault_band_without_a_restore_runs_to_the_end() {
        let f = json!({"name": "kill", "injected_at_ms": 5_000.0, "restore_failed": true});
        let band = fault_band(&f, 30.0).unwrap();
        assert_eq!(
            (band.name.as_str(), band.from_s, band.to_s),
            ("kill (restore FAILED)", 5.0, 30.0)
        );
        assert!(fault_band(&json!({"name": "never", "planned_at_ms": 1.0}), 30.0).is_none());
    }
}
