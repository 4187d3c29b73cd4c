//! `meshdrill report DIR` with another recovery rule than the run's never
//! touches the run's files: it writes a complete re-judged set of its own,
//! every report.html states the rule it was judged by, and a summary.json
//! whose `slo` or `recovery` cannot be read is an error, never "no SLOs".

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;

fn meshdrill(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .args(args)
        .output()
        .unwrap()
}

/// A 6 s drill whose primary is down from 1 s to 3 s: recovered after 1 good
/// second (the run's rule), never within 20 (the re-judgement's).
fn write_scenario(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("drill.toml");
    std::fs::write(
        &path,
        r#"
[[target]]
name = "primary"
url = "sim:primary"
[[target]]
name = "secondary"
url = "sim:secondary"
[load]
rate = 20
duration = "6s"
# About re-judging, not the generator: a loaded machine must not make it INVALID.
max_late_pct = 50
[[fault]]
name = "primary-down"
target = "primary"
sim = "down"
at = "1s"
restore_at = "3s"
[recovery]
window = "1s"
threshold = 99.0
[slo.target.primary]
rto_max = "5s"
"#,
    )
    .unwrap();
    path
}

/// Every file directly in `dir` (not in subfolders), by name, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

fn exit_of(status: &serde_json::Value) -> Option<i32> {
    match status.as_str() {
        Some("pass") | Some("no_slo") => Some(0),
        Some("fail") => Some(1),
        Some("invalid") => Some(4),
        other => panic!("verdict status {other:?}"),
    }
}

#[test]
fn another_rule_writes_its_own_folder_and_leaves_the_run_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path());
    let out = dir.path().join("out");
    let run = run_quiet(&scenario, &out);
    let run_text = String::from_utf8_lossy(&run.stdout).into_owned();
    let run_summary = summary(&out);
    let judged = judged_unless_generator_limited(run.status.code(), 0, &run_summary, &run_text);
    let out_s = out.to_str().unwrap();

    // The run's own rule, spelled out: judged in place, no new folder.
    let same = meshdrill(&["report", out_s, "--window", "1s", "--threshold", "99"]);
    assert_eq!(same.status.code(), run.status.code());
    assert!(
        std::fs::read_dir(&out)
            .unwrap()
            .all(|e| e.unwrap().path().is_file()),
        "the run's own rule wrote a subfolder"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("Recovery rule: recovered = 1 s in a row at ≥ 99 % availability."),
        "{html}"
    );
    assert!(!html.contains("Re-judgement"));

    let before = files(&out);
    for name in [
        "summary.json",
        "report.html",
        "availability.svg",
        "availability.png",
        "latency.svg",
        "clusters.png",
    ] {
        assert!(
            before.contains_key(name),
            "{name} missing: {:?}",
            before.keys()
        );
    }
    let rejudge = meshdrill(&["report", out_s, "--window", "20s"]);
    let text = String::from_utf8_lossy(&rejudge.stdout).into_owned();
    assert!(
        files(&out) == before,
        "the run's files changed under a re-judgement"
    );
    let new = out.join("rejudged-window-20s-threshold-99");
    assert!(
        text.contains(&format!("written to: {}", new.display())),
        "{text}"
    );
    assert!(text.contains("recovered = 20 s in a row"), "{text}");
    let written = files(&new);
    let mut names: Vec<&str> = written.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "availability.png",
            "availability.svg",
            "clusters.png",
            "clusters.svg",
            "latency.png",
            "latency.svg",
            "outcomes.png",
            "outcomes.svg",
            "report.html",
            "summary.json",
            "summary.md",
        ]
    );
    let new_summary = summary(&new);
    assert_eq!(
        new_summary["recovery"],
        serde_json::json!({"window": 20, "threshold_pct": 99.0})
    );
    assert_eq!(
        new_summary["rejudged_from"],
        serde_json::json!({"dir": out_s, "recovery": {"window": 1, "threshold_pct": 99.0}})
    );
    // The exit code is the new summary's verdict, not the run's.
    assert_eq!(
        rejudge.status.code(),
        exit_of(&new_summary["verdict"]["status"]),
        "{text}"
    );
    if judged {
        assert_eq!(run_summary["verdict"]["status"], "pass", "{run_text}");
        assert_eq!(new_summary["verdict"]["status"], "fail", "{text}");
        assert_eq!(
            new_summary["outages"][0]["scopes"][0]["recovery"]["state"],
            "not_recovered"
        );
        assert!(text.contains("verdict: FAIL"), "{text}");
    }
    let html = std::fs::read_to_string(new.join("report.html")).unwrap();
    assert!(
        html.contains("Recovery rule: recovered = 20 s in a row at ≥ 99 % availability."),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "Re-judgement of {out_s} with a different rule than the run's (the run was judged with recovered = 1 s in a row at ≥ 99 % availability)"
        )),
        "{html}"
    );
    if judged {
        assert!(
            html.contains("<span class=\"fail\">FAIL</span></h1>"),
            "{html}"
        );
    }

    // A second re-judgement into the same folder is refused, then replaces it with --force.
    let again = meshdrill(&["report", out_s, "--window", "20s", "--threshold", "99"]);
    assert_eq!(again.status.code(), Some(2));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("holds an earlier run"), "{err}");
    let forced = meshdrill(&["report", out_s, "--window", "20s", "--force"]);
    assert_eq!(forced.status.code(), rejudge.status.code());
    assert_eq!(summary(&new)["recovery"]["window"], 20);

    // --out elsewhere; --out the run's own folder with another rule is refused.
    let elsewhere = dir.path().join("wide");
    let wide = meshdrill(&[
        "report",
        out_s,
        "--threshold",
        "50",
        "--out",
        elsewhere.to_str().unwrap(),
    ]);
    assert_eq!(
        wide.status.code(),
        exit_of(&summary(&elsewhere)["verdict"]["status"])
    );
    assert_eq!(summary(&elsewhere)["recovery"]["threshold_pct"], 50.0);
    let own = meshdrill(&["report", out_s, "--window", "3s", "--out", out_s]);
    assert_eq!(own.status.code(), Some(2));
    assert!(files(&out) == before, "--out DIR touched the run's files");
}

#[test]
fn a_malformed_slo_or_recovery_is_an_error_naming_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path());
    let out = dir.path().join("out");
    let run = run_quiet(&scenario, &out);
    assert!(
        matches!(run.status.code(), Some(0 | 4)),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let good = summary(&out);
    let path = out.join("summary.json");
    for (key, bad) in [
        ("slo", serde_json::json!("garbage")),
        ("slo", serde_json::json!({"targets": 3})),
        ("recovery", serde_json::json!({"window": "five"})),
    ] {
        let mut corrupted = good.clone();
        corrupted[key] = bad.clone();
        std::fs::write(&path, serde_json::to_vec(&corrupted).unwrap()).unwrap();
        let report = meshdrill(&["report", out.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&report.stderr);
        assert_eq!(report.status.code(), Some(3), "{key} = {bad}: {err}");
        assert!(
            err.contains(&format!("{}: key `{key}` is malformed", path.display())),
            "{err}"
        );
        assert!(report.stdout.is_empty(), "judged anyway");
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("slo");
    std::fs::write(&path, serde_json::to_vec(&missing).unwrap()).unwrap();
    let report = meshdrill(&["report", out.to_str().unwrap()]);
    assert_eq!(report.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&report.stderr).contains("key `slo` is missing"));
}
