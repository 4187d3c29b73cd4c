//! The outage types of summary.json: per fault ([`FaultOutage`]) and per
//! scope ([`ScopedOutage`]), what the fault did ([`OutageReport`]), its
//! window ([`FaultWindow`]) and the failover evidence ([`Failover`]).
//! The `assess` module computes them; this one only says what they hold.

use serde::{Deserialize, Serialize};

use crate::outcome::Kind;
use crate::results::summary::Percentiles;

/// One fault (or marker, or the first failure when there was neither) and
/// what it did to each target and to all of them together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FaultOutage {
    pub fault: String,
    pub source: T0Source,
    #[serde(deserialize_with = "crate::results::required")]
    pub t0_ms: Option<u64>,
    /// The target the fault aims at, or `all` (see `assess::window`);
    /// `None` with the window.
    #[serde(deserialize_with = "crate::results::required")]
    pub faulted_scope: Option<String>,
    /// The seconds the fault did its harm in, the same for every scope;
    /// `None` without T0 (nothing ran, nothing failed).
    #[serde(deserialize_with = "crate::results::required")]
    pub window: Option<FaultWindow>,
    /// Per target in plan order, then `all`.
    pub scopes: Vec<ScopedOutage>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScopedOutage {
    pub scope: String,
    #[serde(flatten)]
    pub report: OutageReport,
    /// What users waited before, during and after the outage (from
    /// latency.hlog, over the same seconds as the spans).
    pub latency_ms: PhaseLatency,
    /// This scope over the fault's window (`FaultOutage::window`): the
    /// control target's figures while the faulted one was down.
    #[serde(deserialize_with = "crate::results::required")]
    pub in_window: Option<WindowFigures>,
    /// Which cluster served this target before the fault, when another
    /// took over, and when it came back (`assess::failover`); `None` for
    /// `all` and without a window.
    #[serde(deserialize_with = "crate::results::required")]
    pub failover: Option<Failover>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PhaseLatency {
    #[serde(deserialize_with = "crate::results::required")]
    pub before: Option<Percentiles>,
    #[serde(deserialize_with = "crate::results::required")]
    pub during: Option<Percentiles>,
    #[serde(deserialize_with = "crate::results::required")]
    pub after: Option<Percentiles>,
}

/// Where a fault's T0 came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum T0Source {
    /// The fault hook started (a `[[fault]]` injected on the run clock).
    Hook,
    /// A manual marker.
    Marker,
    /// Neither: the first failed request.
    FirstFailure,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Recovery {
    /// No failing second from T0 to the region's end (or no T0 at all).
    NoOutage,
    Recovered {
        at_ms: u64,
    },
    /// The region ended first; the RTO is at least `lower_bound_ms`.
    NotRecovered {
        lower_bound_ms: u64,
    },
}

/// Requests in a run of whole seconds `[from_second, to_second)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Span {
    pub from_second: u32,
    /// Exclusive; equal to `from_second` when empty.
    pub to_second: u32,
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    /// `None` without requests.
    #[serde(deserialize_with = "crate::results::required")]
    pub availability_pct: Option<f64>,
}

/// The measured outage of one fault on one target. Times in run-clock ms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OutageReport {
    /// `None`: no hook, no marker and no failure in the region.
    #[serde(deserialize_with = "crate::results::required")]
    pub t0_ms: Option<u64>,
    #[serde(deserialize_with = "crate::results::required")]
    pub t0_source: Option<T0Source>,
    #[serde(deserialize_with = "crate::results::required")]
    pub first_failure_ms: Option<u64>,
    #[serde(deserialize_with = "crate::results::required")]
    pub last_failure_ms: Option<u64>,
    pub recovery: Recovery,
    /// `recovered at − T0`; 0 for `NoOutage`; `None` when not recovered.
    #[serde(deserialize_with = "crate::results::required")]
    pub rto_ms: Option<u64>,
    /// Failing seconds from T0's second to recovery (the region's end when
    /// not recovered).
    pub failing_seconds: u32,
    /// Failed requests from T0 to recovery (`during`); for `NoOutage`, from
    /// T0's second to the region's end.
    pub failed: u64,
    /// `failed` by kind; serialized as `{ "degraded": n, "timeout": n, ... }`
    /// over every failure kind.
    #[serde(with = "failure_kinds")]
    #[schemars(with = "std::collections::BTreeMap<String, u64>")]
    pub failed_by_kind: [u64; Kind::COUNT],
    /// Flapping: failed requests after the recovery window began.
    pub failed_after_recovery: u64,
    pub failing_seconds_after_recovery: u32,
    pub before: Span,
    pub during: Span,
    pub after: Span,
}

/// The aggregate scope's name in outputs.
pub const ALL: &str = "all";

