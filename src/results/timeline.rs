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
    let mut f = vec![
        row.second.to_string(),
        wall.to_string(),
        row.phase.name().to_string(),
        target.to_string(),
        s.sent().to_string(),
    ];
    f.extend(s.counts.iter().map(|c| c.to_string()));
    f.push(s.failed().to_string());
    f.push(s.late.to_string());
    let health = s.health();
    f.push(health.planned.map_or(String::new(), |p| p.to_string()));
    // Closed model only: the users planned, and those that ran.
    f.push(s.planned_users.map_or(String::new(), |p| p.to_string()));
    f.push(
        s.planned_users
            .map_or(String::new(), |_| s.active_users.to_string()),
    );
    f.push(health.not_sent.to_string());
    f.push(health.cap_waits.to_string());
    f.push(if s.sent() == 0 {
        String::new()
    } else {
        ms(health.max_send_lag_us)
    });
    f.push(u8::from(health.limits(max_late_pct).any()).to_string());
    f.push(
        s.availability_pct()
            .map_or(String::new(), |a| format!("{a:.2}")),
    );
    for q in [0.5, 0.9, 0.99] {
        f.push(percentile_ms(s, q));
    }
    f.push(if s.latency.is_empty() {
        String::new()
    } else {
        ms(s.latency.max())
    });
    // Run-clock milliseconds (second × 1000 + the millisecond within it).
    let at = |m: Option<u32>| {
        m.map_or(String::new(), |m| {
            (u64::from(row.second) * 1000 + u64::from(m)).to_string()
        })
    };
    f.push(at(s.marks.first_failure()));
    f.push(at(s.marks.last_failure()));
    f.push(at(s.marks.first_success()));
    f.push(at(s.marks.first_success_after_last_failure()));
    f.push(at(s.marks.first_success_done()));
    f.push(at(s.marks.first_success_done_after_last_failure()));
    let p = &s.pages;
    f.extend(p.versions.iter().map(u64::to_string));
    f.extend(p.ok_versions[1..].iter().map(u64::to_string));
    f.extend(p.clusters[..clusters].iter().map(u64::to_string));
    f.push(p.clusters[OTHER_CLUSTER].to_string());
    f.push(p.clusters[UNKNOWN_CLUSTER].to_string());
    let slots = (0..clusters).chain([OTHER_CLUSTER, UNKNOWN_CLUSTER]);
    f.extend(slots.map(|slot| at(p.first_page_ms(slot))));
    f.extend(p.degraded.iter().map(u64::to_string));
    f
}

fn percentile_ms(s: &SecondStats, q: f64) -> String {
    if s.latency.is_empty() {
        String::new()
    } else {
        ms(s.latency.value_at_quantile(q))
    }
}

/// Microseconds as milliseconds with three decimals.
pub fn ms(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}
