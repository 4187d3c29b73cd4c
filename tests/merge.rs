//! `meshdrill merge DIR... --out DIR`: the shards of one run (`run --shard
//! I/N --start-at WHEN`) added up into one folder judged like a single
//! run's: the unsharded plan's counts, per-second sums, percentiles of the
//! added histograms (exact), the RTO from the added millisecond edges,
//! against embedded simulators (one per shard) and against one shared
//! `meshdrill sim` beside a single run; the faults of the `--hooks-on`
//! shard; a late shard makes the merge INVALID naming it; folders that are
//! not one run's shards are refused.

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
/// at one instant, merged, give exactly the one process plan's 12,000
/// requests, every second's counts and percentiles those of the shards
/// added up. Each shard drives its own embedded simulator here, so its
/// RTO is compared with a single run's against one shared simulator in
/// `shards_and_a_single_run_against_one_sim_measure_one_recovery`.
#[test]
fn three_demo_shards_merge_into_the_one_process_plan() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.toml");
    let at = now_ms() + 2000;
    let folders = shards(&scenario, dir.path(), 3, at, &[]);
    let merged_dir = dir.path().join("merged");
    let refs: Vec<&Path> = folders.iter().map(PathBuf::as_path).collect();
    let out = merge(&refs, &merged_dir);
    let text = output_text(&out);
    let shards: Vec<Results> = folders.iter().map(|f| Results::load(f).unwrap()).collect();
    let merged = Results::load(&merged_dir).unwrap_or_else(|e| panic!("{e}\n{text}"));

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
    assert_eq!(
        merged.summary.all.requests + not_sent(&merged),
        12_000,
        "{text}"
    );
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

    // The RTO counts from the hook shard's T0 to the added edges' recovery.
    let primary = outage(&merged, "primary");
    let t0 = shards[0].summary.faults[0].injected_at_ms.unwrap() as u64;
    assert_eq!(primary.t0_ms, Some(t0), "{text}");
    let recovered = recovered_at(&primary, &text);
    assert_eq!(primary.rto_ms, Some(recovered - t0));
    assert_eq!(
        outage(&merged, "secondary").rto_ms,
        Some(0),
        "the control never fails\n{text}"
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
}

fn not_sent(r: &Results) -> u64 {
    r.summary.targets.iter().map(|t| t.generator.not_sent).sum()
}

/// The first fault's outage report for `scope`.
fn outage(r: &Results, scope: &str) -> meshdrill::results::outage::OutageReport {
    r.summary.outages[0]
        .scopes
        .iter()
        .find(|s| s.scope == scope)
        .unwrap()
        .report
        .clone()
}

fn recovered_at(report: &meshdrill::results::outage::OutageReport, text: &str) -> u64 {
    match report.recovery {
        meshdrill::assess::rto::Recovery::Recovered { at_ms } => at_ms,
        other => panic!("{other:?}\n{text}"),
    }
}

/// One `meshdrill sim` on 127.0.0.1 ports with a control file, as a drill
/// against a real mesh has one set of ingresses for every shard; ended
/// (SIGKILL, by its own pid) when dropped.
struct SharedSim {
    child: Child,
    primary: String,
    secondary: String,
    control: PathBuf,
}

impl SharedSim {
    fn start(dir: &Path) -> SharedSim {
        use std::io::BufRead;
        let control = dir.join("sim-control");
        std::fs::write(&control, "").unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_meshdrill"))
            .args([
                "sim",
                "--primary",
                "127.0.0.1:0",
                "--secondary",
                "127.0.0.1:0",
            ])
            .arg("--control")
            .arg(&control)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let (mut primary, mut secondary) = (None, None);
        for line in lines.by_ref() {
            let line = line.unwrap();
            let addr = |cluster: &str| {
                line.strip_prefix(&format!("{cluster} ingress: http://"))
                    .and_then(|rest| rest.strip_suffix("/productpage"))
                    .map(str::to_string)
            };
            primary = primary.or_else(|| addr("primary"));
            secondary = secondary.or_else(|| addr("secondary"));
            if line == "Ctrl-C to stop" {
                break;
            }
        }
        // The sim says each fault it applies; nobody needs to read it.
        std::thread::spawn(move || lines.for_each(drop));
        SharedSim {
            child,
            primary: primary.expect("the sim names its primary ingress"),
            secondary: secondary.expect("the sim names its secondary ingress"),
            control,
        }
    }

