//! Runs one fault hook (a kubectl command, a script) the way a drill needs:
//! no stdin, output captured (bounded), every instant stamped on the run
//! clock, and never able to hang the drill. A hook that cannot start, exits
//! non-zero, times out or is cut short by the run's end is a failed hook,
//! never a silent one.
//!
//! Each hook runs in a process group of its own ([`ProcessGroup`]), so what
//! it starts in the background can be found and ended with it: its timeout,
//! or the run's end while it still runs, ends the whole group (SIGTERM, then
//! SIGKILL after [`KILL_GRACE`]). Once the hook's own process has exited, its
//! output is awaited for at most [`OUTPUT_GRACE`]: a background child holding
//! the pipes must not block (the pipes are still drained, so it never blocks
//! on a full one either). Whatever is still in the group then is named in
//! [`HookRun::left_running`] and handed back for the caller to end at the
//! run's end, or to leave running (`detach`).

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::clock::RunClock;
pub use crate::results::faults::{HookRun, LeftProcess};
use crate::scenario::HookCommand;

/// Output kept per stream; the rest is read and dropped so the hook never
/// blocks on a full pipe.
const OUTPUT_CAP: usize = 64 * 1024;
/// How long a group that was sent SIGTERM has before SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(2);
/// How long the output pipes are awaited after the hook's own process exited.
pub const OUTPUT_GRACE: Duration = Duration::from_millis(500);
/// How often a group's members are looked up while it is being ended.
const POLL: Duration = Duration::from_millis(50);

impl HookRun {
    /// Leaving processes running is not a failure: a background
    /// port-forward is a legitimate hook.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out && !self.cut_by_run_end && self.error.is_none()
    }

    /// One line for logs: `exit 0`, `exit 3`, `timed out (killed)`...
    pub fn status(&self) -> String {
        if self.timed_out {
            "timed out (killed)".to_string()
        } else if self.cut_by_run_end {
            "still running when the run ended (killed)".to_string()
        } else if let Some(e) = &self.error {
            e.clone()
        } else {
            format!("exit {}", self.exit_code.unwrap_or(-1))
        }
    }
}

/// Runs `command` with `env` added to the inherited environment, until it
/// exits, `timeout` passes or `cut` is cancelled (the run's end). The group
/// is returned when the hook left processes running in it.
pub async fn run_hook(
    command: &HookCommand,
    timeout: Duration,
    clock: RunClock,
    env: &[(&str, &str)],
    cut: &CancellationToken,
) -> (HookRun, Option<ProcessGroup>) {
    let ms = |t: Instant| clock.us(t) as f64 / 1000.0;
    let started = Instant::now();
    let mut run = HookRun {
        command: command.display(),
        started_ms: ms(started),
        ..HookRun::default()
    };
    let lookup = |name: &str| {
        env.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
            .or_else(|| std::env::var(name).ok())
    };
    let (program, args) = match command.program_and_args(&lookup) {
        Ok(argv) => argv,
        Err(e) => {
            run.ended_ms = ms(Instant::now());
            run.error = Some(format!("cannot start: {e}"));
            return (run, None);
        }
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .envs(env.iter().copied());
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            run.ended_ms = ms(Instant::now());
            run.error = Some(format!("cannot start: {e}"));
            return (run, None);
        }
    };
    // The group's id is the leader's pid, which stays reserved until the
    // leader is reaped below.
    let group = child.id().map(|pid| ProcessGroup::new(pid as i32));
    let stdout = Capture::spawn(child.stdout.take());
    let stderr = Capture::spawn(child.stderr.take());
    let mut status = tokio::select! {
        status = child.wait() => Some(status),
        _ = tokio::time::sleep(timeout) => {
            run.timed_out = true;
            None
        }
        _ = cut.cancelled() => {
            run.cut_by_run_end = true;
            None
        }
    };
    if status.is_none() {
        if let Some(group) = &group {
            group.end(KILL_GRACE).await;
        }
        // The leader is gone or a zombie by now; this only makes sure.
        let _ = child.start_kill();
        status = Some(child.wait().await);
    }
    match status {
        Some(Ok(status)) if !run.timed_out && !run.cut_by_run_end => {
            run.exit_code = status.code();
            if status.code().is_none() {
                run.error = Some(format!("killed by a signal ({status})"));
            }
        }
        Some(Err(e)) => run.error = Some(format!("waiting for it failed: {e}")),
        _ => {}
    }
    run.ended_ms = ms(Instant::now());
    let drained_by = Instant::now() + OUTPUT_GRACE;
    let (out, out_cut) = stdout.text_by(drained_by).await;
    let (err, err_cut) = stderr.text_by(drained_by).await;
    (run.stdout, run.stderr, run.output_cut) = (out, err, out_cut || err_cut);
    let Some(group) = group else {
        return (run, None);
    };
    run.left_running = group.members();
    if run.left_running.is_empty() {
        group.forget();
        (run, None)
    } else {
        (run, Some(group))
    }
}

