//! `meshdrill merge DIR... --out DIR`: the results folders of the N shards
//! of one run (`run --shard I/N --start-at WHEN`) added up into one folder,
//! judged exactly like a single run's: every shard read with
//! [`Results::load`], refused unless they are one run's ([`check`]); per
//! second per target the timeline rows added up ([`rows`]) and the latency
//! intervals added as histograms (exact, so the merged percentiles are
//! those of one histogram of every shard's requests); the summaries'
//! counts added up ([`totals`]); the faults and markers those of the shard
//! that ran the hooks; `start` the shards' starts combined ([`start`]).
//! The merged files are written by the writers a run
//! uses, read back with [`Results::beside`], assessed by
//! [`crate::assess::assess`] and drawn by `report`, like a run's.
//!
//! A shard that could not be judged on its own (its generator health:
//! late or skewed start, limited seconds, late or unsent requests) makes
//! the merge INVALID, the reason naming the shard
//! ([`crate::results::summary::MergedFrom::invalid`]).

pub mod check;
pub mod rows;
pub mod start;
pub mod totals;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use crate::assess::{VerdictStatus, assess};
use crate::record::{NAMED_CLUSTERS, Phase, new_histogram};
use crate::results::addresses::AddressRow;
use crate::results::hlog::{HlogWriter, Interval, Which};
use crate::results::summary::{self, MergedFrom, Summary, percentiles};
use crate::results::timeline_read::{ScopeRows, Timeline, TimelineRow};
use crate::results::{LoadError, Results, write_atomic};

/// What the command line asks for.
pub struct MergeOptions {
    pub dirs: Vec<PathBuf>,
    pub out: PathBuf,
    pub force: bool,
}

/// A merged, judged folder.
pub struct Merged {
    pub status: VerdictStatus,
    /// The run's final table, for stdout.
    pub text: String,
    /// Charts, report.html or summary.md not written, for stderr.
    pub warnings: Vec<String>,
    pub summary: Summary,
    pub out_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Not shards of one run, or an `--out` that cannot be used (exit 2).
    #[error("{0}")]
    Refused(String),
    /// A shard's folder cannot be read (exit 3).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A merged file could not be written (exit 3).
    #[error("{0}")]
    Write(String),
}

fn write_error(e: impl std::fmt::Display) -> MergeError {
    MergeError::Write(e.to_string())
}

