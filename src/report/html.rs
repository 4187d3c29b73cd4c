//! `report.html`: the drill on one page, for people. Self-contained (charts
//! inlined as SVG, no script, no network), built only from the folder's
//! summary.json and chart files, so it can be regenerated from them.
//!
//! Every text taken from summary.json is escaped
//! (scenario and fault names, hook commands and output, pod and cluster names
//! come from the user's files and the target's pages), and the page carries
//! a Content-Security-Policy that lets no script, frame or request run even if
//! markup got through.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::results::annotations::AnnotationLog;
use crate::results::captures::Capture;
use crate::results::evidence::{Evidence, QueryStatus};
use crate::results::faults::HookRun;
use crate::results::files::{CHARTS, MESH_CHART, chart_file};
use crate::results::outage::{PhaseLatency, Recovery, T0Source, WindowEnd};
use crate::results::summary::{Percentiles, ScenarioInfo};
use crate::results::verdict::{Verdict, VerdictStatus};
use crate::results::{Results, Summary};
use crate::scenario::RecoveryRule;

pub use crate::results::files::REPORT_HTML as FILE;

/// Inline styles and the SVG charts only: no script, no fetch, no form, no
/// `<base>` (base-uri and form-action do not fall back to default-src).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// What report.html shows beside summary.json: the other files the run
/// wrote (each optional: a run without them, or an older folder).
#[derive(Clone, Copy, Debug, Default)]
pub struct Beside<'a> {
    pub captures: &'a [Capture],
    pub annotations: Option<&'a AnnotationLog>,
    pub evidence: Option<&'a Evidence>,
}

impl<'a> Beside<'a> {
    pub fn of(results: &'a Results) -> Beside<'a> {
        Beside {
            captures: &results.captures,
            annotations: results.annotations.as_ref(),
            evidence: results.evidence.as_ref(),
        }
    }
}

/// Writes report.html from a final summary (with outages and verdict),
/// whole or not at all.
pub fn write(
    dir: &Path,
    summary: &Summary,
    beside: Beside<'_>,
) -> Result<PathBuf, crate::results::WriteError> {
    let path = dir.join(FILE);
    crate::results::write_atomic(&path, render_beside(dir, summary, beside).as_bytes())?;
    Ok(path)
}

/// The page without captures.
pub fn render(dir: &Path, s: &Summary) -> String {
    render_with(dir, s, &[])
}

/// The page, with the `[[capture]]` commands' output (collapsed) after the
/// faults.
pub fn render_with(dir: &Path, s: &Summary, captures: &[Capture]) -> String {
    render_beside(
        dir,
        s,
        Beside {
            captures,
            ..Beside::default()
        },
    )
}

/// The page with everything the run wrote beside summary.json: captures,
/// the Grafana annotations' fate, and the mesh's view (`[evidence]`)
/// under the availability chart.
pub fn render_beside(dir: &Path, s: &Summary, beside: Beside<'_>) -> String {
    let captures = beside.captures;
    let mut h = String::with_capacity(256 * 1024);
    let name = esc(&s.scenario.name);
    let verdict = s.verdict.as_ref();
    let status = verdict.map(|v| v.status);
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\"><title>meshdrill: {name}</title>\n<style>{CSS}</style></head><body>\n<h1>{name} <span class=\"{}\">{}</span></h1>\n<p class=\"meta\">started {} · {} s · {}{}</p>\n",
        match status {
            Some(VerdictStatus::Pass) => "pass",
            Some(VerdictStatus::Fail) => "fail",
            Some(VerdictStatus::Invalid) => "invalid",
            Some(VerdictStatus::NoSlo) | None => "none",
        },
        match (status.map_or("no verdict", VerdictStatus::word), &s.rebuilt) {
            (word, Some(_)) => format!("{word} (rebuilt)"),
            (word, None) => word.to_string(),
        },
        esc(&s.start_utc),
        s.seconds,
        esc(&describe_load(&s.scenario)),
        if s.interrupted {
            " · INTERRUPTED"
        } else if s.rebuilt.is_some() {
            " · REBUILT"
        } else {
            ""
        }
    );
    if let Some(description) = &s.scenario.description {
        let _ = writeln!(h, "<p class=\"description\">{}</p>", esc(description));
    }
    if let Some(log) = beside.annotations {
        annotations_line(&mut h, log);
    }
    if let Some(rebuilt) = &s.rebuilt {
        let missing: String = rebuilt
            .missing
            .iter()
            .map(|m| format!("<li>{}</li>", esc(m)))
            .collect();
        let _ = writeln!(
            h,
            "<div id=\"rebuilt\" class=\"invalid\"><h2>Rebuilt from the per-second files: statuses, pods and service times not available</h2><p>{} ({} of {} planned seconds on disk).</p><p>Not in the files, so not in this report:</p><ul>{missing}</ul></div>",
            esc(&rebuilt.reason),
            rebuilt.seconds_on_disk,
            rebuilt.seconds_planned
        );
    }
    recovery_rule(&mut h, s);
    if let Some(verdict) = verdict {
        generator_section(&mut h, verdict);
    }

