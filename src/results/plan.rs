//! `plan.json`: the compiled plan as the run began, written whole before
//! any traffic, so a results folder explains itself even when the run never
//! finished: what was aimed where, at which load, which faults were
//! scheduled when, and the rule and criteria it is to be judged by.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::LoadError;
use super::faults::FaultRecord;
use super::summary::{ScenarioInfo, TargetInfo};
use crate::scenario::{Plan, RecoveryRule, SloPlan};

pub const FILE: &str = "plan.json";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlanRecord {
    /// The same [`super::summary::SCHEMA_VERSION`] as summary.json's.
    pub schema_version: u32,
    pub meshdrill_version: String,
    pub scenario: PlannedScenario,
    pub targets: Vec<PlannedTarget>,
    /// The load, as summary.json's `scenario` has it (rates, users, and
    /// durations with their unit in the name).
    pub load: ScenarioInfo,
    /// `--shard I/N`: this run sends shard `index` of `count` of the plan
    /// (slots and users `i` with `i % count == index`). Absent when not
    /// sharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::engine::schedule::Shard>,
    pub recovery: RecoveryRule,
    pub slo: SloPlan,
    /// In the order they are scheduled.
    pub faults: Vec<PlannedFault>,
    /// `run --start-at`, as in summary.json (written again once second 0
    /// is taken); `null` without the flag, missing in older folders.
    #[serde(default)]
    pub start: Option<super::summary::StartInfo>,
    /// [`scenario_hash`] of the scenario file's bytes, so `meshdrill merge`
    /// refuses shards of different files; absent when the file could not be
    /// read (a plan built in code) and in older folders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_hash: Option<String>,
    /// `meshdrill merge`, as in summary.json; absent unless merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<super::summary::MergedFrom>,
}

/// `fnv1a64:<16 hex digits>` of `bytes`: stable across builds and
/// machines (std's hasher is not), enough to tell two scenario files apart
/// (a check against mistakes, not against forgery).
pub fn scenario_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlannedScenario {
    pub name: String,
    pub file: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlannedTarget {
    pub name: String,
    /// As written in the scenario (after overrides), e.g. `sim:primary`.
    pub endpoint: String,
    pub dialed: String,
    pub host: String,
    pub connection: String,
    /// `max_connection_age` in ms (`null`: not retired for age).
    #[serde(deserialize_with = "crate::results::required")]
    pub max_connection_age_ms: Option<f64>,
    pub transport: super::summary::TransportInfo,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlannedFault {
    pub name: String,
    /// What it does, e.g. `sim down on primary` or the inject command.
    pub action: String,
    #[serde(deserialize_with = "crate::results::required")]
    pub target: Option<String>,
    pub planned_at_ms: f64,
    #[serde(deserialize_with = "crate::results::required")]
    pub planned_restore_ms: Option<f64>,
}

impl PlanRecord {
    /// The record of `plan` as the run compiled it: its targets as they
    /// are dialled, its load and its faults as planned.
    pub fn new(
        plan: &Plan,
        load: ScenarioInfo,
        targets: &[TargetInfo],
        faults: &[FaultRecord],
        shard: Option<crate::engine::schedule::Shard>,
    ) -> PlanRecord {
        PlanRecord {
            schema_version: super::summary::SCHEMA_VERSION,
            meshdrill_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: PlannedScenario {
                name: plan.name.clone(),
                file: plan.source.display().to_string(),
            },
            targets: targets
                .iter()
                .map(|t| PlannedTarget {
                    name: t.name.clone(),
                    endpoint: t.endpoint.clone(),
                    dialed: t.dialed.clone(),
                    host: t.host.clone(),
                    connection: t.connection.to_string(),
                    max_connection_age_ms: t.max_connection_age.map(|d| d.as_secs_f64() * 1000.0),
                    transport: t.transport.clone(),
                })
                .collect(),
            load,
            shard,
            recovery: plan.recovery,
            slo: plan.slo.clone(),
            faults: faults
                .iter()
                .map(|f| PlannedFault {
                    name: f.name.clone(),
                    action: f.action.clone(),
                    target: f.target.clone(),
                    planned_at_ms: f.planned_at_ms,
                    planned_restore_ms: f.planned_restore_ms,
                })
                .collect(),
            start: None,
            scenario_hash: std::fs::read(&plan.source)
                .ok()
                .map(|bytes| scenario_hash(&bytes)),
            merged: None,
        }
    }

    /// Written whole or not at all.
    pub fn write(&self, dir: &Path) -> Result<(), super::WriteError> {
        let json = serde_json::to_vec_pretty(self).expect("a plan record serializes");
        super::write_atomic(&dir.join(FILE), &json)
    }

    /// Reads plan.json; `None` when the folder has none (written before
    /// meshdrill kept one).
    pub fn read(dir: &Path) -> Result<Option<PlanRecord>, LoadError> {
        let path = dir.join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => super::load::versioned(&path, &bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(LoadError::Read { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_scenario_hash_is_fnv1a_64() {
        // The published FNV-1a 64 test vectors.
        assert_eq!(super::scenario_hash(b""), "fnv1a64:cbf29ce484222325");
        assert_eq!(super::scenario_hash(b"a"), "fnv1a64:af63dc4c8601ec8c");
    }
}
