//! JUnit XML (`--junit FILE` on `run`, `report` and `compare`) for the test
//! tabs of Jenkins, GitLab and Azure DevOps: one `<testsuite>` per run or
//! comparison, one `<testcase>` per criterion (or per gated comparison
//! row) with the measured value against the threshold in its `<failure>`;
//! an INVALID run's cases each carry an `<error>` (nothing was judged); the
//! drill's RTO per fault and scope as `<properties>`. The shape is the
//! common Jenkins/Ant one (tests/data/junit-10.xsd, which a test validates
//! against). Written by a small writer that escapes every text and
//! attribute ([`escape`]).

use std::path::Path;

use crate::compare::{Comparison, Judgement};
use crate::results::summary::Summary;
use crate::results::verdict::VerdictStatus;
use crate::results::{WriteError, write_atomic};

use super::markdown::rto_text;

pub struct Suite {
    pub name: String,
    pub timestamp: Option<String>,
    pub time_s: f64,
    pub properties: Vec<(String, String)>,
    pub cases: Vec<Case>,
}

pub struct Case {
    pub name: String,
    pub classname: String,
    pub result: CaseResult,
}

pub enum CaseResult {
    Pass,
    /// A criterion (`kind` "slo") or a compared metric ("regression")
    /// that did not hold.
    Failure {
        kind: &'static str,
        message: String,
        text: String,
    },
    /// Nothing could be judged (an INVALID run).
    Error {
        message: String,
        text: String,
    },
    /// Shown, not judged (a history too short; a side missing).
    Skipped {
        message: String,
    },
}

/// A run's verdict: one case per criterion.
pub fn verdict_suite(s: &Summary) -> Suite {
    let classname = format!("meshdrill.{}", s.scenario.name);
    let verdict = s.verdict.as_ref();
    let invalid = verdict
        .filter(|v| v.status == VerdictStatus::Invalid)
        .map(|v| {
            let reasons = if v.generator.invalid.is_empty() {
                "the generator could not do what the scenario asked".to_string()
            } else {
                v.generator.invalid.join("; ")
            };
            (format!("INVALID: {reasons}"), v.generator.advice.join("\n"))
        });
    let mut cases: Vec<Case> = verdict
        .map(|v| v.criteria.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let result = match (&invalid, c.pass) {
                (Some((message, text)), _) => CaseResult::Error {
                    message: message.clone(),
                    text: text.clone(),
                },
                (None, true) => CaseResult::Pass,
                (None, false) => CaseResult::Failure {
                    kind: "slo",
                    message: format!("measured {}, threshold {}", c.measured, c.threshold),
                    text: format!(
                        "{} for {}: measured {}, threshold {}",
                        c.name, c.scope, c.measured, c.threshold
                    ),
                },
            };
            Case {
                name: format!("{} [{}]", c.name, c.scope),
                classname: classname.clone(),
                result,
            }
        })
        .collect();
    if cases.is_empty() {
        // Never an empty suite: CI would read "no tests" as nothing wrong.
        let result = match (verdict, invalid) {
            (_, Some((message, text))) => CaseResult::Error { message, text },
            (None, None) => CaseResult::Error {
                message: "the run was never judged".to_string(),
                text: String::new(),
            },
            (Some(_), None) => CaseResult::Pass,
        };
        cases.push(Case {
            name: "verdict".to_string(),
            classname: classname.clone(),
            result,
        });
    }
    let mut properties = vec![
        (
            "verdict".to_string(),
            verdict
                .map_or("NOT JUDGED", |v| v.status.word())
                .to_string(),
        ),
        ("scenario".to_string(), s.scenario.name.clone()),
    ];
    for o in &s.outages {
        for scope in &o.scopes {
            properties.push((
                format!("rto.{}.{}", o.fault, scope.scope),
                rto_text(o, &scope.scope),
            ));
        }
    }
    Suite {
        name: format!("meshdrill {}", s.scenario.name),
        timestamp: Some(s.start_utc.clone()),
        time_s: s.scenario.warmup_s + s.scenario.duration_s,
        properties,
        cases,
    }
}

/// A comparison: one case per gated row; `unjudgeable` (a run INVALID or
/// never judged, or the runs not comparable) makes it one error case.
pub fn comparison_suite(c: &Comparison) -> Suite {
    let classname = format!("meshdrill.compare.{}", c.scenario);
    let cases = c
        .gated()
        .map(|row| Case {
            name: format!(
                "{} {}/{}",
                row.metric.name(),
                row.section.label(),
                row.scope
            ),
            classname: classname.clone(),
            result: match &row.judgement {
                Judgement::Regressed => CaseResult::Failure {
                    kind: "regression",
                    message: row.regression_line(),
                    text: format!(
                        "{} against the {}",
                        row.regression_line(),
                        c.reference.label()
                    ),
                },
                Judgement::NotJudged(why) => CaseResult::Skipped {
                    message: why.clone(),
                },
                Judgement::Within | Judgement::Info => CaseResult::Pass,
            },
        })
        .collect();
    let mut properties = vec![
        ("reference".to_string(), c.reference.label()),
        ("current".to_string(), c.current.clone()),
    ];
    properties.extend(
        c.rows
            .iter()
            .filter(|r| r.metric == crate::compare::Metric::Rto)
            .map(|r| {
                (
                    format!("rto.{}.{}", r.section.label(), r.scope),
                    r.current.show(),
                )
            }),
    );
    Suite {
        name: format!("meshdrill compare {}", c.scenario),
        timestamp: None,
        time_s: 0.0,
        properties,
        cases,
    }
}

