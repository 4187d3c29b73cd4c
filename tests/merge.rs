//! `meshdrill merge DIR... --out DIR`: the shards of one run (`run --shard
//! I/N --start-at WHEN`, each process against its own embedded simulator)
//! added up into one folder judged like a single run's: the unsharded
//! plan's counts, per-second sums, percentiles of the added histograms
//! (exact), the RTO from the added millisecond edges; a late shard makes
//! the merge INVALID naming it; folders that are not one run's shards are
//! refused.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::output_text;
use meshdrill::record::new_histogram;
use meshdrill::results::Results;
use meshdrill::results::summary::percentiles;

const SHORT: &str = "name = \"merge\"\n\
    [[target]]\nname = \"primary\"\nurl = \"sim:primary\"\n\
    [[target]]\nname = \"secondary\"\nurl = \"sim:secondary\"\n\
    [load]\nrate = 30\nduration = \"2s\"\nwarmup = \"0s\"\nmax_late_pct = 50\n\
    [sim]\nlatency = \"1ms\"\n";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn spawn(scenario: &Path, out: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("run")
        .arg(scenario)
        .arg("--quiet")
        .args(args)
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `count` shards of `scenario` started together at `at` (Unix ms), into
/// `root/shard-I`; their folders.
fn shards(scenario: &Path, root: &Path, count: u32, at: u64, extra: &[&str]) -> Vec<PathBuf> {
    let at = at.to_string();
    let children: Vec<(Child, PathBuf)> = (0..count)
        .map(|i| {
            let out = root.join(format!("shard-{i}"));
            let shard = format!("{i}/{count}");
            let mut args = vec!["--shard", &shard, "--start-at", &at];
            args.extend_from_slice(extra);
            (spawn(scenario, &out, &args), out)
        })
        .collect();
    children
        .into_iter()
        .map(|(child, out)| {
            let output = child.wait_with_output().unwrap();
            // 0, 1 or 4 (a busy machine's generator): the folder is whole.
            assert!(
                matches!(output.status.code(), Some(0 | 1 | 4)),
                "{}",
                output_text(&output)
            );
            out
        })
        .collect()
}

fn merge(dirs: &[&Path], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("merge")
        .args(dirs)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Per target (plan order) then `all`: the measured seconds' histogram of
/// every shard's latency.hlog added, and per second per target.
fn added_hlogs(shards: &[Results]) -> Vec<hdrhistogram::Histogram<u64>> {
    let names: Vec<&str> = shards[0]
        .summary
        .targets
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let mut sums: Vec<_> = (0..=names.len()).map(|_| new_histogram()).collect();
    for shard in shards {
        for interval in &shard.hlog.intervals {
            let k = names.iter().position(|n| *n == interval.tag).unwrap();
            let h = interval.histogram();
            sums[k].add(&h).unwrap();
            sums[names.len()].add(&h).unwrap();
        }
    }
    sums
}

/// The done-when: three shards of scenarios/demo.toml (200/s per
/// target, two targets, 30 s, the primary down from 10 s to 18 s) started
/// at one instant, merged; a single process of the same scenario beside
/// them for comparison.
#[test]
fn three_demo_shards_merge_into_the_one_process_plan() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.toml");
    let at = now_ms() + 2000;
    let single = spawn(
        &scenario,
        &dir.path().join("single"),
        &["--start-at", &at.to_string(), "--max-skew", "1s"],
    );
    let folders = shards(&scenario, dir.path(), 3, at, &[]);
    let single_out = single.wait_with_output().unwrap();
    assert!(
        matches!(single_out.status.code(), Some(0 | 1 | 4)),
        "{}",
        output_text(&single_out)
    );
    let merged_dir = dir.path().join("merged");
    let refs: Vec<&Path> = folders.iter().map(PathBuf::as_path).collect();
    let out = merge(&refs, &merged_dir);
    let text = output_text(&out);
    let shards: Vec<Results> = folders.iter().map(|f| Results::load(f).unwrap()).collect();
    let merged = Results::load(&merged_dir).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let single = Results::load(&dir.path().join("single")).unwrap();

    // What one process plans: 200/s × 30 s per target, 12,000 in all.
    let planned: u64 = merged
        .summary
        .targets
        .iter()
        .map(|t| t.generator.planned.unwrap())
        .sum();
    assert_eq!(planned, 12_000, "{text}");
    for t in &merged.summary.targets {
        assert_eq!(t.generator.planned, Some(6_000), "{text}");
        assert_eq!(t.generator.sent + t.generator.not_sent, 6_000, "{text}");
    }
    let sent: u64 = shards.iter().map(|s| s.summary.all.requests).sum();
    assert_eq!(merged.summary.all.requests, sent);
    let not_sent: u64 = merged
        .summary
        .targets
        .iter()
        .map(|t| t.generator.not_sent)
        .sum();
    assert_eq!(merged.summary.all.requests + not_sent, 12_000, "{text}");
    let merged_info = merged
        .summary
        .merged
        .as_ref()
        .expect("merged: {shards, ...}");
    assert_eq!(merged_info.shards, 3);
    assert_eq!(merged.summary.shard, None);
    assert_eq!(merged.plan.as_ref().unwrap().shard, None);

    // Every second of every scope: the shards' counts added up.
    for scope in &merged.timeline.scopes {
        assert_eq!(scope.rows.len(), 30, "{}", scope.scope);
        for row in &scope.rows {
            let of = |s: &Results| {
                s.timeline
                    .scopes
                    .iter()
                    .find(|x| x.scope == scope.scope)
                    .unwrap()
                    .rows[row.second as usize]
                    .clone()
            };
            let sum = |f: fn(&meshdrill::results::TimelineRow) -> u64| -> u64 {
                shards.iter().map(|s| f(&of(s))).sum()
            };
            assert_eq!(row.sent, sum(|r| r.sent), "{} {}", scope.scope, row.second);
            assert_eq!(row.failed, sum(|r| r.failed));
            assert_eq!(row.planned, Some(sum(|r| r.planned.unwrap())));
            assert_eq!(
                row.planned,
                Some(if scope.scope == "all" { 400 } else { 200 })
            );
        }
    }

    // Percentiles: exactly those of one histogram of every shard's requests,
    // for the whole run and for every second of every target.
    for interval in &merged.hlog.intervals {
        let mut one = new_histogram();
        for shard in &shards {
            for i in shard.hlog.intervals.iter() {
                if i.second == interval.second && i.tag == interval.tag {
                    one.add(i.histogram()).unwrap();
                }
            }
        }
        let merged_h = interval.histogram();
        assert_eq!(merged_h, one, "{} at {}s", interval.tag, interval.second);
        let row = &merged
            .timeline
            .scopes
            .iter()
            .find(|s| s.scope == interval.tag)
            .unwrap()
            .rows[interval.second as usize];
        let p99 = (!one.is_empty()).then(|| one.value_at_quantile(0.99) as f64 / 1000.0);
        assert_eq!(row.p99_ms, p99, "{} at {}s", interval.tag, interval.second);
    }
    assert_eq!(merged.hlog.intervals.len(), 60);
    let sums = added_hlogs(&shards);
    for (k, t) in merged.summary.targets.iter().enumerate() {
        assert_eq!(t.latency_ms, percentiles(&sums[k]), "{}", t.name);
    }
    assert_eq!(merged.summary.all.latency_ms, percentiles(&sums[2]));

    // The RTO: the hook shard's T0, recovery from the added edges. Each
    // shard restores its own simulator, so the merged recovery follows the
    // last of them: the first success sent after the merged last failure
    // is within one request interval (5 ms at 200/s) of the latest
    // shard's restore (sends are counted by intended time).
    let outage = |r: &Results, scope: &str| {
        r.summary.outages[0]
            .scopes
            .iter()
            .find(|s| s.scope == scope)
            .unwrap()
            .clone()
    };
    let primary = outage(&merged, "primary");
    let t0 = shards[0].summary.faults[0].injected_at_ms.unwrap() as u64;
    assert_eq!(primary.report.t0_ms, Some(t0), "{text}");
    let recovered = match primary.report.recovery {
        meshdrill::assess::rto::Recovery::Recovered { at_ms } => at_ms,
        other => panic!("{other:?}\n{text}"),
    };
    assert_eq!(primary.report.rto_ms, Some(recovered - t0));
    let latest_restore = shards
        .iter()
        .map(|s| s.summary.faults[0].restore_done_ms.unwrap())
        .fold(0.0, f64::max);
    let second = (recovered / 1000) as usize;
    let rows = &merged.timeline.scopes[0].rows;
    let first_after = rows[second]
        .first_success_after_last_failure_ms
        .or(rows[second].first_success_ms)
        .unwrap();
    assert!(
        (first_after as f64) <= latest_restore + 5.0,
        "first success sent at {first_after} ms, latest restore {latest_restore} ms\n{text}"
    );
    assert_eq!(
        outage(&merged, "secondary").report.rto_ms,
        Some(0),
        "the control never fails"
    );

    // Generator health: INVALID exactly when a shard was, naming it.
    let verdict = merged.summary.verdict.as_ref().unwrap();
    let shard_invalid = shards.iter().any(|s| {
        s.summary
            .verdict
            .as_ref()
            .is_some_and(|v| !v.generator.invalid.is_empty())
    });
    if shard_invalid {
        assert_eq!(out.status.code(), Some(4), "{text}");
        assert!(
            verdict
                .generator
                .invalid
                .iter()
                .any(|r| r.starts_with("shard ")),
            "{text}"
        );
    } else {
        assert!(matches!(out.status.code(), Some(0 | 1 | 4)), "{text}");
    }

    let line = |r: &Results| {
        let p = outage(r, "primary");
        let l = |t: &meshdrill::results::summary::TargetSummary| {
            let p = t.latency_ms.as_ref().unwrap();
            format!("{} {} req p50 {} p99 {}", t.name, t.requests, p.p50, p.p99)
        };
        format!(
            "{}; {}; RTO primary {:?} ms, secondary {:?} ms; {:?}",
            l(&r.summary.targets[0]),
            l(&r.summary.targets[1]),
            p.report.rto_ms,
            outage(r, "secondary").report.rto_ms,
            r.summary.verdict.as_ref().unwrap().status
        )
    };
    eprintln!("merged 3 shards: {}", line(&merged));
    eprintln!("single process:  {}", line(&single));
    assert_eq!(
        single.summary.all.requests + single_not_sent(&single),
        12_000
    );
}

fn single_not_sent(r: &Results) -> u64 {
    r.summary.targets.iter().map(|t| t.generator.not_sent).sum()
}

#[test]
fn a_shard_started_late_makes_the_merge_invalid_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "merge.toml", SHORT);
    let at = now_ms() + 1500;
    let at_text = at.to_string();
    // Shard 0 on time (a generous skew: a busy machine's lag is not what
    // this is about); shard 1 started 300 ms after second 0.
    let on_time = spawn(
        &scenario,
        &dir.path().join("shard-0"),
        &["--shard", "0/2", "--start-at", &at_text, "--max-skew", "1s"],
    );
    let wait = (at + 300).saturating_sub(now_ms());
    std::thread::sleep(Duration::from_millis(wait));
    let late = spawn(
        &scenario,
        &dir.path().join("shard-1"),
        &["--shard", "1/2", "--start-at", &at_text],
    );
    for child in [on_time, late] {
        let out = child.wait_with_output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 4)),
            "{}",
            output_text(&out)
        );
    }
    let out = merge(
        &[&dir.path().join("shard-0"), &dir.path().join("shard-1")],
        &dir.path().join("merged"),
    );
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(4), "{text}");
    let merged = Results::load(&dir.path().join("merged")).unwrap();
    let reasons = &merged.summary.verdict.as_ref().unwrap().generator.invalid;
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("shard 1/2 (") && r.contains("after --start-at")),
        "{reasons:#?}\n{text}"
    );
    assert!(text.contains("shard 1/2"), "{text}");
}

