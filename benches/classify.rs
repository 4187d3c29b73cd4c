//! The classifier's cost per page, beside a floor: one `memmem` pass over
//! the same bytes (counting `glyphicon-star`, the operators' grep). Read the
//! ratio `classify/<page>` ÷ `floor/<page>` (goal ≤ 3), never the absolute
//! times. Inputs: every fixture in `../shared/fixtures/bookinfo`, with its
//! manifest status and headers.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hyper::HeaderMap;
use hyper::header::{HeaderName, HeaderValue};
use memchr::memmem::Finder;
use meshdrill::classify::{Classifier, ClassifyConfig};

struct Input {
    name: String,
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn inputs() -> Vec<Input> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/bookinfo"
    ));
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap_or_else(|e| {
        panic!(
            "the classify bench needs {}: {e}",
            dir.join("manifest.json").display()
        )
    });
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest.json");
    let fixtures = manifest["fixtures"].as_array().expect("fixtures");
    fixtures
        .iter()
        .map(|m| {
            let file = m["file"].as_str().expect("file");
            let mut headers = HeaderMap::new();
            for (k, v) in m["headers"].as_object().expect("headers") {
                headers.append(
                    HeaderName::from_bytes(k.as_bytes()).expect("name"),
                    HeaderValue::from_str(v.as_str().expect("value")).expect("value"),
                );
            }
            let name = file.rsplit('/').next().unwrap_or(file);
            Input {
                name: name.split('.').next().unwrap_or(name).to_string(),
                status: m["http_status"].as_u64().expect("status") as u16,
                headers,
                body: std::fs::read(dir.join(file)).expect("fixture"),
            }
        })
        .collect()
}

fn classify(c: &mut Criterion) {
    let inputs = inputs();
    let floor = Finder::new("glyphicon-star");
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
