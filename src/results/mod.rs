//! The run's files on disk, written and read back through the same types:
//! `summary.json` ([`summary`]), `timeline.csv` ([`timeline`]),
//! `latency.hlog` ([`hlog`]), the results folder itself ([`folder`]), and
//! how a whole file is replaced ([`atomic`]).

pub mod atomic;
pub mod error;
pub mod faults;
pub mod files;
pub mod folder;
pub mod hlog;
pub mod load;
pub mod outage;
pub mod plan;
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
