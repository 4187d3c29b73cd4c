//! Every fixture in `shared/fixtures/bookinfo/manifest.json`, classified with
//! its manifest status and headers, must read exactly as the manifest says:
//! class, reviews version, stars, colour, pod, cluster, degraded backends,
//! template and Envoy's flags. Adding a fixture to the manifest adds a case.

mod classify_support;

use meshdrill::classify::{Classifier, ClassifyConfig, Reading};

use classify_support::{fixtures, mismatches};

#[test]
fn every_fixture_reads_as_its_manifest_says() {
    let fixtures = fixtures();
    let mut classifier = Classifier::new(&ClassifyConfig::default());
    let mut problems = Vec::new();
    for f in &fixtures {
        let (kind, page) = classifier.classify(f.status, &f.header_map(), &f.body);
        let reading = Reading::new(f.file.clone(), kind, &page, &classifier);
        let actual = serde_json::to_value(&reading).expect("reading serializes");
        problems.extend(mismatches(&f.file, &f.expected, &actual));
    }
    assert!(
        problems.is_empty(),
        "{} of {} fixtures misread:\n{}",
        problems.len(),
        fixtures.len(),
        problems.join("\n")
    );
}

/// A fresh classifier reads each fixture the same as one that has seen them
/// all (pod and cluster tables only intern, never change an answer).
#[test]
fn answers_do_not_depend_on_what_the_lane_saw_before() {
    let fixtures = fixtures();
    let mut shared = Classifier::new(&ClassifyConfig::default());
    for f in fixtures.iter().chain(fixtures.iter().rev()) {
        let mut fresh = Classifier::new(&ClassifyConfig::default());
        let (k1, p1) = fresh.classify(f.status, &f.header_map(), &f.body);
        let (k2, p2) = shared.classify(f.status, &f.header_map(), &f.body);
        assert_eq!(
            Reading::new(&*f.file, k1, &p1, &fresh),
            Reading::new(&*f.file, k2, &p2, &shared),
            "{}",
            f.file
        );
    }
}
