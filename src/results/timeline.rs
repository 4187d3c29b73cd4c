//! `timeline.csv`: one row per second per target plus an `all` row, written
//! and flushed as each second is finished so an interrupted drill keeps it.
//!
//! Cluster columns: one per slot of the run's [`ClusterRegistry`]. The
//! header is written before pages name anything, so when the registry has
//! grown by the time a second is written, the file is rewritten with the
//! new columns first (to a temporary file in the same folder, synced, then
//! renamed over the old one: a killed run leaves one whole file or the
//! other) and earlier rows get 0 in them. That 0 is exact: a slot exists
//! from the first page naming it, and a second is written only once all its
//! outcomes are in, so no earlier row can hold such a page.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::timeline_read::{Timeline, TimelineRow};
use crate::outcome::Kind;
use crate::record::{
    ClusterRegistry, DEGRADED, NAMED_CLUSTERS, OTHER_CLUSTER, SecondRow, SecondStats,
    UNKNOWN_CLUSTER, VERSION_NAMES,
};

pub const FILE: &str = "timeline.csv";
/// Count columns of clusters are `cluster_<name>`; the run-clock ms of each
/// one's first page in the second is `first_ms_cluster_<name>` (a prefix,
/// not a suffix: a page may name a cluster `x_first_ms`).
pub const CLUSTER_PREFIX: &str = "cluster_";
pub const FIRST_MS_PREFIX: &str = "first_ms_cluster_";
/// Where a rewrite with new cluster columns is built before the rename.
const REWRITE: &str = ".timeline.csv.tmp";

pub struct TimelineWriter {
    csv: csv::Writer<BufWriter<File>>,
    dir: PathBuf,
    targets: Vec<String>,
    registry: Arc<ClusterRegistry>,
    /// The cluster names the file has a column for (registry slots `0..len`).
    clusters: Vec<String>,
    /// Judges each second's `generator_limited` column.
    max_late_pct: f64,
    epoch: SystemTime,
}

/// Column names, in order.
pub fn header(clusters: &[String]) -> Vec<String> {
    let mut h: Vec<String> = ["second", "wall_clock", "phase", "target", "sent"]
        .map(String::from)
        .to_vec();
    h.extend(Kind::ALL.iter().map(|k| k.name().to_string()));
    h.extend(
        [
            "failed",
            "late",
            "planned",
            "planned_users",
            "active_users",
            "not_sent",
            "cap_waits",
            "max_send_lag_ms",
            "generator_limited",
            "availability_pct",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "max_ms",
            "first_failure_ms",
            "last_failure_ms",
            "first_success_ms",
            "first_success_after_last_failure_ms",
            "first_success_done_ms",
            "first_success_after_last_failure_done_ms",
        ]
        .map(String::from),
    );
    // Who answered: productpages (ok or degraded) by version, cluster, and
    // the backend they showed as unavailable.
    h.extend(VERSION_NAMES.iter().map(|v| format!("reviews_{v}")));
    h.extend(VERSION_NAMES[1..].iter().map(|v| format!("ok_{v}")));
    let slots: Vec<&str> = clusters
        .iter()
        .take(NAMED_CLUSTERS)
        .map(String::as_str)
        .chain(["other", "unknown"])
        .collect();
    h.extend(slots.iter().map(|c| format!("{CLUSTER_PREFIX}{c}")));
    h.extend(slots.iter().map(|c| format!("{FIRST_MS_PREFIX}{c}")));
    h.extend(DEGRADED.iter().map(|(_, b)| format!("degraded_{b}")));
    h
}

impl TimelineWriter {
    pub fn create(
        dir: &Path,
        targets: Vec<String>,
        registry: Arc<ClusterRegistry>,
        epoch: SystemTime,
        max_late_pct: f64,
    ) -> io::Result<TimelineWriter> {
        // Left by a run killed while rewriting: the timeline itself is whole.
        let _ = std::fs::remove_file(dir.join(REWRITE));
        let clusters = registry.names();
        let file = File::create(dir.join(FILE))?;
        let mut csv = csv::Writer::from_writer(BufWriter::new(file));
        csv.write_record(header(&clusters))?;
        csv.flush()?;
        Ok(TimelineWriter {
            csv,
            dir: dir.to_path_buf(),
            targets,
            registry,
            clusters,
            max_late_pct,
            epoch,
        })
    }

