//! The CI reports of a real run against the simulator: `--junit` on `run`,
//! `report` and `compare` validates (`xmllint --schema`) against the
//! Jenkins JUnit schema committed in tests/data/ with exactly one test case
//! per criterion, INVALID as an `<error>` in each; summary.md is in every
//! kind of results folder (a run's, re-judged in place, re-judged with
//! another rule, rebuilt) and is appended to `$GITHUB_STEP_SUMMARY` when
//! set; and a report that cannot be written is said on stderr without
//! changing the exit code.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use meshdrill::results::Results;
use meshdrill::results::verdict::VerdictStatus;

const SCENARIO: &str = r#"
name = "demo-junit"
[[target]]
name = "primary"
url = "sim:primary"
[[target]]
name = "secondary"
url = "sim:secondary"
[load]
rate = 20
duration = "6s"
# About the reports, not the generator: a loaded machine must not make it INVALID.
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
rto_max = "1s"
[slo.target.secondary]
availability_min = 100.0
max_failed_requests = 0
p99_max = "5s"
"#;

fn meshdrill() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_meshdrill"));
    // Only the tests that set it append to a step summary.
    c.env_remove("GITHUB_STEP_SUMMARY");
    c
}

struct Run {
    _dir: tempfile::TempDir,
    root: PathBuf,
    out: PathBuf,
    output: Output,
}

/// One run, with `--junit` and a step summary, for every test of this file.
fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let scenario = root.join("demo-junit.toml");
        std::fs::write(&scenario, SCENARIO).unwrap();
        let out = root.join("run");
        let output = meshdrill()
            .arg("run")
            .arg(&scenario)
            .args(["--quiet", "--out"])
            .arg(&out)
            .arg("--junit")
            .arg(root.join("run.xml"))
            .env("GITHUB_STEP_SUMMARY", root.join("step-summary.md"))
            .output()
            .unwrap();
        // rto_max = 1s fails a 2 s outage; INVALID on a machine that could not pace it.
        assert!(
            matches!(output.status.code(), Some(1) | Some(4)),
            "{}",
            common::output_text(&output)
        );
        Run {
            _dir: dir,
            root,
            out,
            output,
        }
    })
}

/// `xmllint --schema tests/data/junit-10.xsd FILE` passes.
#[track_caller]
fn validates(file: &Path) {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit-10.xsd");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(file)
        .output()
        .expect("xmllint (Debian package libxml2-utils; .ci/run installs it)");
    assert!(
        out.status.success(),
        "{} does not validate against {}:\n{}\n{}",
        file.display(),
        xsd.display(),
        common::output_text(&out),
        std::fs::read_to_string(file).unwrap_or_default()
    );
}

/// (test case name, the tag of its result child if any, that child's message).
fn cases(file: &Path) -> Vec<(String, Option<String>, Option<String>)> {
    let xml = std::fs::read_to_string(file).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| {
            let child = n.children().find(|c| c.is_element());
            (
                n.attribute("name").unwrap().to_string(),
                child.map(|c| c.tag_name().name().to_string()),
                child.and_then(|c| c.attribute("message").map(String::from)),
            )
        })
        .collect()
}

fn summary(dir: &Path) -> meshdrill::results::Summary {
    Results::load(dir).unwrap().summary
}

