//! The rows of one scope in one section: each metric of the reference's
//! figures beside the current run's, the gated ones (RTO, availability,
//! p99) judged with the [`Tolerances`]. The baseline comparison and the
//! history gate both end here; they differ only in what the reference is.

use std::collections::BTreeMap;

use super::figures::{Figures, Rto, Section};
use super::row::{Judgement, Metric, Row, Value, gate_text, seconds, trim};
use super::tolerance::Tolerances;

/// Which informational rows to show beside the gated ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Detail {
    /// A baseline: every figure (failures by kind, p50, versions, clusters).
    Full,
    /// A history's percentiles: the gated figures and failed counts.
    Gated,
}

/// A side missing (`None`) is a scope or section the other run lacks.
pub(super) fn rows(
    section: &Section,
    scope: &str,
    reference: Option<&Figures>,
    current: Option<&Figures>,
    tolerances: &Tolerances,
    detail: Detail,
) -> Vec<Row> {
    let row = |metric, reference: Value, current: Value, judgement, tolerance| Row {
        section: section.clone(),
        scope: scope.to_string(),
        metric,
        reference,
        current,
        judgement,
        tolerance,
    };
    let missing = match (reference, current) {
        (None, _) => Some("not in the reference"),
        (_, None) => Some("not in this run"),
        _ => None,
    };
    let empty = Figures::default();
    let (r, c) = (reference.unwrap_or(&empty), current.unwrap_or(&empty));
    let unjudged = |why: &str| Judgement::NotJudged(why.to_string());
    let mut rows = Vec::new();

    if matches!(section, Section::Fault(_)) {
        let gate = &tolerances.rto;
        let judgement = match (missing, r.rto, c.rto) {
            (Some(why), _, _) => unjudged(why),
            (None, Some(a), Some(b)) => judge_rto(gate, a, b),
            _ => unjudged("no RTO"),
        };
        let value = |rto: Option<Rto>| rto.map_or(Value::Missing, Value::Rto);
        rows.push(row(
            Metric::Rto,
            value(reference.and(r.rto)),
            value(current.and(c.rto)),
            judgement,
            Some(gate_text(gate, seconds)),
        ));
    }

    let gate = &tolerances.availability;
    let judgement = match (missing, r.availability_pct, c.availability_pct) {
        (Some(why), _, _) => unjudged(why),
        (None, Some(a), Some(b)) if gate.regressed(a, b, r.failed, c.failed) => {
            Judgement::Regressed
        }
        (None, Some(_), Some(_)) => Judgement::Within,
        _ => unjudged("no requests"),
    };
    let pct = |figures: Option<&Figures>| {
        figures
            .and_then(|f| f.availability_pct)
            .map_or(Value::Missing, Value::Pct)
    };
    rows.push(row(
        Metric::Availability,
        pct(reference),
        pct(current),
        judgement,
        Some(format!(
            "{} pp and {} failed",
            trim(gate.points),
            gate.failed_floor
        )),
    ));

    let failed =
        |figures: Option<&Figures>| figures.map_or(Value::Missing, |f| Value::Count(f.failed));
    rows.push(row(
        Metric::Failed,
        failed(reference),
        failed(current),
        Judgement::Info,
        None,
    ));
    if detail == Detail::Full && (!r.failures.is_empty() || !c.failures.is_empty()) {
        let kinds = |figures: Option<&Figures>| {
            figures.map_or(Value::Missing, |f| Value::Counts(f.failures.clone()))
        };
        rows.push(row(
            Metric::Kinds,
            kinds(reference),
            kinds(current),
            Judgement::Info,
            None,
        ));
    }

    let ms = |figures: Option<&Figures>, p: fn(&Figures) -> Option<f64>| {
        figures.and_then(p).map_or(Value::Missing, Value::Ms)
    };
    if detail == Detail::Full {
        rows.push(row(
            Metric::P50,
            ms(reference, |f| f.p50_ms),
            ms(current, |f| f.p50_ms),
            Judgement::Info,
            None,
        ));
    }
    let gate = &tolerances.p99;
    let judgement = match (missing, r.p99_ms, c.p99_ms) {
        (Some(why), _, _) => unjudged(why),
        (None, Some(a), Some(b)) if gate.regressed(a, b) => Judgement::Regressed,
        (None, Some(_), Some(_)) => Judgement::Within,
        _ => unjudged("no requests"),
    };
    rows.push(row(
        Metric::P99,
        ms(reference, |f| f.p99_ms),
        ms(current, |f| f.p99_ms),
        judgement,
        Some(gate_text(gate, |ms| format!("{ms:.1} ms"))),
    ));

    if detail == Detail::Full {
        let shares = |figures: Option<&Figures>, pick: fn(&Figures) -> &BTreeMap<String, u64>| {
            figures.map_or(Value::Missing, |f| Value::Shares(pick(f).clone()))
        };
        if !r.versions.is_empty() || !c.versions.is_empty() {
            rows.push(row(
                Metric::Versions,
                shares(reference, |f| &f.versions),
                shares(current, |f| &f.versions),
                Judgement::Info,
                None,
            ));
        }
        if !r.clusters.is_empty() || !c.clusters.is_empty() {
            rows.push(row(
                Metric::Clusters,
                shares(reference, |f| &f.clusters),
                shares(current, |f| &f.clusters),
                Judgement::Info,
                None,
            ));
        }
    }
    rows
}

