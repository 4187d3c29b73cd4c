//! The measured RTO of one fault on one target (or on `all`): a pure
//! function of the per-second timeline ([`SecondSample`], the same columns as
//! `timeline.csv`), the fault's region of the run clock ([`Region`]) and the
//! scenario's `[recovery]` rule ([`RecoveryRule`]). Fed by `record` (one
//! sample per second, see [`SecondSample::from_stats`]) and by the fault
//! records of [`crate::results::faults`] (T0); read by the SLO verdict and `report`.
//!
//! # Definitions (the contract; DESIGN.md "Measurement definitions")
//!
//! All times are milliseconds on the run clock. A sample's counts are per
//! whole second (by intended send time); its `*_ms` marks place successes
//! and failures within the second to the millisecond.
//!
//! - **availability(second)** = `ok / sent · 100`.
//! - A **failing second** has `sent > 0` and availability `<` the threshold.
//!   A **good second** has `sent > 0` and availability `≥` the threshold
//!   (compared as `ok · 100 < threshold · sent` with 1e-9 points of slack
//!   for f64 rounding, so 999 of 1000 with a 99.9 % threshold is good). An **empty second** (`sent = 0`) is
//!   neither: it is not an outage, but it is no evidence of health either, so
//!   it *breaks* a good window (the count of consecutive good seconds starts
//!   over after it). A gap in the samples' `second` numbers counts as empty.
//! - **T0** = `region.t0_ms` when given (the fault hook's start or a manual
//!   marker), else the first failed request (`first_failure_ms`) in the
//!   region. No T0 at all (no hook, no failure) → [`Recovery::NoOutage`].
//! - The **fault's seconds** are those of the region from the second holding
//!   T0 on; only they can fail or recover this fault.
//! - **recovered at**: the first window of `rule.window` consecutive good
//!   seconds that comes after at least one failing second of this fault.
//!   The *last failing second* is the failing second immediately before that
//!   window (empty seconds in between are skipped). Recovery is placed to the
//!   request, at the **completion** of the earliest success sent after the
//!   last failure: the minimum of that second's
//!   `first_success_after_last_failure_done_ms` and the `first_success_done_ms`
//!   of every second of the window. Completion, not send:
//!   a request sent into a blackhole up to one timeout before the path came
//!   back can still succeed (its SYN is retransmitted), and by send time
//!   would place the recovery before the service was back. A success cannot
//!   complete before the service answers again, so this is never early, and
//!   the first request sent after the restore bounds it late by one request
//!   interval plus its latency. Samples without completion columns (older
//!   `timeline.csv`) fall back to send time: that second's
//!   `first_success_after_last_failure_ms`, else the window's first second's
//!   `first_success_ms` (else, with inconsistent input, that second's start).
//! - No failing second from T0 on → [`Recovery::NoOutage`], RTO 0; failed
//!   requests are still counted (a few failures that never pull a second
//!   below the threshold are reported, not an outage).
//! - The region ends (next fault's T0, or the end of the run) before a full
//!   window → [`Recovery::NotRecovered`], with the lower bound
//!   `region.end_ms − T0`.
//! - **RTO** = `recovered at − T0`, saturating at 0. A hook's T0 may precede
//!   the first failure (a failover that took 3 s to bite): the RTO still
//!   counts from T0.
//! - **first failure** = the first failed request from T0's second on;
//!   **last failure** = the last failure of the last failing second before
//!   recovery (for `NoOutage`: the last failed request in the region).
//! - **Flapping**: failures after the recovery window are not part of this
//!   outage's RTO; they are counted in `failed_after_recovery` (and their
//!   failing seconds in `failing_seconds_after_recovery`) so a flap shows.
//!
//! The requests of the region are split in three [`Span`]s of whole seconds:
//! `before` (region start up to T0's second), `during` (every second that
//! overlaps the fault window `[T0, recovered at)`: the edge seconds are
//! counted whole, so every failure before recovery is in it) and `after` (the
//! rest of the region). Without T0, the whole region is `before`; with
//! `NoOutage`, `during` is empty and `after` starts at T0's second; with
//! `NotRecovered`, `during` runs to the region's end.
//!
//! Several faults in one run: one [`Region`] per fault ([`regions`] builds
//! them), and `analyse` once per fault per target.

