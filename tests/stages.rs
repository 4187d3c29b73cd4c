//! `[[load.stage]]`: ramped load in both models, end to end against the
//! simulator, asserted on what the run wrote (timeline.csv read back
//! through `Results::load`): the counts the schedule plans are exact, the
//! sends agree with them up to the slots a busy machine could not send in
//! time (counted `not_sent`); and the scenario errors a stage can have.

mod common;

use std::path::Path;

use common::run_in;
use meshdrill::results::{Results, TimelineRow};
use meshdrill::scenario::{Overrides, Plan, parse};

fn compile(text: &str) -> Plan {
    parse(text, Path::new("ramp.toml"), &Overrides::default(), &|_| {
        None
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn problems(text: &str) -> Vec<String> {
    match parse(text, Path::new("ramp.toml"), &Overrides::default(), &|_| {
        None
    }) {
        Ok(plan) => panic!("expected problems, got {plan:#?}"),
        Err(e) => e.problems().iter().map(ToString::to_string).collect(),
    }
}

fn rows<'a>(results: &'a Results, scope: &str) -> &'a [TimelineRow] {
    &results
        .timeline
        .scopes
        .iter()
        .find(|s| s.scope == scope)
        .unwrap_or_else(|| panic!("no {scope} rows"))
        .rows
}

const SIM: &str = "[[target]]\nname = \"primary\"\nurl = \"sim:primary\"\n\
                   [sim]\nlatency = \"1ms\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ramp_to_200_per_second_over_10s_plans_and_sends_20_more_each_second() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = compile(&format!(
        "{SIM}[load]\nmax_late_pct = 100\n[[load.stage]]\nduration = \"10s\"\nrate = 200\n"
    ));
    plan.sim.base_latency = std::time::Duration::ZERO;
    run_in(plan, dir.path()).await;
    let results = Results::load(dir.path()).unwrap();
    let rows = rows(&results, "primary");
    let planned: Vec<u64> = rows.iter().map(|r| r.planned.unwrap()).collect();
    let sent: Vec<u64> = rows.iter().map(|r| r.sent).collect();
    eprintln!("planned {planned:?}\nsent    {sent:?}");
    // N(t) = 10 t²: exactly 10, 30, ..., 190, 1000 in all (the closed form
    // (0 + 200) / 2 · 10 s).
    assert_eq!(planned, (0..10).map(|s| 10 + 20 * s).collect::<Vec<u64>>());
    assert_eq!(planned.iter().sum::<u64>(), 1000);
    for r in rows {
        assert_eq!(
            r.sent + r.not_sent,
            r.planned.unwrap(),
            "second {}",
            r.second
        );
        assert_eq!((r.planned_users, r.active_users), (None, None));
    }
    for pair in sent.windows(2) {
        let more = pair[1] as i64 - pair[0] as i64;
        assert!((19..=21).contains(&more), "sent {sent:?}");
    }
    let summary = &results.summary;
    assert_eq!(summary.targets[0].generator.planned, Some(1000));
    assert_eq!(summary.scenario.rate_per_target, Some(200.0));
    assert_eq!(summary.scenario.duration_s, 10.0);
    let stages: Vec<(f64, Option<f64>, Option<u32>)> = summary
        .scenario
        .stages
        .iter()
        .map(|s| (s.duration_ms, s.rate, s.users))
        .collect();
    assert_eq!(stages, [(10_000.0, Some(200.0), None)]);
    let plan = results.plan.as_ref().unwrap();
    assert_eq!(plan.load.stages, summary.scenario.stages);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_users_ramp_up_hold_and_ramp_down_never_above_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let plan = compile(&format!(
        "{SIM}[load]\nthink_time = \"20ms\"\nmax_late_pct = 100\n\
         [[load.stage]]\nduration = \"4s\"\nusers = 20\n\
         [[load.stage]]\nduration = \"2s\"\nusers = 20\n\
         [[load.stage]]\nduration = \"2s\"\nusers = 0\n"
    ));
    let options = meshdrill::run::RunOptions {
        lanes_per_target: Some(2),
        out_dir: Some(dir.path().to_path_buf()),
        quiet: true,
        ..meshdrill::run::RunOptions::new(plan)
    };
    meshdrill::run::run(options, tokio_util::sync::CancellationToken::new())
        .await
        .unwrap();
    let results = Results::load(dir.path()).unwrap();
    let rows = rows(&results, "primary");
    let planned: Vec<u64> = rows.iter().map(|r| r.planned_users.unwrap()).collect();
    let active: Vec<u64> = rows.iter().map(|r| r.active_users.unwrap()).collect();
    eprintln!("planned users {planned:?}\nactive users  {active:?}");
    // User k starts at k / 5 s and, on the way down, stops at 8 - k / 10 s.
    assert_eq!(planned, [5, 10, 15, 20, 20, 20, 20, 10]);
    for (r, (&planned, &active)) in rows.iter().zip(planned.iter().zip(&active)) {
        assert!(
            active <= planned,
            "second {}: {active} > {planned}",
            r.second
        );
        assert_eq!(r.planned, None, "the closed model plans no requests");
    }
    assert!(active.iter().sum::<u64>() > 0, "{active:?}");
    // Ramping down lets each request finish: none is cut off.
    let summary = &results.summary;
    assert_eq!(summary.abandoned_in_flight, 0);
    assert_eq!(summary.scenario.users_per_target, Some(20));
    // One target: `all` plans the same users.
    let all: Vec<Option<u64>> = rows_of(&results, "all").map(|r| r.planned_users).collect();
    assert_eq!(all, planned.iter().map(|&p| Some(p)).collect::<Vec<_>>());
}