pub fn merge(opts: &MergeOptions) -> Result<Merged, MergeError> {
    if opts.dirs.len() < 2 {
        return Err(MergeError::Refused(
            "give every shard's folder (at least two) to merge".into(),
        ));
    }
    let mut folders = Vec::with_capacity(opts.dirs.len());
    for dir in &opts.dirs {
        if same_folder(dir, &opts.out) {
            return Err(MergeError::Refused(format!(
                "--out {} is one of the shards' folders: write the merge to a folder of its own",
                opts.out.display()
            )));
        }
        folders.push(Results::load(dir)?);
    }
    let shards = check::shards_of(folders).map_err(MergeError::Refused)?;
    crate::report::rejudge::claim(&opts.out, opts.force).map_err(|e| match e {
        crate::report::rejudge::RejudgeError::Usage(m) => MergeError::Refused(m),
        other => MergeError::Write(other.to_string()),
    })?;
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| MergeError::Write(format!("--out {}: {e}", opts.out.display())))?;
    let out = opts.out.as_path();

    let hooks_on = hooks_shard(&shards);
    let count = shards.len() as u32;
    let mut invalid = Vec::new();
    for (i, shard) in shards.iter().enumerate() {
        let own = assess(shard, &shard.summary.recovery, &shard.summary.slo);
        for reason in own.verdict.generator.invalid {
            invalid.push(format!(
                "shard {i}/{count} ({}): {reason}",
                shard.dir.display()
            ));
        }
    }
    let base = &shards[hooks_on as usize];
    let names: Vec<String> = base
        .summary
        .targets
        .iter()
        .map(|t| t.name.clone())
        .collect();
    let epoch = UNIX_EPOCH + Duration::from_millis(base.summary.start_unix_ms);
    let max_late_pct = base.summary.scenario.max_late_pct;

    let seconds = added_up(&shards, &names, out, epoch, max_late_pct)?;
    if shards.iter().all(|s| s.addresses.is_some()) {
        crate::results::addresses::write_rows(out, &addresses(&shards, &names))
            .map_err(write_error)?;
    }
    let journal = base.dir.join(crate::results::faults::FILE);
    if journal.exists() {
        std::fs::copy(&journal, out.join(crate::results::faults::FILE))
            .map_err(|e| MergeError::Write(format!("{}: {e}", journal.display())))?;
    }
    copy_hooks_shard_files(&base.dir, out)?;
    let merged = MergedFrom {
        shards: count,
        folders: shards.iter().map(|s| s.dir.display().to_string()).collect(),
        start_at_unix_ms: base.summary.start.as_ref().map_or(0, |s| s.at_unix_ms),
        hooks_on,
        invalid,
        notes: vec![totals::NOT_ADDED.to_string()],
    };
    let starts: Vec<_> = shards.iter().map(|s| s.summary.start.as_ref()).collect();
    let start = start::combined(&starts);
    if let Some(plan) = &base.plan {
        let mut plan = plan.clone();
        plan.shard = None;
        plan.start = start.clone();
        plan.merged = Some(merged.clone());
        plan.write(out).map_err(write_error)?;
    }

    let mut summary = merged_summary(&shards, hooks_on as usize, &seconds);
    summary.start = start;
    summary.merged = Some(merged);
    let mut results = Results::beside(out, summary)?;
    let assessment = assess(&results, &results.summary.recovery, &results.summary.slo);
    results.summary.outages = assessment.outages.clone();
    results.summary.verdict = Some(assessment.verdict.clone());
    let json = serde_json::to_vec_pretty(&results.summary).expect("a summary serializes");
    write_atomic(&out.join(summary::FILE), &json).map_err(write_error)?;

    let mut warnings = Vec::new();
    let hgrm_names = names.iter().map(String::as_str).chain(["all"]);
    for (name, h) in hgrm_names.zip(&seconds.measured) {
        let path = out.join(crate::report::hgrm_file(name));
        write_atomic(&path, crate::report::hgrm::render(h).as_bytes()).map_err(write_error)?;
    }
    if let Err(e) = crate::report::render_charts(out, &results, &assessment) {
        warnings.push(format!("charts not written: {e}"));
    }
    if let Err(e) = crate::report::html::write(
        out,
        &results.summary,
        crate::report::html::Beside::of(&results),
    ) {
        warnings.push(format!("report.html not written: {e}"));
    }
    if let Err(e) = crate::report::markdown::write(out, &results.summary) {
        warnings.push(format!("summary.md not written: {e}"));
    }
    let mut text = crate::report::table::table(&results.summary, &out.display().to_string());
    text.push_str(&format!(
        "\nmerged {count} shards ({}) into {}\n",
        results
            .summary
            .merged
            .as_ref()
            .map(|m| m.folders.join(", "))
            .unwrap_or_default(),
        out.display()
    ));
    Ok(Merged {
        status: assessment.verdict.status,
        text,
        warnings,
        summary: results.summary,
        out_dir: out.to_path_buf(),
    })
}

