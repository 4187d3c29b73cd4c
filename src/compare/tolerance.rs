//! How much worse a figure may get before it is a regression: a relative
//! tolerance with an absolute floor for RTO and p99 ([`Gate`]), points of
//! availability with a floor of failed requests ([`AvailabilityGate`]).
//!
//! The floors are what keep a CI gate from flaking: a 3 ms p99 that becomes
//! 4 ms is +33 % yet nothing a user notices, and one failed request in a few
//! thousand moves a short run's availability by more than any sensible
//! points tolerance (Locust #560: a workflow failed on 1 gateway 504 in
//! 3,822 requests). A figure regresses only when it is worse by more than
//! the tolerance *and* by more than the floor.

use std::time::Duration;

/// The defaults, chosen for a shared CI runner; README.md ("Comparing
/// runs") says why each.
pub const RTO_TOLERANCE_PCT: f64 = 10.0;
pub const RTO_FLOOR: Duration = Duration::from_secs(1);
pub const P99_TOLERANCE_PCT: f64 = 25.0;
pub const P99_FLOOR: Duration = Duration::from_millis(5);
pub const AVAILABILITY_TOLERANCE_PP: f64 = 0.5;
pub const FAILED_FLOOR: u64 = 10;

/// A "higher is worse" figure (an RTO, a p99): regressed when it exceeds
/// the reference by more than `relative_pct` of it and by more than `floor`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gate {
    pub relative_pct: f64,
    /// In the figure's unit (ms for both RTO and p99).
    pub floor: f64,
}

impl Gate {
    /// The largest current value that is not a regression.
    pub fn limit(&self, reference: f64) -> f64 {
        reference + (reference.abs() * self.relative_pct / 100.0).max(self.floor)
    }

    pub fn regressed(&self, reference: f64, current: f64) -> bool {
        // A small slack so that float noise at the edge is "within".
        current > self.limit(reference) + 1e-9
    }
}

/// Availability (percent, higher is better): regressed when it fell by more
/// than `points` and the current run failed more than `failed_floor`
/// requests more than the reference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AvailabilityGate {
    pub points: f64,
    pub failed_floor: u64,
}

impl AvailabilityGate {
    pub fn regressed(
        &self,
        reference_pct: f64,
        current_pct: f64,
        reference_failed: u64,
        current_failed: u64,
    ) -> bool {
        reference_pct - current_pct > self.points + 1e-9
            && current_failed.saturating_sub(reference_failed) > self.failed_floor
    }
}

/// Every gate of a comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    pub rto: Gate,
    pub p99: Gate,
    pub availability: AvailabilityGate,
}

impl Default for Tolerances {
    fn default() -> Tolerances {
        Tolerances {
            rto: Gate {
                relative_pct: RTO_TOLERANCE_PCT,
                floor: RTO_FLOOR.as_secs_f64() * 1000.0,
            },
            p99: Gate {
                relative_pct: P99_TOLERANCE_PCT,
                floor: P99_FLOOR.as_secs_f64() * 1000.0,
            },
            availability: AvailabilityGate {
                points: AVAILABILITY_TOLERANCE_PP,
                failed_floor: FAILED_FLOOR,
            },
        }
    }
}

/// `10%` or `10` → 10.0: a relative tolerance, ≥ 0.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!(
            "{text:?} is not a percentage ≥ 0 (expected e.g. \"10%\" or \"10\")"
        )),
    }
}

/// `0.5`, `0.5pp` → 0.5: percentage points, ≥ 0.
pub fn parse_points(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches("pp").trim();
    match number.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!(
            "{text:?} is not percentage points ≥ 0 (expected e.g. \"0.5\" or \"0.5pp\")"
        )),
    }
}

/// `1s`, `500ms`, `0s` → the duration.
pub fn parse_floor(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|_| format!("{text:?} is not a duration (expected e.g. \"1s\", \"5ms\", \"0s\")"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_regresses_only_past_both_the_tolerance_and_the_floor() {
        let rto = Tolerances::default().rto;
        // 10 % of 8 s is 0.8 s, under the 1 s floor: the floor rules.
        assert_eq!(rto.limit(8000.0), 9000.0);
        assert!(!rto.regressed(8000.0, 9000.0), "exactly at the limit");
        assert!(rto.regressed(8000.0, 9000.5));
        // 10 % of 30 s is 3 s, over the floor: the tolerance rules.
        assert!(!rto.regressed(30_000.0, 33_000.0));
        assert!(rto.regressed(30_000.0, 33_001.0));
        // From no outage (0 s), only the floor: a 1 s blip is not a regression.
        assert!(!rto.regressed(0.0, 1000.0));
        assert!(rto.regressed(0.0, 1001.0));
        // Better is never a regression.
        assert!(!rto.regressed(8000.0, 1.0));

        let p99 = Tolerances::default().p99;
        assert!(!p99.regressed(3.0, 8.0), "+167 % but only 5 ms: the floor");
        assert!(p99.regressed(3.0, 8.1));
        assert!(!p99.regressed(100.0, 125.0), "exactly +25 %");
        assert!(p99.regressed(100.0, 125.1));
    }

    #[test]
    fn availability_needs_both_the_points_and_the_failed_floor() {
        let gate = Tolerances::default().availability;
        // 1 failed request of 100 (-1 pp): over the points, under the floor.
        assert!(!gate.regressed(100.0, 99.0, 0, 1));
        // 11 more failed, -1 pp: a regression.
        assert!(gate.regressed(100.0, 99.0, 0, 11));
        // Exactly 10 more (the floor) is not; exactly 0.5 pp is not.
        assert!(!gate.regressed(100.0, 99.0, 0, 10));
        assert!(!gate.regressed(100.0, 99.5, 0, 500));
        assert!(gate.regressed(100.0, 99.49, 0, 500));
        // Fewer failures than the reference: never.
        assert!(!gate.regressed(99.0, 90.0, 500, 400));
    }

    #[test]
    fn flags_read_percentages_points_and_floors() {
        assert_eq!(parse_percent("10%"), Ok(10.0));
        assert_eq!(parse_percent("2.5"), Ok(2.5));
        assert!(parse_percent("-1%").is_err());
        assert!(parse_percent("ten").is_err());
        assert_eq!(parse_points("0.5pp"), Ok(0.5));
        assert_eq!(parse_points("1"), Ok(1.0));
        assert!(parse_points("NaN").is_err());
        assert_eq!(parse_floor("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_floor("5ms"), Ok(Duration::from_millis(5)));
        assert!(parse_floor("5").is_err());
    }
}
