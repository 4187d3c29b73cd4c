//! A summary rebuilt from what is on disk, for a folder whose run never
//! wrote summary.json (killed with `kill -9`, or the disk filled): from
//! plan.json (scenario, targets, rule, criteria, fault schedule),
//! timeline.csv (every per-second total), latency.hlog (whole-run
//! percentiles) and faults.jsonl (the fault steps and markers as they were
//! journaled). Marked [`Rebuilt`]: what no file records is `null` or empty
//! and listed in [`Rebuilt::missing`].
//!
//! A killed run may leave each per-second file with a cut last line: here,
//! and only here, a final line without its newline is left out, and so is
//! a last second not complete in every file for every target (both said in
//! `missing`). Anything wrong before that is an error naming file and line,
//! as for every other load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::addresses::AddressRow;
use super::faults::{FaultRecord, JournalLine, Step};
use super::hlog::{self, Hlog};
use super::load::{parse_journal, read_if_there};
use super::plan::PlanRecord;
use super::summary::{AddressTotals, Summary, TargetSummary, percentiles};
use super::timeline_read::{self, ScopeRows, Timeline};
use super::{LoadError, Results, faults, timeline};
use crate::outcome::Kind;
use crate::record::{DEGRADED, GeneratorHealth, Phase, new_histogram};

/// How a summary was rebuilt, and what it lacks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rebuilt {
    /// Why, as the console and report.html say it.
    pub reason: String,
    /// What this summary lacks (fields no file records, and lines or
    /// seconds of the files that were left out), as a person reads it.
    pub missing: Vec<String>,
    /// Whole seconds on disk in every per-second file, for every target.
    pub seconds_on_disk: u32,
    /// Seconds the plan asked for (warmup and measured phase).
    pub seconds_planned: u32,
}

impl Rebuilt {
    /// Every planned second is on disk: the run was stopped after its
    /// traffic, before its summary was written, and can be judged.
    pub fn complete(&self) -> bool {
        self.seconds_on_disk >= self.seconds_planned
    }
}

/// What a rebuilt summary always lacks: no per-second file records it.
pub const NOT_ON_DISK: [&str; 11] = [
    "statuses (HTTP status counts)",
    "pods",
    "other_clusters (names past the cluster slots)",
    "service_ms (service-time percentiles)",
    "achieved_rate",
    "in_flight_cap",
    "open_files_limit",
    "requests_ended_ms",
    "outcomes_after_row_written",
    "failover (which member answered)",
    "redirects (Locations) and redirects_followed",
];

/// Why a folder's summary could not be rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// A folder written before runs kept plan.json.
    #[error(
        "{}: no summary.json, and no plan.json to rebuild one from (a folder written by a meshdrill that kept no plan): nothing to judge",
        dir.display()
    )]
    NoPlan { dir: PathBuf },
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// Rebuilds the folder's summary (without outages or verdict: those are
/// `assess`'s) and reads the rest of it beside that summary.
pub fn rebuild(dir: &Path) -> Result<Results, RebuildError> {
    let plan = PlanRecord::read(dir)?.ok_or_else(|| RebuildError::NoPlan {
        dir: dir.to_path_buf(),
    })?;
    let names: Vec<String> = plan.targets.iter().map(|t| t.name.clone()).collect();
    let disk = OnDisk::read(dir, &names, None)?;
    let addresses = super::addresses::read(dir, Some(disk.seconds))?;
    let summary = summarize(&plan, &disk, addresses.as_deref());
    Ok(Results {
        dir: dir.to_path_buf(),
        summary,
        timeline: disk.timeline,
        hlog: disk.hlog,
        hlog_ok: disk.hlog_ok,
        journal: disk.journal,
        plan: Some(plan),
        addresses,
        captures: super::captures::read(dir)?,
        annotations: super::annotations::read(dir)?,
        evidence: super::evidence::read(dir)?,
    })
}

