//! `run --start-at WHEN [--max-skew D]`: second 0 at a wall-clock instant,
//! end to end through the binary against the simulator: the wait, the lag
//! and clock state recorded in summary.json and plan.json, a late start
//! judged INVALID, Ctrl-C during the wait, and the values refused.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use common::{judged_unless_generator_limited, output_text};

const SCENARIO: &str = "[[target]]\nname = \"primary\"\nurl = \"sim:primary\"\n\
                        [load]\nrate = 20\nduration = \"1s\"\n";

fn scenario(dir: &Path) -> PathBuf {
    let path = dir.join("start-at.toml");
    std::fs::write(&path, SCENARIO).unwrap();
    path
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("run")
        .arg(scenario(dir))
        .arg("--quiet")
        .arg("--out")
        .arg(dir.join("out"))
        .args(args)
        .output()
        .unwrap()
}

fn json(path: PathBuf) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}")))
        .unwrap()
}

#[test]
fn a_start_in_the_future_is_waited_for_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let at = now_ms() + 1500;
    let at_text = at.to_string();
    // A generous skew: a busy machine's lag is not what this test is about.
    let out = run(dir.path(), &["--start-at", &at_text, "--max-skew", "1s"]);
    let ended = now_ms();
    let text = output_text(&out);
    let summary = json(dir.path().join("out/summary.json"));
    judged_unless_generator_limited(out.status.code(), 0, &summary, &text);
    assert!(text.contains("waiting for second 0 at"), "{text}");
    let start = &summary["start"];
    assert_eq!(start["at_unix_ms"], at, "{text}");
    let lag = start["lag_ms"].as_f64().unwrap();
    assert!(lag >= 0.0, "{lag}");
    assert_eq!(start["max_skew_ms"], 1000.0);
    // Second 0 is at or after WHEN, and the 1 s of traffic follows it.
    assert!(
        summary["start_unix_ms"].as_u64().unwrap() >= at,
        "{summary}"
    );
    assert!(ended >= at + 1000, "ended {ended}, second 0 planned {at}");
    let plan = json(dir.path().join("out/plan.json"));
    assert_eq!(plan["start"], *start);
    if start["clock"]["synchronized"] == false {
        assert_eq!(start["clock"]["offset_ms"], serde_json::Value::Null);
        assert!(
            text.contains("clock not synchronized: offset unknown"),
            "{text}"
        );
    }
}

#[test]
fn a_start_already_past_by_more_than_the_skew_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let at = now_ms() - 200;
    let out = run(dir.path(), &["--start-at", &at.to_string()]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(!text.contains("waiting for second 0"), "{text}");
    let summary = json(dir.path().join("out/summary.json"));
    let start = &summary["start"];
    assert_eq!(start["at_unix_ms"], at);
    assert_eq!(start["max_skew_ms"], 50.0);
    let lag = start["lag_ms"].as_f64().unwrap();
    assert!(lag >= 200.0, "{lag}");
    assert_eq!(summary["verdict"]["status"], "invalid");
    let reason = format!("started {lag:.0} ms after --start-at (max skew 50 ms)");
    let invalid = &summary["verdict"]["generator"]["invalid"];
    assert!(
        invalid
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str() == Some(reason.as_str())),
        "{invalid}"
    );
    assert!(start["notes"][0] == reason.as_str(), "{start}");
    assert!(text.contains(&reason), "said at start:\n{text}");
}

#[test]
fn ctrl_c_while_waiting_exits_130_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let at = (now_ms() + 60_000).to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("run")
        .arg(scenario(dir.path()))
        .arg("--quiet")
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["--start-at", &at])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains("waiting for second 0") {
        assert_eq!(stderr.read(&mut byte).unwrap(), 1, "{seen:?}");
        seen.push(byte[0]);
    }
    // SAFETY: signals only the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("nothing was sent"), "{rest}");
    let out = dir.path().join("out");
    assert!(out.join("plan.json").exists());
    assert!(!out.join("summary.json").exists());
    assert!(!out.join("timeline.csv").exists());
}

#[test]
fn bad_values_are_refused_with_exit_2_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--start-at", "yesterday"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("\"yesterday\"") && text.contains("RFC 3339"),
        "{text}"
    );
    let at = (now_ms() + 1000).to_string();
    let out = run(dir.path(), &["--start-at", &at, "--max-skew", "abc"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("--max-skew \"abc\""), "{text}");
    assert!(!dir.path().join("out").exists(), "{text}");
}

#[test]
fn check_says_the_start_instant_without_waiting() {
    // A wait would be for the year 2099: the test ending is the check.
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["--check", "--start-at", "2099-01-01T01:00:00+01:00"],
    );
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("second 0 at 2099-01-01T00:00:00.000Z"),
        "{text}"
    );
}
