//! Drawing the run: the charts, report.html and summary.md. The drill's numbers are all
//! on disk by now, so a chart or page that cannot be written is reported on
//! stderr and the run still ends with its verdict.

use std::path::Path;

use crate::assess::Assessment;
use crate::report;
use crate::results::Results;

pub(super) fn render(out_dir: &Path, results: &Results, assessment: &Assessment) {
    if let Err(e) = report::render_charts(out_dir, results, assessment) {
        eprintln!("meshdrill: chart not written: {e}");
    }
    if let Err(e) =
        report::html::write(out_dir, &results.summary, report::html::Beside::of(results))
    {
        eprintln!("meshdrill: report.html not written: {e}");
    }
    if let Err(e) = report::markdown::write(out_dir, &results.summary) {
        eprintln!("meshdrill: summary.md not written: {e}");
    }
}
