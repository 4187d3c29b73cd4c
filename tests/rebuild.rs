//! `meshdrill report DIR` on a folder without summary.json (the run was
//! killed with `kill -9`, or the disk filled): the summary is rebuilt from
//! plan.json, timeline.csv, latency.hlog and faults.jsonl, marked rebuilt,
//! and judged INVALID unless every planned second is on disk (issue 12).

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{num, run_quiet, spawn_run, timeline};
use meshdrill::results::Results;

fn report(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("report")
        .arg(dir)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn scenario(dir: &Path, duration: &str) -> std::path::PathBuf {
    let path = dir.join("drill.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[[target]]
name = "primary"
url = "sim:primary"
[[target]]
name = "secondary"
url = "sim:secondary"
[load]
rate = 50
duration = "{duration}"
# About rebuilding, not the generator: a loaded machine must not make it INVALID.
max_late_pct = 50
[[fault]]
name = "primary-down"
target = "primary"
sim = "down"
at = "3s"
restore_at = "5s"
[recovery]
window = "1s"
"#
        ),
    )
    .unwrap();
    path
}

/// Seconds in timeline.csv with every row whole (the three scopes' rows).
fn whole_rows(dir: &Path) -> usize {
    let Ok(text) = std::fs::read_to_string(dir.join("timeline.csv")) else {
        return 0;
    };
    let lines = text.matches('\n').count();
    lines.saturating_sub(1) / 3
}

/// The per-target sums of the first `seconds` seconds of timeline.csv.
fn sums(dir: &Path, target: &str, column: &str, seconds: u64) -> u64 {
    timeline(dir)
        .iter()
        .filter(|r| r["target"] == target && num(r, "second") < seconds)
        .map(|r| num(r, column))
        .sum()
}

#[test]
fn a_run_killed_with_sigkill_is_rebuilt_and_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut child = spawn_run(&scenario(dir.path(), "20s"), &out, Stdio::null());
    let deadline = Instant::now() + Duration::from_secs(60);
    while whole_rows(&out) < 5 {
        assert!(Instant::now() < deadline, "no 5 seconds on disk in 60 s");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!out.join("summary.json").exists());

    let judged = report(&out);
    let said = text(&judged);
    assert_eq!(judged.status.code(), Some(4), "{said}");
    assert!(said.contains("REBUILT"), "{said}");
    let summary = Results::load(&out).unwrap().summary;
    let rebuilt = summary.rebuilt.clone().expect("marked rebuilt");
    let n = rebuilt.seconds_on_disk;
    // latency.hlog is written after timeline.csv each second: it may lack
    // the fifth.
    assert!((4..20).contains(&n), "{rebuilt:?}");
    assert_eq!(rebuilt.seconds_planned, 20);
    assert!(
        said.contains(&format!("the run stopped at second {n} of 20")),
        "{said}"
    );
    let verdict = summary.verdict.as_ref().unwrap();
    assert_eq!(verdict.generator.invalid[0], rebuilt.reason);
    assert!(rebuilt.missing.iter().any(|m| m.starts_with("statuses")));
    for t in &summary.targets {
        let n = u64::from(n);
        assert_eq!(t.requests, sums(&out, &t.name, "sent", n), "{}", t.name);
        assert_eq!(t.ok, sums(&out, &t.name, "ok", n), "{}", t.name);
        assert_eq!(t.failed, sums(&out, &t.name, "failed", n), "{}", t.name);
        assert!(t.statuses.is_empty() && t.pods.is_empty() && t.service_ms.is_none());
    }
    // The fault at 3 s was journaled, its restore at 5 s too (n ≥ 5 seconds
    // on disk means second 5 had begun).
    assert!(summary.faults[0].injected_at_ms.is_some(), "{summary:?}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"rebuilt\""));
    // Judged again from the rebuilt summary: still INVALID.
    assert_eq!(report(&out).status.code(), Some(4));
}

