//! Cluster names: the configured ones ([`ClassifyConfig`], built from the
//! plan: the simulator's names when a target is `sim:`, then the scenario's
//! `[clusters]` table), the pod-name patterns that map a pod to one of them
//! when the page names no cluster, and the bounded per-lane table of names
//! pages showed that were not configured.

use crate::scenario::{ClusterRule, Plan};
use crate::sim::Cluster;

use crate::outcome::page::ClusterId;

/// Most configured cluster names (the scenario allows fewer).
pub const MAX_CLUSTERS: usize = 64;
/// Most unconfigured names a lane remembers; later ones are [`ClusterId::OTHER`].
pub const MAX_OTHER_CLUSTERS: usize = 64;

/// What a lane's classifier needs from the plan. Cheap to clone (a few
/// names and patterns); built once per run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassifyConfig {
    /// Index = [`ClusterId`].
    names: Vec<String>,
    /// In the order of the `[clusters]` table: the first match wins.
    rules: Vec<(ClusterId, Vec<String>)>,
}

impl ClassifyConfig {
    /// The simulator's names ("primary", "secondary") first when any
    /// target is `sim:` (its pages name them), then the `[clusters]` table.
    pub fn from_plan(plan: &Plan) -> ClassifyConfig {
        let sim: &[Cluster] = if plan.uses_sim() { &Cluster::ALL } else { &[] };
        ClassifyConfig::new(sim.iter().map(|c| c.name()), &plan.clusters)
    }

    /// `known` names first, then each rule's (a rule may name a known one:
    /// it keeps its place). Names past [`MAX_CLUSTERS`] are dropped.
    pub fn new<'a>(known: impl IntoIterator<Item = &'a str>, rules: &[ClusterRule]) -> Self {
        let mut config = ClassifyConfig::default();
        for name in known {
            config.id_for(name);
        }
        for rule in rules {
            if let Some(id) = config.id_for(&rule.name) {
                config.rules.push((id, rule.patterns.clone()));
            }
        }
        config
    }

    fn id_for(&mut self, name: &str) -> Option<ClusterId> {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Some(ClusterId(i as u8));
        }
        if self.names.len() >= MAX_CLUSTERS {
            return None;
        }
        self.names.push(name.to_string());
        Some(ClusterId((self.names.len() - 1) as u8))
    }

    /// Configured cluster names; a [`ClusterId`] below `len()` indexes this.
    pub fn cluster_names(&self) -> &[String] {
        &self.names
    }

    /// The configured name equal to `name`.
    pub(super) fn configured(&self, name: &[u8]) -> Option<ClusterId> {
        let i = self.names.iter().position(|n| n.as_bytes() == name)?;
        Some(ClusterId(i as u8))
    }

    /// The cluster of the first rule with a pattern matching `pod`.
    pub(super) fn cluster_of_pod(&self, pod: &str) -> ClusterId {
        self.rules
            .iter()
            .find(|(_, patterns)| patterns.iter().any(|p| glob(p.as_bytes(), pod.as_bytes())))
            .map_or(ClusterId::UNKNOWN, |(id, _)| *id)
    }
}

/// `*` matches any run of bytes (including none); everything else itself.
pub(super) fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it is currently matched up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&b) if b == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// A lane's names of clusters pages showed that are not configured.
#[derive(Debug, Default)]
pub(super) struct OtherClusters {
    names: Vec<Box<str>>,
}

impl OtherClusters {
    /// Id of `name` (not a configured one), which follows the `configured`
    /// ids; added when new and there is room.
    pub(super) fn intern(&mut self, name: &[u8], configured: usize) -> ClusterId {
        let id = |i: usize| ClusterId((configured + i) as u8);
        if let Some(i) = self.names.iter().position(|n| n.as_bytes() == name) {
            return id(i);
        }
        match std::str::from_utf8(name) {
            Ok(name) if self.names.len() < MAX_OTHER_CLUSTERS => {
                self.names.push(name.into());
                id(self.names.len() - 1)
            }
            _ => ClusterId::OTHER,
        }
    }

    pub(super) fn names(&self) -> &[Box<str>] {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, patterns: &[&str]) -> ClusterRule {
        ClusterRule {
            name: name.into(),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn glob_stars_match_any_run() {
        for (p, t, ok) in [
            ("reviews-v1-8cf7b9cc5-*", "reviews-v1-8cf7b9cc5-abcde", true),
            ("reviews-v1-8cf7b9cc5-*", "reviews-v1-8cf7b9cc5-", true),
            (
                "reviews-v1-8cf7b9cc5-*",
                "reviews-v1-8cf7b9cc6-abcde",
                false,
            ),
            ("reviews-v2-*-abc*", "reviews-v2-67d565655f-abcxy", true),
            ("reviews-v2-*-abc*", "reviews-v2-67d565655f-xabcy", false),
            ("reviews-*-7d4f*", "reviews-v3-7d4f00-zz", true),
            ("*", "", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("**x", "abx", true),
        ] {
            assert_eq!(glob(p.as_bytes(), t.as_bytes()), ok, "{p} {t}");
        }
    }

    #[test]
    fn sim_names_come_first_and_rules_keep_table_order() {
        let config = ClassifyConfig::new(
            ["primary", "secondary"],
            &[
                rule("east", &["reviews-*-e*"]),
                rule("primary", &["reviews-v1-*"]),
                rule("west", &[]),
            ],
        );
        assert_eq!(
            config.cluster_names(),
            ["primary", "secondary", "east", "west"]
        );
        assert_eq!(config.cluster_of_pod("reviews-v1-eee"), ClusterId(2));
        assert_eq!(config.cluster_of_pod("reviews-v1-fff"), ClusterId(0));
        assert_eq!(config.cluster_of_pod("ratings-v1-fff"), ClusterId::UNKNOWN);
        assert_eq!(config.configured(b"west"), Some(ClusterId(3)));
        assert_eq!(config.configured(b"north"), None);
    }

    #[test]
    fn other_names_follow_the_configured_ones_and_are_bounded() {
        let mut other = OtherClusters::default();
        assert_eq!(other.intern(b"primary-cluster", 2), ClusterId(2));
        assert_eq!(other.intern(b"dr-cluster", 2), ClusterId(3));
        assert_eq!(other.intern(b"primary-cluster", 2), ClusterId(2));
        for i in 2..MAX_OTHER_CLUSTERS {
            other.intern(format!("c{i}").as_bytes(), 2);
        }
        assert_eq!(other.intern(b"one-more", 2), ClusterId::OTHER);
        assert_eq!(other.names().len(), MAX_OTHER_CLUSTERS);
    }
}
