//! The open model's clock. One OS thread per run sleeps until the next
//! intended send and, each time it wakes, releases to every lane all of its
//! slots that are due by then in one go: per lane an atomic "every slot
//! below N is due" watermark ([`SlotRelease`]), and one wake of the lane
//! only when it is parked waiting for a slot. The lane then takes the due
//! slots one by one with no further synchronisation, so the cross-thread
//! cost is per pacer wake, not per request; and as two releases are at
//! least [`MIN_NAP`] apart, wakes per second stop growing above 10000/s, so
//! the cost per request falls as the rate rises past that.
//!
//! tokio's timer wheel fires on 1 ms ticks, so a lane sleeping on it sends
//! up to a millisecond after the intended instant, and that lag lands in
//! every latency measured from the intended time; `std::thread::sleep` uses
//! the kernel's high-resolution timer (tens of µs late), so the lag left is
//! the generator's real one. Every request's latency is still measured from
//! its own slot's intended time ([`LoadProfile::slot_offset`]), not from the
//! release. Under stages the gaps between slots change, and a stage at 0
//! has none: the pacer then sleeps (in naps of at most [`MAX_NAP`]) to the
//! next slot, or ends when the profile has no more before the end.

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;
use tokio_util::sync::CancellationToken;

use crate::engine::profile::LoadProfile;

/// Longest single sleep, so an interrupt is noticed promptly.
const MAX_NAP: Duration = Duration::from_millis(20);
/// Shortest time from one release to the next. Above 1 / MIN_NAP slots per
/// second a wake releases every slot that fell due meanwhile, so wake-ups
/// stop growing with the rate; the price is up to this much send lag (on
/// top of the kernel's), recorded as such and inside every latency, and
/// well under the millisecond the timer wheel cost. 250 µs saved ~8 % CPU
/// per request at 5000/s but raised that rate's p99 from 0.09 to 0.33 ms
/// (every request waited up to a quarter millisecond); at 100 µs the send
/// lag's p99 stays under 0.16 ms up to 10000/s.
const MIN_NAP: Duration = Duration::from_micros(100);

/// One lane's open-model slots.
pub struct PacedLane {
    pub first: u64,
    pub stride: u64,
    /// The target's load over the run clock: when each slot is intended.
    pub profile: LoadProfile,
    /// Where the pacer releases this lane's slots as they fall due.
    pub release: Arc<SlotRelease>,
}

/// One lane's released slots, shared between the pacer (which only moves
/// the watermark up) and the lane (which only reads it).
#[derive(Debug, Default)]
pub struct SlotRelease {
    /// Every slot of the lane below this number is due.
    below: AtomicU64,
    /// The pacer has ended: nothing more will be released.
    closed: AtomicBool,
    /// The lane, when it is parked waiting for a slot not yet released.
    lane: AtomicWaker,
}

impl SlotRelease {
    pub fn new() -> Arc<SlotRelease> {
        Arc::new(SlotRelease::default())
    }

    /// Ready with `true` once `slot` is due, or `false` once the pacer has
    /// ended without releasing it (interrupted).
    pub fn poll_released(&self, slot: u64, cx: &mut Context<'_>) -> Poll<bool> {
        if let Some(ready) = self.released_now(slot) {
            return Poll::Ready(ready);
        }
        self.lane.register(cx.waker());
        // The pacer may have moved between the check and the register.
        match self.released_now(slot) {
            Some(ready) => Poll::Ready(ready),
            None => Poll::Pending,
        }
    }

    /// Waits until `slot` is due (`true`) or the pacer has ended (`false`).
    pub async fn released(&self, slot: u64) -> bool {
        poll_fn(|cx| self.poll_released(slot, cx)).await
    }

    fn released_now(&self, slot: u64) -> Option<bool> {
        if slot < self.below.load(Ordering::Acquire) {
            Some(true)
        } else if self.closed.load(Ordering::Acquire) {
            // Released just before the close?
            Some(slot < self.below.load(Ordering::Acquire))
        } else {
            None
        }
    }

    /// Marks every slot below `below` due and wakes the lane if it waits.
    fn release_below(&self, below: u64) {
        self.below.store(below, Ordering::Release);
        self.lane.wake();
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.lane.wake();
    }
}

/// Starts the pacer for `lanes`, all anchored at `start`, releasing every
/// slot intended before `start + end`. It ends by itself after the last
/// slot, on `stop`, or when every lane has gone.
pub fn spawn_pacer(
    lanes: Vec<PacedLane>,
    start: Instant,
    end: Duration,
    stop: CancellationToken,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("meshdrill-pacer".into())
        .spawn(move || pace(lanes, start, end, stop))
}

/// Closes every lane's release when the pacer ends, however it ends, so no
/// lane waits for a slot that will never come.
struct CloseOnDrop<'a>(&'a [PacedLane]);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        for lane in self.0 {
            lane.release.close();
        }
    }
}

