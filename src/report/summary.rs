//! `summary.json` (the machine-readable result: totals per target, failures
//! by kind, percentiles, requested vs achieved rate, faults) and the final
//! table printed on stdout. Both are built from the recorder's totals, the
//! same numbers the timeline rows sum to.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::drill::assess::seconds;
use crate::drill::generator::show_runs;
use crate::drill::{
    FaultOutage, FaultRecord, Marker, Recovery, RecoveryRule, T0Source, Verdict, VerdictStatus,
    WindowEnd,
};
use crate::outcome::Kind;
use crate::record::GeneratorHealth;
use crate::record::{
    DEGRADED, NAMED_CLUSTERS, OTHER_CLUSTER, SecondStats, UNKNOWN_CLUSTER, VERSION_NAMES,
};
use crate::scenario::SloPlan;

pub const FILE: &str = "summary.json";

#[derive(Debug, Serialize)]
pub struct Summary {
    pub meshdrill_version: &'static str,
    pub scenario: ScenarioInfo,
    /// Wall-clock time of the run clock's zero (second 0 of the timeline).
    pub start_unix_ms: u64,
    pub start_utc: String,
    /// Stopped by Ctrl-C (or SIGTERM) before the planned end.
    pub interrupted: bool,
    /// Seconds in timeline.csv (rows per target).
    pub seconds: u32,
    /// Requests in flight when the run was interrupted; never answered, not
    /// counted anywhere else.
    pub abandoned_in_flight: u64,
    /// Outcomes that arrived after their second's row was written (always 0
    /// unless something is wrong); included in the totals below.
    pub outcomes_after_row_written: u64,
    /// The open-files limit the run had (it bounds requests in flight).
    pub open_files_limit: u64,
    /// Run-clock ms when the last request had its outcome: nothing is sent
    /// after the end of traffic, so this is at most one timeout after it.
    pub requests_ended_ms: f64,
    /// Measured phase only (warmup excluded), per target.
    pub targets: Vec<TargetSummary>,
    /// All targets together.
    pub all: TargetSummary,
    pub faults: Vec<FaultRecord>,
    /// Manual markers (m + Enter, SIGUSR1), on the run clock.
    pub markers: Vec<Marker>,
    /// The scenario's `[recovery]` rule and `[slo]` criteria, so that
    /// `meshdrill report DIR` judges these files by the same standard.
    pub recovery: RecoveryRule,
    pub slo: SloPlan,
    /// Per fault (or marker, or first failure): the outage per target and all.
    pub outages: Vec<FaultOutage>,
    /// The SLO verdict; absent until the run's files are assessed.
    pub verdict: Option<Verdict>,
}

#[derive(Debug, Serialize)]
pub struct ScenarioInfo {
    pub name: String,
    pub file: String,
    pub model: &'static str,
    pub rate_per_target: Option<f64>,
    pub users_per_target: Option<u32>,
    pub think_time_ms: Option<f64>,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub timeout_ms: f64,
    pub connect_timeout_ms: f64,
    /// `load.max_late_pct`: the late share above which a second is
    /// generator-limited.
    pub max_late_pct: f64,
}

