//! A run against one baseline run: whether the two are comparable
//! ([`comparable`]: same scenario name, targets and faults; what differs
//! besides is noted), whether each can be judged at all ([`unjudgeable`]),
//! and every section's rows ([`compare`]).

use super::figures::{self, Figures, Section};
use super::judge::{Detail, rows};
use super::{Comparison, Reference, Tolerances};
use crate::results::Results;
use crate::results::summary::Summary;
use crate::results::verdict::VerdictStatus;

/// Why a run's numbers cannot be compared: INVALID (the generator could
/// not do what the scenario asked), or never judged. `None` when they can.
pub fn unjudgeable(summary: &Summary) -> Option<String> {
    match &summary.verdict {
        None => Some("it was never judged (its summary.json has no verdict)".to_string()),
        Some(v) if v.status == VerdictStatus::Invalid => Some(format!(
            "it is INVALID: {}",
            if v.generator.invalid.is_empty() {
                "the generator could not do what the scenario asked".to_string()
            } else {
                v.generator.invalid.join("; ")
            }
        )),
        Some(_) => None,
    }
}

/// Two runs are comparable when they ran the same scenario (by name) at
/// the same targets (names, in order) with the same faults (names, in
/// order); an interrupted run holds part of its drill and is not. `Ok`
/// holds notes on what else differs (the load, the recovery rule, a
/// fault's times): shown, not refused, since a CI job may shorten a drill
/// on purpose.
pub fn comparable(reference: &Summary, current: &Summary) -> Result<Vec<String>, String> {
    let (a, b) = (reference, current);
    if a.scenario.name != b.scenario.name {
        return Err(format!(
            "different scenarios: {:?} and {:?}",
            a.scenario.name, b.scenario.name
        ));
    }
    let targets = |s: &Summary| s.targets.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    if targets(a) != targets(b) {
        return Err(format!(
            "different targets: {} and {}",
            targets(a).join(", "),
            targets(b).join(", ")
        ));
    }
    let faults = |s: &Summary| s.faults.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
    if faults(a) != faults(b) {
        let show = |names: Vec<String>| {
            if names.is_empty() {
                "(none)".to_string()
            } else {
                names.join(", ")
            }
        };
        return Err(format!(
            "different faults: {} and {}",
            show(faults(a)),
            show(faults(b))
        ));
    }
    for (which, s) in [("the reference", a), ("this run", b)] {
        if s.interrupted {
            return Err(format!(
                "{which} was interrupted: it holds part of its drill"
            ));
        }
    }
    let mut notes = Vec::new();
    let (sa, sb) = (&a.scenario, &b.scenario);
    let load =
        |s: &crate::results::summary::ScenarioInfo| match (s.rate_per_target, s.users_per_target) {
            (Some(rate), _) => format!("{rate}/s per target"),
            (None, Some(users)) => format!("{users} users per target"),
            _ => s.model.clone(),
        };
    if load(sa) != load(sb) || sa.duration_s != sb.duration_s || sa.warmup_s != sb.warmup_s {
        notes.push(format!(
            "the load differs: {} for {} s (warmup {} s) in the reference, {} for {} s (warmup {} s) here: failure counts are not comparable, rates and latencies are",
            load(sa),
            sa.duration_s,
            sa.warmup_s,
            load(sb),
            sb.duration_s,
            sb.warmup_s
        ));
    }
    if a.recovery != b.recovery {
        notes.push(format!(
            "the recovery rule differs: {} s at ≥ {} % in the reference, {} s at ≥ {} % here",
            a.recovery.window,
            a.recovery.threshold_pct,
            b.recovery.window,
            b.recovery.threshold_pct
        ));
    }
    for (fa, fb) in a.faults.iter().zip(&b.faults) {
        if fa.planned_at_ms != fb.planned_at_ms || fa.planned_restore_ms != fb.planned_restore_ms {
            let at = |ms: f64| format!("{:.3} s", ms / 1000.0);
            let restore = |ms: Option<f64>| ms.map_or("none".to_string(), at);
            notes.push(format!(
                "fault {} is planned at {} (restore {}) in the reference, at {} (restore {}) here",
                fa.name,
                at(fa.planned_at_ms),
                restore(fa.planned_restore_ms),
                at(fb.planned_at_ms),
                restore(fb.planned_restore_ms)
            ));
        }
    }
    Ok(notes)
}

/// Every section's rows: the reference's sections in order, then any only
/// the current run has (a marker pressed in this run alone); in each, the
/// reference's scopes, then any only the current run has.
pub fn compare(
    reference: &Results,
    current: &Results,
    tolerances: &Tolerances,
) -> Result<Comparison, String> {
    let notes = comparable(&reference.summary, &current.summary)?;
    let a = figures::of(&reference.summary);
    let b = figures::of(&current.summary);
    let mut out = Vec::new();
    for (section, scopes) in &a {
        let theirs = b.iter().find(|(s, _)| s == section).map(|(_, f)| f);
        section_rows(
            section,
            Some(scopes),
            theirs.map(Vec::as_slice),
            tolerances,
            &mut out,
        );
    }
    for (section, scopes) in b.iter().filter(|(s, _)| a.iter().all(|(r, _)| r != s)) {
        section_rows(section, None, Some(scopes), tolerances, &mut out);
    }
    Ok(Comparison {
        scenario: current.summary.scenario.name.clone(),
        reference: Reference::Baseline {
            dir: reference.dir.display().to_string(),
        },
        current: current.dir.display().to_string(),
        tolerances: *tolerances,
        rows: out,
        notes,
        judged: true,
    })
}

type Scopes = [(String, Figures)];

fn section_rows(
    section: &Section,
    reference: Option<&Scopes>,
    current: Option<&Scopes>,
    tolerances: &Tolerances,
    out: &mut Vec<super::Row>,
) {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in reference.into_iter().chain(current).flatten() {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let find = |scopes: Option<&Scopes>, name: &str| {
        scopes.and_then(|s| s.iter().find(|(n, _)| n == name).map(|(_, f)| f.clone()))
    };
    for name in names {
        let (r, c) = (find(reference, name), find(current, name));
        out.extend(rows(
            section,
            name,
            r.as_ref(),
            c.as_ref(),
            tolerances,
            Detail::Full,
        ));
    }
}