/// A run that did not recover regresses from one that did; from one that
/// did not either, nothing is known; a fault that did not run regresses
/// from one that did.
fn judge_rto(gate: &super::tolerance::Gate, reference: Rto, current: Rto) -> Judgement {
    match (reference, current) {
        (Rto::NotMeasured, _) => Judgement::NotJudged("not measured in the reference".into()),
        (_, Rto::NotMeasured) => Judgement::Regressed,
        (Rto::Recovered { ms: a }, Rto::Recovered { ms: b }) => {
            if gate.regressed(a as f64, b as f64) {
                Judgement::Regressed
            } else {
                Judgement::Within
            }
        }
        (Rto::Recovered { .. }, Rto::NotRecovered { .. }) => Judgement::Regressed,
        (Rto::NotRecovered { .. }, Rto::Recovered { .. }) => Judgement::Within,
        (Rto::NotRecovered { .. }, Rto::NotRecovered { .. }) => {
            Judgement::NotJudged("not recovered in the reference either".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault() -> Section {
        Section::Fault("primary-down".into())
    }

    fn figures(rto_ms: u64, availability: f64, failed: u64, p99: f64) -> Figures {
        Figures {
            rto: Some(Rto::Recovered { ms: rto_ms }),
            requests: 1000,
            failed,
            availability_pct: Some(availability),
            p99_ms: Some(p99),
            ..Figures::default()
        }
    }

    fn judged(rows: &[Row], metric: Metric) -> Judgement {
        rows.iter()
            .find(|r| r.metric == metric)
            .unwrap()
            .judgement
            .clone()
    }

    #[test]
    fn each_gated_metric_is_judged_at_its_edge() {
        let t = Tolerances::default();
        let base = figures(8000, 80.0, 200, 10.0);
        let rows = |current: &Figures| {
            rows(
                &fault(),
                "primary",
                Some(&base),
                Some(current),
                &t,
                Detail::Full,
            )
        };
        let same = rows(&base);
        for metric in [Metric::Rto, Metric::Availability, Metric::P99] {
            assert_eq!(judged(&same, metric), Judgement::Within, "{metric:?}");
        }
        assert_eq!(judged(&same, Metric::Failed), Judgement::Info);
        // At the edges: RTO +1 s (floor), p99 +5 ms (floor), availability -0.5 pp.
        let edge = rows(&figures(9000, 79.5, 400, 15.0));
        for metric in [Metric::Rto, Metric::Availability, Metric::P99] {
            assert_eq!(judged(&edge, metric), Judgement::Within, "{metric:?}");
        }
        let past = rows(&figures(9001, 79.4, 400, 15.1));
        for metric in [Metric::Rto, Metric::Availability, Metric::P99] {
            assert_eq!(judged(&past, metric), Judgement::Regressed, "{metric:?}");
        }
        // 4 s longer: the RTO regresses, named with both values.
        let longer = rows(&figures(12_000, 80.0, 200, 10.0));
        let rto = longer.iter().find(|r| r.metric == Metric::Rto).unwrap();
        assert_eq!(rto.judgement, Judgement::Regressed);
        assert!(
            rto.regression_line()
                .starts_with("RTO primary-down/primary 8.000 s → 12.000 s (+4.000 s (+50 %)"),
            "{}",
            rto.regression_line()
        );
    }

    #[test]
    fn recovery_states_are_judged_by_what_they_show() {
        let gate = Tolerances::default().rto;
        let recovered = Rto::Recovered { ms: 5000 };
        let not = Rto::NotRecovered {
            lower_bound_ms: 9000,
        };
        assert_eq!(judge_rto(&gate, recovered, not), Judgement::Regressed);
        assert_eq!(judge_rto(&gate, not, recovered), Judgement::Within);
        assert!(matches!(
            judge_rto(&gate, not, not),
            Judgement::NotJudged(_)
        ));
        assert_eq!(
            judge_rto(&gate, recovered, Rto::NotMeasured),
            Judgement::Regressed
        );
        assert!(matches!(
            judge_rto(&gate, Rto::NotMeasured, recovered),
            Judgement::NotJudged(_)
        ));
    }

    #[test]
    fn a_missing_side_is_shown_and_never_judged() {
        let t = Tolerances::default();
        let base = figures(8000, 80.0, 200, 10.0);
        for (reference, current) in [(Some(&base), None), (None, Some(&base))] {
            let rows = rows(&fault(), "primary", reference, current, &t, Detail::Full);
            assert!(
                rows.iter()
                    .all(|r| matches!(r.judgement, Judgement::NotJudged(_) | Judgement::Info)),
                "{rows:?}"
            );
            assert!(
                rows.iter()
                    .any(|r| r.current == Value::Missing || r.reference == Value::Missing)
            );
        }
        // The whole run has no RTO row.
        let whole = rows(
            &Section::Run,
            "all",
            Some(&base),
            Some(&base),
            &t,
            Detail::Gated,
        );
        assert!(whole.iter().all(|r| r.metric != Metric::Rto));
        assert!(whole.iter().all(|r| r.metric != Metric::P50));
    }
}
