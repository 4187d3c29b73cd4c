//! `summary.md`: the run for a CI page (GitHub's step summary, a merge
//! request comment): verdict, RTO per fault, criteria, failures by kind
//! and one small table per target, from the typed summary alone. Also the
//! Markdown escaping every Markdown output uses ([`escape`]) and the
//! append to `$GITHUB_STEP_SUMMARY` ([`append_to_step_summary`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::assess::dir::seconds;
use crate::results::outage::{FaultOutage, Recovery};
use crate::results::summary::{Percentiles, StartInfo, Summary, TargetSummary};
use crate::results::verdict::VerdictStatus;
use crate::results::{WriteError, write_atomic};

pub use crate::results::files::SUMMARY_MD as FILE;

/// Text as Markdown shows it literally: every character Markdown (or the
/// HTML GitHub allows in it) could read as syntax is backslash-escaped
/// (CommonMark allows that for any ASCII punctuation; with `[` and `]`
/// escaped no link can form, so parentheses stay as they are), and a line
/// break would end a table row, so it becomes a space.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A Markdown table: a header row, its rule, then the rows; every cell escaped.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut t = line(headers.iter().map(|h| escape(h)).collect());
    t.push_str(&line(headers.iter().map(|_| "---".to_string()).collect()));
    for row in rows {
        t.push_str(&line(row.iter().map(|c| escape(c)).collect()));
    }
    t
}

/// summary.md of a judged summary.
pub fn summary_md(s: &Summary, dir: &str) -> String {
    let status = s.verdict.as_ref().map(|v| v.status);
    let word = status.map_or("NOT JUDGED", VerdictStatus::word);
    let mut t = format!(
        "## meshdrill {} — {}\n\n",
        escape(&s.scenario.name),
        escape(word)
    );
    let load = match (s.scenario.rate_per_target, s.scenario.users_per_target) {
        (Some(rate), _) => format!("{rate}/s per target"),
        (None, Some(users)) => format!("{users} users per target"),
        _ => s.scenario.model.clone(),
    };
    t.push_str(&format!(
        "{} s of {load} from {}, {} target(s); results: {}.\n",
        s.scenario.duration_s,
        escape(&s.start_utc),
        s.targets.len(),
        escape(dir)
    ));
    if let Some(shard) = s.shard {
        t.push_str(&format!(
            "\nThis is {shard}: it sent its exact share of the plan (slots and users i with i mod {} = {}).\n",
            shard.count, shard.index
        ));
    }
    if let Some(m) = &s.merged {
        t.push_str(&format!(
            "\nMerged from {} shards ({}), the faults and markers those of shard {}: judged as one run of the whole plan.\n",
            m.shards,
            escape(&m.folders.join(", ")),
            m.hooks_on
        ));
    }
    if let Some(start) = &s.start {
        t.push_str(&start_md(start, s.merged.is_some()));
    }
    if s.interrupted {
        t.push_str("\n**INTERRUPTED** before its planned end: the figures cover what ran.\n");
    }
    if let Some(r) = &s.rebuilt {
        t.push_str(&format!(
            "\n**REBUILT** from the per-second files: {} ({} of {} planned seconds on disk).\n",
            escape(&r.reason),
            r.seconds_on_disk,
            r.seconds_planned
        ));
    }
    if let Some(from) = &s.rejudged_from {
        t.push_str(&format!(
            "\nRe-judged from {} (judged there with recovered = {} s in a row at ≥ {} %).\n",
            escape(&from.dir),
            from.recovery.window,
            from.recovery.threshold_pct
        ));
    }
    t.push_str(&format!(
        "\nRecovery rule: recovered = {} s in a row at ≥ {} % availability.\n",
        s.recovery.window, s.recovery.threshold_pct
    ));
    if let Some(v) = &s.verdict
        && v.status == VerdictStatus::Invalid
    {
        t.push_str("\n**INVALID**: the generator could not do what the scenario asked, so nothing is judged:\n\n");
        for reason in &v.generator.invalid {
            t.push_str(&format!("- {}\n", escape(reason)));
        }
    }
    if !s.outages.is_empty() {
        t.push_str("\n### RTO per fault\n\n");
        t.push_str(&rto_table(s));
    }
    if let Some(v) = &s.verdict
        && !v.criteria.is_empty()
    {
        let invalid = v.status == VerdictStatus::Invalid;
        let rows: Vec<Vec<String>> = v
            .criteria
            .iter()
            .map(|c| {
                let result = match (invalid, c.pass) {
                    (true, _) => "not judged",
                    (false, true) => "pass",
                    (false, false) => "FAIL",
                };
                vec![
                    c.name.clone(),
                    c.scope.clone(),
                    c.threshold.clone(),
                    c.measured.clone(),
                    result.to_string(),
                ]
            })
            .collect();
        t.push_str("\n### Criteria\n\n");
        t.push_str(&table(
            &["criterion", "scope", "threshold", "measured", "result"],
            &rows,
        ));
    }
    t.push_str("\n### Failures by kind\n\n");
    let rows: Vec<Vec<String>> = s
        .targets
        .iter()
        .chain(std::iter::once(&s.all))
        .map(|target| {
            let kinds: Vec<String> = target
                .failures
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            vec![
                target.name.clone(),
                target.requests.to_string(),
                target.failed.to_string(),
                if kinds.is_empty() {
                    "-".to_string()
                } else {
                    kinds.join(", ")
                },
            ]
        })
        .collect();
    t.push_str(&table(&["scope", "requests", "failed", "kinds"], &rows));
    for target in &s.targets {
        t.push_str(&format!("\n### {}\n\n", escape(&target.name)));
        t.push_str(&target_table(target));
    }
    t
}

