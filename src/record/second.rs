//! One second's worth of outcomes for one target: counts by kind, late sends,
//! HTTP statuses, and three HDR histograms (latency from the intended send
//! time of every request and of the successes alone, and service time from
//! the actual send). Shards, per-second rows and run
//! totals are all this one type, so merging is one `add`.

use hdrhistogram::Histogram;

use crate::outcome::{Kind, Outcome};
use crate::record::{AddressCounts, GeneratorHealth, Marks, PageCounts};

/// Highest latency tracked exactly, in microseconds (one hour). Larger
/// values are clamped by `saturating_record`, never dropped.
pub const MAX_TRACKED_US: u64 = 3_600_000_000;

/// A send this late after its intended time means the generator, not the
/// target, fell behind. tokio's timer wheel ticks at 1 ms, so smaller slips
/// are timer noise.
pub const LATE_SEND_US: u64 = 10_000;

#[derive(Clone, Debug)]
pub struct SecondStats {
    pub counts: [u64; Kind::COUNT],
    /// Requests sent ≥ [`LATE_SEND_US`] after their intended time.
    pub late: u64,
    /// The largest send lag of the second, µs.
    pub max_send_lag_us: u64,
    /// Open model: slots the schedule intended in this second (filled in by
    /// the recorder from the schedule, so it does not depend on what the
    /// lanes managed); `None` for the closed model.
    pub planned: Option<u64>,
    /// Closed model: users the profile plans at some instant of this second
    /// (filled in by the recorder from the profile, like `planned`); `None`
    /// for the open model.
    pub planned_users: Option<u64>,
    /// Closed model: users that started a request due in this second (each
    /// counted once per second; lanes hold disjoint users, so they add up).
    pub active_users: u64,
    /// Slots whose deadline passed before they could be sent.
    pub not_sent: u64,
    /// Requests whose send waited on the in-flight cap.
    pub cap_waits: u64,
    pub statuses: StatusCounts,
    /// Microseconds from intended send to completion, every request.
    pub latency: Histogram<u64>,
    /// Microseconds from intended send to completion, successes only: what
    /// users who got a page waited. Fast refusals pull `latency`'s
    /// percentiles down in an outage; these stay what a served page cost.
    /// Failures' latency is `latency` minus this (same bounds, a subset).
    pub latency_ok: Histogram<u64>,
    /// Microseconds from actual send to completion, every request.
    pub service: Histogram<u64>,
    /// Earliest and latest actual send (run-clock µs): the achieved rate is
    /// measured from real sends, not from the schedule.
    pub first_sent_us: u64,
    pub last_sent_us: u64,
    /// Which milliseconds of the second (by intended time) saw a success
    /// or a failure: places the first failure and the recovery exactly.
    pub marks: Marks,
    /// Reviews version, cluster and degraded backends of the productpages.
    pub pages: PageCounts,
    /// Requests, successes and failures by the address that answered.
    pub addresses: AddressCounts,
}

impl Default for SecondStats {
    fn default() -> Self {
        SecondStats::new()
    }
}

impl SecondStats {
    pub fn new() -> SecondStats {
        SecondStats {
            counts: [0; Kind::COUNT],
            late: 0,
            max_send_lag_us: 0,
            planned: None,
            planned_users: None,
            active_users: 0,
            not_sent: 0,
            cap_waits: 0,
            statuses: StatusCounts::default(),
            latency: new_histogram(),
            latency_ok: new_histogram(),
            service: new_histogram(),
            first_sent_us: u64::MAX,
            last_sent_us: 0,
            marks: Marks::default(),
            pages: PageCounts::default(),
            addresses: AddressCounts::default(),
        }
    }

    pub fn record(&mut self, outcome: &Outcome) {
        debug_assert!(
            outcome.kind.is_judged(),
            "abandoned goes to record_abandoned"
        );
        self.counts[outcome.kind.index()] += 1;
        if outcome.send_lag_us >= LATE_SEND_US {
            self.late += 1;
        }
        self.max_send_lag_us = self.max_send_lag_us.max(outcome.send_lag_us);
        if outcome.status != 0 {
            self.statuses.add(outcome.status, 1);
        }
        self.latency.saturating_record(outcome.latency_us.max(1));
        if outcome.kind.is_success() {
            self.latency_ok.saturating_record(outcome.latency_us.max(1));
        }
        self.service.saturating_record(outcome.service_us.max(1));
        let sent_us = outcome.intended_us.saturating_add(outcome.send_lag_us);
        self.first_sent_us = self.first_sent_us.min(sent_us);
        self.last_sent_us = self.last_sent_us.max(sent_us);
        let ms_in_second = (outcome.intended_us % 1_000_000 / 1000) as u32;
        if outcome.kind.is_success() {
            let done_ms = (outcome.intended_us % 1_000_000 + outcome.latency_us) / 1000;
            self.marks.mark_success(ms_in_second, done_ms);
        } else {
            self.marks.mark_failure(ms_in_second);
        }
        self.pages.record(outcome.kind, &outcome.page, ms_in_second);
        self.addresses.record(outcome.kind, outcome.address);
    }

