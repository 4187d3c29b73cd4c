//! The one recorder task's state: merges lane shards per (second, target),
//! releases each second to the writers exactly once, in order, as soon as
//! every lane has promised no more outcomes for it, and keeps run totals.

use std::collections::BTreeMap;
use std::io;

use crate::outcome::{Kind, TargetId};
use crate::record::SecondStats;

/// What a lane hands the recorder on each tick.
pub struct LaneReport {
    pub lane: usize,
    pub target: TargetId,
    /// Finished seconds of this lane (each second at most once per lane).
    pub seconds: Vec<(u32, SecondStats)>,
    /// The lane will report nothing for seconds before this one; `u32::MAX`
    /// once the lane has ended.
    pub complete_before: u32,
    /// With the lane's last report: its named tallies (measured phase).
    pub tallies: Option<LaneTallies>,
}

/// Counts by name that only the lane's classifier could name: reviews pods
/// and clusters that pages showed but the scenario did not configure.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LaneTallies {
    pub pods: Vec<(String, u64)>,
    /// Pods past the lane's table (1024 distinct names).
    pub pods_other: u64,
    pub other_clusters: Vec<(String, u64)>,
    /// A failover target's measured requests by the member that answered
    /// (`[answered, ok]`, by the member's place in `failover`); empty for a
    /// plain target.
    pub members: Vec<[u64; 2]>,
    /// Requests that ended as a redirect, by Location slot
    /// ([`super::LocationRegistry`]); empty when there was none.
    pub redirects: Vec<u64>,
    /// Requests answered after following at least one redirect.
    pub redirects_followed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Warmup,
    Measure,
}

impl Phase {
    pub const fn name(self) -> &'static str {
        match self {
            Phase::Warmup => "warmup",
            Phase::Measure => "measure",
        }
    }
}

/// One finished second, handed to the writers.
pub struct SecondRow<'a> {
    pub second: u32,
    pub phase: Phase,
    /// Indexed by target id.
    pub targets: &'a [SecondStats],
    pub all: &'a SecondStats,
}

/// Receives finished seconds in order (timeline.csv, latency.hlog, console).
pub trait RowSink {
    fn second(&mut self, row: &SecondRow<'_>) -> io::Result<()>;
}

/// Run totals, measured phase and warmup kept apart.
pub struct Totals {
    pub measured: Vec<SecondStats>,
    pub warmup: Vec<SecondStats>,
    /// Requests in flight when the run was interrupted: the `abandoned`
    /// outcomes of every second, warmup included (the sum of timeline.csv's
    /// `abandoned` column over the targets).
    pub abandoned: u64,
    /// Outcomes that arrived after their second was written (should be 0);
    /// they are in the totals but not in the timeline.
    pub after_row_written: u64,
    /// Seconds written to the timeline.
    pub seconds: u32,
    /// Per target: pods and unconfigured clusters by name, measured phase.
    pub pods: Vec<std::collections::BTreeMap<String, u64>>,
    pub pods_other: Vec<u64>,
    pub other_clusters: Vec<std::collections::BTreeMap<String, u64>>,
    /// Per target: a failover target's `[answered, ok]` by member.
    pub members: Vec<Vec<[u64; 2]>>,
    /// Per target: redirects that ended requests, by Location slot.
    pub redirects: Vec<Vec<u64>>,
    /// Per target: requests answered after following a redirect.
    pub redirects_followed: Vec<u64>,
}

pub struct Recorder {
    targets: usize,
    /// Per target, the open model's planned sends per second (`None`:
    /// closed model, which has no schedule).
    planned: Vec<Option<Vec<u64>>>,
    /// Per target, the closed model's planned users per second (`None`:
    /// open model).
    planned_users: Vec<Option<Vec<u64>>>,
    complete_before: Vec<u32>,
    pending: BTreeMap<u32, Vec<SecondStats>>,
    next_second: u32,
    warmup_seconds: u32,
    totals: Totals,
}

impl Recorder {
    /// `warmup_seconds`: seconds counted as warmup (the warmup rounded down,
    /// so a second that is partly measured counts as measured).
    pub fn new(targets: usize, lanes: usize, warmup_seconds: u32) -> Recorder {
        Recorder {
            targets,
            planned: vec![None; targets],
            planned_users: vec![None; targets],
            complete_before: vec![0; lanes],
            pending: BTreeMap::new(),
            next_second: 0,
            warmup_seconds,
            totals: Totals {
                measured: (0..targets).map(|_| SecondStats::new()).collect(),
                warmup: (0..targets).map(|_| SecondStats::new()).collect(),
                abandoned: 0,
                after_row_written: 0,
                seconds: 0,
                pods: vec![Default::default(); targets],
                pods_other: vec![0; targets],
                other_clusters: vec![Default::default(); targets],
                members: vec![Vec::new(); targets],
                redirects: vec![Vec::new(); targets],
                redirects_followed: vec![0; targets],
            },
        }
    }

