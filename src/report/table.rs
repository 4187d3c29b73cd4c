//! The tables printed on stdout at the end of a run (and by `meshdrill
//! report`): totals per target, each fault's line, the measured RTO, the
//! fault windows and the verdict, all from the typed summary.

use crate::assess::dir::{PhaseLatency, seconds};
use crate::assess::generator::show_runs;
use crate::assess::{FaultOutage, Recovery, T0Source, Verdict, VerdictStatus, WindowEnd};
use crate::outcome::Kind;
use crate::report::width::{Align, Columns, fit};
use crate::results::faults::FaultRecord;
use crate::results::rebuild::Rebuilt;
use crate::results::summary::{Percentiles, Summary, TargetSummary};
use crate::scenario::RecoveryRule;

/// The table printed on stdout at the end of a run.
pub fn table(summary: &Summary, out_dir: &str) -> String {
    let mut t = String::new();
    let shard = match (&summary.shard, &summary.merged) {
        (Some(s), _) => format!(" — {s}"),
        (None, Some(m)) => format!(" — merged from {} shards", m.shards),
        (None, None) => String::new(),
    };
    t.push_str(&format!(
        "\nmeshdrill {}{shard} — {}{}\n",
        summary.scenario.name,
        summary.start_utc,
        if summary.interrupted {
            " — INTERRUPTED"
        } else if summary.rebuilt.is_some() {
            " — REBUILT"
        } else {
            ""
        }
    ));
    if let Some(rebuilt) = &summary.rebuilt {
        t.push_str(&rebuilt_lines(rebuilt));
    }
    t.push_str(&totals_table(summary));
    for target in &summary.targets {
        t.push_str(&answered_lines(target));
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
        // Under stages the load named is the highest the ramp reached.
        let ramp_to = if summary.scenario.stages.is_empty() {
            ""
        } else {
            "its ramp up to "
        };
        let what = match (
            summary.scenario.rate_per_target,
            summary.scenario.users_per_target,
        ) {
            (Some(rate), _) => format!(
                "were sent ≥ 10 ms after their intended time: the generator could not hold {}{rate}/s per target (open model) on this machine",
                ramp_to
            ),
            (None, Some(users)) => format!(
                "started ≥ 10 ms after their user was ready: this machine could not run {}{users} users per target (closed model) without delay",
                ramp_to
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
                summary
                    .open_files_limit
                    .map_or("unknown".to_string(), |l| l.to_string())
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
        t.push_str(&verdict_lines(verdict, summary.rebuilt.as_ref()));
    }
    t.push_str(&format!("results: {out_dir}\n"));
    fit(&t, 2)
}

/// Requests, outcomes and latency per target and for all.
fn totals_table(summary: &Summary) -> String {
    use Align::{Left, Right};
    let mut table = Columns::new(
        0,
        &[
            ("target", Left),
            ("requests", Right),
            ("ok", Right),
            ("failed", Right),
            ("avail%", Right),
            ("p50 ms", Right),
            ("p99 ms", Right),
            ("max ms", Right),
            ("rate/s", Right),
            ("failures", Left),
        ],
    );
    for s in summary.targets.iter().chain(std::iter::once(&summary.all)) {
        let pct = |p: &Option<Percentiles>, f: fn(&Percentiles) -> f64| {
            p.as_ref()
                .map_or("-".to_string(), |p| format!("{:.1}", f(p)))
        };
        let failures: Vec<String> = s.failures.iter().map(|(k, n)| format!("{k} {n}")).collect();
        table.row(vec![
            s.name.to_string(),
            s.requests.to_string(),
            s.ok.to_string(),
            s.failed.to_string(),
            s.availability_pct
                .map_or("-".to_string(), |a| format!("{a:.2}")),
            pct(&s.latency_ms, |p| p.p50),
            pct(&s.latency_ms, |p| p.p99),
            pct(&s.latency_ms, |p| p.max),
            s.achieved_rate
                .map_or("-".to_string(), |r| format!("{r:.1}")),
            failures.join(", "),
        ]);
    }
    table.render()
}

/// `fault primary-down: sim down on primary, inject 10.002s → 10.003s
/// (planned 10.000s), restore 18.001s → 18.004s (planned 18.000s)`: each
/// step from its start to its end, so a restore hook that ran for half a
/// minute reads as such; a restore that failed or never ran reads FAILED.
/// Which member of a failover target answered, and where a target's
/// requests were redirected: `gslb answered by primary 599 (599 ok),
/// secondary 201 (201 ok); 201 failed over`.
pub fn answered_lines(target: &TargetSummary) -> String {
    let mut t = String::new();
    if let Some(f) = &target.failover {
        let members: Vec<String> = f
            .members
            .iter()
            .map(|m| format!("{} {} ({} ok)", m.name, m.answered, m.ok))
            .collect();
        t.push_str(&format!(
            "{} answered by {}; {} failed over\n",
            target.name,
            members.join(", "),
            f.failed_over
        ));
    }
    if !target.redirects.is_empty() {
        const SHOWN: usize = 3;
        let shown: Vec<String> = target
            .redirects
            .iter()
            .take(SHOWN)
            .map(|r| format!("{} to {}", r.count, shortened(&r.location)))
            .collect();
        let more = target.redirects.len().saturating_sub(SHOWN);
        let more = if more > 0 {
            format!(" and {more} more Location(s) (summary.json)")
        } else {
            String::new()
        };
        t.push_str(&format!(
            "{} redirected (http_3xx): {}{more}\n",
            target.name,
            shown.join(", ")
        ));
    }
    if target.redirects_followed > 0 {
        t.push_str(&format!(
            "{}: {} requests followed a same-host redirect\n",
            target.name, target.redirects_followed
        ));
    }
    t
}

/// A Location as the console shows it: whole up to 100 characters (a
/// server chooses it; summary.json keeps it whole).
fn shortened(location: &str) -> String {
    const MAX: usize = 100;
    match location.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &location[..cut]),
        None => location.to_string(),
    }
}

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
    fit(&t, 2)
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
        t.push_str(&window_table(o));
    }
    t
}

