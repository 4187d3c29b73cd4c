//! `--out DIR` holding an earlier run (issue 11 item 6): refused with exit 2,
//! or with `--force` replaced whole, so two runs' files never mix (the fault
//! journal used to collect the hook lines of both runs).

use std::path::Path;
use std::process::{Command, Output};

const SCENARIO: &str = r#"
[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 5
duration = "1s"
[[fault]]
name = "mark"
at = "100ms"
inject = ["true"]
"#;

fn meshdrill(scenario: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("run")
        .arg(scenario)
        .arg("--quiet")
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("run meshdrill")
}

fn journal_lines(out: &Path) -> usize {
    std::fs::read_to_string(out.join("faults.jsonl"))
        .unwrap()
        .lines()
        .count()
}

#[test]
fn an_earlier_run_in_out_is_refused_unless_force_replaces_it_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("s.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = tmp.path().join("drill");
    // An empty folder that exists is fine.
    std::fs::create_dir(&out).unwrap();

    let first = meshdrill(&scenario, &out, &[]);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    let lines = journal_lines(&out);
    assert!(lines > 0);
    let summary = std::fs::read(out.join("summary.json")).unwrap();

    let again = meshdrill(&scenario, &out, &[]);
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains(&format!("{} holds an earlier run (", out.display()))
            && stderr.contains("faults.jsonl")
            && stderr.contains("summary.json")
            && stderr.contains("add --force to replace that run"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), summary);
    assert_eq!(journal_lines(&out), lines, "nothing was written");

    // Any one file of a run is an earlier run.
    for name in ["timeline.csv", "faults.jsonl", "summary.json"] {
        let other = tmp.path().join(format!("only-{name}"));
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join(name), "x").unwrap();
        let refused = meshdrill(&scenario, &other, &["--check"]);
        assert_eq!(refused.status.code(), Some(2), "{name}: {refused:?}");
    }

    // An earlier run's file this run would not write (a renamed target),
    // and a file meshdrill never writes.
    std::fs::write(out.join("latency-renamed.hgrm"), "old").unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let checked = meshdrill(&scenario, &out, &["--force", "--check"]);
    assert_eq!(checked.status.code(), Some(0), "{checked:?}");
    assert!(
        out.join("latency-renamed.hgrm").exists(),
        "--check removes nothing"
    );

    let forced = meshdrill(&scenario, &out, &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{forced:?}");
    assert_eq!(journal_lines(&out), lines, "one run's hook lines, not two");
    assert!(!out.join("latency-renamed.hgrm").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(out.join("summary.json").exists() && out.join("report.html").exists());
}