    section(&mut h, "Measured RTO");
    let mut rows = Vec::new();
    for o in &s.outages {
        for sc in &o.scopes {
            let r = &sc.report;
            let recovery = match r.recovery {
                Recovery::Recovered { .. } => {
                    format!("{:.3} s", r.rto_ms.unwrap_or(0) as f64 / 1000.0)
                }
                Recovery::NotRecovered { lower_bound_ms } => format!(
                    "NOT RECOVERED (&gt; {:.3} s)",
                    lower_bound_ms as f64 / 1000.0
                ),
                Recovery::NoOutage => "no outage".to_string(),
            };
            rows.push(vec![
                esc(&o.fault),
                esc(&sc.scope),
                t0_cell(o.source, r.t0_ms),
                recovery,
                r.failed.to_string(),
                pct(sc.in_window.as_ref().and_then(|w| w.availability_pct)),
                p99s(&sc.latency_ms),
            ]);
        }
    }
    table(
        &mut h,
        &[
            "fault",
            "scope",
            "T0",
            "RTO",
            "failed",
            "availability in fault window",
            "p99 before → during → after (ms)",
        ],
        &rows,
    );
    fault_windows(&mut h, s);
    failovers(&mut h, s);

    section(&mut h, "Verdict");
    let rows: Vec<Vec<String>> = verdict
        .map_or(&[][..], |v| &v.criteria)
        .iter()
        .map(|c| {
            let (class, word) = match (status, c.pass) {
                (Some(VerdictStatus::Invalid), _) => ("none", "not judged"),
                (_, true) => ("pass", "pass"),
                (_, false) => ("fail", "FAIL"),
            };
            vec![
                esc(&c.name),
                esc(&c.scope),
                esc(&c.threshold),
                esc(&c.measured),
                format!("<span class=\"{class}\">{word}</span>"),
            ]
        })
        .collect();
    if rows.is_empty() {
        h.push_str("<p>No SLO criteria in this scenario.</p>\n");
    } else {
        table(
            &mut h,
            &["criterion", "scope", "threshold", "measured", "result"],
            &rows,
        );
    }

    section(&mut h, "Charts");
    for chart in CHARTS {
        inline_chart(&mut h, dir, chart);
        if let Some(evidence) = beside.evidence.filter(|_| chart == "availability") {
            mesh_view(&mut h, dir, evidence);
        }
    }

    section(&mut h, "Targets");
    let rows: Vec<Vec<String>> = s
        .targets
        .iter()
        .chain(std::iter::once(&s.all))
        .map(|t| {
            let latency = |p: fn(&Percentiles) -> f64| num(t.latency_ms.as_ref().map(p));
            vec![
                esc(&t.name),
                esc(&t.endpoint),
                esc(&t.connection),
                t.requests.to_string(),
                t.ok.to_string(),
                pct(t.availability_pct),
                esc(&counts(&t.failures)),
                latency(|p| p.p50),
                latency(|p| p.p99),
                latency(|p| p.max),
                esc(&counts(&t.versions)),
                esc(&counts(&t.clusters)),
            ]
        })
        .collect();
    table(
        &mut h,
        &[
            "target",
            "endpoint",
            "connection",
            "requests",
            "ok",
            "availability",
            "failures",
            "p50 ms",
            "p99 ms",
            "max ms",
            "versions",
            "clusters",
        ],
        &rows,
    );
    // Which failover member answered, and where requests were redirected.
    for target in &s.targets {
        for line in crate::report::table::answered_lines(target).lines() {
            let _ = writeln!(h, "<p>{}</p>", esc(line));
        }
    }