/// The folder's files beside a summary rebuilt earlier from `seconds` of
/// them ([`super::Results::beside`] for a rebuilt summary).
pub fn beside(dir: &Path, summary: Summary, seconds: u32) -> Result<Results, LoadError> {
    let names: Vec<String> = summary.targets.iter().map(|t| t.name.clone()).collect();
    let disk = OnDisk::read(dir, &names, Some(seconds))?;
    if disk.seconds != seconds {
        return Err(LoadError::invalid(
            &dir.join(timeline::FILE),
            None,
            format!(
                "summary.json was rebuilt from {seconds} whole seconds, the files now hold {}",
                disk.seconds
            ),
        ));
    }
    Ok(Results {
        dir: dir.to_path_buf(),
        summary,
        timeline: disk.timeline,
        hlog: disk.hlog,
        hlog_ok: disk.hlog_ok,
        journal: disk.journal,
        plan: PlanRecord::read(dir)?,
        addresses: super::addresses::read(dir, Some(seconds))?,
        captures: super::captures::read(dir)?,
        annotations: super::annotations::read(dir)?,
        evidence: super::evidence::read(dir)?,
    })
}

/// The per-second files and the journal as a killed run left them, cut to
/// the whole seconds every file holds for every target.
struct OnDisk {
    timeline: Timeline,
    hlog: Hlog,
    hlog_ok: Option<Hlog>,
    journal: Vec<JournalLine>,
    /// Whole seconds kept (`0..seconds`).
    seconds: u32,
    /// What was left out, as a person reads it.
    dropped: Vec<String>,
    /// `#[StartTime]` of latency.hlog: the run clock's zero.
    start: Option<Duration>,
}