    /// A hook command: write `command` into the control file and signal
    /// the sim; `wait_up` then waits until the primary accepts again, so
    /// the hook's end is after the restore took effect.
    fn hook(&self, command: &str, wait_up: bool) -> String {
        let port = self.primary.rsplit(':').next().unwrap();
        let mut script = format!(
            "printf '%s\\n' '{command}' > '{}' && kill -HUP {}",
            self.control.display(),
            self.child.id()
        );
        if wait_up {
            script.push_str(&format!(
                " && until (: </dev/tcp/127.0.0.1/{port}) 2>/dev/null; do sleep 0.001; done"
            ));
        }
        format!("[\"bash\", \"-c\", {script:?}]")
    }
}

impl Drop for SharedSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one run measured of the primary's outage, and the bounds its
/// hook journal puts on it.
struct Recovery {
    rto_ms: u64,
    /// The restore hook's start minus the inject hook's (faults.jsonl).
    span_ms: f64,
    /// The recovering request's intended send minus the restore hook's end.
    sent_after_restore_ms: f64,
}

/// Checks `r`'s primary RTO against its own hook journal, with bounds that
/// hold on a busy machine: the recovery is never before the restore hook
/// started (less `lag_ms`, the most a shard's clock can run behind the
/// hook shard's), and the request that recovered it was sent, by intended
/// time, at most `slots` request intervals (5 ms at 200/s) after the
/// restore hook ended (it waits until the primary accepts again), plus
/// `lag_ms`. One process: 1 slot. N shards: N, since a shard whose late
/// send succeeded while another still failed is left out of the merged
/// edge and the next slot of the failing shard's own is N slots on
/// (src/merge/rows.rs).
fn recovery(r: &Results, slots: u64, lag_ms: f64, text: &str) -> Recovery {
    let f = &r.summary.faults[0];
    let (inject, restore, restore_done) = (
        f.injected_at_ms.unwrap(),
        f.restored_at_ms.unwrap(),
        f.restore_done_ms.unwrap(),
    );
    let report = outage(r, "primary");
    assert_eq!(report.t0_ms, Some(inject as u64), "{text}");
    let at = recovered_at(&report, text);
    assert_eq!(report.rto_ms, Some(at - inject as u64), "{text}");
    assert!(
        at as f64 >= restore.floor() - lag_ms,
        "recovered at {at} ms, before the restore hook started at {restore} ms\n{text}"
    );
    let last = report.last_failure_ms.unwrap();
    let rows = &r.timeline.scopes[0].rows;
    let second = (last / 1000) as usize;
    let sent = rows[second]
        .first_success_after_last_failure_ms
        .or_else(|| {
            rows[second + 1..]
                .iter()
                .find_map(|row| row.first_success_ms)
        })
        .unwrap();
    assert!(
        sent as f64 <= restore_done + lag_ms + 5.0 * slots as f64,
        "recovering request sent at {sent} ms, the restore hook ended at {restore_done} ms\n{text}"
    );
    Recovery {
        rto_ms: at - inject as u64,
        span_ms: restore - inject,
        sent_after_restore_ms: sent as f64 - restore_done,
    }
}