    section(&mut h, "Faults and markers");
    for f in &s.faults {
        let restore = if f.planned_restore_ms.is_none() {
            String::new()
        } else {
            let failed = f.restore_failed;
            format!(
                " · restore {} (planned {}){}",
                if failed && f.restored_at_ms.is_none() {
                    "did not run".to_string()
                } else {
                    step_times(f.restored_at_ms, f.restore_done_ms)
                },
                ms_s(f.planned_restore_ms),
                if failed {
                    " <span class=\"fail\">FAILED</span>"
                } else {
                    ""
                }
            )
        };
        let _ = writeln!(
            h,
            "<h3>{}</h3><p>{} · inject {} (planned {}){restore}{}</p>",
            esc(&f.name),
            esc(&f.action),
            step_times(f.injected_at_ms, f.inject_done_ms),
            ms_s(Some(f.planned_at_ms)),
            f.error.as_deref().map_or(String::new(), |e| format!(
                " · <span class=\"fail\">{}</span>",
                esc(e)
            ))
        );
        for hook in [&f.inject_hook, &f.restore_hook].into_iter().flatten() {
            let _ = writeln!(
                h,
                "<pre>$ {}\n{}{}[exit {} · {} → {}]</pre>",
                esc(&hook.command),
                esc(&hook.stdout),
                esc(&hook.stderr),
                hook.exit_code.map_or(String::new(), |c| c.to_string()),
                ms_s(Some(hook.started_ms)),
                ms_s(Some(hook.ended_ms))
            );
            left_running(&mut h, hook);
        }
    }
    for m in &s.markers {
        let _ = writeln!(
            h,
            "<p>marker {} ({}) at {}</p>",
            m.number,
            esc(&m.source),
            ms_s(Some(m.at_ms))
        );
    }
    captures_section(&mut h, captures);
    h.push_str("<p class=\"meta\">Written by meshdrill from summary.json and the chart files in this folder.</p>\n</body></html>\n");
    h
}

/// A scope's T0 and where it came from. Without a hook or marker every
/// scope has its own (its first failed request), or none.
fn t0_cell(source: T0Source, t0_ms: Option<u64>) -> String {
    let t0 = t0_ms.map(|ms| ms as f64);
    match source {
        T0Source::Hook if t0.is_none() => "— (the fault did not run)".to_string(),
        T0Source::Hook => format!("{} (fault injected)", ms_s(t0)),
        T0Source::Marker => format!("{} (marker)", ms_s(t0)),
        _ if t0.is_none() => "— (no failure; no fault hook or marker)".to_string(),
        _ => format!(
            "{} (its first failed request; no fault hook or marker)",
            ms_s(t0)
        ),
    }
}

/// Every scope over each fault's window: the control target's figures
/// while the faulted one was down.
fn fault_windows(h: &mut String, s: &Summary) {
    let mut rows = Vec::new();
    for o in &s.outages {
        let Some(w) = o.window else {
            continue;
        };
        let (from, to) = (w.from_second, w.to_second);
        let faulted = o.faulted_scope.clone().unwrap_or_default();
        let reason = match w.ends {
            WindowEnd::Recovered => format!("until {faulted} recovered"),
            WindowEnd::NotRecovered => {
                format!("{faulted} did not recover before the next fault or the run's end")
            }
            WindowEnd::Restored => format!("{faulted} had no outage: until the restore finished"),
            WindowEnd::RegionEnd => {
                format!("{faulted} had no outage: to the next fault or the run's end")
            }
        };
        for sc in &o.scopes {
            let Some(f) = &sc.in_window else {
                continue;
            };
            // By name, as summary.json lists them.
            let mut failures = f.failures();
            failures.sort_unstable();
            let failures: Vec<String> = failures.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let latency = |p: fn(&Percentiles) -> f64| num(f.latency_ms.as_ref().map(p));
            rows.push(vec![
                esc(&o.fault),
                format!("{from} s → {to} s ({})", esc(&reason)),
                esc(&sc.scope),
                f.requests.to_string(),
                pct(f.availability_pct),
                f.failed.to_string(),
                esc(&failures.join(", ")),
                latency(|p| p.p50),
                latency(|p| p.p99),
            ]);
        }
    }
    if rows.is_empty() {
        return;
    }
    section(h, "Every target during each fault");
    table(
        h,
        &[
            "fault",
            "fault window",
            "scope",
            "requests",
            "availability",
            "failed",
            "failures",
            "p50 ms",
            "p99 ms",
        ],
        &rows,
    );
}