/// One row per scope over a fault's window.
fn window_table(o: &FaultOutage) -> String {
    use Align::{Left, Right};
    let mut table = Columns::new(
        2,
        &[
            ("scope", Left),
            ("requests", Right),
            ("ok", Right),
            ("failed", Right),
            ("avail%", Right),
            ("p50 ms", Right),
            ("p99 ms", Right),
            ("failures", Left),
        ],
    );
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
        table.row(vec![
            s.scope.to_string(),
            f.requests.to_string(),
            f.ok.to_string(),
            f.failed.to_string(),
            f.availability_pct
                .map_or("-".to_string(), |a| format!("{a:.2}")),
            pct(|p| p.p50),
            pct(|p| p.p99),
            failures.join(", "),
        ]);
    }
    table.render()
}

/// Why a summary was rebuilt from the per-second files, and what it lacks.
pub fn rebuilt_lines(rebuilt: &Rebuilt) -> String {
    let mut t = format!(
        "REBUILT: {} ({} of {} planned seconds on disk)\nnot in the files, so not in this summary:\n",
        rebuilt.reason, rebuilt.seconds_on_disk, rebuilt.seconds_planned
    );
    for m in &rebuilt.missing {
        t.push_str(&format!("  - {m}\n"));
    }
    t
}

/// The generator-limited seconds, the criteria table and the verdict line;
/// a verdict of a rebuilt summary says so on its own line.
pub fn verdict_lines(verdict: &Verdict, rebuilt: Option<&Rebuilt>) -> String {
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
        use Align::Left;
        let mut table = Columns::new(
            0,
            &[
                ("criterion", Left),
                ("scope", Left),
                ("threshold", Left),
                ("measured", Left),
                ("result", Left),
            ],
        );
        for c in &verdict.criteria {
            let result = match (invalid, c.pass) {
                (true, _) => "not judged",
                (false, true) => "pass",
                (false, false) => "FAIL",
            };
            table.row(vec![
                c.name.to_string(),
                c.scope.to_string(),
                c.threshold.to_string(),
                c.measured.to_string(),
                result.to_string(),
            ]);
        }
        t.push('\n');
        t.push_str(&table.render());
    }
    let mark = if rebuilt.is_some() {
        " (rebuilt from the per-second files: statuses, pods and service times not available)"
    } else {
        ""
    };
    match verdict.status {
        VerdictStatus::Invalid if rebuilt.is_some_and(|r| !r.complete()) => {
            t.push_str(&format!(
                "verdict: INVALID{mark} — the run did not finish, so nothing is judged:\n"
            ));
            for reason in &verdict.generator.invalid {
                t.push_str(&format!("  - {reason}\n"));
            }
            t.push_str("what to change:\n");
            for advice in &verdict.generator.advice {
                t.push_str(&format!("  - {advice}\n"));
            }
        }
        VerdictStatus::Invalid => {
            t.push_str(&format!(
                "verdict: INVALID{mark} — the generator could not do what the scenario asked, so these numbers are not the target's and nothing is judged:\n",
            ));
            for reason in &verdict.generator.invalid {
                t.push_str(&format!("  - {reason}\n"));
            }
            t.push_str("what to change:\n");
            for advice in &verdict.generator.advice {
                t.push_str(&format!("  - {advice}\n"));
            }
        }
        VerdictStatus::NoSlo => t.push_str(&format!(
            "verdict: NO SLO{mark} — the scenario has no [slo] criteria; every target answered\n",
        )),
        VerdictStatus::Fail => t.push_str(&format!("verdict: FAIL{mark}\n")),
        VerdictStatus::Pass => t.push_str(&format!("verdict: PASS{mark}\n")),
    }
    fit(&t, 2)
}

/// `3.5 → 1.2 → 3.6 ms`: p99 before, during and after an outage.
fn phases_p99(l: &PhaseLatency) -> String {
    let p = |x: &Option<Percentiles>| {
        x.as_ref()
            .map_or("-".to_string(), |p| format!("{:.1}", p.p99))
    };
    format!("{} → {} → {} ms", p(&l.before), p(&l.during), p(&l.after))
}
