//! Presentation of a run: the console line per finished second (printed
//! through [`crate::live`]) and the final tables ([`console`], [`table`]),
//! the charts ([`charts`]), report.html ([`html`]) and the .hgrm files
//! ([`hgrm`]), summary.md ([`markdown`]) and JUnit XML ([`junit`]), all
//! drawn from typed results (`crate::results`) and their assessment
//! (`crate::assess`); `meshdrill report DIR` judging a folder again, or its
//! summary rebuilt from the per-second files ([`rejudge`]); a comparison of
//! runs (`crate::compare`) as a console table and Markdown ([`compare`]).
//! [`Writers`] puts the per-second files (written by `crate::results`) and
//! the console line behind one sink.

pub mod charts;
pub mod compare;
pub mod console;
pub mod failover;
pub mod hgrm;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod rejudge;
pub mod table;
pub mod width;

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use crate::record::{AddressRegistry, ClusterRegistry, RowSink, SecondRow};
use crate::results::hlog::{HlogWriter, Which};

/// Every per-second writer behind one [`RowSink`].
pub struct Writers {
    pub timeline: crate::results::timeline::TimelineWriter,
    pub addresses: crate::results::addresses::AddressesWriter,
    pub hlog: crate::results::hlog::HlogWriter,
    pub hlog_ok: crate::results::hlog::HlogWriter,
    pub console: console::ConsoleLines,
    /// `--metrics-listen`: each finished second also folded into the
    /// live metrics.
    pub metrics: Option<crate::metrics::Feed>,
}

impl Writers {
    pub fn create(
        dir: &Path,
        targets: &[String],
        clusters: Arc<ClusterRegistry>,
        addresses: Arc<AddressRegistry>,
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
            addresses: crate::results::addresses::AddressesWriter::create(
                dir,
                targets.to_vec(),
                addresses,
            )?,
            hlog: HlogWriter::create(dir, Which::All, targets.to_vec(), epoch)?,
            hlog_ok: HlogWriter::create(dir, Which::Ok, targets.to_vec(), epoch)?,
            console: console::ConsoleLines::new(targets.to_vec(), quiet, max_late_pct),
            metrics: None,
        })
    }
}

impl RowSink for Writers {
    fn second(&mut self, row: &SecondRow<'_>) -> io::Result<()> {
        // Before the timeline: a second a killed run left in timeline.csv
        // is then in addresses.csv too, so a rebuild (which keeps the
        // timeline's whole seconds) finds every address of it.
        self.addresses.write(row)?;
        self.timeline.write(row)?;
        self.hlog.write(row)?;
        self.hlog_ok.write(row)?;
        self.console.write(row)?;
        if let Some(metrics) = &self.metrics {
            metrics.second(row);
        }
        Ok(())
    }
}

pub use crate::results::files::hgrm_file;

/// Renders every chart of a run (read back by `Results::load`) and its
/// assessment into `out_dir`: the run's own folder, or a re-judgement's,
/// which draws its own set without touching the run's.
pub fn render_charts(
    out_dir: &Path,
    results: &crate::results::Results,
    assessment: &crate::assess::Assessment,
) -> Result<Vec<std::path::PathBuf>, String> {
    let data = charts::ChartData::read(results, assessment);
    charts::render_all(out_dir, &data)
}
