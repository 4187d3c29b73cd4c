//! The SLO verdict: the scenario's `[slo]` criteria ([`SloSpec`], for `all`
//! or one target) against what a run measured ([`Measured`]), as one
//! [`Criterion`] per configured key, each with its threshold and measured
//! value as a person reads them. Pure: fed by the run's totals and the
//! [`super::rto`] reports, read by `report` (summary.json, console) and by
//! the exit code.
//!
//! Boundaries: a value equal to its threshold passes (`≥` for minimums, `≤`
//! for maximums); percentages are compared with a 1e-9 point slack, so
//! float noise in `100 · ok / requests` cannot fail an exact 99.9 %.
//! Without requests, rate and latency criteria fail (nothing shows they
//! hold); `max_failed_requests` passes (nothing failed).

use std::time::Duration;

use super::rto::{OutageReport, Recovery};
pub use crate::results::verdict::Criterion;
use crate::scenario::SloSpec;

/// The worst RTO over a scope's faults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MeasuredRto {
    /// Every fault recovered (or caused no outage: 0); the largest RTO.
    Recovered(Duration),
    /// At least one fault did not recover; the largest lower bound.
    NotRecovered { lower_bound: Duration },
}

impl MeasuredRto {
    /// The worst of the reports: any not recovered beats every recovered.
    /// `None` without reports.
    pub fn worst<'a>(reports: impl IntoIterator<Item = &'a OutageReport>) -> Option<MeasuredRto> {
        let mut worst: Option<MeasuredRto> = None;
        for report in reports {
            let this = match report.recovery {
                Recovery::NotRecovered { lower_bound_ms } => MeasuredRto::NotRecovered {
                    lower_bound: Duration::from_millis(lower_bound_ms),
                },
                _ => MeasuredRto::Recovered(Duration::from_millis(report.rto_ms.unwrap_or(0))),
            };
            worst = Some(match (worst, this) {
                (None, this) => this,
                (Some(MeasuredRto::Recovered(a)), MeasuredRto::Recovered(b)) => {
                    MeasuredRto::Recovered(a.max(b))
                }
                (
                    Some(MeasuredRto::NotRecovered { lower_bound: a }),
                    MeasuredRto::NotRecovered { lower_bound: b },
                ) => MeasuredRto::NotRecovered {
                    lower_bound: a.max(b),
                },
                (Some(not @ MeasuredRto::NotRecovered { .. }), _) => not,
                (Some(_), not) => not,
            });
        }
        worst
    }
}

/// What a run measured for one scope.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Measured {
    pub requests: u64,
    pub failed: u64,
    /// `None` without requests.
    pub availability_pct: Option<f64>,
    /// `None` without requests.
    pub error_rate_pct: Option<f64>,
    /// `None` without requests.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// `None`: no fault was analysed (reads as no outage).
    pub worst_rto: Option<MeasuredRto>,
    /// Ok responses per reviews version (`"v1"`...), any order.
    pub versions: Vec<(String, u64)>,
    /// Ok responses per cluster, any order.
    pub clusters: Vec<(String, u64)>,
}

/// Slack for percentage comparisons (points), against f64 noise.
const PCT_SLACK: f64 = 1e-9;

