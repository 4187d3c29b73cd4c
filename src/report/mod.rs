//! Outputs, written as the run goes: `timeline.csv`, `latency.hlog` and the
//! console line per finished second; at the end `latency-<target>.hgrm`,
//! `summary.json` and the final table.

pub mod charts;
pub mod console;
pub mod failover;
pub mod hgrm;
pub mod html;
pub mod live;
pub mod table;
pub mod width;

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use crate::record::{ClusterRegistry, RowSink, SecondRow};

/// Every per-second writer behind one [`RowSink`].
pub struct Writers {
    pub timeline: crate::results::timeline::TimelineWriter,
    pub hlog: crate::results::hlog::HlogWriter,
    pub console: console::ConsoleLines,
}

impl Writers {
    pub fn create(
        dir: &Path,
        targets: &[String],
        clusters: Arc<ClusterRegistry>,
        epoch: SystemTime,
        quiet: bool,
        max_late_pct: f64,
    ) -> io::Result<Writers> {
        Ok(Writers {
            timeline: crate::results::timeline::TimelineWriter::create(
                dir,
                targets.to_vec(),
                clusters,
                epoch,
                max_late_pct,
            )?,
            hlog: crate::results::hlog::HlogWriter::create(dir, targets.to_vec(), epoch)?,
            console: console::ConsoleLines::new(targets.to_vec(), quiet, max_late_pct),
        })
    }
}

impl RowSink for Writers {
    fn second(&mut self, row: &SecondRow<'_>) -> io::Result<()> {
        self.timeline.write(row)?;
        self.hlog.write(row)?;
        self.console.write(row)
    }
}

/// File name of a target's whole-run percentile distribution.
pub fn hgrm_file(target: &str) -> String {
    format!("latency-{target}.hgrm")
}

/// Renders every chart of a results folder from its files and assessment.
pub fn render_charts(
    dir: &Path,
    summary: &serde_json::Value,
    assessment: &crate::assess::Assessment,
) -> Result<Vec<std::path::PathBuf>, String> {
    render_charts_into(dir, dir, summary, assessment)
}

/// Renders the charts of the run in `data_dir` into `out_dir`: a
/// re-judgement draws its own set without touching the run's.
pub fn render_charts_into(
    data_dir: &Path,
    out_dir: &Path,
    summary: &serde_json::Value,
    assessment: &crate::assess::Assessment,
) -> Result<Vec<std::path::PathBuf>, String> {
    let data = charts::ChartData::read(data_dir, summary, assessment)?;
    charts::render_all(out_dir, &data)
}
