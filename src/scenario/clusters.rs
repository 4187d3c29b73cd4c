//! `[clusters]` → [`ClusterRule`]s: cluster names and the reviews pod-name
//! patterns that belong to each, so the classifier can name the cluster that
//! answered when the page does not say ("on cluster ..." is only shown when
//! the reviews pods have `CLUSTER_NAME` set).

use super::compile::Cx;
use super::plan::ClusterRule;
use super::raw::{Item, Origin, RawCluster, Value};

/// Most entries in `[clusters]` (the classifier keeps cluster ids in a byte,
/// next to the simulator's names and names pages show).
pub(super) const MAX_CLUSTERS: usize = 32;
const MAX_NAME: usize = 63;
/// A pod name is a DNS subdomain.
const MAX_PATTERN: usize = 253;

const NAME_EXPECTED: &str =
    "expected letters, digits, '_', '.' or '-', at most 63, as pages show it after \"on cluster\"";
const LIST_EXPECTED: &str =
    "expected a list of reviews pod name patterns, e.g. [\"reviews-v1-8cf7b9cc5-*\"]";
const PATTERN_AS_STRING: &str = "a pod name pattern in quotes, e.g. \"reviews-v2-*\"";
const PATTERN_EXPECTED: &str = "expected lowercase letters, digits, '-', '.', and '*' for any run of characters, e.g. \"reviews-v2-*-abc*\"";

pub(super) fn compile(raw: &[RawCluster], cx: &mut Cx<'_>) -> Option<Vec<ClusterRule>> {
    let mut ok = true;
    if raw.len() > MAX_CLUSTERS {
        let message = format!("has {} clusters (at most {MAX_CLUSTERS})", raw.len());
        let origin = raw[MAX_CLUSTERS].patterns.origin.clone();
        cx.problem(&origin, message);
        ok = false;
    }
    let mut rules = Vec::with_capacity(raw.len());
    for cluster in raw {
        let origin = &cluster.patterns.origin;
        if !valid_name(&cluster.name) {
            // Quoted as TOML would need it, so a space or a dot shows.
            let quoted = match origin {
                Origin::File { line, .. } => Origin::File {
                    key: format!("clusters.{:?}", cluster.name),
                    line: *line,
                },
                flag => flag.clone(),
            };
            cx.problem(&quoted, format!("is not a cluster name ({NAME_EXPECTED})"));
            ok = false;
        }
        let Value::Array(values) = &cluster.patterns.value else {
            let value = &cluster.patterns.value;
            cx.problem(origin, format!("{value} is not a list ({LIST_EXPECTED})"));
            ok = false;
            continue;
        };
        let mut patterns = Vec::with_capacity(values.len());
        for value in values {
            let item = Item {
                value: value.clone(),
                origin: origin.clone(),
            };
            let Some(text) = cx.text(&item, PATTERN_AS_STRING) else {
                ok = false;
                continue;
            };
            if !valid_pattern(&text.value) {
                let message = format!(
                    "{} is not a pod name pattern ({PATTERN_EXPECTED})",
                    text.quoted()
                );
                cx.problem(origin, message);
                ok = false;
                continue;
            }
            patterns.push(text.value);
        }
        rules.push(ClusterRule {
            name: cluster.name.clone(),
            patterns,
        });
    }
    ok.then_some(rules)
}

fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn valid_pattern(pattern: &str) -> bool {
    (1..=MAX_PATTERN).contains(&pattern.len())
        && pattern.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'*')
        })
}