    /// Per target, the sends the open model's schedule intended in each
    /// second (`None` for closed-model targets), so every second written
    /// carries what it was planned to have beside what was sent.
    pub fn with_planned(mut self, planned: Vec<Option<Vec<u64>>>) -> Recorder {
        debug_assert_eq!(planned.len(), self.targets);
        self.planned = planned;
        self
    }

    /// Per target, the users the closed model's profile plans in each
    /// second (`None` for open-model targets).
    pub fn with_planned_users(mut self, planned: Vec<Option<Vec<u64>>>) -> Recorder {
        debug_assert_eq!(planned.len(), self.targets);
        self.planned_users = planned;
        self
    }

    pub fn phase(&self, second: u32) -> Phase {
        if second < self.warmup_seconds {
            Phase::Warmup
        } else {
            Phase::Measure
        }
    }

    pub fn accept(&mut self, report: LaneReport, sink: &mut dyn RowSink) -> io::Result<()> {
        let target = usize::from(report.target);
        if let Some(t) = report.tallies {
            for (name, n) in t.pods {
                *self.totals.pods[target].entry(name).or_default() += n;
            }
            self.totals.pods_other[target] += t.pods_other;
            let members = &mut self.totals.members[target];
            if members.len() < t.members.len() {
                members.resize(t.members.len(), [0, 0]);
            }
            for (sum, lane) in members.iter_mut().zip(&t.members) {
                sum[0] += lane[0];
                sum[1] += lane[1];
            }
            let redirects = &mut self.totals.redirects[target];
            if redirects.len() < t.redirects.len() {
                redirects.resize(t.redirects.len(), 0);
            }
            for (sum, lane) in redirects.iter_mut().zip(&t.redirects) {
                *sum += lane;
            }
            self.totals.redirects_followed[target] += t.redirects_followed;
            for (name, n) in t.other_clusters {
                *self.totals.other_clusters[target].entry(name).or_default() += n;
            }
        }
        for (second, stats) in report.seconds {
            if second < self.next_second {
                self.totals.after_row_written += stats.sent();
                self.add_to_totals(second, target, &stats);
                continue;
            }
            let targets = self.targets;
            self.pending
                .entry(second)
                .or_insert_with(|| (0..targets).map(|_| SecondStats::new()).collect())[target]
                .merge(&stats);
        }
        let lane = &mut self.complete_before[report.lane];
        *lane = (*lane).max(report.complete_before);
        let ready = self
            .complete_before
            .iter()
            .copied()
            .min()
            .unwrap_or(u32::MAX);
        // Every lane has ended: the caller decides the last second (`finish`).
        if ready == u32::MAX {
            return Ok(());
        }
        self.emit_before(ready, sink)
    }

    /// Writes every second up to `end` (exclusive) and any later one that
    /// holds data, then returns the totals.
    pub fn finish(mut self, end: u32, sink: &mut dyn RowSink) -> io::Result<Totals> {
        let last_with_data = self.pending.keys().next_back().map_or(0, |s| s + 1);
        self.emit_before(end.max(last_with_data), sink)?;
        let totals = &mut self.totals;
        totals.abandoned = (totals.measured.iter().chain(&totals.warmup))
            .map(|s| s.count(Kind::Abandoned))
            .sum();
        Ok(self.totals)
    }

    fn emit_before(&mut self, end: u32, sink: &mut dyn RowSink) -> io::Result<()> {
        while self.next_second < end {
            let second = self.next_second;
            let mut targets = match self.pending.remove(&second) {
                Some(t) => t,
                None => (0..self.targets).map(|_| SecondStats::new()).collect(),
            };
            for (stats, planned) in targets.iter_mut().zip(&self.planned) {
                stats.planned = planned
                    .as_ref()
                    .map(|p| p.get(second as usize).copied().unwrap_or(0));
            }
            for (stats, planned) in targets.iter_mut().zip(&self.planned_users) {
                stats.planned_users = planned
                    .as_ref()
                    .map(|p| p.get(second as usize).copied().unwrap_or(0));
            }
            let mut all = SecondStats::new();
            for (target, stats) in targets.iter().enumerate() {
                all.merge(stats);
                self.add_to_totals(second, target, stats);
            }
            sink.second(&SecondRow {
                second,
                phase: self.phase(second),
                targets: &targets,
                all: &all,
            })?;
            self.next_second += 1;
            self.totals.seconds = self.next_second;
        }
        Ok(())
    }

