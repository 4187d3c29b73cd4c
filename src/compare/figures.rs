//! What a comparison reads of one run: per section (the whole run, then
//! each fault's window) and scope (each target, then `all`), the figures a
//! baseline or a history is compared on ([`Figures`]), taken from the
//! run's typed summary (its outages and totals as `assess` left them).

use std::collections::BTreeMap;

use crate::results::outage::{Recovery, ScopedOutage};
use crate::results::summary::{Summary, TargetSummary};

/// The part of a run a row is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    /// The measured phase, whole.
    Run,
    /// A fault's window (its outage for the RTO), by the fault's name.
    Fault(String),
}

impl Section {
    pub fn label(&self) -> &str {
        match self {
            Section::Run => "whole run",
            Section::Fault(name) => name,
        }
    }
}

/// A fault's measured recovery, as a comparison needs it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rto {
    /// Recovered (or no outage: 0 ms) after this many ms.
    Recovered { ms: u64 },
    /// Not recovered before the region's end; at least this long.
    NotRecovered { lower_bound_ms: u64 },
    /// Nothing to measure: the fault never ran (no T0).
    NotMeasured,
}

/// One scope's figures in one section.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// `None` for the whole run (no RTO there).
    pub rto: Option<Rto>,
    pub requests: u64,
    pub failed: u64,
    /// `None` without requests.
    pub availability_pct: Option<f64>,
    /// Failed requests by kind, kinds that occurred.
    pub failures: BTreeMap<String, u64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Pages by reviews version (whole run only; empty in a fault window).
    pub versions: BTreeMap<String, u64>,
    /// Pages by the cluster that served them (in a fault window: the
    /// failover evidence's shares, targets only).
    pub clusters: BTreeMap<String, u64>,
}

/// One section's figures, by scope.
pub type SectionFigures = (Section, Vec<(String, Figures)>);

/// Every section's figures of a run, by scope, sections and scopes in the
/// run's order (targets, then `all`).
pub fn of(summary: &Summary) -> Vec<SectionFigures> {
    let mut sections = vec![(
        Section::Run,
        summary
            .targets
            .iter()
            .chain(std::iter::once(&summary.all))
            .map(|t| (t.name.clone(), whole_run(t)))
            .collect(),
    )];
    for outage in &summary.outages {
        let scopes = outage
            .scopes
            .iter()
            .map(|s| (s.scope.clone(), in_fault(s)))
            .collect();
        sections.push((Section::Fault(outage.fault.clone()), scopes));
    }
    sections
}

fn whole_run(t: &TargetSummary) -> Figures {
    Figures {
        rto: None,
        requests: t.requests,
        failed: t.failed,
        availability_pct: t.availability_pct,
        failures: t.failures.clone(),
        p50_ms: t.latency_ms.as_ref().map(|p| p.p50),
        p99_ms: t.latency_ms.as_ref().map(|p| p.p99),
        versions: t.versions.clone(),
        clusters: t.clusters.clone(),
    }
}

fn in_fault(s: &ScopedOutage) -> Figures {
    let r = &s.report;
    let rto = match (r.recovery, r.t0_ms) {
        (Recovery::NotRecovered { lower_bound_ms }, _) => Rto::NotRecovered { lower_bound_ms },
        (Recovery::NoOutage, None) => Rto::NotMeasured,
        _ => Rto::Recovered {
            ms: r.rto_ms.unwrap_or(0),
        },
    };
    let window = s.in_window.as_ref();
    Figures {
        rto: Some(rto),
        requests: window.map_or(0, |w| w.requests),
        failed: window.map_or(0, |w| w.failed),
        availability_pct: window.and_then(|w| w.availability_pct),
        failures: window
            .map(|w| {
                w.failures()
                    .into_iter()
                    .map(|(k, n)| (k.to_string(), n))
                    .collect()
            })
            .unwrap_or_default(),
        p50_ms: window.and_then(|w| w.latency_ms.as_ref()).map(|p| p.p50),
        p99_ms: window.and_then(|w| w.latency_ms.as_ref()).map(|p| p.p99),
        versions: BTreeMap::new(),
        clusters: s
            .failover
            .as_ref()
            .map(|f| {
                f.during
                    .iter()
                    .map(|c| (c.cluster.clone(), c.pages))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// `v1 33%, v2 67%`: each name's share of the counts, in name order
/// (compact: two of them stand side by side in a console table); `-`
/// when there are none.
pub fn shares(counts: &BTreeMap<String, u64>) -> String {
    let total: u64 = counts.values().sum();
    if total == 0 {
        return "-".to_string();
    }
    counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(name, n)| format!("{name} {:.0}%", 100.0 * *n as f64 / total as f64))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `refused 1600, timeout 2`, or `-`.
pub fn kinds(counts: &BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return "-".to_string();
    }
    counts
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
