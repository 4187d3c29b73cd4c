//! Manual markers on the run clock: SIGUSR1 and `m` + Enter are recorded at
//! the moment they were sent.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use common::spawn_run;

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

#[test]
fn sigusr1_and_stdin_markers_are_stamped_when_sent() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("manual.toml");
    std::fs::write(
        &scenario,
        "[[target]]\nname = \"primary\"\nurl = \"sim:primary\"\n[load]\nrate = 50\nduration = \"4s\"\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let mut child = spawn_run(&scenario, &out, Stdio::piped());
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    let mut line = String::new();
    let mut sent = Vec::new();
    for _ in 0..100 {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.starts_with("[   0s]") {
            sent.push(now_ms());
            assert!(
                Command::new("kill")
                    .arg("-USR1")
                    .arg(child.id().to_string())
                    .status()
                    .unwrap()
                    .success()
            );
        }
        if line.starts_with("[   1s]") {
            sent.push(now_ms());
            stdin.write_all(b"m\n").unwrap();
            stdin.flush().unwrap();
        }
    }
    let status = child.wait().unwrap();
    assert_eq!(sent.len(), 2);

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    // NO SLO (exit 0), or INVALID when the machine was too busy for 50/s:
    // the markers are what this test is about.
    common::judged_unless_generator_limited(status.code(), 0, &summary, &stdout);
    let start = summary["start_unix_ms"].as_f64().unwrap();
    let markers = summary["markers"].as_array().unwrap();
    assert_eq!(markers.len(), 2, "{markers:?}");
    for (marker, (sent_at, source)) in markers.iter().zip(sent.iter().zip(["SIGUSR1", "stdin"])) {
        assert_eq!(marker["source"], source);
        let at = marker["at_ms"].as_f64().unwrap();
        let expected = sent_at - start;
        assert!(
            (at - expected).abs() < 100.0,
            "{source}: marker at {at} ms, sent at {expected} ms"
        );
    }
    let journal = std::fs::read_to_string(out.join("faults.jsonl")).unwrap();
    assert_eq!(
        journal.lines().filter(|l| l.contains("\"marker\"")).count(),
        2,
        "{journal}"
    );
}