    pub fn write(&mut self, row: &SecondRow<'_>) -> io::Result<()> {
        if self.registry.len() > self.clusters.len() {
            self.add_cluster_columns(self.registry.names())?;
        }
        let clusters = self.clusters.len().min(NAMED_CLUSTERS);
        let wall = humantime::format_rfc3339_millis(
            self.epoch + Duration::from_secs(u64::from(row.second)),
        )
        .to_string();
        for (name, stats) in self.targets.iter().zip(row.targets) {
            self.csv
                .write_record(fields(row, &wall, name, stats, clusters, self.max_late_pct))?;
        }
        self.csv.write_record(fields(
            row,
            &wall,
            "all",
            row.all,
            clusters,
            self.max_late_pct,
        ))?;
        self.csv.flush()
    }

    /// Rewrites the file with a column for each of `clusters` (which extends
    /// the current names), then appends to the new file.
    fn add_cluster_columns(&mut self, clusters: Vec<String>) -> io::Result<()> {
        self.csv.flush()?;
        let (path, temporary) = (self.dir.join(FILE), self.dir.join(REWRITE));
        let (old, new) = (header(&self.clusters), header(&clusters));
        let from: Vec<Option<usize>> = new
            .iter()
            .map(|h| old.iter().position(|o| o == h))
            .collect();
        let mut reader = csv::Reader::from_path(&path)?;
        let mut out = csv::Writer::from_writer(BufWriter::new(File::create(&temporary)?));
        out.write_record(&new)?;
        for record in reader.records() {
            let record = record?;
            out.write_record(from.iter().zip(&new).map(|(i, column)| match i {
                Some(i) => &record[*i],
                None => absent(column),
            }))?;
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temporary, &path)?;
        // The rename itself survives a crash only once the folder is synced.
        File::open(&self.dir)?.sync_all()?;
        self.csv =
            csv::Writer::from_writer(BufWriter::new(OpenOptions::new().append(true).open(&path)?));
        self.clusters = clusters;
        Ok(())
    }
}

/// What an earlier row holds in a column it did not have: no page, so a
/// zero count and no first millisecond.
fn absent(column: &str) -> &'static str {
    if column.starts_with(FIRST_MS_PREFIX) {
        ""
    } else {
        "0"
    }
}

fn fields(
    row: &SecondRow<'_>,
    wall: &str,
    target: &str,
    s: &SecondStats,
    clusters: usize,
    max_late_pct: f64,
) -> Vec<String> {
    row_fields(
        &of_stats(row.second, row.phase, s, clusters, max_late_pct),
        wall,
        target,
    )
}

/// One second of one scope as the file holds it: what a run's recorder
/// counted (`clusters` named cluster columns, then `other` and `unknown`).
fn of_stats(
    second: u32,
    phase: crate::record::Phase,
    s: &SecondStats,
    clusters: usize,
    max_late_pct: f64,
) -> TimelineRow {
    let health = s.health();
    let ms_of = |us: u64| us as f64 / 1000.0;
    let quantile = |q: f64| (!s.latency.is_empty()).then(|| ms_of(s.latency.value_at_quantile(q)));
    // Run-clock milliseconds (second × 1000 + the millisecond within it).
    let at = |m: Option<u32>| m.map(|m| u64::from(second) * 1000 + u64::from(m));
    let p = &s.pages;
    let slots: Vec<usize> = (0..clusters)
        .chain([OTHER_CLUSTER, UNKNOWN_CLUSTER])
        .collect();
    let mut ok_versions = [0; 3];
    ok_versions.copy_from_slice(&p.ok_versions[1..]);
    TimelineRow {
        second,
        phase: phase.name().to_string(),
        sent: s.sent(),
        by_kind: s.counts,
        failed: s.failed(),
        late: s.late,
        planned: health.planned,
        planned_users: s.planned_users,
        active_users: s.planned_users.map(|_| s.active_users),
        not_sent: health.not_sent,
        cap_waits: health.cap_waits,
        max_send_lag_us: (s.sent() > 0).then_some(health.max_send_lag_us),
        generator_limited: health.limits(max_late_pct).any(),
        availability_pct: s.availability_pct(),
        p50_ms: quantile(0.5),
        p90_ms: quantile(0.9),
        p99_ms: quantile(0.99),
        max_ms: (!s.latency.is_empty()).then(|| ms_of(s.latency.max())),
        first_failure_ms: at(s.marks.first_failure()),
        last_failure_ms: at(s.marks.last_failure()),
        first_success_ms: at(s.marks.first_success()),
        first_success_after_last_failure_ms: at(s.marks.first_success_after_last_failure()),
        first_success_done_ms: at(s.marks.first_success_done()),
        first_success_after_last_failure_done_ms: at(s
            .marks
            .first_success_done_after_last_failure()),
        reviews: p.versions,
        ok_versions,
        clusters: slots.iter().map(|&c| p.clusters[c]).collect(),
        cluster_first_ms: slots.iter().map(|&c| at(p.first_page_ms(c))).collect(),
        degraded: p.degraded,
    }
}

