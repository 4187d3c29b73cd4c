//! Who answered, per second: reviews version, cluster and degraded backends
//! of the productpages (HTTP 200, complete or degraded), in fixed arrays so
//! recording never allocates. Cluster ids are slots of the run's
//! [`super::ClusterRegistry`] (same in every lane: the lane maps its own ids
//! to them); a name past the slots is counted as `other` here and by name
//! in the lane's tallies.

use crate::classify::{Backends, ClusterId, Page, ReviewsVersion};
use crate::outcome::Kind;

/// Cluster names that get their own slot and column: room for the
/// `[clusters]` table's 32 and the simulator's two, and at least 14 more
/// that SLOs or pages name.
pub const NAMED_CLUSTERS: usize = 48;
/// Slot of pages whose cluster has no slot (beyond the named slots).
pub const OTHER_CLUSTER: usize = NAMED_CLUSTERS;
/// Slot of pages that named no cluster and matched no pod pattern.
pub const UNKNOWN_CLUSTER: usize = NAMED_CLUSTERS + 1;
const CLUSTER_SLOTS: usize = NAMED_CLUSTERS + 2;
/// [`PageCounts::first_ms`] of a cluster that served no page in the second.
pub const NO_PAGE: u16 = u16::MAX;

/// Version slots: unknown, v1, v2, v3.
pub const VERSION_NAMES: [&str; 4] = ["unknown", "v1", "v2", "v3"];
/// Backends a degraded page can show as unavailable, with their column names.
pub const DEGRADED: [(Backends, &str); 3] = [
    (Backends::DETAILS, "details"),
    (Backends::REVIEWS, "reviews"),
    (Backends::RATINGS, "ratings"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageCounts {
    /// Productpages (ok or degraded) by reviews version.
    pub versions: [u64; 4],
    /// Successful responses by reviews version (what SLOs check).
    pub ok_versions: [u64; 4],
    /// Productpages by cluster slot.
    pub clusters: [u64; CLUSTER_SLOTS],
    pub ok_clusters: [u64; CLUSTER_SLOTS],
    /// By cluster slot: the first millisecond of the second (by intended
    /// send time) that holds a productpage from it, [`NO_PAGE`] when none.
    /// Merged by min, so it is exact across lanes: when failover began, to
    /// the request.
    pub first_ms: [u16; CLUSTER_SLOTS],
    /// Degraded pages showing each backend of [`DEGRADED`] as unavailable.
    pub degraded: [u64; 3],
}

impl Default for PageCounts {
    fn default() -> Self {
        PageCounts {
            versions: [0; 4],
            ok_versions: [0; 4],
            clusters: [0; CLUSTER_SLOTS],
            ok_clusters: [0; CLUSTER_SLOTS],
            first_ms: [NO_PAGE; CLUSTER_SLOTS],
            degraded: [0; 3],
        }
    }
}

pub fn version_slot(v: ReviewsVersion) -> usize {
    match v {
        ReviewsVersion::Unknown => 0,
        ReviewsVersion::V1 => 1,
        ReviewsVersion::V2 => 2,
        ReviewsVersion::V3 => 3,
    }
}

/// The slot of a cluster id the lane already turned into a registry slot
/// (or [`ClusterId::OTHER`]).
pub fn cluster_slot(c: ClusterId) -> usize {
    match c.index() {
        Some(i) if i < NAMED_CLUSTERS => i,
        Some(_) => OTHER_CLUSTER,
        None if c == ClusterId::OTHER => OTHER_CLUSTER,
        None => UNKNOWN_CLUSTER,
    }
}

impl PageCounts {
    /// `ms`: the millisecond of the second the request was intended in.
    pub fn record(&mut self, kind: Kind, page: &Page, ms: u32) {
        if !matches!(kind, Kind::Ok | Kind::Degraded) {
            return;
        }
        let (v, c) = (version_slot(page.version), cluster_slot(page.cluster));
        self.versions[v] += 1;
        self.clusters[c] += 1;
        self.first_ms[c] = self.first_ms[c].min(ms.min(999) as u16);
        if kind.is_success() {
            self.ok_versions[v] += 1;
            self.ok_clusters[c] += 1;
        }
        for (i, (backend, _)) in DEGRADED.iter().enumerate() {
            if page.degraded.contains(*backend) {
                self.degraded[i] += 1;
            }
        }
    }

    pub fn merge(&mut self, other: &PageCounts) {
        fn add<const N: usize>(a: &mut [u64; N], b: &[u64; N]) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        add(&mut self.versions, &other.versions);
        add(&mut self.ok_versions, &other.ok_versions);
        add(&mut self.clusters, &other.clusters);
        add(&mut self.ok_clusters, &other.ok_clusters);
        add(&mut self.degraded, &other.degraded);
        for (a, b) in self.first_ms.iter_mut().zip(other.first_ms) {
            *a = (*a).min(b);
        }
    }

    /// [`Self::first_ms`] of a slot; `None` when it served no page.
    pub fn first_page_ms(&self, slot: usize) -> Option<u32> {
        let ms = self.first_ms[slot];
        (ms != NO_PAGE).then_some(u32::from(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pages_by_version_cluster_and_backend() {
        let mut c = PageCounts::default();
        let v2_primary = Page {
            version: ReviewsVersion::V2,
            cluster: ClusterId(0),
            ..Page::default()
        };
        c.record(Kind::Ok, &v2_primary, 700);
        let mut ratings_down = Page {
            version: ReviewsVersion::V3,
            cluster: ClusterId(1),
            ..Page::default()
        };
        ratings_down.degraded.insert(Backends::RATINGS);
        c.record(Kind::Degraded, &ratings_down, 300);
        c.record(
            Kind::Ok,
            &Page {
                cluster: ClusterId::OTHER,
                ..Page::default()
            },
            5,
        );
        c.record(Kind::Http5xx, &v2_primary, 1); // not a productpage: not counted
        assert_eq!(c.versions, [1, 0, 1, 1]);
        assert_eq!(c.ok_versions, [1, 0, 1, 0]);
        assert_eq!(
            (c.clusters[0], c.clusters[1], c.clusters[OTHER_CLUSTER]),
            (1, 1, 1)
        );
        assert_eq!(c.ok_clusters[1], 0);
        assert_eq!(c.degraded, [0, 0, 1]);
        assert_eq!(c.first_page_ms(0), Some(700));
        assert_eq!(c.first_page_ms(1), Some(300));
        assert_eq!(c.first_page_ms(OTHER_CLUSTER), Some(5));
        assert_eq!(c.first_page_ms(2), None);
        let mut d = PageCounts::default();
        d.merge(&c);
        let mut e = PageCounts::default();
        e.record(Kind::Ok, &v2_primary, 40);
        e.record(Kind::Ok, &v2_primary, 20);
        d.merge(&e);
        assert_eq!(d.first_page_ms(0), Some(20), "the earlier lane's page");
        assert_eq!(d.first_page_ms(1), Some(300));
        d.merge(&c);
        assert_eq!(d.versions, [2, 0, 4, 2]);
        assert_eq!(cluster_slot(ClusterId::UNKNOWN), UNKNOWN_CLUSTER);
        assert_eq!(cluster_slot(ClusterId(NAMED_CLUSTERS as u8)), OTHER_CLUSTER);
    }
}