use crate::outcome::Kind;
use crate::record::{GeneratorHealth, SecondStats};
pub use crate::results::outage::{OutageReport, Recovery, Span, T0Source};
use crate::scenario::RecoveryRule;

/// One second of one target (or `all`), as `timeline.csv` has it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecondSample {
    /// Second of the run clock (by intended send time).
    pub second: u32,
    pub sent: u64,
    /// Successes (`by_kind[Kind::Ok]` by the default definition).
    pub ok: u64,
    /// Outcomes by kind, indexed by [`Kind::index`].
    pub by_kind: [u64; Kind::COUNT],
    /// Run-clock ms of the first / last failure and first success in this
    /// second, to the millisecond (see `record::Marks`).
    pub first_failure_ms: Option<u64>,
    pub last_failure_ms: Option<u64>,
    pub first_success_ms: Option<u64>,
    /// The first success after this second's last failure (the first success
    /// when nothing failed).
    pub first_success_after_last_failure_ms: Option<u64>,
    /// Run-clock ms at which the earliest success sent in this second
    /// completed.
    pub first_success_done_ms: Option<u64>,
    /// Run-clock ms at which the earliest success sent after this second's
    /// last failure completed (any success when nothing failed).
    pub first_success_after_last_failure_done_ms: Option<u64>,
    /// What the generator managed in this second (not read by the RTO:
    /// [`super::generator`] decides whether the second can be judged).
    pub health: GeneratorHealth,
}

impl SecondSample {
    /// The sample of one recorded second.
    pub fn from_stats(second: u32, stats: &SecondStats) -> SecondSample {
        let base = u64::from(second) * 1000;
        let at = |ms: Option<u32>| ms.map(|ms| base + u64::from(ms));
        SecondSample {
            second,
            sent: stats.sent(),
            ok: stats.succeeded(),
            by_kind: stats.counts,
            first_failure_ms: at(stats.marks.first_failure()),
            last_failure_ms: at(stats.marks.last_failure()),
            first_success_ms: at(stats.marks.first_success()),
            first_success_after_last_failure_ms: at(stats.marks.first_success_after_last_failure()),
            first_success_done_ms: at(stats.marks.first_success_done()),
            first_success_after_last_failure_done_ms: at(stats
                .marks
                .first_success_done_after_last_failure()),
            health: stats.health(),
        }
    }

    /// Requests that judge the target ([`Kind::is_judged`]: `sent` less
    /// the abandoned ones), availability's denominator.
    pub fn judged(&self) -> u64 {
        let abandoned = Kind::ALL.iter().filter(|k| !k.is_judged());
        let abandoned: u64 = abandoned.map(|k| self.by_kind[k.index()]).sum();
        self.sent.saturating_sub(abandoned)
    }

    pub fn failed(&self) -> u64 {
        self.judged().saturating_sub(self.ok)
    }

    fn start_ms(&self) -> u64 {
        u64::from(self.second) * 1000
    }
}

/// Percentage points of slack in the threshold comparison, so that f64
/// rounding of e.g. `99.9 · 1000` cannot turn an exact 99.9 % second failing.
const PCT_SLACK: f64 = 1e-9;

/// What a second says about health; see the module doc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// `sent = 0`: no evidence either way.
    Empty,
    Failing,
    Good,
}

impl RecoveryRule {
    pub fn health(&self, s: &SecondSample) -> Health {
        let judged = s.judged();
        if judged == 0 {
            Health::Empty
        } else if (s.ok as f64) * 100.0 < (self.threshold_pct - PCT_SLACK) * judged as f64 {
            Health::Failing
        } else {
            Health::Good
        }
    }
}

