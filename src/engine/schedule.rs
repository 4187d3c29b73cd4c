//! When each lane sends: the open model's absolute intended times
//! (`start + i / rate`, never "sleep one interval after the last send", so
//! lateness cannot accumulate silently; under stages, the slot times of the
//! target's [`LoadProfile`]) and the closed model's users.

use std::time::Duration;

use super::profile::LoadProfile;

/// `--shard I/N`: this process sends arrival slot (or runs user) `i` of
/// the one schedule exactly when `i % count == index`, so N processes
/// together send the unsharded plan, each its exact share.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Not sharded: the one process sends everything.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// `I/N` with `0 <= I < N`, `N >= 1`.
    pub fn new(index: u32, count: u32) -> Option<Shard> {
        (count >= 1 && index < count).then_some(Shard { index, count })
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// Of slots or users `0..n`, how many are this shard's.
    pub fn share_of(self, n: u64) -> u64 {
        let (index, count) = (u64::from(self.index), u64::from(self.count));
        if n > index {
            (n - index - 1) / count + 1
        } else {
            0
        }
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "shard {} of {}", self.index, self.count)
    }
}

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

    /// Splits this shard's share of a target's traffic over `lanes` lanes:
    /// of slot or user `n` of shard `I` of `N` (`n % N == I`), lane `l`
    /// has those with `n = I + l·N (mod lanes·N)`, so lane `l` has the
    /// users `I + l·N, I + l·N + lanes·N, ...` below the profile's peak
    /// (none: the lane is left out). Unsharded, lane `l` has `l, l + lanes, ...`.
    pub fn split(of: SplitOf, lanes: u64, shard: Shard) -> Vec<Schedule> {
        let (index, count) = (u64::from(shard.index), u64::from(shard.count));
        let stride = lanes * count;
        match of {
            SplitOf::Rate(profile) => (0..lanes)
                .map(|l| Schedule::Open {
                    first: index + l * count,
                    stride,
                    profile: profile.clone(),
                })
                .collect(),
            SplitOf::Users { profile, think } => {
                let peak = u64::from(profile.peak().ceil() as u32);
                (0..lanes)
                    .map(|l| {
                        let first = index + l * count;
                        let users = if peak > first {
                            (peak - first - 1) / stride + 1
                        } else {
                            0
                        };
                        Schedule::Closed {
                            first: first as u32,
                            stride: stride as u32,
                            users: users as u32,
                            think,
                            profile: profile.clone(),
                        }
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
        let s = Schedule::split(of(5.0), 2, Shard::WHOLE);
        let users: Vec<u32> = s
            .iter()
            .map(|s| match s {
                Schedule::Closed { users, .. } => *users,
                _ => 0,
            })
            .collect();
        assert_eq!(users, vec![3, 2]);
        assert_eq!(Schedule::split(of(1.0), 2, Shard::WHOLE).len(), 1);
        let open = Schedule::split(SplitOf::Rate(LoadProfile::Flat(10.0)), 2, Shard::WHOLE);
        assert_eq!(open.len(), 2);
    }

    /// Every slot a split's lanes send before `end`.
    fn open_slots(profile: &LoadProfile, lanes: u64, shard: Shard, end: Duration) -> Vec<u64> {
        let total = profile.slots_before(end);
        let mut slots = Vec::new();
        for s in Schedule::split(SplitOf::Rate(profile.clone()), lanes, shard) {
            let Schedule::Open { first, stride, .. } = s else {
                panic!("open split");
            };
            slots.extend((first..total).step_by(stride as usize));
        }
        slots
    }

    #[test]
    fn three_shards_send_exactly_the_unsharded_slots_once() {
        use crate::scenario::LoadStage;
        let end = Duration::from_secs(10);
        let staged = LoadProfile::from_stages(&[
            LoadStage {
                duration: Duration::from_secs(3),
                target: 30.0,
            },
            LoadStage {
                duration: Duration::from_millis(4_500),
                target: 7.0,
            },
        ]);
        for profile in [LoadProfile::Flat(200.0), LoadProfile::Flat(7.0), staged] {
            let whole = open_slots(&profile, 4, Shard::WHOLE, end);
            let total = profile.slots_before(end);
            let mut expected = whole.clone();
            expected.sort_unstable();
            assert_eq!(expected, (0..total).collect::<Vec<_>>());
            let mut union = Vec::new();
            for index in 0..3 {
                let shard = Shard::new(index, 3).unwrap();
                let mine = open_slots(&profile, 4, shard, end);
                assert!(mine.iter().all(|i| i % 3 == u64::from(index)));
                assert_eq!(mine.len() as u64, shard.share_of(total), "{profile:?}");
                union.extend(mine);
            }
            union.sort_unstable();
            // Disjoint and complete: sorted, it is 0..total with no repeat.
            assert_eq!(union, (0..total).collect::<Vec<_>>(), "{profile:?}");
        }
    }

    #[test]
    fn closed_users_split_over_shards() {
        let of = SplitOf::Users {
            profile: LoadProfile::Flat(100.0),
            think: Duration::ZERO,
        };
        let mut all = Vec::new();
        let mut per_shard = Vec::new();
        for index in 0..3 {
            let shard = Shard::new(index, 3).unwrap();
            let mut n = 0;
            for s in Schedule::split(of.clone(), 2, shard) {
                let Schedule::Closed {
                    first,
                    stride,
                    users,
                    ..
                } = s
                else {
                    panic!("closed split");
                };
                n += users;
                all.extend((0..users).map(|j| first + j * stride));
            }
            assert_eq!(u64::from(n), shard.share_of(100));
            per_shard.push(n);
        }
        assert_eq!(per_shard, vec![34, 33, 33]);
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn shard_parsing_bounds() {
        assert_eq!(Shard::new(0, 1), Some(Shard::WHOLE));
        assert_eq!(Shard::new(3, 3), None);
        assert_eq!(Shard::new(0, 0), None);
        assert_eq!(Shard::new(2, 3).unwrap().share_of(2), 0);
        assert_eq!(Shard::new(2, 3).unwrap().share_of(3), 1);
        assert_eq!(Shard::WHOLE.share_of(60), 60);
    }
}