#[derive(Debug, Serialize)]
pub struct TargetSummary {
    pub name: String,
    /// As written in the scenario (after overrides), e.g. `sim:primary`.
    pub endpoint: String,
    /// What was dialed (`connect` address or resolved simulator address).
    pub dialed: String,
    pub host: String,
    pub connection: &'static str,
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    pub availability_pct: Option<f64>,
    /// Every outcome kind, zeros included.
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Non-success kinds that occurred.
    pub failures: BTreeMap<&'static str, u64>,
    pub statuses: BTreeMap<String, u64>,
    pub late_sends: u64,
    /// What the generator managed over the measured phase: planned vs sent,
    /// late, never sent, waits on the in-flight cap, local errors.
    pub generator: GeneratorHealth,
    /// Requests this target could have in flight at once (from the
    /// open-files limit); `None` for `all`.
    pub in_flight_cap: Option<usize>,
    pub requested_rate: Option<f64>,
    pub achieved_rate: Option<f64>,
    /// From intended send time (what users waited).
    pub latency_ms: Option<Percentiles>,
    /// From actual send time (the server's share).
    pub service_ms: Option<Percentiles>,
    pub warmup_requests: u64,
    /// Productpages (ok or degraded) by reviews version: `v1`..`v3`, `unknown`.
    pub versions: BTreeMap<&'static str, u64>,
    /// Successful responses by reviews version (what SLOs check).
    pub ok_by_version: BTreeMap<&'static str, u64>,
    /// Productpages by cluster name (configured, named by an SLO or shown on
    /// the page), then `other` (names past the slots) and `unknown` (no
    /// name on the page, no `[clusters]` pattern matched).
    pub clusters: BTreeMap<String, u64>,
    pub ok_by_cluster: BTreeMap<String, u64>,
    /// Names pages showed that got no slot (the `other` above), by name.
    pub other_clusters: BTreeMap<String, u64>,
    /// Productpages by the reviews pod that served them (`other` past 1024 names).
    pub pods: BTreeMap<String, u64>,
    /// Degraded pages by the backend they showed as unavailable.
    pub degraded: BTreeMap<&'static str, u64>,
}

/// Names a run knows only by its classifiers: pods, and clusters that got no slot.
#[derive(Clone, Debug, Default)]
pub struct Named {
    pub pods: BTreeMap<String, u64>,
    pub pods_other: u64,
    pub other_clusters: BTreeMap<String, u64>,
}