/// One row per fault: T0 and each scope's RTO.
fn rto_table(s: &Summary) -> String {
    let scopes: Vec<String> = s
        .outages
        .first()
        .map(|o| o.scopes.iter().map(|sc| sc.scope.clone()).collect())
        .unwrap_or_default();
    let mut headers = vec!["fault", "T0"];
    headers.extend(scopes.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = s
        .outages
        .iter()
        .map(|o| {
            let mut row = vec![o.fault.clone(), o.t0_ms.map_or("-".to_string(), seconds)];
            row.extend(scopes.iter().map(|scope| rto_text(o, scope)));
            row
        })
        .collect();
    table(&headers, &rows)
}

/// `8.004 s`, `no outage`, `NOT RECOVERED (> 20.000 s)`, `not measured`.
pub fn rto_text(o: &FaultOutage, scope: &str) -> String {
    let Some(s) = o.scopes.iter().find(|s| s.scope == scope) else {
        return "-".to_string();
    };
    let r = &s.report;
    match (r.recovery, r.t0_ms) {
        (Recovery::NoOutage, None) => "not measured".to_string(),
        (Recovery::NoOutage, _) => "no outage".to_string(),
        (Recovery::Recovered { .. }, _) => seconds(r.rto_ms.unwrap_or(0)),
        (Recovery::NotRecovered { lower_bound_ms }, _) => {
            format!("NOT RECOVERED (> {})", seconds(lower_bound_ms))
        }
    }
}

fn target_table(t: &TargetSummary) -> String {
    let latency = |pick: fn(&Percentiles) -> f64| {
        t.latency_ms
            .as_ref()
            .map_or("-".to_string(), |p| format!("{:.1} ms", pick(p)))
    };
    let counts = |m: &std::collections::BTreeMap<String, u64>| {
        if m.is_empty() {
            "-".to_string()
        } else {
            m.iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let rows = vec![
        vec!["endpoint".to_string(), t.endpoint.clone()],
        vec![
            "requests (ok / failed)".to_string(),
            format!("{} ({} / {})", t.requests, t.ok, t.failed),
        ],
        vec![
            "availability".to_string(),
            t.availability_pct
                .map_or("-".to_string(), |a| format!("{a:.2} %")),
        ],
        vec![
            "latency p50 / p99 / max".to_string(),
            format!(
                "{} / {} / {}",
                latency(|p| p.p50),
                latency(|p| p.p99),
                latency(|p| p.max)
            ),
        ],
        vec![
            "rate requested / achieved".to_string(),
            format!(
                "{} / {}",
                t.requested_rate
                    .map_or("-".to_string(), |r| format!("{r:.1}/s")),
                t.achieved_rate
                    .map_or("-".to_string(), |r| format!("{r:.1}/s"))
            ),
        ],
        vec!["reviews versions".to_string(), counts(&t.versions)],
        vec!["clusters".to_string(), counts(&t.clusters)],
    ];
    table(&["figure", "value"], &rows)
}

/// summary.md in `dir`, replaced whole.
pub fn write(dir: &Path, summary: &Summary) -> Result<PathBuf, WriteError> {
    let path = dir.join(FILE);
    let text = summary_md(summary, &dir.display().to_string());
    write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// Appends `markdown` to the file `$GITHUB_STEP_SUMMARY` names (GitHub
/// Actions shows it on the job's page); `None` when the variable is unset
/// or empty.
pub fn append_to_step_summary(markdown: &str) -> Option<Result<PathBuf, String>> {
    let path = PathBuf::from(std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())?);
    let appended = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .and_then(|mut f| {
            f.write_all(markdown.as_bytes())?;
            f.write_all(b"\n")
        });
    Some(
        appended
            .map(|()| path.clone())
            .map_err(|e| format!("$GITHUB_STEP_SUMMARY {}: {e}", path.display())),
    )
}

/// `--start-at`: the planned second 0, how late it was (a merge: its
/// latest shard, and each shard's own word), the skew allowed, the clock.
fn start_md(start: &StartInfo, merged: bool) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(start.at_unix_ms);
    let clock = match (start.clock.synchronized, start.clock.max_error_ms) {
        (true, Some(error)) => format!("clock synchronized (error bound {error} ms)"),
        (true, None) => "clock synchronized".to_string(),
        (false, _) => "clock not synchronized".to_string(),
    };
    let mut t = format!(
        "\nSecond 0 at --start-at {}: {}{:.1} ms late (max skew {} ms), {clock}.\n",
        humantime::format_rfc3339_millis(at),
        if merged { "the latest shard " } else { "" },
        start.lag_ms,
        start.max_skew_ms
    );
    if merged {
        t.push('\n');
        for note in &start.notes {
            t.push_str(&format!("- {}\n", escape(note)));
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_says_its_instant_lag_skew_and_clock_and_a_merge_each_shards() {
        let start = StartInfo {
            at_unix_ms: 1_796_216_400_000,
            lag_ms: 3.5,
            max_skew_ms: 50.0,
            clock: crate::results::summary::ClockStatus {
                synchronized: false,
                offset_ms: None,
                max_error_ms: None,
            },
            notes: vec!["shard 0/2: second 0 0.0 ms after --start-at".into()],
        };
        assert_eq!(
            start_md(&start, false),
            "\nSecond 0 at --start-at 2026-12-02T13:00:00.000Z: 3.5 ms late (max skew 50 ms), clock not synchronized.\n"
        );
        let mut synced = start.clone();
        synced.clock.synchronized = true;
        synced.clock.max_error_ms = Some(12.5);
        assert_eq!(
            start_md(&synced, true),
            "\nSecond 0 at --start-at 2026-12-02T13:00:00.000Z: the latest shard 3.5 ms late (max skew 50 ms), clock synchronized (error bound 12.5 ms).\n\n\
             - shard 0/2: second 0 0.0 ms after --start-at\n"
        );
    }

    #[test]
    fn markdown_syntax_in_names_is_shown_literally() {
        assert_eq!(escape("primary-down"), "primary-down");
        assert_eq!(escape("rto_max"), "rto\\_max");
        assert_eq!(
            escape("<img src=x onerror=alert(1)>|**x**"),
            "\\<img src=x onerror=alert(1)\\>\\|\\*\\*x\\*\\*"
        );
        assert_eq!(escape("two\nlines\u{7}"), "two lines");
        assert_eq!(
            table(&["a|b"], &[vec!["[x](y)".to_string()]]),
            "| a\\|b |\n| --- |\n| \\[x\\](y) |\n"
        );
    }
}