/// The part of the run clock that belongs to one fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// Inclusive: 0 for the first fault, else the previous region's end.
    /// Seconds from here to T0 are `before`; a first-failure T0 is searched
    /// from here.
    pub start_ms: u64,
    /// Hook start or marker; `None` → T0 is the first failure in the region.
    pub t0_ms: Option<u64>,
    /// Meaningful with `t0_ms`; ignored (reported as `FirstFailure`) without.
    pub source: T0Source,
    /// Exclusive: the next fault's T0, or the run's end.
    pub end_ms: u64,
}

/// One region per fault, given in order of T0, covering `[0, run_end_ms)`:
/// each ends where the next fault's T0 is, the last at the run's end. A
/// fault whose T0 is unknown (its hook never ran) gets an empty region:
/// nothing was injected, so nothing is measured (and it does not cut the
/// previous fault's region). No faults → one region of the whole run whose
/// T0 is the first failure.
pub fn regions(faults: &[(Option<u64>, T0Source)], run_end_ms: u64) -> Vec<Region> {
    if faults.is_empty() {
        return vec![Region {
            start_ms: 0,
            t0_ms: None,
            source: T0Source::FirstFailure,
            end_ms: run_end_ms,
        }];
    }
    let mut start_ms = 0;
    let mut regions = Vec::with_capacity(faults.len());
    for (i, &(t0_ms, source)) in faults.iter().enumerate() {
        let end_ms = match t0_ms {
            None => start_ms,
            Some(_) => faults[i + 1..]
                .iter()
                .find_map(|&(t0, _)| t0)
                .unwrap_or(run_end_ms)
                .max(start_ms),
        };
        regions.push(Region {
            start_ms,
            t0_ms,
            source,
            end_ms,
        });
        start_ms = end_ms;
    }
    regions
}

/// Measures one fault's outage; see the module doc for the definitions.
pub fn analyse(samples: &[SecondSample], region: &Region, rule: &RecoveryRule) -> OutageReport {
    analyse_with_floor(samples, region, rule, None)
}

/// The outage of several targets together (the `all` scope), given each
/// target's own report of the same region. The combined marks alone would
/// place recovery at the first success after the last failure of *any*
/// target — a healthy target's answer, while the faulted one's held
/// requests were still in flight — so recovery is no earlier than the
/// latest recovery of a target, when that falls within the combined
/// recovery window (later than that, the combined availability was already
/// healthy for a whole window without it, and the combined rule stands).
pub fn analyse_combined(
    samples: &[SecondSample],
    region: &Region,
    rule: &RecoveryRule,
    targets: &[OutageReport],
) -> OutageReport {
    let floor = targets
        .iter()
        .filter_map(|t| match t.recovery {
            Recovery::Recovered { at_ms } => Some(at_ms),
            _ => None,
        })
        .max();
    analyse_with_floor(samples, region, rule, floor)
}

