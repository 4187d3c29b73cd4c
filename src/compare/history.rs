//! A run against the percentiles of earlier runs of the same scenario: the
//! history's P95 RTO, P95 p99 and P5 availability (P95 failed requests for
//! the availability's floor) stand in for a baseline's figures and are
//! judged with the same [`Tolerances`]. Earlier runs that cannot be
//! compared (unreadable, another scenario, INVALID, interrupted) are left
//! out and counted ([`select`]); with fewer usable runs than the minimum,
//! nothing is judged and the comparison says how many it had.

use std::path::PathBuf;

use super::baseline::{comparable, unjudgeable};
use super::figures::{self, Figures, Rto, SectionFigures};
use super::judge::{Detail, rows};
use super::row::{Judgement, Row};
use super::{Comparison, Reference, Tolerances};
use crate::results::{LoadError, Results};

/// An earlier run left out of the history, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub dir: String,
    pub why: String,
}

/// The earlier runs the current one can be judged against, and the others
/// with the reason each was left out.
pub fn select(
    current: &Results,
    history: Vec<(PathBuf, Result<Results, LoadError>)>,
) -> (Vec<Results>, Vec<Skipped>) {
    let mut usable = Vec::new();
    let mut skipped = Vec::new();
    for (dir, read) in history {
        let skip = |why: String| Skipped {
            dir: dir.display().to_string(),
            why,
        };
        match read {
            Err(e) => skipped.push(skip(format!("cannot be read: {e}"))),
            Ok(run) => {
                if let Err(why) = comparable(&run.summary, &current.summary) {
                    skipped.push(skip(why.replace("the reference", "it")));
                } else if let Some(why) = unjudgeable(&run.summary) {
                    skipped.push(skip(why));
                } else {
                    usable.push(run);
                }
            }
        }
    }
    (usable, skipped)
}

/// The nearest-rank percentile `p` (0–100) of `values`; `None` when empty.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The history's figures of one scope in one section, as percentiles.
/// `None` when no earlier run has that scope there.
fn reference(history: &[&Figures]) -> Option<Figures> {
    if history.is_empty() {
        return None;
    }
    let values = |pick: fn(&Figures) -> Option<f64>| -> Vec<f64> {
        history.iter().filter_map(|f| pick(f)).collect()
    };
    let recovered: Vec<f64> = history
        .iter()
        .filter_map(|f| match f.rto {
            Some(Rto::Recovered { ms }) => Some(ms as f64),
            _ => None,
        })
        .collect();
    let worst_unrecovered = history
        .iter()
        .filter_map(|f| match f.rto {
            Some(Rto::NotRecovered { lower_bound_ms }) => Some(lower_bound_ms),
            _ => None,
        })
        .max();
    let rto = match (percentile(&recovered, 95.0), worst_unrecovered) {
        (Some(ms), _) => Some(Rto::Recovered { ms: ms as u64 }),
        (None, Some(lower_bound_ms)) => Some(Rto::NotRecovered { lower_bound_ms }),
        (None, None) if history.iter().any(|f| f.rto.is_some()) => Some(Rto::NotMeasured),
        (None, None) => None,
    };
    let failed: Vec<f64> = history.iter().map(|f| f.failed as f64).collect();
    Some(Figures {
        rto,
        requests: 0,
        failed: percentile(&failed, 95.0).unwrap_or(0.0) as u64,
        availability_pct: percentile(&values(|f| f.availability_pct), 5.0),
        failures: Default::default(),
        p50_ms: percentile(&values(|f| f.p50_ms), 50.0),
        p99_ms: percentile(&values(|f| f.p99_ms), 95.0),
        versions: Default::default(),
        clusters: Default::default(),
    })
}

