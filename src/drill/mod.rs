//! Drills: the faults a scenario schedules (simulator faults or command
//! hooks) and manual markers, run on the run clock and stamped with when
//! they really took effect ([`faults`], [`hooks`], [`markers`]); what they
//! did to the targets, measured from the per-second timeline ([`rto`]); and
//! whether that meets the scenario's SLOs ([`slo`]); the seconds each fault
//! did its harm in, the same for every target ([`window`]).

pub mod assess;
pub mod failover;
pub mod faults;
pub mod generator;
pub mod hooks;
pub mod markers;
pub mod rto;
pub mod slo;
pub mod window;

pub use assess::{Assessment, FaultOutage, ScopedOutage, Verdict, VerdictStatus, assess_dir};
pub use faults::{FaultLog, FaultRecord, JOURNAL, drive_faults};
pub use generator::GeneratorReport;
pub use hooks::{HookRun, LeftProcess, ProcessGroup, kill_all_now, run_hook};
pub use markers::{Marker, MarkerLog, watch_markers};
pub use rto::{
    Health, OutageReport, Recovery, RecoveryRule, Region, SecondSample, Span, T0Source, analyse,
    analyse_combined, regions,
};
pub use slo::{Criterion, Measured, MeasuredRto, SloSpec, evaluate};
pub use window::{FaultWindow, WindowEnd, WindowFigures, fault_window, faulted_scope};
