//! `captures.json` and `captures/`: what each `[[capture]]` command printed
//! at the run's start and end, kept so the mesh's settings travel with the
//! RTO. The index says how each run went; the output is in one file per
//! stream (`captures/<name>-<when>.txt`, `...-<when>.stderr.txt`), kept as
//! the command wrote it (bounded, as hook output is).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::LoadError;
use super::load::read_if_there;

/// The index, beside summary.json.
pub const FILE: &str = "captures.json";
/// The folder the output files are in.
pub const DIR: &str = "captures";

/// captures.json: every capture run so far, in the order they ran.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaptureIndex {
    pub captures: Vec<CaptureRecord>,
}

/// One run of one capture command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaptureRecord {
    pub name: String,
    /// `start` (before traffic) or `end` (after it stopped).
    pub when: String,
    /// The command as written (`${VAR}` unresolved).
    pub command: String,
    /// Wall clock (Unix ms) when it started.
    pub started_unix_ms: u64,
    pub duration_ms: f64,
    /// `None` when it did not exit by itself (not started, timed out, killed).
    #[serde(deserialize_with = "super::required")]
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    /// Why it could not run or was not waited for to the end.
    #[serde(deserialize_with = "super::required")]
    pub error: Option<String>,
    /// Exit 0, in time: `exit 0`, `exit 3`, `timed out (killed)`...
    pub status: String,
    pub succeeded: bool,
    /// Its output was longer than what is kept.
    pub truncated: bool,
    /// stdout, relative to the results folder.
    pub stdout_file: String,
    /// stderr, relative to the results folder; `None` when it wrote none.
    #[serde(deserialize_with = "super::required")]
    pub stderr_file: Option<String>,
}

/// A capture read back with its output.
#[derive(Clone, Debug, PartialEq)]
pub struct Capture {
    pub record: CaptureRecord,
    pub stdout: String,
    pub stderr: String,
}

/// `captures/<name>-<when>.txt`, or `...-<when>.stderr.txt`.
pub fn output_file(name: &str, when: &str, stderr: bool) -> String {
    let stream = if stderr { ".stderr" } else { "" };
    format!("{DIR}/{name}-{when}{stream}.txt")
}

/// The captures and their output; empty when the run had none (or was
/// written before runs kept them).
pub fn read(dir: &Path) -> Result<Vec<Capture>, LoadError> {
    let path = dir.join(FILE);
    let Some(bytes) = read_if_there(&path)? else {
        return Ok(Vec::new());
    };
    let index: CaptureIndex = serde_json::from_slice(&bytes)
        .map_err(|e| LoadError::invalid(&path, None, e.to_string()))?;
    let text = |file: &str| -> Result<String, LoadError> {
        if file.contains("..") || Path::new(file).is_absolute() {
            return Err(LoadError::invalid(
                &path,
                None,
                format!("{file:?} is not a file in the results folder"),
            ));
        }
        let bytes = read_if_there(&dir.join(file))?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    index
        .captures
        .into_iter()
        .map(|record| {
            let stdout = text(&record.stdout_file)?;
            let stderr = match &record.stderr_file {
                Some(file) => text(file)?,
                None => String::new(),
            };
            Ok(Capture {
                record,
                stdout,
                stderr,
            })
        })
        .collect()
}
