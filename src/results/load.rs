//! [`Results::load`]: the one way anything reads a results folder back,
//! every file through the same types that wrote it.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::LoadError;
use super::addresses::AddressRow;
use super::faults::JournalLine;
use super::hlog::Hlog;
use super::plan::PlanRecord;
use super::summary::{SCHEMA_VERSION, Summary};
use super::timeline_read::Timeline;
use super::{faults, hlog, summary, timeline, timeline_read};

/// A results folder, read.
#[derive(Clone, Debug, PartialEq)]
pub struct Results {
    pub dir: PathBuf,
    pub summary: Summary,
    pub timeline: Timeline,
    pub hlog: Hlog,
    /// latency-ok.hlog (successes alone), checked against `hlog` interval by
    /// interval; `None` for a folder written before runs kept it.
    pub hlog_ok: Option<Hlog>,
    /// faults.jsonl, in file order; empty when no step ran (the run writes
    /// the file at its first finished step or marker).
    pub journal: Vec<JournalLine>,
    /// plan.json; `None` for a folder written before runs kept it.
    pub plan: Option<PlanRecord>,
    /// addresses.csv, in file order; `None` for a folder written before
    /// runs kept it.
    pub addresses: Option<Vec<AddressRow>>,
    /// captures.json with each capture's output; empty without captures.
    pub captures: Vec<super::captures::Capture>,
    /// annotations.json; `None` for a run without `--grafana` (or one
    /// still being judged: it is written after the verdict).
    pub annotations: Option<super::annotations::AnnotationLog>,
    /// evidence.json with each answered query's samples; `None` for a run
    /// without `[evidence]` (or one still being judged: it is written
    /// after the verdict).
    pub evidence: Option<super::evidence::Evidence>,
}

impl Results {
    pub fn load(dir: &Path) -> Result<Results, LoadError> {
        let summary = read_summary(&dir.join(summary::FILE))?;
        Results::beside(dir, summary)
    }

    /// The folder's other files with a summary the caller already holds
    /// (a run judging what it has just written, before summary.json exists).
    pub fn beside(dir: &Path, summary: Summary) -> Result<Results, LoadError> {
        if let Some(rebuilt) = &summary.rebuilt {
            // Rebuilt from files a killed run may have cut: read them as the
            // rebuild did, to the seconds it was rebuilt from.
            let seconds = rebuilt.seconds_on_disk;
            return super::rebuild::beside(dir, summary, seconds);
        }
        let every = hlog::read(&dir.join(hlog::FILE))?;
        let ok = hlog::read_ok(dir, &every)?;
        Ok(Results {
            dir: dir.to_path_buf(),
            summary,
            timeline: timeline_read::read(&dir.join(timeline::FILE))?,
            hlog: every,
            hlog_ok: ok,
            journal: read_journal(&dir.join(faults::FILE))?,
            plan: PlanRecord::read(dir)?,
            addresses: super::addresses::read(dir, None)?,
            captures: super::captures::read(dir)?,
            annotations: super::annotations::read(dir)?,
            evidence: super::evidence::read(dir)?,
        })
    }
}

pub fn read_summary(path: &Path) -> Result<Summary, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    versioned(path, &bytes)
}

/// A JSON file with a top-level `schema_version`: refused unless it is
/// this build's, then read whole as `T`.
pub(crate) fn versioned<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, LoadError> {
    #[derive(Deserialize)]
    struct Version {
        #[serde(default)]
        schema_version: Option<u64>,
    }
    let json = |e: serde_json::Error| json_error(path, bytes, &e);
    let version: Version = serde_json::from_slice(bytes).map_err(json)?;
    if version.schema_version != Some(u64::from(SCHEMA_VERSION)) {
        return Err(LoadError::Schema {
            path: path.to_path_buf(),
            found: version.schema_version,
            expected: SCHEMA_VERSION,
        });
    }
    serde_json::from_slice(bytes).map_err(json)
}