/// A comparison that could not be made, as one error case.
pub fn error_suite(scenario: &str, message: &str) -> Suite {
    Suite {
        name: format!("meshdrill compare {scenario}"),
        timestamp: None,
        time_s: 0.0,
        properties: Vec::new(),
        cases: vec![Case {
            name: "compare".to_string(),
            classname: format!("meshdrill.compare.{scenario}"),
            result: CaseResult::Error {
                message: message.to_string(),
                text: String::new(),
            },
        }],
    }
}

/// The XML document of `suites`.
pub fn render(suites: &[Suite]) -> String {
    let count = |pick: fn(&CaseResult) -> bool| -> usize {
        suites
            .iter()
            .flat_map(|s| &s.cases)
            .filter(|c| pick(&c.result))
            .count()
    };
    let failures = |r: &CaseResult| matches!(r, CaseResult::Failure { .. });
    let errors = |r: &CaseResult| matches!(r, CaseResult::Error { .. });
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"meshdrill\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3}\">\n",
        suites.iter().map(|s| s.cases.len()).sum::<usize>(),
        count(failures),
        count(errors),
        suites.iter().map(|s| s.time_s).sum::<f64>()
    ));
    for s in suites {
        let of = |pick: fn(&CaseResult) -> bool| s.cases.iter().filter(|c| pick(&c.result)).count();
        x.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\"",
            escape(&s.name),
            s.cases.len(),
            of(failures),
            of(errors),
            of(|r| matches!(r, CaseResult::Skipped { .. })),
            s.time_s
        ));
        if let Some(ts) = &s.timestamp {
            x.push_str(&format!(" timestamp=\"{}\"", escape(ts)));
        }
        x.push_str(">\n");
        if !s.properties.is_empty() {
            x.push_str("    <properties>\n");
            for (name, value) in &s.properties {
                x.push_str(&format!(
                    "      <property name=\"{}\" value=\"{}\"/>\n",
                    escape(name),
                    escape(value)
                ));
            }
            x.push_str("    </properties>\n");
        }
        for c in &s.cases {
            let open = format!(
                "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
                escape(&c.name),
                escape(&c.classname)
            );
            match &c.result {
                CaseResult::Pass => x.push_str(&format!("{open}/>\n")),
                CaseResult::Failure {
                    kind,
                    message,
                    text,
                } => x.push_str(&format!(
                    "{open}>\n      <failure message=\"{}\" type=\"{kind}\">{}</failure>\n    </testcase>\n",
                    escape(message),
                    escape(text)
                )),
                CaseResult::Error { message, text } => x.push_str(&format!(
                    "{open}>\n      <error message=\"{}\" type=\"invalid\">{}</error>\n    </testcase>\n",
                    escape(message),
                    escape(text)
                )),
                CaseResult::Skipped { message } => x.push_str(&format!(
                    "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    escape(message)
                )),
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// `text` as XML character data or an attribute value: the five markup
/// characters as entities, tab/newline/CR as character references (kept in
/// attributes), and characters XML 1.0 cannot hold as U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The file at `path`, replaced whole.
pub fn write(path: &Path, suites: &[Suite]) -> Result<(), WriteError> {
    write_atomic(path, render(suites).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_markup_and_forbidden_character_is_escaped() {
        assert_eq!(
            escape("a<b>&\"c'\n\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;\u{fffd}"
        );
        assert_eq!(escape("≥ 99.00 %"), "≥ 99.00 %");
    }

    #[test]
    fn a_document_counts_its_cases_and_parses() {
        let suite = Suite {
            name: "meshdrill <demo>".into(),
            timestamp: Some("2026-01-01T00:00:00.000Z".into()),
            time_s: 30.0,
            properties: vec![("rto.primary-down.primary".into(), "8.004 s".into())],
            cases: vec![
                Case {
                    name: "rto_max [primary]".into(),
                    classname: "meshdrill.demo".into(),
                    result: CaseResult::Failure {
                        kind: "slo",
                        message: "measured 12.004 s, threshold ≤ 10 s".into(),
                        text: "x & y".into(),
                    },
                },
                Case {
                    name: "availability_min [secondary]".into(),
                    classname: "meshdrill.demo".into(),
                    result: CaseResult::Pass,
                },
            ],
        };
        let xml = render(&[suite]);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.attribute("tests"), Some("2"));
        assert_eq!(root.attribute("failures"), Some("1"));
        let suite = root.first_element_child().unwrap();
        assert_eq!(suite.attribute("name"), Some("meshdrill <demo>"));
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(
            failure.attribute("message"),
            Some("measured 12.004 s, threshold ≤ 10 s")
        );
        assert_eq!(failure.text(), Some("x & y"));
    }
}