/// A drill the way a real one looks: one simulator (one mesh) serves every
/// shard, its primary taken down and restored by the hook commands that
/// only shard 0 runs. Three shards of the demo's load (200/s per target,
/// two targets, 30 s, the primary down from 10 s for 8 s) merged, then a
/// single process of the same scenario against the same simulator: both
/// send the plan's 12,000 requests, and both RTOs are bounded by their
/// own hook journal (see [`recovery`]). Their difference is printed, not
/// asserted: each RTO carries its own hooks' start jitter and the sim's
/// reaction to the signal, which a busy machine stretches by more than a
/// request interval.
#[test]
fn shards_and_a_single_run_against_one_sim_measure_one_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SharedSim::start(dir.path());
    let scenario = write(
        dir.path(),
        "shared-sim.toml",
        &format!(
            "name = \"shared-sim\"\n\
             [[target]]\nname = \"primary\"\nurl = \"http://{}/productpage\"\n\
             [[target]]\nname = \"secondary\"\nurl = \"http://{}/productpage\"\n\
             [load]\nrate = 200\nduration = \"30s\"\nwarmup = \"0s\"\ntimeout = \"2s\"\n\
             [[fault]]\nname = \"primary-down\"\ntarget = \"primary\"\n\
             at = \"10s\"\nrestore_at = \"18s\"\ntimeout = \"5s\"\n\
             inject = {}\nrestore = {}\n\
             [recovery]\nwindow = \"5s\"\nthreshold = 99.0\n\
             [slo.target.primary]\nrto_max = \"10s\"\n",
            sim.primary,
            sim.secondary,
            sim.hook("primary down", false),
            sim.hook("primary restore", true),
        ),
    );
    let at = now_ms() + 2000;
    let folders = shards(&scenario, dir.path(), 3, at, &["--hooks-on", "0"]);
    let refs: Vec<&Path> = folders.iter().map(PathBuf::as_path).collect();
    let out = merge(&refs, &dir.path().join("merged"));
    let text = output_text(&out);
    assert!(matches!(out.status.code(), Some(0 | 1 | 4)), "{text}");
    let shards: Vec<Results> = folders.iter().map(|f| Results::load(f).unwrap()).collect();
    let merged = Results::load(&dir.path().join("merged")).unwrap();
    let single_out = common::run_quiet(&scenario, &dir.path().join("single"));
    let single_text = output_text(&single_out);
    assert!(
        matches!(single_out.status.code(), Some(0 | 1 | 4)),
        "{single_text}"
    );
    let single = Results::load(&dir.path().join("single")).unwrap();

    // Only shard 0 ran the commands; the merge keeps its record of them.
    assert!(shards[0].summary.faults[0].inject_hook.is_some(), "{text}");
    assert!(shards[1].summary.faults[0].inject_hook.is_none(), "{text}");
    assert!(merged.summary.faults[0].inject_hook.is_some(), "{text}");
    assert!(
        merged.summary.faults[0]
            .restore_hook
            .as_ref()
            .unwrap()
            .succeeded()
    );

    // The plan's exact count, sent by three processes or by one.
    for (r, t) in [(&merged, &text), (&single, &single_text)] {
        let planned: u64 = r
            .summary
            .targets
            .iter()
            .map(|t| t.generator.planned.unwrap())
            .sum();
        assert_eq!(planned, 12_000, "{t}");
        assert_eq!(r.summary.all.requests + not_sent(r), 12_000, "{t}");
    }
    if not_sent(&merged) == 0 && not_sent(&single) == 0 {
        assert_eq!(merged.summary.all.requests, single.summary.all.requests);
    }

    let lag = shards
        .iter()
        .filter_map(|s| s.summary.start.as_ref().map(|s| s.lag_ms))
        .fold(0.0, f64::max);
    let m = recovery(&merged, 3, lag, &text);
    let s = recovery(&single, 1, 0.0, &single_text);
    assert_eq!(outage(&merged, "secondary").rto_ms, Some(0), "{text}");
    assert_eq!(
        outage(&single, "secondary").rto_ms,
        Some(0),
        "{single_text}"
    );
    for (name, r) in [("merged 3 shards", &m), ("single process ", &s)] {
        eprintln!(
            "{name}: RTO {} ms (restore hook {:.1} ms after inject, recovered {:.1} ms \
             after it; the recovering request sent {:.1} ms after the hook ended)",
            r.rto_ms,
            r.span_ms,
            r.rto_ms as f64 - r.span_ms,
            r.sent_after_restore_ms
        );
    }
    eprintln!("merged - single: {} ms", m.rto_ms as i64 - s.rto_ms as i64);
}

