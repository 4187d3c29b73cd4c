//! Runs one fault hook (a kubectl command, a script) the way a drill needs:
//! no stdin, output captured (bounded), killed after its timeout, every
//! instant stamped on the run clock. A hook that cannot start, exits
//! non-zero or times out is a failed hook, never a silent one.

use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::time::Instant;

use crate::engine::clock::RunClock;
use crate::scenario::HookCommand;

/// Output kept per stream; the rest is read and dropped so the hook never
/// blocks on a full pipe.
const OUTPUT_CAP: usize = 64 * 1024;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HookRun {
    pub command: String,
    pub started_ms: f64,
    pub ended_ms: f64,
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    /// Could not start, or was killed by a signal.
    pub error: Option<String>,
}

impl HookRun {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out && self.error.is_none()
    }

    /// One line for logs: `exit 0`, `exit 3`, `timed out after 60s`...
    pub fn status(&self) -> String {
        if self.timed_out {
            "timed out (killed)".to_string()
        } else if let Some(e) = &self.error {
            e.clone()
        } else {
            format!("exit {}", self.exit_code.unwrap_or(-1))
        }
    }
}

/// Runs `command` with `env` added to the inherited environment.
pub async fn run_hook(
    command: &HookCommand,
    timeout: Duration,
    clock: RunClock,
    env: &[(&str, &str)],
) -> HookRun {
    let mut cmd = match command {
        HookCommand::Argv(argv) => {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        }
        HookCommand::Shell(line) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(line);
            c
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .envs(env.iter().copied());
    let ms = |t: Instant| clock.us(t) as f64 / 1000.0;
    let started = Instant::now();
    let mut run = HookRun {
        command: command.display(),
        started_ms: ms(started),
        ..HookRun::default()
    };
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            run.ended_ms = ms(Instant::now());
            run.error = Some(format!("cannot start: {e}"));
            return run;
        }
    };
    let stdout = tokio::spawn(read_capped(child.stdout.take()));
    let stderr = tokio::spawn(read_capped(child.stderr.take()));
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => {
            run.exit_code = status.code();
            if status.code().is_none() {
                run.error = Some(format!("killed by a signal ({status})"));
            }
        }
        Ok(Err(e)) => run.error = Some(format!("waiting for it failed: {e}")),
        Err(_) => {
            run.timed_out = true;
            let _ = child.kill().await;
        }
    }
    run.ended_ms = ms(Instant::now());
    run.stdout = stdout.await.unwrap_or_default();
    run.stderr = stderr.await.unwrap_or_default();
    run
}

async fn read_capped<R: AsyncRead + Unpin>(pipe: Option<R>) -> String {
    let Some(mut pipe) = pipe else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut dropped = 0usize;
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = OUTPUT_CAP.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
                dropped += n.saturating_sub(room);
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if dropped > 0 {
        text.push_str(&format!("\n[... {dropped} more bytes not kept]"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> RunClock {
        RunClock::starting_in(Duration::ZERO)
    }

    #[tokio::test]
    async fn captures_exit_code_and_output() {
        let cmd =
            HookCommand::Shell("echo out; echo err >&2; echo $MESHDRILL_FAULT; exit 3".into());
        let run = run_hook(
            &cmd,
            Duration::from_secs(10),
            clock(),
            &[("MESHDRILL_FAULT", "f1")],
        )
        .await;
        assert_eq!(run.exit_code, Some(3));
        assert!(!run.succeeded());
        assert_eq!(run.stdout, "out\nf1\n");
        assert_eq!(run.stderr, "err\n");
        assert!(run.ended_ms >= run.started_ms);
        assert_eq!(run.status(), "exit 3");
    }

    #[tokio::test]
    async fn argv_runs_without_a_shell() {
        let cmd = HookCommand::Argv(vec![
            "printf".into(),
            "%s|".into(),
            "a b".into(),
            "$HOME".into(),
        ]);
        let run = run_hook(&cmd, Duration::from_secs(10), clock(), &[]).await;
        assert!(run.succeeded(), "{run:?}");
        assert_eq!(run.stdout, "a b|$HOME|");
    }

    #[tokio::test]
    async fn a_hook_over_its_timeout_is_killed_and_failed() {
        let cmd = HookCommand::Argv(vec!["sleep".into(), "30".into()]);
        let run = run_hook(&cmd, Duration::from_millis(200), clock(), &[]).await;
        assert!(run.timed_out);
        assert!(!run.succeeded());
        assert!(run.ended_ms - run.started_ms < 5_000.0, "{run:?}");
    }

    #[tokio::test]
    async fn a_missing_program_is_a_failed_hook() {
        let cmd = HookCommand::Argv(vec!["/nonexistent/meshdrill-hook".into()]);
        let run = run_hook(&cmd, Duration::from_secs(1), clock(), &[]).await;
        assert!(!run.succeeded());
        assert!(
            run.error.as_deref().unwrap().starts_with("cannot start"),
            "{run:?}"
        );
    }

    #[tokio::test]
    async fn output_is_bounded() {
        let cmd = HookCommand::Shell("head -c 200000 /dev/zero | tr '\\0' x".into());
        let run = run_hook(&cmd, Duration::from_secs(10), clock(), &[]).await;
        assert!(run.succeeded());
        assert!(run.stdout.starts_with(&"x".repeat(1000)));
        assert!(
            run.stdout.ends_with("[... 134464 more bytes not kept]"),
            "{}",
            &run.stdout[run.stdout.len() - 60..]
        );
    }
}
