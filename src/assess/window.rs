//! The *fault window* of one fault: the whole seconds of the run clock in
//! which the fault was doing its harm, the same for every target, so each
//! target's figures can be read over it (did the control target hold while
//! the faulted one was down?). A pure function of the faulted scope's
//! outage ([`super::rto`]), the fault's [`super::rto::Region`] and when its
//! restore finished ([`crate::results::faults::FaultRecord::restore_done_ms`]).
//!
//! # Definition
//!
//! - The **faulted scope** is the target the fault aims at (a hook fault's
//!   `target`, a simulator fault's target on that cluster), or `all` when it
//!   names none or a name no scope has ([`faulted_scope`]).
//! - The window runs from the second holding T0 (inclusive) to, exclusive:
//!   - the second holding the faulted scope's recovery, so the second in
//!     which it came back (partly healthy) is not counted as outage
//!     ([`WindowEnd::Recovered`]);
//!   - when it did not recover: the end of the fault's region, rounded up
//!     to a whole second ([`WindowEnd::NotRecovered`]);
//!   - when it had no outage: the second holding the restore's *end*
//!     ([`WindowEnd::Restored`]), or, without a restore, the region's end
//!     ([`WindowEnd::RegionEnd`]).
//! - It never ends before T0's second: it is empty when the end falls in
//!   T0's second (a recovery within the second the fault began).

use std::ops::Range;

use super::rto::{OutageReport, Recovery, SecondSample};
use crate::outcome::Kind;
pub use crate::results::outage::{ALL, FaultWindow, WindowEnd, WindowFigures};

impl FaultWindow {
    pub fn seconds(&self) -> Range<u32> {
        self.from_second..self.to_second
    }

    pub fn contains(&self, second: u32) -> bool {
        self.seconds().contains(&second)
    }

    pub fn is_empty(&self) -> bool {
        self.to_second <= self.from_second
    }

    /// The window of a fault whose faulted scope's outage is `report`;
    /// `None` when it has no T0 (no hook, no marker, no failure).
    pub fn of(
        report: &OutageReport,
        region_end_ms: u64,
        restore_done_ms: Option<u64>,
    ) -> Option<FaultWindow> {
        let t0_ms = report.t0_ms?;
        Some(fault_window(
            t0_ms,
            report.recovery,
            region_end_ms,
            restore_done_ms,
        ))
    }
}

/// The fault window; see the module doc. Times are run-clock milliseconds:
/// `t0_ms` the faulted scope's T0, `recovery` its outage's recovery,
/// `region_end_ms` the fault's region's (exclusive) end.
pub fn fault_window(
    t0_ms: u64,
    recovery: Recovery,
    region_end_ms: u64,
    restore_done_ms: Option<u64>,
) -> FaultWindow {
    let region_end = region_end_ms.div_ceil(1000);
    let (end_second, ends) = match (recovery, restore_done_ms) {
        (Recovery::Recovered { at_ms }, _) => (at_ms / 1000, WindowEnd::Recovered),
        (Recovery::NotRecovered { .. }, _) => (region_end, WindowEnd::NotRecovered),
        (Recovery::NoOutage, Some(done_ms)) => (done_ms / 1000, WindowEnd::Restored),
        (Recovery::NoOutage, None) => (region_end, WindowEnd::RegionEnd),
    };
    let second = |s: u64| u32::try_from(s).unwrap_or(u32::MAX);
    let from_second = second(t0_ms / 1000);
    FaultWindow {
        from_second,
        to_second: second(end_second).max(from_second),
        ends,
    }
}

impl WindowFigures {
    /// The counts of the `samples` (one scope's seconds) inside `window`;
    /// latency is left for the caller, who reads the histograms.
    pub fn over(samples: &[SecondSample], window: &FaultWindow) -> WindowFigures {
        let mut f = WindowFigures::default();
        let mut judged = 0;
        for s in samples.iter().filter(|s| window.contains(s.second)) {
            f.requests += s.sent;
            judged += s.judged();
            f.ok += s.ok;
            f.failed += s.failed();
            for kind in Kind::ALL.iter().filter(|k| k.is_failure()) {
                f.failed_by_kind[kind.index()] += s.by_kind[kind.index()];
            }
        }
        f.availability_pct = (judged > 0).then(|| 100.0 * f.ok as f64 / judged as f64);
        f
    }

    /// Failure kinds that occurred, e.g. `refused 640, timeout 2`.
    pub fn failures(&self) -> Vec<(&'static str, u64)> {
        Kind::ALL
            .iter()
            .filter(|k| k.is_failure() && self.failed_by_kind[k.index()] > 0)
            .map(|k| (k.name(), self.failed_by_kind[k.index()]))
            .collect()
    }
}

