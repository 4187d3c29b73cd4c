//! Which reviews version (v1, v2, v3) answers the n-th productpage request to
//! one cluster. Fed by the per-cluster request counter in the gateway; the
//! pages module turns the version into a page.
//!
//! Weighted random choice would only approach the configured mix on average,
//! so a 100-request test could see 46/33/21. Instead request `n` lands in slot
//! `n % 100`, and a fixed permutation of the 100 slots spreads each version's
//! share across the cycle: any 100 consecutive requests carry exactly the mix,
//! and no version arrives in a long run.

/// Slots in one cycle; the mix is given in percent of it.
pub const SLOTS: u64 = 100;

/// Multiplier of the slot permutation `slot ↦ slot × STRIDE mod 100`.
/// Coprime with 100 (so it is a permutation) and close to 100 × 0.618: a
/// golden-ratio Weyl sequence, which keeps every version's occurrences evenly
/// spaced (checked by `versions_are_interleaved`).
const STRIDE: u64 = 61;

/// Reviews version (1, 2 or 3) for the `n`-th request (0-based) of one
/// cluster, given the mix in percent `[v1, v2, v3]`.
///
/// The permuted slot is compared with the cumulative shares, so a mix summing
/// to less than 100 gives the remainder to v3 and one summing to more cuts v3
/// short; `SimConfig` validation makes sure the sim only uses mixes of 100.
pub const fn version_for(n: u64, mix: [u8; 3]) -> u8 {
    let position = (n % SLOTS) * STRIDE % SLOTS;
    let v1 = mix[0] as u64;
    let v2 = v1 + mix[1] as u64;
    if position < v1 {
        1
    } else if position < v2 {
        2
    } else {
        3
    }
}

/// Whether a mix is usable: percentages summing to exactly 100.
pub const fn mix_is_valid(mix: [u8; 3]) -> bool {
    mix[0] as u16 + mix[1] as u16 + mix[2] as u16 == SLOTS as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXES: [[u8; 3]; 7] = [
        [50, 30, 20],
        [34, 33, 33],
        [100, 0, 0],
        [0, 0, 100],
        [0, 50, 50],
        [90, 5, 5],
        [1, 1, 98],
    ];

    fn counts(start: u64, len: u64, mix: [u8; 3]) -> [u64; 3] {
        let mut c = [0; 3];
        for n in start..start + len {
            c[usize::from(version_for(n, mix)) - 1] += 1;
        }
        c
    }

    #[test]
    fn stride_is_a_permutation_of_the_slots() {
        let mut seen = [false; SLOTS as usize];
        for slot in 0..SLOTS {
            seen[(slot * STRIDE % SLOTS) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn any_100_consecutive_requests_have_exactly_the_mix() {
        for mix in MIXES {
            let want = mix.map(u64::from);
            // Every alignment of the window, including ones far into the counter.
            for start in (0..250).chain(u64::MAX - 300..u64::MAX - 100) {
                assert_eq!(counts(start, 100, mix), want, "mix {mix:?} start {start}");
            }
        }
    }

    #[test]
    fn versions_are_interleaved() {
        let mix = [50, 30, 20];
        // Every 10 consecutive requests see every version, and none more than 6 times.
        for start in 0..200 {
            let c = counts(start, 10, mix);
            assert!(
                c.iter().all(|&k| (1..=6).contains(&k)),
                "start {start}: {c:?}"
            );
        }
        // No version runs more than twice in a row for a mix with no majority.
        for mix in [[34, 33, 33], [50, 30, 20], [20, 30, 50]] {
            let mut run = 0;
            let mut last = 0;
            for n in 0..200 {
                let v = version_for(n, mix);
                run = if v == last { run + 1 } else { 1 };
                last = v;
                assert!(run <= 2, "mix {mix:?}: run of {run} v{v} at {n}");
            }
        }
    }

    #[test]
    fn first_requests_of_the_default_mix() {
        let first: Vec<u8> = (0..10).map(|n| version_for(n, [50, 30, 20])).collect();
        assert_eq!(first, [1, 2, 1, 3, 1, 1, 2, 1, 3, 1]);
    }

    #[test]
    fn mix_validation() {
        assert!(mix_is_valid([50, 30, 20]));
        assert!(mix_is_valid([0, 0, 100]));
        assert!(!mix_is_valid([50, 30, 30]));
        assert!(!mix_is_valid([255, 255, 255]));
        assert!(!mix_is_valid([0, 0, 0]));
    }
}