/// One [`Criterion`] per configured criterion of `spec`, in the order of
/// [`SloSpec`]'s fields; nothing for unset ones.
pub fn evaluate(spec: &SloSpec, scope: &str, measured: &Measured) -> Vec<Criterion> {
    let mut out = Vec::new();
    let mut push = |name: &str, threshold: String, measured: String, pass: bool| {
        out.push(Criterion {
            name: name.to_string(),
            scope: scope.to_string(),
            threshold,
            measured,
            pass,
        })
    };
    const NO_REQUESTS: &str = "no requests";

    if let Some(min) = spec.availability_min_pct {
        let (threshold, shown, pass) = match measured.availability_pct {
            Some(a) => {
                let (t, m) = pct_pair(min, a);
                (t, m, a + PCT_SLACK >= min)
            }
            None => (pct(min), NO_REQUESTS.to_string(), false),
        };
        push(
            "availability_min_pct",
            format!("≥ {threshold}"),
            shown,
            pass,
        );
    }
    if let Some(max) = spec.max_failed_requests {
        push(
            "max_failed_requests",
            format!("≤ {max}"),
            measured.failed.to_string(),
            measured.failed <= max,
        );
    }
    if let Some(max) = spec.error_rate_max_pct {
        let (threshold, shown, pass) = match measured.error_rate_pct {
            Some(e) => {
                let (t, m) = pct_pair(max, e);
                (t, m, e <= max + PCT_SLACK)
            }
            None => (pct(max), NO_REQUESTS.to_string(), false),
        };
        push("error_rate_max_pct", format!("≤ {threshold}"), shown, pass);
    }
    for (name, max, value) in [
        ("p99_max_ms", spec.p99_max_ms, measured.p99_ms),
        ("p95_max_ms", spec.p95_max_ms, measured.p95_ms),
        ("p50_max_ms", spec.p50_max_ms, measured.p50_ms),
    ] {
        let Some(max) = max else { continue };
        let (shown, pass) = match value {
            Some(v) => (format!("{v:.3} ms"), v <= max),
            None => (NO_REQUESTS.to_string(), false),
        };
        push(name, format!("≤ {} ms", trim_decimals(max, 3)), shown, pass);
    }
    if let Some(max) = spec.rto_max {
        let (shown, pass) = match measured.worst_rto {
            None => ("no outage".to_string(), true),
            Some(MeasuredRto::Recovered(rto)) => (seconds(rto), rto <= max),
            Some(MeasuredRto::NotRecovered { lower_bound }) => {
                (format!("not recovered (> {})", seconds(lower_bound)), false)
            }
        };
        let threshold = format!("≤ {}", humantime::format_duration(max));
        push("rto_max", threshold, shown, pass);
    }
    for (expect_name, expected, only_name, allowed, served) in [
        (
            "expect_versions",
            &spec.expect_versions,
            "only_versions",
            &spec.only_versions,
            &measured.versions,
        ),
        (
            "expect_clusters",
            &spec.expect_clusters,
            "only_clusters",
            &spec.only_clusters,
            &measured.clusters,
        ),
    ] {
        // Ok responses per name, merged and in name order, zeros dropped.
        let mut seen: Vec<(&str, u64)> = Vec::new();
        for (n, c) in served.iter().filter(|(_, c)| *c > 0) {
            match seen.iter_mut().find(|(s, _)| s == n) {
                Some((_, sum)) => *sum += c,
                None => seen.push((n, *c)),
            }
        }
        seen.sort();
        let count = |name: &str| seen.iter().find(|(n, _)| *n == name).map_or(0, |s| s.1);
        if !expected.is_empty() {
            let shown: Vec<String> = expected
                .iter()
                .map(|e| format!("{e}: {}", count(e)))
                .collect();
            let pass = expected.iter().all(|e| count(e) > 0);
            let threshold = format!("{} each ≥ 1 ok", expected.join(", "));
            push(expect_name, threshold, shown.join(", "), pass);
        }
        if !allowed.is_empty() {
            let stray = |n: &str| !allowed.iter().any(|a| a == n);
            let shown: Vec<String> = seen
                .iter()
                .map(|&(n, c)| {
                    if stray(n) {
                        format!("{n}: {c} (not allowed)")
                    } else {
                        format!("{n}: {c}")
                    }
                })
                .collect();
            let pass = !seen.iter().any(|&(n, _)| stray(n));
            let shown = if shown.is_empty() {
                "no ok responses".to_string()
            } else {
                shown.join(", ")
            };
            push(
                only_name,
                format!("only {}", allowed.join(", ")),
                shown,
                pass,
            );
        }
    }
    out
}

/// `8.012 s`.
fn seconds(d: Duration) -> String {
    format!("{}.{:03} s", d.as_secs(), d.subsec_millis())
}

/// A percentage with two decimals, more when the value needs them (99.95,
/// 99.999), at most six.
fn pct(x: f64) -> String {
    format!("{} %", pct_digits(x, min_decimals(x)))
}

/// Threshold and measured value with the same decimals, enough that a
/// measured value that differs from the threshold never looks equal to it.
fn pct_pair(threshold: f64, measured: f64) -> (String, String) {
    let mut decimals = min_decimals(threshold);
    while decimals < 6
        && (measured - threshold).abs() > PCT_SLACK
        && pct_digits(measured, decimals) == pct_digits(threshold, decimals)
    {
        decimals += 1;
    }
    (
        format!("{} %", pct_digits(threshold, decimals)),
        format!("{} %", pct_digits(measured, decimals)),
    )
}

fn pct_digits(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

/// Decimals (2..=6) that show `x` without rounding it.
fn min_decimals(x: f64) -> usize {
    (2..6)
        .find(|&d| (pct_digits(x, d).parse::<f64>().unwrap_or(x) - x).abs() < 1e-9)
        .unwrap_or(6)
}

/// `500`, `0.5`, `12.125`: at most `max` decimals, trailing zeros dropped.
fn trim_decimals(x: f64, max: usize) -> String {
    let s = format!("{x:.max$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}
