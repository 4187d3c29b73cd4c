//! `[slo]` and `[slo.target.NAME]` → [`SloPlan`]: the pass/fail criteria of
//! a run, for all targets together and for single targets (evaluated by
//! `assess::slo`).

use super::plan::SloSpec;

use super::compile::Cx;
use super::plan::SloPlan;
use super::raw::{Item, Origin, RawSlo, RawSloSpec, Value};
use super::target::CompiledTarget;

const VERSIONS: &[&str] = &["v1", "v2", "v3"];
const VERSIONS_EXPECTED: &str =
    r#"expected reviews versions, e.g. ["v2", "v3"], each "v1", "v2" or "v3""#;
const CLUSTERS_EXPECTED: &str =
    r#"expected cluster names, e.g. ["primary", "secondary"], each [A-Za-z0-9_.-]+"#;

/// `None` when anything is wrong (the reasons are in `cx`).
pub(super) fn compile(
    raw: &RawSlo,
    targets: &[CompiledTarget],
    cx: &mut Cx<'_>,
) -> Option<SloPlan> {
    let all = if is_empty(&raw.all) {
        Some(None)
    } else {
        spec(&raw.all, cx).map(Some)
    };
    let mut compiled = Vec::with_capacity(raw.targets.len());
    for (name, raw_spec) in &raw.targets {
        let known = target_exists(name, &raw_spec.origin, targets, cx);
        let spec = spec(raw_spec, cx);
        compiled.push(known.then_some(()).and(spec).map(|s| (name.clone(), s)));
    }
    Some(SloPlan {
        all: all?,
        targets: compiled.into_iter().collect::<Option<_>>()?,
    })
}

fn is_empty(raw: &RawSloSpec) -> bool {
    [
        &raw.availability_min,
        &raw.max_failed_requests,
        &raw.error_rate_max,
        &raw.p99_max,
        &raw.p95_max,
        &raw.p50_max,
        &raw.rto_max,
        &raw.expect_versions,
        &raw.only_versions,
        &raw.expect_clusters,
        &raw.only_clusters,
    ]
    .iter()
    .all(|item| item.is_none())
}

fn target_exists(name: &str, origin: &Origin, targets: &[CompiledTarget], cx: &mut Cx<'_>) -> bool {
    if targets.iter().any(|t| t.name.as_deref() == Some(name)) {
        return true;
    }
    let message = if name == "all" {
        "is not a target (\"all\" is every target together: put its criteria in [slo] itself)"
            .to_string()
    } else {
        let mut names: Vec<String> = Vec::new();
        for quoted in targets
            .iter()
            .filter_map(|t| t.name.as_ref())
            .map(|n| format!("{n:?}"))
        {
            if !names.contains(&quoted) {
                names.push(quoted);
            }
        }
        format!("is not a target (expected one of: {})", names.join(", "))
    };
    cx.problem(origin, message);
    false
}

/// One table's criteria; every key is checked even after a problem.
fn spec(raw: &RawSloSpec, cx: &mut Cx<'_>) -> Option<SloSpec> {
    let availability_min = optional(&raw.availability_min, |item| percent(item, cx, true));
    let max_failed = optional(&raw.max_failed_requests, |item| count(item, cx));
    let error_rate_max = optional(&raw.error_rate_max, |item| percent(item, cx, true));
    let p99_max = optional(&raw.p99_max, |item| millis(item, cx));
    let p95_max = optional(&raw.p95_max, |item| millis(item, cx));
    let p50_max = optional(&raw.p50_max, |item| millis(item, cx));
    let rto_max = optional(&raw.rto_max, |item| cx.duration(item));
    let expect_versions = names(&raw.expect_versions, cx, Names::Versions);
    let only_versions = names(&raw.only_versions, cx, Names::Versions);
    let expect_clusters = names(&raw.expect_clusters, cx, Names::Clusters);
    let only_clusters = names(&raw.only_clusters, cx, Names::Clusters);
    subset(
        &raw.expect_versions,
        &expect_versions,
        &only_versions,
        "only_versions",
        cx,
    );
    subset(
        &raw.expect_clusters,
        &expect_clusters,
        &only_clusters,
        "only_clusters",
        cx,
    );
    Some(SloSpec {
        availability_min_pct: availability_min?,
        max_failed_requests: max_failed?,
        error_rate_max_pct: error_rate_max?,
        p99_max_ms: p99_max?,
        p95_max_ms: p95_max?,
        p50_max_ms: p50_max?,
        rto_max: rto_max?,
        expect_versions: expect_versions?,
        only_versions: only_versions?,
        expect_clusters: expect_clusters?,
        only_clusters: only_clusters?,
    })
}