fn analyse_with_floor(
    samples: &[SecondSample],
    region: &Region,
    rule: &RecoveryRule,
    floor_ms: Option<u64>,
) -> OutageReport {
    let window = rule.window.max(1);
    // The region's seconds: those overlapping [start_ms, end_ms).
    let seconds: Vec<&SecondSample> = samples
        .iter()
        .filter(|s| s.start_ms() + 1000 > region.start_ms && s.start_ms() < region.end_ms)
        .collect();
    let bounds = Bounds {
        first: region.start_ms / 1000,
        end: region.end_ms.div_ceil(1000),
    };
    let t0 = match region.t0_ms {
        Some(t0) => Some((t0, region.source)),
        None => first_failure_in(&seconds, region).map(|first| (first, T0Source::FirstFailure)),
    };
    let Some((t0_ms, t0_source)) = t0 else {
        // No fault to measure: the whole region is "before".
        let split = split(&seconds, rule, bounds, bounds.end, bounds.end);
        return OutageReport {
            t0_ms: None,
            t0_source: None,
            first_failure_ms: None,
            last_failure_ms: None,
            recovery: Recovery::NoOutage,
            rto_ms: Some(0),
            failing_seconds: 0,
            failed: 0,
            failed_by_kind: [0; Kind::COUNT],
            failed_after_recovery: 0,
            failing_seconds_after_recovery: 0,
            before: split.before.span(),
            during: split.during.span(),
            after: split.after.span(),
        };
    };
    let t0_second = t0_ms / 1000;
    let fault: Vec<&SecondSample> = seconds
        .iter()
        .copied()
        .filter(|s| u64::from(s.second) >= t0_second)
        .collect();

    // The last failing second so far, and the good seconds in a row since.
    let mut last_failing: Option<&SecondSample> = None;
    let mut good_run = 0;
    let mut run_first: Option<&SecondSample> = None;
    let mut window_first: Option<&SecondSample> = None;
    let mut window_last: Option<&SecondSample> = None;
    let mut previous: Option<u32> = None;
    for &s in &fault {
        if previous.is_some_and(|p| s.second != p.wrapping_add(1)) {
            good_run = 0; // a missing second is no evidence of health
        }
        previous = Some(s.second);
        match rule.health(s) {
            Health::Failing => {
                last_failing = Some(s);
                good_run = 0;
            }
            Health::Empty => good_run = 0,
            Health::Good if last_failing.is_some() => {
                if good_run == 0 {
                    run_first = Some(s);
                }
                good_run += 1;
                if good_run == window {
                    window_first = run_first;
                    window_last = Some(s);
                    break;
                }
            }
            Health::Good => {} // before the fault bit: not a recovery
        }
    }
    let recovery = match (last_failing, window_first) {
        (None, _) => Recovery::NoOutage,
        (Some(last), Some(first_good)) => {
            let window_last = window_last.unwrap_or(first_good);
            let own = first_completed_success(&fault, last, first_good, window_last)
                .or(last.first_success_after_last_failure_ms)
                .or(first_good.first_success_ms)
                .unwrap_or(first_good.start_ms());
            let at_ms = match floor_ms {
                Some(floor) if floor > own && floor < window_last.start_ms() + 1000 => floor,
                _ => own,
            };
            Recovery::Recovered { at_ms }
        }
        (Some(_), None) => Recovery::NotRecovered {
            lower_bound_ms: region.end_ms.saturating_sub(t0_ms),
        },
    };

    // Whole seconds: before T0's second | overlapping [T0, recovered at) | rest.
    let (during_end, rto_ms) = match recovery {
        Recovery::NoOutage => (t0_second, Some(0)),
        Recovery::Recovered { at_ms } => (at_ms.div_ceil(1000), Some(at_ms.saturating_sub(t0_ms))),
        Recovery::NotRecovered { .. } => (bounds.end, None),
    };
    let split = split(&seconds, rule, bounds, t0_second, during_end);
    let first_failure_ms = fault.iter().find_map(|s| s.first_failure_ms);
    let (last_failure_ms, counted) = match recovery {
        Recovery::NoOutage => (
            fault.iter().rev().find_map(|s| s.last_failure_ms),
            &split.after,
        ),
        _ => (last_failing.and_then(|s| s.last_failure_ms), &split.during),
    };
    let mut failed_by_kind = counted.by_kind;
    for kind in Kind::ALL.iter().filter(|k| !k.is_failure()) {
        failed_by_kind[kind.index()] = 0;
    }
    let recovered = matches!(recovery, Recovery::Recovered { .. });
    OutageReport {
        t0_ms: Some(t0_ms),
        t0_source: Some(t0_source),
        first_failure_ms,
        last_failure_ms,
        recovery,
        rto_ms,
        failing_seconds: split.during.failing,
        failed: counted.failed,
        failed_by_kind,
        failed_after_recovery: if recovered { split.after.failed } else { 0 },
        failing_seconds_after_recovery: if recovered { split.after.failing } else { 0 },
        before: split.before.span(),
        during: split.during.span(),
        after: split.after.span(),
    }
}

