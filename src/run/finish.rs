//! Finishing the results: the recorder's totals become the typed
//! [`Summary`] (per target and all together), the .hgrm files, and
//! summary.json, written whole or not at all.

use std::path::Path;
use std::time::Duration;

use super::record::Recorded;
use crate::engine::clock::RunClock;
use crate::record::{SecondStats, Totals};
use crate::report;
use crate::results::summary::{
    DnsInfo, FailoverSummary, Named, ScenarioInfo, StageInfo, Summary, TargetInfo, TargetSummary,
    redirect_counts,
};
use crate::results::{WriteError, write_atomic};
use crate::scenario::{Endpoint, LoadModel, Plan};

/// The targets' totals and, merged, all of them together.
struct Combined {
    /// Per target: pods and unconfigured clusters by name.
    named: Vec<Named>,
    all: SecondStats,
    all_warmup: SecondStats,
    all_named: Named,
}

impl Combined {
    fn of(totals: &Totals) -> Combined {
        let mut combined = Combined {
            named: Vec::with_capacity(totals.measured.len()),
            all: SecondStats::new(),
            all_warmup: SecondStats::new(),
            all_named: Named::default(),
        };
        for i in 0..totals.measured.len() {
            combined.all.merge(&totals.measured[i]);
            combined.all_warmup.merge(&totals.warmup[i]);
            let named = Named {
                pods: totals.pods[i].clone(),
                pods_other: totals.pods_other[i],
                other_clusters: totals.other_clusters[i].clone(),
            };
            combined.all_named.merge(&named);
            combined.named.push(named);
        }
        combined
    }
}

/// The names of the run-wide slots the totals are indexed by (clusters,
/// addresses, redirect Locations), as the registries hold them at the end.
pub(super) struct Slots<'a> {
    pub clusters: &'a [String],
    pub addresses: &'a [String],
    /// Redirect Locations ([`crate::record::LocationRegistry::names`]).
    pub locations: &'a [String],
}

/// Writes the .hgrm files (each target's, then all's) and returns the
/// summary of the run, not yet judged (no outages, no verdict).
#[allow(clippy::too_many_arguments)] // what the run's stages left, passed straight through
pub(super) fn finish(
    out_dir: &Path,
    plan: &Plan,
    infos: &[TargetInfo],
    slots: Slots<'_>,
    clock: RunClock,
    open_files_limit: u64,
    recorded: Recorded,
    shard: Option<crate::engine::schedule::Shard>,
) -> Result<Summary, WriteError> {
    let totals = &recorded.totals;
    let combined = Combined::of(totals);
    for (info, measured) in infos.iter().zip(&totals.measured) {
        write_hgrm(out_dir, &info.name, measured)?;
    }
    write_hgrm(out_dir, "all", &combined.all)?;
    let targets = infos
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let mut summary = TargetSummary::new(
                info,
                &totals.measured[i],
                &totals.warmup[i],
                slots.clusters,
                slots.addresses,
                &combined.named[i],
            );
            if let Endpoint::Failover(members) = &plan.targets[i].endpoint {
                let names: Vec<&str> = members
                    .iter()
                    .map(|&m| plan.targets[m].name.as_str())
                    .collect();
                summary.failover = Some(FailoverSummary::new(&names, &totals.members[i]));
            }
            summary.redirects = redirect_counts(slots.locations, &totals.redirects[i]);
            summary.redirects_followed = totals.redirects_followed[i];
            summary
        })
        .collect();
    let all_info = TargetInfo {
        name: "all".into(),
        endpoint: String::new(),
        dialed: String::new(),
        host: String::new(),
        connection: "",
        requested_rate: infos.iter().map(|i| i.requested_rate).sum(),
        in_flight_cap: None,
        max_connection_age: None,
        transport: Default::default(),
        http_versions: Default::default(),
        tls_handshake_ms: None,
    };
    let mut all = TargetSummary::new(
        &all_info,
        &combined.all,
        &combined.all_warmup,
        slots.clusters,
        slots.addresses,
        &combined.all_named,
    );
    let mut all_redirects = vec![0; slots.locations.len()];
    for counts in &totals.redirects {
        for (sum, n) in all_redirects.iter_mut().zip(counts) {
            *sum += n;
        }
    }
    all.redirects = redirect_counts(slots.locations, &all_redirects);
    all.redirects_followed = totals.redirects_followed.iter().sum();
    Ok(Summary {
        schema_version: crate::results::summary::SCHEMA_VERSION,
        meshdrill_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: scenario_info(plan),
        shard,
        start_unix_ms: clock.epoch_ms(),
        start_utc: humantime::format_rfc3339_millis(clock.epoch).to_string(),
        interrupted: recorded.interrupted,
        seconds: totals.seconds,
        abandoned_in_flight: totals.abandoned,
        outcomes_after_row_written: totals.after_row_written,
        open_files_limit: Some(open_files_limit),
        requests_ended_ms: Some(recorded.requests_ended_ms),
        all,
        targets,
        faults: recorded.faults,
        markers: recorded.markers,
        recovery: plan.recovery,
        slo: plan.slo.clone(),
        outages: Vec::new(),
        verdict: None,
        rejudged_from: None,
        rebuilt: None,
        start: None,
        merged: None,
    })
}

