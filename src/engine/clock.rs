//! The one run clock: a monotonic anchor at the start of traffic, plus the
//! wall-clock time of that anchor so results can be aligned with other logs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct RunClock {
    pub start: Instant,
    /// Wall-clock time of `start`.
    pub epoch: SystemTime,
}

impl RunClock {
    /// Anchors the clock `lead` from now, so every lane can be ready before
    /// the first intended send.
    pub fn starting_in(lead: Duration) -> RunClock {
        let now = Instant::now();
        RunClock {
            start: now + lead,
            epoch: SystemTime::now() + lead,
        }
    }

    /// Microseconds since the anchor (0 before it).
    pub fn us(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.start).as_micros()).unwrap_or(u64::MAX)
    }

    pub fn at(&self, offset: Duration) -> Instant {
        self.start + offset
    }

    pub fn elapsed_us(&self) -> u64 {
        self.us(Instant::now())
    }

    /// Unix time of the anchor in milliseconds.
    pub fn epoch_ms(&self) -> u64 {
        self.epoch
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}
