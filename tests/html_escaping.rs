//! report.html never carries markup it did not write (issue 11 item 4): the
//! scenario name, fault names, hook commands and output, and every other
//! value read from summary.json are text, and the page has a policy that runs
//! no script even if markup got through.

use std::path::Path;

use meshdrill::report::html::{CONTENT_SECURITY_POLICY, render};
use meshdrill::results::Summary;
use meshdrill::run::{RunOptions, run};
use meshdrill::scenario::{Overrides, parse};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const SCRIPT: &str = "<script>alert(1)</script>";
const ATTRIBUTE: &str = "\"><img src=x onerror=alert(1)>";

/// Tags report.html writes itself, outside the inlined charts.
const OWN_TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "span", "p", "div", "ul",
    "li", "table", "tr", "th", "td", "figure", "pre",
];

/// Every tag of the page outside `<figure>` (the charts), by name.
fn tags_outside_charts(html: &str) -> Vec<String> {
    let mut rest = html;
    let mut outside = String::new();
    while let Some(start) = rest.find("<figure") {
        outside.push_str(&rest[..start]);
        let end = rest[start..]
            .find("</figure>")
            .expect("every figure is closed");
        rest = &rest[start + end + "</figure>".len()..];
    }
    outside.push_str(rest);
    outside
        .split('<')
        .skip(1)
        .map(|tag| {
            tag.trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .filter(|name| name != "!doctype")
        .collect()
}

#[track_caller]
fn assert_inert(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "a script tag got through");
    assert!(!lower.contains("<img"), "an img tag got through");
    for tag in tags_outside_charts(html) {
        assert!(OWN_TAGS.contains(&tag.as_str()), "tag <{tag}> got through");
    }
    let meta = format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">"
    );
    assert_eq!(html.matches(&meta).count(), 1, "one policy, in the head");
    assert!(html.find(&meta) < html.find("<title>"));
}

fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_the_scenario_and_hook_output_is_shown_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let name = "<script>alert('name')</script>";
    let text = format!(
        r#"name = {name:?}
description = {SCRIPT:?}
[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 20
duration = "2s"
[[fault]]
name = {ATTRIBUTE:?}
at = "500ms"
inject = ["printf", "%s|%s", {SCRIPT:?}, {ATTRIBUTE:?}]
"#
    );
    let plan = parse(&text, Path::new("x.toml"), &Overrides::default(), &|_| None).unwrap();
    let options = RunOptions {
        out_dir: Some(dir.path().to_path_buf()),
        quiet: true,
        ..RunOptions::new(plan)
    };
    run(options, CancellationToken::new()).await.unwrap();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert_inert(&html);
    let title = format!("<title>meshdrill: {}</title>", escaped(name));
    assert!(html.contains(&title), "{html}");
    assert!(html.contains(&format!("<h1>{} <span", escaped(name))));
    assert!(html.contains(&format!("<h3>{}</h3>", escaped(ATTRIBUTE))));
    // The hook's output, as it printed it.
    assert!(html.contains(&format!("{}|{}", escaped(SCRIPT), escaped(ATTRIBUTE))));
}

/// Replaces every string with markup, in turn, but keeps what steers the
/// page (states, sources: enums in the typed summary), so every section is
/// drawn with markup in its text. Numbers and booleans need no poisoning:
/// the page reads them typed, so they cannot hold markup.
fn poison_text(v: &mut Value, n: &mut usize) {
    const STEERING: &[&str] = &["status", "state", "source", "t0_source", "ends", "phase"];
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if !STEERING.contains(&key.as_str()) {
                    poison_text(value, n);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| poison_text(v, n)),
        Value::String(s) => {
            *n += 1;
            *s = if n.is_multiple_of(2) {
                SCRIPT
            } else {
                ATTRIBUTE
            }
            .into();
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_value_of_summary_json_becomes_markup() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[[target]]
name = "primary"
url = "sim:primary"
[[target]]
name = "secondary"
url = "sim:secondary"
[load]
rate = 20
duration = "3s"
[[fault]]
name = "down"
target = "primary"
sim = "down"
at = "1s"
restore_at = "2s"
[[fault]]
name = "hook"
at = "1s"
inject = ["true"]
[slo]
availability_min = 99.9
"#;
    let plan = parse(text, Path::new("x.toml"), &Overrides::default(), &|_| None).unwrap();
    let options = RunOptions {
        out_dir: Some(dir.path().to_path_buf()),
        quiet: true,
        ..RunOptions::new(plan)
    };
    run(options, CancellationToken::new()).await.unwrap();
    let bytes = std::fs::read(dir.path().join("summary.json")).unwrap();
    let summary: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(summary["outages"].as_array().is_some_and(|o| !o.is_empty()));
    assert!(summary["faults"][1]["inject_hook"].is_object());

    let mut strings = summary;
    let mut n = 0;
    poison_text(&mut strings, &mut n);
    let strings: Summary = serde_json::from_value(strings).unwrap();
    let html = render(dir.path(), &strings);
    assert_inert(&html);
    // Every section still drew its text.
    assert!(html.matches(&escaped(SCRIPT)).count() > 20, "{html}");
    assert!(html.matches(&escaped(ATTRIBUTE)).count() > 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chart_file_with_a_script_is_not_inlined() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[target]]\nname = \"primary\"\nurl = \"sim:primary\"\n[load]\nrate = 10\nduration = \"1s\"\n";
    let plan = parse(text, Path::new("x.toml"), &Overrides::default(), &|_| None).unwrap();
    let options = RunOptions {
        out_dir: Some(dir.path().to_path_buf()),
        quiet: true,
        ..RunOptions::new(plan)
    };
    let summary = run(options, CancellationToken::new())
        .await
        .unwrap()
        .summary;
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    for chart in meshdrill::report::charts::CHARTS {
        std::fs::write(dir.path().join(format!("{chart}.svg")), svg).unwrap();
    }
    let html = render(dir.path(), &summary);
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(html.contains("not shown: its file holds a script"));
}
