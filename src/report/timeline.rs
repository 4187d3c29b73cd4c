//! `timeline.csv`: one row per second per target plus an `all` row, written
//! and flushed as each second is finished so an interrupted drill keeps it.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::outcome::Kind;
use crate::record::{
    DEGRADED, NAMED_CLUSTERS, OTHER_CLUSTER, SecondRow, SecondStats, UNKNOWN_CLUSTER, VERSION_NAMES,
};

pub const FILE: &str = "timeline.csv";

pub struct TimelineWriter {
    csv: csv::Writer<BufWriter<File>>,
    targets: Vec<String>,
    /// Configured cluster names with a column each.
    clusters: usize,
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
    h.extend(
        clusters
            .iter()
            .take(NAMED_CLUSTERS)
            .map(|c| format!("cluster_{c}")),
    );
    h.extend(["cluster_other".to_string(), "cluster_unknown".to_string()]);
    h.extend(DEGRADED.iter().map(|(_, b)| format!("degraded_{b}")));
    h
}

impl TimelineWriter {
    pub fn create(
        dir: &Path,
        targets: Vec<String>,
        clusters: &[String],
        epoch: SystemTime,
        max_late_pct: f64,
    ) -> io::Result<TimelineWriter> {
        let file = File::create(dir.join(FILE))?;
        let mut csv = csv::Writer::from_writer(BufWriter::new(file));
        csv.write_record(header(clusters))?;
        csv.flush()?;
        Ok(TimelineWriter {
            csv,
            targets,
            clusters: clusters.len().min(NAMED_CLUSTERS),
            max_late_pct,
            epoch,
        })
    }

    pub fn write(&mut self, row: &SecondRow<'_>) -> io::Result<()> {
        let wall = humantime::format_rfc3339_millis(
            self.epoch + Duration::from_secs(u64::from(row.second)),
        )
        .to_string();
        for (name, stats) in self.targets.iter().zip(row.targets) {
            self.csv.write_record(fields(
                row,
                &wall,
                name,
                stats,
                self.clusters,
                self.max_late_pct,
            ))?;
        }
        self.csv.write_record(fields(
            row,
            &wall,
            "all",
            row.all,
            self.clusters,
            self.max_late_pct,
        ))?;
        self.csv.flush()
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
    f.push(if s.sent() == 0 {
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
    f.extend(p.degraded.iter().map(u64::to_string));
    f
}

fn percentile_ms(s: &SecondStats, q: f64) -> String {
    if s.sent() == 0 {
        String::new()
    } else {
        ms(s.latency.value_at_quantile(q))
    }
}

/// Microseconds as milliseconds with three decimals.
pub fn ms(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}
