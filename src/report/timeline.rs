//! `timeline.csv`: one row per second per target plus an `all` row, written
//! and flushed as each second is finished so an interrupted drill keeps it.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::outcome::Kind;
use crate::record::{SecondRow, SecondStats};

pub const FILE: &str = "timeline.csv";

pub struct TimelineWriter {
    csv: csv::Writer<BufWriter<File>>,
    targets: Vec<String>,
    epoch: SystemTime,
}

/// Column names, in order.
pub fn header() -> Vec<&'static str> {
    let mut h = vec!["second", "wall_clock", "phase", "target", "sent"];
    h.extend(Kind::ALL.iter().map(|k| k.name()));
    h.extend([
        "failed",
        "late",
        "availability_pct",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "max_ms",
        "first_failure_ms",
        "last_failure_ms",
        "first_success_ms",
        "first_success_after_last_failure_ms",
    ]);
    h
}

impl TimelineWriter {
    pub fn create(
        dir: &Path,
        targets: Vec<String>,
        epoch: SystemTime,
    ) -> io::Result<TimelineWriter> {
        let file = File::create(dir.join(FILE))?;
        let mut csv = csv::Writer::from_writer(BufWriter::new(file));
        csv.write_record(header())?;
        csv.flush()?;
        Ok(TimelineWriter {
            csv,
            targets,
            epoch,
        })
    }

    pub fn write(&mut self, row: &SecondRow<'_>) -> io::Result<()> {
        let wall = humantime::format_rfc3339_millis(
            self.epoch + Duration::from_secs(u64::from(row.second)),
        )
        .to_string();
        for (name, stats) in self.targets.iter().zip(row.targets) {
            self.csv.write_record(fields(row, &wall, name, stats))?;
        }
        self.csv.write_record(fields(row, &wall, "all", row.all))?;
        self.csv.flush()
    }
}

fn fields(row: &SecondRow<'_>, wall: &str, target: &str, s: &SecondStats) -> Vec<String> {
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
