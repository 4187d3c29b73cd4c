//! `[[fault]]` → [`FaultPlan`]s sorted by `at`: what breaks, on which
//! simulated cluster, when, and when it is undone.

use std::collections::HashMap;
use std::time::Duration;

use crate::sim::SimFault;

use super::compile::Cx;
use super::duration;
use super::plan::{Endpoint, FaultAction, FaultPlan, HookCommand};
use super::raw::{Item, Origin, RawFault, Value};
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

/// A hook with no `timeout` is killed after this long.
pub(super) const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(60);

const COMMAND_EXPECTED: &str = r#"expected an argv array such as ["kubectl", "delete", "pod", "-l", "app=reviews"], or a string with shell = true"#;

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
    let hook = raw.inject.is_some();
    if let (Some(_), Some(inject)) = (&raw.sim, &raw.inject) {
        cx.problem(
            &inject.origin,
            "cannot be combined with sim (a fault either drives the simulator or runs a command)",
        );
    }
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
    let restore_at = restore_at(raw, at, end, cx);
    let action = if hook {
        hook_action(raw, targets, restore_at.flatten().is_some(), cx)
    } else {
        sim_action(raw, targets, cx)
    };
    let plan = (|| {
        Some(FaultPlan {
            name: name.clone()?,
            at: at?,
            action: action?,
            restore_at: restore_at?,
        })
    })();
    (name, plan)
}

/// `Some(None)`: no restore; `None`: wrong (reported).
fn restore_at(
    raw: &RawFault,
    at: Option<Duration>,
    end: Option<Duration>,
    cx: &mut Cx<'_>,
) -> Option<Option<Duration>> {
    let item = match &raw.restore_at {
        None => return Some(None),
        Some(item) => item,
    };
    if raw.inject.is_none() && is_sim_restore(raw) {
        cx.problem(
            &item.origin,
            r#"is not used with sim = "restore" (it undoes nothing)"#,
        );
        return None;
    }
    let restore_at = cx.duration(item)?;
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
}

fn is_sim_restore(raw: &RawFault) -> bool {
    matches!(&raw.sim, Some(item) if item.value == Value::Str("restore".into()))
}

