//! Runs the `[[capture]]` commands of one phase (the run's start, before
//! traffic, or its end, after traffic stopped) through the hook runner (no
//! stdin, bounded output, timeout ending its process group, `${VAR}`
//! resolved as hooks resolve it), and keeps what each printed in the
//! results folder. A capture that cannot start, fails or times out is
//! reported and kept as such; it never fails the run nor touches its verdict.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;

use crate::drill::hooks::{KILL_GRACE, run_hook};
use crate::engine::clock::RunClock;
use crate::results::captures::{CaptureIndex, CaptureRecord, DIR, FILE, output_file};
use crate::results::write_atomic;
use crate::scenario::{CapturePlan, CaptureWhen};

/// Runs every capture of `phase` one after the other (in file order),
/// writes their output and adds them to `index`, then rewrites
/// captures.json whole. Problems writing are reported, never returned: the
/// drill's numbers matter more than a capture's file.
pub async fn run_captures(
    captures: &[CapturePlan],
    phase: CaptureWhen,
    out_dir: &Path,
    index: &mut CaptureIndex,
    cut: &CancellationToken,
) {
    let due: Vec<&CapturePlan> = captures.iter().filter(|c| c.when.includes(phase)).collect();
    if due.is_empty() {
        return;
    }
    if let Err(e) = std::fs::create_dir_all(out_dir.join(DIR)) {
        eprintln!(
            "meshdrill: captures: cannot create {}: {e}",
            out_dir.join(DIR).display()
        );
    }
    let when = phase.word();
    for capture in due {
        let started_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let env = [
            ("MESHDRILL_CAPTURE", capture.name.as_str()),
            ("MESHDRILL_CAPTURE_WHEN", when),
        ];
        let clock = RunClock::starting_in(std::time::Duration::ZERO);
        let (run, group) = run_hook(&capture.command, capture.timeout, clock, &env, cut).await;
        if let Some(group) = group {
            // A capture is a snapshot: nothing it starts outlives it.
            group.end_and_forget(KILL_GRACE).await;
        }
        let stdout_file = output_file(&capture.name, when, false);
        keep(out_dir, &stdout_file, &run.stdout);
        let stderr_file = (!run.stderr.is_empty()).then(|| {
            let file = output_file(&capture.name, when, true);
            keep(out_dir, &file, &run.stderr);
            file
        });
        let record = CaptureRecord {
            name: capture.name.clone(),
            when: when.to_string(),
            command: run.command.clone(),
            started_unix_ms,
            duration_ms: run.ended_ms - run.started_ms,
            exit_code: run.exit_code,
            timed_out: run.timed_out,
            error: run.error.clone(),
            status: run.status(),
            succeeded: run.succeeded(),
            truncated: run.output_cut,
            stdout_file,
            stderr_file,
        };
        if !record.succeeded {
            eprintln!(
                "meshdrill: warning: capture {} at the {when}: {} (its output is kept; the verdict is not affected)",
                record.name, record.status
            );
        }
        index.captures.push(record);
    }
    let json = serde_json::to_vec_pretty(index).expect("captures serialize");
    if let Err(e) = write_atomic(&out_dir.join(FILE), &json) {
        eprintln!("meshdrill: captures: {e}");
    }
}

fn keep(out_dir: &Path, file: &str, text: &str) {
    if let Err(e) = write_atomic(&out_dir.join(file), text.as_bytes()) {
        eprintln!("meshdrill: captures: {e}");
    }
}