#[test]
fn a_finished_run_without_its_summary_is_rebuilt_to_the_same_totals_and_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = run_quiet(&scenario(dir.path(), "6s"), &out);
    let original = Results::load(&out).unwrap().summary;
    std::fs::remove_file(out.join("summary.json")).unwrap();

    let judged = report(&out);
    let said = text(&judged);
    assert_eq!(judged.status.code(), run.status.code(), "{said}");
    assert!(
        said.contains(
            "rebuilt from the per-second files: statuses, pods and service times not available"
        ),
        "{said}"
    );
    let rebuilt = Results::load(&out).unwrap().summary;
    assert!(rebuilt.rebuilt.as_ref().unwrap().complete());
    assert_eq!(
        rebuilt.verdict.as_ref().unwrap().status,
        original.verdict.as_ref().unwrap().status
    );
    assert_eq!(rebuilt.seconds, original.seconds);
    for (r, o) in rebuilt
        .targets
        .iter()
        .chain([&rebuilt.all])
        .zip(original.targets.iter().chain([&original.all]))
    {
        assert_eq!(
            (&r.name, r.requests, r.ok, r.failed, &r.outcomes),
            (&o.name, o.requests, o.ok, o.failed, &o.outcomes)
        );
        assert_eq!(r.versions, o.versions, "{}", r.name);
        assert_eq!(r.ok_by_version, o.ok_by_version, "{}", r.name);
        assert_eq!(r.clusters, o.clusters, "{}", r.name);
        assert_eq!(r.latency_ms, o.latency_ms, "{}", r.name);
        // From addresses.csv: the same address totals, adding up alike.
        assert_eq!(r.ips, o.ips, "{}", r.name);
        assert!(!r.ips.is_empty(), "{}", r.name);
    }
    assert_eq!(
        rebuilt.faults[0].injected_at_ms,
        original.faults[0].injected_at_ms
    );
    assert_eq!(
        rebuilt.faults[0].restore_done_ms,
        original.faults[0].restore_done_ms
    );
    assert_eq!(rebuilt.outages, original.outages);
}

#[test]
fn a_cut_last_row_is_left_out_and_a_corrupt_middle_row_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_quiet(&scenario(dir.path(), "6s"), &out);
    std::fs::remove_file(out.join("summary.json")).unwrap();
    let path = out.join("timeline.csv");
    let whole = std::fs::read_to_string(&path).unwrap();
    let sent_in_5 = sums(&out, "primary", "sent", 5);

    // Cut in the middle of the last row (second 5's `all`): second 5 goes.
    let cut = &whole[..whole.len() - 40];
    std::fs::write(&path, cut).unwrap();
    let judged = report(&out);
    let said = text(&judged);
    assert_eq!(judged.status.code(), Some(4), "{said}");
    assert!(said.contains("the run stopped at second 5 of 6"), "{said}");
    let summary = Results::load(&out).unwrap().summary;
    let rebuilt = summary.rebuilt.unwrap();
    assert_eq!(rebuilt.seconds_on_disk, 5);
    assert!(
        rebuilt
            .missing
            .iter()
            .any(|m| m.starts_with("timeline.csv: its last line, cut")),
        "{:?}",
        rebuilt.missing
    );
    assert_eq!(summary.targets[0].requests, sent_in_5);

    // A row in the middle that does not parse: an error naming file and line.
    std::fs::remove_file(out.join("summary.json")).unwrap();
    let mut lines: Vec<String> = whole.lines().map(String::from).collect();
    let cells: Vec<&str> = lines[3].split(',').collect();
    let mut cells: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
    cells[4] = "ten".into(); // `sent`
    lines[3] = cells.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let judged = report(&out);
    let said = text(&judged);
    assert_eq!(judged.status.code(), Some(3), "{said}");
    assert!(
        said.contains(&format!(
            "{}:4: sent \"ten\" is not a count",
            path.display()
        )),
        "{said}"
    );
}
