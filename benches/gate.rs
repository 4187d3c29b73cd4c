//! The CI regression gate: instructions counted by callgrind (gungraun),
//! which a busy machine cannot change, for the hot path's three pieces:
//! classifying the 15 KB productpage (whole, and in the three chunks a
//! lane reads it in place from), recording a second's 1,000 outcomes into
//! a lane's shard, and merging two lanes' seconds. `scripts/bench-gate`
//! runs it and compares the counts with `benches/baseline/gate.json`.
//! Setup (reading the page, one classification so that the process-wide
//! marker finders are built, making the outcomes) is outside what is
//! counted: a lane builds the finders once per run, not per page.

use std::hint::black_box;
use std::path::PathBuf;

use gungraun::prelude::*;
use hyper::HeaderMap;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use meshdrill::classify::{Classifier, ClassifyConfig, Hay};
use meshdrill::outcome::Outcome;
use meshdrill::record::{SecondStats, Shard};

mod common;

struct Page {
    classifier: Classifier,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn productpage() -> Page {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/bookinfo/productpage/current__v2_ok.html"
    ));
    let body =
        std::fs::read(&path).unwrap_or_else(|e| panic!("the gate needs {}: {e}", path.display()));
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    let mut classifier = Classifier::new(&ClassifyConfig::default());
    // The finders (built once per process) and the page's pod interned.
    classifier.classify(200, &headers, &body);
    Page {
        classifier,
        headers,
        body,
    }
}

#[library_benchmark]
#[bench::productpage_v2(setup = productpage)]
fn classify(mut page: Page) -> Page {
    black_box(
        page.classifier
            .classify(200, &page.headers, black_box(&page.body)),
    );
    page
}

// The page in three chunks, cut at a third and two thirds (a 15 KB body
// reaches the lane in two or three through hyper's reads).
#[library_benchmark]
#[bench::productpage_v2_in_chunks(setup = productpage)]
fn classify_chunks(mut page: Page) -> Page {
    let (a, b) = (page.body.len() / 3, page.body.len() * 2 / 3);
    let parts = [&page.body[..a], &page.body[a..b], &page.body[b..]];
    let hay = Hay::parts(black_box(&parts)).expect("three parts");
    black_box(page.classifier.classify_parts(200, &page.headers, &hay));
    page
}

/// A shard that already holds the second (its histograms made), so what
/// is counted is recording the outcomes, not allocating per second.
fn one_second() -> (Shard, Vec<Outcome>) {
    let outcomes = common::outcomes(3);
    let mut shard = Shard::default();
    shard.record(&outcomes[0]);
    (shard, outcomes)
}

#[library_benchmark]
#[bench::one_second(setup = one_second)]
fn shard_record((mut shard, outcomes): (Shard, Vec<Outcome>)) -> Shard {
    for o in &outcomes[1..] {
        shard.record(black_box(o));
    }
    shard
}

/// Two lanes' seconds and the recorder's second they merge into.
fn two_lanes() -> (SecondStats, Vec<SecondStats>) {
    (SecondStats::new(), common::lane_seconds(2))
}

#[library_benchmark]
#[bench::two_lanes(setup = two_lanes)]
fn merge((mut merged, lanes): (SecondStats, Vec<SecondStats>)) -> SecondStats {
    for lane in &lanes {
        merged.merge(black_box(lane));
    }
    merged
}

library_benchmark_group!(
    name = hot_path,
    benchmarks = [classify, classify_chunks, shard_record, merge]
);

main!(library_benchmark_groups = hot_path);
