//! The open model's release path: the pacer releasing due slots to its
//! lanes and a lane taking them, beside a floor of the same number of slot
//! numbers sent one by one over a tokio channel with no schedule (how the
//! pacer released them before the watermarks). `release` starts the pacer
//! with every slot already due (its start in the past), so it releases as
//! fast as it can: the cost per slot, not the sleeping, is what is
//! measured.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meshdrill::engine::pacer::{PacedLane, SlotRelease, spawn_pacer};
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
                            rate: RATE * lanes as f64,
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

criterion_group!(benches, release);
criterion_main!(benches);
