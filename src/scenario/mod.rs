//! Scenario files: TOML on disk (+ CLI overrides) → validated [`Plan`].
//!
//! One straight line, one file per step: `read.rs` parses the text into a
//! loosely typed mirror of the file (`raw.rs`, which also documents the file
//! format), [`Overrides`] patch that mirror, and `compile.rs` (with one file
//! per table) gives every value its meaning and checks it. Every problem
//! found on the way is collected and reported together, each with file, line
//! and key ([`ScenarioError`]).

mod clusters;
mod compile;
mod duration;
mod error;
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

pub use error::{Problem, ScenarioError};
pub use load::DEFAULT_MAX_LATE_PCT;
pub use overrides::Overrides;
pub use plan::*;

/// Reads and compiles a scenario file; `${VAR}` reads the process environment.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Plan, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|error| ScenarioError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    parse(&text, path, overrides, &|name| std::env::var(name).ok())
}

/// [`load`] without the file system or the process environment, for tests:
/// `source` only names the file in messages and gives the default name.
pub fn parse(
    text: &str,
    source: &Path,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, ScenarioError> {
    let mut problems = error::Problems::new(source);
    let Some(mut raw) = read::read(text, &mut problems) else {
        return Err(problems.into_error());
    };
    overrides.apply(&mut raw, &mut problems);
    let mut cx = compile::Cx::new(problems, env);
    match compile::compile(&raw, source, &mut cx) {
        Some(plan) => Ok(plan),
        None => {
            debug_assert!(!cx.problems.is_empty(), "a plan failed without a problem");
            Err(cx.problems.into_error())
        }
    }
}