/// The process group a hook runs in, and what is left of it. Dropping it
/// kills whatever is still in the group (SIGKILL): a drill that is torn down
/// leaves nothing behind; [`ProcessGroup::detach`] is the one way to keep it.
#[derive(Debug)]
pub struct ProcessGroup {
    pgid: i32,
    armed: bool,
}

/// Groups that may still have members, for [`kill_all_now`].
static LIVE: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

fn live() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// SIGKILL to every hook group still alive (not detached): for quitting at
/// once, when there is no time to end them politely.
pub fn kill_all_now() {
    for pgid in live().iter() {
        signal_group(*pgid, libc::SIGKILL);
    }
}

impl ProcessGroup {
    fn new(pgid: i32) -> ProcessGroup {
        live().insert(pgid);
        ProcessGroup { pgid, armed: true }
    }

    /// Live (not zombie) processes in the group, by pid.
    pub fn members(&self) -> Vec<LeftProcess> {
        group_members(self.pgid)
    }

    /// SIGTERM to the group, SIGKILL after `grace` to what is left; returns
    /// once the group is empty (or a second after SIGKILL, whatever the
    /// kernel still has to do).
    pub async fn end(&self, grace: Duration) {
        if self.members().is_empty() {
            return;
        }
        signal_group(self.pgid, libc::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
            if self.members().is_empty() {
                return;
            }
        }
        signal_group(self.pgid, libc::SIGKILL);
        for _ in 0..20 {
            tokio::time::sleep(POLL).await;
            if self.members().is_empty() {
                return;
            }
        }
    }

    /// Leaves the group running (`detach = true`).
    pub fn detach(mut self) {
        self.forget_now();
    }

    /// The group is empty (or ended): nothing to do on drop.
    fn forget(mut self) {
        self.forget_now();
    }

    fn forget_now(&mut self) {
        self.armed = false;
        live().remove(&self.pgid);
    }

    /// Ends the group ([`ProcessGroup::end`]) and forgets it.
    pub async fn end_and_forget(mut self, grace: Duration) {
        self.end(grace).await;
        self.forget_now();
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if self.armed {
            if !self.members().is_empty() {
                signal_group(self.pgid, libc::SIGKILL);
            }
            live().remove(&self.pgid);
        }
    }
}

fn signal_group(pgid: i32, signal: i32) {
    // Never 0 or 1: killpg(0) is our own group, and 1 is init's.
    if pgid > 1 {
        // SAFETY: killpg only sends a signal; a group that is gone is ESRCH.
        unsafe {
            libc::killpg(pgid, signal);
        }
    }
}

/// Every live process whose group is `pgid`, from `/proc/PID/stat`
/// (`pid (comm) state ppid pgrp ...`); zombies are gone in all but name.
fn group_members(pgid: i32) -> Vec<LeftProcess> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut members = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // comm may hold spaces and parentheses: it ends at the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let mut fields = stat[close + 1..].split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|g| g.parse::<i32>().ok());
        if pgrp == Some(pgid) && !matches!(state, Some("Z" | "X")) {
            members.push(LeftProcess {
                pid,
                program: stat[open + 1..close].to_string(),
            });
        }
    }
    members.sort_by_key(|p| p.pid);
    members
}