fn pace(lanes: Vec<PacedLane>, start: Instant, end: Duration, stop: CancellationToken) {
    let _close = CloseOnDrop(&lanes);
    let mut next = Releases::new(&lanes, end);
    loop {
        if stop.is_cancelled() {
            return;
        }
        let woke = Instant::now();
        let mut earliest_next = woke;
        if let Some(elapsed) = woke.checked_duration_since(start)
            && next.release_due(&lanes, elapsed)
        {
            earliest_next = woke + MIN_NAP;
        }
        let Some(soonest) = next.soonest(&lanes) else {
            return; // every slot released, or every lane gone
        };
        let at = (start + soonest).max(earliest_next);
        let now = Instant::now();
        if at > now {
            std::thread::sleep((at - now).min(MAX_NAP));
        }
    }
}

/// The pacer's own state: per lane, the next slot not yet released (`None`
/// once the lane has all of its slots or has gone).
struct Releases {
    next: Vec<Option<u64>>,
    end: Duration,
}

impl Releases {
    fn new(lanes: &[PacedLane], end: Duration) -> Releases {
        let next = lanes
            .iter()
            .map(|l| (l.profile.slot_offset(l.first) < end).then_some(l.first))
            .collect();
        Releases { next, end }
    }

    /// Releases every slot intended at or before `elapsed` (and before the
    /// end), with one store and at most one wake per lane that got any.
    /// Whether any slot was released.
    fn release_due(&mut self, lanes: &[PacedLane], elapsed: Duration) -> bool {
        let mut released = false;
        for (lane, next) in lanes.iter().zip(&mut self.next) {
            let Some(first) = *next else { continue };
            if Arc::strong_count(&lane.release) == 1 {
                *next = None; // the lane has ended (interrupt): drop its schedule
                continue;
            }
            let mut slot = first;
            let mut offset = lane.profile.slot_offset(slot);
            while offset <= elapsed && offset < self.end {
                slot += lane.stride;
                offset = lane.profile.slot_offset(slot);
            }
            if slot != first {
                lane.release.release_below(slot);
                released = true;
            }
            *next = (offset < self.end).then_some(slot);
        }
        released
    }

    /// The intended offset of the earliest slot not yet released.
    fn soonest(&self, lanes: &[PacedLane]) -> Option<Duration> {
        lanes
            .iter()
            .zip(&self.next)
            .filter_map(|(lane, next)| next.map(|slot| lane.profile.slot_offset(slot)))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::{Wake, Waker};

    /// Counts how often the lane is woken.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn lanes(count: u64, rate: f64) -> Vec<PacedLane> {
        (0..count)
            .map(|first| PacedLane {
                first,
                stride: count,
                profile: LoadProfile::Flat(rate),
                release: SlotRelease::new(),
            })
            .collect()
    }

    /// Polls `slot` on `lane` with `waker`: `Some(true)` released,
    /// `Some(false)` closed without it, `None` still waiting.
    fn poll(lane: &PacedLane, slot: u64, waker: &Waker) -> Option<bool> {
        match lane
            .release
            .poll_released(slot, &mut Context::from_waker(waker))
        {
            Poll::Ready(ready) => Some(ready),
            Poll::Pending => None,
        }
    }

    #[test]
    fn every_due_slot_is_released_in_one_wake_and_none_early() {
        // Two lanes of a 1000/s target: slot n is intended at n ms.
        let lanes = lanes(2, 1000.0);
        let _held: Vec<Arc<SlotRelease>> = lanes.iter().map(|l| l.release.clone()).collect();
        let mut releases = Releases::new(&lanes, Duration::from_millis(10));
        let wakes: Vec<Arc<Wakes>> = (0..2).map(|_| Arc::new(Wakes::default())).collect();
        let wakers: Vec<Waker> = wakes.iter().map(|w| Waker::from(w.clone())).collect();
        // Both lanes park on their first slot.
        assert_eq!(poll(&lanes[0], 0, &wakers[0]), None);
        assert_eq!(poll(&lanes[1], 1, &wakers[1]), None);

        // Woken 5.5 ms in: slots 0..=5 are due, 6 is not.
        assert!(releases.release_due(&lanes, Duration::from_micros(5_500)));
        assert_eq!(wakes[0].0.load(Ordering::SeqCst), 1);
        assert_eq!(wakes[1].0.load(Ordering::SeqCst), 1);
        for slot in [0, 2, 4] {
            assert_eq!(poll(&lanes[0], slot, &wakers[0]), Some(true));
        }
        for slot in [1, 3, 5] {
            assert_eq!(poll(&lanes[1], slot, &wakers[1]), Some(true));
        }
        assert_eq!(poll(&lanes[0], 6, &wakers[0]), None);
        assert_eq!(releases.soonest(&lanes), Some(Duration::from_millis(6)));

        // Nothing new due: no wake, though the lane is parked again.
        assert!(!releases.release_due(&lanes, Duration::from_micros(5_900)));
        assert_eq!(wakes[0].0.load(Ordering::SeqCst), 1);

        // Exactly on time is due; lane 1 is not parked, so not woken.
        assert!(releases.release_due(&lanes, Duration::from_millis(6)));
        assert_eq!(wakes[0].0.load(Ordering::SeqCst), 2);
        assert_eq!(wakes[1].0.load(Ordering::SeqCst), 1);
        assert_eq!(poll(&lanes[0], 6, &wakers[0]), Some(true));
        assert_eq!(poll(&lanes[1], 7, &wakers[1]), None);

        // Long after the end: only slots before it (0..10), then done.
        releases.release_due(&lanes, Duration::from_secs(1));
        assert_eq!(releases.soonest(&lanes), None);
        for slot in [7, 9] {
            assert_eq!(poll(&lanes[1], slot, &wakers[1]), Some(true));
        }
        assert_eq!(poll(&lanes[1], 11, &wakers[1]), None);
        lanes[1].release.close();
        assert_eq!(poll(&lanes[1], 9, &wakers[1]), Some(true));
        assert_eq!(poll(&lanes[1], 11, &wakers[1]), Some(false));
    }