fn rows_of<'a>(results: &'a Results, scope: &str) -> impl Iterator<Item = &'a TimelineRow> {
    rows(results, scope).iter()
}

#[test]
fn stage_errors_name_the_key_and_what_is_expected() {
    let with = |load: &str| format!("{SIM}[load]\n{load}");
    assert_eq!(
        problems(&with(
            "[[load.stage]]\nduration = \"1s\"\nrate = 5\nusers = 3\n"
        )),
        [
            "ramp.toml:7: load.stage[0]: sets both rate and users (expected one: rate = 200 for requests/s per target, or users = 100 for users per target)"
        ]
    );
    assert_eq!(
        problems(&with(
            "[[load.stage]]\nduration = \"0s\"\nrate = 5\n[[load.stage]]\nduration = \"-2s\"\nrate = 1\n"
        )),
        [
            "ramp.toml:8: load.stage[0].duration \"0s\" must be > 0",
            "ramp.toml:11: load.stage[1].duration \"-2s\" is not a duration (expected \"30s\", \"2m\", \"500ms\")",
        ]
    );
    assert_eq!(
        problems(&with(
            "model = \"concurrency\"\n[[load.stage]]\nduration = \"1s\"\nrate = 5\n"
        )),
        [
            "ramp.toml:10: load.stage[0].rate is only used with model = \"rate\" (this load is model = \"concurrency\": its stages set users)"
        ]
    );
    assert_eq!(
        problems(&with(
            "[[load.stage]]\nduration = \"1s\"\nrate = 5\n[[load.stage]]\nduration = \"1s\"\nusers = 5\n"
        )),
        [
            "ramp.toml:12: load.stage[1].users is only used with model = \"concurrency\" (this load is model = \"rate\": its stages set rate)"
        ]
    );
    assert_eq!(
        problems(&with(
            "duration = \"5s\"\nrate = 10\nwarmup = \"1s\"\n[[load.stage]]\nduration = \"2s\"\nrate = 5\n"
        )),
        [
            "ramp.toml:7: load.duration \"5s\" is not the sum of the [[load.stage]] durations (2s): with stages the measured phase is the stages (leave load.duration out)",
            "ramp.toml:8: load.rate is not used with [[load.stage]] (each stage sets its rate; the first ramps from 0, as k6's startRate: to start at a rate, begin with a short stage to it)",
            "ramp.toml:9: load.warmup is not used with [[load.stage]] (the stages start at the start of traffic and ramp from 0, so the first stage is the warm-up; every stage is measured)",
        ]
    );
    assert_eq!(
        problems(&with(
            "[[load.stage]]\nduration = \"1s\"\nusers = 0\n[[load.stage]]\nduration = \"1s\"\n"
        )),
        ["ramp.toml:10: load.stage[1].users is required (e.g. users = 100)"]
    );
    assert_eq!(
        problems(&with(
            "[[load.stage]]\nduration = \"1s\"\nusers = 0\n[[load.stage]]\nduration = \"1s\"\nusers = -1\n"
        )),
        [
            "ramp.toml:12: load.stage[1].users -1 is out of range (expected users per target, an integer from 0 to 100000)"
        ]
    );
    assert_eq!(
        problems(&with("[[load.stage]]\nduration = \"1s\"\nrate = 0\n")),
        [
            "ramp.toml:7: load.stage[0]: never sends: every [[load.stage]] rate is 0 (expected one above 0)"
        ]
    );
}

