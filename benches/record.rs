//! Recording's cost, each beside its floor: an outcome into a lane's
//! [`Shard`] against the bare HdrHistogram record it cannot avoid, and the
//! recorder's once-a-second merge of the lanes' seconds against adding
//! their histograms. Read the ratios, not the absolute times. Inputs are
//! seeded, so every run measures the same outcomes.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meshdrill::record::{SecondStats, Shard, new_histogram};

mod common;
use common::{lane_seconds, outcomes};

fn record(c: &mut Criterion) {
    let batch = outcomes(3);
    let mut group = c.benchmark_group("record");
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function(BenchmarkId::new("shard", "1000 outcomes"), |b| {
        let mut shard = Shard::default();
        b.iter(|| {
            for o in &batch {
                shard.record(black_box(o));
            }
            // Hand the second off as the lane's tick does, so the shard
            // does not grow with the iterations.
            black_box(shard.take_before(4));
        })
    });
    group.bench_function(BenchmarkId::new("floor: histogram", "1000 outcomes"), |b| {
        let mut histogram = new_histogram();
        b.iter(|| {
            for o in &batch {
                histogram.saturating_record(black_box(o.latency_us));
            }
            histogram.reset();
        })
    });
    group.finish();
}

fn merge(c: &mut Criterion) {
    // What the recorder merges each second: one second from each of two
    // lanes (this machine's default), 1,000 outcomes each.
    let lanes = lane_seconds(2);
    let mut group = c.benchmark_group("merge");
    group.bench_function(BenchmarkId::new("second", "2 lanes"), |b| {
        b.iter(|| {
            let mut merged = SecondStats::new();
            for lane in &lanes {
                merged.merge(black_box(lane));
            }
            black_box(merged)
        })
    });
    group.bench_function(BenchmarkId::new("floor: histograms", "2 lanes"), |b| {
        b.iter(|| {
            let mut merged = new_histogram();
            for lane in &lanes {
                merged.add(black_box(&lane.latency)).expect("same bounds");
            }
            black_box(merged)
        })
    });
    group.finish();
}

criterion_group!(benches, record, merge);
criterion_main!(benches);
