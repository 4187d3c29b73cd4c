//! The results folder: where it is (by default one sanitized component
//! under `results/`), created before anything else, and plan.json written
//! in it before any traffic, so the folder explains itself whatever
//! happens next.

use std::path::{Path, PathBuf};

use super::RunError;
use crate::results::PlanRecord;
use crate::results::summary::{StartInfo, TargetInfo};
use crate::scenario::Plan;

/// Creates the folder (and its parents) the run writes into.
pub(super) fn create(out_dir: Option<&Path>, plan: &Plan) -> Result<PathBuf, RunError> {
    let out_dir = out_dir.map_or_else(|| default_out_dir(&plan.name), Path::to_path_buf);
    std::fs::create_dir_all(&out_dir).map_err(|source| RunError::OutDir {
        path: out_dir.clone(),
        source,
    })?;
    Ok(out_dir)
}

/// plan.json: the compiled plan, the targets as they will be dialled and
/// every fault as planned; with `--start-at`, written again once second 0
/// is taken, with `start`.
pub(super) fn write_plan(
    out_dir: &Path,
    plan: &Plan,
    infos: &[TargetInfo],
    start: Option<&StartInfo>,
    shard: Option<crate::engine::schedule::Shard>,
) -> Result<(), RunError> {
    let planned: Vec<_> = plan
        .faults
        .iter()
        .map(|f| crate::drill::faults::record_for(f, &plan.targets))
        .collect();
    let mut record = PlanRecord::new(
        plan,
        super::finish::scenario_info(plan),
        infos,
        &planned,
        shard,
    );
    record.start = start.cloned();
    record.write(out_dir)?;
    Ok(())
}

/// `results/<UTC timestamp>-<name>`: one folder directly under `results/`
/// whatever the scenario's name holds (`/`, `..`, spaces, non-ASCII).
pub fn default_out_dir(name: &str) -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace([':', '-'], "");
    Path::new("results").join(format!("{stamp}-{}", folder_name(name)))
}

/// Most bytes of a scenario name kept in a folder name (file systems allow 255).
const FOLDER_NAME_MAX: usize = 80;

/// The name in `[A-Za-z0-9_.-]`: every run of other characters becomes one
/// `-`, so `x/../../etc` is `x-..-..-etc`, a single path component (the
/// timestamp before it means it is never `.`, `..` or empty).
fn folder_name(name: &str) -> String {
    let mut folder = String::with_capacity(name.len().min(FOLDER_NAME_MAX));
    for c in name.chars() {
        let kept = c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        if kept {
            folder.push(c);
        } else if !folder.ends_with('-') {
            folder.push('-');
        }
        if folder.len() >= FOLDER_NAME_MAX {
            break;
        }
    }
    let folder = folder.trim_matches('-');
    if folder.is_empty() {
        "scenario".to_string()
    } else {
        folder.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11 item 5: `name = "x/../../../escaped-dir"` wrote outside `results/`.
    #[test]
    fn the_results_folder_is_one_sanitized_component_under_results() {
        let names = [
            ("x/../../../escaped-dir", "x-..-..-..-escaped-dir"),
            ("..", ".."),
            ("/", "scenario"),
            ("", "scenario"),
            ("primary down: 2 pods", "primary-down-2-pods"),
            ("<script>alert('x')</script>", "script-alert-x-script"),
            ("café/ñ", "caf"),
            ("a\\b\0c\nd", "a-b-c-d"),
            ("demo", "demo"),
        ];
        for (name, folder) in names {
            let dir = default_out_dir(name);
            let parts: Vec<_> = dir.components().collect();
            assert_eq!(parts.len(), 2, "{name:?} → {dir:?}");
            assert_eq!(parts[0].as_os_str(), "results");
            let std::path::Component::Normal(last) = parts[1] else {
                panic!("{name:?} → {dir:?}");
            };
            let last = last.to_str().unwrap();
            let (stamp, rest) = last.split_once('-').unwrap();
            assert!(stamp.ends_with('Z') && stamp.len() == 16, "{last}");
            assert_eq!(rest, folder, "{name:?}");
            assert!(
                last.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')),
                "{last}"
            );
        }
        assert_eq!(folder_name(&"a".repeat(300)).len(), FOLDER_NAME_MAX);
    }
}
