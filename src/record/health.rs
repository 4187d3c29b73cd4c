//! Generator health: whether, in one second, the generator did what the
//! scenario asked of it. A drill's numbers are only as good as this: a
//! request the generator held back, sent late or could not make at all says
//! nothing about the target, so a second where that happened is
//! *generator-limited* and the verdict refuses to judge the fault it falls in
//! (`assess::dir`). The same function judges a second when it is written to
//! `timeline.csv` and when that file is read back.

use serde::{Deserialize, Serialize};

/// Late shares are taken of at least this many requests (see
/// [`GeneratorHealth::late_share_exceeds`]).
pub const MIN_SHARE_OF: u64 = 100;

/// One second's (or a run's) generator counts for one target or `all`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct GeneratorHealth {
    /// Open model: arrival slots intended in this second by the schedule;
    /// `None` for the closed model, which has no schedule.
    pub planned: Option<u64>,
    /// Requests actually sent (every one has an outcome).
    pub sent: u64,
    /// Sent ≥ [`super::LATE_SEND_US`] after their intended time.
    pub late: u64,
    /// Slots never sent: their deadline (the run's end, or one timeout after
    /// the intended time) passed before the generator could send them.
    pub not_sent: u64,
    /// Requests whose send waited because the in-flight cap (the open-files
    /// budget) was reached.
    pub cap_waits: u64,
    /// Requests that failed on this machine (`local_error`).
    pub local_errors: u64,
    /// The largest send lag, µs.
    pub max_send_lag_us: u64,
}

/// Why a second is generator-limited; empty when it is not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub late: bool,
    pub not_sent: bool,
    pub cap: bool,
    pub local_errors: bool,
}

impl Limits {
    pub fn any(self) -> bool {
        self.late || self.not_sent || self.cap || self.local_errors
    }

    /// `late sends, in-flight cap` — for a person, in a fixed order.
    pub fn describe(self) -> String {
        let mut parts = Vec::new();
        if self.late {
            parts.push("late sends");
        }
        if self.not_sent {
            parts.push("requests not sent");
        }
        if self.cap {
            parts.push("in-flight cap reached");
        }
        if self.local_errors {
            parts.push("local errors");
        }
        parts.join(", ")
    }
}

impl GeneratorHealth {
    /// What made this second generator-limited with at most `max_late_pct`
    /// percent of late sends allowed. Any request not sent, any wait on the
    /// in-flight cap and any local error limits a second: each is a request
    /// that did not go out as the scenario asked.
    pub fn limits(&self, max_late_pct: f64) -> Limits {
        Limits {
            late: self.late_share_exceeds(max_late_pct),
            not_sent: self.not_sent > 0,
            cap: self.cap_waits > 0,
            local_errors: self.local_errors > 0,
        }
    }

    /// More than `max_pct` percent of the sent requests were late. The share
    /// is taken of at least [`MIN_SHARE_OF`] requests: at 50/s one send
    /// delayed by a scheduler hiccup is already 2 % of its second, and a
    /// share that coarse says nothing about the generator keeping up.
    /// Compared in integers, so 1 late of 100 is exactly 1 % and not above it.
    pub fn late_share_exceeds(&self, max_pct: f64) -> bool {
        let of = self.sent.max(MIN_SHARE_OF);
        (self.late as f64) * 100.0 > max_pct * of as f64 + 1e-9
    }

    /// Late share in percent; `None` when nothing was sent.
    pub fn late_pct(&self) -> Option<f64> {
        (self.sent > 0).then(|| 100.0 * self.late as f64 / self.sent as f64)
    }

    pub fn merge(&mut self, other: &GeneratorHealth) {
        self.planned = match (self.planned, other.planned) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.sent += other.sent;
        self.late += other.late;
        self.not_sent += other.not_sent;
        self.cap_waits += other.cap_waits;
        self.local_errors += other.local_errors;
        self.max_send_lag_us = self.max_send_lag_us.max(other.max_send_lag_us);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(sent: u64, late: u64) -> GeneratorHealth {
        GeneratorHealth {
            sent,
            late,
            ..GeneratorHealth::default()
        }
    }

    #[test]
    fn late_share_is_compared_exactly() {
        assert!(!sent(100, 1).limits(1.0).any(), "1 % is not above 1 %");
        assert!(sent(100, 2).limits(1.0).late);
        assert!(sent(200, 3).limits(1.0).late);
        assert!(!sent(200, 2).limits(1.0).late);
        assert!(sent(16, 16).limits(1.0).late);
        assert!(!sent(0, 0).limits(1.0).any());
        assert!(sent(10, 1).limits(0.0).late);
        assert!(!sent(10, 10).limits(100.0).late);
    }

    #[test]
    fn a_single_late_send_at_a_low_rate_is_not_a_share() {
        // 1 of 50 is 2 % of the second, but a share of at least 100.
        assert!(!sent(50, 1).limits(1.0).late);
        assert!(sent(50, 2).limits(1.0).late);
        assert!(!sent(20, 1).limits(1.0).late);
    }

    #[test]
    fn any_unsent_held_or_local_request_limits_the_second() {
        let mut h = sent(200, 0);
        h.not_sent = 1;
        assert_eq!(
            h.limits(1.0),
            Limits {
                not_sent: true,
                ..Limits::default()
            }
        );
        let mut h = sent(200, 0);
        h.cap_waits = 3;
        h.local_errors = 1;
        let l = h.limits(1.0);
        assert!(l.cap && l.local_errors && !l.late);
        assert_eq!(l.describe(), "in-flight cap reached, local errors");
    }

    #[test]
    fn merge_adds_counts_and_keeps_the_worst_lag() {
        let mut a = GeneratorHealth {
            planned: Some(100),
            sent: 98,
            late: 3,
            not_sent: 2,
            cap_waits: 1,
            local_errors: 0,
            max_send_lag_us: 40_000,
        };
        let b = GeneratorHealth {
            planned: Some(100),
            sent: 100,
            max_send_lag_us: 900,
            ..GeneratorHealth::default()
        };
        a.merge(&b);
        assert_eq!(a.planned, Some(200));
        assert_eq!((a.sent, a.late, a.not_sent, a.cap_waits), (198, 3, 2, 1));
        assert_eq!(a.max_send_lag_us, 40_000);
        let mut closed = GeneratorHealth::default();
        closed.merge(&GeneratorHealth::default());
        assert_eq!(closed.planned, None);
    }
}
