//! Per-cluster counters behind [`SimStats`], updated with atomics from the
//! request path (no lock) and read by tests and the load generator's checks,
//! e.g. "N users means exactly N requests in flight" via `peak_in_flight`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::SimStats;

/// One cluster's counters; [`StatsCell::snapshot`] reads them as [`SimStats`].
#[derive(Debug, Default)]
pub struct StatsCell {
    requests: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    connections: AtomicU64,
}

impl StatsCell {
    pub fn connection_accepted(&self) {
        self.connections.fetch_add(1, Relaxed);
    }

    /// Counts a request whose headers arrived and keeps it in flight until
    /// the guard drops: when the response is handed to hyper, or when the
    /// connection is torn down while the request is held or delayed.
    pub fn request_started(&self) -> InFlight<'_> {
        self.requests.fetch_add(1, Relaxed);
        let now = self.in_flight.fetch_add(1, Relaxed) + 1;
        self.peak_in_flight.fetch_max(now, Relaxed);
        InFlight(self)
    }

    /// Restarts the peak from what is in flight now (not from zero: those
    /// requests are still being handled).
    pub fn reset_peak(&self) {
        self.peak_in_flight
            .store(self.in_flight.load(Relaxed), Relaxed);
    }

    pub fn snapshot(&self) -> SimStats {
        SimStats {
            requests: self.requests.load(Relaxed),
            in_flight: self.in_flight.load(Relaxed),
            peak_in_flight: self.peak_in_flight.load(Relaxed),
            connections: self.connections.load(Relaxed),
        }
    }
}

/// One request in flight; see [`StatsCell::request_started`].
#[must_use]
pub struct InFlight<'a>(&'a StatsCell);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_and_peak_follow_guards() {
        let s = StatsCell::default();
        s.connection_accepted();
        let a = s.request_started();
        let b = s.request_started();
        let c = s.request_started();
        drop(b);
        assert_eq!(
            s.snapshot(),
            SimStats {
                requests: 3,
                in_flight: 2,
                peak_in_flight: 3,
                connections: 1
            }
        );
        s.reset_peak();
        assert_eq!(s.snapshot().peak_in_flight, 2);
        drop((a, c));
        let _d = s.request_started();
        let snap = s.snapshot();
        assert_eq!(
            (snap.requests, snap.in_flight, snap.peak_in_flight),
            (4, 1, 2)
        );
    }
}
