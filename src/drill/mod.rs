//! Drills: the faults a scenario schedules (simulator faults or command
//! hooks) and manual markers, run on the run clock and stamped with when
//! they really took effect ([`faults`], [`hooks`], [`markers`]), and the
//! faults of a simulator served on its own ([`serve`]); and the
//! `[[capture]]` commands run at the run's start and end through the same
//! hook runner ([`captures`]). What they
//! did to the targets is the `assess` module's to say; the types of what
//! they record (faults.jsonl, summary.json's `faults` and `markers`) are
//! [`crate::results::faults`]'s.

pub mod captures;
pub mod faults;
pub mod hooks;
pub mod markers;
pub mod serve;

pub use faults::{FaultLog, FaultRecord, JOURNAL, drive_faults};
pub use hooks::{HookRun, LeftProcess, ProcessGroup, kill_all_now, run_hook};
pub use markers::{Marker, MarkerLog, watch_markers};
pub use serve::drive_sim;
