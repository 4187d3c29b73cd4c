//! The names of the files in a results folder, in one place: the writers,
//! the readers, `report` and the folder check all use these.

/// `meshdrill run`'s per-second and whole-run files.
pub use super::addresses::FILE as ADDRESSES;
pub use super::annotations::FILE as ANNOTATIONS;
pub use super::captures::DIR as CAPTURES_DIR;
pub use super::captures::FILE as CAPTURES;
pub use super::evidence::DIR as EVIDENCE_DIR;
pub use super::evidence::FILE as EVIDENCE;
pub use super::faults::FILE as FAULTS;
pub use super::hlog::FILE as HLOG;
pub use super::hlog::OK_FILE as HLOG_OK;
pub use super::plan::FILE as PLAN;
pub use super::summary::FILE as SUMMARY;
pub use super::timeline::FILE as TIMELINE;

/// The page for people.
pub const REPORT_HTML: &str = "report.html";

/// The run in Markdown, for CI pages (`report::markdown`).
pub const SUMMARY_MD: &str = "summary.md";

/// Chart names, in the order a report shows them; each is written as
/// `<name>.svg` and `<name>.png` ([`chart_file`]).
pub const CHARTS: [&str; 4] = ["availability", "outcomes", "latency", "clusters"];

/// The `[evidence]` chart (the mesh's view): drawn only for a run that
/// queried a Prometheus, so not in [`CHARTS`].
pub const MESH_CHART: &str = "mesh";

/// The chart formats, as file extensions.
pub const CHART_FORMATS: [&str; 2] = ["svg", "png"];

/// `availability.svg`.
pub fn chart_file(chart: &str, format: &str) -> String {
    format!("{chart}.{format}")
}

/// File name of a target's (or `all`'s) whole-run percentile distribution.
pub fn hgrm_file(target: &str) -> String {
    format!("latency-{target}.hgrm")
}
