//! A target's load over the run clock ([`LoadProfile`]): flat, or the
//! linear ramps of `[[load.stage]]`, and the two questions the engine asks
//! of it. The open model asks when arrival slot `i` is intended: the exact
//! inverse of the cumulative planned count `N(t) = ∫ r`, which over a ramp
//! `r(t) = r0 + (r1 - r0)·t/D` is quadratic, so each piece has a closed
//! form. The closed model asks from when user `k` runs: while the planned
//! users `u(t) > k`, from the instant `u` first reaches `k` on a rise to the
//! one it falls to `k`.
//!
//! Both answers are O(log pieces) with no allocation (the pieces are shared
//! per target behind an [`Arc`]); a flat load keeps the one-division
//! `i / rate` of [`Schedule::slot_offset`](super::schedule::Schedule::slot_offset).

use std::sync::Arc;
use std::time::Duration;

use super::schedule::Schedule;
use crate::scenario::{LoadModel, LoadPlan, LoadStage};

/// Requests/s (open model) or users (closed model) per target, over the run
/// clock. Cheap to clone: the pieces are shared.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadProfile {
    /// The same load, > 0, from the start of traffic on (callers bound it
    /// by the end of traffic).
    Flat(f64),
    /// Linear pieces from the start of traffic, back to back, in order;
    /// nothing after the last one.
    Stages(Arc<[Piece]>),
}

/// One linear piece of a staged profile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Piece {
    start_ns: u64,
    duration_ns: u64,
    from: f64,
    to: f64,
    /// Open model: `N` at the piece's start (a whole number when it is one
    /// up to rounding, so a boundary slot lands exactly on the boundary).
    slots_before: f64,
    /// `N` over the piece: `(from + to) / 2 · D`.
    slots: f64,
}

