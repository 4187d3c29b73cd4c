//! The verdict types of summary.json: the [`Assessment`] (outages and
//! [`Verdict`]), each checked [`Criterion`], and the generator's report.
//! The `assess` module computes them; this one only says what they hold.

use serde::{Deserialize, Serialize};

use crate::record::GeneratorHealth;
use crate::results::outage::FaultOutage;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Assessment {
    pub outages: Vec<FaultOutage>,
    pub verdict: Verdict,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Verdict {
    pub status: VerdictStatus,
    /// The scenario's `[slo]` criteria, then the ones every run has: fault
    /// hooks ran (`faults_ran`) and each target answered (`answered`).
    pub criteria: Vec<Criterion>,
    /// Whether the generator did what the scenario asked; `invalid` lists
    /// why not, and then no criterion is judged.
    pub generator: GeneratorReport,
}

/// What a run's numbers say, in order of precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictStatus {
    /// The generator could not do what the scenario asked where it
    /// matters: the numbers are not the target's, so nothing is judged.
    Invalid,
    /// A criterion failed.
    Fail,
    /// No `[slo]` criteria, and every target answered (and every hook ran).
    NoSlo,
    /// Every criterion passed.
    Pass,
}

impl VerdictStatus {
    /// As the console and the report print it.
    pub const fn word(self) -> &'static str {
        match self {
            VerdictStatus::Invalid => "INVALID",
            VerdictStatus::Fail => "FAIL",
            VerdictStatus::NoSlo => "NO SLO",
            VerdictStatus::Pass => "PASS",
        }
    }
}

/// One checked criterion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Criterion {
    /// The key, e.g. `availability_min_pct`.
    pub name: String,
    /// `all` or the target's name.
    pub scope: String,
    /// As a person reads it, e.g. `≥ 99.00 %`.
    pub threshold: String,
    /// E.g. `97.31 %`.
    pub measured: String,
    pub pass: bool,
}

/// What the generator managed, per scope and per fault, and whether that
/// leaves the run judgeable.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GeneratorReport {
    /// The scenario's `load.max_late_pct` these were judged with.
    pub max_late_pct: f64,
    /// Per target, then `all`: measured-phase totals and limited seconds.
    pub scopes: Vec<ScopeHealth>,
    /// Per fault: the seconds judged and the limited ones among them.
    pub faults: Vec<FaultHealth>,
    /// Why the run cannot be judged; empty when it can.
    pub invalid: Vec<String>,
    /// What to change so that it can.
    pub advice: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScopeHealth {
    pub scope: String,
    /// Measured phase (warmup excluded).
    pub totals: GeneratorHealth,
    /// Late sends over sent requests, percent; `None` without requests.
    #[serde(deserialize_with = "crate::results::required")]
    pub late_pct: Option<f64>,
    /// Every generator-limited second of the run (warmup included), as
    /// inclusive runs `[from, to]`.
    pub limited_seconds: Vec<[u32; 2]>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FaultHealth {
    pub fault: String,
    /// The judged seconds, `[from_second, to_second)`; empty for a fault
    /// that never ran.
    pub from_second: u32,
    pub to_second: u32,
    /// Per target with limited seconds among the judged ones: those seconds.
    pub limited: Vec<(String, Vec<[u32; 2]>)>,
}