/// When the earliest success sent after `last`'s last failure completed:
/// that second's own, or any success sent in the recovery window
/// `from..=until` (a held success of `last` may complete after a later
/// second's). Good seconds before the window are not recovery: an empty
/// second broke their run.
fn first_completed_success(
    fault: &[&SecondSample],
    last: &SecondSample,
    from: &SecondSample,
    until: &SecondSample,
) -> Option<u64> {
    let later = fault
        .iter()
        .filter(|s| s.second >= from.second && s.second <= until.second)
        .filter_map(|s| s.first_success_done_ms);
    last.first_success_after_last_failure_done_ms
        .into_iter()
        .chain(later)
        .min()
}

/// The first failed request in the region. A second that straddles the
/// region's start and failed on both sides of it is placed at the start:
/// its marks cannot tell when after the start its first failure was.
fn first_failure_in(seconds: &[&SecondSample], region: &Region) -> Option<u64> {
    seconds.iter().find_map(|s| {
        let first = s.first_failure_ms?;
        if first >= region.start_ms {
            Some(first).filter(|&t| t < region.end_ms)
        } else {
            s.last_failure_ms
                .filter(|&last| last >= region.start_ms)
                .map(|_| region.start_ms)
        }
    })
}

/// The region's whole seconds, `[first, end)`.
#[derive(Clone, Copy)]
struct Bounds {
    first: u64,
    end: u64,
}

struct Split {
    before: Tally,
    during: Tally,
    after: Tally,
}

/// Splits the region's seconds at `during_from` and `during_to` (clamped
/// into the region, in order).
fn split(
    seconds: &[&SecondSample],
    rule: &RecoveryRule,
    bounds: Bounds,
    during_from: u64,
    during_to: u64,
) -> Split {
    let clamp = |s: u64| s.clamp(bounds.first, bounds.end);
    let (a, b) = (clamp(during_from), clamp(during_to.max(during_from)));
    let mut split = Split {
        before: Tally::new(bounds.first, a),
        during: Tally::new(a, b),
        after: Tally::new(b, bounds.end),
    };
    for &s in seconds {
        let second = u64::from(s.second);
        let tally = if second < a {
            &mut split.before
        } else if second < b {
            &mut split.during
        } else {
            &mut split.after
        };
        tally.add(s, rule.health(s) == Health::Failing);
    }
    split
}

/// What a [`Span`] is summed from, plus what the report needs besides.
struct Tally {
    from: u64,
    to: u64,
    requests: u64,
    judged: u64,
    ok: u64,
    failed: u64,
    by_kind: [u64; Kind::COUNT],
    failing: u32,
}

impl Tally {
    fn new(from: u64, to: u64) -> Tally {
        Tally {
            from,
            to,
            requests: 0,
            judged: 0,
            ok: 0,
            failed: 0,
            by_kind: [0; Kind::COUNT],
            failing: 0,
        }
    }

    fn add(&mut self, s: &SecondSample, failing: bool) {
        self.failing += u32::from(failing);
        self.requests += s.sent;
        self.judged += s.judged();
        self.ok += s.ok;
        self.failed += s.failed();
        for (sum, n) in self.by_kind.iter_mut().zip(s.by_kind) {
            *sum += n;
        }
    }

    fn span(&self) -> Span {
        let second = |s: u64| u32::try_from(s).unwrap_or(u32::MAX);
        Span {
            from_second: second(self.from),
            to_second: second(self.to),
            requests: self.requests,
            ok: self.ok,
            failed: self.failed,
            availability_pct: (self.judged > 0)
                .then(|| 100.0 * self.ok as f64 / self.judged as f64),
        }
    }
}
