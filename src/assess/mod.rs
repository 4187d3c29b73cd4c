//! Judging a run: what each fault did to each target, measured from the
//! per-second timeline ([`rto`]); the seconds each fault did its harm in,
//! the same for every target ([`window`]); which cluster served whom before,
//! during and after ([`failover`]); whether the generator did what the
//! scenario asked ([`generator`]); and whether all that meets the
//! scenario's SLOs ([`slo`]). [`dir`] ties them together: [`assess`] judges
//! a run's typed [`crate::results::Results`]. Pure functions of what a run
//! recorded, no I/O; the types they fill (outages, verdict) are
//! `crate::results`' (re-exported here for convenience).

pub mod dir;
pub mod failover;
pub mod generator;
pub mod rto;
pub mod slo;
pub mod window;

pub use dir::{Assessment, FaultOutage, ScopedOutage, Verdict, VerdictStatus, assess, assess_dir};
pub use generator::GeneratorReport;
pub use rto::{
    Health, OutageReport, Recovery, Region, SecondSample, Span, T0Source, analyse,
    analyse_combined, regions,
};
pub use slo::{Criterion, Measured, MeasuredRto, evaluate};
pub use window::{FaultWindow, WindowEnd, WindowFigures, fault_window, faulted_scope};
