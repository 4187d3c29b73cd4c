//! Checks of a scenario that compiled: timings that are valid one by one but
//! not together, and the hook programs `--check` looks up on this machine.
//! Run only when compiling found nothing wrong, so every value read again
//! here is known to be valid.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::LocatedProgram;
use super::compile::Cx;
use super::duration;
use super::error::Problem;
use super::plan::Plan;
use super::raw::{Item, Origin, RawScenario, Value};

/// A program a hook starts, and where the file names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct HookProgram {
    pub(super) origin: Origin,
    /// argv[0], or `sh` for a `shell = true` hook.
    pub program: String,
    pub shell: bool,
}

/// Problems (and warnings) of a compiled plan; returns the hook programs.
pub(super) fn check(raw: &RawScenario, plan: &Plan, cx: &mut Cx<'_>) -> Vec<HookProgram> {
    let load = &plan.load;
    let end = load.warmup + load.duration;
    if load.warmup >= load.duration
        && let Some(item) = &raw.load.warmup
    {
        let message = format!(
            "{} is not shorter than load.duration ({}): most of the traffic is warmup, kept out of every total and the verdict",
            item.value,
            duration::show(load.duration)
        );
        cx.problems.warn(&item.origin, message);
    }
    let mut programs = Vec::new();
    for fault in &raw.faults {
        if let Some(item) = &fault.timeout
            && let Some(timeout) = cx.duration(item)
            && timeout >= end
        {
            let message = format!(
                "{} is not shorter than the whole run ({}, warmup + duration): the run ends first, so it could never stop the hook (expected less than {})",
                item.value,
                duration::show(end),
                duration::show(end)
            );
            cx.problem(&item.origin, message);
        }
        let shell = matches!(
            fault.shell,
            Some(Item {
                value: Value::Bool(true),
                ..
            })
        );
        for item in [&fault.inject, &fault.restore].into_iter().flatten() {
            let program = match (&item.value, shell) {
                (_, true) => Some("sh".to_string()),
                (Value::Array(argv), false) => argv.first().and_then(|first| {
                    let first = Item {
                        value: first.clone(),
                        origin: item.origin.clone(),
                    };
                    cx.text(&first, "a program").map(|t| t.value)
                }),
                _ => None,
            };
            if let Some(program) = program {
                programs.push(HookProgram {
                    origin: item.origin.clone(),
                    program,
                    shell,
                });
            }
        }
    }
    // A capture's program too: `kubectl` missing is better known before the drill.
    for capture in &raw.captures {
        if let Some(
            item @ Item {
                value: Value::Array(argv),
                ..
            },
        ) = &capture.argv
            && let Some(first) = argv.first()
        {
            let first = Item {
                value: first.clone(),
                origin: item.origin.clone(),
            };
            if let Some(program) = cx.text(&first, "a program").map(|t| t.value) {
                programs.push(HookProgram {
                    origin: item.origin.clone(),
                    program,
                    shell: false,
                });
            }
        }
    }
    programs
}

/// Where `program` would be started from: a path with a `/` as it is, a
/// bare name looked up in `path_var` like `execvp` does. `None` when there
/// is no executable file there.
pub fn find_program(program: &str, path_var: Option<&OsStr>) -> Option<PathBuf> {
    if program.contains('/') {
        let path = Path::new(program);
        return is_executable(path).then(|| path.to_path_buf());
    }
    let dirs = path_var?;
    std::env::split_paths(dirs)
        .map(|dir| {
            // An empty entry means the current directory.
            let dir = if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            };
            dir.join(program)
        })
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Hook programs that could not be started from here (`path_var` is
/// `$PATH`): a fault would fail only when it fires, mid-drill. Each problem
/// is where the file names the program, saying why.
pub fn missing_programs(programs: &[LocatedProgram], path_var: Option<&OsStr>) -> Vec<Problem> {
    programs
        .iter()
        .filter(|p| find_program(&p.program, path_var).is_none())
        .map(|p| {
            let mut problem = p.at.clone();
            problem.message = if p.shell {
                format!(
                    "runs with sh -c (shell = true), and no executable {:?} is on PATH",
                    p.program
                )
            } else if p.program.contains('/') {
                format!("program {:?} is not an executable file", p.program)
            } else {
                format!(
                    "program {:?} is not on PATH (install it, or give its full path)",
                    p.program
                )
            };
            problem
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_is_named_where_the_file_names_it_saying_why() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let at = |line| Problem {
            file: PathBuf::from("drill.toml"),
            line: Some(line),
            key: format!("fault[{line}].inject"),
            message: String::new(),
        };
        let program = |name: &str, shell, line| LocatedProgram {
            program: name.to_string(),
            shell,
            at: at(line),
        };
        let programs = [
            program("tool", false, 1),
            program("absent-tool", false, 2),
            program("sh-absent", true, 3),
            program("/no/such/tool", false, 4),
            program(tool.to_str().unwrap(), false, 5),
        ];
        let missing = missing_programs(&programs, Some(dir.path().as_os_str()));
        let said: Vec<(Option<usize>, &str)> = missing
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        assert_eq!(
            said,
            [
                (
                    Some(2),
                    "program \"absent-tool\" is not on PATH (install it, or give its full path)"
                ),
                (
                    Some(3),
                    "runs with sh -c (shell = true), and no executable \"sh-absent\" is on PATH"
                ),
                (
                    Some(4),
                    "program \"/no/such/tool\" is not an executable file"
                ),
            ]
        );
        assert_eq!(missing[0].key, "fault[2].inject");
    }

    #[test]
    fn programs_are_found_like_execvp_finds_them() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("tool");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths(["/nonexistent", dir.path().to_str().unwrap()]).unwrap();
        assert_eq!(find_program("tool", Some(&path)), Some(exe.clone()));
        assert_eq!(find_program("plain", Some(&path)), None, "not executable");
        assert_eq!(find_program("missing", Some(&path)), None);
        assert_eq!(find_program("tool", None), None);
        let full = exe.to_str().unwrap();
        assert_eq!(find_program(full, None), Some(exe.clone()));
        assert_eq!(find_program(plain.to_str().unwrap(), None), None);
        assert_eq!(
            find_program(dir.path().to_str().unwrap(), None),
            None,
            "a folder"
        );
    }
}
