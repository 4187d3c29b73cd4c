//! Failover evidence of one fault on one target: which cluster(s) served it
//! before the fault, when pages first came from elsewhere, the share of each
//! cluster during the fault window, and when the original cluster came
//! back. A pure function of the timeline's cluster columns
//! ([`ClusterSecond`]: `cluster_<name>` counts and `first_ms_cluster_<name>`
//! marks, by intended send time), T0, the seconds before T0 and the fault
//! window; read by the assessment, summary.json, the console and the report.
//!
//! # Definitions (the contract; README "How it measures")
//!
//! Pages are productpages (ok or degraded) that say which cluster served
//! them (`unknown` — no name, no `[clusters]` match — is never a cluster
//! here, but counts in the totals the shares are taken of).
//!
//! - **home** = every cluster that served at least [`HOME_MIN_PCT`] % of
//!   the target's pages in the whole seconds before T0's second, from the
//!   end of the previous fault's window (the run's start for the first
//!   fault). No page before T0 → no home, and nothing else is measured.
//! - **failover at** = the first page, by intended send time, at or after
//!   T0 from a cluster outside home, to the millisecond (the seconds'
//!   first-page marks merge exactly across lanes). In T0's own second a
//!   mark before T0 cannot say whether that cluster also answered after
//!   T0: when the cluster served nothing before T0's second it is taken as
//!   the fault's doing (sent just before T0, answered once the fault bit)
//!   and the failover is placed at T0; a cluster that already served a few
//!   pages before is looked for from the next second on. Searched up to
//!   the region's end, to the millisecond (the next fault's T0). **time to failover** = failover at − T0.
//! - **share during** = each cluster's pages over all pages of the target
//!   in the fault window's seconds.
//! - **failback at** = after failover, home is *gone* in a second in which
//!   no home cluster served a page (other clusters did, or nothing
//!   succeeded at all); failback is the first page from a home cluster in
//!   the first later second it served again (its first-page mark). None
//!   when home never went (the fault moved only part of the traffic) or
//!   did not come back within the region. **failback after** = failback at
//!   − T0.

pub use crate::results::outage::{ClusterShare, Failover};

/// A cluster serving at least this share of the pages before T0 is home.
pub const HOME_MIN_PCT: f64 = 1.0;
/// The timeline's column of pages that name no cluster.
const UNKNOWN: &str = "unknown";

/// One second of one target's pages, by cluster in the timeline's order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterSecond {
    pub second: u32,
    pub pages: Vec<u64>,
    /// Run-clock ms of each cluster's first page in this second.
    pub first_ms: Vec<Option<u64>>,
}

/// What the failover function needs to know about the fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultSeconds {
    pub t0_ms: u64,
    /// `[from, to)`: the region's seconds before T0's second.
    pub before: (u32, u32),
    /// `[from, to)`: the fault window's seconds.
    pub window: (u32, u32),
    /// Exclusive end of the fault's region, run-clock ms.
    pub region_end_ms: u64,
}

