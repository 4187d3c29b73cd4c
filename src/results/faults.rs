//! What the `drill` module records, typed both ways: each fault as it happened
//! ([`FaultRecord`], in summary.json), the hooks it ran ([`HookRun`]),
//! manual markers ([`Marker`]), and the lines of `faults.jsonl`
//! ([`JournalLine`]), appended as each step finishes.

use serde::{Deserialize, Serialize};

pub const FILE: &str = "faults.jsonl";

/// One fault as it happened. Times are milliseconds on the run clock.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FaultRecord {
    pub name: String,
    /// What was done, e.g. `sim down on primary` or the inject command.
    pub action: String,
    /// The target it aims at, when known.
    #[serde(deserialize_with = "crate::results::required")]
    pub target: Option<String>,
    pub planned_at_ms: f64,
    #[serde(deserialize_with = "crate::results::required")]
    pub injected_at_ms: Option<f64>,
    #[serde(deserialize_with = "crate::results::required")]
    pub inject_done_ms: Option<f64>,
    #[serde(deserialize_with = "crate::results::required")]
    pub planned_restore_ms: Option<f64>,
    #[serde(deserialize_with = "crate::results::required")]
    pub restored_at_ms: Option<f64>,
    #[serde(deserialize_with = "crate::results::required")]
    pub restore_done_ms: Option<f64>,
    /// The restore ran early because the run was interrupted.
    pub restored_early: bool,
    /// A planned restore failed (exit ≠ 0, killed at its timeout) or did not
    /// run after an inject: the fault may still be in effect.
    pub restore_failed: bool,
    #[serde(deserialize_with = "crate::results::required")]
    pub inject_hook: Option<HookRun>,
    #[serde(deserialize_with = "crate::results::required")]
    pub restore_hook: Option<HookRun>,
    /// Why injecting or restoring failed; the run goes on and says so.
    #[serde(deserialize_with = "crate::results::required")]
    pub error: Option<String>,
    /// A hook fault of a sharded run (`--shard`): the shard that runs its
    /// commands (`--hooks-on`). In the other shards' results the inject and
    /// restore times are when that shard reached the planned instants, and
    /// no command ran there. Absent unsharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks_on_shard: Option<u32>,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Inject,
    Restore,
}

/// One finished step, as `faults.jsonl` holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StepLine {
    pub fault: String,
    pub step: Step,
    pub started_ms: f64,
    pub done_ms: f64,
    pub ok: bool,
    #[serde(deserialize_with = "crate::results::required")]
    pub error: Option<String>,
    #[serde(deserialize_with = "crate::results::required")]
    pub hook: Option<HookRun>,
    /// Sharded: the shard that runs this hook (here `hook` is null in the
    /// others). Absent unsharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks_on_shard: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HookRun {
    /// As written in the scenario file: `${VAR}` is never shown expanded,
    /// so a secret passed that way is never recorded.
    pub command: String,
    pub started_ms: f64,
    pub ended_ms: f64,
    #[serde(deserialize_with = "crate::results::required")]
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    /// Still running when the run ended (or was interrupted): its group was
    /// ended then.
    pub cut_by_run_end: bool,
    pub stdout: String,
    pub stderr: String,
    /// Could not start, or was killed by a signal.
    #[serde(deserialize_with = "crate::results::required")]
    pub error: Option<String>,
    /// Processes still in the hook's group once its own process had exited
    /// (e.g. `kubectl port-forward ... &`). Ended at the run's end unless
    /// `detached`. Empty when it left nothing.
    pub left_running: Vec<LeftProcess>,
    /// The fault said `detach = true`: what it left running was left running.
    pub detached: bool,
    /// When meshdrill ended what the hook left running (the run's end), in
    /// ms on the run clock.
    #[serde(deserialize_with = "crate::results::required")]
    pub left_running_ended_ms: Option<f64>,
    /// Output was longer than what is kept (the text ends with a note
    /// saying how much was dropped). Not written: the note says it there;
    /// `[[capture]]`s record it in captures.json.
    #[serde(skip)]
    pub output_cut: bool,
}

/// A process a hook left running.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LeftProcess {
    pub pid: i32,
    /// Its program's name (`/proc/PID/comm`), never its arguments: those may
    /// hold a secret the shell expanded.
    pub program: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Marker {
    /// 1, 2, ... in the order they arrived.
    pub number: u32,
    pub at_ms: f64,
    /// `stdin` or `SIGUSR1`.
    pub source: String,
}

/// One line of `faults.jsonl`: a finished fault step, or a marker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
// One line per fault step or marker, a handful per run: boxing the step
// would only cost readability.
#[allow(clippy::large_enum_variant)]
pub enum JournalLine {
    Marker { marker: Marker },
    Step(StepLine),
}