/// `--hooks-on 1`: the faults, their hooks and faults.jsonl of the merge
/// are shard 1's (the one that ran the commands), not shard 0's.
#[test]
fn the_merge_takes_the_faults_of_the_shard_that_ran_the_hooks() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "merge.toml",
        &format!(
            "{SHORT}[[fault]]\nname = \"flip\"\ntarget = \"primary\"\nat = \"500ms\"\n\
             restore_at = \"1500ms\"\ninject = [\"sh\", \"-c\", \"echo injected\"]\n\
             restore = [\"sh\", \"-c\", \"echo restored\"]\n"
        ),
    );
    let folders = shards(
        &scenario,
        dir.path(),
        2,
        now_ms() + 1500,
        &["--hooks-on", "1", "--max-skew", "1s"],
    );
    let out = merge(&[&folders[0], &folders[1]], &dir.path().join("merged"));
    let text = output_text(&out);
    assert!(matches!(out.status.code(), Some(0 | 1 | 4)), "{text}");
    let merged = Results::load(&dir.path().join("merged")).unwrap();
    let (zero, one) = (
        Results::load(&folders[0]).unwrap(),
        Results::load(&folders[1]).unwrap(),
    );
    assert_eq!(
        merged.summary.merged.as_ref().unwrap().hooks_on,
        1,
        "{text}"
    );
    let hook = one.summary.faults[0]
        .inject_hook
        .as_ref()
        .expect("shard 1 ran it");
    assert_eq!(hook.stdout, "injected\n");
    assert_eq!(zero.summary.faults[0].inject_hook, None, "{text}");
    assert_eq!(merged.summary.faults, one.summary.faults, "{text}");
    assert_ne!(merged.summary.faults, zero.summary.faults, "{text}");
    assert_eq!(merged.journal, one.journal, "{text}");
    assert_eq!(merged.journal.len(), 2, "inject and restore: {text}");
    assert_eq!(
        std::fs::read(dir.path().join("merged/faults.jsonl")).unwrap(),
        std::fs::read(folders[1].join("faults.jsonl")).unwrap()
    );
    // T0 is shard 1's inject.
    let t0 = one.summary.faults[0].injected_at_ms.unwrap() as u64;
    assert_eq!(outage(&merged, "primary").t0_ms, Some(t0), "{text}");
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
    // The merged start: the shared instant, the latest shard's lag, each
    // shard's own word; judged once, in the shard's name, not again.
    assert!(
        !reasons.iter().any(|r| r.starts_with("started ")),
        "{reasons:#?}"
    );
    let start = merged.summary.start.as_ref().expect("merged start");
    assert_eq!(start.at_unix_ms, at);
    let lags: Vec<f64> = ["shard-0", "shard-1"]
        .iter()
        .map(|s| {
            let shard = Results::load(&dir.path().join(s)).unwrap();
            shard.summary.start.unwrap().lag_ms
        })
        .collect();
    assert_eq!(start.lag_ms, lags[0].max(lags[1]));
    assert!(start.lag_ms >= 300.0, "{start:?}");
    assert_eq!(start.max_skew_ms, 50.0, "the strictest shard's");
    assert_eq!(start.notes.len(), 2, "{start:?}");
    assert!(
        start.notes[1].starts_with(&format!(
            "shard 1/2: second 0 {:.1} ms after --start-at (max skew 50 ms), clock ",
            lags[1]
        )),
        "{start:?}"
    );
    assert_eq!(merged.plan.as_ref().unwrap().start.as_ref(), Some(start));
    let md = std::fs::read_to_string(dir.path().join("merged/summary.md")).unwrap();
    assert!(
        md.contains(&format!(
            "Second 0 at --start-at {}: the latest shard {:.1} ms late (max skew 50 ms)",
            humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(at)),
            start.lag_ms
        )),
        "{md}"
    );
    assert!(md.contains("\n- shard 1/2: second 0 "), "{md}");
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
