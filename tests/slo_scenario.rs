//! `[recovery]` and `[slo]` in scenario files: exact values for the valid
//! forms, exact `file:line: key ...` problems (all of them) for the rest.

use std::path::Path;
use std::time::Duration;

use meshdrill::scenario::{Overrides, Plan, ScenarioError, SloPlan, parse};
use meshdrill::scenario::{RecoveryRule, SloSpec};

const HEAD: &str = r#"[[target]]
name = "primary"
url = "sim:primary"

[[target]]
name = "secondary"
url = "sim:secondary"

[load]
rate = 10
duration = "30s"
"#;
/// Lines of `HEAD`; the tables under test start on the next line.
const HEAD_LINES: usize = 11;

fn env(name: &str) -> Option<String> {
    (name == "VERSION").then(|| "v3".to_string())
}

fn compile_with(tables: &str) -> Result<Plan, ScenarioError> {
    let text = format!("{HEAD}{tables}");
    assert_eq!(HEAD.lines().count(), HEAD_LINES);
    parse(&text, Path::new("drill.toml"), &Overrides::default(), &env)
}

fn compile(tables: &str) -> Plan {
    compile_with(tables).unwrap_or_else(|e| panic!("{e}"))
}

/// Problems, with line numbers counted from the first line of `tables`.
fn problems(tables: &str) -> Vec<String> {
    match compile_with(tables) {
        Ok(plan) => panic!("expected problems, got {:#?}", (plan.recovery, plan.slo)),
        Err(e) => e
            .problems()
            .iter()
            .map(|p| {
                let mut p = p.clone();
                p.line = p.line.map(|l| l - HEAD_LINES);
                p.to_string()
            })
            .collect(),
    }
}

