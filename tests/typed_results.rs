//! A results folder is read back through the types that wrote it (issue 12):
//! summary.json round-trips byte for byte, carries its schema_version and no
//! `{secs, nanos}`, plan.json is written before any traffic, and a file of
//! another version or with a renamed key is refused naming the file.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use meshdrill::results::{LoadError, PlanRecord, Results, SCHEMA_VERSION, Summary};
use meshdrill::scenario::{SloPlan, SloSpec};
use meshdrill::sim::{Cluster, SimFault};

fn meshdrill(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .args(args)
        .output()
        .unwrap()
}

/// A 3 s drill with a fault, a restore and an RTO criterion: every part of
/// summary.json (outages, window, failover, verdict, `rto_max_ms`) is filled.
async fn drill(dir: &Path) {
    let mut p = plan(
        "typed",
        vec![
            sim_target("primary", Cluster::Primary),
            sim_target("secondary", Cluster::Secondary),
        ],
        rate(20.0),
        Duration::from_secs(3),
    );
    p.faults = vec![sim_fault(
        "primary-down",
        Cluster::Primary,
        SimFault::Down,
        1000,
        Some(2000),
    )];
    p.slo = SloPlan {
        all: None,
        targets: vec![(
            "primary".to_string(),
            SloSpec {
                rto_max: Some(Duration::from_millis(5500)),
                ..SloSpec::default()
            },
        )],
    };
    run_in(p, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_summary_reads_back_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    drill(dir.path()).await;
    let bytes = std::fs::read(dir.path().join("summary.json")).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(!text.contains("\"secs\""), "a Duration got through: {text}");
    assert!(
        !text.contains("\"nanos\""),
        "a Duration got through: {text}"
    );
    assert!(text.contains("\"rto_max_ms\": 5500.0"), "{text}");
    assert!(
        text.starts_with(&format!("{{\n  \"schema_version\": {SCHEMA_VERSION},")),
        "{text}"
    );

    let summary: Summary = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(serde_json::to_vec_pretty(&summary).unwrap(), bytes);
    assert!(summary.verdict.is_some());
    assert_eq!(summary.outages.len(), 1);

    // Results::load reads the same summary, and every other file.
    let results = Results::load(dir.path()).unwrap();
    assert_eq!(results.summary, summary);
    let scopes: Vec<&str> = results
        .timeline
        .scopes
        .iter()
        .map(|s| s.scope.as_str())
        .collect();
    assert_eq!(scopes, ["primary", "secondary", "all"]);
    for scope in &results.timeline.scopes {
        assert_eq!(scope.rows.len() as u32, summary.seconds, "{}", scope.scope);
    }
    let sent: u64 = results.timeline.scopes[2].rows.iter().map(|r| r.sent).sum();
    assert_eq!(sent, summary.all.requests + summary.all.warmup_requests);
    // One interval per second per target.
    assert_eq!(
        results.hlog.intervals.len() as u32,
        2 * summary.seconds,
        "{:?}",
        results
            .hlog
            .intervals
            .iter()
            .map(|i| (&i.tag, i.second))
            .collect::<Vec<_>>()
    );
    let histogram_total: u64 = results
        .hlog
        .intervals
        .iter()
        .map(|i| i.histogram().len())
        .sum();
    assert_eq!(histogram_total, sent);
    // The fault's inject and restore, as faults.jsonl holds them.
    assert_eq!(results.journal.len(), 2, "{:?}", results.journal);

    // The judgement of the loaded folder is the one the run wrote.
    let again = meshdrill::assess::assess(&results, &summary.recovery, &summary.slo);
    assert_eq!(Some(&again.verdict), summary.verdict.as_ref());
    assert_eq!(again.outages, summary.outages);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_is_written_before_traffic_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    drill(dir.path()).await;
    let text = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    assert!(!text.contains("\"secs\""), "{text}");
    let plan = Results::load(dir.path()).unwrap().plan.expect("plan.json");
    assert_eq!(plan.schema_version, SCHEMA_VERSION);
    assert_eq!(plan.scenario.name, "typed");
    let targets: Vec<(&str, &str)> = plan
        .targets
        .iter()
        .map(|t| (t.name.as_str(), t.endpoint.as_str()))
        .collect();
    assert_eq!(
        targets,
        [
            ("primary", "sim:primary/productpage"),
            ("secondary", "sim:secondary/productpage")
        ]
    );
    assert_eq!(plan.load.model, "rate");
    assert_eq!(plan.load.rate_per_target, Some(20.0));
    assert_eq!(plan.load.duration_s, 3.0);
    assert_eq!(plan.faults.len(), 1);
    let fault = &plan.faults[0];
    assert_eq!(
        (
            fault.name.as_str(),
            fault.target.as_deref(),
            fault.planned_at_ms,
            fault.planned_restore_ms
        ),
        ("primary-down", Some("primary"), 1000.0, Some(2000.0))
    );
    assert_eq!(
        plan.slo.targets[0].1.rto_max,
        Some(Duration::from_millis(5500))
    );
    let again: PlanRecord = serde_json::from_str(&text).unwrap();
    assert_eq!(again, plan);
}

/// Replaces the first `from` in the folder's summary.json with `to`.
fn edit_summary(dir: &Path, from: &str, to: &str) {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} not in summary.json");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_schema_version_or_none_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    drill(dir.path()).await;
    let path = dir.path().join("summary.json");
    let current = format!("\"schema_version\": {SCHEMA_VERSION},");

    edit_summary(dir.path(), &current, "\"schema_version\": 7,");
    let err = Results::load(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::Schema {
                found: Some(7),
                expected: SCHEMA_VERSION,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.path(), path);
    assert_eq!(
        err.to_string(),
        format!(
            "{}: schema_version 7; this meshdrill reads schema_version {SCHEMA_VERSION} (re-run the drill, or use the meshdrill that wrote it)",
            path.display()
        )
    );
    let report = meshdrill(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(report.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&report.stderr);
    assert!(stderr.contains(&err.to_string()), "{stderr}");
    assert!(report.stdout.is_empty(), "judged anyway");

    // Version 1 had no schema_version at all.
    edit_summary(dir.path(), "\"schema_version\": 7,", "");
    let err = Results::load(dir.path()).unwrap_err();
    assert!(
        matches!(err, LoadError::Schema { found: None, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.starts_with(&format!("{}: no schema_version", path.display())));
    assert!(message.contains(&format!("reads schema_version {SCHEMA_VERSION}")));
    let report = meshdrill(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(report.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_key_fails_report_with_exit_3_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    drill(dir.path()).await;
    let path = dir.path().join("summary.json");
    let out = dir.path().to_str().unwrap();
    for (from, to, says) in [
        ("\"slo\":", "\"slos\":", "key `slo` is missing".to_string()),
        (
            "\"rto_max_ms\":",
            "\"rto_max\":",
            "key `slo` is malformed: missing field `rto_max_ms`".to_string(),
        ),
        (
            "\"abandoned_in_flight\":",
            "\"abandoned\":",
            "key `abandoned_in_flight` is missing".to_string(),
        ),
    ] {
        let original = std::fs::read(&path).unwrap();
        edit_summary(dir.path(), from, to);
        let report = meshdrill(&["report", out]);
        let stderr = String::from_utf8_lossy(&report.stderr);
        assert_eq!(report.status.code(), Some(3), "{from} → {to}: {stderr}");
        assert!(
            stderr.contains(&format!("{}: {says}", path.display())),
            "{from} → {to}: {stderr}"
        );
        assert!(report.stdout.is_empty(), "judged anyway");
        std::fs::write(&path, original).unwrap();
    }
    // Restored, the folder reads and is judged again: FAIL (not recovered
    // within the 5 s window, so the 5.5 s RTO criterion fails), exit 1; or
    // INVALID (exit 4) if a loaded machine held the generator back.
    let report = meshdrill(&["report", out]);
    assert!(matches!(report.status.code(), Some(1 | 4)), "{report:?}");
    assert!(String::from_utf8_lossy(&report.stdout).contains("verdict: "));
}

/// The schema in the repository is the one the types derive (so it cannot
/// drift), and a real run's summary.json satisfies it; a file missing a key
/// or holding a wrong type does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_json_matches_its_published_schema() {
    let copy = Path::new(env!("CARGO_MANIFEST_DIR")).join(meshdrill::results::schema::COPY);
    let published = std::fs::read_to_string(&copy).unwrap();
    assert!(
        published == meshdrill::results::schema::summary_schema_text(),
        "{} is not what the types derive: regenerate it with \
         `cargo run -- schema > {}`",
        copy.display(),
        meshdrill::results::schema::COPY
    );
    let printed = meshdrill(&["schema"]);
    assert!(printed.status.success());
    assert_eq!(String::from_utf8(printed.stdout).unwrap(), published);

    let schema: serde_json::Value = serde_json::from_str(&published).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let dir = tempfile::tempdir().unwrap();
    drill(dir.path()).await;
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&summary)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The drill filled the parts a schema could get wrong.
    assert!(summary["outages"][0]["scopes"][0]["failover"].is_object());
    assert!(summary["faults"][0]["inject_hook"].is_null());

    let mut missing = summary.clone();
    missing["targets"][0]
        .as_object_mut()
        .unwrap()
        .remove("failures");
    assert!(!validator.is_valid(&missing), "a missing key passed");
    assert!(summary["outages"][0]["scopes"][0]["recovery"]["state"].is_string());
    assert!(summary["targets"][0]["failures"].is_object());
    let mut wrong = summary.clone();
    wrong["outages"][0]["scopes"][0]["recovery"]["state"] = "healed".into();
    assert!(
        !validator.is_valid(&wrong),
        "an unknown recovery state passed"
    );
    let mut other_version = summary;
    other_version["schema_version"] = (SCHEMA_VERSION + 1).into();
    assert!(
        !validator.is_valid(&other_version),
        "another version passed"
    );
}

/// results/README.md lists every file a run writes, by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_results_readme_names_every_file_a_run_writes() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("results/README.md"))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    drill(dir.path()).await;
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 20, "{names:?}");
    for name in &names {
        assert!(
            readme.contains(&format!("`{name}`")),
            "results/README.md does not name {name}"
        );
    }
}
