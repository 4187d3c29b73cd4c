//! Hooks and the `meshdrill run` process (issue 11): SIGTERM stops a run
//! whose hook ignores it, a second SIGTERM quits at once and takes the
//! hooks with it, a shell hook never runs a value as shell text, and a
//! secret passed as `${VAR}` is recorded nowhere. Each test runs meshdrill as
//! a child process with its own environment, sleeps for a duration of its
//! own and checks `/proc` for it at the end.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod common;

use common::{kill_sleeping, sleeping};

/// A generous bound that catches a hang, never a slow machine.
const HANG: Duration = Duration::from_secs(40);

/// `sleep SECONDS` gone within `within` (a killed process takes a moment).
fn gone(seconds: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if sleeping(seconds).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A running `meshdrill run`, its stdout and stderr read to the end by
/// threads of their own (so it never blocks on a full pipe).
struct Run {
    child: Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

fn spawn(scenario: &Path, out: &Path, cwd: &Path, env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .current_dir(cwd)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    Run {
        child,
        stdout: Some(stdout),
        stderr: Some(stderr),
    }
}

impl Run {
    fn signal(&self, signal: i32) {
        // SAFETY: sends a signal to the child this test started.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, signal) }, 0);
    }

    /// Exit code, stdout, stderr; `None` (the child killed) when it did not
    /// exit within `within`.
    fn wait(&mut self, within: Duration) -> Option<(Option<i32>, String, String)> {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let stdout = self.stdout.take().unwrap().join().unwrap();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        status.map(|s| (s.code(), stdout, stderr))
    }
}

/// Waits until `sleep SECONDS` runs (the hook has started).
fn wait_for_sleep(seconds: &str, run: &mut Run) {
    let deadline = Instant::now() + HANG;
    while sleeping(seconds).is_empty() {
        if let Some(status) = run.child.try_wait().unwrap() {
            panic!("meshdrill ended ({status}) before its hook ran");
        }
        assert!(Instant::now() < deadline, "the hook never started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn write(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("drill.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

const TARGET: &str = r#"
[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 20
"#;

/// Issue 11: SIGTERM printed "stopping cleanly" and did nothing while a
/// hook hung. One SIGTERM ends the hook's group (SIGKILL after the ignored
/// SIGTERM) and the run, with every result written.
#[test]
fn one_sigterm_ends_a_run_whose_hook_ignores_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        &format!(
            r#"{TARGET}duration = "60s"
[[fault]]
name = "hung"
at = "0s"
inject = "trap '' TERM; sleep 1005.5"
shell = true
"#
        ),
    );
    let out = dir.path().join("out");
    let mut run = spawn(&scenario, &out, dir.path(), &[]);
    wait_for_sleep("1005.5", &mut run);
    run.signal(libc::SIGTERM);
    let ended = run.wait(HANG);
    let left = kill_sleeping("1005.5");
    let (code, _, stderr) = ended.expect("one SIGTERM ends the run");
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(left, [] as [i32; 0], "the hook's sleep was killed");
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["interrupted"], true);
    let hook = &summary["faults"][0]["inject_hook"];
    assert_eq!(hook["cut_by_run_end"], true, "{hook}");
    assert!(summary["seconds"].as_u64().unwrap() >= 1, "{summary}");
}

/// Issue 11: a second SIGTERM was ignored. Kubernetes and systemd send
/// TERM, then KILL: the second quits at once, even while a restore (which
/// the first SIGTERM runs early, and never cuts short) hangs, and the
/// restore's group goes with it.
#[test]
fn a_second_sigterm_quits_at_once_and_takes_the_hooks_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        &format!(
            r#"{TARGET}duration = "60s"
[[fault]]
name = "scale-down"
at = "0s"
inject = "true"
restore = "trap '' TERM; sleep 1007.5"
restore_at = "50s"
shell = true
"#
        ),
    );
    let out = dir.path().join("out");
    let mut run = spawn(&scenario, &out, dir.path(), &[]);
    let deadline = Instant::now() + HANG;
    while !std::fs::read_to_string(out.join("faults.jsonl")).is_ok_and(|j| j.contains("inject")) {
        assert!(Instant::now() < deadline, "the inject never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    run.signal(libc::SIGTERM);
    wait_for_sleep("1007.5", &mut run);
    run.signal(libc::SIGTERM);
    let ended = run.wait(Duration::from_secs(20));
    let killed = gone("1007.5", Duration::from_secs(10));
    let left = kill_sleeping("1007.5");
    let (code, _, stderr) = ended.expect("the second SIGTERM quits at once");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("quitting at once"), "{stderr}");
    assert!(killed, "the hanging restore outlived meshdrill: {left:?}");
}

/// Issue 11, item 3: with `POD='x; touch pwned'`, `echo deleting pod
/// ${POD}` ran the `touch`: meshdrill had spliced the value into the shell
/// text. Now sh expands it, as one word, never as code.
#[test]
fn a_shell_hook_never_runs_a_value_as_shell_text() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        &format!(
            r#"{TARGET}duration = "1s"
[[fault]]
name = "pod"
at = "0s"
inject = "echo deleting pod ${{POD}}"
shell = true
"#
        ),
    );
    let out = dir.path().join("out");
    let mut run = spawn(&scenario, &out, dir.path(), &[("POD", "x; touch pwned")]);
    let (code, stdout, stderr) = run.wait(HANG).expect("a 1 s run ends");
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        !dir.path().join("pwned").exists(),
        "the value ran as shell text"
    );
    let summary = json(&out.join("summary.json"));
    let hook = &summary["faults"][0]["inject_hook"];
    assert_eq!(hook["stdout"], "deleting pod x; touch pwned\n");
    assert_eq!(hook["command"], "echo deleting pod ${POD}");
}

