//! `[[capture]]` (issue 16): commands run at the start (before traffic) and
//! the end (after it stopped), through the hook runner; their output kept in
//! `captures/`, indexed in captures.json (read back by `Results::load`) and
//! shown collapsed and escaped in report.html. A capture that fails, times
//! out or cannot start is reported and changes neither the exit code nor
//! the verdict.

use std::path::Path;
use std::process::Command;

use meshdrill::results::Results;

const SCENARIO: &str = r#"
name = "captures"
[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 10
duration = "2s"
max_late_pct = 50

[[capture]]
name = "dr"
argv = ["sh", "-c", "echo '<dr name=\"a&b\">'; echo \"$MESHDRILL_CAPTURE_WHEN\"; echo warn >&2"]

[[capture]]
name = "slow"
argv = ["sleep", "1011.5"]
when = "start"
timeout = "300ms"

[[capture]]
name = "missing"
argv = ["/nonexistent/meshdrill-capture"]
when = "start"

[[capture]]
name = "failing"
argv = ["sh", "-c", "echo partial; exit 3"]
when = "end"

[[capture]]
name = "big"
argv = ["sh", "-c", "head -c 70000 /dev/zero | tr '\\0' x"]
when = "end"
"#;

fn run(dir: &Path, scenario: &str) -> (std::process::Output, std::path::PathBuf) {
    run_with(dir, scenario, &[])
}

fn run_with(
    dir: &Path,
    scenario: &str,
    flags: &[&str],
) -> (std::process::Output, std::path::PathBuf) {
    let file = dir.join("captures.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = dir.join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("run")
        .arg(&file)
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .args(flags)
        .output()
        .unwrap();
    (output, out)
}

#[test]
fn captures_are_kept_indexed_and_shown_and_failures_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (output, out) = run(dir.path(), SCENARIO);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // No SLO: exit 0 whatever the captures did.
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    for expected in [
        "capture slow at the start: timed out (killed)",
        "capture missing at the start: cannot start",
        "capture failing at the end: exit 3",
    ] {
        assert!(stderr.contains(expected), "{expected:?} not in {stderr}");
    }
    assert!(!stderr.contains("capture dr "), "{stderr}");

    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    assert_eq!(read("captures/dr-start.txt"), "<dr name=\"a&b\">\nstart\n");
    assert_eq!(read("captures/dr-end.txt"), "<dr name=\"a&b\">\nend\n");
    assert_eq!(read("captures/dr-start.stderr.txt"), "warn\n");
    assert_eq!(read("captures/failing-end.txt"), "partial\n");
    assert_eq!(read("captures/slow-start.txt"), "");
    assert!(!out.join("captures/failing-end.stderr.txt").exists());

    let results = Results::load(&out).unwrap();
    assert_eq!(
        results.summary.verdict.as_ref().unwrap().status.word(),
        "NO SLO"
    );
    let runs: Vec<(&str, &str)> = results
        .captures
        .iter()
        .map(|c| (c.record.name.as_str(), c.record.when.as_str()))
        .collect();
    assert_eq!(
        runs,
        [
            ("dr", "start"),
            ("slow", "start"),
            ("missing", "start"),
            ("dr", "end"),
            ("failing", "end"),
            ("big", "end"),
        ]
    );
    let [dr, slow, missing, dr_end, failing, big] = &results.captures[..] else {
        unreachable!()
    };
    assert!(dr.record.succeeded && dr_end.record.succeeded);
    assert_eq!(dr.record.exit_code, Some(0));
    assert_eq!(dr.record.status, "exit 0");
    assert_eq!(dr.stdout, "<dr name=\"a&b\">\nstart\n");
    assert_eq!(dr.stderr, "warn\n");
    assert_eq!(
        dr.record.stderr_file.as_deref(),
        Some("captures/dr-start.stderr.txt")
    );
    assert!(!dr.record.truncated);
    assert!(dr.record.started_unix_ms <= results.summary.start_unix_ms);
    assert!(dr_end.record.started_unix_ms >= results.summary.start_unix_ms);
    assert!(slow.record.timed_out && !slow.record.succeeded);
    assert_eq!(slow.record.exit_code, None);
    assert!(slow.record.duration_ms >= 300.0, "{:?}", slow.record);
    assert!(
        missing
            .record
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("cannot start")),
        "{:?}",
        missing.record
    );
    assert_eq!(failing.record.exit_code, Some(3));
    assert_eq!(failing.record.status, "exit 3");
    assert_eq!(failing.record.stderr_file, None);
    assert!(
        big.record.succeeded && big.record.truncated,
        "{:?}",
        big.record
    );
    assert!(big.stdout.starts_with(&"x".repeat(65536)));
    assert!(big.stdout.ends_with("\n[... 4464 more bytes not kept]"));

    let json: serde_json::Value = serde_json::from_str(&read("captures.json")).unwrap();
    let first = &json["captures"][0];
    for key in [
        "name",
        "when",
        "command",
        "started_unix_ms",
        "duration_ms",
        "exit_code",
        "timed_out",
        "error",
        "status",
        "succeeded",
        "truncated",
        "stdout_file",
        "stderr_file",
    ] {
        assert!(first.get(key).is_some(), "{key} not in {first}");
    }
    assert_eq!(first["stdout_file"], "captures/dr-start.txt");

    let html = read("report.html");
    assert!(
        html.contains("<details class=\"capture\"><summary>dr at the start · exit 0"),
        "{html}"
    );
    assert!(html.contains("&lt;dr name=&quot;a&amp;b&quot;&gt;\nstart\n"));
    assert!(!html.contains("<dr name"));
    assert!(html.contains("<summary>failing at the end · <span class=\"fail\">exit 3</span>"));
    assert!(
        html.contains(
            "<summary>slow at the start · <span class=\"fail\">timed out (killed)</span>"
        )
    );
}

#[test]
fn the_same_run_without_captures_writes_no_capture_files() {
    let dir = tempfile::tempdir().unwrap();
    let plain = SCENARIO.split("[[capture]]").next().unwrap();
    let (output, out) = run(dir.path(), plain);
    assert_eq!(output.status.code(), Some(0));
    assert!(!out.join("captures.json").exists());
    assert!(!out.join("captures").exists());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<h2>Captures</h2>"));
    assert_eq!(Results::load(&out).unwrap().captures, []);
}

#[test]
fn force_replaces_an_earlier_runs_captures_too() {
    let dir = tempfile::tempdir().unwrap();
    let one = r#"
[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 5
duration = "1s"
max_late_pct = 50
[[capture]]
name = "once"
argv = ["echo", "first run"]
when = "start"
"#;
    let (output, out) = run(dir.path(), one);
    assert_eq!(output.status.code(), Some(0));
    assert!(out.join("captures/once-start.txt").exists());
    let plain = one.split("[[capture]]").next().unwrap();
    let (refused, _) = run(dir.path(), plain);
    assert_eq!(refused.status.code(), Some(2));
    let (output, out) = run_with(dir.path(), plain, &["--force"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(!out.join("captures/once-start.txt").exists());
    assert!(!out.join("captures.json").exists());
    assert_eq!(Results::load(&out).unwrap().captures, []);
}
