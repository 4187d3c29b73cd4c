//! Drills: the faults a scenario schedules, run on the run clock and
//! stamped with when they really took effect ([`faults`]); what they did to
//! the targets, measured from the per-second timeline ([`rto`]); and whether
//! that meets the scenario's SLOs ([`slo`]).

pub mod faults;
pub mod rto;
pub mod slo;

pub use faults::{FaultRecord, drive_faults};
pub use rto::{
    Health, OutageReport, Recovery, RecoveryRule, Region, SecondSample, Span, T0Source, analyse,
    regions,
};
pub use slo::{Criterion, Measured, MeasuredRto, SloSpec, evaluate};
