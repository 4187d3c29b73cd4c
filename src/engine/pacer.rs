//! The open model's clock. One OS thread per run sleeps until each intended
//! send and hands the slot number to its lane. tokio's timer wheel fires on
//! 1 ms ticks, so a lane sleeping on it sends up to a millisecond after the
//! intended instant, and that lag lands in every latency measured from the
//! intended time; `std::thread::sleep` uses the kernel's high-resolution
//! timer (tens of µs late), so the lag left is the generator's real one.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::engine::schedule::Schedule;

/// Longest single sleep, so an interrupt is noticed promptly.
const MAX_NAP: Duration = Duration::from_millis(20);

/// One lane's open-model slots.
pub struct PacedLane {
    pub first: u64,
    pub stride: u64,
    pub rate: f64,
    /// Slot numbers are sent here when due.
    pub slots: UnboundedSender<u64>,
}

/// Starts the pacer for `lanes`, all anchored at `start`, sending every slot
/// intended before `start + end`. It ends by itself after the last slot, on
/// `stop`, or when every lane has gone.
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

fn pace(lanes: Vec<PacedLane>, start: Instant, end: Duration, stop: CancellationToken) {
    let mut due: BinaryHeap<Reverse<(Duration, usize, u64)>> = lanes
        .iter()
        .enumerate()
        .map(|(i, l)| Reverse((Schedule::slot_offset(l.rate, l.first), i, l.first)))
        .filter(|Reverse((offset, ..))| *offset < end)
        .collect();
    while let Some(&Reverse((offset, lane, slot))) = due.peek() {
        if stop.is_cancelled() {
            return;
        }
        let at = start + offset;
        let now = Instant::now();
        if at > now {
            std::thread::sleep((at - now).min(MAX_NAP));
            continue;
        }
        due.pop();
        let l = &lanes[lane];
        if l.slots.send(slot).is_err() {
            continue; // the lane has ended (interrupt): drop its schedule
        }
        let next = slot + l.stride;
        let next_offset = Schedule::slot_offset(l.rate, next);
        if next_offset < end {
            due.push(Reverse((next_offset, lane, next)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    #[test]
    fn sends_every_slot_in_order_near_its_time() {
        let (tx0, mut rx0) = unbounded_channel();
        let (tx1, mut rx1) = unbounded_channel();
        let lanes = vec![
            PacedLane {
                first: 0,
                stride: 2,
                rate: 1000.0,
                slots: tx0,
            },
            PacedLane {
                first: 1,
                stride: 2,
                rate: 1000.0,
                slots: tx1,
            },
        ];
        let start = Instant::now() + Duration::from_millis(5);
        let handle = spawn_pacer(
            lanes,
            start,
            Duration::from_millis(50),
            CancellationToken::new(),
        )
        .unwrap();
        let mut got0 = Vec::new();
        while let Some(slot) = rx0.blocking_recv() {
            got0.push(slot);
            // Slot n is due at start + n ms; it must not come early.
            assert!(Instant::now() >= start + Duration::from_millis(slot));
        }
        let mut got1 = Vec::new();
        while let Some(slot) = rx1.blocking_recv() {
            got1.push(slot);
        }
        handle.join().unwrap();
        assert_eq!(got0, (0..50).step_by(2).collect::<Vec<_>>());
        assert_eq!(got1, (1..50).step_by(2).collect::<Vec<_>>());
    }

    #[test]
    fn stops_when_cancelled() {
        let (tx, _rx) = unbounded_channel();
        let stop = CancellationToken::new();
        let lanes = vec![PacedLane {
            first: 0,
            stride: 1,
            rate: 1.0,
            slots: tx,
        }];
        let handle = spawn_pacer(
            lanes,
            Instant::now(),
            Duration::from_secs(3600),
            stop.clone(),
        )
        .unwrap();
        stop.cancel();
        handle.join().unwrap();
    }
}
