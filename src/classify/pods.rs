//! A lane's table of reviews pod names: name → [`PodId`], append-only and
//! bounded. A name is allocated once, the first time the lane sees it;
//! every later page with that pod costs a lookup (usually a comparison with
//! the last pod seen). Ids never change, so whoever reports names can send
//! `names()[sent..]` now and then.

use std::collections::HashMap;

use crate::outcome::page::{ClusterId, PodId};

/// Distinct pods remembered per lane; later ones are [`PodId::OTHER`]. A
/// drill sees a handful of pods per version per cluster, and a rollout a
/// few dozen; a thousand means the names are not pods.
pub const MAX_PODS: usize = 1024;

#[derive(Debug, Default)]
pub(super) struct PodTable {
    names: Vec<Box<str>>,
    /// The cluster each pod's name maps to under the `[clusters]` rules,
    /// worked out once when the pod is first seen.
    clusters: Vec<ClusterId>,
    index: HashMap<Box<str>, u16>,
    last: Option<u16>,
}

impl PodTable {
    /// The id of `name` (pod-name bytes, ASCII), adding it when new;
    /// `cluster_of` is asked only then.
    pub(super) fn intern(
        &mut self,
        name: &[u8],
        cluster_of: impl FnOnce(&str) -> ClusterId,
    ) -> (PodId, ClusterId) {
        if let Some(last) = self.last
            && self.names[usize::from(last)].as_bytes() == name
        {
            return (PodId(last), self.clusters[usize::from(last)]);
        }
        let Ok(name) = std::str::from_utf8(name) else {
            return (PodId::OTHER, ClusterId::UNKNOWN);
        };
        let id = match self.index.get(name) {
            Some(&id) => id,
            None if self.names.len() < MAX_PODS => {
                let id = self.names.len() as u16;
                self.names.push(name.into());
                self.clusters.push(cluster_of(name));
                self.index.insert(name.into(), id);
                id
            }
            None => return (PodId::OTHER, cluster_of(name)),
        };
        self.last = Some(id);
        (PodId(id), self.clusters[usize::from(id)])
    }

    pub(super) fn name(&self, id: PodId) -> Option<&str> {
        id.index().and_then(|i| self.names.get(i)).map(|n| &**n)
    }

    pub(super) fn names(&self) -> &[Box<str>] {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_stable_ids_and_the_table_is_bounded() {
        let mut t = PodTable::default();
        let none = |_: &str| ClusterId::UNKNOWN;
        let (a, _) = t.intern(b"reviews-v1-a", none);
        let (b, _) = t.intern(b"reviews-v2-b", |_| ClusterId(1));
        assert_eq!(t.intern(b"reviews-v1-a", none).0, a);
        assert_eq!(
            t.intern(b"reviews-v2-b", |_| unreachable!()),
            (b, ClusterId(1))
        );
        assert_eq!((a, b), (PodId(0), PodId(1)));
        assert_eq!(t.name(b), Some("reviews-v2-b"));
        for i in 2..MAX_PODS {
            t.intern(format!("p-{i}").as_bytes(), none);
        }
        assert_eq!(t.names().len(), MAX_PODS);
        assert_eq!(
            t.intern(b"one-too-many", |_| ClusterId(0)),
            (PodId::OTHER, ClusterId(0))
        );
        assert_eq!(t.name(PodId::OTHER), None);
        assert_eq!(t.intern(b"p-7", none).0, PodId(7));
    }
}
