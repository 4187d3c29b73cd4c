//! `[[fault]]` → [`FaultPlan`]s sorted by `at`: what breaks, on which
//! simulated cluster, when, and when it is undone.

use std::collections::HashMap;
use std::time::Duration;

use crate::sim::SimFault;

use super::compile::Cx;
use super::duration;
use super::plan::{Endpoint, FaultAction, FaultPlan};
use super::raw::{Origin, RawFault};
use super::target::{CompiledTarget, owner};

/// The `sim` words; `latency` takes its duration from the `latency` key.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Down,
    Blackhole,
    Http503,
    Latency,
    Degraded,
    CrossCluster,
    Restore,
}

const KINDS: &[(&str, Kind)] = &[
    ("down", Kind::Down),
    ("blackhole", Kind::Blackhole),
    ("http503", Kind::Http503),
    ("latency", Kind::Latency),
    ("degraded", Kind::Degraded),
    ("cross-cluster", Kind::CrossCluster),
    ("restore", Kind::Restore),
];

/// `None` when any fault is wrong (the reasons are in `cx`). `end_of_traffic`
/// is `None` when `[load]` itself is wrong; the timing checks that need it
/// are then skipped rather than guessed.
pub(super) fn compile(
    raws: &[RawFault],
    targets: &[CompiledTarget],
    end_of_traffic: Option<Duration>,
    cx: &mut Cx<'_>,
) -> Option<Vec<FaultPlan>> {
    let mut faults = Vec::with_capacity(raws.len());
    let mut first_use: HashMap<String, &Origin> = HashMap::new();
    for raw in raws {
        let (name, fault) = compile_one(raw, targets, end_of_traffic, cx);
        if let (Some(name), Some(item)) = (name, &raw.name) {
            match first_use.get(&name) {
                Some(first) => {
                    let message = format!("{name:?} is already used by {}", owner(first));
                    cx.problem(&item.origin, message);
                }
                None => {
                    first_use.insert(name, &raw.origin);
                }
            }
        }
        faults.push(fault);
    }
    let mut faults: Vec<FaultPlan> = faults.into_iter().collect::<Option<_>>()?;
    // Stable: faults at the same instant keep the file's order.
    faults.sort_by_key(|fault| fault.at);
    Some(faults)
}