fn sim_action(raw: &RawFault, targets: &[CompiledTarget], cx: &mut Cx<'_>) -> Option<FaultAction> {
    for (item, key) in [
        (&raw.restore, "restore"),
        (&raw.shell, "shell"),
        (&raw.timeout, "timeout"),
        (&raw.detach, "detach"),
    ] {
        if let Some(item) = item {
            cx.problem(
                &item.origin,
                format!("is only used with inject (a command hook), not with sim ({key})"),
            );
        }
    }
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
                Some(CompiledTarget {
                    endpoint: Some(Endpoint::Failover(_)),
                    ..
                }) => format!(
                    "{} is a failover target: sim faults drive the sim: target it names (target = one of its members)",
                    target.quoted()
                ),
                Some(_) => format!(
                    "{} is an http target: sim faults drive only sim: targets (to break a real cluster, use inject = [...] with your kubectl command)",
                    target.quoted()
                ),
                None => unknown_target(&target.quoted(), targets),
            };
            cx.problem(&target.origin, problem);
            None
        });
    let kind = match &raw.sim {
        Some(item) => cx.choice(item, "a simulator fault", KINDS),
        None => {
            let expected = KINDS
                .iter()
                .map(|(word, _)| format!("{word:?}"))
                .collect::<Vec<_>>()
                .join(" | ");
            let message = format!(
                "nothing to inject (expected sim = {expected}, or inject = [\"command\", ...])"
            );
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
    let fault = match kind? {
        Kind::Down => SimFault::Down,
        Kind::Blackhole => SimFault::Blackhole,
        Kind::Http503 => SimFault::Http503,
        Kind::Latency => SimFault::Latency(latency?),
        Kind::Degraded => SimFault::Degraded,
        Kind::CrossCluster => SimFault::CrossCluster,
        Kind::Restore => SimFault::Restore,
    };
    Some(FaultAction::Sim {
        cluster: cluster?,
        fault,
    })
}

fn hook_action(
    raw: &RawFault,
    targets: &[CompiledTarget],
    has_restore_at: bool,
    cx: &mut Cx<'_>,
) -> Option<FaultAction> {
    if let Some(item) = &raw.latency {
        cx.problem(&item.origin, r#"is only used with sim = "latency""#);
    }
    let shell = flag(&raw.shell, cx);
    let detach = flag(&raw.detach, cx);
    let target = match &raw.target {
        None => Some(None),
        Some(item) => cx
            .text(item, r#"a target name such as "primary""#)
            .and_then(|target| {
                if targets
                    .iter()
                    .any(|t| t.name.as_ref() == Some(&target.value))
                {
                    Some(Some(target.value))
                } else {
                    let message = unknown_target(&target.quoted(), targets);
                    cx.problem(&target.origin, message);
                    None
                }
            }),
    };
    let inject = raw
        .inject
        .as_ref()
        .and_then(|item| command(item, shell?, cx));
    let restore = match &raw.restore {
        None => Some(None),
        Some(item) => {
            if !has_restore_at && raw.restore_at.is_none() {
                cx.problem(
                    &item.origin,
                    r#"needs restore_at (when to run it, e.g. restore_at = "18s")"#,
                );
            }
            shell.and_then(|shell| command(item, shell, cx)).map(Some)
        }
    };
    if raw.restore.is_none()
        && let Some(item) = &raw.restore_at
    {
        cx.problem(
            &item.origin,
            "has nothing to run: add restore = [...] (the command that heals)",
        );
    }
    let timeout = match &raw.timeout {
        None => Some(DEFAULT_HOOK_TIMEOUT),
        Some(item) => cx.positive_duration(item),
    };
    Some(FaultAction::Hook {
        inject: inject?,
        restore: restore?,
        timeout: timeout?,
        target: target?,
        detach: detach?,
    })
}

/// An optional `true`/`false` key, false when absent.
fn flag(item: &Option<Item>, cx: &mut Cx<'_>) -> Option<bool> {
    match item {
        None => Some(false),
        Some(Item {
            value: Value::Bool(b),
            ..
        }) => Some(*b),
        Some(item) => {
            cx.problem(&item.origin, format!("{} is not true or false", item.value));
            None
        }
    }
}

pub(super) fn command(item: &Item, shell: bool, cx: &mut Cx<'_>) -> Option<HookCommand> {
    match &item.value {
        Value::Str(_) if shell => {
            // Kept as written: sh expands `${VAR}` from the hook's environment.
            let line = cx.text_as_written(item, "a command line")?;
            if line.value.trim().is_empty() {
                cx.problem(&item.origin, format!("is empty ({COMMAND_EXPECTED})"));
                return None;
            }
            Some(HookCommand::Shell(line.value))
        }
        Value::Str(_) => {
            let message = format!(
                "{} is a string: set shell = true to run it with sh -c, or write it as an argv array",
                item.value
            );
            cx.problem(&item.origin, message);
            None
        }
        Value::Array(values) if !values.is_empty() => {
            let mut argv = Vec::with_capacity(values.len());
            let mut ok = true;
            for value in values {
                let element = Item {
                    value: value.clone(),
                    origin: item.origin.clone(),
                };
                // Kept as written: expanded per argument when the hook runs.
                match cx.text_as_written(&element, "a string (one argument)") {
                    Some(arg) => argv.push(arg.value),
                    None => ok = false,
                }
            }
            if ok && argv[0].trim().is_empty() {
                cx.problem(
                    &item.origin,
                    format!("starts with an empty program name ({COMMAND_EXPECTED})"),
                );
                return None;
            }
            ok.then_some(HookCommand::Argv(argv))
        }
        _ => {
            cx.problem(
                &item.origin,
                format!("{} is not a command ({COMMAND_EXPECTED})", item.value),
            );
            None
        }
    }
}

fn unknown_target(quoted: &str, targets: &[CompiledTarget]) -> String {
    let mut names: Vec<_> = Vec::new();
    for name in targets.iter().filter_map(|t| t.name.as_ref()) {
        let quoted = format!("{name:?}");
        if !names.contains(&quoted) {
            names.push(quoted);
        }
    }
    format!(
        "{quoted} is not a target (expected one of: {})",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
            // `SimFault::word` is exhaustive: a new fault has a word there,
            // and this says when the scenario reader lacks it.
            assert!(KINDS.iter().any(|(w, _)| *w == fault.word()), "{fault:?}");
        }
        assert_eq!(KINDS.len(), 7);
    }
}