/// Why a fault window ends where it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WindowEnd {
    /// At the second holding the faulted scope's recovery.
    Recovered,
    /// The faulted scope did not recover: at the region's end.
    NotRecovered,
    /// No outage: at the second holding the restore's end.
    Restored,
    /// No outage and no restore: at the region's end.
    RegionEnd,
}

/// Whole seconds `[from_second, to_second)` of the run clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FaultWindow {
    /// The second holding T0.
    pub from_second: u32,
    /// Exclusive; `≥ from_second` (equal when the window is empty).
    pub to_second: u32,
    pub ends: WindowEnd,
}

/// One scope's requests over a fault window: what every target (the
/// control target too) did while the fault was doing its harm.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WindowFigures {
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    /// `None` without requests.
    #[serde(deserialize_with = "crate::results::required")]
    pub availability_pct: Option<f64>,
    /// `failed` by kind; serialized as `{ "degraded": n, "timeout": n, ... }`
    /// over every failure kind.
    #[serde(with = "failure_kinds")]
    #[schemars(with = "std::collections::BTreeMap<String, u64>")]
    pub failed_by_kind: [u64; Kind::COUNT],
    /// What users waited (from latency.hlog, added by `assess`); `None`
    /// without requests.
    #[serde(deserialize_with = "crate::results::required")]
    pub latency_ms: Option<Percentiles>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Failover {
    /// Clusters serving ≥ `assess::failover::HOME_MIN_PCT` % of the pages before T0.
    pub home: Vec<String>,
    pub pages_before: u64,
    /// The first cluster outside home that answered at or after T0.
    #[serde(deserialize_with = "crate::results::required")]
    pub failover_to: Option<String>,
    #[serde(deserialize_with = "crate::results::required")]
    pub failover_at_ms: Option<u64>,
    #[serde(deserialize_with = "crate::results::required")]
    pub time_to_failover_ms: Option<u64>,
    /// The fault window's seconds `[from, to)` the shares are taken over.
    pub window_from_second: u32,
    pub window_to_second: u32,
    pub pages_during: u64,
    /// Every cluster (and `unknown`) that served a page in the window.
    pub during: Vec<ClusterShare>,
    #[serde(deserialize_with = "crate::results::required")]
    pub failback_at_ms: Option<u64>,
    #[serde(deserialize_with = "crate::results::required")]
    pub failback_after_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClusterShare {
    pub cluster: String,
    pub pages: u64,
    pub share_pct: f64,
}

/// `failed_by_kind` as `{ "degraded": n, "timeout": n, ... }` over every
/// failure kind; reading it back, a kind the file lacks or one this build
/// does not know is an error, never a zero.
mod failure_kinds {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    use crate::outcome::Kind;

    pub fn serialize<S: Serializer>(counts: &[u64; Kind::COUNT], s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(
            Kind::ALL
                .iter()
                .filter(|k| k.is_failure())
                .map(|k| (k.name(), counts[k.index()])),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u64; Kind::COUNT], D::Error> {
        let map = BTreeMap::<String, u64>::deserialize(d)?;
        let mut counts = [0; Kind::COUNT];
        for kind in Kind::ALL.iter().filter(|k| k.is_failure()) {
            counts[kind.index()] = *map.get(kind.name()).ok_or_else(|| {
                serde::de::Error::custom(format!("failed_by_kind has no `{}`", kind.name()))
            })?;
        }
        if let Some(other) = map.keys().find(|k| {
            Kind::ALL
                .iter()
                .all(|kind| !kind.is_failure() || kind.name() != k.as_str())
        }) {
            return Err(serde::de::Error::custom(format!(
                "failed_by_kind: unknown kind `{other}`"
            )));
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_by_kind_reads_back_and_refuses_a_missing_or_unknown_kind() {
        let mut figures = WindowFigures::default();
        figures.failed_by_kind[Kind::Refused.index()] = 3;
        let json = serde_json::to_string(&figures).unwrap();
        assert_eq!(
            serde_json::from_str::<WindowFigures>(&json).unwrap(),
            figures
        );

        let refused = format!("\"{}\":3", Kind::Refused.name());
        let missing = json
            .replace(&format!("{refused},"), "")
            .replace(&refused, "");
        let err = serde_json::from_str::<WindowFigures>(&missing).unwrap_err();
        assert!(
            err.to_string().contains("failed_by_kind has no `refused`"),
            "{err}"
        );
        let unknown = json.replace(&refused, &format!("{refused},\"gremlins\":1"));
        let err = serde_json::from_str::<WindowFigures>(&unknown).unwrap_err();
        assert!(err.to_string().contains("unknown kind `gremlins`"), "{err}");
    }
}