/// The failover evidence of one fault on one target; see the module doc.
pub fn failover(clusters: &[String], seconds: &[ClusterSecond], fault: FaultSeconds) -> Failover {
    let in_span = |(from, to): (u32, u32)| {
        seconds
            .iter()
            .filter(move |s| (from..to).contains(&s.second))
    };
    let totals = |span: (u32, u32)| -> Vec<u64> {
        let mut sums = vec![0; clusters.len()];
        for s in in_span(span) {
            for (sum, n) in sums.iter_mut().zip(&s.pages) {
                *sum += n;
            }
        }
        sums
    };
    let named = |i: &usize| clusters[*i] != UNKNOWN;

    let before = totals(fault.before);
    let pages_before: u64 = before.iter().sum();
    let home: Vec<usize> = (0..clusters.len())
        .filter(named)
        .filter(|&i| {
            before[i] > 0 && before[i] as f64 * 100.0 >= HOME_MIN_PCT * pages_before as f64
        })
        .collect();

    let during = totals(fault.window);
    let pages_during: u64 = during.iter().sum();
    let shares = (0..clusters.len())
        .filter(|&i| during[i] > 0)
        .map(|i| ClusterShare {
            cluster: clusters[i].clone(),
            pages: during[i],
            share_pct: 100.0 * during[i] as f64 / pages_during as f64,
        })
        .collect();

    let mut result = Failover {
        home: home.iter().map(|&i| clusters[i].clone()).collect(),
        pages_before,
        failover_to: None,
        failover_at_ms: None,
        time_to_failover_ms: None,
        window_from_second: fault.window.0,
        window_to_second: fault.window.1,
        pages_during,
        during: shares,
        failback_at_ms: None,
        failback_after_ms: None,
    };
    if home.is_empty() {
        return result;
    }

    let t0_second = (fault.t0_ms / 1000) as u32;
    let region_end_second = fault.region_end_ms.div_ceil(1000) as u32;
    let fault_seconds = || {
        seconds
            .iter()
            .filter(move |s| (t0_second..region_end_second).contains(&s.second))
    };
    let outside: Vec<usize> = (0..clusters.len())
        .filter(named)
        .filter(|i| !home.contains(i))
        .collect();
    let failover = fault_seconds().find_map(|s| {
        outside
            .iter()
            .filter_map(|&i| {
                let ms = s.first_ms.get(i).copied().flatten()?;
                // The region's last second may hold the next fault's T0:
                // a page from after it is that fault's doing.
                if ms >= fault.region_end_ms {
                    return None;
                }
                match ms >= fault.t0_ms {
                    true => Some((ms, i)),
                    false if before[i] == 0 => Some((fault.t0_ms, i)),
                    false => None,
                }
            })
            .min()
    });
    let Some((at_ms, to)) = failover else {
        return result;
    };
    result.failover_to = Some(clusters[to].clone());
    result.failover_at_ms = Some(at_ms);
    result.time_to_failover_ms = Some(at_ms - fault.t0_ms);

    let home_pages = |s: &ClusterSecond| {
        home.iter()
            .map(|&i| s.pages.get(i).copied().unwrap_or(0))
            .sum::<u64>()
    };
    let failover_second = (at_ms / 1000) as u32;
    let mut gone = false;
    for s in fault_seconds().filter(|s| s.second >= failover_second) {
        if home_pages(s) == 0 {
            gone = true;
        } else if gone {
            let back = home
                .iter()
                .filter_map(|&i| s.first_ms.get(i).copied().flatten())
                .min();
            // Older timelines have counts but no marks: the second's start.
            let back = back.unwrap_or(u64::from(s.second) * 1000);
            if back >= fault.region_end_ms {
                break;
            }
            result.failback_at_ms = Some(back);
            result.failback_after_ms = Some(back.saturating_sub(fault.t0_ms));
            break;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["primary", "secondary", "other", "unknown"]
            .map(String::from)
            .to_vec()
    }

    /// A second of `[primary, secondary, other, unknown]` pages with first
    /// pages at the given ms within the second.
    fn second(s: u32, pages: [u64; 4], first: [Option<u64>; 4]) -> ClusterSecond {
        ClusterSecond {
            second: s,
            pages: pages.to_vec(),
            first_ms: first
                .iter()
                .map(|m| m.map(|m| u64::from(s) * 1000 + m))
                .collect(),
        }
    }

    fn primary(s: u32, n: u64) -> ClusterSecond {
        second(s, [n, 0, 0, 0], [Some(0), None, None, None])
    }

    fn secondary(s: u32, n: u64) -> ClusterSecond {
        second(s, [0, n, 0, 0], [None, Some(0), None, None])
    }

    fn fault(t0_ms: u64, window: (u32, u32), end_ms: u64) -> FaultSeconds {
        FaultSeconds {
            t0_ms,
            before: (0, (t0_ms / 1000) as u32),
            window,
            region_end_ms: end_ms,
        }
    }

    #[test]
    fn cross_cluster_fails_over_within_the_second_and_fails_back_after_restore() {
        // 50/s; fault at 2.300 s, restore at 5.500 s.
        let seconds = vec![
            primary(0, 50),
            primary(1, 50),
            second(2, [15, 35, 0, 0], [Some(0), Some(320), None, None]),
            secondary(3, 50),
            secondary(4, 50),
            second(5, [25, 25, 0, 0], [Some(500), Some(0), None, None]),
            primary(6, 50),
        ];
        let f = failover(&names(), &seconds, fault(2_300, (2, 5), 7_000));
        assert_eq!(f.home, ["primary"]);
        assert_eq!(f.pages_before, 100);
        assert_eq!(f.failover_to.as_deref(), Some("secondary"));
        assert_eq!(f.failover_at_ms, Some(2_320));
        assert_eq!(f.time_to_failover_ms, Some(20));
        assert_eq!(f.pages_during, 150);
        assert_eq!(
            f.during,
            [
                ClusterShare {
                    cluster: "primary".into(),
                    pages: 15,
                    share_pct: 10.0
                },
                ClusterShare {
                    cluster: "secondary".into(),
                    pages: 135,
                    share_pct: 90.0
                },
            ]
        );
        assert_eq!(f.failback_at_ms, Some(5_500));
        assert_eq!(f.failback_after_ms, Some(3_200));
    }

    #[test]
    fn a_page_from_after_the_next_faults_t0_is_not_this_faults_failover() {
        // The region ends at 4.001 s (the next fault's T0); secondary's
        // first page at 4.010 s is in the region's last second but after it.
        let seconds = vec![
            primary(0, 50),
            primary(1, 50),
            primary(2, 50),
            primary(3, 50),
            second(4, [40, 10, 0, 0], [Some(0), Some(10), None, None]),
        ];
        let f = failover(&names(), &seconds, fault(1_000, (1, 4), 4_001));
        assert_eq!(f.home, ["primary"]);
        assert_eq!(f.failover_to, None);
        assert_eq!(f.failover_at_ms, None);
        // Before the region's end it still is.
        let f = failover(&names(), &seconds, fault(1_000, (1, 4), 4_011));
        assert_eq!(f.failover_at_ms, Some(4_010));
    }

    #[test]
    fn home_is_every_cluster_with_one_percent_before_t0() {
        // 98 % primary, exactly 1 % secondary, 0.5 % other (not home).
        let seconds = vec![
            second(0, [980, 10, 5, 5], [Some(0), Some(3), Some(7), Some(1)]),
            second(1, [0, 0, 40, 0], [None, None, Some(600), None]),
        ];
        let f = failover(&names(), &seconds, fault(1_500, (1, 2), 2_000));
        assert_eq!(f.home, ["primary", "secondary"]);
        assert_eq!(f.pages_before, 1000);
        // `other` served before (not enough for home): its mark counts
        // from T0's second only when at or after T0.
        assert_eq!(f.failover_to.as_deref(), Some("other"));
        assert_eq!(f.failover_at_ms, Some(1_600));
    }

    #[test]
    fn a_page_before_t0_in_t0s_second_from_a_new_cluster_places_failover_at_t0() {
        let seconds = vec![
            primary(0, 50),
            second(1, [10, 40, 0, 0], [Some(0), Some(195), None, None]),
        ];
        let f = failover(&names(), &seconds, fault(1_200, (1, 2), 2_000));
        assert_eq!(f.failover_at_ms, Some(1_200));
        assert_eq!(f.time_to_failover_ms, Some(0));
    }

    #[test]
    fn a_cluster_that_served_before_is_looked_for_from_the_next_second() {
        // Secondary served 1 of 300 before: not home, but its mark in T0's
        // second (before T0) may be such a stray page.
        let seconds = vec![
            second(0, [299, 1, 0, 0], [Some(0), Some(500), None, None]),
            second(1, [30, 10, 0, 0], [Some(0), Some(100), None, None]),
            second(2, [0, 40, 0, 0], [None, Some(4), None, None]),
        ];
        let f = failover(&names(), &seconds, fault(1_200, (1, 3), 3_000));
        assert_eq!(f.home, ["primary"]);
        assert_eq!(f.failover_at_ms, Some(2_004));
        assert_eq!(f.failback_at_ms, None, "home never came back");
    }

    #[test]
    fn nothing_after_failover_is_reported_without_a_home_or_a_new_cluster() {
        let none_before = vec![second(0, [0, 0, 0, 9], [None, None, None, Some(0)])];
        let f = failover(&names(), &none_before, fault(500, (0, 1), 1_000));
        assert!(f.home.is_empty());
        assert_eq!(f.failover_at_ms, None);
        assert_eq!(f.pages_during, 9);

        // Primary stays; failures only (no pages): no failover, no failback.
        let outage = vec![
            primary(0, 50),
            primary(1, 50),
            second(2, [0; 4], [None; 4]),
            primary(3, 50),
        ];
        let f = failover(&names(), &outage, fault(2_000, (2, 3), 4_000));
        assert_eq!(f.home, ["primary"]);
        assert_eq!(f.failover_at_ms, None);
        assert_eq!(f.failback_at_ms, None);
        assert!(f.during.is_empty());
    }

    #[test]
    fn home_that_kept_serving_has_no_failback() {
        // Half the traffic moved, half stayed: failover, but home never went.
        let seconds = vec![
            primary(0, 50),
            second(1, [25, 25, 0, 0], [Some(0), Some(10), None, None]),
            second(2, [25, 25, 0, 0], [Some(0), Some(0), None, None]),
        ];
        let f = failover(&names(), &seconds, fault(1_000, (1, 3), 3_000));
        assert_eq!(f.failover_at_ms, Some(1_010));
        assert_eq!(f.failback_at_ms, None);
        // Home gone in an empty second (nothing succeeded), back after it.
        let seconds = vec![
            primary(0, 50),
            second(1, [10, 5, 0, 0], [Some(0), Some(900), None, None]),
            second(2, [0; 4], [None; 4]),
            second(3, [3, 0, 0, 0], [Some(700), None, None, None]),
        ];
        let f = failover(&names(), &seconds, fault(1_000, (1, 3), 4_000));
        assert_eq!(f.failover_at_ms, Some(1_900));
        assert_eq!(f.failback_at_ms, Some(3_700));
        assert_eq!(f.failback_after_ms, Some(2_700));
    }
}
