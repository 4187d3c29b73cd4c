//! When each lane sends: the open model's absolute intended times
//! (`start + i / rate`, never "sleep one interval after the last send", so
//! lateness cannot accumulate silently; under stages, the slot times of the
//! target's [`LoadProfile`]) and the closed model's users.

use std::time::Duration;

use super::profile::LoadProfile;

/// One lane's share of a target's traffic.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// Slots `first, first + stride, ...` of the target's arrival sequence,
    /// slot `i` intended at `profile.slot_offset(i)` (`i / rate` when flat).
    Open {
        first: u64,
        stride: u64,
        profile: LoadProfile,
    },
    /// The target's users `first, first + stride, ...` (`users` of them),
    /// each sending again `think` after a reply while the profile plans it.
    Closed {
        first: u32,
        stride: u32,
        users: u32,
        think: Duration,
        profile: LoadProfile,
    },
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

    /// Splits a target's traffic over `lanes` lanes: slot or user `n` goes
    /// to lane `n % lanes`, so lane `l` has the users `l, l + lanes, ...`
    /// below the profile's peak (none: the lane is left out).
    pub fn split(of: SplitOf, lanes: u64) -> Vec<Schedule> {
        match of {
            SplitOf::Rate(profile) => (0..lanes)
                .map(|l| Schedule::Open {
                    first: l,
                    stride: lanes,
                    profile: profile.clone(),
                })
                .collect(),
            SplitOf::Users { profile, think } => {
                let users = profile.peak().ceil() as u32;
                let lanes = lanes as u32;
                (0..lanes)
                    .map(|l| Schedule::Closed {
                        first: l,
                        stride: lanes,
                        users: users / lanes + u32::from(l < users % lanes),
                        think,
                        profile: profile.clone(),
                    })
                    .filter(|s| matches!(s, Schedule::Closed { users, .. } if *users > 0))
                    .collect()
            }
        }
    }
}

#[derive(Clone, Debug)]
pub enum SplitOf {
    Rate(LoadProfile),
    Users {
        profile: LoadProfile,
        think: Duration,
    },
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
        let of = |n: f64| SplitOf::Users {
            profile: LoadProfile::Flat(n),
            think: Duration::ZERO,
        };
        let s = Schedule::split(of(5.0), 2);
        let users: Vec<u32> = s
            .iter()
            .map(|s| match s {
                Schedule::Closed { users, .. } => *users,
                _ => 0,
            })
            .collect();
        assert_eq!(users, vec![3, 2]);
        assert_eq!(Schedule::split(of(1.0), 2).len(), 1);
        let open = Schedule::split(SplitOf::Rate(LoadProfile::Flat(10.0)), 2);
        assert_eq!(open.len(), 2);
    }
}
