//! Instructions (callgrind, through gungraun) of classifying each fixture
//! of `../shared/fixtures/bookinfo`, beside the floor `classify.rs` times:
//! one `memmem` pass over the same body. `scripts/classify-ratio` runs it
//! and prints classify ÷ floor per fixture (goal ≤ 3); counts do not change
//! with the machine's load, so the ratio is the same on a busy machine.
//! Bench `N` is the manifest's fixture `N`. Setup (reading the fixtures,
//! one classification so the marker finders are built and the pod
//! interned) is outside what is counted.

use std::hint::black_box;

use gungraun::prelude::*;
use memchr::memmem::Finder;
use meshdrill::classify::{Classifier, ClassifyConfig};

#[path = "fixtures/mod.rs"]
mod fixtures;

use fixtures::{FLOOR_NEEDLE, Input, inputs};

fn indices() -> std::ops::Range<usize> {
    0..inputs().len()
}

// Boxed, so that handing the inputs in and out is a pointer's move on
// both sides, not a copy of the classifier or the finder that would
// weigh on the smallest bodies' ratios.
fn classifier_and(i: usize) -> Box<(Classifier, Input)> {
    let input = inputs().swap_remove(i);
    let mut classifier = Classifier::new(&ClassifyConfig::default());
    classifier.classify(input.status, &input.headers, &input.body);
    Box::new((classifier, input))
}

fn finder_and(i: usize) -> Box<(Finder<'static>, Input)> {
    let input = inputs().swap_remove(i);
    let finder = Finder::new(FLOOR_NEEDLE);
    black_box(finder.find_iter(&input.body).count());
    Box::new((finder, input))
}

#[library_benchmark]
#[benches::fixture(iter = indices(), setup = classifier_and)]
fn classify(mut both: Box<(Classifier, Input)>) -> Box<(Classifier, Input)> {
    let (c, input) = &mut *both;
    black_box(c.classify(input.status, &input.headers, black_box(&input.body)));
    both
}

#[library_benchmark]
#[benches::fixture(iter = indices(), setup = finder_and)]
fn floor(both: Box<(Finder<'static>, Input)>) -> Box<(Finder<'static>, Input)> {
    let (finder, input) = &*both;
    black_box(finder.find_iter(black_box(&input.body)).count());
    both
}

library_benchmark_group!(name = per_fixture, benchmarks = [classify, floor]);

main!(library_benchmark_groups = per_fixture);
