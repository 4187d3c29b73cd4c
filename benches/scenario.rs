//! Compiling a scenario (read with lines for messages, overrides, every
//! check, interpolation) beside a floor: the TOML parse of the same text
//! alone. Inputs: every scenario in `scenarios/`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use meshdrill::scenario::{Overrides, parse};

fn scenarios() -> Vec<(String, String)> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"));
    let mut found: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("scenario"))
        })
        .collect();
    found.sort();
    found
}

fn compile(c: &mut Criterion) {
    // A fixed environment, so `${VAR}` defaults are what is measured.
    let env = |_: &str| None;
    let mut group = c.benchmark_group("scenario");
    for (name, text) in scenarios() {
        let source = Path::new("bench.toml");
        // A scenario that needs a variable without a default does not
        // compile here; its parse is still worth a number.
        if parse(&text, source, &Overrides::default(), &env).is_ok() {
            group.bench_function(BenchmarkId::new("compile", &name), |b| {
                b.iter(|| parse(black_box(&text), source, &Overrides::default(), &env))
            });
        }
        group.bench_function(BenchmarkId::new("floor: toml parse", &name), |b| {
            b.iter(|| black_box(&text).parse::<toml::Table>())
        });
    }
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