/// Per fault and target: home cluster(s), time to failover, each cluster's
/// share over the fault window, failback (definitions in the README).
fn failovers(h: &mut String, s: &Summary) {
    let mut rows = Vec::new();
    for o in &s.outages {
        for sc in &o.scopes {
            let Some(f) = &sc.failover else {
                continue;
            };
            let home = if f.home.is_empty() {
                "—".to_string()
            } else {
                f.home.join(" + ")
            };
            let shares: Vec<String> = f
                .during
                .iter()
                .map(|c| format!("{} {:.1} %", c.cluster, c.share_pct))
                .collect();
            let at = |at: Option<u64>, after: Option<u64>| match at {
                None => "—".to_string(),
                Some(at) => format!(
                    "{} (T0 + {})",
                    ms_s(Some(at as f64)),
                    ms_s(after.map(|ms| ms as f64))
                ),
            };
            rows.push(vec![
                esc(&o.fault),
                esc(&sc.scope),
                esc(&home),
                esc(f.failover_to.as_deref().unwrap_or("")),
                at(f.failover_at_ms, f.time_to_failover_ms),
                esc(&shares.join(", ")),
                at(f.failback_at_ms, f.failback_after_ms),
            ]);
        }
    }
    if rows.is_empty() {
        return;
    }
    section(h, "Failover: which cluster answered");
    table(
        h,
        &[
            "fault",
            "target",
            "home (before T0)",
            "failed over to",
            "failover at",
            "share in fault window",
            "failback at",
        ],
        &rows,
    );
}

const CSS: &str = "*{box-sizing:border-box}body{font-family:sans-serif;margin:2em auto;padding:0 1em;max-width:1240px;color:#222}\
h1 span{font-size:.7em;padding:.1em .5em;border-radius:.3em;color:#fff}\
span.pass{color:#0a7d3b}span.fail{color:#c62828;font-weight:bold}\
h1 span.pass{background:#0a7d3b;color:#fff}h1 span.fail{background:#c62828;color:#fff}h1 span.none{background:#777}\
h1 span.invalid{background:#b26a00;color:#fff}div.invalid{border:2px solid #b26a00;background:#fff6e5;padding:.2em 1em;margin:1em 0}\
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}\
th{background:#f3f3f3}.meta{color:#666}figure{margin:1em 0;max-width:100%}figure svg,figure img{display:block;max-width:100%;height:auto}\
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}";

/// Why the run cannot be judged (first, when it cannot), and the seconds
/// where the generator, not the target, set the numbers.
fn generator_section(h: &mut String, verdict: &Verdict) {
    let g = &verdict.generator;
    let list = |items: &[String]| -> String {
        items
            .iter()
            .map(|item| format!("<li>{}</li>", esc(item)))
            .collect()
    };
    if verdict.status == VerdictStatus::Invalid {
        let _ = writeln!(
            h,
            "<div class=\"invalid\" id=\"invalid\"><h2>INVALID: nothing is judged</h2><p>The generator could not do what the scenario asked, so these numbers are not the target's.</p><ul>{}</ul><p>What to change:</p><ul>{}</ul></div>",
            list(&g.invalid),
            list(&g.advice)
        );
    }
    let limited: Vec<String> = g
        .scopes
        .iter()
        .filter(|sc| sc.scope != "all")
        .filter_map(|sc| {
            let runs: Vec<String> = sc
                .limited_seconds
                .iter()
                .map(|&[a, b]| {
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}–{b}")
                    }
                })
                .collect();
            (!runs.is_empty())
                .then(|| format!("<li>{}: second(s) {}</li>", esc(&sc.scope), runs.join(", ")))
        })
        .collect();
    if !limited.is_empty() {
        let _ = writeln!(
            h,
            "<p id=\"generator-limited\">Generator-limited seconds (hatched in the charts): there the generator, not the target, set latency and failures.</p><ul>{}</ul>",
            limited.concat()
        );
    }
}