    #[test]
    fn a_lane_that_has_gone_is_dropped_from_the_schedule() {
        let mut lanes = lanes(2, 1000.0);
        let mut releases = Releases::new(&lanes, Duration::from_secs(10));
        let kept = lanes[0].release.clone();
        lanes[1].release = SlotRelease::new(); // its lane never held it
        assert!(releases.release_due(&lanes, Duration::from_millis(3)));
        assert_eq!(releases.next, vec![Some(4), None]);
        drop(kept);
        assert!(!releases.release_due(&lanes, Duration::from_millis(3)));
        assert_eq!(releases.soonest(&lanes), None);
    }

    #[test]
    fn releases_every_slot_in_order_never_early() {
        let lanes = lanes(2, 1000.0);
        let held: Vec<Arc<SlotRelease>> = lanes.iter().map(|l| l.release.clone()).collect();
        let start = Instant::now() + Duration::from_millis(5);
        let handle = spawn_pacer(
            lanes,
            start,
            Duration::from_millis(50),
            CancellationToken::new(),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let got: Vec<Vec<u64>> = held
            .iter()
            .enumerate()
            .map(|(first, release)| {
                let mut got = Vec::new();
                let mut slot = first as u64;
                while rt.block_on(release.released(slot)) {
                    // Slot n is due at start + n ms; it must not come early.
                    assert!(Instant::now() >= start + Duration::from_millis(slot));
                    got.push(slot);
                    slot += 2;
                }
                got
            })
            .collect();
        handle.join().unwrap();
        assert_eq!(got[0], (0..50).step_by(2).collect::<Vec<_>>());
        assert_eq!(got[1], (1..50).step_by(2).collect::<Vec<_>>());
    }

    #[test]
    fn a_pause_in_the_stages_is_slept_over_and_the_end_of_the_slots_ends_it() {
        use crate::scenario::LoadStage;
        let stage = |ms, target| LoadStage {
            duration: Duration::from_millis(ms),
            target,
        };
        // 0 -> 1000/s over 20 ms (10 slots), 20 ms down to 0 (10 more), a
        // 30 ms pause, then 20 ms back up (10 more): 30 slots, none in the pause.
        let profile = LoadProfile::from_stages(&[
            stage(20, 1000.0),
            stage(20, 0.0),
            stage(30, 0.0),
            stage(20, 1000.0),
        ]);
        let lanes = vec![PacedLane {
            first: 0,
            stride: 1,
            profile,
            release: SlotRelease::new(),
        }];
        let _held = lanes[0].release.clone();
        let mut releases = Releases::new(&lanes, Duration::from_secs(10));
        assert!(releases.release_due(&lanes, Duration::from_millis(45)));
        // Slot 20 is the first after the pause, at 70 ms.
        assert_eq!(releases.next, vec![Some(20)]);
        assert_eq!(releases.soonest(&lanes), Some(Duration::from_millis(70)));
        assert!(!releases.release_due(&lanes, Duration::from_millis(69)));
        assert!(releases.release_due(&lanes, Duration::from_millis(200)));
        // Every slot of the profile is out, long before the end: done.
        assert_eq!(releases.next, vec![None]);
        assert_eq!(releases.soonest(&lanes), None);

        // The thread itself ends after the last slot, not at the end.
        let lanes = vec![PacedLane {
            first: 0,
            stride: 1,
            profile: LoadProfile::from_stages(&[stage(20, 1000.0), stage(20, 0.0)]),
            release: SlotRelease::new(),
        }];
        let held = lanes[0].release.clone();
        let handle = spawn_pacer(
            lanes,
            Instant::now(),
            Duration::from_secs(3600),
            CancellationToken::new(),
        )
        .unwrap();
        handle.join().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(rt.block_on(held.released(19)));
        assert!(!rt.block_on(held.released(20)));
    }

    #[test]
    fn stops_when_cancelled_and_closes_its_lanes() {
        let lanes = lanes(1, 1.0);
        let release = lanes[0].release.clone();
        let stop = CancellationToken::new();
        let handle = spawn_pacer(
            lanes,
            Instant::now(),
            Duration::from_secs(3600),
            stop.clone(),
        )
        .unwrap();
        stop.cancel();
        handle.join().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // Slot 0 was due at the start; slot 1 (at 1 s) never comes.
        assert!(!rt.block_on(release.released(1)));
    }
}