/// The scope a fault is aimed at: `target` when it names one of `scopes`,
/// else [`ALL`].
pub fn faulted_scope<'a>(target: Option<&'a str>, scopes: &[&str]) -> &'a str {
    match target {
        Some(t) if scopes.contains(&t) => t,
        _ => ALL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECOVERED_18_012: Recovery = Recovery::Recovered { at_ms: 18_012 };
    const NOT_RECOVERED: Recovery = Recovery::NotRecovered {
        lower_bound_ms: 20_000,
    };

    /// name, T0 ms, recovery, region end ms, restore done ms, expected.
    type Case = (&'static str, u64, Recovery, u64, Option<u64>, FaultWindow);

    fn window(from_second: u32, to_second: u32, ends: WindowEnd) -> FaultWindow {
        FaultWindow {
            from_second,
            to_second,
            ends,
        }
    }

    #[test]
    fn fault_window_table() {
        use WindowEnd::*;
        #[rustfmt::skip]
        let cases: &[Case] = &[
            // The demo: down at 10.0 s, back at 18.012 s: second 18 is out.
            ("recovered", 10_000, RECOVERED_18_012, 30_000, Some(18_004), window(10, 18, Recovered)),
            ("T0 mid-second", 10_450, RECOVERED_18_012, 30_000, None, window(10, 18, Recovered)),
            ("recovered on a second's edge", 10_000, Recovery::Recovered { at_ms: 18_000 }, 30_000, None, window(10, 18, Recovered)),
            ("recovered in T0's second", 10_100, Recovery::Recovered { at_ms: 10_900 }, 30_000, None, window(10, 10, Recovered)),
            // The restore does not matter once the scope had an outage.
            ("recovered after a late restore", 10_000, RECOVERED_18_012, 60_000, Some(49_512), window(10, 18, Recovered)),
            ("not recovered", 10_000, NOT_RECOVERED, 30_000, Some(18_004), window(10, 30, NotRecovered)),
            ("not recovered, region ends mid-second", 10_000, NOT_RECOVERED, 25_001, None, window(10, 26, NotRecovered)),
            ("no outage, restored", 10_000, Recovery::NoOutage, 30_000, Some(18_004), window(10, 18, Restored)),
            ("no outage, restore ran until 49.5 s", 10_000, Recovery::NoOutage, 60_000, Some(49_512), window(10, 49, Restored)),
            ("no outage, restore done in T0's second", 10_000, Recovery::NoOutage, 30_000, Some(10_700), window(10, 10, Restored)),
            ("no outage, no restore", 10_000, Recovery::NoOutage, 30_000, None, window(10, 30, RegionEnd)),
            ("no outage, no restore, ragged end", 10_000, Recovery::NoOutage, 29_999, None, window(10, 30, RegionEnd)),
            ("region ends in T0's second", 10_200, NOT_RECOVERED, 10_200, None, window(10, 11, NotRecovered)),
        ];
        for (name, t0, recovery, region_end, restore_done, expected) in cases {
            assert_eq!(
                fault_window(*t0, *recovery, *region_end, *restore_done),
                *expected,
                "{name}"
            );
        }
    }

    #[test]
    fn window_seconds_are_half_open() {
        let w = window(10, 18, WindowEnd::Recovered);
        assert!(!w.contains(9));
        assert!(w.contains(10));
        assert!(w.contains(17));
        assert!(!w.contains(18));
        assert!(!w.is_empty());
        assert!(window(10, 10, WindowEnd::Recovered).is_empty());
        assert_eq!(w.seconds().count(), 8);
    }

    #[test]
    fn window_of_a_report_needs_its_t0() {
        use crate::assess::rto::{Region, T0Source, analyse};
        use crate::scenario::RecoveryRule;
        let rule = RecoveryRule {
            window: 5,
            threshold_pct: 99.0,
        };
        let region = |t0_ms| Region {
            start_ms: 0,
            t0_ms,
            source: T0Source::Hook,
            end_ms: 30_000,
        };
        let none = analyse(&[], &region(None), &rule);
        assert_eq!(FaultWindow::of(&none, 30_000, Some(18_004)), None);
        let hooked = analyse(&[], &region(Some(10_000)), &rule);
        assert_eq!(
            FaultWindow::of(&hooked, 30_000, Some(18_004)),
            Some(window(10, 18, WindowEnd::Restored))
        );
    }

    fn second(second: u32, ok: u64, refused: u64) -> SecondSample {
        let mut by_kind = [0; Kind::COUNT];
        by_kind[Kind::Ok.index()] = ok;
        by_kind[Kind::Refused.index()] = refused;
        SecondSample {
            second,
            sent: ok + refused,
            ok,
            by_kind,
            ..SecondSample::default()
        }
    }

    #[test]
    fn figures_count_only_the_window_seconds() {
        // Down in seconds 3..8, back (partly) in second 8, which is out.
        let samples: Vec<SecondSample> = (0..12)
            .map(|s| match s {
                3..=7 => second(s, 0, 50),
                8 => second(s, 30, 20),
                _ => second(s, 50, 0),
            })
            .collect();
        let w = window(3, 8, WindowEnd::Recovered);
        let f = WindowFigures::over(&samples, &w);
        assert_eq!((f.requests, f.ok, f.failed), (250, 0, 250));
        assert_eq!(f.availability_pct, Some(0.0));
        assert_eq!(f.failures(), vec![("refused", 250)]);
        assert_eq!(f.latency_ms, None);
        let control = WindowFigures::over(&samples[..3], &w);
        assert_eq!(control.requests, 0);
        assert_eq!(control.availability_pct, None);
        let healthy = WindowFigures::over(&samples[8..], &window(9, 12, WindowEnd::Restored));
        assert_eq!((healthy.requests, healthy.ok), (150, 150));
        assert_eq!(healthy.availability_pct, Some(100.0));
        assert!(healthy.failures().is_empty());
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["failed_by_kind"]["refused"], 250);
        assert_eq!(json["failed_by_kind"]["timeout"], 0);
        assert!(json["failed_by_kind"].get("ok").is_none());
    }

    #[test]
    fn faulted_scope_is_a_known_target_or_all() {
        let scopes = ["primary", "secondary", ALL];
        assert_eq!(faulted_scope(Some("primary"), &scopes), "primary");
        assert_eq!(faulted_scope(Some("tertiary"), &scopes), ALL);
        assert_eq!(faulted_scope(None, &scopes), ALL);
    }

    #[test]
    fn window_serializes_with_its_reason_and_reads_back() {
        let w = window(10, 18, WindowEnd::NotRecovered);
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(
            json,
            r#"{"from_second":10,"to_second":18,"ends":"not_recovered"}"#
        );
        assert_eq!(serde_json::from_str::<FaultWindow>(&json).unwrap(), w);
    }
}