#[test]
fn run_and_report_junit_validate_with_one_case_per_criterion() {
    let r = run();
    let file = r.root.join("run.xml");
    validates(&file);
    let s = summary(&r.out);
    let verdict = s.verdict.as_ref().unwrap();
    let found = cases(&file);
    assert_eq!(found.len(), verdict.criteria.len(), "{found:?}");
    for (case, c) in found.iter().zip(&verdict.criteria) {
        assert_eq!(case.0, format!("{} [{}]", c.name, c.scope));
        match verdict.status {
            VerdictStatus::Invalid => {
                assert_eq!(case.1.as_deref(), Some("error"), "{case:?}");
                assert!(
                    case.2.as_deref().unwrap().starts_with("INVALID: "),
                    "{case:?}"
                );
            }
            _ if c.pass => assert_eq!(case.1, None, "{case:?}"),
            _ => {
                assert_eq!(case.1.as_deref(), Some("failure"), "{case:?}");
                assert_eq!(
                    case.2.as_deref(),
                    Some(format!("measured {}, threshold {}", c.measured, c.threshold).as_str())
                );
            }
        }
    }
    if verdict.status == VerdictStatus::Fail {
        assert!(
            found
                .iter()
                .any(|c| c.0 == "rto_max [primary]" && c.1.as_deref() == Some("failure"))
        );
    }
    let xml = std::fs::read_to_string(&file).unwrap();
    assert!(
        xml.contains("<property name=\"rto.primary-down.primary\" value=\""),
        "{xml}"
    );

    // `report DIR --junit`: the same criteria, the same cases.
    let report_file = r.root.join("report.xml");
    let out = meshdrill()
        .arg("report")
        .arg(&r.out)
        .arg("--junit")
        .arg(&report_file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        r.output.status.code(),
        "{}",
        common::output_text(&out)
    );
    validates(&report_file);
    assert_eq!(cases(&report_file), found);
}

#[test]
fn an_invalid_run_is_an_error_in_every_case_and_still_validates() {
    let r = run();
    let mut s = summary(&r.out);
    let verdict = s.verdict.as_mut().unwrap();
    verdict.status = VerdictStatus::Invalid;
    verdict.generator.invalid =
        vec!["primary: 40 % of requests were sent late <& \"quoted\">".into()];
    let file = r.root.join("invalid.xml");
    meshdrill::report::junit::write(&file, &[meshdrill::report::junit::verdict_suite(&s)]).unwrap();
    validates(&file);
    let found = cases(&file);
    assert_eq!(found.len(), verdict_len(&s));
    for case in &found {
        assert_eq!(case.1.as_deref(), Some("error"), "{case:?}");
        assert_eq!(
            case.2.as_deref(),
            Some("INVALID: primary: 40 % of requests were sent late <& \"quoted\">")
        );
    }
}

fn verdict_len(s: &meshdrill::results::Summary) -> usize {
    s.verdict.as_ref().unwrap().criteria.len()
}

#[test]
fn compare_junit_validates_with_one_case_per_gated_metric() {
    let r = run();
    let file = r.root.join("compare.xml");
    let out = meshdrill()
        .arg("compare")
        .args([&r.out, &r.out])
        .arg("--junit")
        .arg(&file)
        .output()
        .unwrap();
    let invalid = summary(&r.out).verdict.unwrap().status == VerdictStatus::Invalid;
    assert_eq!(
        out.status.code(),
        Some(if invalid { 4 } else { 0 }),
        "{}",
        common::output_text(&out)
    );
    validates(&file);
    let found = cases(&file);
    if invalid {
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1.as_deref(), Some("error"));
        return;
    }
    // Whole run: availability and p99 per scope (3); the fault: RTO too.
    assert_eq!(found.len(), 3 * 2 + 3 * 3, "{found:?}");
    assert!(found.iter().all(|c| c.1.is_none()), "{found:?}");
    assert!(found.iter().any(|c| c.0 == "RTO primary-down/primary"));
}