    /// A request the interrupt cut short (`Kind::Abandoned`), recorded at
    /// the stop, never on the request path. Counted in its second and in
    /// the sends (it went out), but it has no response: nothing in the
    /// latency or service histograms (the time it waited is only a lower
    /// bound, which would pull the percentiles down), no status, no
    /// success or failure mark, no page, and not late (its send lag is not
    /// known; it was sent when the lane started it).
    pub fn record_abandoned(&mut self, outcome: &Outcome) {
        debug_assert_eq!(outcome.kind, Kind::Abandoned);
        self.counts[Kind::Abandoned.index()] += 1;
        self.addresses.record(Kind::Abandoned, outcome.address);
        let sent_us = outcome.intended_us.saturating_add(outcome.send_lag_us);
        self.first_sent_us = self.first_sent_us.min(sent_us);
        self.last_sent_us = self.last_sent_us.max(sent_us);
    }

    pub fn merge(&mut self, other: &SecondStats) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
        self.late += other.late;
        self.max_send_lag_us = self.max_send_lag_us.max(other.max_send_lag_us);
        self.planned = match (self.planned, other.planned) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.planned_users = match (self.planned_users, other.planned_users) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.active_users += other.active_users;
        self.not_sent += other.not_sent;
        self.cap_waits += other.cap_waits;
        self.statuses.merge(&other.statuses);
        self.first_sent_us = self.first_sent_us.min(other.first_sent_us);
        self.last_sent_us = self.last_sent_us.max(other.last_sent_us);
        self.marks.merge(&other.marks);
        self.pages.merge(&other.pages);
        self.addresses.merge(&other.addresses);
        // Same bounds on both sides, so `add` cannot fail.
        self.latency
            .add(&other.latency)
            .expect("histograms share bounds");
        self.latency_ok
            .add(&other.latency_ok)
            .expect("histograms share bounds");
        self.service
            .add(&other.service)
            .expect("histograms share bounds");
    }

    /// Requests sent: every kind, `abandoned` included.
    pub fn sent(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Requests whose outcome judges the target ([`Kind::is_judged`]): the
    /// denominator of availability.
    pub fn judged(&self) -> u64 {
        Kind::ALL
            .iter()
            .filter(|k| k.is_judged())
            .map(|k| self.count(*k))
            .sum()
    }

    pub fn count(&self, kind: Kind) -> u64 {
        self.counts[kind.index()]
    }

    pub fn succeeded(&self) -> u64 {
        Kind::ALL
            .iter()
            .filter(|k| k.is_success())
            .map(|k| self.count(*k))
            .sum()
    }

    /// Judged requests that did not succeed (an abandoned one is not failed).
    pub fn failed(&self) -> u64 {
        self.judged() - self.succeeded()
    }

    /// What the generator managed in this second.
    pub fn health(&self) -> GeneratorHealth {
        GeneratorHealth {
            planned: self.planned,
            sent: self.sent(),
            late: self.late,
            not_sent: self.not_sent,
            cap_waits: self.cap_waits,
            local_errors: self.count(Kind::LocalError),
            max_send_lag_us: self.max_send_lag_us,
        }
    }

    /// Requests per second between the first and the last actual send
    /// (`n - 1` intervals over that span); `None` with fewer than two requests.
    pub fn achieved_rate(&self) -> Option<f64> {
        let n = self.sent();
        let span = self.last_sent_us.checked_sub(self.first_sent_us)?;
        (n >= 2 && span > 0).then(|| (n - 1) as f64 * 1e6 / span as f64)
    }

    /// Successes over judged requests, in percent; `None` when none was
    /// judged (nothing sent, or only abandoned requests).
    pub fn availability_pct(&self) -> Option<f64> {
        let judged = self.judged();
        (judged > 0).then(|| 100.0 * self.succeeded() as f64 / judged as f64)
    }
}

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKED_US, 3).expect("static bounds are valid")
}

/// Counts per HTTP status without a map: a second sees a handful of distinct
/// statuses (200, 503, 404...), so a small fixed table suffices; anything
/// beyond it is counted as `other` rather than lost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts {
    slots: [(u16, u64); 8],
    pub other: u64,
}

