//! A lane's own recording: per-second stats for the seconds it still has
//! requests in, indexed by the second of each request's intended send time.
//! The lane records without locks and hands finished seconds to the recorder.

use std::collections::VecDeque;

use crate::outcome::Outcome;
use crate::record::SecondStats;

#[derive(Default)]
pub struct Shard {
    /// Second number of `seconds[0]`.
    base: u32,
    seconds: VecDeque<SecondStats>,
    /// Outcomes for seconds already handed off. The lane's watermark makes
    /// this impossible; should it happen, they still reach the totals.
    stragglers: Vec<(u32, SecondStats)>,
}

pub fn second_of(us: u64) -> u32 {
    u32::try_from(us / 1_000_000).unwrap_or(u32::MAX)
}

impl Shard {
    pub fn record(&mut self, outcome: &Outcome) {
        self.second(second_of(outcome.intended_us)).record(outcome);
    }

    /// A request in flight when the run was interrupted, in the second of
    /// its intended time like every other outcome.
    pub fn record_abandoned(&mut self, outcome: &Outcome) {
        self.second(second_of(outcome.intended_us))
            .record_abandoned(outcome);
    }

    /// `n` slots of `second` that were never sent (their deadline passed).
    pub fn not_sent(&mut self, second: u32, n: u64) {
        self.second(second).not_sent += n;
    }

    /// A request of `second` whose send waited on the in-flight cap.
    pub fn cap_wait(&mut self, second: u32) {
        self.second(second).cap_waits += 1;
    }

    /// A closed-model user that started a request due in `second` (the
    /// lane counts each of its users once per second).
    pub fn user_active(&mut self, second: u32) {
        self.second(second).active_users += 1;
    }

    fn second(&mut self, second: u32) -> &mut SecondStats {
        if second < self.base {
            debug_assert!(false, "outcome for handed-off second {second}");
            self.stragglers.push((second, SecondStats::new()));
            return &mut self.stragglers.last_mut().expect("just pushed").1;
        }
        let index = (second - self.base) as usize;
        while self.seconds.len() <= index {
            self.seconds.push_back(SecondStats::new());
        }
        &mut self.seconds[index]
    }

    /// Removes and returns every second before `second` (including empty
    /// ones, so the recorder sees each second exactly once per lane).
    pub fn take_before(&mut self, second: u32) -> Vec<(u32, SecondStats)> {
        let mut out = std::mem::take(&mut self.stragglers);
        while self.base < second {
            match self.seconds.pop_front() {
                Some(stats) => out.push((self.base, stats)),
                None => {
                    // Nothing recorded up to `second`: jump there.
                    self.base = second;
                    break;
                }
            }
            self.base += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Page;
    use crate::outcome::Kind;

    fn at(us: u64) -> Outcome {
        Outcome {
            target: 0,
            intended_us: us,
            latency_us: 10,
            service_us: 10,
            send_lag_us: 0,
            kind: Kind::Ok,
            status: 200,
            page: Page::default(),
            address: crate::outcome::AddressId::NONE,
        }
    }

    #[test]
    fn hands_off_each_second_once_in_order() {
        let mut shard = Shard::default();
        shard.record(&at(100));
        shard.record(&at(2_500_000));
        let first: Vec<_> = shard
            .take_before(2)
            .into_iter()
            .map(|(s, st)| (s, st.sent()))
            .collect();
        assert_eq!(first, vec![(0, 1), (1, 0)]);
        shard.record(&at(2_900_000));
        let next: Vec<_> = shard
            .take_before(u32::MAX)
            .into_iter()
            .map(|(s, st)| (s, st.sent()))
            .collect();
        assert_eq!(next, vec![(2, 2)]);
        assert!(shard.take_before(u32::MAX).is_empty());
    }

    #[test]
    fn jumps_over_idle_seconds() {
        let mut shard = Shard::default();
        assert!(shard.take_before(5).is_empty());
        shard.record(&at(5_000_001));
        let got: Vec<_> = shard.take_before(6).into_iter().map(|(s, _)| s).collect();
        assert_eq!(got, vec![5]);
    }
}
