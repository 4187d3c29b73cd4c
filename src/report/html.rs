//! `report.html`: the drill on one page, for people. Self-contained (charts
//! inlined as SVG, no script, no network), built only from the folder's
//! summary.json and chart files, so it can be regenerated from them.
//!
//! Every value taken from summary.json is escaped, whatever its JSON type
//! (scenario and fault names, hook commands and output, pod and cluster names
//! come from the user's files and the target's pages), and the page carries
//! a Content-Security-Policy that lets no script, frame or request run even if
//! markup got through.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::report::charts::CHARTS;

pub const FILE: &str = "report.html";

/// Inline styles and the SVG charts only: no script, no fetch, no form, no
/// `<base>` (base-uri and form-action do not fall back to default-src).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// Writes report.html from a final summary (with outages and verdict),
/// whole or not at all.
pub fn write(dir: &Path, summary: &Value) -> Result<PathBuf, crate::results::WriteError> {
    let path = dir.join(FILE);
    crate::results::write_atomic(&path, render(dir, summary).as_bytes())?;
    Ok(path)
}

pub fn render(dir: &Path, s: &Value) -> String {
    let mut h = String::with_capacity(256 * 1024);
    let name = esc(&text(&s["scenario"]["name"]));
    let verdict = &s["verdict"];
    let status = verdict["status"].as_str();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\"><title>meshdrill: {name}</title>\n<style>{CSS}</style></head><body>\n<h1>{name} <span class=\"{}\">{}</span></h1>\n<p class=\"meta\">started {} · {} s · {}{}</p>\n",
        match status {
            Some("pass") => "pass",
            Some("fail") => "fail",
            Some("invalid") => "invalid",
            _ => "none",
        },
        match status {
            Some("pass") => "PASS",
            Some("fail") => "FAIL",
            Some("invalid") => "INVALID",
            Some("no_slo") => "NO SLO",
            _ => "no verdict",
        },
        esc(&text(&s["start_utc"])),
        esc(&text(&s["seconds"])),
        esc(&describe_load(&s["scenario"])),
        if s["interrupted"].as_bool() == Some(true) {
            " · INTERRUPTED"
        } else {
            ""
        }
    );
    recovery_rule(&mut h, s);
    generator_section(&mut h, verdict);

    section(&mut h, "Measured RTO");
    let mut rows = Vec::new();
    for o in s["outages"].as_array().into_iter().flatten() {
        for sc in o["scopes"].as_array().into_iter().flatten() {
            let recovery = match sc["recovery"]["state"].as_str() {
                Some("recovered") => {
                    format!("{:.3} s", sc["rto_ms"].as_f64().unwrap_or(0.0) / 1000.0)
                }
                Some("not_recovered") => format!(
                    "NOT RECOVERED (&gt; {:.3} s)",
                    sc["recovery"]["lower_bound_ms"].as_f64().unwrap_or(0.0) / 1000.0
                ),
                _ => "no outage".to_string(),
            };
            rows.push(vec![
                esc(&text(&o["fault"])),
                esc(&text(&sc["scope"])),
                t0_cell(o, sc),
                recovery,
                esc(&text(&sc["failed"])),
                pct(&sc["in_window"]["availability_pct"]),
                p99s(&sc["latency_ms"]),
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
    let rows: Vec<Vec<String>> = verdict["criteria"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let (class, word) = match (status, c["pass"].as_bool() == Some(true)) {
                (Some("invalid"), _) => ("none", "not judged"),
                (_, true) => ("pass", "pass"),
                (_, false) => ("fail", "FAIL"),
            };
            vec![
                esc(&text(&c["name"])),
                esc(&text(&c["scope"])),
                esc(&text(&c["threshold"])),
                esc(&text(&c["measured"])),
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
        match std::fs::read_to_string(dir.join(format!("{chart}.svg"))) {
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

    section(&mut h, "Targets");
    let scopes: Vec<&Value> = s["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(std::iter::once(&s["all"]))
        .collect();
    let rows: Vec<Vec<String>> = scopes
        .iter()
        .map(|t| {
            vec![
                esc(&text(&t["name"])),
                esc(&text(&t["endpoint"])),
                esc(&text(&t["connection"])),
                esc(&text(&t["requests"])),
                esc(&text(&t["ok"])),
                pct(&t["availability_pct"]),
                esc(&counts(&t["failures"])),
                num(&t["latency_ms"]["p50"]),
                num(&t["latency_ms"]["p99"]),
                num(&t["latency_ms"]["max"]),
                esc(&counts(&t["versions"])),
                esc(&counts(&t["clusters"])),
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

    section(&mut h, "Faults and markers");
    for f in s["faults"].as_array().into_iter().flatten() {
        let restore = if f["planned_restore_ms"].is_null() {
            String::new()
        } else {
            let failed = f["restore_failed"].as_bool() == Some(true);
            format!(
                " · restore {} (planned {}){}",
                if failed && f["restored_at_ms"].is_null() {
                    "did not run".to_string()
                } else {
                    step_times(&f["restored_at_ms"], &f["restore_done_ms"])
                },
                ms_s(&f["planned_restore_ms"]),
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
            esc(&text(&f["name"])),
            esc(&text(&f["action"])),
            step_times(&f["injected_at_ms"], &f["inject_done_ms"]),
            ms_s(&f["planned_at_ms"]),
            f["error"].as_str().map_or(String::new(), |e| format!(
                " · <span class=\"fail\">{}</span>",
                esc(e)
            ))
        );
        for step in ["inject_hook", "restore_hook"] {
            let hook = &f[step];
            if hook.is_null() {
                continue;
            }
            let _ = writeln!(
                h,
                "<pre>$ {}\n{}{}[exit {} · {} → {}]</pre>",
                esc(&text(&hook["command"])),
                esc(&text(&hook["stdout"])),
                esc(&text(&hook["stderr"])),
                esc(&text(&hook["exit_code"])),
                ms_s(&hook["started_ms"]),
                ms_s(&hook["ended_ms"])
            );
            left_running(&mut h, hook);
        }
    }
    for m in s["markers"].as_array().into_iter().flatten() {
        let _ = writeln!(
            h,
            "<p>marker {} ({}) at {}</p>",
            esc(&text(&m["number"])),
            esc(&text(&m["source"])),
            ms_s(&m["at_ms"])
        );
    }
    h.push_str("<p class=\"meta\">Written by meshdrill from summary.json and the chart files in this folder.</p>\n</body></html>\n");
    h
}

/// A scope's T0 and where it came from. Without a hook or marker every
/// scope has its own (its first failed request), or none.
fn t0_cell(o: &Value, sc: &Value) -> String {
    let t0 = &sc["t0_ms"];
    match o["source"].as_str() {
        Some("hook") if t0.is_null() => "— (the fault did not run)".to_string(),
        Some("hook") => format!("{} (fault injected)", ms_s(t0)),
        Some("marker") => format!("{} (marker)", ms_s(t0)),
        _ if t0.is_null() => "— (no failure; no fault hook or marker)".to_string(),
        _ => format!(
            "{} (its first failed request; no fault hook or marker)",
            ms_s(t0)
        ),
    }
}

/// Every scope over each fault's window: the control target's figures
/// while the faulted one was down.
fn fault_windows(h: &mut String, s: &Value) {
    let mut rows = Vec::new();
    for o in s["outages"].as_array().into_iter().flatten() {
        let w = &o["window"];
        let (Some(from), Some(to)) = (w["from_second"].as_u64(), w["to_second"].as_u64()) else {
            continue;
        };
        let faulted = text(&o["faulted_scope"]);
        let reason = match w["ends"].as_str() {
            Some("recovered") => format!("until {faulted} recovered"),
            Some("not_recovered") => {
                format!("{faulted} did not recover before the next fault or the run's end")
            }
            Some("restored") => format!("{faulted} had no outage: until the restore finished"),
            _ => format!("{faulted} had no outage: to the next fault or the run's end"),
        };
        for sc in o["scopes"].as_array().into_iter().flatten() {
            let f = &sc["in_window"];
            let failures: Vec<String> = f["failed_by_kind"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, n)| n.as_u64().is_some_and(|n| n > 0))
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            rows.push(vec![
                esc(&text(&o["fault"])),
                format!("{from} s → {to} s ({})", esc(&reason)),
                esc(&text(&sc["scope"])),
                esc(&text(&f["requests"])),
                pct(&f["availability_pct"]),
                esc(&text(&f["failed"])),
                esc(&failures.join(", ")),
                num(&f["latency_ms"]["p50"]),
                num(&f["latency_ms"]["p99"]),
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
fn failovers(h: &mut String, s: &Value) {
    let mut rows = Vec::new();
    for o in s["outages"].as_array().into_iter().flatten() {
        for sc in o["scopes"].as_array().into_iter().flatten() {
            let f = &sc["failover"];
            if f.is_null() {
                continue;
            }
            let names = |v: &Value| -> String {
                let list: Vec<String> = v.as_array().into_iter().flatten().map(text).collect();
                if list.is_empty() {
                    "—".to_string()
                } else {
                    list.join(" + ")
                }
            };
            let shares: Vec<String> = f["during"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    format!(
                        "{} {:.1} %",
                        text(&c["cluster"]),
                        c["share_pct"].as_f64().unwrap_or(0.0)
                    )
                })
                .collect();
            let at = |at: &Value, after: &Value| match at.is_null() {
                true => "—".to_string(),
                false => format!("{} (T0 + {})", ms_s(at), ms_s(after)),
            };
            rows.push(vec![
                esc(&text(&o["fault"])),
                esc(&text(&sc["scope"])),
                esc(&names(&f["home"])),
                esc(&text(&f["failover_to"])),
                at(&f["failover_at_ms"], &f["time_to_failover_ms"]),
                esc(&shares.join(", ")),
                at(&f["failback_at_ms"], &f["failback_after_ms"]),
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
fn generator_section(h: &mut String, verdict: &Value) {
    let g = &verdict["generator"];
    let list = |v: &Value| -> String {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|item| format!("<li>{}</li>", esc(&text(item))))
            .collect()
    };
    if verdict["status"].as_str() == Some("invalid") {
        let _ = writeln!(
            h,
            "<div class=\"invalid\" id=\"invalid\"><h2>INVALID: nothing is judged</h2><p>The generator could not do what the scenario asked, so these numbers are not the target's.</p><ul>{}</ul><p>What to change:</p><ul>{}</ul></div>",
            list(&g["invalid"]),
            list(&g["advice"])
        );
    }
    let limited: Vec<String> = g["scopes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|sc| sc["scope"] != "all")
        .filter_map(|sc| {
            let runs: Vec<String> = sc["limited_seconds"]
                .as_array()?
                .iter()
                .filter_map(|r| Some((r[0].as_u64()?, r[1].as_u64()?)))
                .map(|(a, b)| {
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}–{b}")
                    }
                })
                .collect();
            (!runs.is_empty()).then(|| {
                format!(
                    "<li>{}: second(s) {}</li>",
                    esc(&text(&sc["scope"])),
                    runs.join(", ")
                )
            })
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
fn left_running(h: &mut String, hook: &Value) {
    let left: Vec<String> = hook["left_running"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| format!("{} {}", esc(&text(&p["pid"])), esc(&text(&p["program"]))))
        .collect();
    if left.is_empty() {
        return;
    }
    let fate = if hook["detached"].as_bool() == Some(true) {
        "still running (detach = true)".to_string()
    } else {
        match hook["left_running_ended_ms"].as_f64() {
            Some(_) => format!("ended at {}", ms_s(&hook["left_running_ended_ms"])),
            None => "ended with the run".to_string(),
        }
    };
    let _ = writeln!(h, "<p>left running: {} · {fate}</p>", left.join(", "));
}

/// The rule the outages and verdict above were judged by, so a page read
/// alone says what "recovered" meant; a re-judgement also says whose run it
/// judged and by which rule the run itself was judged.
fn recovery_rule(h: &mut String, s: &Value) {
    let rule = |r: &Value| {
        format!(
            "recovered = {} s in a row at ≥ {} % availability",
            esc(&text(&r["window"])),
            // 99, not serde_json's 99.0: as the console and the folder name say it.
            r["threshold_pct"]
                .as_f64()
                .map_or_else(|| esc(&text(&r["threshold_pct"])), |t| t.to_string())
        )
    };
    let _ = writeln!(
        h,
        "<p id=\"recovery-rule\">Recovery rule: {}.</p>",
        rule(&s["recovery"])
    );
    let from = &s["rejudged_from"];
    if !from.is_null() {
        let _ = writeln!(
            h,
            "<div id=\"rejudged\" class=\"invalid\"><p>Re-judgement of {} with a different rule than the run's (the run was judged with {}); that folder's own summary.json and report.html are unchanged.</p></div>",
            esc(&text(&from["dir"])),
            rule(&from["recovery"])
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

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn ms_s(v: &Value) -> String {
    v.as_f64()
        .map_or("—".to_string(), |ms| format!("{:.3} s", ms / 1000.0))
}

/// A step from its start to its end: `18.001 s → 49.512 s`.
fn step_times(start: &Value, done: &Value) -> String {
    match (start.is_null(), done.is_null()) {
        (true, _) => "not reached".to_string(),
        (false, true) => format!("{} → (did not finish)", ms_s(start)),
        (false, false) => format!("{} → {}", ms_s(start), ms_s(done)),
    }
}

fn pct(v: &Value) -> String {
    v.as_f64().map_or("—".to_string(), |p| format!("{p:.2} %"))
}

fn num(v: &Value) -> String {
    v.as_f64().map_or("—".to_string(), |x| format!("{x:.1}"))
}

fn counts(v: &Value) -> String {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn p99s(l: &Value) -> String {
    let p = |phase: &str| num(&l[phase]["p99"]);
    format!("{} → {} → {}", p("before"), p("during"), p("after"))
}

fn describe_load(scenario: &Value) -> String {
    match scenario["model"].as_str() {
        Some("rate") => format!("{} req/s per target", scenario["rate_per_target"]),
        Some("concurrency") => format!("{} users per target", scenario["users_per_target"]),
        _ => String::new(),
    }
}