    fn add_to_totals(&mut self, second: u32, target: usize, stats: &SecondStats) {
        match self.phase(second) {
            Phase::Warmup => self.totals.warmup[target].merge(stats),
            Phase::Measure => self.totals.measured[target].merge(stats),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Page;
    use crate::outcome::Outcome;

    #[derive(Default)]
    struct Rows(Vec<(u32, Phase, Vec<u64>, u64)>);
    impl RowSink for Rows {
        fn second(&mut self, row: &SecondRow<'_>) -> io::Result<()> {
            let sent = row.targets.iter().map(|t| t.sent()).collect();
            self.0.push((row.second, row.phase, sent, row.all.sent()));
            Ok(())
        }
    }

    fn stats(n: u64) -> SecondStats {
        let mut s = SecondStats::new();
        for _ in 0..n {
            s.record(&Outcome {
                target: 0,
                intended_us: 0,
                latency_us: 1000,
                service_us: 1000,
                send_lag_us: 0,
                kind: Kind::Ok,
                status: 200,
                page: Page::default(),
                address: crate::outcome::AddressId::NONE,
            });
        }
        s
    }

    fn report(
        lane: usize,
        target: TargetId,
        seconds: Vec<(u32, SecondStats)>,
        before: u32,
    ) -> LaneReport {
        LaneReport {
            lane,
            target,
            seconds,
            complete_before: before,
            tallies: None,
        }
    }

    #[test]
    fn waits_for_the_slowest_lane_then_writes_in_order() {
        let mut rec = Recorder::new(2, 3, 1);
        let mut rows = Rows::default();
        rec.accept(
            report(0, 0, vec![(0, stats(2)), (1, stats(3))], 2),
            &mut rows,
        )
        .unwrap();
        rec.accept(report(1, 0, vec![(0, stats(1))], 1), &mut rows)
            .unwrap();
        assert!(rows.0.is_empty(), "lane 2 has not reported");
        rec.accept(
            report(2, 1, vec![(0, stats(4)), (1, stats(5))], 2),
            &mut rows,
        )
        .unwrap();
        assert_eq!(rows.0, vec![(0, Phase::Warmup, vec![3, 4], 7)]);
        rec.accept(report(1, 0, vec![], u32::MAX), &mut rows)
            .unwrap();
        assert_eq!(rows.0.len(), 2);
        assert_eq!(rows.0[1], (1, Phase::Measure, vec![3, 5], 8));
        let totals = rec.finish(4, &mut rows).unwrap();
        assert_eq!(rows.0.len(), 4, "idle seconds up to the end are written");
        assert_eq!(rows.0[3], (3, Phase::Measure, vec![0, 0], 0));
        assert_eq!(totals.warmup[0].sent() + totals.warmup[1].sent(), 7);
        assert_eq!(totals.measured[0].sent(), 3);
        assert_eq!(totals.measured[1].sent(), 5);
        assert_eq!(totals.after_row_written, 0);
        assert_eq!(totals.seconds, 4);
    }

    fn abandoned(n: u64, intended_us: u64) -> SecondStats {
        let mut s = SecondStats::new();
        for _ in 0..n {
            s.record_abandoned(&Outcome {
                target: 0,
                intended_us,
                latency_us: 500_000,
                service_us: 500_000,
                send_lag_us: 0,
                kind: Kind::Abandoned,
                status: 0,
                page: Page::default(),
                address: crate::outcome::AddressId::NONE,
            });
        }
        s
    }

    /// An interrupt: lane 0 still has requests of second 1 in flight (its
    /// watermark holds second 1 open) while lane 1 has finished second 2.
    /// Second 0 is written before the stop; second 1 only with lane 0's last
    /// report, which carries its abandoned requests: each second written
    /// once, with everything sent in it.
    #[test]
    fn abandoned_at_the_interrupt_land_in_their_open_second() {
        let mut rec = Recorder::new(1, 2, 0);
        let mut rows = Rows::default();
        rec.accept(report(0, 0, vec![(0, stats(3))], 1), &mut rows)
            .unwrap();
        rec.accept(
            report(1, 0, vec![(0, stats(2)), (1, stats(4))], 2),
            &mut rows,
        )
        .unwrap();
        assert_eq!(rows.0, vec![(0, Phase::Measure, vec![5], 5)]);
        let mut second_1 = stats(1);
        second_1.merge(&abandoned(6, 1_400_000));
        rec.accept(
            report(
                0,
                0,
                vec![(1, second_1), (2, abandoned(2, 2_100_000))],
                u32::MAX,
            ),
            &mut rows,
        )
        .unwrap();
        rec.accept(report(1, 0, vec![], u32::MAX), &mut rows)
            .unwrap();
        let totals = rec.finish(3, &mut rows).unwrap();
        assert_eq!(
            rows.0,
            vec![
                (0, Phase::Measure, vec![5], 5),
                (1, Phase::Measure, vec![11], 11),
                (2, Phase::Measure, vec![2], 2),
            ]
        );
        assert_eq!(totals.abandoned, 8);
        assert_eq!(totals.after_row_written, 0);
        let t = &totals.measured[0];
        assert_eq!(
            (t.sent(), t.judged(), t.succeeded(), t.failed()),
            (18, 10, 10, 0)
        );
        assert_eq!(t.latency.len(), 10, "abandoned requests have no latency");
    }

    #[test]
    fn late_data_reaches_totals_and_is_counted() {
        let mut rec = Recorder::new(1, 1, 0);
        let mut rows = Rows::default();
        rec.accept(report(0, 0, vec![(0, stats(1))], 1), &mut rows)
            .unwrap();
        rec.accept(report(0, 0, vec![(0, stats(2))], 1), &mut rows)
            .unwrap();
        let totals = rec.finish(1, &mut rows).unwrap();
        assert_eq!(totals.measured[0].sent(), 3);
        assert_eq!(totals.after_row_written, 2);
    }
}