#[test]
fn folders_that_are_not_one_runs_shards_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let scenario = write(root, "merge.toml", SHORT);
    let other = write(root, "other.toml", &SHORT.replace("rate = 30", "rate = 20"));
    let at = now_ms() + 1500;
    let a = shards(&scenario, &root.join("a"), 2, at, &["--max-skew", "1s"]);
    std::fs::create_dir_all(root.join("b")).unwrap();
    let b = shards(&other, &root.join("b"), 2, at, &["--max-skew", "1s"]);
    std::fs::create_dir_all(root.join("c")).unwrap();
    let c = shards(
        &scenario,
        &root.join("c"),
        3,
        at + 500,
        &["--max-skew", "1s"],
    );
    let refused = |dirs: &[&Path], wanted: &str| {
        let out = merge(dirs, &root.join("merged"));
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(2), "{dirs:?}: {text}");
        assert!(text.contains(wanted), "{dirs:?}: wanted {wanted:?}\n{text}");
        assert!(!root.join("merged/summary.json").exists());
    };
    refused(&[&a[0], &b[1]], "not shards of one scenario");
    refused(&[&a[0], &c[1]], "a shard of 2");
    refused(&[&a[0], &a[0]], "are both shard 0 of 2");
    refused(&[&c[0], &c[1]], "shard(s) 2/3 missing");
    // Shard 1 of 2 of the same scenario, started at another instant.
    let late = root.join("d");
    std::fs::create_dir_all(&late).unwrap();
    let out = spawn(
        &scenario,
        &late.join("shard-1"),
        &[
            "--shard",
            "1/2",
            "--start-at",
            &(at + 700).to_string(),
            "--max-skew",
            "1s",
        ],
    )
    .wait_with_output()
    .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 4)),
        "{}",
        output_text(&out)
    );
    refused(
        &[&a[0], &late.join("shard-1")],
        "share one --start-at instant",
    );
    // An unsharded run, and a folder that cannot be read (exit 3).
    let single = root.join("single");
    let out = common::run_quiet(&scenario, &single);
    assert!(
        matches!(out.status.code(), Some(0 | 4)),
        "{}",
        output_text(&out)
    );
    refused(&[&a[0], &single], "is not a shard");
    let out = merge(&[&a[0], &root.join("nowhere")], &root.join("merged"));
    assert_eq!(out.status.code(), Some(3), "{}", output_text(&out));
    // The shards merge; a second merge into the same folder needs --force.
    let out = merge(&[&a[0], &a[1]], &root.join("merged"));
    assert!(
        matches!(out.status.code(), Some(0 | 4)),
        "{}",
        output_text(&out)
    );
    let again = merge(&[&a[0], &a[1]], &root.join("merged"));
    assert_eq!(again.status.code(), Some(2), "{}", output_text(&again));
    assert!(output_text(&again).contains("holds an earlier run"));
}