impl StatusCounts {
    pub fn add(&mut self, status: u16, n: u64) {
        for slot in self.slots.iter_mut() {
            if slot.0 == status {
                slot.1 += n;
                return;
            }
            if slot.0 == 0 {
                *slot = (status, n);
                return;
            }
        }
        self.other += n;
    }

    pub fn merge(&mut self, other: &StatusCounts) {
        for (status, n) in other.iter() {
            self.add(status, n);
        }
        self.other += other.other;
    }

    /// (status, count) pairs in first-seen order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.slots.iter().copied().take_while(|s| s.0 != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Page;

    fn outcome(kind: Kind, status: u16, latency_us: u64, lag_us: u64) -> Outcome {
        Outcome {
            target: 0,
            intended_us: 0,
            latency_us,
            service_us: latency_us - lag_us,
            send_lag_us: lag_us,
            kind,
            status,
            page: Page::default(),
            address: crate::outcome::AddressId::NONE,
        }
    }

    #[test]
    fn records_and_merges_exact_counts() {
        let mut a = SecondStats::new();
        a.record(&outcome(Kind::Ok, 200, 1_000, 0));
        a.record(&outcome(Kind::Http5xx, 503, 2_000, 0));
        let mut b = SecondStats::new();
        b.record(&outcome(Kind::Refused, 0, 300, 0));
        b.record(&outcome(Kind::Ok, 200, 50_000, 20_000));
        a.merge(&b);
        assert_eq!(a.sent(), 4);
        assert_eq!(a.succeeded(), 2);
        assert_eq!(a.failed(), 2);
        assert_eq!(a.late, 1);
        assert_eq!(a.latency.len(), 4);
        // Successes alone: the 1 ms and the 50 ms ones.
        assert_eq!(a.latency_ok.len(), 2);
        assert_eq!(
            (a.latency_ok.min(), a.latency_ok.max()),
            (1_000, a.latency_ok.highest_equivalent(50_000))
        );
        assert_eq!(a.service.len(), 4);
        assert_eq!(a.availability_pct(), Some(50.0));
        assert_eq!(
            a.statuses.iter().collect::<Vec<_>>(),
            vec![(200, 2), (503, 1)]
        );
        assert_eq!(SecondStats::new().availability_pct(), None);
        // Sends at 0, 0, 0 and 20 ms (the late one): 3 intervals over 20 ms.
        assert_eq!(a.achieved_rate(), Some(150.0));
    }

    #[test]
    fn abandoned_is_sent_but_not_judged() {
        let mut a = SecondStats::new();
        a.record(&outcome(Kind::Ok, 200, 1_000, 0));
        a.record(&outcome(Kind::Refused, 0, 300, 0));
        let mut abandoned = outcome(Kind::Abandoned, 0, 29_000_000, 0);
        abandoned.intended_us = 700_000;
        a.record_abandoned(&abandoned);
        a.record_abandoned(&abandoned);
        assert_eq!(a.sent(), 4);
        assert_eq!(a.count(Kind::Abandoned), 2);
        assert_eq!(a.judged(), 2);
        assert_eq!((a.succeeded(), a.failed()), (1, 1));
        assert_eq!(a.availability_pct(), Some(50.0));
        assert_eq!(a.latency.len(), 2, "no latency for an unanswered request");
        assert_eq!(a.service.len(), 2);
        assert_eq!(a.late, 0);
        assert_eq!(a.marks.last_failure(), Some(0), "no failure mark at 700 ms");
        assert_eq!(a.last_sent_us, 700_000);
        let health = a.health();
        assert_eq!((health.sent, health.late, health.not_sent), (4, 0, 0));

        let mut only = SecondStats::new();
        only.record_abandoned(&abandoned);
        assert_eq!((only.sent(), only.judged(), only.failed()), (1, 0, 0));
        assert_eq!(
            only.availability_pct(),
            None,
            "nothing judged: no availability"
        );
        assert!(only.marks.first_failure().is_none());
    }

    #[test]
    fn status_table_overflow_is_counted_not_lost() {
        let mut s = StatusCounts::default();
        for status in 200..210 {
            s.add(status, 1);
        }
        assert_eq!(s.iter().count(), 8);
        assert_eq!(s.other, 2);
    }

    #[test]
    fn huge_latency_is_clamped_not_dropped() {
        let mut a = SecondStats::new();
        a.record(&outcome(Kind::Timeout, 0, u64::MAX / 2, 0));
        assert_eq!(a.latency.len(), 1);
    }
}
