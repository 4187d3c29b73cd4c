//! The run's cluster names, one per-second slot each ([`super::PageCounts`]),
//! shared by every lane and by the timeline writer: the configured names
//! first (the simulator's, then `[clusters]`, then names the SLOs mention),
//! then each name a page shows, in the order a lane first met it. A lane
//! asks only the first time it meets a name (it keeps the answer in its own
//! table), so the lock is never taken per request.
//!
//! Past [`NAMED_CLUSTERS`] names, and for the reserved `other` and
//! `unknown` (the timeline's catch-all columns), there is no slot: such
//! pages count as `other` and by name in the lane's tallies.

use std::sync::{Arc, Mutex, MutexGuard};

use super::pages::NAMED_CLUSTERS;

/// Names that are column suffixes of the catch-all slots.
const RESERVED: [&str; 2] = ["other", "unknown"];

#[derive(Debug, Default)]
pub struct ClusterRegistry {
    /// Index = slot. Append-only: a slot never changes its name.
    names: Mutex<Vec<String>>,
}

impl ClusterRegistry {
    /// A registry holding `configured` at slots `0..` in order (duplicates
    /// keep their first slot), so the classifier's configured ids are slots.
    pub fn new<'a>(configured: impl IntoIterator<Item = &'a str>) -> Arc<ClusterRegistry> {
        let registry = ClusterRegistry::default();
        for name in configured {
            registry.slot(name);
        }
        Arc::new(registry)
    }

    /// The slot of `name`, added when new and there is room.
    pub fn slot(&self, name: &str) -> Option<usize> {
        let mut names = self.lock();
        if let Some(i) = names.iter().position(|n| n == name) {
            return Some(i);
        }
        if names.len() >= NAMED_CLUSTERS || RESERVED.contains(&name) {
            return None;
        }
        names.push(name.to_string());
        Some(names.len() - 1)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names by slot, as they are now.
    pub fn names(&self) -> Vec<String> {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<String>> {
        // A panicking holder cannot leave the list half-changed (one push).
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_names_keep_their_order_and_seen_ones_follow() {
        let r = ClusterRegistry::new(["primary", "secondary", "primary"]);
        assert_eq!(r.names(), ["primary", "secondary"]);
        assert_eq!(r.slot("primary-cluster"), Some(2));
        assert_eq!(r.slot("secondary"), Some(1));
        assert_eq!(r.slot("primary-cluster"), Some(2));
        assert_eq!(r.slot("other"), None);
        assert_eq!(r.slot("unknown"), None);
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn names_past_the_slots_have_none() {
        let r = ClusterRegistry::new([]);
        for i in 0..NAMED_CLUSTERS {
            assert_eq!(r.slot(&format!("c{i}")), Some(i));
        }
        assert_eq!(r.slot("one-more"), None);
        assert_eq!(r.slot("c0"), Some(0));
        assert_eq!(r.len(), NAMED_CLUSTERS);
    }
}