#[test]
fn summary_md_is_in_every_results_folder_and_in_the_step_summary() {
    let r = run();
    let md = std::fs::read_to_string(r.out.join("summary.md")).unwrap();
    let s = summary(&r.out);
    let word = s.verdict.as_ref().unwrap().status.word();
    assert!(
        md.starts_with(&format!("## meshdrill demo-junit — {word}\n")),
        "{md}"
    );
    for needle in [
        "### RTO per fault",
        "| primary-down |",
        "### Criteria",
        "| rto\\_max | primary |",
        "### Failures by kind",
        "### primary\n",
        "### secondary\n",
    ] {
        assert!(md.contains(needle), "{needle:?} not in:\n{md}");
    }
    // The run appended the same text to $GITHUB_STEP_SUMMARY.
    let step = std::fs::read_to_string(r.root.join("step-summary.md")).unwrap();
    assert_eq!(step, format!("{md}\n"));

    // Re-judged in place: rewritten, and appended again.
    let step_file = r.root.join("step-report.md");
    std::fs::write(&step_file, "earlier step\n").unwrap();
    let out = meshdrill()
        .arg("report")
        .arg(&r.out)
        .env("GITHUB_STEP_SUMMARY", &step_file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        r.output.status.code(),
        "{}",
        common::output_text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(r.out.join("summary.md")).unwrap(),
        md
    );
    let step = std::fs::read_to_string(&step_file).unwrap();
    assert_eq!(step, format!("earlier step\n{md}\n"));

    // Re-judged with another rule: in its own folder, saying so.
    let out = meshdrill()
        .arg("report")
        .arg(&r.out)
        .args(["--window", "2s", "--out"])
        .arg(r.root.join("rejudged"))
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(1) | Some(4)),
        "{}",
        common::output_text(&out)
    );
    let rejudged = std::fs::read_to_string(r.root.join("rejudged/summary.md")).unwrap();
    assert!(rejudged.contains("Re-judged from "), "{rejudged}");
    assert!(rejudged.contains("recovered = 2 s in a row"), "{rejudged}");

    // Rebuilt (no summary.json): written beside the rebuilt summary.
    let rebuilt = r.root.join("rebuilt");
    std::fs::create_dir(&rebuilt).unwrap();
    for entry in std::fs::read_dir(&r.out).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_file() && name != "summary.json" && name != "summary.md" {
            std::fs::copy(&path, rebuilt.join(&name)).unwrap();
        }
    }
    let out = meshdrill().arg("report").arg(&rebuilt).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(1) | Some(4)),
        "{}",
        common::output_text(&out)
    );
    let md = std::fs::read_to_string(rebuilt.join("summary.md")).unwrap();
    assert!(md.contains("**REBUILT** from the per-second files"), "{md}");
}

#[test]
fn a_report_that_cannot_be_written_never_changes_the_exit_code() {
    let r = run();
    let expected = r.output.status.code();
    // JUnit into a folder that does not exist, the step summary at a folder.
    let out = meshdrill()
        .arg("report")
        .arg(&r.out)
        .arg("--junit")
        .arg(r.root.join("no-such-folder/report.xml"))
        .env("GITHUB_STEP_SUMMARY", &r.root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), expected, "{}", common::output_text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("meshdrill: JUnit not written: "),
        "{}",
        common::output_text(&out)
    );
    assert!(
        stderr.contains("meshdrill: step summary not written: "),
        "{}",
        common::output_text(&out)
    );

    // summary.md that cannot be replaced (a folder is in its place).
    let blocked = r.root.join("blocked");
    std::fs::create_dir(&blocked).unwrap();
    for entry in std::fs::read_dir(&r.out).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && path.file_name().unwrap() != "summary.md" {
            std::fs::copy(&path, blocked.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::create_dir(blocked.join("summary.md")).unwrap();
    std::fs::write(blocked.join("summary.md/keep"), "x").unwrap();
    let out = meshdrill().arg("report").arg(&blocked).output().unwrap();
    assert_eq!(out.status.code(), expected, "{}", common::output_text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("meshdrill: summary.md not written: "),
        "{}",
        common::output_text(&out)
    );

    // compare: Markdown and JUnit both unwritable, the exit code is the comparison's.
    let out = meshdrill()
        .arg("compare")
        .args([&r.out, &r.out])
        .arg("--markdown")
        .arg(r.root.join("no-such-folder/compare.md"))
        .arg("--junit")
        .arg(r.root.join("no-such-folder/compare.xml"))
        .output()
        .unwrap();
    let invalid = summary(&r.out).verdict.unwrap().status == VerdictStatus::Invalid;
    assert_eq!(
        out.status.code(),
        Some(if invalid { 4 } else { 0 }),
        "{}",
        common::output_text(&out)
    );
    if !invalid {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("meshdrill: Markdown not written: "),
            "{}",
            common::output_text(&out)
        );
        assert!(
            stderr.contains("meshdrill: JUnit not written: "),
            "{}",
            common::output_text(&out)
        );
    }
}
