//! A comparison (`crate::compare`) for people: the console table
//! ([`console`]) and the same in Markdown ([`markdown`]): the reference and
//! the tolerances, per section a table of every scope's metrics side by
//! side with the difference and the result, then each regression on a
//! line of its own and the outcome.

use crate::compare::row::{gate_text, seconds, trim};
use crate::compare::{Comparison, Judgement, Reference, Row, Section};
use crate::report::markdown::{escape, table};
use crate::report::width::{Align, Columns, fit};

fn result_word(j: &Judgement) -> String {
    match j {
        Judgement::Info => String::new(),
        Judgement::Within => "ok".to_string(),
        Judgement::Regressed => "REGRESSED".to_string(),
        Judgement::NotJudged(why) => format!("not judged: {why}"),
    }
}

fn reference_header(c: &Comparison) -> &'static str {
    match c.reference {
        Reference::Baseline { .. } => "baseline",
        Reference::History { .. } => "history",
    }
}

fn sections(c: &Comparison) -> Vec<(&Section, Vec<&Row>)> {
    let mut out: Vec<(&Section, Vec<&Row>)> = Vec::new();
    for row in &c.rows {
        match out.iter_mut().find(|(s, _)| **s == row.section) {
            Some((_, rows)) => rows.push(row),
            None => out.push((&row.section, vec![row])),
        }
    }
    out
}

/// A Markdown row: the reason a row was not judged stays in its cell.
fn cells(row: &Row) -> Vec<String> {
    vec![
        row.scope.clone(),
        row.metric.name().to_string(),
        row.reference.show(),
        row.current.show(),
        row.difference(),
        result_word(&row.judgement),
    ]
}

fn heading(section: &Section) -> String {
    match section {
        Section::Run => "whole run (measured phase)".to_string(),
        Section::Fault(name) => format!("{name} (RTO; the rest over the fault's window)"),
    }
}

fn tolerances_line(c: &Comparison) -> String {
    let t = &c.tolerances;
    format!(
        "tolerances: RTO +{}; p99 +{}; availability -{} pp and {} failed",
        gate_text(&t.rto, seconds),
        gate_text(&t.p99, |ms| format!("{ms:.1} ms")),
        trim(t.availability.points),
        t.availability.failed_floor
    )
}

fn skipped_lines(c: &Comparison) -> Vec<String> {
    match &c.reference {
        Reference::History {
            runs,
            min_history,
            skipped,
        } => {
            let mut lines = vec![format!(
                "{runs} earlier run(s) usable (--min-history {min_history}), {} skipped",
                skipped.len()
            )];
            lines.extend(
                skipped
                    .iter()
                    .map(|s| format!("skipped {}: {}", s.dir, s.why)),
            );
            lines
        }
        Reference::Baseline { .. } => Vec::new(),
    }
}

/// The closing line: what the exit code says.
pub fn outcome_line(c: &Comparison) -> String {
    let n = c.regressions().count();
    match (&c.reference, c.judged, n) {
        (
            Reference::History {
                runs, min_history, ..
            },
            false,
            _,
        ) => format!(
            "WARNING: only {runs} earlier run(s) of {} to judge against, fewer than --min-history {min_history}: nothing judged",
            c.scenario
        ),
        (_, _, 0) => "no regression".to_string(),
        (_, _, n) => format!("REGRESSED: {n} metric(s)"),
    }
}

