//! Faults on a simulator served on its own (`meshdrill sim`): the
//! scenario's schedule, counted from the simulator's start, and the faults
//! a control file names on SIGHUP, side by side.

use std::io;
use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use super::{FaultLog, drive_faults};
use crate::engine::clock::RunClock;
use crate::scenario::Plan;
use crate::sim::Sim;

/// Runs `plan`'s faults (if any) and watches `control` (if any) until
/// both are done or `stop`; the error is the control file's watch that
/// could not start.
pub async fn drive_sim(
    sim: &Sim,
    plan: Option<&Plan>,
    control: Option<PathBuf>,
    stop: CancellationToken,
) -> io::Result<()> {
    let scheduled = async {
        if let Some(plan) = plan {
            let clock = RunClock::starting_in(std::time::Duration::ZERO);
            let log = FaultLog {
                journal: None,
                quiet: false,
                annotate: None,
                hooks: crate::drill::faults::HookShard::HERE,
            };
            drive_faults(
                &plan.faults,
                &plan.targets,
                Some(sim),
                clock,
                stop.clone(),
                log,
            )
            .await;
        }
    };
    let controlled = async {
        match control {
            Some(path) => crate::sim::control::watch(sim, path, stop.clone()).await,
            None => Ok(()),
        }
    };
    let ((), watching) = tokio::join!(scheduled, controlled);
    watching
}