impl Named {
    pub fn merge(&mut self, other: &Named) {
        for (k, v) in &other.pods {
            *self.pods.entry(k.clone()).or_default() += v;
        }
        self.pods_other += other.pods_other;
        for (k, v) in &other.other_clusters {
            *self.other_clusters.entry(k.clone()).or_default() += v;
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Percentiles {
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// How a target was reached, for the summary.
pub struct TargetInfo {
    pub name: String,
    pub endpoint: String,
    pub dialed: String,
    pub host: String,
    pub connection: &'static str,
    pub requested_rate: Option<f64>,
    pub in_flight_cap: Option<usize>,
}

impl TargetSummary {
    pub fn new(
        info: &TargetInfo,
        s: &SecondStats,
        warmup: &SecondStats,
        cluster_names: &[String],
        named: &Named,
    ) -> TargetSummary {
        let p = &s.pages;
        let by_version = |counts: &[u64; 4]| -> BTreeMap<&'static str, u64> {
            VERSION_NAMES
                .iter()
                .zip(counts)
                .filter(|(_, n)| **n > 0)
                .map(|(v, n)| (*v, *n))
                .collect()
        };
        let by_cluster = |counts: &[u64]| -> BTreeMap<String, u64> {
            let named = cluster_names
                .iter()
                .take(NAMED_CLUSTERS)
                .cloned()
                .zip(counts.iter().copied());
            let rest = [
                ("other".to_string(), counts[OTHER_CLUSTER]),
                ("unknown".to_string(), counts[UNKNOWN_CLUSTER]),
            ];
            named.chain(rest).filter(|(_, n)| *n > 0).collect()
        };
        let mut pods = named.pods.clone();
        if named.pods_other > 0 {
            pods.insert("other".into(), named.pods_other);
        }
        let outcomes = Kind::ALL.iter().map(|k| (k.name(), s.count(*k))).collect();
        let failures = Kind::ALL
            .iter()
            .filter(|k| k.is_failure() && s.count(**k) > 0)
            .map(|k| (k.name(), s.count(*k)))
            .collect();
        let mut statuses: BTreeMap<String, u64> = s
            .statuses
            .iter()
            .map(|(st, n)| (st.to_string(), n))
            .collect();
        if s.statuses.other > 0 {
            statuses.insert("other".to_string(), s.statuses.other);
        }
        TargetSummary {
            name: info.name.clone(),
            endpoint: info.endpoint.clone(),
            dialed: info.dialed.clone(),
            host: info.host.clone(),
            connection: info.connection,
            requests: s.sent(),
            ok: s.succeeded(),
            failed: s.failed(),
            availability_pct: s.availability_pct(),
            outcomes,
            failures,
            statuses,
            late_sends: s.late,
            generator: s.health(),
            in_flight_cap: info.in_flight_cap,
            requested_rate: info.requested_rate,
            achieved_rate: s.achieved_rate(),
            latency_ms: percentiles(&s.latency),
            service_ms: percentiles(&s.service),
            warmup_requests: warmup.sent(),
            versions: by_version(&p.versions),
            ok_by_version: by_version(&p.ok_versions),
            clusters: by_cluster(&p.clusters),
            ok_by_cluster: by_cluster(&p.ok_clusters),
            other_clusters: named.other_clusters.clone(),
            pods,
            degraded: DEGRADED
                .iter()
                .zip(p.degraded)
                .filter(|(_, n)| *n > 0)
                .map(|((_, b), n)| (*b, n))
                .collect(),
        }
    }
}

/// Latency percentiles of a histogram of microseconds, in milliseconds.
pub fn percentiles(h: &hdrhistogram::Histogram<u64>) -> Option<Percentiles> {
    if h.is_empty() {
        return None;
    }
    let ms = |us: u64| us as f64 / 1000.0;
    Some(Percentiles {
        min: ms(h.min()),
        mean: (h.mean() / 1000.0 * 1000.0).round() / 1000.0,
        p50: ms(h.value_at_quantile(0.5)),
        p90: ms(h.value_at_quantile(0.9)),
        p99: ms(h.value_at_quantile(0.99)),
        p999: ms(h.value_at_quantile(0.999)),
        max: ms(h.max()),
    })
}

/// The table printed on stdout at the end of a run.
pub fn table(summary: &Summary, out_dir: &str) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "\nmeshdrill {} — {}{}\n",
        summary.scenario.name,
        summary.start_utc,
        if summary.interrupted {
            " — INTERRUPTED"
        } else {
            ""
        }
    ));
    t.push_str(&format!(
        "{:<14} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}  {}\n",
        "target",
        "requests",
        "ok",
        "failed",
        "avail%",
        "p50 ms",
        "p99 ms",
        "max ms",
        "rate/s",
        "failures"
    ));
    for s in summary.targets.iter().chain(std::iter::once(&summary.all)) {
        let pct = |p: &Option<Percentiles>, f: fn(&Percentiles) -> f64| {
            p.as_ref()
                .map_or("-".to_string(), |p| format!("{:.1}", f(p)))
        };
        let failures: Vec<String> = s.failures.iter().map(|(k, n)| format!("{k} {n}")).collect();
        t.push_str(&format!(
            "{:<14} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}  {}\n",
            s.name,
            s.requests,
            s.ok,
            s.failed,
            s.availability_pct
                .map_or("-".to_string(), |a| format!("{a:.2}")),
            pct(&s.latency_ms, |p| p.p50),
            pct(&s.latency_ms, |p| p.p99),
            pct(&s.latency_ms, |p| p.max),
            s.achieved_rate
                .map_or("-".to_string(), |r| format!("{r:.1}")),
            failures.join(", ")
        ));
    }
    for f in &summary.faults {
        t.push_str(&fault_line(f));
        t.push('\n');
    }
    let local = summary
        .all
        .outcomes
        .get(Kind::LocalError.name())
        .copied()
        .unwrap_or(0);
    if local > 0 {
        t.push_str(&format!(
            "WARNING: {local} requests failed on THIS machine (local_error: out of file descriptors, ports or body buffers), not at the target; lower the rate, or raise `ulimit -n` or load.max_buffered\n"
        ));
    }
    let late = summary.all.late_sends;
    if summary
        .all
        .generator
        .late_share_exceeds(summary.scenario.max_late_pct)
    {
        let what = match (
            summary.scenario.rate_per_target,
            summary.scenario.users_per_target,
        ) {
            (Some(rate), _) => format!(
                "were sent ≥ 10 ms after their intended time: the generator could not hold {rate}/s per target (open model) on this machine"
            ),
            (None, Some(users)) => format!(
                "started ≥ 10 ms after their user was ready: this machine could not run {users} users per target (closed model) without delay"
            ),
            (None, None) => "were sent ≥ 10 ms late".to_string(),
        };
        t.push_str(&format!(
            "WARNING: {late} of {} requests {what}; their latency includes that wait\n",
            summary.all.requests
        ));
    }
    for s in &summary.targets {
        let g = &s.generator;
        if g.not_sent > 0 {
            t.push_str(&format!(
                "WARNING: {}: {} planned requests were never sent (the end of traffic, or one timeout after their intended time, came first)\n",
                s.name, g.not_sent
            ));
        }
        if g.cap_waits > 0 {
            t.push_str(&format!(
                "WARNING: {}: {} requests waited for the in-flight cap ({} at once, from the open-files limit {}): raise `ulimit -n`\n",
                s.name,
                g.cap_waits,
                s.in_flight_cap.map_or("?".to_string(), |c| c.to_string()),
                summary.open_files_limit
            ));
        }
    }
    for m in &summary.markers {
        t.push_str(&format!(
            "marker {} ({}) at {:.3}s\n",
            m.number,
            m.source,
            m.at_ms / 1000.0
        ));
    }
    if summary.abandoned_in_flight > 0 {
        t.push_str(&format!(
            "{} requests were in flight at the interrupt: counted as abandoned in their seconds\n",
            summary.abandoned_in_flight
        ));
    }
    t.push_str(&outage_lines(&summary.outages, summary.recovery));
    if let Some(verdict) = &summary.verdict {
        t.push_str(&verdict_lines(verdict));
    }
    t.push_str(&format!("results: {out_dir}\n"));
    t
}