/// What only the hooks shard collects (its captures, Grafana annotations
/// and `[evidence]` queries), copied as it is so the merged report.html
/// shows them. The annotations' texts are that shard's own figures: they
/// were posted before any merge.
fn copy_hooks_shard_files(from: &Path, to: &Path) -> Result<(), MergeError> {
    use crate::results::{annotations, captures, evidence};
    let copy = |name: &str| -> Result<(), MergeError> {
        let src = from.join(name);
        if src.is_file() {
            std::fs::copy(&src, to.join(name))
                .map_err(|e| MergeError::Write(format!("{}: {e}", src.display())))?;
        } else if src.is_dir() {
            let dst = to.join(name);
            std::fs::create_dir_all(&dst)
                .map_err(|e| MergeError::Write(format!("{}: {e}", dst.display())))?;
            let entries = std::fs::read_dir(&src)
                .map_err(|e| MergeError::Write(format!("{}: {e}", src.display())))?;
            for entry in entries {
                let entry =
                    entry.map_err(|e| MergeError::Write(format!("{}: {e}", src.display())))?;
                if entry.path().is_file() {
                    std::fs::copy(entry.path(), dst.join(entry.file_name())).map_err(|e| {
                        MergeError::Write(format!("{}: {e}", entry.path().display()))
                    })?;
                }
            }
        }
        Ok(())
    };
    for name in [
        captures::FILE,
        captures::DIR,
        annotations::FILE,
        evidence::FILE,
        evidence::DIR,
    ] {
        copy(name)?;
    }
    Ok(())
}

/// The shard that ran the hook faults' commands and took the markers
/// (`--hooks-on`, as its fault records or journal say; shard 0 when
/// nothing says).
fn hooks_shard(shards: &[Results]) -> u32 {
    use crate::results::faults::JournalLine;
    shards
        .iter()
        .flat_map(|s| &s.summary.faults)
        .find_map(|f| f.hooks_on_shard)
        .or_else(|| {
            shards
                .iter()
                .flat_map(|s| &s.journal)
                .find_map(|line| match line {
                    JournalLine::Step(step) => step.hooks_on_shard,
                    JournalLine::Marker { .. } => None,
                })
        })
        .filter(|&i| (i as usize) < shards.len())
        .unwrap_or(0)
}

/// The whole-run histograms of the measured phase, per target then `all`,
/// added up while the seconds are.
struct Seconds {
    count: u32,
    measured: Vec<Histogram<u64>>,
}

/// timeline.csv, latency.hlog and latency-ok.hlog of the merge, second by
/// second (one second's histograms decoded at a time).
fn added_up(
    shards: &[Results],
    names: &[String],
    out: &Path,
    epoch: SystemTime,
    max_late_pct: f64,
) -> Result<Seconds, MergeError> {
    let clusters = cluster_columns(shards);
    let seconds = shards
        .iter()
        .flat_map(|s| &s.timeline.scopes)
        .flat_map(|s| s.rows.last())
        .map(|r| r.second + 1)
        .max()
        .unwrap_or(0);
    let index = |log: &crate::results::hlog::Hlog| -> HashMap<(u32, String), Interval> {
        log.intervals
            .iter()
            .map(|i| ((i.second, i.tag.clone()), i.clone()))
            .collect()
    };
    let every: Vec<_> = shards.iter().map(|s| index(&s.hlog)).collect();
    let with_ok = shards.iter().all(|s| s.hlog_ok.is_some());
    let ok: Vec<_> = shards
        .iter()
        .filter_map(|s| s.hlog_ok.as_ref().map(index))
        .collect();
    let mut hlog =
        HlogWriter::create(out, Which::All, names.to_vec(), epoch).map_err(write_error)?;
    let mut hlog_ok = if with_ok {
        Some(HlogWriter::create(out, Which::Ok, names.to_vec(), epoch).map_err(write_error)?)
    } else {
        None
    };
    let tags: Vec<String> = names
        .iter()
        .map(|t| t.replace([',', ' ', '\r', '\n'], "_"))
        .collect();
    let scopes: Vec<&str> = names.iter().map(String::as_str).chain(["all"]).collect();
    let mut timeline = Timeline {
        clusters: clusters.clone(),
        scopes: scopes
            .iter()
            .map(|s| ScopeRows {
                scope: s.to_string(),
                rows: Vec::new(),
            })
            .collect(),
    };
    let mut measured: Vec<Histogram<u64>> = scopes.iter().map(|_| new_histogram()).collect();
    let add_up = |logs: &[HashMap<(u32, String), Interval>], second: u32| {
        let mut per_target: Vec<Histogram<u64>> = Vec::with_capacity(tags.len());
        for tag in &tags {
            let mut h = new_histogram();
            for log in logs {
                if let Some(i) = log.get(&(second, tag.clone())) {
                    // Same bounds as every recorded histogram.
                    let _ = h.add(i.histogram());
                }
            }
            per_target.push(h);
        }
        per_target
    };
    for second in 0..seconds {
        let per_target = add_up(&every, second);
        let mut all = new_histogram();
        for h in &per_target {
            let _ = all.add(h);
        }
        hlog.write_second(second, &per_target.iter().collect::<Vec<_>>())
            .map_err(write_error)?;
        if let Some(writer) = hlog_ok.as_mut() {
            let per_target = add_up(&ok, second);
            writer
                .write_second(second, &per_target.iter().collect::<Vec<_>>())
                .map_err(write_error)?;
        }
        let mut is_measured = false;
        for (k, scope) in scopes.iter().enumerate() {
            let found: Vec<TimelineRow> = shards
                .iter()
                .filter_map(|s| {
                    row_of(s, scope, second).map(|r| remap(r, &s.timeline.clusters, &clusters))
                })
                .collect();
            if found.is_empty() {
                continue;
            }
            let latency = per_target.get(k).unwrap_or(&all);
            let refs: Vec<&TimelineRow> = found.iter().collect();
            let row = rows::add(&refs, latency, max_late_pct);
            is_measured |= row.phase != Phase::Warmup.name();
            timeline.scopes[k].rows.push(row);
        }
        if is_measured {
            for (k, h) in measured.iter_mut().enumerate() {
                let _ = h.add(per_target.get(k).unwrap_or(&all));
            }
        }
    }
    crate::results::timeline::write_rows(out, &timeline, epoch).map_err(write_error)?;
    Ok(Seconds {
        count: seconds,
        measured,
    })
}