fn compile_one(
    raw: &RawFault,
    targets: &[CompiledTarget],
    end: Option<Duration>,
    cx: &mut Cx<'_>,
) -> (Option<String>, Option<FaultPlan>) {
    let name = cx
        .required(&raw.name, &raw.origin, "name", r#"name = "primary-down""#)
        .and_then(|item| cx.text(item, r#"a fault name such as "primary-down""#))
        .and_then(|name| {
            if name.value.trim().is_empty() {
                cx.problem(&name.origin, "is empty (expected a fault name)");
                return None;
            }
            Some(name.value)
        });
    let cluster = cx
        .required(&raw.target, &raw.origin, "target", r#"target = "primary""#)
        .and_then(|item| cx.text(item, r#"a target name such as "primary""#))
        .and_then(|target| {
            let problem = match targets.iter().find(|t| t.name.as_ref() == Some(&target.value)) {
                // Its endpoint is wrong and already reported.
                Some(CompiledTarget { endpoint: None, .. }) => return None,
                Some(CompiledTarget {
                    endpoint: Some(Endpoint::Sim { cluster, .. }),
                    ..
                }) => return Some(*cluster),
                Some(_) => format!(
                    "{} is an http target: faults on real targets need the inject/restore command hooks coming in a later version (today a fault can only drive a sim: target)",
                    target.quoted()
                ),
                None => {
                    let mut names: Vec<_> = Vec::new();
                    for name in targets.iter().filter_map(|t| t.name.as_ref()) {
                        let quoted = format!("{name:?}");
                        if !names.contains(&quoted) {
                            names.push(quoted);
                        }
                    }
                    format!(
                        "{} is not a target (expected one of: {})",
                        target.quoted(),
                        names.join(", ")
                    )
                }
            };
            cx.problem(&target.origin, problem);
            None
        });
    let at = cx
        .required(&raw.at, &raw.origin, "at", r#"at = "10s""#)
        .and_then(|item| {
            let at = cx.duration(item)?;
            if let Some(end) = end.filter(|&end| at >= end) {
                let message = format!(
                    "{} is not before the end of traffic at {} (warmup + duration)",
                    item.value,
                    duration::show(end)
                );
                cx.problem(&item.origin, message);
                return None;
            }
            Some(at)
        });
    let kind = match &raw.sim {
        Some(item) => cx.choice(item, "a simulator fault", KINDS),
        None => {
            let expected = KINDS
                .iter()
                .map(|(word, _)| format!("{word:?}"))
                .collect::<Vec<_>>()
                .join(" | ");
            let message = format!("nothing to inject (expected sim = {expected})");
            cx.problem(&raw.origin, message);
            None
        }
    };
    let latency = match (&raw.latency, kind) {
        (Some(item), Some(Kind::Latency)) => cx.positive_duration(item),
        (None, Some(Kind::Latency)) => {
            let origin = raw.origin.child("latency");
            cx.problem(
                &origin,
                r#"is required with sim = "latency" (e.g. latency = "200ms")"#,
            );
            None
        }
        (Some(item), Some(_)) => {
            cx.problem(&item.origin, r#"is only used with sim = "latency""#);
            None
        }
        (_, _) => None,
    };
    let restore_at = match &raw.restore_at {
        None => Some(None),
        Some(item) if kind == Some(Kind::Restore) => {
            cx.problem(
                &item.origin,
                r#"is not used with sim = "restore" (it undoes nothing)"#,
            );
            None
        }
        Some(item) => cx.duration(item).and_then(|restore_at| {
            let message = if at.is_some_and(|at| restore_at <= at) {
                format!(
                    "{} must be after {}.at ({})",
                    item.value,
                    owner(&raw.origin),
                    duration::show(at.unwrap_or_default())
                )
            } else if let Some(end) = end.filter(|&end| restore_at > end) {
                format!(
                    "{} is after the end of traffic at {} (warmup + duration)",
                    item.value,
                    duration::show(end)
                )
            } else {
                return Some(Some(restore_at));
            };
            cx.problem(&item.origin, message);
            None
        }),
    };
    let fault = kind.and_then(|kind| {
        Some(match kind {
            Kind::Down => SimFault::Down,
            Kind::Blackhole => SimFault::Blackhole,
            Kind::Http503 => SimFault::Http503,
            Kind::Latency => SimFault::Latency(latency?),
            Kind::Degraded => SimFault::Degraded,
            Kind::CrossCluster => SimFault::CrossCluster,
            Kind::Restore => SimFault::Restore,
        })
    });
    let plan = (|| {
        Some(FaultPlan {
            name: name.clone()?,
            at: at?,
            action: FaultAction::Sim {
                cluster: cluster?,
                fault: fault?,
            },
            restore_at: restore_at?,
        })
    })();
    (name, plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exhaustive on purpose: a new `SimFault` fails to compile here until
    /// it has a word in `KINDS`.
    fn word(fault: SimFault) -> &'static str {
        match fault {
            SimFault::Down => "down",
            SimFault::Blackhole => "blackhole",
            SimFault::Http503 => "http503",
            SimFault::Latency(_) => "latency",
            SimFault::Degraded => "degraded",
            SimFault::CrossCluster => "cross-cluster",
            SimFault::Restore => "restore",
        }
    }

    #[test]
    fn every_sim_fault_has_a_word() {
        for fault in [
            SimFault::Down,
            SimFault::Blackhole,
            SimFault::Http503,
            SimFault::Latency(Duration::ZERO),
            SimFault::Degraded,
            SimFault::CrossCluster,
            SimFault::Restore,
        ] {
            assert!(KINDS.iter().any(|(w, _)| *w == word(fault)), "{fault:?}");
        }
        assert_eq!(KINDS.len(), 7);
    }
}
