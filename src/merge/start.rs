//! The merged run's `start`: how well the shards' second 0s lined up, as
//! one [`StartInfo`] a reader of a single run's summary already knows how
//! to read. The instant is the one they share; the lag is the latest
//! shard's, since every merged second holds that shard's requests; the
//! skew is the strictest any shard was judged by; the clock is
//! synchronized only when every shard's was, with the largest offset and
//! error bound; `notes` says each shard's own. Whether a shard's start
//! makes the merge INVALID is its own judgement, named in
//! [`crate::results::summary::MergedFrom::invalid`], so the merged `start`
//! is not judged again.

use crate::results::summary::{ClockStatus, StartInfo};

/// The shards' starts (by index) combined; `None` when one has none (the
/// check refuses such folders before this is asked).
pub fn combined(starts: &[Option<&StartInfo>]) -> Option<StartInfo> {
    let starts: Vec<&StartInfo> = starts.iter().copied().collect::<Option<_>>()?;
    let first = starts.first()?;
    let count = starts.len();
    let synchronized = starts.iter().all(|s| s.clock.synchronized);
    let largest = |f: fn(&ClockStatus) -> Option<f64>| {
        starts
            .iter()
            .filter_map(|s| f(&s.clock))
            .max_by(|a, b| a.abs().total_cmp(&b.abs()))
    };
    let clock = if synchronized {
        ClockStatus {
            synchronized,
            offset_ms: largest(|c| c.offset_ms),
            max_error_ms: largest(|c| c.max_error_ms),
        }
    } else {
        ClockStatus {
            synchronized,
            offset_ms: None,
            max_error_ms: None,
        }
    };
    Some(StartInfo {
        at_unix_ms: first.at_unix_ms,
        lag_ms: starts.iter().map(|s| s.lag_ms).fold(0.0, f64::max),
        max_skew_ms: starts
            .iter()
            .map(|s| s.max_skew_ms)
            .fold(f64::INFINITY, f64::min),
        clock,
        notes: starts
            .iter()
            .enumerate()
            .map(|(i, s)| format!("shard {i}/{count}: {}", describe(s)))
            .collect(),
    })
}

/// One shard's start as a person reads it.
fn describe(s: &StartInfo) -> String {
    let clock = match (
        s.clock.synchronized,
        s.clock.offset_ms,
        s.clock.max_error_ms,
    ) {
        (true, Some(offset), Some(error)) => {
            format!("clock synchronized (offset {offset} ms, error bound {error} ms)")
        }
        (true, ..) => "clock synchronized".to_string(),
        (false, ..) => "clock not synchronized".to_string(),
    };
    format!(
        "second 0 {:.1} ms after --start-at (max skew {} ms), {clock}",
        s.lag_ms, s.max_skew_ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(lag_ms: f64, max_skew_ms: f64, clock: Option<(f64, f64)>) -> StartInfo {
        StartInfo {
            at_unix_ms: 1_796_216_400_000,
            lag_ms,
            max_skew_ms,
            clock: ClockStatus {
                synchronized: clock.is_some(),
                offset_ms: clock.map(|c| c.0),
                max_error_ms: clock.map(|c| c.1),
            },
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_latest_lag_the_strictest_skew_and_every_shards_own_say() {
        let (a, b, c) = (
            start(0.0, 50.0, Some((0.25, 12.0))),
            start(3.5, 50.0, Some((-1.5, 8.0))),
            start(1.0, 20.0, Some((0.5, 16.5))),
        );
        let m = combined(&[Some(&a), Some(&b), Some(&c)]).unwrap();
        assert_eq!(m.at_unix_ms, 1_796_216_400_000);
        assert_eq!(m.lag_ms, 3.5);
        assert_eq!(m.max_skew_ms, 20.0);
        assert_eq!(
            m.clock,
            ClockStatus {
                synchronized: true,
                offset_ms: Some(-1.5),
                max_error_ms: Some(16.5),
            }
        );
        assert_eq!(
            m.notes,
            [
                "shard 0/3: second 0 0.0 ms after --start-at (max skew 50 ms), clock synchronized (offset 0.25 ms, error bound 12 ms)",
                "shard 1/3: second 0 3.5 ms after --start-at (max skew 50 ms), clock synchronized (offset -1.5 ms, error bound 8 ms)",
                "shard 2/3: second 0 1.0 ms after --start-at (max skew 20 ms), clock synchronized (offset 0.5 ms, error bound 16.5 ms)",
            ]
        );
    }

    #[test]
    fn one_unsynchronized_clock_makes_the_merged_one_unsynchronized() {
        let (a, b) = (start(0.0, 50.0, Some((0.25, 12.0))), start(0.0, 50.0, None));
        let m = combined(&[Some(&a), Some(&b)]).unwrap();
        assert_eq!(
            m.clock,
            ClockStatus {
                synchronized: false,
                offset_ms: None,
                max_error_ms: None,
            }
        );
        assert_eq!(
            m.notes[1],
            "shard 1/2: second 0 0.0 ms after --start-at (max skew 50 ms), clock not synchronized"
        );
        assert_eq!(combined(&[Some(&a), None]), None);
    }
}
