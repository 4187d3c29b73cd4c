//! The open model's release path: the pacer releasing due slots to its
//! lanes and a lane taking them, beside a floor of the same number of slot
//! numbers sent one by one over a tokio channel with no schedule (how the
//! pacer released them before the watermarks). `release` starts the pacer
//! with every slot already due (its start in the past), so it releases as
//! fast as it can: the cost per slot, not the sleeping, is what is
//! measured. `slot_offset` times the schedule itself, per slot: the flat
//! profile (one division), beside a 16-stage ramp (a binary search over the
//! pieces and a square root) and the bare `i / rate` as the floor.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meshdrill::engine::pacer::{PacedLane, SlotRelease, spawn_pacer};
use meshdrill::engine::profile::LoadProfile;
use meshdrill::engine::schedule::Schedule;
use meshdrill::scenario::LoadStage;
use tokio::sync::mpsc::unbounded_channel;
use tokio_util::sync::CancellationToken;

const RATE: f64 = 10_000.0;
const SLOTS: u64 = 10_000;

fn release(c: &mut Criterion) {
    let mut group = c.benchmark_group("pacer");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    group.throughput(Throughput::Elements(SLOTS));
    for lanes in [1u64, 2] {
        group.bench_function(BenchmarkId::new("release", format!("{lanes} lanes")), |b| {
            b.iter(|| {
                let mut releases = Vec::new();
                let paced = (0..lanes)
                    .map(|first| {
                        let release = SlotRelease::new();
                        releases.push(release.clone());
                        PacedLane {
                            first,
                            stride: lanes,
                            profile: LoadProfile::Flat(RATE * lanes as f64),
                            release,
                        }
                    })
                    .collect();
                // SLOTS slots at RATE per lane, all already due.
                let end = Duration::from_secs_f64(SLOTS as f64 / (RATE * lanes as f64));
                let start = Instant::now() - end - Duration::from_secs(1);
                let pacer =
                    spawn_pacer(paced, start, end, CancellationToken::new()).expect("pacer thread");
                let got = rt.block_on(async {
                    let mut got = 0u64;
                    for (first, release) in releases.iter().enumerate() {
                        let mut slot = first as u64;
                        while release.released(slot).await {
                            got += black_box(slot) & 1;
                            slot += lanes;
                        }
                    }
                    got
                });
                pacer.join().expect("pacer");
                got
            })
        });
    }
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