/// `Some(None)` when absent, `Some(Some(v))` when valid, `None` when wrong.
fn optional<T>(item: &Option<Item>, read: impl FnOnce(&Item) -> Option<T>) -> Option<Option<T>> {
    match item {
        None => Some(None),
        Some(item) => read(item).map(Some),
    }
}

/// A percentage: 0 ≤ p ≤ 100 with `zero_ok`, else 0 < p ≤ 100.
pub(super) fn percent(item: &Item, cx: &mut Cx<'_>, zero_ok: bool) -> Option<f64> {
    let expected = if zero_ok {
        "expected a percentage from 0 to 100, e.g. 99.9"
    } else {
        "expected a percentage, > 0 and ≤ 100, e.g. 99.0"
    };
    let value = match item.value {
        Value::Int(i) => i as f64,
        Value::Float(x) => x,
        _ => {
            let message = format!("{} is not a number ({expected})", item.value);
            cx.problem(&item.origin, message);
            return None;
        }
    };
    let low_ok = if zero_ok { value >= 0.0 } else { value > 0.0 };
    if !(low_ok && value <= 100.0) {
        let message = format!("{} is out of range ({expected})", item.value);
        cx.problem(&item.origin, message);
        return None;
    }
    Some(value)
}

fn count(item: &Item, cx: &mut Cx<'_>) -> Option<u64> {
    const EXPECTED: &str = "expected a number of requests, an integer ≥ 0";
    let Value::Int(i) = item.value else {
        let message = format!("{} is not an integer ({EXPECTED})", item.value);
        cx.problem(&item.origin, message);
        return None;
    };
    let n = u64::try_from(i).ok();
    if n.is_none() {
        let message = format!("{} is out of range ({EXPECTED})", item.value);
        cx.problem(&item.origin, message);
    }
    n
}

/// A latency bound (> 0) in milliseconds.
fn millis(item: &Item, cx: &mut Cx<'_>) -> Option<f64> {
    cx.positive_duration(item).map(|d| d.as_secs_f64() * 1000.0)
}

#[derive(Clone, Copy, PartialEq)]
enum Names {
    Versions,
    Clusters,
}

impl Names {
    fn expected(self) -> &'static str {
        match self {
            Names::Versions => VERSIONS_EXPECTED,
            Names::Clusters => CLUSTERS_EXPECTED,
        }
    }

    fn check(self, name: &str) -> Option<&'static str> {
        match self {
            Names::Versions => (!VERSIONS.contains(&name)).then_some("is not a reviews version"),
            Names::Clusters => {
                let valid = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
                (!valid).then_some("is not a cluster name")
            }
        }
    }
}

/// A non-empty array of distinct names; empty (no key) when absent.
fn names(item: &Option<Item>, cx: &mut Cx<'_>, kind: Names) -> Option<Vec<String>> {
    let Some(item) = item else {
        return Some(Vec::new());
    };
    let expected = kind.expected();
    let Value::Array(values) = &item.value else {
        let message = format!("{} is not an array ({expected})", item.value);
        cx.problem(&item.origin, message);
        return None;
    };
    if values.is_empty() {
        let message = format!("is empty ({expected}; leave the key out to check nothing)");
        cx.problem(&item.origin, message);
        return None;
    }
    let mut names: Vec<String> = Vec::with_capacity(values.len());
    let mut ok = true;
    for value in values {
        // Each element is a string value like any other: `${VAR}` works.
        let element = Item {
            value: value.clone(),
            origin: item.origin.clone(),
        };
        let Some(text) = cx.text(&element, expected.trim_start_matches("expected ")) else {
            ok = false;
            continue;
        };
        if let Some(problem) = kind.check(&text.value) {
            cx.problem(
                &item.origin,
                format!("{} {problem} ({expected})", text.quoted()),
            );
            ok = false;
        } else if names.contains(&text.value) {
            cx.problem(&item.origin, format!("lists {} twice", text.quoted()));
            ok = false;
        } else {
            names.push(text.value);
        }
    }
    ok.then_some(names)
}

/// Every expected name must be allowed by the `only_` list, or the SLO
/// could never pass.
fn subset(
    item: &Option<Item>,
    expected: &Option<Vec<String>>,
    only: &Option<Vec<String>>,
    only_key: &str,
    cx: &mut Cx<'_>,
) {
    let (Some(item), Some(expected), Some(only)) = (item, expected, only) else {
        return;
    };
    if only.is_empty() {
        return;
    }
    for name in expected.iter().filter(|name| !only.contains(name)) {
        let message = format!("{name:?} is not in {only_key} (this SLO could never pass)");
        cx.problem(&item.origin, message);
    }
}