/// A JSON error naming the top-level key it is in (`key `slo` is
/// malformed: ...`, `key `slo` is missing`), found from the error's
/// position, so a message says which part of the file to look at.
fn json_error(path: &Path, bytes: &[u8], e: &serde_json::Error) -> LoadError {
    // serde_json's message ends with the position ("at line 1 column 7106").
    let text = e.to_string();
    let message = match top_level_key_at(bytes, e.line(), e.column()) {
        Some(key) => format!("key `{key}` is malformed: {text}"),
        None => match text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
        {
            Some((key, _)) => format!("key `{key}` is missing"),
            None => text,
        },
    };
    LoadError::invalid(path, None, message)
}

/// The key of the top-level object whose value holds the byte at `line`
/// and `column` (1-based, as serde_json reports them); `None` outside any.
fn top_level_key_at(bytes: &[u8], line: usize, column: usize) -> Option<String> {
    let (mut at_line, mut at_column) = (1, 0);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut string, mut last_string, mut key) = (Vec::new(), Vec::new(), None);
    for &b in bytes {
        if b == b'\n' {
            at_line += 1;
            at_column = 0;
        } else {
            at_column += 1;
        }
        if (at_line, at_column) >= (line, column) {
            // Set at a top-level key's colon, cleared at the next comma; the
            // top-level object's own closing brace is in no key's value.
            let closing_top = depth == 1 && b == b'}' && !in_string;
            return if depth >= 1 && !closing_top {
                key
            } else {
                None
            };
        }
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => {
                    in_string = false;
                    last_string = std::mem::take(&mut string);
                }
                (false, _) => string.push(b),
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b':' if depth == 1 => key = Some(String::from_utf8_lossy(&last_string).into_owned()),
            b',' if depth == 1 => key = None,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn read_journal(path: &Path) -> Result<Vec<JournalLine>, LoadError> {
    match read_if_there(path)? {
        Some(bytes) => parse_journal(path, &bytes),
        None => Ok(Vec::new()),
    }
}

/// The file's bytes; `None` when it does not exist.
pub(crate) fn read_if_there(path: &Path) -> Result<Option<Vec<u8>>, LoadError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LoadError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The lines of faults.jsonl in `bytes`, each named by its number on error.
pub(crate) fn parse_journal(path: &Path, bytes: &[u8]) -> Result<Vec<JournalLine>, LoadError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| LoadError::invalid(path, None, format!("not UTF-8: {e}")))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .map_err(|e| LoadError::invalid(path, Some(i as u64 + 1), e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_error_is_placed_in_its_top_level_key() {
        let text = br#"{"a": 1, "slo": {"all": [1, "x"]}, "b": "}"}"#;
        let at = |needle: &str| {
            let column = std::str::from_utf8(text).unwrap().find(needle).unwrap() + 1;
            top_level_key_at(text, 1, column)
        };
        assert_eq!(at("1,"), Some("a".into()));
        assert_eq!(at("\"x\""), Some("slo".into()));
        assert_eq!(at("\"}\""), Some("b".into()));
        // The object's own closing brace: in no key (a missing field).
        assert_eq!(top_level_key_at(text, 1, text.len()), None);
    }

    #[test]
    fn a_bad_journal_line_is_named_by_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(faults::FILE);
        assert_eq!(read_journal(&path).unwrap(), []);
        std::fs::write(
            &path,
            "{\"marker\":{\"number\":1,\"at_ms\":1500.0,\"source\":\"stdin\"}}\n{\"fault\":3}\n",
        )
        .unwrap();
        let err = read_journal(&path).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{}:2: ", path.display())),
            "{err}"
        );
        std::fs::write(
            &path,
            "{\"marker\":{\"number\":1,\"at_ms\":1500.0,\"source\":\"stdin\"}}\n",
        )
        .unwrap();
        let lines = read_journal(&path).unwrap();
        assert!(
            matches!(&lines[..], [JournalLine::Marker { marker }] if marker.at_ms == 1500.0),
            "{lines:?}"
        );
    }
}
