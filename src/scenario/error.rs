//! What can go wrong turning a scenario file into a plan, and how it is
//! shown: one line per problem, `file:line: key message`, all at once, so an
//! SRE fixes the whole file in one pass instead of one error per run.

use std::fmt;
use std::path::{Path, PathBuf};

use super::raw::Origin;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The OS error is part of the message rather than a `source()`, so that
    /// `anyhow`'s `{:#}` does not print it twice.
    #[error("cannot read scenario file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Every problem found in the file and the overrides, sorted by line.
    #[error("{}", DisplayLines(.0))]
    Invalid(Vec<Problem>),
}

impl ScenarioError {
    /// The problems of an invalid scenario; empty for a read error.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ScenarioError::Invalid(problems) => problems,
            ScenarioError::Read { .. } => &[],
        }
    }
}

/// One thing wrong with a scenario, located precisely enough to fix it
/// without reading the code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based; `None` for something missing from the whole file and for CLI
    /// overrides.
    pub line: Option<usize>,
    /// Dotted path with array indices (`target[1].url`, `load.rate`), or the
    /// flag for a problem in a CLI override (`--duration`, `--target primary`);
    /// empty for a TOML syntax error.
    pub key: String,
    /// Reads on from the key: quotes the value and says what is expected.
    pub message: String,
}

/// The house format:
/// - `demo.toml:14: load.duration "5x" is not a duration (expected ...)`
/// - `demo.toml:20: fault[0]: nothing to inject (...)` (a whole array element
///   is not the subject of a sentence, so it takes a colon)
/// - `demo.toml:3: TOML syntax error: ...` (no key)
/// - `--duration: "5x" is not a duration (expected ...)` (a CLI override)
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line.is_none() && self.key.starts_with("--") {
            return write!(f, "{}: {}", self.key, self.message);
        }
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)
        } else if self.key.ends_with(']') {
            write!(f, ": {}: {}", self.key, self.message)
        } else {
            write!(f, ": {} {}", self.key, self.message)
        }
    }
}

struct DisplayLines<'a>(&'a [Problem]);

impl fmt::Display for DisplayLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// Collects problems while reading and compiling; nothing stops at the first.
pub(super) struct Problems<'a> {
    file: &'a Path,
    list: Vec<Problem>,
    /// Things that will work but are probably not what was meant; shown,
    /// never a reason to refuse the file.
    warnings: Vec<Problem>,
}

impl<'a> Problems<'a> {
    pub(super) fn new(file: &'a Path) -> Self {
        Problems {
            file,
            list: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, origin: &Origin, message: impl Into<String>) {
        let problem = self.at(origin, message.into());
        self.list.push(problem);
    }

    pub(super) fn warn(&mut self, origin: &Origin, message: impl Into<String>) {
        let warning = self.at(origin, message.into());
        self.warnings.push(warning);
    }

    /// A problem located at `origin` in this file.
    pub(super) fn at(&self, origin: &Origin, message: String) -> Problem {
        let (line, key) = match origin {
            Origin::File { key, line } => (*line, key.clone()),
            Origin::Flag(flag) => (None, flag.clone()),
        };
        Problem {
            file: self.file.to_path_buf(),
            line,
            key,
            message,
        }
    }

    pub(super) fn take_warnings(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.warnings)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// File problems in line order, then those without a line; the order
    /// they were found in is kept among equals.
    pub(super) fn into_error(mut self) -> ScenarioError {
        self.list.sort_by_key(|p| (p.line.is_none(), p.line));
        ScenarioError::Invalid(self.list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(line: Option<usize>, key: &str, message: &str) -> String {
        Problem {
            file: PathBuf::from("scenarios/demo.toml"),
            line,
            key: key.into(),
            message: message.into(),
        }
        .to_string()
    }

    #[test]
    fn value_problem_reads_as_a_sentence_after_file_and_line() {
        assert_eq!(
            problem(Some(14), "load.duration", r#""5x" is not a duration"#),
            r#"scenarios/demo.toml:14: load.duration "5x" is not a duration"#
        );
    }

    #[test]
    fn array_element_problem_takes_a_colon() {
        assert_eq!(
            problem(Some(20), "fault[0]", "nothing to inject"),
            "scenarios/demo.toml:20: fault[0]: nothing to inject"
        );
    }

    #[test]
    fn flag_problem_names_the_flag_instead_of_the_file() {
        assert_eq!(
            problem(None, "--duration", r#""5x" is not a duration"#),
            r#"--duration: "5x" is not a duration"#
        );
    }

    #[test]
    fn missing_from_the_whole_file_has_no_line() {
        assert_eq!(
            problem(None, "target", "is required"),
            "scenarios/demo.toml: target is required"
        );
    }

    #[test]
    fn syntax_error_has_no_key() {
        assert_eq!(
            problem(Some(3), "", "TOML syntax error: invalid key"),
            "scenarios/demo.toml:3: TOML syntax error: invalid key"
        );
    }

    #[test]
    fn problems_are_sorted_by_line_with_lineless_last() {
        let path = PathBuf::from("a.toml");
        let mut problems = Problems::new(&path);
        let at = |line| Origin::File {
            key: "k".into(),
            line,
        };
        problems.push(&Origin::Flag("--rate".into()), "x");
        problems.push(&at(Some(9)), "y");
        problems.push(&at(None), "z");
        problems.push(&at(Some(2)), "w");
        let lines: Vec<_> = problems
            .into_error()
            .problems()
            .iter()
            .map(|p| (p.line, p.message.clone()))
            .collect();
        assert_eq!(
            lines,
            [
                (Some(2), "w".into()),
                (Some(9), "y".into()),
                (None, "x".into()),
                (None, "z".into())
            ]
        );
    }
}
