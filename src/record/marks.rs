//! Where in a second successes and failures happened, to the millisecond:
//! two 1000-bit maps (a bit per millisecond of intended send time). They
//! merge exactly across lanes with OR — unlike min/max timestamps, which
//! cannot tell "the first success after the last failure" once two shards
//! are combined — so the RTO can be placed to the request, not the second,
//! at 256 bytes per second.

const WORDS: usize = 16; // 1024 bits ≥ 1000 ms

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    failures: [u64; WORDS],
    successes: [u64; WORDS],
}

impl Marks {
    /// `ms` is the millisecond within the second (0..1000).
    pub fn mark(&mut self, ms: u32, success: bool) {
        let ms = ms.min(999) as usize;
        let map = if success {
            &mut self.successes
        } else {
            &mut self.failures
        };
        map[ms / 64] |= 1 << (ms % 64);
    }

    pub fn merge(&mut self, other: &Marks) {
        for i in 0..WORDS {
            self.failures[i] |= other.failures[i];
            self.successes[i] |= other.successes[i];
        }
    }

    pub fn first_failure(&self) -> Option<u32> {
        first(&self.failures, 0)
    }

    pub fn last_failure(&self) -> Option<u32> {
        last(&self.failures)
    }

    pub fn first_success(&self) -> Option<u32> {
        first(&self.successes, 0)
    }

    /// The first millisecond after this second's last failure that holds a
    /// success; with no failure, the first success. A millisecond holding
    /// both is not "after".
    pub fn first_success_after_last_failure(&self) -> Option<u32> {
        match self.last_failure() {
            Some(f) => first(&self.successes, f + 1),
            None => self.first_success(),
        }
    }
}

fn first(map: &[u64; WORDS], from: u32) -> Option<u32> {
    (from as usize..1000)
        .find(|&ms| map[ms / 64] & (1 << (ms % 64)) != 0)
        .map(|ms| ms as u32)
}

fn last(map: &[u64; WORDS]) -> Option<u32> {
    (0..1000usize)
        .rev()
        .find(|&ms| map[ms / 64] & (1 << (ms % 64)) != 0)
        .map(|ms| ms as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_success_after_the_last_failure_across_merged_shards() {
        // Lane A: failures at 100 and 400 ms, success at 300 ms.
        let mut a = Marks::default();
        a.mark(100, false);
        a.mark(300, true);
        a.mark(400, false);
        // Lane B: success at 350 ms and 405 ms, failure at 200 ms.
        let mut b = Marks::default();
        b.mark(200, false);
        b.mark(350, true);
        b.mark(405, true);
        a.merge(&b);
        assert_eq!(a.first_failure(), Some(100));
        assert_eq!(a.last_failure(), Some(400));
        assert_eq!(a.first_success(), Some(300));
        assert_eq!(a.first_success_after_last_failure(), Some(405));
    }

    #[test]
    fn edges() {
        let mut m = Marks::default();
        assert_eq!(m.first_success_after_last_failure(), None);
        m.mark(999, false);
        assert_eq!(m.first_success_after_last_failure(), None);
        m.mark(5000, true); // clamped into the second
        assert_eq!(m.first_success(), Some(999));
        assert_eq!(
            m.first_success_after_last_failure(),
            None,
            "same millisecond is not after"
        );
        let mut only_ok = Marks::default();
        only_ok.mark(0, true);
        assert_eq!(only_ok.first_success_after_last_failure(), Some(0));
        assert_eq!(only_ok.last_failure(), None);
    }
}
