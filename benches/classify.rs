//! The classifier's cost per page, beside a floor: one `memmem` pass over
//! the same bytes (counting `glyphicon-star`, the operators' grep). Read the
//! ratio `classify/<page>` ÷ `floor/<page>` (goal ≤ 3), never the absolute
//! times; `scripts/classify-ratio` gives the same ratio in instructions,
//! which a busy machine does not change. Inputs: every fixture in
//! `../shared/fixtures/bookinfo`, with its manifest status and headers.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use memchr::memmem::Finder;
use meshdrill::classify::{Classifier, ClassifyConfig};

#[path = "fixtures/mod.rs"]
mod fixtures;

use fixtures::{FLOOR_NEEDLE, inputs};

fn classify(c: &mut Criterion) {
    let inputs = inputs();
    let floor = Finder::new(FLOOR_NEEDLE);
    let mut classifier = Classifier::new(&ClassifyConfig::default());
    let mut group = c.benchmark_group("classify");
    for input in &inputs {
        group.throughput(Throughput::Bytes(input.body.len() as u64));
        group.bench_with_input(BenchmarkId::new("classify", &input.name), input, |b, i| {
            b.iter(|| classifier.classify(i.status, &i.headers, black_box(&i.body)))
        });
        group.bench_with_input(BenchmarkId::new("floor", &input.name), input, |b, i| {
            b.iter(|| floor.find_iter(black_box(&i.body)).count())
        });
    }
    group.finish();
}

criterion_group!(benches, classify);
criterion_main!(benches);