/// The binary refuses a bad stage before any traffic: exit 2, the key named.
#[test]
fn run_check_exits_2_naming_the_stage_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ramp.toml");
    std::fs::write(
        &file,
        format!("{SIM}[load]\n[[load.stage]]\nduration = \"2s\"\nrate = 5\nusers = 1\n"),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .args(["run", "--check"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("ramp.toml:7: load.stage[0]: sets both rate and users"),
        "{stderr}"
    );
}

/// The go-live scenario ramps as the runbook's k6 stages, and its sim twin
/// is the same shape at 1/16 of the length; compiled only (its targets are
/// real clusters: nothing is sent). Every other scenario file still
/// compiles with its stages or flat load.
#[test]
fn the_go_live_scenarios_ramp_like_the_runbooks_k6_stages() {
    use std::time::Duration;
    let env = |name: &str| match name {
        "PRIMARY_INGRESS_IP" => Some("198.51.100.7".to_string()),
        "SECONDARY_INGRESS_IP" => Some("203.0.113.7".to_string()),
        _ => None,
    };
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let load = |name: &str| {
        let path = scenarios.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        parse(&text, &path, &Overrides::default(), &env).unwrap_or_else(|e| panic!("{e}"))
    };
    let shape = |plan: &Plan| -> Vec<(Duration, f64)> {
        plan.load
            .stages
            .iter()
            .map(|s| (s.duration, s.target))
            .collect()
    };
    let real = load("go-live-load-test.toml");
    let m = |m: u64| Duration::from_secs(60 * m);
    assert_eq!(
        shape(&real),
        [
            (m(2), 100.0),
            (m(5), 100.0),
            (m(2), 200.0),
            (m(5), 200.0),
            (m(2), 0.0)
        ]
    );
    assert_eq!(real.load.duration, m(16));
    assert!(matches!(
        real.load.model,
        meshdrill::scenario::LoadModel::Concurrency { users, think_time }
            if users.get() == 200 && think_time == Duration::from_secs(1)
    ));
    let all = real.slo.all.as_ref().unwrap();
    assert_eq!(all.p95_max_ms, Some(500.0));
    assert_eq!(all.p99_max_ms, Some(1000.0));
    assert_eq!(all.error_rate_max_pct, Some(1.0));

    let sim = load("go-live-load-test-sim.toml");
    assert!(sim.uses_sim() && !real.uses_sim());
    let scaled: Vec<(Duration, f64)> = shape(&real)
        .into_iter()
        .map(|(d, users)| (d / 16, users))
        .collect();
    assert_eq!(shape(&sim), scaled);
    assert_eq!(sim.load.duration, Duration::from_secs(60));
    assert_eq!(sim.load.model, real.load.model);
    assert_eq!(sim.slo, real.slo);

    let mut files: Vec<_> = std::fs::read_dir(&scenarios)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() > 20, "{files:?}");
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        load(&name);
    }
}

/// Stages do not move the run clock: a fault during a ramp fires at its
/// own `at`, the ramp's plan is the same as without it, and the outage is
/// measured from the fault on that clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_during_a_ramp_keeps_its_time_and_the_ramp_its_plan() {
    let dir = tempfile::tempdir().unwrap();
    let plan = compile(&format!(
        "{SIM}[load]\nmax_late_pct = 100\n[[load.stage]]\nduration = \"6s\"\nrate = 100\n\
         [[fault]]\nname = \"down\"\ntarget = \"primary\"\nsim = \"down\"\nat = \"2s\"\nrestore_at = \"3s\"\n\
         [recovery]\nwindow = \"1s\"\n"
    ));
    run_in(plan, dir.path()).await;
    let results = Results::load(dir.path()).unwrap();
    let rows = rows(&results, "primary");
    // N(t) = 100 / 6 / 2 · t²: 8.3, 33.3, 75, 133.3, 208.3, 300 by second.
    let planned: Vec<u64> = rows.iter().map(|r| r.planned.unwrap()).collect();
    assert_eq!(planned, [9, 25, 41, 59, 75, 91]);
    for r in &rows[..2] {
        assert_eq!(r.failed, 0, "second {} is before the fault", r.second);
    }
    let fault = &results.summary.faults[0];
    assert_eq!(fault.planned_at_ms, 2000.0);
    assert_eq!(fault.planned_restore_ms, Some(3000.0));
    assert!(fault.injected_at_ms.unwrap() >= 2000.0, "{fault:?}");
    let outage = &results.summary.outages[0];
    let primary = outage.scopes.iter().find(|s| s.scope == "primary").unwrap();
    let first = primary.report.first_failure_ms.unwrap();
    assert!(first >= 2000, "first failure at {first} ms");
}

/// `--rate` / `--concurrency` / `--duration` on a staged scenario: refused
/// once, naming the flag (not once per stage of the other model).
#[test]
fn load_flags_on_a_staged_scenario_are_refused_naming_the_flag() {
    let text = format!("{SIM}[load]\n[[load.stage]]\nduration = \"2s\"\nusers = 5\n");
    let refused =
        |overrides: Overrides| match parse(&text, Path::new("ramp.toml"), &overrides, &|_| None) {
            Ok(plan) => panic!("expected problems, got {plan:#?}"),
            Err(e) => e
                .problems()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        };
    assert_eq!(
        refused(Overrides {
            rate: Some(50.0),
            ..Overrides::default()
        }),
        [
            "--rate: is not used with [[load.stage]] (each stage sets its rate; the first ramps from 0, as k6's startRate: to start at a rate, begin with a short stage to it)"
        ]
    );
    assert_eq!(
        refused(Overrides {
            duration: Some("30s".into()),
            ..Overrides::default()
        }),
        [
            "--duration: \"30s\" is not the sum of the [[load.stage]] durations (2s): with stages the measured phase is the stages (leave load.duration out)"
        ]
    );
}
