//! When each lane sends: the open model's absolute intended times
//! (`start + i / rate`, never "sleep one interval after the last send", so
//! lateness cannot accumulate silently) and the closed model's users.

use std::time::Duration;

/// One lane's share of a target's traffic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// Slots `first, first + stride, ...` of the target's arrival sequence,
    /// slot `i` intended at `i / rate` seconds after the run start.
    Open { first: u64, stride: u64, rate: f64 },
    /// `users` concurrent users, each sending again `think` after a reply.
    Closed { users: u32, think: Duration },
}

impl Schedule {
    /// Intended offset of slot `i` from the run start.
    pub fn slot_offset(rate: f64, i: u64) -> Duration {
        Duration::from_nanos((i as f64 * 1e9 / rate).round() as u64)
    }

    /// Slots with intended offset before `end`: how many requests an open
    /// target is asked for in a run of that length.
    pub fn slots_before(rate: f64, end: Duration) -> u64 {
        let exact = end.as_secs_f64() * rate;
        let n = exact.ceil() as u64;
        // Guard float rounding at exact boundaries: slot n must be >= end.
        if n > 0 && Schedule::slot_offset(rate, n - 1) >= end {
            n - 1
        } else {
            n
        }
    }

    /// Splits a target's traffic over `lanes` lanes.
    pub fn split(rate_or_users: SplitOf, lanes: u64) -> Vec<Schedule> {
        match rate_or_users {
            SplitOf::Rate(rate) => (0..lanes)
                .map(|l| Schedule::Open {
                    first: l,
                    stride: lanes,
                    rate,
                })
                .collect(),
            SplitOf::Users { users, think } => (0..lanes)
                .map(|l| {
                    let share = users / lanes as u32 + u32::from((l as u32) < users % lanes as u32);
                    Schedule::Closed {
                        users: share,
                        think,
                    }
                })
                .filter(|s| matches!(s, Schedule::Closed { users, .. } if *users > 0))
                .collect(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum SplitOf {
    Rate(f64),
    Users { users: u32, think: Duration },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_absolute() {
        assert_eq!(Schedule::slot_offset(200.0, 0), Duration::ZERO);
        assert_eq!(Schedule::slot_offset(200.0, 1), Duration::from_millis(5));
        assert_eq!(Schedule::slot_offset(200.0, 6000), Duration::from_secs(30));
        assert_eq!(
            Schedule::slot_offset(3.0, 1),
            Duration::from_nanos(333_333_333)
        );
    }

    #[test]
    fn slot_count_is_exact() {
        assert_eq!(Schedule::slots_before(200.0, Duration::from_secs(30)), 6000);
        assert_eq!(Schedule::slots_before(3.0, Duration::from_secs(1)), 3);
        assert_eq!(Schedule::slots_before(3.0, Duration::from_millis(1001)), 4);
        assert_eq!(Schedule::slots_before(0.5, Duration::from_secs(3)), 2);
    }

    #[test]
    fn users_are_split_without_loss() {
        let s = Schedule::split(
            SplitOf::Users {
                users: 5,
                think: Duration::ZERO,
            },
            2,
        );
        let users: Vec<u32> = s
            .iter()
            .map(|s| match s {
                Schedule::Closed { users, .. } => *users,
                _ => 0,
            })
            .collect();
        assert_eq!(users, vec![3, 2]);
        assert_eq!(
            Schedule::split(
                SplitOf::Users {
                    users: 1,
                    think: Duration::ZERO
                },
                2
            )
            .len(),
            1
        );
        assert_eq!(Schedule::split(SplitOf::Rate(10.0), 2).len(), 2);
    }
}
