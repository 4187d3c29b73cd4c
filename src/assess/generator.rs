//! Whether a run's numbers can be judged at all: the generator's own health
//! ([`crate::record::GeneratorHealth`], one per second per target in
//! `timeline.csv`) against what the scenario asked. Pure: fed by the
//! timeline samples and the fault outages of [`super::rto`], read by the
//! verdict in [`super::dir`].
//!
//! A run is **INVALID** (no PASS, no FAIL) when
//! - a generator-limited second falls in a fault's *judged seconds*: from
//!   T0's second through the recovery window after the latest recovery of a
//!   target (the whole rest of the fault's region when a target did not
//!   recover, or when no target showed an outage at all: held-back requests
//!   can hide one), and at least through the restore's end plus the window;
//! - a target's share of late sends over the measured phase is above
//!   `max_late_pct`, or its share of local errors is;
//! - any request was never sent (`not_sent`);
//! - with `run --start-at`, second 0 came later than `--max-skew` after
//!   the requested instant, or the synchronized clock's error bound is
//!   larger than the skew ([`start_invalid`]);
//! - merged shards (`meshdrill merge`): any shard was INVALID on its own
//!   (the reasons, naming the shard, are in the summary's `merged`).
//!
//! Generator-limited seconds outside those are reported, not judged: their
//! latency and failures are marked as the generator's in every output.

use super::dir::{FaultOutage, Timeline};
use super::rto::{Recovery, SecondSample, T0Source};
use crate::record::{GeneratorHealth, Limits};
pub use crate::results::verdict::{FaultHealth, GeneratorReport, ScopeHealth};
use crate::scenario::RecoveryRule;

/// A fault as the judgement needs it: its outage, where its region ends
/// (the next fault's T0, or the run's end) and when its restore finished.
pub struct JudgedFault<'a> {
    pub outage: &'a FaultOutage,
    pub region_end_ms: u64,
    pub restore_done_ms: Option<u64>,
}

