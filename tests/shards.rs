//! `meshdrill run --shard I/N` and `--hooks-on I`: N processes of one
//! scenario against their own simulators send, between them, exactly the
//! unsharded plan, each judged against its exact share; only the
//! `--hooks-on` shard runs the fault's commands, the others keep its
//! schedule without them.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use common::{judged_unless_generator_limited, output_text};

const SCENARIO: &str = "name = \"shards\"\n\
    [[target]]\nname = \"primary\"\nurl = \"sim:primary\"\n\
    [[target]]\nname = \"secondary\"\nurl = \"sim:secondary\"\n\
    [load]\nrate = 30\nduration = \"2s\"\nwarmup = \"0s\"\n\
    [sim]\nlatency = \"1ms\"\n";

fn spawn_shard(scenario: &Path, out: &Path, shard: &str, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("run")
        .arg(scenario)
        .args(["--quiet", "--shard", shard])
        .args(extra)
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Runs shards 0/3, 1/3 and 2/3 side by side; their outputs and summaries.
fn three_shards(scenario: &Path, root: &Path, extra: &[&str]) -> Vec<(Output, serde_json::Value)> {
    let children: Vec<_> = (0..3)
        .map(|i| {
            let out = root.join(format!("shard-{i}"));
            (spawn_shard(scenario, &out, &format!("{i}/3"), extra), out)
        })
        .collect();
    children
        .into_iter()
        .map(|(child, out)| {
            let output = child.wait_with_output().unwrap();
            (output, summary(&out))
        })
        .collect()
}

#[test]
fn three_shards_send_exactly_the_unsharded_plan_between_them() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("shards.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let runs = three_shards(&scenario, dir.path(), &[]);
    let mut judged_all = true;
    let mut planned = [0u64; 2];
    let mut sent = [0u64; 2];
    for (i, (output, s)) in runs.iter().enumerate() {
        let text = output_text(output);
        judged_all &= judged_unless_generator_limited(output.status.code(), 0, s, &text);
        assert_eq!(
            s["shard"],
            serde_json::json!({"index": i, "count": 3}),
            "{text}"
        );
        let plan: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("shard-{i}/plan.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(plan["shard"], s["shard"]);
        assert!(
            String::from_utf8_lossy(&output.stdout).contains(&format!("shard {i} of 3")),
            "{text}"
        );
        for t in 0..2 {
            let g = &s["targets"][t]["generator"];
            // 60 slots per target: 0..60 with i mod 3 == shard, 20 each.
            assert_eq!(g["planned"], 20, "shard {i} target {t}: {text}");
            assert_eq!(
                g["sent"].as_u64().unwrap() + g["not_sent"].as_u64().unwrap(),
                20,
                "shard {i} target {t}: {text}"
            );
            planned[t] += g["planned"].as_u64().unwrap();
            sent[t] += g["sent"].as_u64().unwrap();
        }
    }
    // What one unsharded run plans: 30/s for 2 s per target.
    assert_eq!(planned, [60, 60]);
    if judged_all {
        assert_eq!(sent, [60, 60]);
    }
}

#[test]
fn only_the_hooks_on_shard_runs_the_fault_commands() {
    let dir = tempfile::tempdir().unwrap();
    let ran = dir.path().join("ran.txt");
    let scenario = dir.path().join("hooks.toml");
    std::fs::write(
        &scenario,
        format!(
            "{SCENARIO}[[fault]]\nname = \"cmd\"\nat = \"500ms\"\nrestore_at = \"1s\"\n\
             inject = [\"sh\", \"-c\", \"echo inject >> '{0}'\"]\n\
             restore = [\"sh\", \"-c\", \"echo restore >> '{0}'\"]\n",
            ran.display()
        ),
    )
    .unwrap();
    let runs = three_shards(&scenario, dir.path(), &["--hooks-on", "1"]);
    for (i, (output, s)) in runs.iter().enumerate() {
        let text = output_text(output);
        judged_unless_generator_limited(output.status.code(), 0, s, &text);
        let f = &s["faults"][0];
        assert_eq!(f["hooks_on_shard"], 1, "{text}");
        // Every shard keeps the fault's schedule: the same planned times,
        // an inject and a restore recorded.
        assert_eq!(f["planned_at_ms"], 500.0);
        assert_eq!(f["planned_restore_ms"], 1000.0);
        assert!(f["injected_at_ms"].is_f64(), "{text}");
        assert!(f["restored_at_ms"].is_f64(), "{text}");
        assert_eq!(f["error"], serde_json::Value::Null, "{text}");
        let journal =
            std::fs::read_to_string(dir.path().join(format!("shard-{i}/faults.jsonl"))).unwrap();
        let steps: Vec<serde_json::Value> = journal
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(steps.len(), 2, "{journal}");
        for step in &steps {
            assert_eq!(step["hooks_on_shard"], 1, "{journal}");
            assert_eq!(step["hook"].is_null(), i != 1, "{journal}");
        }
        if i == 1 {
            assert_eq!(f["inject_hook"]["exit_code"], 0, "{text}");
            assert_eq!(f["restore_hook"]["exit_code"], 0, "{text}");
        } else {
            assert_eq!(f["inject_hook"], serde_json::Value::Null, "{text}");
            assert_eq!(f["restore_hook"], serde_json::Value::Null, "{text}");
        }
    }
    // One shard ran each command, once.
    assert_eq!(std::fs::read_to_string(&ran).unwrap(), "inject\nrestore\n");
}

#[test]
fn bad_shard_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("shards.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let check = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_meshdrill"))
            .arg("run")
            .arg(&scenario)
            .args(args)
            .arg("--check")
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .unwrap()
    };
    for bad in [
        &["--shard", "3/3"][..],
        &["--shard", "0/0"],
        &["--shard", "1"],
        &["--shard", "a/3"],
        &["--shard", "0/3", "--hooks-on", "3"],
        &["--hooks-on", "0"],
    ] {
        let out = check(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", output_text(&out));
    }
    let ok = check(&["--shard", "2/3", "--hooks-on", "1"]);
    assert_eq!(ok.status.code(), Some(0), "{}", output_text(&ok));
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("shard 2 of 3 (hooks on shard 1)"),
        "{}",
        output_text(&ok)
    );
}
