//! `[recovery]` → [`RecoveryRule`]: how many good seconds in a row, at what
//! availability, make a target recovered (the RTO's end; see `assess::rto`).

use super::plan::RecoveryRule;

use super::compile::Cx;
use super::raw::{Item, RawRecovery};
use super::slo::percent;

const WINDOW_EXPECTED: &str = r#"(expected whole seconds ≥ 1s, e.g. "5s", "10s", "1m")"#;

pub(super) fn compile(raw: &RawRecovery, cx: &mut Cx<'_>) -> Option<RecoveryRule> {
    let defaults = RecoveryRule::default();
    let window = match &raw.window {
        Some(item) => window(item, cx),
        None => Some(defaults.window),
    };
    let threshold_pct = match &raw.threshold {
        Some(item) => percent(item, cx, false),
        None => Some(defaults.threshold_pct),
    };
    Some(RecoveryRule {
        window: window?,
        threshold_pct: threshold_pct?,
    })
}

/// The window is counted in timeline seconds, so it must be whole seconds.
fn window(item: &Item, cx: &mut Cx<'_>) -> Option<u32> {
    let window = cx.duration(item)?;
    let seconds = u32::try_from(window.as_secs()).ok();
    let problem = if window.subsec_nanos() != 0 {
        "is not a whole number of seconds"
    } else if window.is_zero() {
        "must be ≥ 1s"
    } else if seconds.is_none() {
        "is too long"
    } else {
        return seconds;
    };
    cx.problem(
        &item.origin,
        format!("{} {problem} {WINDOW_EXPECTED}", item.value),
    );
    None
}