/// One output stream, read to its end by a task of its own (so a process
/// that holds it open never blocks on a full pipe); the text is taken when
/// the hook is done, whether or not the stream has ended by then.
struct Capture {
    kept: Arc<Mutex<Captured>>,
    reading: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    dropped: usize,
}

impl Capture {
    fn spawn<R: AsyncRead + Unpin + Send + 'static>(pipe: Option<R>) -> Capture {
        let kept = Arc::new(Mutex::new(Captured::default()));
        let reading = pipe.map(|pipe| tokio::spawn(read_capped(pipe, kept.clone())));
        Capture { kept, reading }
    }

    /// What was read by `deadline` (or the stream's end, if sooner), and
    /// whether bytes were dropped.
    async fn text_by(self, deadline: Instant) -> (String, bool) {
        if let Some(reading) = self.reading {
            let _ = tokio::time::timeout_at(deadline, reading).await;
        }
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let mut text = String::from_utf8_lossy(&kept.bytes).into_owned();
        if kept.dropped > 0 {
            text.push_str(&format!("\n[... {} more bytes not kept]", kept.dropped));
        }
        (text, kept.dropped > 0)
    }
}

async fn read_capped<R: AsyncRead + Unpin>(mut pipe: R, kept: Arc<Mutex<Captured>>) {
    let mut chunk = [0u8; 8192];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                let room = OUTPUT_CAP.saturating_sub(kept.bytes.len());
                kept.bytes.extend_from_slice(&chunk[..n.min(room)]);
                kept.dropped += n.saturating_sub(room);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> RunClock {
        RunClock::starting_in(Duration::ZERO)
    }

    /// Runs a hook that is never cut short; a group it returns is ended.
    async fn run(cmd: &HookCommand, timeout: Duration, env: &[(&str, &str)]) -> HookRun {
        let (run, group) = run_hook(cmd, timeout, clock(), env, &CancellationToken::new()).await;
        if let Some(group) = group {
            group.end_and_forget(KILL_GRACE).await;
        }
        run
    }

    /// A sleep duration no other process on the machine sleeps for: `base`
    /// (one per test) with this test process's pid as its fraction, so two
    /// test suites running at once (CI and a developer's) never see each
    /// other's sleeps in /proc.
    fn secs(base: u32) -> String {
        format!("{base}.{}", std::process::id())
    }

    /// Pids of `sleep SECONDS` processes: each test sleeps for a duration of
    /// its own ([`secs`]), so it finds only its own.
    fn sleeping(seconds: &str) -> Vec<i32> {
        let wanted = format!("sleep\0{seconds}\0");
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if cmdline == wanted.as_bytes() {
                found.push(pid);
            }
        }
        found
    }

    /// Fails when a test left a `sleep SECONDS` behind, after killing it.
    /// A SIGKILLed process is gone once the kernel schedules it, which on a
    /// busy machine can be after the test looks: it gets 5 s to vanish.
    fn assert_none_left(seconds: &str) {
        let mut left = sleeping(seconds);
        for _ in 0..100 {
            if left.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
            left = sleeping(seconds);
        }
        for pid in &left {
            // SAFETY: sends a signal to a process this test started.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        assert!(left.is_empty(), "sleep {seconds} left running: {left:?}");
    }

    #[tokio::test]
    async fn captures_exit_code_and_output() {
        let cmd =
            HookCommand::Shell("echo out; echo err >&2; echo $MESHDRILL_FAULT; exit 3".into());
        let run = run(&cmd, Duration::from_secs(10), &[("MESHDRILL_FAULT", "f1")]).await;
        assert_eq!(run.exit_code, Some(3));
        assert!(!run.succeeded());
        assert_eq!(run.stdout, "out\nf1\n");
        assert!(!run.output_cut);
        assert_eq!(run.stderr, "err\n");
        assert!(run.ended_ms >= run.started_ms);
        assert_eq!(run.status(), "exit 3");
        assert!(run.left_running.is_empty());
    }

    #[tokio::test]
    async fn argv_runs_without_a_shell() {
        let cmd = HookCommand::Argv(vec![
            "printf".into(),
            "%s|".into(),
            "a b".into(),
            "$HOME".into(),
        ]);
        let run = run(&cmd, Duration::from_secs(10), &[]).await;
        assert!(run.succeeded(), "{run:?}");
        assert_eq!(run.stdout, "a b|$HOME|");
    }

    #[tokio::test]
    async fn argv_placeholders_are_expanded_per_argument_and_recorded_as_written() {
        let cmd = HookCommand::Argv(vec![
            "printf".into(),
            "%s|".into(),
            "--token=${MESHDRILL_HOOK_TEST}".into(),
            "$${MESHDRILL_HOOK_TEST}".into(),
        ]);
        let env = [("MESHDRILL_HOOK_TEST", "a b; touch x")];
        let run = run(&cmd, Duration::from_secs(10), &env).await;
        assert!(run.succeeded(), "{run:?}");
        assert_eq!(run.stdout, "--token=a b; touch x|${MESHDRILL_HOOK_TEST}|");
        assert_eq!(
            run.command,
            "printf '%s|' '--token=${MESHDRILL_HOOK_TEST}' '$${MESHDRILL_HOOK_TEST}'"
        );
    }

    #[tokio::test]
    async fn an_argv_placeholder_unset_when_the_hook_runs_is_a_failed_hook() {
        let cmd = HookCommand::Argv(vec!["echo".into(), "${MESHDRILL_HOOK_TEST_UNSET}".into()]);
        let run = run(&cmd, Duration::from_secs(10), &[]).await;
        assert_eq!(
            run.error.as_deref(),
            Some(
                "cannot start: argument 1 uses ${MESHDRILL_HOOK_TEST_UNSET}, which is not set in the environment"
            )
        );
    }

    #[tokio::test]
    async fn shell_text_is_expanded_by_sh_never_spliced() {
        let dir = tempfile::tempdir().unwrap();
        let pwned = dir.path().join("pwned");
        let value = format!("x; touch {}", pwned.display());
        let cmd = HookCommand::Shell("echo deleting pod ${POD}".into());
        let run = run(&cmd, Duration::from_secs(10), &[("POD", &value)]).await;
        assert!(run.succeeded(), "{run:?}");
        assert_eq!(run.stdout, format!("deleting pod {value}\n"));
        assert!(!pwned.exists(), "the value ran as shell text");
        assert_eq!(run.command, "echo deleting pod ${POD}");
    }

    #[tokio::test]
    async fn a_hook_over_its_timeout_is_killed_and_failed() {
        let cmd = HookCommand::Argv(vec!["sleep".into(), secs(1001)]);
        let run = run(&cmd, Duration::from_millis(200), &[]).await;
        assert!(run.timed_out);
        assert!(!run.succeeded());
        assert!(run.ended_ms - run.started_ms < 20_000.0, "{run:?}");
        assert_none_left(&secs(1001));
    }

    /// Issue 11: sh was killed at its timeout, both sleeps lived on holding
    /// the pipes, and the hook (and the drill) never finished.
    #[tokio::test]
    async fn a_timeout_ends_the_whole_group() {
        let cmd = HookCommand::Shell(format!(
            "sleep {} & sleep {}; echo done",
            secs(1002),
            secs(1003)
        ));
        let ran = tokio::time::timeout(
            Duration::from_secs(20),
            run(&cmd, Duration::from_millis(300), &[]),
        )
        .await;
        let left = [sleeping(&secs(1002)), sleeping(&secs(1003))].concat();
        assert_none_left(&secs(1002));
        assert_none_left(&secs(1003));
        let run = ran.expect("the hook ends within 20 s of a 0.3 s timeout");
        assert!(run.timed_out, "{run:?}");
        assert_eq!(run.stdout, "");
        assert!(run.left_running.is_empty(), "{run:?}");
        assert!(left.is_empty(), "{left:?}");
    }

    /// Issue 11: `sleep 1004 & echo started` exited at once, and the hook
    /// lasted as long as the sleep.
    #[tokio::test]
    async fn a_background_child_is_named_and_does_not_hold_the_hook() {
        let cmd = HookCommand::Shell(format!("sleep {} & echo started", secs(1004)));
        let hooked = tokio::time::timeout(
            Duration::from_secs(20),
            run_hook(
                &cmd,
                Duration::from_secs(60),
                clock(),
                &[],
                &CancellationToken::new(),
            ),
        )
        .await;
        let Ok((run, group)) = hooked else {
            assert_none_left(&secs(1004));
            panic!("the hook waited for its background child");
        };
        assert!(run.succeeded(), "{run:?}");
        assert_eq!(run.stdout, "started\n");
        let pids = sleeping(&secs(1004));
        assert_eq!(
            run.left_running,
            pids.iter()
                .map(|&pid| LeftProcess {
                    pid,
                    program: "sleep".into()
                })
                .collect::<Vec<_>>()
        );
        assert_eq!(pids.len(), 1);
        group
            .expect("a group with a member")
            .end_and_forget(KILL_GRACE)
            .await;
        assert_none_left(&secs(1004));
    }

    #[tokio::test]
    async fn the_runs_end_cuts_a_hook_that_ignores_sigterm() {
        let cmd = HookCommand::Shell(format!("trap '' TERM; sleep {}; echo after", secs(1005)));
        let cut = CancellationToken::new();
        let cutting = cut.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            cutting.cancel();
        });
        let hooked = tokio::time::timeout(
            Duration::from_secs(20),
            run_hook(&cmd, Duration::from_secs(60), clock(), &[], &cut),
        )
        .await;
        assert_none_left(&secs(1005));
        let (run, group) = hooked.expect("SIGKILL follows the ignored SIGTERM");
        assert!(run.cut_by_run_end && !run.timed_out, "{run:?}");
        assert!(!run.succeeded());
        assert_eq!(run.status(), "still running when the run ended (killed)");
        assert!(group.is_none());
    }

    #[tokio::test]
    async fn dropping_a_group_kills_what_is_left_and_detaching_keeps_it() {
        let cmd = HookCommand::Shell(format!(
            "sleep {} & sleep {} & true",
            secs(1006),
            secs(1007)
        ));
        let (_, group) = run_hook(
            &cmd,
            Duration::from_secs(60),
            clock(),
            &[],
            &CancellationToken::new(),
        )
        .await;
        assert_eq!(group.as_ref().unwrap().members().len(), 2);
        drop(group);
        for _ in 0..100 {
            if sleeping(&secs(1006)).is_empty() && sleeping(&secs(1007)).is_empty() {
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        assert_none_left(&secs(1006));
        assert_none_left(&secs(1007));

        let cmd = HookCommand::Shell(format!("sleep {} & true", secs(1008)));
        let (_, group) = run_hook(
            &cmd,
            Duration::from_secs(60),
            clock(),
            &[],
            &CancellationToken::new(),
        )
        .await;
        group.unwrap().detach();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let detached = sleeping(&secs(1008));
        for pid in &detached {
            // SAFETY: sends a signal to a process this test started.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        assert_eq!(detached.len(), 1, "a detached group is left running");
    }

    #[tokio::test]
    async fn a_missing_program_is_a_failed_hook() {
        let cmd = HookCommand::Argv(vec!["/nonexistent/meshdrill-hook".into()]);
        let run = run(&cmd, Duration::from_secs(1), &[]).await;
        assert!(!run.succeeded());
        assert!(
            run.error.as_deref().unwrap().starts_with("cannot start"),
            "{run:?}"
        );
    }

    #[tokio::test]
    async fn output_is_bounded() {
        let cmd = HookCommand::Shell("head -c 200000 /dev/zero | tr '\\0' x".into());
        let run = run(&cmd, Duration::from_secs(10), &[]).await;
        assert!(run.succeeded());
        assert!(run.stdout.starts_with(&"x".repeat(1000)));
        assert!(
            run.stdout.ends_with("[... 134464 more bytes not kept]") && run.output_cut,
            "{}",
            &run.stdout[run.stdout.len() - 60..]
        );
    }
}