/// The shard's row of `scope` for `second`.
fn row_of<'a>(shard: &'a Results, scope: &str, second: u32) -> Option<&'a TimelineRow> {
    let rows = &shard
        .timeline
        .scopes
        .iter()
        .find(|s| s.scope == scope)?
        .rows;
    match rows.get(second as usize) {
        Some(r) if r.second == second => Some(r),
        _ => rows.iter().find(|r| r.second == second),
    }
}

/// The merge's cluster columns: every shard's named clusters in the order
/// first seen (shard 0's first), as many as a run names, then `other` and
/// `unknown`.
fn cluster_columns(shards: &[Results]) -> Vec<String> {
    let mut named: Vec<String> = Vec::new();
    for s in shards {
        let columns = &s.timeline.clusters;
        for c in &columns[..columns.len().saturating_sub(2)] {
            if !named.contains(c) && named.len() < NAMED_CLUSTERS {
                named.push(c.clone());
            }
        }
    }
    named.extend(["other".to_string(), "unknown".to_string()]);
    named
}

/// `row` with its cluster columns (named `from`) moved to the merge's
/// (`to`); a cluster the merge has no column for counts as `other`.
fn remap(row: &TimelineRow, from: &[String], to: &[String]) -> TimelineRow {
    let other = to.len() - 2;
    let mut r = row.clone();
    r.clusters = vec![0; to.len()];
    r.cluster_first_ms = vec![None; to.len()];
    for (j, name) in from.iter().enumerate() {
        let k = if j + 2 >= from.len() {
            to.len() - (from.len() - j)
        } else {
            to.iter().position(|c| c == name).unwrap_or(other)
        };
        r.clusters[k] += row.clusters.get(j).copied().unwrap_or(0);
        let first = row.cluster_first_ms.get(j).copied().flatten();
        r.cluster_first_ms[k] = match (r.cluster_first_ms[k], first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    r
}

/// addresses.csv of the merge: each second's requests per target per
/// address summed over the shards, by second, target (plan order), address.
fn addresses(shards: &[Results], names: &[String]) -> Vec<AddressRow> {
    let mut sums: BTreeMap<(u32, usize, String), AddressRow> = BTreeMap::new();
    for row in shards.iter().flat_map(|s| s.addresses.iter().flatten()) {
        let target = names
            .iter()
            .position(|n| *n == row.target)
            .unwrap_or(names.len());
        let sum = sums
            .entry((row.second, target, row.address.clone()))
            .or_insert_with(|| AddressRow {
                requests: 0,
                ok: 0,
                failed: 0,
                ..row.clone()
            });
        sum.requests += row.requests;
        sum.ok += row.ok;
        sum.failed += row.failed;
    }
    sums.into_values().collect()
}

/// The shards' summaries added up, not yet judged: counts summed, latency
/// from the histograms added up, faults and markers the hook shard's.
fn merged_summary(shards: &[Results], hooks_on: usize, seconds: &Seconds) -> Summary {
    let mut s = shards[hooks_on].summary.clone();
    s.shard = None;
    s.start = None;
    s.outages = Vec::new();
    s.verdict = None;
    s.rejudged_from = None;
    s.rebuilt = None;
    s.seconds = seconds.count;
    let mut first = true;
    for shard in shards {
        let o = &shard.summary;
        if first {
            s.targets = o.targets.clone();
            s.all = o.all.clone();
            s.interrupted = o.interrupted;
            s.abandoned_in_flight = o.abandoned_in_flight;
            s.outcomes_after_row_written = o.outcomes_after_row_written;
            s.open_files_limit = o.open_files_limit;
            s.requests_ended_ms = o.requests_ended_ms;
            for t in s.targets.iter_mut().chain([&mut s.all]) {
                t.service_ms = None;
                t.tls_handshake_ms = None;
            }
            first = false;
            continue;
        }
        for (a, b) in s.targets.iter_mut().zip(&o.targets) {
            totals::add(a, b);
        }
        totals::add(&mut s.all, &o.all);
        s.interrupted |= o.interrupted;
        s.abandoned_in_flight += o.abandoned_in_flight;
        s.outcomes_after_row_written += o.outcomes_after_row_written;
        s.open_files_limit = s
            .open_files_limit
            .min(o.open_files_limit)
            .or(o.open_files_limit);
        s.requests_ended_ms = match (s.requests_ended_ms, o.requests_ended_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    let n = s.targets.len();
    for (k, t) in s.targets.iter_mut().enumerate() {
        t.latency_ms = percentiles(&seconds.measured[k]);
    }
    s.all.latency_ms = percentiles(&seconds.measured[n]);
    s
}

/// True when both paths name one folder.
fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_columns_move_by_name_and_past_the_merges_go_to_other() {
        let from: Vec<String> = ["west", "east", "other", "unknown"]
            .map(String::from)
            .to_vec();
        let to: Vec<String> = ["east", "west", "other", "unknown"]
            .map(String::from)
            .to_vec();
        let row = TimelineRow {
            clusters: vec![5, 7, 1, 2],
            cluster_first_ms: vec![Some(10), Some(3), None, Some(8)],
            ..TimelineRow::default()
        };
        let r = remap(&row, &from, &to);
        assert_eq!(r.clusters, [7, 5, 1, 2]);
        assert_eq!(r.cluster_first_ms, [Some(3), Some(10), None, Some(8)]);
        let narrow: Vec<String> = ["east", "other", "unknown"].map(String::from).to_vec();
        let r = remap(&row, &from, &narrow);
        assert_eq!(r.clusters, [7, 6, 2]);
        assert_eq!(r.cluster_first_ms, [Some(3), Some(10), Some(8)]);
    }

    #[test]
    fn added_histograms_equal_one_histogram_of_every_value() {
        // What `added_up` does per second: the shards' intervals added.
        let (mut a, mut b, mut one) = (new_histogram(), new_histogram(), new_histogram());
        for v in [900u64, 1_200, 1_250, 40_000] {
            a.record(v).unwrap();
            one.record(v).unwrap();
        }
        for v in [1_000u64, 3_000_000, 7] {
            b.record(v).unwrap();
            one.record(v).unwrap();
        }
        let mut sum = new_histogram();
        sum.add(&a).unwrap();
        sum.add(&b).unwrap();
        assert_eq!(sum, one);
        assert_eq!(percentiles(&sum), percentiles(&one));
    }
}
