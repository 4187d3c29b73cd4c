//! One line of a comparison ([`Row`]): a metric of one scope in one
//! section, the reference's value (a baseline's, or a percentile of a
//! history) beside the current run's, and the judgement; how each value
//! and difference reads; and the line naming a regression.

use std::collections::BTreeMap;

use super::figures::{Rto, Section, kinds, shares};
use super::tolerance::Gate;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    Rto,
    Availability,
    Failed,
    /// Failed requests by kind.
    Kinds,
    P50,
    P99,
    Versions,
    Clusters,
}

impl Metric {
    pub const fn name(self) -> &'static str {
        match self {
            Metric::Rto => "RTO",
            Metric::Availability => "availability",
            Metric::Failed => "failed",
            Metric::Kinds => "failures",
            Metric::P50 => "p50",
            Metric::P99 => "p99",
            Metric::Versions => "versions",
            Metric::Clusters => "clusters",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Rto(Rto),
    Pct(f64),
    Ms(f64),
    Count(u64),
    /// Counts by name (failures by kind).
    Counts(BTreeMap<String, u64>),
    /// Shares of the counts by name (versions, clusters).
    Shares(BTreeMap<String, u64>),
    /// Not in that run (no requests, no such scope or section).
    Missing,
}

impl Value {
    pub fn show(&self) -> String {
        match self {
            Value::Rto(Rto::Recovered { ms: 0 }) => "no outage".to_string(),
            Value::Rto(Rto::Recovered { ms }) => seconds(*ms as f64),
            Value::Rto(Rto::NotRecovered { lower_bound_ms }) => {
                format!("NOT RECOVERED (> {})", seconds(*lower_bound_ms as f64))
            }
            Value::Rto(Rto::NotMeasured) => "not measured".to_string(),
            Value::Pct(p) => format!("{p:.2} %"),
            Value::Ms(ms) => format!("{ms:.1} ms"),
            Value::Count(n) => n.to_string(),
            Value::Counts(counts) => kinds(counts),
            Value::Shares(counts) => shares(counts),
            Value::Missing => "-".to_string(),
        }
    }
}

/// `8.004 s`.
pub fn seconds(ms: f64) -> String {
    format!("{:.3} s", ms / 1000.0)
}

#[derive(Clone, Debug, PartialEq)]
pub enum Judgement {
    /// Shown, not gated.
    Info,
    /// Gated, and within the tolerance (or better).
    Within,
    Regressed,
    /// Gated, but one side has nothing to compare; why.
    NotJudged(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub section: Section,
    pub scope: String,
    pub metric: Metric,
    pub reference: Value,
    pub current: Value,
    pub judgement: Judgement,
    /// The tolerance it was judged with, as a person reads it (`10 % or
    /// 1.000 s`), for gated rows.
    pub tolerance: Option<String>,
}

impl Row {
    /// `+4.000 s (+50 %)`, `-1.90 pp`, `+800`; empty when the two cannot be
    /// subtracted.
    pub fn difference(&self) -> String {
        match (&self.reference, &self.current) {
            (Value::Rto(Rto::Recovered { ms: a }), Value::Rto(Rto::Recovered { ms: b })) => {
                let (a, b) = (*a as f64, *b as f64);
                with_relative(&signed(b - a, seconds), a, b)
            }
            (Value::Ms(a), Value::Ms(b)) => {
                with_relative(&signed(b - a, |d| format!("{d:.1} ms")), *a, *b)
            }
            (Value::Pct(a), Value::Pct(b)) => signed(b - a, |d| format!("{d:.2} pp")),
            (Value::Count(a), Value::Count(b)) => {
                signed(*b as f64 - *a as f64, |d| format!("{d:.0}"))
            }
            _ => String::new(),
        }
    }

