//! Drills: the faults a scenario schedules, run on the run clock and
//! stamped with when they really took effect.

pub mod faults;

pub use faults::{FaultRecord, drive_faults};