/// The current run's rows against the history's percentiles, section by
/// section and scope by scope as the current run has them.
pub fn against_history(
    current: &Results,
    history: &[Results],
    skipped: Vec<Skipped>,
    tolerances: &Tolerances,
    min_history: usize,
) -> Comparison {
    let earlier: Vec<Vec<SectionFigures>> =
        history.iter().map(|r| figures::of(&r.summary)).collect();
    let judged = history.len() >= min_history.max(1);
    let mut out: Vec<Row> = Vec::new();
    for (section, scopes) in figures::of(&current.summary) {
        for (scope, figures) in &scopes {
            let theirs: Vec<&Figures> = earlier
                .iter()
                .filter_map(|run| {
                    let (_, scopes) = run.iter().find(|(s, _)| *s == section)?;
                    scopes.iter().find(|(n, _)| n == scope).map(|(_, f)| f)
                })
                .collect();
            let reference = reference(&theirs);
            out.extend(rows(
                &section,
                scope,
                reference.as_ref(),
                Some(figures),
                tolerances,
                Detail::Gated,
            ));
        }
    }
    if !judged {
        let why = format!(
            "{} earlier run(s), fewer than --min-history {min_history}",
            history.len()
        );
        for row in &mut out {
            if matches!(row.judgement, Judgement::Regressed | Judgement::Within) {
                row.judgement = Judgement::NotJudged(why.clone());
            }
        }
    }
    Comparison {
        scenario: current.summary.scenario.name.clone(),
        reference: Reference::History {
            runs: history.len(),
            min_history,
            skipped,
        },
        current: current.dir.display().to_string(),
        tolerances: *tolerances,
        rows: out,
        notes: Vec::new(),
        judged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 95.0), Some(10.0));
        assert_eq!(percentile(&ten, 50.0), Some(5.0));
        assert_eq!(percentile(&ten, 5.0), Some(1.0));
        let hundred: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(percentile(&hundred, 95.0), Some(95.0));
        assert_eq!(percentile(&hundred, 5.0), Some(5.0));
        assert_eq!(percentile(&[], 95.0), None);
        assert_eq!(percentile(&[3.0], 5.0), Some(3.0));
    }

    fn fault_figures(rto: Rto, availability: f64, failed: u64, p99: f64) -> Figures {
        Figures {
            rto: Some(rto),
            failed,
            availability_pct: Some(availability),
            p99_ms: Some(p99),
            ..Figures::default()
        }
    }

    #[test]
    fn the_reference_is_p95_of_the_worse_side_and_p5_of_availability() {
        let runs: Vec<Figures> = (0..20u64)
            .map(|i| {
                fault_figures(
                    Rto::Recovered { ms: 8000 + i * 10 },
                    90.0 - i as f64 * 0.1,
                    100 + i,
                    5.0 + i as f64,
                )
            })
            .collect();
        let refs: Vec<&Figures> = runs.iter().collect();
        let r = reference(&refs).unwrap();
        // Ranks 19 of 20 (P95) and 1 of 20 (P5).
        assert_eq!(r.rto, Some(Rto::Recovered { ms: 8180 }));
        assert_eq!(r.p99_ms, Some(23.0));
        assert_eq!(r.failed, 118);
        assert!((r.availability_pct.unwrap() - 88.1).abs() < 1e-9);
        assert_eq!(reference(&[]), None);

        // Runs that did not recover are not placed in the RTO's percentile.
        let mixed = [
            fault_figures(Rto::Recovered { ms: 5000 }, 90.0, 1, 1.0),
            fault_figures(
                Rto::NotRecovered {
                    lower_bound_ms: 30_000,
                },
                50.0,
                1,
                1.0,
            ),
        ];
        let refs: Vec<&Figures> = mixed.iter().collect();
        assert_eq!(
            reference(&refs).unwrap().rto,
            Some(Rto::Recovered { ms: 5000 })
        );
        let never = [fault_figures(
            Rto::NotRecovered {
                lower_bound_ms: 30_000,
            },
            50.0,
            1,
            1.0,
        )];
        let refs: Vec<&Figures> = never.iter().collect();
        assert_eq!(
            reference(&refs).unwrap().rto,
            Some(Rto::NotRecovered {
                lower_bound_ms: 30_000
            })
        );
    }
}
