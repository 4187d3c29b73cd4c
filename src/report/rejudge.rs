//! `meshdrill report DIR`: judges a results folder again, without traffic.
//! Reads it ([`Results::load`]), or rebuilds its summary from the plan and
//! the per-second files when the run never wrote one
//! ([`crate::results::rebuild`]); assesses it with the run's rule or
//! another; writes what that judgement needs (charts, report.html,
//! summary.md, and summary.json where it is new) and returns the text to print and the
//! verdict. The command line only parses the flags and maps the outcome to
//! an exit code.

use std::path::{Path, PathBuf};

use crate::assess::{VerdictStatus, assess};
use crate::results::rebuild::{self, RebuildError};
use crate::results::summary::{self, RejudgedFrom};
use crate::results::{LoadError, Results, write_atomic};
use crate::scenario::RecoveryRule;

/// What the flags ask for.
pub struct RejudgeOptions {
    pub dir: PathBuf,
    /// `--window`, as typed (e.g. `20s`).
    pub window: Option<String>,
    pub threshold: Option<f64>,
    pub out: Option<PathBuf>,
    pub force: bool,
}

/// A judged folder.
pub struct Rejudged {
    pub status: VerdictStatus,
    /// The tables, for stdout.
    pub text: String,
    /// What could not be written but did not stop the judgement (a chart,
    /// report.html, summary.md), for stderr.
    pub warnings: Vec<String>,
    /// The summary as judged (what summary.md, JUnit and the step summary show).
    pub summary: summary::Summary,
    /// The folder the judgement was written to.
    pub out_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum RejudgeError {
    /// A flag, or an `--out` that cannot be used (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The folder cannot be read, or its summary rebuilt (exit 3).
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{0}")]
    NoSummary(String),
    /// An output that must be written could not be (exit 3).
    #[error("{0}")]
    Write(String),
}

pub fn rejudge(opts: &RejudgeOptions) -> Result<Rejudged, RejudgeError> {
    let mut results = read_folder(&opts.dir)?;
    let rebuilt = results.summary.rebuilt.is_some();
    let (run_rule, slo) = (results.summary.recovery, results.summary.slo.clone());
    let rule = rule_of(run_rule, opts)?;
    let rejudged = rule != run_rule;
    let out_dir = match &opts.out {
        Some(out) => out.clone(),
        None if rejudged => opts.dir.join(rejudged_dir_name(rule)),
        None => opts.dir.clone(),
    };
    let in_place = same_folder(&out_dir, &opts.dir);
    if in_place && rejudged {
        return Err(RejudgeError::Usage(format!(
            "--out {} is the run's own folder: a different rule than the run's is written to a folder of its own (leave out --out for the default)",
            out_dir.display()
        )));
    }
    let assessment = assess(&results, &rule, &slo);
    if !in_place {
        claim(&out_dir, opts.force)?;
        std::fs::create_dir_all(&out_dir)
            .map_err(|e| RejudgeError::Write(format!("--out {}: {e}", out_dir.display())))?;
    }
    let mut warnings = Vec::new();
    if let Err(e) = super::render_charts(&out_dir, &results, &assessment) {
        warnings.push(format!("charts not written: {e}"));
    }
    // The folder's summary as this assessment sees it; in the run's own
    // folder summary.json is left as the run wrote it (same rule, same
    // verdict), unless the run never wrote one and it was just rebuilt.
    let judged = &mut results.summary;
    judged.outages = assessment.outages.clone();
    judged.verdict = Some(assessment.verdict.clone());
    judged.recovery = rule;
    if rejudged {
        judged.rejudged_from = Some(RejudgedFrom {
            dir: opts.dir.display().to_string(),
            recovery: run_rule,
        });
    }
    let summary_path = out_dir.join(summary::FILE);
    if !in_place || !summary_path.exists() {
        let json = serde_json::to_vec_pretty(&*judged).expect("a summary serializes");
        write_atomic(&summary_path, &json).map_err(|e| RejudgeError::Write(e.to_string()))?;
    }
    if rebuilt {
        write_hgrms(&out_dir, &results, &mut warnings);
    }
    if let Err(e) = super::html::write(
        &out_dir,
        &results.summary,
        super::html::Beside::of(&results),
    ) {
        warnings.push(format!("report.html not written: {e}"));
    }
    if let Err(e) = super::markdown::write(&out_dir, &results.summary) {
        warnings.push(format!("summary.md not written: {e}"));
    }
    let mut text = String::new();
    if let Some(r) = &results.summary.rebuilt {
        text.push_str(&super::table::rebuilt_lines(r));
    }
    text.push_str(&super::table::outage_lines(&assessment.outages, rule));
    text.push_str(&super::table::verdict_lines(
        &assessment.verdict,
        results.summary.rebuilt.as_ref(),
    ));
    if !in_place {
        let what = if rejudged {
            format!(
                "re-judged with another rule than the run's (recovered = {} s in a row at ≥ {}% availability); {} is unchanged",
                run_rule.window,
                run_rule.threshold_pct,
                opts.dir.display()
            )
        } else {
            format!(
                "judged with the run's own rule; {} is unchanged",
                opts.dir.display()
            )
        };
        text.push_str(&format!("\nwritten to: {} ({what})\n", out_dir.display()));
    } else if rebuilt {
        text.push_str(&format!(
            "\nwritten to: {} (summary.json rebuilt from the per-second files)\n",
            summary_path.display()
        ));
    }
    Ok(Rejudged {
        status: assessment.verdict.status,
        text,
        warnings,
        summary: results.summary,
        out_dir,
    })
}

/// The folder read whole, or, when it has no summary.json, its summary
/// rebuilt from the plan and the per-second files.
fn read_folder(dir: &Path) -> Result<Results, RejudgeError> {
    let path = dir.join(summary::FILE);
    if path.exists() || !dir.is_dir() {
        // Every file of the folder, typed: a summary.json of another
        // version, or with a missing, renamed or malformed key, is refused
        // naming the file, never judged by rules it never had.
        return Ok(Results::load(dir)?);
    }
    match rebuild::rebuild(dir) {
        Ok(results) => Ok(results),
        Err(RebuildError::Load(e)) => Err(e.into()),
        Err(e @ RebuildError::NoPlan { .. }) => Err(RejudgeError::NoSummary(format!(
            "cannot read {}: it does not exist; {e}",
            path.display()
        ))),
    }
}

/// The run's rule with `--window` and `--threshold` applied.
fn rule_of(run_rule: RecoveryRule, opts: &RejudgeOptions) -> Result<RecoveryRule, RejudgeError> {
    let mut rule = run_rule;
    if let Some(window) = &opts.window {
        match humantime::parse_duration(window) {
            Ok(d) if d.as_secs() >= 1 && d.subsec_nanos() == 0 => rule.window = d.as_secs() as u32,
            _ => {
                return Err(RejudgeError::Usage(format!(
                    "--window {window:?} is not whole seconds ≥ 1s (e.g. 5s, 30s, 2m)"
                )));
            }
        }
    }
    if let Some(t) = opts.threshold {
        if !(t > 0.0 && t <= 100.0) {
            return Err(RejudgeError::Usage(format!(
                "--threshold {t} is not a percentage in (0, 100]"
            )));
        }
        rule.threshold_pct = t;
    }
    Ok(rule)
}

/// A rebuilt run wrote no .hgrm files: each target's and `all`'s, from
/// latency.hlog's measured seconds.
fn write_hgrms(out_dir: &Path, results: &Results, warnings: &mut Vec<String>) {
    let measured: Vec<u32> = results
        .timeline
        .scopes
        .first()
        .map(|s| {
            s.rows
                .iter()
                .filter(|r| r.phase != crate::record::Phase::Warmup.name())
                .map(|r| r.second)
                .collect()
        })
        .unwrap_or_default();
    let names = results
        .summary
        .targets
        .iter()
        .map(|t| Some(t.name.as_str()));
    for name in names.chain([None]) {
        let mut h = crate::record::new_histogram();
        for i in &results.hlog.intervals {
            if name.is_none_or(|n| n == i.tag) && measured.contains(&i.second) {
                let _ = h.add(i.histogram());
            }
        }
        let path = out_dir.join(super::hgrm_file(name.unwrap_or("all")));
        if let Err(e) = write_atomic(&path, super::hgrm::render(&h).as_bytes()) {
            warnings.push(e.to_string());
        }
    }
}

/// A folder holding an earlier run or re-judgement is refused, or with
/// `force` emptied of those files first.
pub(crate) fn claim(dir: &Path, force: bool) -> Result<(), RejudgeError> {
    let shown = dir.display();
    let earlier = crate::results::folder::earlier_run(dir).map_err(|e| {
        RejudgeError::Usage(format!(
            "--out {shown}: cannot read the results folder: {e}"
        ))
    })?;
    if earlier.is_empty() {
        return Ok(());
    }
    if !force {
        let names: Vec<String> = earlier
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        return Err(RejudgeError::Usage(format!(
            "{shown} holds an earlier run ({}): choose another --out, or add --force to replace that run",
            names.join(", ")
        )));
    }
    for path in &earlier {
        std::fs::remove_file(path).map_err(|e| {
            RejudgeError::Write(format!(
                "--force: cannot remove {} of the earlier run: {e}",
                path.display()
            ))
        })?;
    }
    Ok(())
}

/// `rejudged-window-20s-threshold-99.5`: the rule in the name, reduced to
/// `[A-Za-z0-9_.-]` like a run's default folder.
pub fn rejudged_dir_name(rule: RecoveryRule) -> String {
    format!(
        "rejudged-window-{}s-threshold-{}",
        rule.window, rule.threshold_pct
    )
    .chars()
    .map(|c| {
        if c.is_ascii_alphanumeric() || "_.-".contains(c) {
            c
        } else {
            '_'
        }
    })
    .collect()
}

/// True when both paths name one folder (`--out DIR` spelled another way).
fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejudged_folder_is_named_after_its_rule() {
        let rule = |window, threshold_pct| RecoveryRule {
            window,
            threshold_pct,
        };
        assert_eq!(
            rejudged_dir_name(rule(20, 99.5)),
            "rejudged-window-20s-threshold-99.5"
        );
        assert_eq!(
            rejudged_dir_name(rule(5, 99.0)),
            "rejudged-window-5s-threshold-99"
        );
        assert_eq!(
            rejudged_dir_name(rule(1, 1e-7)),
            "rejudged-window-1s-threshold-0.0000001"
        );
    }
}