fn write_hgrm(out_dir: &Path, name: &str, stats: &SecondStats) -> Result<(), WriteError> {
    let text = report::hgrm::render(&stats.latency);
    write_atomic(&out_dir.join(report::hgrm_file(name)), text.as_bytes())
}

/// summary.json, replaced whole (never a partial file over a complete one).
pub(super) fn write_summary(out_dir: &Path, summary: &Summary) -> Result<(), WriteError> {
    let json = serde_json::to_vec_pretty(summary).expect("summary serializes");
    write_atomic(&out_dir.join(crate::results::summary::FILE), &json)
}

/// The load as the scenario asked for it, as summary.json and plan.json say it.
pub(super) fn scenario_info(plan: &Plan) -> ScenarioInfo {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (model, rate, users, think) = match plan.load.model {
        LoadModel::Rate { per_target } => ("rate", Some(per_target.per_second()), None, None),
        LoadModel::Concurrency { users, think_time } => {
            ("concurrency", None, Some(users.get()), Some(ms(think_time)))
        }
    };
    ScenarioInfo {
        name: plan.name.clone(),
        file: plan.source.display().to_string(),
        description: plan.description.clone(),
        model: model.to_string(),
        rate_per_target: rate,
        users_per_target: users,
        stages: plan
            .load
            .stages
            .iter()
            .map(|stage| StageInfo {
                duration_ms: ms(stage.duration),
                rate: (model == "rate").then_some(stage.target),
                users: (model == "concurrency").then_some(stage.target as u32),
            })
            .collect(),
        think_time_ms: think,
        duration_s: plan.load.duration.as_secs_f64(),
        warmup_s: plan.load.warmup.as_secs_f64(),
        timeout_ms: ms(plan.load.timeout),
        connect_timeout_ms: ms(plan.load.connect_timeout),
        max_late_pct: plan.load.max_late_pct,
        max_connection_age_ms: plan.load.max_connection_age.map(ms),
        dns: DnsInfo {
            nameservers: plan
                .dns
                .nameservers
                .iter()
                .map(ToString::to_string)
                .collect(),
            min_ttl_s: plan.dns.min_ttl.map(|d| d.as_secs_f64()),
            max_ttl_s: plan.dns.max_ttl.map(|d| d.as_secs_f64()),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn stats(requests: u64, latency_us: u64) -> SecondStats {
        let mut s = SecondStats::new();
        s.counts[0] = requests;
        s.latency.record_n(latency_us, requests).unwrap();
        s
    }

    fn names(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn all_together_is_every_target_merged_and_each_keeps_its_own_names() {
        let totals = Totals {
            measured: vec![stats(3, 1_000), stats(5, 9_000)],
            warmup: vec![stats(1, 500), SecondStats::new()],
            abandoned: 0,
            after_row_written: 0,
            seconds: 2,
            pods: vec![names(&[("reviews-v1-a", 3)]), names(&[("reviews-v1-a", 2)])],
            pods_other: vec![0, 4],
            other_clusters: vec![names(&[]), names(&[("west", 5)])],
            members: vec![Vec::new(), Vec::new()],
            redirects: vec![Vec::new(), Vec::new()],
            redirects_followed: vec![0, 0],
        };
        let combined = Combined::of(&totals);
        assert_eq!(combined.all.counts[0], 8);
        assert_eq!(combined.all.latency.len(), 8);
        assert_eq!(combined.all.latency.max(), totals.measured[1].latency.max());
        assert_eq!(combined.all_warmup.counts[0], 1);
        assert_eq!(combined.all_named.pods, names(&[("reviews-v1-a", 5)]));
        assert_eq!(combined.all_named.pods_other, 4);
        assert_eq!(combined.all_named.other_clusters, names(&[("west", 5)]));
        assert_eq!(combined.named.len(), 2);
        assert_eq!(combined.named[1].pods, names(&[("reviews-v1-a", 2)]));
        assert_eq!(combined.named[1].pods_other, 4);
    }
}