/// The cells of one row, in [`header`] order: the one place a row becomes
/// text, for a run's seconds and for `meshdrill merge`'s alike.
pub fn row_fields(r: &TimelineRow, wall: &str, target: &str) -> Vec<String> {
    let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
    let ms3 = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
    let mut f = vec![
        r.second.to_string(),
        wall.to_string(),
        r.phase.clone(),
        target.to_string(),
        r.sent.to_string(),
    ];
    f.extend(r.by_kind.iter().map(|c| c.to_string()));
    f.push(r.failed.to_string());
    f.push(r.late.to_string());
    f.push(opt(r.planned));
    // Closed model only: the users planned, and those that ran.
    f.push(opt(r.planned_users));
    f.push(opt(r.active_users));
    f.push(r.not_sent.to_string());
    f.push(r.cap_waits.to_string());
    f.push(r.max_send_lag_us.map_or(String::new(), ms));
    f.push(u8::from(r.generator_limited).to_string());
    f.push(
        r.availability_pct
            .map_or(String::new(), |a| format!("{a:.2}")),
    );
    for v in [r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms] {
        f.push(ms3(v));
    }
    for m in [
        r.first_failure_ms,
        r.last_failure_ms,
        r.first_success_ms,
        r.first_success_after_last_failure_ms,
        r.first_success_done_ms,
        r.first_success_after_last_failure_done_ms,
    ] {
        f.push(opt(m));
    }
    f.extend(r.reviews.iter().map(u64::to_string));
    f.extend(r.ok_versions.iter().map(u64::to_string));
    f.extend(r.clusters.iter().map(u64::to_string));
    f.extend(r.cluster_first_ms.iter().map(|&m| opt(m)));
    f.extend(r.degraded.iter().map(u64::to_string));
    f
}

/// A whole timeline.csv from rows already added up (`meshdrill merge`):
/// the header for `timeline.clusters` (named, then `other`, `unknown`),
/// each second's scopes in order, through [`row_fields`] like a run's.
pub fn write_rows(dir: &Path, timeline: &Timeline, epoch: SystemTime) -> io::Result<()> {
    let named = &timeline.clusters[..timeline.clusters.len().saturating_sub(2)];
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(header(named))?;
    let seconds = timeline
        .scopes
        .iter()
        .map(|s| s.rows.len())
        .max()
        .unwrap_or(0);
    for i in 0..seconds {
        for scope in &timeline.scopes {
            if let Some(r) = scope.rows.get(i) {
                let wall = humantime::format_rfc3339_millis(
                    epoch + Duration::from_secs(u64::from(r.second)),
                )
                .to_string();
                csv.write_record(row_fields(r, &wall, &scope.scope))?;
            }
        }
    }
    let bytes = csv.into_inner().map_err(|e| e.into_error())?;
    super::write_atomic(&dir.join(FILE), &bytes).map_err(io::Error::other)
}

/// Microseconds as milliseconds with three decimals.
pub fn ms(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}
