//! Why a results folder could not be read: one error type for every file,
//! naming the file (and the line or row), never a default in its place.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// summary.json (or plan.json) of another shape than this build's.
    #[error(
        "{}: {}; this meshdrill reads schema_version {expected} (re-run the drill, or use the meshdrill that wrote it)",
        path.display(),
        match found {
            Some(v) => format!("schema_version {v}"),
            None => "no schema_version (version 1, written before results had one)".to_string(),
        }
    )]
    Schema {
        path: PathBuf,
        found: Option<u64>,
        expected: u32,
    },
    /// The file is there but does not say what this build writes; `line`
    /// is the file's line (for timeline.csv, row 2 is the first second).
    #[error("{}{}: {message}", path.display(), line.map_or(String::new(), |l| format!(":{l}")))]
    Invalid {
        path: PathBuf,
        line: Option<u64>,
        message: String,
    },
}

impl LoadError {
    pub fn invalid(path: &std::path::Path, line: Option<u64>, message: impl Into<String>) -> Self {
        LoadError::Invalid {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            LoadError::Read { path, .. }
            | LoadError::Schema { path, .. }
            | LoadError::Invalid { path, .. } => path,
        }
    }
}