    /// `RTO primary-down/primary 8.004 s → 12.004 s (+4.000 s (+50 %), tolerance 10 % or 1.000 s)`.
    pub fn regression_line(&self) -> String {
        let difference = self.difference();
        let mut why = Vec::new();
        if !difference.is_empty() {
            why.push(difference);
        }
        if let Some(tolerance) = &self.tolerance {
            why.push(format!("tolerance {tolerance}"));
        }
        format!(
            "{} {}/{} {} → {} ({})",
            self.metric.name(),
            self.section.label(),
            self.scope,
            self.reference.show(),
            self.current.show(),
            why.join(", ")
        )
    }
}

/// `+4.000 s`, `-0.3 ms`: the sign always shown; a difference that rounds
/// to zero reads `+0.0 ms`, never `-0.0 ms`.
fn signed(d: f64, show: impl Fn(f64) -> String) -> String {
    if d < 0.0 && show(-d) != show(0.0) {
        format!("-{}", show(-d))
    } else {
        format!("+{}", show(d.abs()))
    }
}

/// `+4.000 s (+50 %)`; the percentage left out from 0.
fn with_relative(difference: &str, reference: f64, current: f64) -> String {
    if reference == 0.0 {
        return difference.to_string();
    }
    let pct = 100.0 * (current - reference) / reference;
    format!("{difference} ({})", signed(pct, |p| format!("{p:.0} %")))
}

/// `10 % or 1.000 s`: what a [`Gate`] allows, in the metric's unit.
pub fn gate_text(gate: &Gate, unit: impl Fn(f64) -> String) -> String {
    format!("{} % or {}", trim(gate.relative_pct), unit(gate.floor))
}

/// `10`, `2.5`: a number without trailing zeros.
pub fn trim(x: f64) -> String {
    let text = format!("{x:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rto_row(a: u64, b: u64) -> Row {
        Row {
            section: Section::Fault("primary-down".into()),
            scope: "primary".into(),
            metric: Metric::Rto,
            reference: Value::Rto(Rto::Recovered { ms: a }),
            current: Value::Rto(Rto::Recovered { ms: b }),
            judgement: Judgement::Regressed,
            tolerance: Some("10 % or 1.000 s".into()),
        }
    }

    #[test]
    fn a_regression_names_the_metric_both_values_and_the_tolerance() {
        assert_eq!(
            rto_row(8000, 12_000).regression_line(),
            "RTO primary-down/primary 8.000 s → 12.000 s (+4.000 s (+50 %), tolerance 10 % or 1.000 s)"
        );
        assert_eq!(rto_row(0, 2000).difference(), "+2.000 s");
        assert_eq!(rto_row(2000, 1000).difference(), "-1.000 s (-50 %)");
        let mut p99 = rto_row(0, 0);
        p99.reference = Value::Ms(3.21);
        p99.current = Value::Ms(3.2);
        assert_eq!(p99.difference(), "+0.0 ms (+0 %)");
        let mut availability = rto_row(0, 0);
        availability.metric = Metric::Availability;
        availability.reference = Value::Pct(99.9);
        availability.current = Value::Pct(98.0);
        assert_eq!(availability.difference(), "-1.90 pp");
        availability.current = Value::Missing;
        assert_eq!(availability.difference(), "");
    }

    #[test]
    fn values_read_as_people_say_them() {
        assert_eq!(Value::Rto(Rto::Recovered { ms: 0 }).show(), "no outage");
        assert_eq!(
            Value::Rto(Rto::NotRecovered {
                lower_bound_ms: 20_500
            })
            .show(),
            "NOT RECOVERED (> 20.500 s)"
        );
        let by_kind = BTreeMap::from([("refused".to_string(), 3), ("reset".to_string(), 1)]);
        assert_eq!(Value::Counts(by_kind).show(), "refused 3, reset 1");
        let versions = BTreeMap::from([("v1".to_string(), 1), ("v2".to_string(), 3)]);
        assert_eq!(Value::Shares(versions).show(), "v1 25%, v2 75%");
        assert_eq!(trim(10.0), "10");
        assert_eq!(trim(2.5), "2.5");
    }
}