/// Root keys must come before the first table: `root` goes above `HEAD`,
/// so its lines are the file's.
fn root_first(root: &str) -> Result<Plan, ScenarioError> {
    let text = format!("{root}{HEAD}");
    parse(&text, Path::new("drill.toml"), &Overrides::default(), &env)
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------- valid

#[test]
fn absent_tables_give_the_defaults() {
    let plan = compile("");
    assert_eq!(
        plan.recovery,
        RecoveryRule {
            window: 5,
            threshold_pct: 99.0
        }
    );
    assert_eq!(plan.slo, SloPlan::default());
    assert_eq!(plan.slo.all, None);
}

#[test]
fn every_key_compiles_exactly() {
    let plan = compile(
        r#"
[recovery]
window = "1m"
threshold = 99.5

[slo]
availability_min = 99.9
max_failed_requests = 0
error_rate_max = 1
p99_max = "500ms"
p95_max = "300ms"
p50_max = "1.5ms"
rto_max = "15m"
expect_versions = ["v2", "${VERSION}"]
only_versions = ["v2", "v3"]
expect_clusters = ["primary", "secondary"]
only_clusters = ["primary", "secondary", "dr-site.eu"]

[slo.target.secondary]
error_rate_max = 0.5
rto_max = "0s"

[slo.target.primary]
only_clusters = ["primary"]
"#,
    );
    assert_eq!(
        plan.recovery,
        RecoveryRule {
            window: 60,
            threshold_pct: 99.5
        }
    );
    assert_eq!(
        plan.slo,
        SloPlan {
            all: Some(SloSpec {
                availability_min_pct: Some(99.9),
                max_failed_requests: Some(0),
                error_rate_max_pct: Some(1.0),
                p99_max_ms: Some(500.0),
                p95_max_ms: Some(300.0),
                p50_max_ms: Some(1.5),
                rto_max: Some(Duration::from_secs(900)),
                expect_versions: strings(&["v2", "v3"]),
                only_versions: strings(&["v2", "v3"]),
                expect_clusters: strings(&["primary", "secondary"]),
                only_clusters: strings(&["primary", "secondary", "dr-site.eu"]),
            }),
            targets: vec![
                (
                    "secondary".into(),
                    SloSpec {
                        error_rate_max_pct: Some(0.5),
                        rto_max: Some(Duration::ZERO),
                        ..SloSpec::default()
                    }
                ),
                (
                    "primary".into(),
                    SloSpec {
                        only_clusters: strings(&["primary"]),
                        ..SloSpec::default()
                    }
                ),
            ],
        }
    );
}

#[test]
fn target_slos_alone_and_inline_tables() {
    let plan = root_first(
        r#"recovery = { window = "1s", threshold = 100 }
slo = { target = { primary = { max_failed_requests = 3 } } }
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plan.recovery,
        RecoveryRule {
            window: 1,
            threshold_pct: 100.0
        }
    );
    assert_eq!(
        plan.slo,
        SloPlan {
            all: None,
            targets: vec![(
                "primary".into(),
                SloSpec {
                    max_failed_requests: Some(3),
                    ..SloSpec::default()
                }
            )],
        }
    );
}

#[test]
fn boundaries_are_accepted() {
    let plan = compile(
        "[recovery]\nthreshold = 0.001\n[slo]\navailability_min = 0\nerror_rate_max = 100\n",
    );
    assert_eq!(plan.recovery.threshold_pct, 0.001);
    let all = plan.slo.all.unwrap();
    assert_eq!(all.availability_min_pct, Some(0.0));
    assert_eq!(all.error_rate_max_pct, Some(100.0));
}

// --------------------------------------------------------------- invalid

#[test]
fn unknown_keys_list_the_allowed_ones() {
    assert_eq!(
        problems(
            "[recovery]\nwindows = \"5s\"\n[slo]\np90_max = \"1s\"\n[slo.target.primary]\navailability = 99\n"
        ),
        [
            "drill.toml:2: recovery.windows is not a known key (allowed: window, threshold)",
            "drill.toml:4: slo.p90_max is not a known key (allowed: availability_min, max_failed_requests, error_rate_max, p99_max, p95_max, p50_max, rto_max, expect_versions, only_versions, expect_clusters, only_clusters, target)",
            "drill.toml:6: slo.target.primary.availability is not a known key (allowed: availability_min, max_failed_requests, error_rate_max, p99_max, p95_max, p50_max, rto_max, expect_versions, only_versions, expect_clusters, only_clusters)",
        ]
    );
}

#[test]
fn recovery_threshold_must_be_a_percentage_above_zero() {
    for (value, message) in [
        ("0", "0 is out of range"),
        ("101", "101 is out of range"),
        ("-1.5", "-1.5 is out of range"),
        ("\"99%\"", "\"99%\" is not a number"),
    ] {
        assert_eq!(
            problems(&format!("[recovery]\nthreshold = {value}\n")),
            [format!(
                "drill.toml:2: recovery.threshold {message} (expected a percentage, > 0 and ≤ 100, e.g. 99.0)"
            )]
        );
    }
}

#[test]
fn recovery_window_is_whole_seconds_of_at_least_one() {
    let expected = r#"(expected whole seconds ≥ 1s, e.g. "5s", "10s", "1m")"#;
    assert_eq!(
        problems("[recovery]\nwindow = \"1500ms\"\n"),
        [format!(
            "drill.toml:2: recovery.window \"1500ms\" is not a whole number of seconds {expected}"
        )]
    );
    assert_eq!(
        problems("[recovery]\nwindow = \"0s\"\n"),
        [format!(
            "drill.toml:2: recovery.window \"0s\" must be ≥ 1s {expected}"
        )]
    );
    assert_eq!(
        problems("[recovery]\nwindow = 5\n"),
        [r#"drill.toml:2: recovery.window 5 is not a duration (expected "30s", "2m", "500ms")"#]
    );
    assert_eq!(
        problems("[recovery]\nwindow = \"5 secs later\"\n"),
        [
            r#"drill.toml:2: recovery.window "5 secs later" is not a duration (expected "30s", "2m", "500ms")"#
        ]
    );
}

#[test]
fn slo_numbers_out_of_range_or_of_the_wrong_type() {
    assert_eq!(
        problems(
            r#"[slo]
availability_min = -1
max_failed_requests = -3
error_rate_max = 100.5
p99_max = "0ms"
p50_max = "fast"
rto_max = "-1s"
"#
        ),
        [
            "drill.toml:2: slo.availability_min -1 is out of range (expected a percentage from 0 to 100, e.g. 99.9)",
            "drill.toml:3: slo.max_failed_requests -3 is out of range (expected a number of requests, an integer ≥ 0)",
            "drill.toml:4: slo.error_rate_max 100.5 is out of range (expected a percentage from 0 to 100, e.g. 99.9)",
            "drill.toml:5: slo.p99_max \"0ms\" must be > 0",
            "drill.toml:6: slo.p50_max \"fast\" is not a duration (expected \"30s\", \"2m\", \"500ms\")",
            "drill.toml:7: slo.rto_max \"-1s\" is not a duration (expected \"30s\", \"2m\", \"500ms\")",
        ]
    );
    assert_eq!(
        problems("[slo]\nmax_failed_requests = 1.5\nerror_rate_max = \"1%\"\n"),
        [
            "drill.toml:2: slo.max_failed_requests 1.5 is not an integer (expected a number of requests, an integer ≥ 0)",
            "drill.toml:3: slo.error_rate_max \"1%\" is not a number (expected a percentage from 0 to 100, e.g. 99.9)",
        ]
    );
}

#[test]
fn versions_are_v1_v2_v3_listed_once() {
    let expected = r#"expected reviews versions, e.g. ["v2", "v3"], each "v1", "v2" or "v3""#;
    assert_eq!(
        problems(
            r#"[slo]
expect_versions = ["v2", "v4"]
only_versions = ["v2", "v2"]
"#
        ),
        [
            format!(
                r#"drill.toml:2: slo.expect_versions "v4" is not a reviews version ({expected})"#
            ),
            r#"drill.toml:3: slo.only_versions lists "v2" twice"#.to_string(),
        ]
    );
    assert_eq!(
        problems("[slo]\nexpect_versions = \"v2\"\nonly_versions = []\nexpect_clusters = [1]\n"),
        [
            format!(r#"drill.toml:2: slo.expect_versions "v2" is not an array ({expected})"#),
            format!("drill.toml:3: slo.only_versions is empty ({expected}; leave the key out to check nothing)"),
            r#"drill.toml:4: slo.expect_clusters 1 is not a string (expected cluster names, e.g. ["primary", "secondary"], each [A-Za-z0-9_.-]+)"#.to_string(),
        ]
    );
}

#[test]
fn expected_names_must_be_allowed_by_the_only_list() {
    assert_eq!(
        problems(
            r#"[slo]
expect_versions = ["v1", "v2"]
only_versions = ["v2", "v3"]
expect_clusters = ["secondary"]
only_clusters = ["primary"]
"#
        ),
        [
            r#"drill.toml:2: slo.expect_versions "v1" is not in only_versions (this SLO could never pass)"#,
            r#"drill.toml:4: slo.expect_clusters "secondary" is not in only_clusters (this SLO could never pass)"#,
        ]
    );
}

#[test]
fn slo_target_must_name_an_existing_target() {
    assert_eq!(
        problems(
            r#"[slo.target.tertiary]
error_rate_max = 1.0

[slo.target.all]
error_rate_max = 1.0

[slo.target]
primary = 5
"#
        ),
        [
            r#"drill.toml:1: slo.target.tertiary is not a target (expected one of: "primary", "secondary")"#,
            r#"drill.toml:4: slo.target.all is not a target ("all" is every target together: put its criteria in [slo] itself)"#,
            "drill.toml:8: slo.target.primary 5 is not a table (expected a [slo.target.NAME] table per name)",
        ]
    );
}

#[test]
fn misshapen_tables_are_named() {
    let error = root_first("recovery = 5\nslo = \"strict\"\n").unwrap_err();
    let lines: Vec<String> = error.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "drill.toml:1: recovery 5 is not a table (expected a [recovery] table)",
            "drill.toml:2: slo \"strict\" is not a table (expected a [slo] table)",
        ]
    );
}

#[test]
fn several_problems_are_reported_together_in_line_order() {
    assert_eq!(
        problems(
            r#"[recovery]
window = "2.5s"
threshold = 0

[slo]
p99_max = "500"
expect_versions = ["v4"]
colour = "red"

[slo.target.nope]
rto_max = "soon"
"#
        ),
        [
            r#"drill.toml:2: recovery.window "2.5s" is not a whole number of seconds (expected whole seconds ≥ 1s, e.g. "5s", "10s", "1m")"#,
            "drill.toml:3: recovery.threshold 0 is out of range (expected a percentage, > 0 and ≤ 100, e.g. 99.0)",
            r#"drill.toml:6: slo.p99_max "500" is not a duration (expected "30s", "2m", "500ms")"#,
            r#"drill.toml:7: slo.expect_versions "v4" is not a reviews version (expected reviews versions, e.g. ["v2", "v3"], each "v1", "v2" or "v3")"#,
            "drill.toml:8: slo.colour is not a known key (allowed: availability_min, max_failed_requests, error_rate_max, p99_max, p95_max, p50_max, rto_max, expect_versions, only_versions, expect_clusters, only_clusters, target)",
            r#"drill.toml:10: slo.target.nope is not a target (expected one of: "primary", "secondary")"#,
            r#"drill.toml:11: slo.target.nope.rto_max "soon" is not a duration (expected "30s", "2m", "500ms")"#,
        ]
    );
}

#[test]
fn slo_problems_come_with_the_rest_of_the_file() {
    let text = "[load]\nrate = 0\nduration = \"1s\"\n[[target]]\nname = \"a\"\nurl = \"sim:primary\"\n[slo]\nerror_rate_max = -1\n";
    let error = parse(text, Path::new("x.toml"), &Overrides::default(), &env).unwrap_err();
    let lines: Vec<String> = error.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "x.toml:2: load.rate 0 is out of range (expected requests/s per target, > 0 and ≤ 1000000)",
            "x.toml:8: slo.error_rate_max -1 is out of range (expected a percentage from 0 to 100, e.g. 99.9)",
        ]
    );
}