/// What a hook left running when its own process exited: ended with the
/// run, or kept (`detach = true`).
fn left_running(h: &mut String, hook: &HookRun) {
    let left: Vec<String> = hook
        .left_running
        .iter()
        .map(|p| format!("{} {}", p.pid, esc(&p.program)))
        .collect();
    if left.is_empty() {
        return;
    }
    let fate = if hook.detached {
        "still running (detach = true)".to_string()
    } else {
        match hook.left_running_ended_ms {
            Some(ms) => format!("ended at {}", ms_s(Some(ms))),
            None => "ended with the run".to_string(),
        }
    };
    let _ = writeln!(h, "<p>left running: {} · {fate}</p>", left.join(", "));
}

/// The rule the outages and verdict above were judged by, so a page read
/// alone says what "recovered" meant; a re-judgement also says whose run it
/// judged and by which rule the run itself was judged.
fn recovery_rule(h: &mut String, s: &Summary) {
    let rule = |r: &RecoveryRule| {
        format!(
            "recovered = {} s in a row at ≥ {} % availability",
            r.window,
            // 99, not 99.0: as the console and the folder name say it.
            r.threshold_pct
        )
    };
    let _ = writeln!(
        h,
        "<p id=\"recovery-rule\">Recovery rule: {}.</p>",
        rule(&s.recovery)
    );
    if let Some(from) = &s.rejudged_from {
        let _ = writeln!(
            h,
            "<div id=\"rejudged\" class=\"invalid\"><p>Re-judgement of {} with a different rule than the run's (the run was judged with {}); that folder's own summary.json and report.html are unchanged.</p></div>",
            esc(&from.dir),
            rule(&from.recovery)
        );
    }
}

/// One chart's SVG inlined (never one holding a script), or why not.
fn inline_chart(h: &mut String, dir: &Path, chart: &str) {
    match std::fs::read_to_string(dir.join(chart_file(chart, "svg"))) {
        Ok(svg) if svg.to_ascii_lowercase().contains("<script") => {
            // meshdrill's charts never hold one: this file was not written by it.
            let _ = writeln!(
                h,
                "<p class=\"fail\">chart {chart} not shown: its file holds a script</p>"
            );
        }
        Ok(svg) => {
            let svg = svg.trim_start_matches(|c| c != '<');
            let svg = svg
                .strip_prefix("<?xml")
                .map_or(svg, |rest| &rest[rest.find("?>").map_or(0, |i| i + 2)..]);
            let _ = writeln!(h, "<figure id=\"chart-{chart}\">{svg}</figure>");
        }
        Err(e) => {
            let _ = writeln!(
                h,
                "<p class=\"fail\">chart {chart} missing: {}</p>",
                esc(&e.to_string())
            );
        }
    }
}

/// `[evidence]` under the users' availability: each query's fate (a
/// failed one in red with Prometheus's or the network's words), then the
/// mesh chart over the same seconds and fault windows.
fn mesh_view(h: &mut String, dir: &Path, evidence: &Evidence) {
    let _ = writeln!(
        h,
        "<section id=\"mesh-view\"><h2>Mesh view (Prometheus)</h2>\n<p class=\"meta\">Range queries of {} over the run's seconds, asked once traffic had stopped; they do not affect the verdict. Samples in evidence/&lt;name&gt;.csv.</p>",
        esc(&evidence.prometheus)
    );
    let rows: Vec<Vec<String>> = evidence
        .queries
        .iter()
        .map(|q| {
            let r = &q.record;
            let status = match (r.status, &r.error) {
                (QueryStatus::Ok, _) => "ok".to_string(),
                (QueryStatus::Error, error) => format!(
                    "<span class=\"fail\">error: {}</span>",
                    esc(error.as_deref().unwrap_or("unknown"))
                ),
            };
            vec![
                esc(&r.name),
                format!("<code>{}</code>", esc(&r.promql)),
                status,
                r.series.to_string(),
                r.samples.to_string(),
            ]
        })
        .collect();
    table(
        h,
        &["query", "PromQL", "status", "series", "samples"],
        &rows,
    );
    if evidence
        .queries
        .iter()
        .any(|q| q.record.status == QueryStatus::Ok)
    {
        inline_chart(h, dir, MESH_CHART);
    }
    h.push_str("</section>\n");
}

