//! [`RawScenario`] → [`Plan`]: gives every raw value its meaning, checks it,
//! and keeps going after a problem so the file's problems come out together.
//! Each table has its own file ([`super::load`], [`super::target`],
//! [`super::fault`], [`super::sim_settings`], [`super::clusters`],
//! [`super::recovery`], [`super::slo`], [`super::dns`]); this one holds the shared
//! readers ([`Cx`]) and assembles the plan.

use std::path::Path;
use std::time::Duration;

use super::error::Problems;
use super::interpolate::interpolate;
use super::plan::Plan;
use super::raw::{Item, Origin, RawScenario, Value};
use super::{
    capture, clusters, dns, duration, evidence, fault, load, recovery, sim_settings, slo, target,
};

/// Compiles the whole scenario. `None` when anything was wrong; the reasons
/// are in `cx.problems`.
pub(super) fn compile(raw: &RawScenario, source: &Path, cx: &mut Cx<'_>) -> Option<Plan> {
    let name = match &raw.name {
        Some(item) => cx.text(item, "a scenario name").and_then(|name| {
            if name.value.trim().is_empty() {
                cx.problem(&name.origin, "is empty (expected a scenario name)");
                None
            } else {
                Some(name.value)
            }
        }),
        None => Some(default_name(source)),
    };
    // Free text, but still a string value: checked and interpolated so a
    // `${VAR}` typo is caught like anywhere else.
    let description = raw
        .description
        .as_ref()
        .map(|item| cx.text(item, "free text").map(|text| text.value));
    let description = match description {
        Some(None) => None,
        Some(Some(text)) => Some(Some(text)),
        None => Some(None),
    };
    let load = load::compile(&raw.load, cx);
    let targets = target::compile(
        &raw.targets,
        raw.target_origin.as_ref(),
        load.connection,
        load.max_connection_age,
        cx,
    );
    let faults = fault::compile(&raw.faults, &targets, load.end_of_traffic, cx);
    let sim = sim_settings::compile(&raw.sim, cx);
    if sim.as_ref().is_some_and(|s| !s.tls) {
        target::check_sim_http(&raw.targets, &targets, cx);
    }
    let recovery = recovery::compile(&raw.recovery, cx);
    let slo = slo::compile(&raw.slo, &targets, cx);
    let clusters = clusters::compile(&raw.clusters, cx);
    let dns = dns::compile(&raw.dns, cx);
    let captures = capture::compile(&raw.captures, cx);
    let evidence = evidence::compile(&raw.evidence, cx);

    let targets: Option<Vec<_>> = targets.into_iter().map(|t| t.plan).collect();
    let plan = Plan {
        name: name?,
        description: description?,
        source: source.to_path_buf(),
        targets: targets?,
        load: load.plan?,
        faults: faults?,
        sim: sim?,
        recovery: recovery?,
        slo: slo?,
        clusters: clusters?,
        dns: dns?,
        captures: captures?,
        evidence: evidence?,
        grafana: None,
        start_at: None,
    };
    cx.problems.is_empty().then_some(plan)
}

/// The file stem, so `scenarios/primary-down.toml` is named `primary-down`.
fn default_name(source: &Path) -> String {
    source
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .filter(|stem| !stem.is_empty())
        .unwrap_or_else(|| "scenario".to_string())
}

/// Shared state of one compilation: where problems go, and the environment
/// `${VAR}` reads from.
pub(super) struct Cx<'a> {
    pub problems: Problems<'a>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

/// A string value after `${VAR}` expansion, remembering how it was written so
/// messages can show both.
#[derive(Clone, Debug)]
pub(super) struct Text {
    pub value: String,
    pub origin: Origin,
    written: String,
}

impl Text {
    /// `"10.0.0.7:80"`, or `"10.0.0.7:80" (from "${IP}:80")` when expanded.
    pub(super) fn quoted(&self) -> String {
        if self.value == self.written {
            format!("{:?}", self.value)
        } else {
            format!("{:?} (from {:?})", self.value, self.written)
        }
    }
}

impl<'a> Cx<'a> {
    pub(super) fn new(problems: Problems<'a>, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Cx { problems, env }
    }

    pub(super) fn problem(&mut self, origin: &Origin, message: impl Into<String>) {
        self.problems.push(origin, message);
    }

    /// The one way compile code reads a string, so every string value is
    /// interpolated. `expected` describes the value for a type mismatch.
    pub(super) fn text(&mut self, item: &Item, expected: &str) -> Option<Text> {
        let Value::Str(written) = &item.value else {
            self.problem(
                &item.origin,
                format!("{} is not a string (expected {expected})", item.value),
            );
            return None;
        };
        match interpolate(written, self.env) {
            Ok(value) => Some(Text {
                value,
                origin: item.origin.clone(),
                written: written.clone(),
            }),
            Err(problems) => {
                for problem in problems {
                    self.problem(&item.origin, format!("{:?} {problem}", written));
                }
                None
            }
        }
    }

    /// A string whose `${VAR}`s are checked like any other (set, not empty)
    /// but kept as written: hook commands, which resolve them only when the
    /// hook runs, so no value lands in shell text or in what is recorded.
    pub(super) fn text_as_written(&mut self, item: &Item, expected: &str) -> Option<Text> {
        let text = self.text(item, expected)?;
        Some(Text {
            value: text.written.clone(),
            ..text
        })
    }

    pub(super) fn duration(&mut self, item: &Item) -> Option<Duration> {
        if !matches!(item.value, Value::Str(_)) {
            let message = format!("{} is not a duration {}", item.value, duration::EXPECTED);
            self.problem(&item.origin, message);
            return None;
        }
        let text = self.text(item, "a duration")?;
        let parsed = duration::parse(&text.value);
        if parsed.is_none() {
            let message = format!("{} is not a duration {}", text.quoted(), duration::EXPECTED);
            self.problem(&item.origin, message);
        }
        parsed
    }

    /// A duration that must be > 0.
    pub(super) fn positive_duration(&mut self, item: &Item) -> Option<Duration> {
        let value = self.duration(item)?;
        if value.is_zero() {
            self.problem(&item.origin, format!("{} must be > 0", item.value));
            return None;
        }
        Some(value)
    }

    /// One of a fixed set of words, e.g. `connection = "keep-alive" | "new"`.
    pub(super) fn choice<T: Copy>(
        &mut self,
        item: &Item,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let expected = options
            .iter()
            .map(|(word, _)| format!("{word:?}"))
            .collect::<Vec<_>>()
            .join(" | ");
        let text = self.text(item, &expected)?;
        let found = options.iter().find(|(word, _)| *word == text.value);
        if found.is_none() {
            let message = format!("{} is not {what} (expected {expected})", text.quoted());
            self.problem(&item.origin, message);
        }
        found.map(|(_, value)| *value)
    }

    /// A key the format requires: the item, or a problem at the table's line
    /// showing an example.
    pub(super) fn required<'i>(
        &mut self,
        item: &'i Option<Item>,
        table: &Origin,
        key: &str,
        example: &str,
    ) -> Option<&'i Item> {
        if item.is_none() {
            self.problem(&table.child(key), format!("is required (e.g. {example})"));
        }
        item.as_ref()
    }
}
