//! The run's files on disk, every type of every file a run writes, written
//! and read back through the same types (Serialize + Deserialize):
//!
//! - `summary.json`: [`summary`] (totals, [`SCHEMA_VERSION`]) with the types
//!   it holds: [`outage`] (outages, fault windows, failover evidence),
//!   [`verdict`] (assessment, criteria, generator report) and [`faults`]
//!   (fault records, hook runs, markers; also the lines of `faults.jsonl`);
//! - `plan.json`: [`plan`], the compiled plan written before any traffic;
//! - `timeline.csv`: written by [`timeline`], read by [`timeline_read`];
//! - `addresses.csv`: requests per second per target per address that
//!   answered, written and read by [`addresses`];
//! - `latency.hlog` (every request) and `latency-ok.hlog` (successes
//!   alone): written and read by [`hlog`];
//! - `captures.json` and `captures/`: the `[[capture]]` commands' runs and
//!   output, written and read by [`captures`];
//! - `annotations.json`: the Grafana annotations a `--grafana` run posted,
//!   and each post's answer, written and read by [`annotations`];
//! - `evidence.json` and `evidence/`: the `[evidence]` range queries of
//!   the users' Prometheus and their samples, written and read by
//!   [`evidence`];
//! - the folder: its file names ([`files`]), which files make a run
//!   ([`folder`]), how a whole file is replaced ([`atomic`]), and reading it
//!   all back: [`Results::load`] ([`load`]), the only way anything reads a
//!   folder, with one error type naming the file ([`error`]);
//! - a folder without summary.json (the run was killed, or the disk
//!   filled): a summary rebuilt from the plan and the per-second files,
//!   marked as such ([`rebuild`]).
//!
//! Depends only on `outcome`, `record` and `scenario`; what the numbers mean
//! is `assess`'s to compute and `report`'s to show.

pub mod addresses;
pub mod annotations;
pub mod atomic;
pub mod captures;
pub mod error;
pub mod evidence;
pub mod faults;
pub mod files;
pub mod folder;
pub mod hlog;
pub mod load;
pub mod outage;
pub mod plan;
pub mod rebuild;
pub mod schema;
pub mod summary;
pub mod timeline;
pub mod timeline_read;
pub mod verdict;

pub use atomic::{WriteError, write_atomic};
pub use error::LoadError;
pub use load::Results;
pub use plan::PlanRecord;
pub use summary::{SCHEMA_VERSION, Summary};
pub use timeline_read::{ScopeRows, Timeline, TimelineRow};

/// Reads an `Option` field that must be present (as `null` when empty):
/// serde would otherwise read a missing or renamed field as `None`, and a
/// renamed field must fail to read, not flip a verdict.
pub(crate) fn required<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d)
}