/// `--grafana`: how many annotations were posted, how many not, and the
/// first refusal's words.
fn annotations_line(h: &mut String, log: &AnnotationLog) {
    let posted = log.posts.iter().filter(|p| p.ok).count();
    let failed = log.posts.len() - posted;
    let first_error = log
        .posts
        .iter()
        .find_map(|p| p.error.as_deref().map(|e| (p.what.as_str(), e)));
    let detail = match first_error {
        Some((what, error)) => format!(
            " · <span class=\"fail\">{failed} failed; first: {} ({})</span>",
            esc(what),
            esc(error)
        ),
        None => String::new(),
    };
    let _ = writeln!(
        h,
        "<p class=\"meta\" id=\"grafana-annotations\">Grafana annotations on {}: {posted} of {} posted{detail}</p>",
        esc(&log.url),
        log.posts.len()
    );
}

/// Each capture collapsed, its status in the summary line (a failed one
/// marked, never hidden): the mesh's settings beside the RTO, for whoever
/// wants to look.
fn captures_section(h: &mut String, captures: &[Capture]) {
    if captures.is_empty() {
        return;
    }
    section(h, "Captures");
    h.push_str("<p class=\"meta\">Commands run at the start (before traffic) and the end (after it stopped); they do not affect the verdict.</p>\n");
    for c in captures {
        let r = &c.record;
        let status = if r.succeeded {
            esc(&r.status)
        } else {
            format!("<span class=\"fail\">{}</span>", esc(&r.status))
        };
        let _ = writeln!(
            h,
            "<details class=\"capture\"><summary>{} at the {} · {status} · {:.0} ms{}</summary><pre>$ {}\n{}</pre>{}</details>",
            esc(&r.name),
            esc(&r.when),
            r.duration_ms,
            if r.truncated {
                " · output cut (only the first 64 KiB per stream kept)"
            } else {
                ""
            },
            esc(&r.command),
            esc(&c.stdout),
            if c.stderr.is_empty() {
                String::new()
            } else {
                format!("<p>stderr:</p><pre>{}</pre>", esc(&c.stderr))
            }
        );
    }
}

fn section(h: &mut String, title: &str) {
    let _ = writeln!(h, "<h2>{title}</h2>");
}

fn table(h: &mut String, head: &[&str], rows: &[Vec<String>]) {
    h.push_str("<table><tr>");
    for c in head {
        let _ = write!(h, "<th>{}</th>", esc(c));
    }
    h.push_str("</tr>\n");
    for r in rows {
        h.push_str("<tr>");
        for c in r {
            let _ = write!(h, "<td>{c}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn ms_s(ms: Option<f64>) -> String {
    ms.map_or("—".to_string(), |ms| format!("{:.3} s", ms / 1000.0))
}

/// A step from its start to its end: `18.001 s → 49.512 s`.
fn step_times(start: Option<f64>, done: Option<f64>) -> String {
    match (start, done) {
        (None, _) => "not reached".to_string(),
        (Some(_), None) => format!("{} → (did not finish)", ms_s(start)),
        (Some(_), Some(_)) => format!("{} → {}", ms_s(start), ms_s(done)),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".to_string(), |p| format!("{p:.2} %"))
}

fn num(v: Option<f64>) -> String {
    v.map_or("—".to_string(), |x| format!("{x:.1}"))
}

fn counts(map: &std::collections::BTreeMap<String, u64>) -> String {
    map.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn p99s(l: &PhaseLatency) -> String {
    let p = |phase: &Option<Percentiles>| num(phase.as_ref().map(|p| p.p99));
    format!("{} → {} → {}", p(&l.before), p(&l.during), p(&l.after))
}

/// `100.0 req/s per target`: numbers as summary.json writes them; under
/// stages the ramp, `users per target 0 → 100 (120s) → 100 (300s) → 0 (120s)`.
fn describe_load(scenario: &ScenarioInfo) -> String {
    if !scenario.stages.is_empty() {
        let unit = match scenario.model.as_str() {
            "rate" => "req/s",
            _ => "users",
        };
        let mut text = format!("{unit} per target 0");
        for stage in &scenario.stages {
            let target = match (stage.rate, stage.users) {
                (Some(rate), _) => format!("{rate:?}"),
                (None, Some(users)) => users.to_string(),
                (None, None) => "?".to_string(),
            };
            text.push_str(&format!(" → {target} ({}s)", stage.duration_ms / 1000.0));
        }
        return text;
    }
    match (scenario.rate_per_target, scenario.users_per_target) {
        (Some(rate), _) => format!("{rate:?} req/s per target"),
        (None, Some(users)) => format!("{users} users per target"),
        (None, None) => String::new(),
    }
}