/// `x` as the whole number it is within rounding of, else `x`.
fn snap(x: f64) -> f64 {
    let whole = x.round();
    if (x - whole).abs() <= 1e-9 * x.abs().max(1.0) {
        whole
    } else {
        x
    }
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl LoadProfile {
    /// The load of `plan` per target: its model's, flat, or its stages.
    pub fn of(plan: &LoadPlan) -> LoadProfile {
        if plan.stages.is_empty() {
            LoadProfile::Flat(match plan.model {
                LoadModel::Rate { per_target } => per_target.per_second(),
                LoadModel::Concurrency { users, .. } => f64::from(users.get()),
            })
        } else {
            LoadProfile::from_stages(&plan.stages)
        }
    }

    /// Each stage ramps from the previous one's target (the first from 0).
    pub fn from_stages(stages: &[LoadStage]) -> LoadProfile {
        let mut pieces = Vec::with_capacity(stages.len());
        let (mut start_ns, mut from, mut slots_before) = (0u64, 0.0, 0.0);
        for stage in stages {
            let duration_ns = ns(stage.duration);
            let slots = snap((from + stage.target) / 2.0 * stage.duration.as_secs_f64());
            pieces.push(Piece {
                start_ns,
                duration_ns,
                from,
                to: stage.target,
                slots_before,
                slots,
            });
            start_ns = start_ns.saturating_add(duration_ns);
            from = stage.target;
            slots_before = snap(slots_before + slots);
        }
        LoadProfile::Stages(pieces.into())
    }

    /// The highest load the profile reaches.
    pub fn peak(&self) -> f64 {
        match self {
            LoadProfile::Flat(load) => *load,
            LoadProfile::Stages(pieces) => pieces.iter().map(|p| p.to).fold(0.0, f64::max),
        }
    }

    /// Open model: intended offset of arrival slot `i` from the run start;
    /// [`Duration::MAX`] for a slot the profile never reaches. Never
    /// decreasing in `i`, across pieces too.
    pub fn slot_offset(&self, i: u64) -> Duration {
        let pieces = match self {
            LoadProfile::Flat(rate) => return Schedule::slot_offset(*rate, i),
            LoadProfile::Stages(pieces) => pieces,
        };
        let at = i as f64;
        // The last piece starting at or before slot i: pieces without slots
        // (a pause) share their successor's `slots_before` and are passed over.
        let found = pieces.partition_point(|p| p.slots_before <= at);
        let Some(p) = found.checked_sub(1).map(|j| &pieces[j]) else {
            return Duration::MAX;
        };
        let n = at - p.slots_before;
        if n >= p.slots {
            return Duration::MAX; // past the last piece
        }
        let into_s = if p.from == p.to {
            n / p.from
        } else {
            // N(τ) = from·τ + a·τ²/2 = n, solved in the form that loses no
            // digits when `from` is large and `a` small (or negative).
            let a = (p.to - p.from) / (p.duration_ns as f64 / 1e9);
            let root = (p.from * p.from + 2.0 * a * n).max(0.0).sqrt();
            let denominator = p.from + root;
            if denominator > 0.0 {
                2.0 * n / denominator
            } else {
                0.0
            }
        };
        let into_ns = if p.from == p.to {
            // Exactly `Schedule::slot_offset` for a whole `slots_before`.
            (n * 1e9 / p.from).round()
        } else {
            (into_s * 1e9).round()
        };
        let into_ns = (into_ns as u64).min(p.duration_ns);
        Duration::from_nanos(p.start_ns + into_ns)
    }

    /// Open model: slots intended before `end` (how many requests a target
    /// is asked for up to then): exactly the `i` with
    /// `slot_offset(i) < end`.
    pub fn slots_before(&self, end: Duration) -> u64 {
        let pieces = match self {
            LoadProfile::Flat(rate) => return Schedule::slots_before(*rate, end),
            LoadProfile::Stages(pieces) => pieces,
        };
        let end_ns = ns(end);
        let j = pieces.partition_point(|p| p.start_ns <= end_ns);
        let estimate = match j.checked_sub(1).map(|j| &pieces[j]) {
            None => 0.0,
            Some(p) => {
                let d = p.duration_ns as f64 / 1e9;
                let tau = ((end_ns - p.start_ns) as f64 / 1e9).min(d);
                let a = (p.to - p.from) / d;
                p.slots_before + (p.from * tau + a * tau * tau / 2.0).min(p.slots)
            }
        };
        // The estimate is within rounding of the count; the offsets decide.
        let mut n = estimate.max(0.0).ceil() as u64;
        while n > 0 && self.slot_offset(n - 1) >= end {
            n -= 1;
        }
        while self.slot_offset(n) < end {
            n += 1;
        }
        n
    }

    /// Closed model: the first instant at or after `at` (ns on the run
    /// clock) at which user `k` (0-based) is planned to run, `None` when
    /// never again. User `k` runs while the planned users exceed `k`: from
    /// the instant a rise reaches `k` until the instant a fall reaches it.
    /// Every boundary is a whole nanosecond computed once per piece and
    /// user, so the set of instants a user runs at is fixed and the answer
    /// never decreases as `at` grows.
    pub fn user_runs_from(&self, k: u32, at: u64) -> Option<u64> {
        let k = f64::from(k);
        let pieces = match self {
            LoadProfile::Flat(users) => return (k < *users).then_some(at),
            LoadProfile::Stages(pieces) => pieces,
        };
        let first = pieces
            .partition_point(|p| p.start_ns <= at)
            .saturating_sub(1);
        pieces[first..].iter().find_map(|p| {
            let (lo, hi) = p.user_runs(k)?;
            let from = lo.max(at);
            (from < hi).then_some(from)
        })
    }

    /// Closed model: users planned at some instant of `[from, to)` (ns):
    /// the `k` for which [`Self::user_runs_from`] is before `to`. They are
    /// always users `0..n`, so this is a binary search.
    pub fn users_planned(&self, from: u64, to: u64) -> u64 {
        if from >= to {
            return 0;
        }
        let runs = |k: u32| self.user_runs_from(k, from).is_some_and(|t| t < to);
        let (mut lo, mut hi) = (0u32, self.peak().ceil().min(f64::from(u32::MAX)) as u32);
        // Invariant: users below `lo` run; users at or above `hi` do not.
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if runs(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        u64::from(lo)
    }
}

impl Piece {
    fn end_ns(&self) -> u64 {
        self.start_ns.saturating_add(self.duration_ns)
    }

    /// The instants `[lo, hi)` of this piece at which user `k` runs.
    fn user_runs(&self, k: f64) -> Option<(u64, u64)> {
        let (start, end) = (self.start_ns, self.end_ns());
        // Where on the piece (in ns from its start) the load is `k`.
        let crossing = |share: f64| start + (share * self.duration_ns as f64).ceil() as u64;
        let (lo, hi) = if self.from == self.to {
            if self.from > k {
                (start, end)
            } else {
                return None;
            }
        } else if self.to > self.from {
            if k < self.from {
                (start, end)
            } else if k >= self.to {
                return None;
            } else {
                (crossing((k - self.from) / (self.to - self.from)), end)
            }
        } else if k < self.to {
            (start, end)
        } else if k >= self.from {
            return None;
        } else {
            (start, crossing((self.from - k) / (self.from - self.to)))
        };
        (lo < hi).then_some((lo, hi.min(end)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(list: &[(u64, f64)]) -> LoadProfile {
        let stages: Vec<LoadStage> = list
            .iter()
            .map(|&(ms, target)| LoadStage {
                duration: Duration::from_millis(ms),
                target,
            })
            .collect();
        LoadProfile::from_stages(&stages)
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_constant_stage_gives_exactly_the_flat_offsets() {
        // A first stage ramping 0 → 0 would never send; a constant stage
        // needs a whole number of slots before it: a 2 s ramp to 100 (100).
        let flat = LoadProfile::Flat(200.0);
        let held = stages(&[(2_000, 100.0), (10_000, 100.0)]);
        for i in 0..2_000 {
            assert_eq!(flat.slot_offset(i), Schedule::slot_offset(200.0, i));
        }
        for i in 0..1_000 {
            assert_eq!(
                held.slot_offset(100 + i),
                secs(2) + Schedule::slot_offset(100.0, i),
                "slot {}",
                100 + i
            );
        }
        assert_eq!(held.slot_offset(1_100), Duration::MAX);
        assert_eq!(held.slots_before(secs(12)), 1_100);
        assert_eq!(held.slots_before(secs(100)), 1_100);
    }

    #[test]
    fn a_ramp_inverts_its_quadratic_count_exactly() {
        // 0 → 200/s over 10 s: N(t) = 10 t², slot i at sqrt(i / 10) s.
        let ramp = stages(&[(10_000, 200.0)]);
        assert_eq!(ramp.slot_offset(0), Duration::ZERO);
        assert_eq!(ramp.slot_offset(10), secs(1));
        assert_eq!(ramp.slot_offset(40), secs(2));
        assert_eq!(ramp.slot_offset(999), Duration::from_nanos(9_994_998_749));
        assert_eq!(ramp.slot_offset(1_000), Duration::MAX);
        let per_second: Vec<u64> = (0..10)
            .map(|s| ramp.slots_before(secs(s + 1)) - ramp.slots_before(secs(s)))
            .collect();
        assert_eq!(per_second, (0..10).map(|s| 10 + 20 * s).collect::<Vec<_>>());
        assert_eq!(ramp.slots_before(secs(10)), 1_000);
    }

    #[test]
    fn offsets_never_decrease_across_stage_boundaries() {
        // Up, hold, down to 0, pause, up again, and a fractional count.
        let p = stages(&[
            (3_000, 7.0),
            (1_500, 7.0),
            (2_000, 0.0),
            (1_000, 0.0),
            (700, 33.3),
            (1_300, 5.0),
        ]);
        let mut last = Duration::ZERO;
        let mut i = 0;
        while p.slot_offset(i) != Duration::MAX {
            let at = p.slot_offset(i);
            assert!(at >= last, "slot {i} at {at:?} before {last:?}");
            last = at;
            i += 1;
        }
        // 10.5 + 10.5 + 7 + 0 + 11.655 + 24.895 = 64.55 → slots 0..=64.
        assert_eq!(i, 65);
        // No slot lands in the pause (6.5 s .. 7.5 s): the load is 0 there.
        assert_eq!(
            p.slots_before(secs(7)),
            p.slots_before(Duration::from_millis(7_500))
        );
        assert_eq!(p.slots_before(Duration::from_millis(6_500)), 28);
        // The last ramp-down slots come before 6.5 s, the next after 7.5 s.
        assert!(p.slot_offset(27) < Duration::from_millis(6_500));
        assert!(p.slot_offset(28) >= Duration::from_millis(7_500));
    }

    #[test]
    fn slots_before_counts_exactly_the_offsets_before_it() {
        let p = stages(&[(4_000, 250.0), (3_000, 10.0), (2_500, 0.0)]);
        let total = p.slots_before(Duration::MAX / 2);
        for ms in (0..10_000).step_by(37) {
            let end = Duration::from_millis(ms);
            let counted = (0..=total).filter(|&i| p.slot_offset(i) < end).count() as u64;
            assert_eq!(p.slots_before(end), counted, "{ms} ms");
        }
        // (0 + 250) / 2 · 4 + (250 + 10) / 2 · 3 + 10 / 2 · 2.5 = 500 + 390 + 12.5
        assert_eq!(total, 903);
    }

    #[test]
    fn a_zero_rate_stage_sends_nothing_and_ends_the_slots() {
        let p = stages(&[(1_000, 0.0), (1_000, 10.0), (1_000, 0.0), (5_000, 0.0)]);
        // 0 over the first second, then 5 + 5 slots, then none, and no hang.
        assert_eq!(p.slots_before(secs(1)), 0);
        assert_eq!(p.slot_offset(0), secs(1));
        assert_eq!(p.slots_before(secs(2)), 5);
        assert_eq!(p.slots_before(secs(3)), 10);
        assert_eq!(p.slots_before(secs(8)), 10);
        assert_eq!(p.slot_offset(10), Duration::MAX);
        assert_eq!(p.slot_offset(u64::MAX / 2), Duration::MAX);
    }

    #[test]
    fn users_run_while_the_plan_exceeds_them() {
        // 0 → 20 users over 4 s, 2 s at 20, 20 → 0 over 2 s.
        let p = stages(&[(4_000, 20.0), (2_000, 20.0), (2_000, 0.0)]);
        let s = |ms: u64| ms * 1_000_000;
        // User k starts when the rise reaches k: at k / 5 s.
        assert_eq!(p.user_runs_from(0, 0), Some(0));
        assert_eq!(p.user_runs_from(5, 0), Some(s(1_000)));
        assert_eq!(p.user_runs_from(19, 0), Some(s(3_800)));
        assert_eq!(p.user_runs_from(20, 0), None);
        // And stops when the fall reaches it: user 10 runs until 7 s.
        assert_eq!(p.user_runs_from(10, s(6_999)), Some(s(6_999)));
        assert_eq!(p.user_runs_from(10, s(7_000)), None);
        assert_eq!(p.user_runs_from(0, s(7_999)), Some(s(7_999)));
        assert_eq!(p.user_runs_from(0, s(8_000)), None);
        let planned: Vec<u64> = (0..8)
            .map(|second| p.users_planned(s(second * 1_000), s(second * 1_000 + 1_000)))
            .collect();
        assert_eq!(planned, [5, 10, 15, 20, 20, 20, 20, 10]);
        assert_eq!(LoadProfile::Flat(3.0).users_planned(0, s(1_000)), 3);
        assert_eq!(LoadProfile::Flat(3.0).user_runs_from(3, 0), None);
    }

    #[test]
    fn a_user_stopped_by_a_fall_runs_again_on_the_next_rise() {
        let p = stages(&[(1_000, 4.0), (1_000, 0.0), (1_000, 0.0), (1_000, 4.0)]);
        // User 2: rises at 0.5 s, falls at 1.5 s, rises again at 3.5 s.
        assert_eq!(p.user_runs_from(2, 0), Some(500_000_000));
        assert_eq!(p.user_runs_from(2, 1_600_000_000), Some(3_500_000_000));
        assert_eq!(p.users_planned(2_000_000_000, 3_000_000_000), 0);
        assert_eq!(p.user_runs_from(2, 4_000_000_000), None);
    }
}