/// `fault primary-down: sim down on primary, inject 10.002s → 10.003s
/// (planned 10.000s), restore 18.001s → 18.004s (planned 18.000s)`: each
/// step from its start to its end, so a restore hook that ran for half a
/// minute reads as such; a restore that failed or never ran reads FAILED.
pub fn fault_line(f: &FaultRecord) -> String {
    let at = |ms: f64| format!("{:.3}s", ms / 1000.0);
    let step = |start: Option<f64>, done: Option<f64>| match (start, done) {
        (Some(start), Some(done)) => format!("{} → {}", at(start), at(done)),
        (Some(start), None) => format!("{} → (did not finish)", at(start)),
        _ => "not reached".to_string(),
    };
    let mut t = format!(
        "fault {}: {}, inject {} (planned {})",
        f.name,
        f.action,
        step(f.injected_at_ms, f.inject_done_ms),
        at(f.planned_at_ms)
    );
    if let Some(planned) = f.planned_restore_ms {
        let restore = match f.restored_at_ms {
            None if f.restore_failed => "FAILED: did not run".to_string(),
            _ => step(f.restored_at_ms, f.restore_done_ms),
        };
        t.push_str(&format!(", restore {restore} (planned {})", at(planned)));
        if f.restored_early {
            t.push_str(" early: the run was interrupted");
        }
        if f.restore_failed && f.restored_at_ms.is_some() {
            t.push_str(" FAILED");
        }
    }
    for (step, hook) in [("inject", &f.inject_hook), ("restore", &f.restore_hook)] {
        let Some(hook) = hook.as_ref().filter(|h| !h.left_running.is_empty()) else {
            continue;
        };
        let pids: Vec<String> = hook
            .left_running
            .iter()
            .map(|p| format!("{} {}", p.pid, p.program))
            .collect();
        let fate = match hook.left_running_ended_ms {
            _ if hook.detached => "still running (detach = true)".to_string(),
            Some(ms) => format!("ended at {}", at(ms)),
            None => "not ended".to_string(),
        };
        t.push_str(&format!(
            "; {step} left running: {}, {fate}",
            pids.join(", ")
        ));
    }
    if let Some(e) = &f.error {
        t.push_str(&format!(" — ERROR: {e}"));
    }
    t
}