/// The bytes up to the last newline, and whether a cut line was left out.
fn whole_lines(bytes: &[u8]) -> (&[u8], bool) {
    match bytes.iter().rposition(|&b| b == b'\n') {
        Some(i) if i + 1 == bytes.len() => (bytes, false),
        Some(i) => (&bytes[..=i], true),
        None => (&[], !bytes.is_empty()),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn cut_note(file: &str) -> String {
    format!("{file}: its last line, cut (no newline at its end), was left out")
}

impl OnDisk {
    /// `targets` in plan order; `at_most`: the seconds a rebuilt summary
    /// was made from (the files of a killed run do not grow).
    fn read(dir: &Path, targets: &[String], at_most: Option<u32>) -> Result<OnDisk, LoadError> {
        let mut dropped = Vec::new();
        let path = dir.join(timeline::FILE);
        let bytes = read(&path)?;
        let (whole, cut) = whole_lines(&bytes);
        if cut {
            dropped.push(cut_note(timeline::FILE));
        }
        let mut timeline = timeline_read::parse(&path, whole)?;
        let mut seconds = whole_seconds(&path, &timeline, targets)?;

        let path = dir.join(hlog::FILE);
        let bytes = read(&path)?;
        let (whole, cut) = whole_lines(&bytes);
        if cut {
            dropped.push(cut_note(hlog::FILE));
        }
        let start = hlog::start_time(whole);
        let mut every = hlog::parse(&path, whole)?;
        seconds = seconds.min(whole_intervals(&path, &every, targets)?);
        let path = dir.join(hlog::OK_FILE);
        let mut ok = match read_if_there(&path)? {
            Some(bytes) => {
                let (whole, cut) = whole_lines(&bytes);
                if cut {
                    dropped.push(cut_note(hlog::OK_FILE));
                }
                let ok = hlog::parse(&path, whole)?;
                seconds = seconds.min(whole_intervals(&path, &ok, targets)?);
                Some(ok)
            }
            None => None,
        };
        if let Some(at_most) = at_most {
            seconds = seconds.min(at_most);
        }
        let longest = timeline
            .scopes
            .iter()
            .map(|s| s.rows.len() as u32)
            .max()
            .unwrap_or(0);
        if longest > seconds {
            dropped.push(format!(
                "second {seconds}: not complete in every file for every target, left out"
            ));
        }
        for scope in &mut timeline.scopes {
            scope.rows.truncate(seconds as usize);
        }
        let keep = seconds as usize * targets.len();
        every.intervals.truncate(keep);
        if let Some(ok) = ok.as_mut() {
            ok.intervals.truncate(keep);
        }

        let path = dir.join(faults::FILE);
        let journal = match read_if_there(&path)? {
            Some(bytes) => {
                let (whole, cut) = whole_lines(&bytes);
                if cut {
                    dropped.push(cut_note(faults::FILE));
                }
                parse_journal(&path, whole)?
            }
            None => Vec::new(),
        };
        Ok(OnDisk {
            timeline,
            hlog: every,
            hlog_ok: ok,
            journal,
            seconds,
            dropped,
            start,
        })
    }
}

/// Whole seconds of the timeline: every target's row and `all`'s, from
/// second 0 on; only the last second may lack some of its rows.
fn whole_seconds(path: &Path, timeline: &Timeline, targets: &[String]) -> Result<u32, LoadError> {
    let expected: Vec<&str> = targets.iter().map(String::as_str).chain(["all"]).collect();
    if let Some(stranger) = timeline
        .scopes
        .iter()
        .find(|s| !expected.contains(&s.scope.as_str()))
    {
        return Err(LoadError::invalid(
            path,
            None,
            format!(
                "rows of {:?}, which plan.json has no target of",
                stranger.scope
            ),
        ));
    }
    let rows = |scope: &str| -> &[super::TimelineRow] {
        timeline
            .scopes
            .iter()
            .find(|s: &&ScopeRows| s.scope == scope)
            .map_or(&[], |s| &s.rows)
    };
    let whole = expected.iter().map(|s| rows(s).len()).min().unwrap_or(0);
    for scope in &expected {
        let rows = rows(scope);
        if rows.len() > whole + 1 {
            return Err(LoadError::invalid(
                path,
                None,
                format!(
                    "{scope} has {} seconds, another target only {whole}: rows are missing before the last second",
                    rows.len()
                ),
            ));
        }
        if let Some((i, row)) = rows
            .iter()
            .enumerate()
            .find(|(i, r)| r.second as usize != *i)
        {
            return Err(LoadError::invalid(
                path,
                None,
                format!(
                    "{scope}'s row {} is of second {}, not {i}",
                    i + 1,
                    row.second
                ),
            ));
        }
    }
    Ok(whole as u32)
}

/// Whole seconds of an interval log: one interval per target per second,
/// in plan order, from second 0 on; a last second may lack some.
fn whole_intervals(path: &Path, log: &Hlog, targets: &[String]) -> Result<u32, LoadError> {
    if targets.is_empty() {
        return Ok(0);
    }
    for (i, interval) in log.intervals.iter().enumerate() {
        let (second, tag) = (i / targets.len(), &targets[i % targets.len()]);
        let tag = tag.replace([',', ' ', '\r', '\n'], "_");
        if interval.second as usize != second || interval.tag != tag {
            return Err(LoadError::invalid(
                path,
                None,
                format!(
                    "interval {} is {} at {}s where {tag} at {second}s was expected",
                    i + 1,
                    interval.tag,
                    interval.second
                ),
            ));
        }
    }
    Ok((log.intervals.len() / targets.len()) as u32)
}

/// One target's measured-phase totals, added up from its timeline rows.
#[derive(Default)]
struct Totals {
    by_kind: [u64; Kind::COUNT],
    late: u64,
    health: GeneratorHealth,
    warmup_sent: u64,
    reviews: [u64; 4],
    ok_versions: [u64; 4],
    clusters: Vec<u64>,
    ok_clusters: Vec<u64>,
    /// Seconds whose successes by cluster the timeline cannot split (degraded
    /// pages and pages of more than one cluster in the same second).
    ok_clusters_unknown: Vec<u32>,
    degraded: [u64; 3],
}

impl Totals {
    fn of(rows: &[super::TimelineRow], cluster_count: usize) -> Totals {
        let mut t = Totals {
            clusters: vec![0; cluster_count],
            ok_clusters: vec![0; cluster_count],
            ..Totals::default()
        };
        for r in rows {
            if r.phase == Phase::Warmup.name() {
                t.warmup_sent += r.sent;
                continue;
            }
            let health = GeneratorHealth {
                planned: r.planned,
                sent: r.sent,
                late: r.late,
                not_sent: r.not_sent,
                cap_waits: r.cap_waits,
                local_errors: r.by_kind[Kind::LocalError.index()],
                max_send_lag_us: r.max_send_lag_us.unwrap_or(0),
            };
            t.health.merge(&health);
            for (a, b) in t.by_kind.iter_mut().zip(r.by_kind) {
                *a += b;
            }
            t.late += r.late;
            for (a, b) in t.reviews.iter_mut().zip(r.reviews) {
                *a += b;
            }
            // Every success is a productpage: those of no known version are
            // the successes less the v1..v3 ones.
            let ok = r.by_kind[Kind::Ok.index()];
            t.ok_versions[0] += ok.saturating_sub(r.ok_versions.iter().sum());
            for (a, b) in t.ok_versions[1..].iter_mut().zip(r.ok_versions) {
                *a += b;
            }
            for (a, b) in t.degraded.iter_mut().zip(r.degraded) {
                *a += b;
            }
            // A page is a success or degraded: without degraded pages, or
            // with pages of one cluster alone, the split is exact.
            let degraded = r.by_kind[Kind::Degraded.index()];
            let serving: Vec<usize> = (0..cluster_count.min(r.clusters.len()))
                .filter(|&c| r.clusters[c] > 0)
                .collect();
            for (c, n) in r.clusters.iter().enumerate().take(cluster_count) {
                t.clusters[c] += n;
            }
            match serving.as_slice() {
                _ if degraded == 0 => {
                    for &c in &serving {
                        t.ok_clusters[c] += r.clusters[c];
                    }
                }
                [c] => t.ok_clusters[*c] += r.clusters[*c].saturating_sub(degraded),
                _ => t.ok_clusters_unknown.push(r.second),
            }
        }
        t
    }

    fn merge(&mut self, o: &Totals) {
        fn add(a: &mut [u64], b: &[u64]) {
            for (a, b) in a.iter_mut().zip(b) {
                *a += b;
            }
        }
        add(&mut self.by_kind, &o.by_kind);
        self.late += o.late;
        self.health.merge(&o.health);
        self.warmup_sent += o.warmup_sent;
        add(&mut self.reviews, &o.reviews);
        add(&mut self.ok_versions, &o.ok_versions);
        add(&mut self.clusters, &o.clusters);
        add(&mut self.ok_clusters, &o.ok_clusters);
        self.ok_clusters_unknown.extend(&o.ok_clusters_unknown);
        add(&mut self.degraded, &o.degraded);
    }

    fn sent(&self) -> u64 {
        self.by_kind.iter().sum()
    }

    fn ok(&self) -> u64 {
        Kind::ALL
            .iter()
            .filter(|k| k.is_success())
            .map(|k| self.by_kind[k.index()])
            .sum()
    }

    fn judged(&self) -> u64 {
        Kind::ALL
            .iter()
            .filter(|k| k.is_judged())
            .map(|k| self.by_kind[k.index()])
            .sum()
    }
}

/// The whole-run summary of the per-second files; `seconds_planned` from
/// the plan's warmup and duration, as a run counts them.
fn summarize(plan: &PlanRecord, disk: &OnDisk, addresses: Option<&[AddressRow]>) -> Summary {
    let load = &plan.load;
    let seconds_planned = (load.warmup_s + load.duration_s).ceil() as u32;
    let clusters = &disk.timeline.clusters;
    let measured: Vec<u32> = disk
        .timeline
        .scopes
        .first()
        .map(|s| {
            s.rows
                .iter()
                .filter(|r| r.phase != Phase::Warmup.name())
                .map(|r| r.second)
                .collect()
        })
        .unwrap_or_default();
    let latency_of = |tag: Option<&str>| {
        let mut h = new_histogram();
        for interval in &disk.hlog.intervals {
            if tag.is_none_or(|t| t == interval.tag) && measured.contains(&interval.second) {
                // Same bounds as every recorded histogram.
                let _ = h.add(interval.histogram());
            }
        }
        percentiles(&h)
    };
    let mut missing: Vec<String> = NOT_ON_DISK.iter().map(|s| s.to_string()).collect();
    let mut all = Totals::of(&[], clusters.len());
    let mut targets = Vec::new();
    for t in &plan.targets {
        let rows = disk
            .timeline
            .scopes
            .iter()
            .find(|s| s.scope == t.name)
            .map_or(&[][..], |s| &s.rows);
        let totals = Totals::of(rows, clusters.len());
        if !totals.ok_clusters_unknown.is_empty() {
            missing.push(format!(
                "ok_by_cluster of {} (second(s) {} had degraded pages from more than one cluster: their successes by cluster are not in timeline.csv)",
                t.name,
                join(&totals.ok_clusters_unknown)
            ));
        }
        all.merge(&totals);
        let mut summary = target_summary(&t.name, &totals, clusters, latency_of(Some(&t.name)));
        summary.endpoint = t.endpoint.clone();
        summary.dialed = t.dialed.clone();
        summary.host = t.host.clone();
        summary.connection = t.connection.clone();
        // What only the live run counted (versions, handshakes) is not on disk.
        summary.transport = t.transport.clone();
        summary.requested_rate = load.rate_per_target;
        summary.max_connection_age_ms = t.max_connection_age_ms;
        summary.ips = ips_of(addresses, Some(&t.name));
        targets.push(summary);
    }
    let mut all = target_summary("all", &all, clusters, latency_of(None));
    all.ips = ips_of(addresses, None);
    all.requested_rate = targets.iter().map(|t| t.requested_rate).sum();
    missing.extend(disk.dropped.iter().cloned());

    let (faults, markers) = faults_as_journaled(plan, &disk.journal);
    let abandoned = disk
        .timeline
        .scopes
        .iter()
        .filter(|s| s.scope != "all")
        .flat_map(|s| &s.rows)
        .map(|r| r.by_kind[Kind::Abandoned.index()])
        .sum();
    let start = disk.start.unwrap_or_default();
    if disk.start.is_none() {
        missing.push("start time (latency.hlog has no StartTime)".into());
    }
    let seconds = disk.seconds;
    let reason = if seconds < seconds_planned {
        format!(
            "the run stopped at second {seconds} of {seconds_planned} (killed, or the disk filled): rebuilt from the files on disk"
        )
    } else {
        "no summary.json (the run was stopped after its traffic, before writing it): rebuilt from the per-second files: statuses, pods and service times not available".to_string()
    };
    Summary {
        schema_version: super::SCHEMA_VERSION,
        meshdrill_version: plan.meshdrill_version.clone(),
        scenario: load.clone(),
        shard: plan.shard,
        start_unix_ms: start.as_millis() as u64,
        start_utc: humantime::format_rfc3339_millis(UNIX_EPOCH + start).to_string(),
        interrupted: false,
        seconds,
        abandoned_in_flight: abandoned,
        outcomes_after_row_written: 0,
        open_files_limit: None,
        requests_ended_ms: None,
        targets,
        all,
        faults,
        markers,
        recovery: plan.recovery,
        slo: plan.slo.clone(),
        outages: Vec::new(),
        verdict: None,
        rejudged_from: None,
        rebuilt: Some(Rebuilt {
            reason,
            missing,
            seconds_on_disk: seconds,
            seconds_planned,
        }),
        start: plan.start.clone(),
        merged: plan.merged.clone(),
    }
}

fn join(seconds: &[u32]) -> String {
    seconds
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn target_summary(
    name: &str,
    t: &Totals,
    clusters: &[String],
    latency_ms: Option<super::summary::Percentiles>,
) -> TargetSummary {
    let by_cluster = |counts: &[u64]| -> BTreeMap<String, u64> {
        clusters
            .iter()
            .zip(counts)
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| (c.clone(), *n))
            .collect()
    };
    let count = |k: &Kind| t.by_kind[k.index()];
    let (ok, judged) = (t.ok(), t.judged());
    TargetSummary {
        name: name.to_string(),
        requests: t.sent(),
        ok,
        failed: judged - ok,
        availability_pct: (judged > 0).then(|| 100.0 * ok as f64 / judged as f64),
        outcomes: Kind::ALL
            .iter()
            .map(|k| (k.name().to_string(), count(k)))
            .collect(),
        failures: Kind::ALL
            .iter()
            .filter(|k| k.is_failure() && count(k) > 0)
            .map(|k| (k.name().to_string(), count(k)))
            .collect(),
        late_sends: t.late,
        generator: t.health,
        latency_ms,
        warmup_requests: t.warmup_sent,
        versions: super::summary::by_version(&t.reviews),
        ok_by_version: super::summary::by_version(&t.ok_versions),
        clusters: by_cluster(&t.clusters),
        ok_by_cluster: if t.ok_clusters_unknown.is_empty() {
            by_cluster(&t.ok_clusters)
        } else {
            BTreeMap::new()
        },
        degraded: DEGRADED
            .iter()
            .zip(t.degraded)
            .filter(|(_, n)| *n > 0)
            .map(|((_, b), n)| (b.to_string(), n))
            .collect(),
        ..TargetSummary::default()
    }
}

/// The measured phase's requests per address of one target (`None`: all
/// of them) from addresses.csv; empty for a folder without the file.
fn ips_of(rows: Option<&[AddressRow]>, target: Option<&str>) -> BTreeMap<String, AddressTotals> {
    let mut ips: BTreeMap<String, AddressTotals> = BTreeMap::new();
    let rows = rows.unwrap_or_default().iter();
    for row in
        rows.filter(|r| r.phase != Phase::Warmup.name() && target.is_none_or(|t| t == r.target))
    {
        let totals = ips.entry(row.address.clone()).or_default();
        totals.requests += row.requests;
        totals.ok += row.ok;
    }
    ips
}

/// The plan's faults with what faults.jsonl says happened to each, and the
/// markers it holds. A fault with an inject journaled and a planned
/// restore not journaled is recorded as such: it may still be in effect.
fn faults_as_journaled(
    plan: &PlanRecord,
    journal: &[JournalLine],
) -> (Vec<FaultRecord>, Vec<super::faults::Marker>) {
    let mut records: Vec<FaultRecord> = plan
        .faults
        .iter()
        .map(|f| FaultRecord {
            name: f.name.clone(),
            action: f.action.clone(),
            target: f.target.clone(),
            planned_at_ms: f.planned_at_ms,
            planned_restore_ms: f.planned_restore_ms,
            ..FaultRecord::default()
        })
        .collect();
    let mut markers = Vec::new();
    for line in journal {
        let step = match line {
            JournalLine::Marker { marker } => {
                markers.push(marker.clone());
                continue;
            }
            JournalLine::Step(step) => step,
        };
        let Some(record) = records.iter_mut().find(|r| r.name == step.fault) else {
            continue;
        };
        let verb = match step.step {
            Step::Inject => {
                record.injected_at_ms = Some(step.started_ms);
                record.inject_done_ms = Some(step.done_ms);
                record.inject_hook = step.hook.clone();
                "inject"
            }
            Step::Restore => {
                record.restored_at_ms = Some(step.started_ms);
                record.restore_done_ms = Some(step.done_ms);
                record.restore_hook = step.hook.clone();
                record.restore_failed |= !step.ok;
                "restore"
            }
        };
        if !step.ok {
            let message = format!(
                "{verb} failed: {}",
                step.error.as_deref().unwrap_or("no reason journaled")
            );
            record.error = Some(match record.error.take() {
                Some(earlier) => format!("{earlier}; {message}"),
                None => message,
            });
        }
    }
    for r in &mut records {
        if r.injected_at_ms.is_some()
            && r.planned_restore_ms.is_some()
            && r.restored_at_ms.is_none()
        {
            r.restore_failed = true;
            r.error.get_or_insert_with(|| {
                "restore not in faults.jsonl (it never ran, or the run stopped before it finished): the fault may still be in effect".to_string()
            });
        }
    }
    (records, markers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_last_line_is_left_out_and_said() {
        assert_eq!(whole_lines(b"a\nb\n"), (&b"a\nb\n"[..], false));
        assert_eq!(whole_lines(b"a\nb"), (&b"a\n"[..], true));
        assert_eq!(whole_lines(b"ab"), (&b""[..], true));
        assert_eq!(whole_lines(b""), (&b""[..], false));
    }
}
