//! Scenario files: TOML on disk (+ CLI overrides) → validated [`Plan`].
//!
//! One straight line, one file per step: `read.rs` parses the text into a
//! loosely typed mirror of the file (`raw.rs`, which also documents the file
//! format), [`Overrides`] patch that mirror, and `compile.rs` (with one file
//! per table) gives every value its meaning and checks it. Every problem
//! found on the way is collected and reported together, each with file, line
//! and key ([`ScenarioError`]).

mod capture;
mod checks;
mod clusters;
mod compile;
mod dns;
mod duration;
mod error;
mod evidence;
mod fault;
mod interpolate;
mod load;
mod overrides;
pub mod plan;
mod raw;
mod read;
mod recovery;
mod sim_settings;
mod size;
mod slo;
mod target;

use std::path::Path;

pub use checks::{find_program, missing_programs};
pub use error::{Problem, ScenarioError};
pub use evidence::default_queries;
pub use load::DEFAULT_MAX_LATE_PCT;
pub use overrides::Overrides;
pub use plan::*;

/// Reads and compiles a scenario file; `${VAR}` reads the process environment.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Plan, ScenarioError> {
    load_checked(path, overrides).map(|checked| checked.plan)
}

/// A compiled scenario with what compiling noticed beyond the plan.
#[derive(Debug)]
pub struct Checked {
    pub plan: Plan,
    /// Valid, but probably not what was meant (e.g. warmup ≥ duration).
    pub warnings: Vec<Problem>,
    /// Every hook command's program, where the file names it.
    pub programs: Vec<LocatedProgram>,
}

/// A program a hook starts: `program` is argv[0], or `sh` when `shell`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocatedProgram {
    pub program: String,
    pub shell: bool,
    /// Where the file names it; its message is empty.
    pub at: Problem,
}

/// [`load`], keeping the warnings and the hook programs (`run --check`).
pub fn load_checked(path: &Path, overrides: &Overrides) -> Result<Checked, ScenarioError> {
    let bytes = std::fs::read(path).map_err(|error| ScenarioError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    let text = utf8(bytes, path)?;
    parse_checked(&text, path, overrides, &|name| std::env::var(name).ok())
}

/// The text, or where its first invalid UTF-8 byte is: line, byte of the
/// file and column (in bytes) of the line.
fn utf8(bytes: Vec<u8>, path: &Path) -> Result<String, ScenarioError> {
    String::from_utf8(bytes).map_err(|error| {
        let bytes = error.as_bytes();
        let offset = error.utf8_error().valid_up_to();
        let before = &bytes[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = offset - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        ScenarioError::Invalid(vec![Problem {
            file: path.to_path_buf(),
            line: Some(line),
            key: String::new(),
            message: format!(
                "invalid UTF-8: byte 0x{:02X} at byte {offset} of the file (column {column} of line {line}); save the scenario as UTF-8",
                bytes[offset]
            ),
        }])
    })
}

/// [`load`] without the file system or the process environment, for tests:
/// `source` only names the file in messages and gives the default name.
pub fn parse(
    text: &str,
    source: &Path,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, ScenarioError> {
    parse_checked(text, source, overrides, env).map(|checked| checked.plan)
}

/// [`parse`], keeping the warnings and the hook programs.
pub fn parse_checked(
    text: &str,
    source: &Path,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Checked, ScenarioError> {
    let mut problems = error::Problems::new(source);
    let Some(mut raw) = read::read(text, &mut problems) else {
        return Err(problems.into_error());
    };
    overrides.apply(&mut raw, &mut problems);
    let mut cx = compile::Cx::new(problems, env);
    let Some(plan) = compile::compile(&raw, source, &mut cx) else {
        debug_assert!(!cx.problems.is_empty(), "a plan failed without a problem");
        return Err(cx.problems.into_error());
    };
    let programs = checks::check(&raw, &plan, &mut cx);
    if !cx.problems.is_empty() {
        return Err(cx.problems.into_error());
    }
    let programs = programs
        .into_iter()
        .map(|p| LocatedProgram {
            at: cx.problems.at(&p.origin, String::new()),
            program: p.program,
            shell: p.shell,
        })
        .collect();
    Ok(Checked {
        plan,
        warnings: cx.problems.take_warnings(),
        programs,
    })
}