/// `  primary-down (injected at 10.000 s): primary 8.012 s (...), secondary no outage, all 8.012 s (...)`
/// per fault, then each fault window's table ([`window_lines`]).
pub fn outage_lines(outages: &[FaultOutage], rule: RecoveryRule) -> String {
    let mut t = String::new();
    if !outages.is_empty() {
        t.push_str(&format!(
            "\nmeasured RTO (recovered = {} s in a row at ≥ {}% availability):\n",
            rule.window, rule.threshold_pct
        ));
    }
    for o in outages {
        // Without a hook or marker every scope has its own T0: say so, and
        // give each scope's beside its result.
        let own_t0 = o.source == T0Source::FirstFailure;
        let parts: Vec<String> = o
            .scopes
            .iter()
            .map(|s| {
                let r = &s.report;
                let t0 = match (own_t0, r.t0_ms) {
                    (true, Some(ms)) => format!("T0 {}, ", seconds(ms)),
                    _ => String::new(),
                };
                let what = match (r.recovery, r.t0_ms) {
                    (Recovery::NoOutage, None) if own_t0 => "no failure".to_string(),
                    (Recovery::NoOutage, None) => "not measured".to_string(),
                    (Recovery::NoOutage, _) => "no outage".to_string(),
                    (Recovery::Recovered { .. }, _) => format!(
                        "{} ({t0}{} failed; p99 {})",
                        seconds(r.rto_ms.unwrap_or(0)),
                        r.failed,
                        phases_p99(&s.latency_ms)
                    ),
                    (Recovery::NotRecovered { lower_bound_ms }, _) => {
                        format!("NOT RECOVERED ({t0}> {})", seconds(lower_bound_ms))
                    }
                };
                format!("{} {what}", s.scope)
            })
            .collect();
        t.push_str(&format!(
            "  {} ({}): {}\n",
            o.fault,
            t0_label(o),
            parts.join(", ")
        ));
    }
    t.push_str(&window_lines(outages));
    t.push_str(&crate::report::failover::lines(outages));
    t
}

/// Where a fault's T0 came from, e.g. `injected at 10.000 s`.
pub fn t0_label(o: &FaultOutage) -> String {
    match (o.source, o.t0_ms) {
        (T0Source::Hook, Some(ms)) => format!("injected at {}", seconds(ms)),
        (T0Source::Hook, None) => "the fault did not run: nothing to measure".to_string(),
        (T0Source::Marker, Some(ms)) => format!("marker at {}", seconds(ms)),
        (T0Source::Marker, None) => "marker".to_string(),
        (T0Source::FirstFailure, _) => {
            "no fault hook or marker; T0 = each target's first failed request".to_string()
        }
    }
}

/// Why a fault window ends where it does, for people.
pub fn window_reason(o: &FaultOutage) -> Option<String> {
    let w = o.window?;
    let scope = o.faulted_scope.as_deref().unwrap_or("all");
    Some(match w.ends {
        WindowEnd::Recovered => format!("until {scope} recovered"),
        WindowEnd::NotRecovered => {
            format!("{scope} did not recover before the next fault or the run's end")
        }
        WindowEnd::Restored => format!("{scope} had no outage: until the restore finished"),
        WindowEnd::RegionEnd => {
            format!("{scope} had no outage: to the next fault or the run's end")
        }
    })
}