/// Issue 11, item 3: a secret interpolated into a hook was written
/// verbatim to faults.jsonl, summary.json, report.html and stdout. The hook
/// still gets the value; nothing meshdrill writes or prints holds it.
#[test]
fn a_secret_in_a_hook_is_recorded_nowhere() {
    let secret = format!(
        "s3cret-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        &format!(
            r#"{TARGET}duration = "2s"
[[fault]]
name = "argv"
at = "0s"
# Exits 0 only when the value reached the hook.
inject = ["sh", "-c", "[ \"$1\" = \"--token=$MESHDRILL_TEST_SECRET\" ]", "sh", "--token=${{MESHDRILL_TEST_SECRET}}"]
# Fails, so the command is also in the error, the console and the table.
restore = ["sh", "-c", "exit 3", "sh", "--token=${{MESHDRILL_TEST_SECRET}}"]
restore_at = "1s"
[[fault]]
name = "shell"
at = "0s"
# Leaves a process whose arguments hold the value running.
inject = "sh -c 'sleep 1006.5; true' \"--token=${{MESHDRILL_TEST_SECRET}}\" & [ -n \"${{MESHDRILL_TEST_SECRET}}\" ]"
shell = true
"#
        ),
    );
    let out = dir.path().join("out");
    let mut run = spawn(
        &scenario,
        &out,
        dir.path(),
        &[("MESHDRILL_TEST_SECRET", &secret)],
    );
    let ended = run.wait(HANG);
    let left = kill_sleeping("1006.5");
    let (code, stdout, stderr) = ended.expect("a 2 s run ends");
    assert_eq!(left, [] as [i32; 0], "ended at the run's end");
    assert_eq!(
        code,
        Some(1),
        "the failed restore fails the drill: {stderr}"
    );
    let summary = json(&out.join("summary.json"));
    let faults = &summary["faults"];
    assert_eq!(
        faults[0]["inject_hook"]["exit_code"], 0,
        "the hook got the value"
    );
    assert_eq!(faults[1]["inject_hook"]["exit_code"], 0, "sh got the value");
    assert_eq!(
        faults[0]["inject_hook"]["command"],
        "sh -c '[ \"$1\" = \"--token=$MESHDRILL_TEST_SECRET\" ]' sh '--token=${MESHDRILL_TEST_SECRET}'"
    );
    assert!(
        stderr.contains("FAILED: `sh -c 'exit 3' sh '--token=${MESHDRILL_TEST_SECRET}'` exit 3"),
        "{stderr}"
    );
    assert!(
        !faults[1]["inject_hook"]["left_running"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{faults}"
    );

    assert!(!stdout.contains(&secret), "stdout: {stdout}");
    assert!(!stderr.contains(&secret), "stderr: {stderr}");
    let mut files = 0;
    for entry in std::fs::read_dir(&out).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&secret),
            "{} holds the secret",
            entry.path().display()
        );
        files += 1;
    }
    assert!(files >= 5, "{files} files in the results folder");
    let journal = std::fs::read_to_string(out.join("faults.jsonl")).unwrap();
    assert!(
        journal.contains("--token=${MESHDRILL_TEST_SECRET}"),
        "{journal}"
    );
    assert!(out.join("report.html").exists());
}