/// Judges the generator over a run: `timeline` as read back, `faults` in
/// order, `warmup_seconds` kept out of the totals.
pub fn judge(
    timeline: &Timeline,
    faults: &[JudgedFault<'_>],
    rule: &RecoveryRule,
    max_late_pct: f64,
    warmup_seconds: u32,
) -> GeneratorReport {
    let mut report = GeneratorReport {
        max_late_pct,
        ..GeneratorReport::default()
    };
    let mut limits_seen = Limits::default();
    for (scope, samples) in &timeline.scopes {
        let mut totals = GeneratorHealth::default();
        let mut limited = Vec::new();
        for s in samples {
            if s.second >= warmup_seconds {
                totals.merge(&s.health);
            }
            let l = s.health.limits(max_late_pct);
            if l.any() {
                limited.push(s.second);
                if scope != "all" {
                    limits_seen = union(limits_seen, l);
                }
            }
        }
        if scope != "all" {
            invalid_totals(scope, &totals, max_late_pct, &mut report.invalid);
        }
        report.scopes.push(ScopeHealth {
            scope: scope.clone(),
            late_pct: totals.late_pct(),
            totals,
            limited_seconds: runs(&limited),
        });
    }
    for fault in faults {
        let (from, to) = judged_seconds(fault, rule);
        let mut health = FaultHealth {
            fault: fault.outage.fault.clone(),
            from_second: from,
            to_second: to,
            limited: Vec::new(),
        };
        for (scope, samples) in timeline.scopes.iter().filter(|(s, _)| s != "all") {
            let limited: Vec<(u32, Limits)> = samples
                .iter()
                .filter(|s| (from..to).contains(&s.second))
                .map(|s| (s.second, s.health.limits(max_late_pct)))
                .filter(|(_, l)| l.any())
                .collect();
            if limited.is_empty() {
                continue;
            }
            let why = limited
                .iter()
                .fold(Limits::default(), |a, (_, l)| union(a, *l));
            let seconds: Vec<u32> = limited.iter().map(|(s, _)| *s).collect();
            let seconds = runs(&seconds);
            let what = match fault.outage.source {
                T0Source::FirstFailure => "the outage from the first failure".to_string(),
                T0Source::Marker => health.fault.clone(),
                T0Source::Hook => format!("fault {}", health.fault),
            };
            report.invalid.push(format!(
                "{what}: the generator was limited on {scope} in second(s) {} ({}), inside the \
                 seconds that measure it ({from}–{}): the outage measured there is the \
                 generator's, not the target's",
                show_runs(&seconds),
                why.describe(),
                to.saturating_sub(1),
            ));
            health.limited.push((scope.clone(), seconds));
        }
        report.faults.push(health);
    }
    if !report.invalid.is_empty() {
        report.advice = advice(limits_seen, &report.invalid);
    }
    report
}

/// Why a `--start-at` run cannot be lined up with its other shards: a
/// second 0 too late, or a clock that may be off by more than the skew. An
/// unsynchronized clock says nothing of its error, and is not a reason
/// alone (see the README: many test machines report no NTP state at all).
pub fn start_invalid(start: &crate::results::summary::StartInfo) -> Vec<String> {
    let mut invalid = Vec::new();
    if start.lag_ms > start.max_skew_ms {
        invalid.push(format!(
            "started {:.0} ms after --start-at (max skew {} ms)",
            start.lag_ms, start.max_skew_ms
        ));
    }
    if let Some(error) = start
        .clock
        .max_error_ms
        .filter(|_| start.clock.synchronized)
        && error > start.max_skew_ms
    {
        invalid.push(format!(
            "clock error bound {error} ms > max skew {} ms",
            start.max_skew_ms
        ));
    }
    invalid
}

/// The fault's judged seconds `[from, to)`; see the module doc.
pub fn judged_seconds(fault: &JudgedFault<'_>, rule: &RecoveryRule) -> (u32, u32) {
    let second = |ms: u64| u32::try_from(ms / 1000).unwrap_or(u32::MAX);
    let region_end = u32::try_from(fault.region_end_ms.div_ceil(1000)).unwrap_or(u32::MAX);
    let targets = fault.outage.scopes.iter().filter(|s| s.scope != "all");
    let t0 = fault
        .outage
        .t0_ms
        .or_else(|| targets.clone().filter_map(|s| s.report.t0_ms).min());
    let Some(t0) = t0 else {
        return (0, 0);
    };
    let from = second(t0).min(region_end);
    let window = rule.window.max(1);
    let mut to: Option<u32> = None;
    let mut any_outage = false;
    for scope in targets {
        let end = match scope.report.recovery {
            Recovery::NoOutage => continue,
            Recovery::Recovered { at_ms } => second(at_ms).saturating_add(window + 1),
            Recovery::NotRecovered { .. } => region_end,
        };
        any_outage = true;
        to = Some(to.map_or(end, |t| t.max(end)));
    }
    let mut to = if any_outage {
        to.unwrap_or(region_end)
    } else {
        region_end
    };
    if let Some(done) = fault.restore_done_ms {
        to = to.max(second(done).saturating_add(window + 1));
    }
    (from, to.min(region_end).max(from))
}

fn invalid_totals(scope: &str, t: &GeneratorHealth, max_late_pct: f64, invalid: &mut Vec<String>) {
    if t.late_share_exceeds(max_late_pct) {
        invalid.push(format!(
            "{scope}: {} of {} requests ({:.2} %) were sent ≥ 10 ms after their intended time \
             (allowed: {max_late_pct} %): the generator could not hold the schedule",
            t.late,
            t.sent,
            t.late_pct().unwrap_or(0.0)
        ));
    }
    let local = GeneratorHealth {
        late: t.local_errors,
        ..*t
    };
    if t.local_errors > 0 && local.late_share_exceeds(max_late_pct) {
        invalid.push(format!(
            "{scope}: {} of {} requests failed on this machine (local_error), not at the target \
             (allowed: {max_late_pct} %)",
            t.local_errors, t.sent
        ));
    }
    if t.not_sent > 0 {
        invalid.push(format!(
            "{scope}: {} planned requests were never sent (the run ended, or one timeout \
             passed, before the generator could send them)",
            t.not_sent
        ));
    }
}

fn advice(limits: Limits, invalid: &[String]) -> Vec<String> {
    let mut advice = Vec::new();
    let late = limits.late || limits.not_sent || invalid.iter().any(|r| r.contains("late"));
    if late {
        advice.push(
            "lower the rate (--rate) or split the targets over several meshdrill processes or \
             machines: this one could not send on time"
                .to_string(),
        );
    }
    if limits.cap {
        advice.push(
            "raise the open-files limit (`ulimit -n`) so more requests can be in flight at once, \
             or lower the rate: the in-flight cap held requests back"
                .to_string(),
        );
    }
    if limits.local_errors || invalid.iter().any(|r| r.contains("local_error")) {
        advice.push(
            "raise `ulimit -n`, widen net.ipv4.ip_local_port_range, or use connection = \
             \"keep-alive\": this machine ran out of descriptors or ports; or raise \
             load.max_buffered when bodies are large or stall: it ran out of body buffers"
                .to_string(),
        );
    }
    if advice.is_empty() {
        advice.push("rerun on an idle machine, with a lower rate".to_string());
    }
    advice
}

fn union(a: Limits, b: Limits) -> Limits {
    Limits {
        late: a.late || b.late,
        not_sent: a.not_sent || b.not_sent,
        cap: a.cap || b.cap,
        local_errors: a.local_errors || b.local_errors,
    }
}

/// Sorted seconds as inclusive runs: `[3, 4, 5, 9]` → `[[3, 5], [9, 9]]`.
pub fn runs(seconds: &[u32]) -> Vec<[u32; 2]> {
    let mut out: Vec<[u32; 2]> = Vec::new();
    for &s in seconds {
        match out.last_mut() {
            Some(run) if run[1].checked_add(1) == Some(s) => run[1] = s,
            _ => out.push([s, s]),
        }
    }
    out
}

/// `3–5, 9`.
pub fn show_runs(runs: &[[u32; 2]]) -> String {
    runs.iter()
        .map(|[a, b]| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The generator-limited seconds of one scope's samples.
pub fn limited_seconds(samples: &[SecondSample], max_late_pct: f64) -> Vec<u32> {
    samples
        .iter()
        .filter(|s| s.health.limits(max_late_pct).any())
        .map(|s| s.second)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::dir::ScopedOutage;
    use crate::assess::rto::OutageReport;

    fn sample(second: u32, sent: u64, late: u64) -> SecondSample {
        SecondSample {
            second,
            sent,
            ok: sent,
            health: GeneratorHealth {
                planned: Some(sent),
                sent,
                late,
                ..GeneratorHealth::default()
            },
            ..SecondSample::default()
        }
    }

    fn report(recovery: Recovery, t0_ms: u64) -> OutageReport {
        OutageReport {
            t0_ms: Some(t0_ms),
            t0_source: Some(T0Source::Hook),
            first_failure_ms: None,
            last_failure_ms: None,
            recovery,
            rto_ms: None,
            failing_seconds: 0,
            failed: 0,
            failed_by_kind: [0; crate::outcome::Kind::COUNT],
            failed_after_recovery: 0,
            failing_seconds_after_recovery: 0,
            before: Default::default(),
            during: Default::default(),
            after: Default::default(),
        }
    }

    fn outage(primary: Recovery, secondary: Recovery) -> FaultOutage {
        let scope = |name: &str, r: Recovery| ScopedOutage {
            scope: name.to_string(),
            report: report(r, 5_001),
            latency_ms: Default::default(),
            in_window: None,
            failover: None,
        };
        FaultOutage {
            fault: "primary-down".into(),
            source: T0Source::Hook,
            t0_ms: Some(5_001),
            faulted_scope: None,
            window: None,
            scopes: vec![
                scope("primary", primary),
                scope("secondary", secondary),
                scope("all", primary),
            ],
        }
    }

    fn timeline(primary: Vec<SecondSample>) -> Timeline {
        let secondary: Vec<SecondSample> = (0..20).map(|s| sample(s, 100, 0)).collect();
        Timeline {
            scopes: vec![("primary".into(), primary), ("secondary".into(), secondary)],
            clusters: Vec::new(),
            pages: vec![Vec::new(), Vec::new()],
        }
    }

    const RULE: RecoveryRule = RecoveryRule {
        window: 5,
        threshold_pct: 99.0,
    };

    #[test]
    fn judged_seconds_run_from_t0_through_the_recovery_window() {
        let o = outage(Recovery::Recovered { at_ms: 9_004 }, Recovery::NoOutage);
        let f = JudgedFault {
            outage: &o,
            region_end_ms: 20_000,
            restore_done_ms: Some(9_000),
        };
        assert_eq!(judged_seconds(&f, &RULE), (5, 15));
        // A restore that ran long extends them.
        let f = JudgedFault {
            restore_done_ms: Some(12_500),
            ..f
        };
        assert_eq!(judged_seconds(&f, &RULE), (5, 18));
        // No outage anywhere: the rest of the region.
        let o = outage(Recovery::NoOutage, Recovery::NoOutage);
        let f = JudgedFault {
            outage: &o,
            region_end_ms: 12_000,
            restore_done_ms: None,
        };
        assert_eq!(judged_seconds(&f, &RULE), (5, 12));
        let o = outage(
            Recovery::NotRecovered {
                lower_bound_ms: 1000,
            },
            Recovery::NoOutage,
        );
        let f = JudgedFault {
            outage: &o,
            region_end_ms: 20_000,
            restore_done_ms: None,
        };
        assert_eq!(judged_seconds(&f, &RULE), (5, 20));
    }

    #[test]
    fn a_limited_second_in_a_fault_makes_the_run_invalid() {
        // Second 7 is 30 % late on the primary; the fault is judged 5..15.
        let primary: Vec<SecondSample> = (0..20)
            .map(|s| sample(s, 100, if s == 7 { 30 } else { 0 }))
            .collect();
        let o = outage(Recovery::Recovered { at_ms: 9_004 }, Recovery::NoOutage);
        let faults = [JudgedFault {
            outage: &o,
            region_end_ms: 20_000,
            restore_done_ms: Some(9_000),
        }];
        let r = judge(&timeline(primary), &faults, &RULE, 1.0, 0);
        assert_eq!(
            r.faults[0].limited,
            vec![("primary".to_string(), vec![[7, 7]])]
        );
        // 30 of 2000 overall is 1.5 %: above 1 % too.
        assert_eq!(r.invalid.len(), 2, "{:?}", r.invalid);
        assert!(
            r.invalid[1].contains("second(s) 7 (late sends)"),
            "{}",
            r.invalid[1]
        );
        assert_eq!(r.scopes[0].limited_seconds, vec![[7, 7]]);
        assert_eq!(r.scopes[0].totals.late, 30);
        assert!(r.advice[0].starts_with("lower the rate"));
    }

    #[test]
    fn a_limited_second_outside_every_fault_is_reported_not_judged() {
        let primary: Vec<SecondSample> = (0..20)
            .map(|s| sample(s, 100, if s == 2 { 16 } else { 0 }))
            .collect();
        let o = outage(Recovery::Recovered { at_ms: 9_004 }, Recovery::NoOutage);
        let faults = [JudgedFault {
            outage: &o,
            region_end_ms: 20_000,
            restore_done_ms: Some(9_000),
        }];
        let r = judge(&timeline(primary), &faults, &RULE, 1.0, 0);
        assert!(r.invalid.is_empty(), "{:?}", r.invalid);
        assert!(r.advice.is_empty());
        assert_eq!(r.scopes[0].limited_seconds, vec![[2, 2]]);
        assert!(r.faults[0].limited.is_empty());
    }

    #[test]
    fn unsent_requests_and_warmup() {
        let mut primary: Vec<SecondSample> = (0..4).map(|s| sample(s, 100, 0)).collect();
        primary[3].health.not_sent = 12;
        // Warmup lateness is outside the totals.
        primary[0].health.late = 100;
        let r = judge(&timeline(primary), &[], &RULE, 1.0, 1);
        assert_eq!(r.scopes[0].totals.late, 0);
        assert_eq!(r.scopes[0].totals.not_sent, 12);
        assert_eq!(r.invalid.len(), 1, "{:?}", r.invalid);
        assert!(r.invalid[0].starts_with("primary: 12 planned requests were never sent"));
        assert_eq!(r.scopes[0].limited_seconds, vec![[0, 0], [3, 3]]);
    }

    #[test]
    fn runs_fold_consecutive_seconds() {
        assert_eq!(runs(&[3, 4, 5, 9]), vec![[3, 5], [9, 9]]);
        assert_eq!(show_runs(&runs(&[3, 4, 5, 9])), "3–5, 9");
        assert!(runs(&[]).is_empty());
    }

    #[test]
    fn a_late_start_or_a_loose_synchronized_clock_is_invalid_an_unsynchronized_one_is_not() {
        use crate::results::summary::{ClockStatus, StartInfo};
        let clock = |synchronized, max_error_ms| ClockStatus {
            synchronized,
            offset_ms: synchronized.then_some(0.5),
            max_error_ms,
        };
        let start = |lag_ms, clock| StartInfo {
            at_unix_ms: 0,
            lag_ms,
            max_skew_ms: 50.0,
            clock,
            notes: Vec::new(),
        };
        assert!(start_invalid(&start(50.0, clock(true, Some(50.0)))).is_empty());
        assert!(start_invalid(&start(300.0, clock(false, None))).len() == 1);
        assert_eq!(
            start_invalid(&start(212.4, clock(true, Some(80.5)))),
            [
                "started 212 ms after --start-at (max skew 50 ms)",
                "clock error bound 80.5 ms > max skew 50 ms"
            ]
        );
        assert!(start_invalid(&start(0.0, clock(false, None))).is_empty());
    }
}