/// Every scope's figures over each fault's window (T0's second to the
/// faulted scope's recovery second, excluded): how the control target did
/// while the faulted one was down.
pub fn window_lines(outages: &[FaultOutage]) -> String {
    let mut t = String::new();
    for o in outages {
        let (Some(w), Some(reason)) = (o.window, window_reason(o)) else {
            continue;
        };
        t.push_str(&format!(
            "\nduring {} ({} s → {} s, {reason}):\n",
            o.fault, w.from_second, w.to_second
        ));
        if w.is_empty() {
            t.push_str("  (no whole second)\n");
            continue;
        }
        t.push_str(&format!(
            "  {:<14} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9}  {}\n",
            "scope", "requests", "ok", "failed", "avail%", "p50 ms", "p99 ms", "failures"
        ));
        for s in &o.scopes {
            let Some(f) = &s.in_window else { continue };
            let pct = |p: fn(&Percentiles) -> f64| {
                f.latency_ms
                    .as_ref()
                    .map_or("-".to_string(), |l| format!("{:.1}", p(l)))
            };
            let failures: Vec<String> = f
                .failures()
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            t.push_str(&format!(
                "  {:<14} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9}  {}\n",
                s.scope,
                f.requests,
                f.ok,
                f.failed,
                f.availability_pct
                    .map_or("-".to_string(), |a| format!("{a:.2}")),
                pct(|p| p.p50),
                pct(|p| p.p99),
                failures.join(", ")
            ));
        }
    }
    t
}

/// The generator-limited seconds, the criteria table and the verdict line.
pub fn verdict_lines(verdict: &Verdict) -> String {
    let mut t = String::new();
    let limited: Vec<String> = verdict
        .generator
        .scopes
        .iter()
        .filter(|s| s.scope != "all" && !s.limited_seconds.is_empty())
        .map(|s| format!("{} second(s) {}", s.scope, show_runs(&s.limited_seconds)))
        .collect();
    if !limited.is_empty() {
        t.push_str(&format!(
            "\ngenerator-limited: {} — there the generator, not the target, set latency and failures\n",
            limited.join("; ")
        ));
    }
    let invalid = verdict.status == VerdictStatus::Invalid;
    if !verdict.criteria.is_empty() {
        t.push_str(&format!(
            "\n{:<24} {:<12} {:<34} {:<34} {}\n",
            "criterion", "scope", "threshold", "measured", "result"
        ));
        for c in &verdict.criteria {
            let result = match (invalid, c.pass) {
                (true, _) => "not judged",
                (false, true) => "pass",
                (false, false) => "FAIL",
            };
            t.push_str(&format!(
                "{:<24} {:<12} {:<34} {:<34} {result}\n",
                c.name, c.scope, c.threshold, c.measured
            ));
        }
    }
    match verdict.status {
        VerdictStatus::Invalid => {
            t.push_str(
                "verdict: INVALID — the generator could not do what the scenario asked, so these numbers are not the target's and nothing is judged:\n",
            );
            for reason in &verdict.generator.invalid {
                t.push_str(&format!("  - {reason}\n"));
            }
            t.push_str("what to change:\n");
            for advice in &verdict.generator.advice {
                t.push_str(&format!("  - {advice}\n"));
            }
        }
        VerdictStatus::NoSlo => t.push_str(
            "verdict: NO SLO — the scenario has no [slo] criteria; every target answered\n",
        ),
        VerdictStatus::Fail => t.push_str("verdict: FAIL\n"),
        VerdictStatus::Pass => t.push_str("verdict: PASS\n"),
    }
    t
}

/// `3.5 → 1.2 → 3.6 ms`: p99 before, during and after an outage.
fn phases_p99(l: &crate::drill::assess::PhaseLatency) -> String {
    let p = |x: &Option<Percentiles>| {
        x.as_ref()
            .map_or("-".to_string(), |p| format!("{:.1}", p.p99))
    };
    format!("{} → {} → {} ms", p(&l.before), p(&l.during), p(&l.after))
}
