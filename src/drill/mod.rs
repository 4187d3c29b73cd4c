//! Drills: the faults a scenario schedules (simulator faults or command
//! hooks), run on the run clock and stamped with when they took effect.

pub mod faults;
pub mod hooks;
pub mod markers;

pub use faults::{FaultLog, FaultRecord, JOURNAL, drive_faults};
pub use hooks::{HookRun, run_hook};
pub use markers::{Marker, MarkerLog, watch_markers};
