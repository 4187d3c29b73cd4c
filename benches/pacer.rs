//! The open model's release path: a lane taking its slots from its own
//! alarm ([`Alarm::until`]) beside a floor of the same number of slot
//! numbers sent one by one over a tokio channel with no schedule (how
//! slots were released before the watermarks and the alarm). `release`
//! asks for slots that are all already due (their start in the past), so
//! it measures what the lane pays per slot when it is behind or batched,
//! not the sleeping. `slot_offset` times the schedule itself, per slot: the
//! flat profile (one division), beside a 16-stage ramp (a binary search
//! over the pieces and a square root) and the bare `i / rate` as the floor.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meshdrill::engine::alarm::Alarm;
use meshdrill::engine::profile::LoadProfile;
use meshdrill::engine::schedule::Schedule;
use meshdrill::scenario::LoadStage;
use tokio::sync::mpsc::unbounded_channel;
use tokio::time::Instant;

const RATE: f64 = 10_000.0;
const SLOTS: u64 = 10_000;

fn release(c: &mut Criterion) {
    let mut group = c.benchmark_group("pacer");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    group.throughput(Throughput::Elements(SLOTS));
    group.bench_function(BenchmarkId::new("release", "alarm, every slot due"), |b| {
        let profile = LoadProfile::Flat(RATE);
        b.iter(|| {
            rt.block_on(async {
                let mut alarm = Alarm::new().expect("timerfd");
                // SLOTS slots at RATE, all already due.
                let start = Instant::now() - Duration::from_secs_f64(SLOTS as f64 / RATE + 1.0);
                let mut got = 0u64;
                for slot in 0..SLOTS {
                    alarm.until(start + profile.slot_offset(slot)).await;
                    got += black_box(slot) & 1;
                }
                got
            })
        })
    });
    group.bench_function(BenchmarkId::new("floor: channel", "1 lane"), |b| {
        b.iter(|| {
            let (tx, mut rx) = unbounded_channel::<u64>();
            let sender = std::thread::spawn(move || {
                for slot in 0..SLOTS {
                    if tx.send(slot).is_err() {
                        break;
                    }
                }
            });
            let mut got = 0u64;
            while let Some(slot) = rx.blocking_recv() {
                got += black_box(slot) & 1;
            }
            sender.join().expect("sender");
            got
        })
    });
    group.finish();
}

/// 16 stages alternating ramps and holds between 2000/s and 18000/s,
/// about 10 s long: every slot offset of it lands in a ramp or a hold.
fn staged() -> LoadProfile {
    let stages: Vec<LoadStage> = (0..16)
        .map(|i| LoadStage {
            duration: Duration::from_millis(625),
            target: 2_000.0 + 1_000.0 * f64::from(i / 2 * 2),
        })
        .collect();
    LoadProfile::from_stages(&stages)
}

fn slot_offset(c: &mut Criterion) {
    let mut group = c.benchmark_group("slot_offset");
    group.throughput(Throughput::Elements(SLOTS));
    let flat = LoadProfile::Flat(RATE);
    let staged = staged();
    // Slots spread over the staged profile's whole length.
    let total = staged.slots_before(Duration::from_secs(3600));
    let step = (total / SLOTS).max(1);
    group.bench_function("floor: i / rate", |b| {
        b.iter(|| {
            (0..SLOTS)
                .map(|i| Schedule::slot_offset(black_box(RATE), i).as_nanos() as u64 & 1)
                .sum::<u64>()
        })
    });
    group.bench_function("flat", |b| {
        b.iter(|| {
            (0..SLOTS)
                .map(|i| black_box(&flat).slot_offset(i).as_nanos() as u64 & 1)
                .sum::<u64>()
        })
    });
    group.bench_function("16 stages", |b| {
        b.iter(|| {
            (0..SLOTS)
                .map(|i| black_box(&staged).slot_offset(i * step).as_nanos() as u64 & 1)
                .sum::<u64>()
        })
    });
    group.finish();
}

criterion_group!(benches, release, slot_offset);
criterion_main!(benches);