/// The console table: per section, each scope's metrics under its name;
/// why a row was not judged is said once under its section.
pub fn console(c: &Comparison) -> String {
    use Align::{Left, Right};
    let mut head = format!(
        "\nmeshdrill compare {}: {} against the {}\n{}\n",
        c.scenario,
        c.current,
        c.reference.label(),
        tolerances_line(c)
    );
    for line in skipped_lines(c) {
        head.push_str(&format!("{line}\n"));
    }
    for note in &c.notes {
        head.push_str(&format!("note: {note}\n"));
    }
    let mut t = fit(&head, 2);
    for (section, rows) in sections(c) {
        t.push_str(&format!("\n{}:\n", heading(section)));
        let mut table = Columns::new(
            2,
            &[
                ("", Left),
                (reference_header(c), Right),
                ("current", Right),
                ("difference", Right),
                ("result", Left),
            ],
        );
        let mut scope = None;
        let mut unjudged: Vec<&str> = Vec::new();
        for row in rows {
            if scope != Some(row.scope.as_str()) {
                scope = Some(row.scope.as_str());
                table.row(vec![row.scope.clone()]);
            }
            let result = match &row.judgement {
                Judgement::NotJudged(why) => {
                    if !unjudged.contains(&why.as_str()) {
                        unjudged.push(why);
                    }
                    "not judged".to_string()
                }
                other => result_word(other),
            };
            table.row(vec![
                format!("  {}", row.metric.name()),
                row.reference.show(),
                row.current.show(),
                row.difference(),
                result,
            ]);
        }
        t.push_str(&table.render());
        for why in unjudged {
            t.push_str(&fit(&format!("  not judged: {why}\n"), 2));
        }
    }
    let mut tail = String::new();
    let regressions: Vec<&Row> = c.regressions().collect();
    if !regressions.is_empty() {
        tail.push_str("\nregressions:\n");
        for row in regressions {
            tail.push_str(&format!("  {}\n", row.regression_line()));
        }
    }
    tail.push_str(&format!("\n{}\n", outcome_line(c)));
    t.push_str(&fit(&tail, 2));
    t
}

/// The same as Markdown (for `--markdown FILE` and the step summary).
pub fn markdown(c: &Comparison) -> String {
    let mut t = format!(
        "## meshdrill compare {} — {}\n\n{} against the {}.\n\n{}.\n",
        escape(&c.scenario),
        escape(&outcome_line(c)),
        escape(&c.current),
        escape(&c.reference.label()),
        escape(&tolerances_line(c))
    );
    let extra: Vec<String> = skipped_lines(c)
        .into_iter()
        .chain(c.notes.iter().map(|n| format!("note: {n}")))
        .collect();
    if !extra.is_empty() {
        t.push('\n');
        for line in extra {
            t.push_str(&format!("- {}\n", escape(&line)));
        }
    }
    let regressions: Vec<&Row> = c.regressions().collect();
    if !regressions.is_empty() {
        t.push_str("\n### Regressions\n\n");
        for row in regressions {
            t.push_str(&format!("- **{}**\n", escape(&row.regression_line())));
        }
    }
    for (section, rows) in sections(c) {
        t.push_str(&format!("\n### {}\n\n", escape(&heading(section))));
        let rows: Vec<Vec<String>> = rows.into_iter().map(cells).collect();
        t.push_str(&table(
            &[
                "scope",
                "metric",
                reference_header(c),
                "current",
                "difference",
                "result",
            ],
            &rows,
        ));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{Metric, Rto, Tolerances, Value};

    fn comparison(judgement: Judgement) -> Comparison {
        Comparison {
            scenario: "demo".into(),
            reference: Reference::Baseline { dir: "a".into() },
            current: "b".into(),
            tolerances: Tolerances::default(),
            rows: vec![Row {
                section: Section::Fault("primary-down".into()),
                scope: "primary|x".into(),
                metric: Metric::Rto,
                reference: Value::Rto(Rto::Recovered { ms: 8000 }),
                current: Value::Rto(Rto::Recovered { ms: 12_000 }),
                judgement,
                tolerance: Some("10 % or 1.000 s".into()),
            }],
            notes: Vec::new(),
            judged: true,
        }
    }

    #[test]
    fn a_regression_is_named_in_the_table_its_own_line_and_the_outcome() {
        let c = comparison(Judgement::Regressed);
        let text = console(&c);
        assert!(text.contains("tolerances: RTO +10 % or 1.000 s; p99 +25 % or 5.0 ms; availability -0.5 pp and 10 failed"), "{text}");
        assert!(
            text.contains("\n  RTO primary-down/primary|x 8.000 s → 12.000 s (+4.000 s (+50 %), tolerance 10 % or 1.000 s)\n"),
            "{text}"
        );
        assert!(text.ends_with("\nREGRESSED: 1 metric(s)\n"), "{text}");
        let md = markdown(&c);
        assert!(
            md.starts_with("## meshdrill compare demo — REGRESSED: 1 metric(s)\n"),
            "{md}"
        );
        // The scope's `|` cannot break the table.
        assert!(
            md.contains("| primary\\|x | RTO | 8.000 s | 12.000 s |"),
            "{md}"
        );

        let ok = console(&comparison(Judgement::Within));
        assert!(ok.ends_with("\nno regression\n"), "{ok}");
        assert!(!ok.contains("regressions:"), "{ok}");
    }
}
