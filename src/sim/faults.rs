//! The fault currently applied to one cluster, as the request path sees it:
//! one atomic word read per request, and a `Notify` that releases requests a
//! [`SimFault::Blackhole`] is holding the moment the fault changes. Listener
//! side effects of `Down` (closing, re-binding) live in the gateway module.

use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use super::SimFault;

/// Faults are packed into one `u64` so a reader never sees the kind of one
/// fault with the delay of another: the kind in the top 3 bits, the
/// `Latency` delay in nanoseconds (saturated, ~73 years) in the rest.
const KIND_SHIFT: u32 = 61;
const NANOS_MASK: u64 = (1 << KIND_SHIFT) - 1;

const fn encode(fault: SimFault) -> u64 {
    let (kind, nanos) = match fault {
        SimFault::Restore => (0, 0),
        SimFault::Down => (1, 0),
        SimFault::Blackhole => (2, 0),
        SimFault::Http503 => (3, 0),
        SimFault::Latency(d) => {
            let n = d.as_nanos();
            (
                4,
                if n > NANOS_MASK as u128 {
                    NANOS_MASK
                } else {
                    n as u64
                },
            )
        }
        SimFault::Degraded => (5, 0),
        SimFault::CrossCluster => (6, 0),
    };
    (kind << KIND_SHIFT) | nanos
}

const fn decode(word: u64) -> SimFault {
    match word >> KIND_SHIFT {
        1 => SimFault::Down,
        2 => SimFault::Blackhole,
        3 => SimFault::Http503,
        4 => SimFault::Latency(Duration::from_nanos(word & NANOS_MASK)),
        5 => SimFault::Degraded,
        6 => SimFault::CrossCluster,
        _ => SimFault::Restore,
    }
}

#[derive(Debug)]
pub struct FaultCell {
    word: AtomicU64,
    /// Notified on every change; held requests re-check the fault.
    changed: Notify,
    /// Requests currently held by a blackhole.
    held: AtomicU64,
    /// Notified when a request starts being held (tests await a count).
    held_grew: Notify,
}

impl Default for FaultCell {
    fn default() -> Self {
        FaultCell {
            word: AtomicU64::new(encode(SimFault::Restore)),
            changed: Notify::new(),
            held: AtomicU64::new(0),
            held_grew: Notify::new(),
        }
    }
}

impl FaultCell {
    pub fn get(&self) -> SimFault {
        decode(self.word.load(Ordering::Acquire))
    }

    /// Replaces the fault and releases every held request to re-check it.
    pub fn set(&self, fault: SimFault) {
        self.word.store(encode(fault), Ordering::Release);
        self.changed.notify_waiters();
    }

    /// Returns the fault a request should be answered under: the current one,
    /// or, while it is `Blackhole`, whatever replaces it, waiting as long as
    /// that takes (a cancelled connection drops the wait).
    pub async fn pass_blackhole(&self) -> SimFault {
        let fault = self.get();
        if fault != SimFault::Blackhole {
            return fault;
        }
        self.held.fetch_add(1, Ordering::AcqRel);
        let _held = Held(&self.held);
        self.held_grew.notify_waiters();
        loop {
            let mut changed = pin!(self.changed.notified());
            // Register before re-reading so a change in between still wakes us.
            changed.as_mut().enable();
            let fault = self.get();
            if fault != SimFault::Blackhole {
                return fault;
            }
            changed.await;
        }
    }

    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Acquire)
    }

    /// Waits until at least `n` requests are held by a blackhole, so a test
    /// knows its requests reached the server without sleeping.
    pub async fn wait_held(&self, n: u64) {
        loop {
            let mut grew = pin!(self.held_grew.notified());
            grew.as_mut().enable();
            if self.held() >= n {
                return;
            }
            grew.await;
        }
    }
}

struct Held<'a>(&'a AtomicU64);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt as _;
    use std::sync::Arc;

    #[test]
    fn every_fault_round_trips() {
        for fault in [
            SimFault::Restore,
            SimFault::Down,
            SimFault::Blackhole,
            SimFault::Http503,
            SimFault::Latency(Duration::ZERO),
            SimFault::Latency(Duration::from_micros(1500)),
            SimFault::Degraded,
            SimFault::CrossCluster,
        ] {
            assert_eq!(decode(encode(fault)), fault);
        }
        let huge = decode(encode(SimFault::Latency(Duration::MAX)));
        assert_eq!(huge, SimFault::Latency(Duration::from_nanos(NANOS_MASK)));
    }

    #[tokio::test]
    async fn blackhole_holds_until_the_fault_changes() {
        let cell = Arc::new(FaultCell::default());
        assert_eq!(cell.pass_blackhole().await, SimFault::Restore);

        cell.set(SimFault::Blackhole);
        let held = tokio::spawn({
            let cell = cell.clone();
            async move { cell.pass_blackhole().await }
        });
        cell.wait_held(1).await;
        assert!(!held.is_finished());

        cell.set(SimFault::Http503);
        assert_eq!(held.await.unwrap(), SimFault::Http503);
        assert_eq!(cell.held(), 0);
    }

    #[tokio::test]
    async fn a_dropped_hold_is_uncounted() {
        let cell = FaultCell::default();
        cell.set(SimFault::Blackhole);
        {
            let mut hold = pin!(cell.pass_blackhole());
            assert_eq!(hold.as_mut().now_or_never(), None);
            assert_eq!(cell.held(), 1);
        }
        assert_eq!(cell.held(), 0);
    }
}
