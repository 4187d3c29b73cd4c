//! `meshdrill compare`: a run judged against a baseline run
//! ([`baseline::compare`]) or against the percentiles of earlier runs of
//! the same scenario ([`history::against_history`]). Per section (the whole
//! run, each fault's window) and scope (each target, `all`): RTO,
//! availability, failures by kind, p50/p99, versions and clusters served,
//! side by side ([`Row`]), with RTO, availability and p99 gated by
//! [`Tolerances`] (a relative tolerance and an absolute floor each).
//!
//! Pure functions of typed [`crate::results::Results`] (read by
//! `Results::load`); the tables, Markdown and JUnit are `report`'s, the
//! exit code the command line's.

pub mod baseline;
pub mod figures;
pub mod history;
mod judge;
pub mod row;
pub mod tolerance;

pub use baseline::{comparable, compare, unjudgeable};
pub use figures::{Figures, Rto, Section};
pub use history::{Skipped, against_history, select};
pub use row::{Judgement, Metric, Row, Value};
pub use tolerance::{AvailabilityGate, Gate, Tolerances};

/// What the current run was compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Reference {
    Baseline {
        dir: String,
    },
    History {
        /// Earlier runs judged against (usable ones).
        runs: usize,
        min_history: usize,
        skipped: Vec<Skipped>,
    },
}

impl Reference {
    /// `baseline results/a`, `history P95/P5 of 12 runs`.
    pub fn label(&self) -> String {
        match self {
            Reference::Baseline { dir } => format!("baseline {dir}"),
            Reference::History { runs, .. } => {
                format!("history of {runs} earlier run(s) (P95; availability P5)")
            }
        }
    }
}

/// A finished comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub scenario: String,
    pub reference: Reference,
    /// The current run's folder.
    pub current: String,
    pub tolerances: Tolerances,
    pub rows: Vec<Row>,
    /// What differs between the runs besides what makes them comparable.
    pub notes: Vec<String>,
    /// False when a history had too few runs: rows are shown, not judged.
    pub judged: bool,
}

impl Comparison {
    pub fn regressions(&self) -> impl Iterator<Item = &Row> {
        self.rows
            .iter()
            .filter(|r| r.judgement == Judgement::Regressed)
    }

    pub fn regressed(&self) -> bool {
        self.regressions().next().is_some()
    }

    /// The gated rows (one JUnit test case each).
    pub fn gated(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.judgement != Judgement::Info)
    }
}

#[cfg(test)]
mod tests;
