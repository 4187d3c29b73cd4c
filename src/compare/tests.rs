//! Comparisons of hand-built summaries: the same run, a longer outage, a
//! fault or scope only one side has, and a history too short or beaten.

use std::path::PathBuf;

use super::*;
use crate::outcome::Kind;
use crate::results::Results;
use crate::results::faults::FaultRecord;
use crate::results::hlog::Hlog;
use crate::results::outage::{
    FaultOutage, OutageReport, PhaseLatency, Recovery, ScopedOutage, T0Source, WindowFigures,
};
use crate::results::summary::{DnsInfo, Percentiles, ScenarioInfo, Summary, TargetSummary};
use crate::results::timeline_read::Timeline;
use crate::results::verdict::{GeneratorReport, Verdict, VerdictStatus};

fn latency(p99: f64) -> Percentiles {
    Percentiles {
        min: 0.1,
        mean: p99 / 3.0,
        p50: p99 / 4.0,
        p90: p99 / 2.0,
        p95: p99 / 1.5,
        p99,
        p999: p99,
        max: p99,
    }
}

fn target(name: &str, requests: u64, failed: u64) -> TargetSummary {
    TargetSummary {
        name: name.into(),
        requests,
        ok: requests - failed,
        failed,
        availability_pct: Some(100.0 * (requests - failed) as f64 / requests as f64),
        failures: if failed > 0 {
            [("refused".to_string(), failed)].into()
        } else {
            Default::default()
        },
        latency_ms: Some(latency(4.0)),
        versions: [("v1".to_string(), requests - failed)].into(),
        ..TargetSummary::default()
    }
}

fn scoped(scope: &str, rto_ms: u64, failed: u64) -> ScopedOutage {
    let mut by_kind = [0; Kind::COUNT];
    by_kind[Kind::Refused.index()] = failed;
    let report = OutageReport {
        t0_ms: Some(10_000),
        t0_source: Some(T0Source::Hook),
        first_failure_ms: (failed > 0).then_some(10_000),
        last_failure_ms: (failed > 0).then_some(10_000 + rto_ms),
        recovery: if rto_ms > 0 {
            Recovery::Recovered {
                at_ms: 10_000 + rto_ms,
            }
        } else {
            Recovery::NoOutage
        },
        rto_ms: Some(rto_ms),
        failing_seconds: (rto_ms / 1000) as u32,
        failed,
        failed_by_kind: by_kind,
        failed_after_recovery: 0,
        failing_seconds_after_recovery: 0,
        before: Default::default(),
        during: Default::default(),
        after: Default::default(),
    };
    ScopedOutage {
        scope: scope.into(),
        report,
        latency_ms: PhaseLatency::default(),
        in_window: Some(WindowFigures {
            requests: 4000,
            ok: 4000 - failed,
            failed,
            availability_pct: Some(100.0 * (4000 - failed) as f64 / 4000.0),
            failed_by_kind: by_kind,
            latency_ms: Some(latency(3.0)),
        }),
        failover: None,
    }
}

/// The demo's shape: primary down at 10 s for `outage_ms`, secondary fine.
fn demo(dir: &str, outage_ms: u64) -> Results {
    let failed = outage_ms / 5;
    let summary = Summary {
        schema_version: crate::results::SCHEMA_VERSION,
        meshdrill_version: "test".into(),
        shard: None,
        scenario: ScenarioInfo {
            name: "demo".into(),
            file: "demo.toml".into(),
            description: None,
            model: "rate".into(),
            rate_per_target: Some(200.0),
            users_per_target: None,
            stages: Vec::new(),
            think_time_ms: None,
            duration_s: 30.0,
            warmup_s: 0.0,
            timeout_ms: 2000.0,
            connect_timeout_ms: 1000.0,
            max_late_pct: 1.0,
            max_connection_age_ms: None,
            dns: DnsInfo::default(),
        },
        start_unix_ms: 0,
        start_utc: String::new(),
        interrupted: false,
        seconds: 30,
        abandoned_in_flight: 0,
        outcomes_after_row_written: 0,
        open_files_limit: None,
        requests_ended_ms: None,
        targets: vec![
            target("primary", 6000, failed),
            target("secondary", 6000, 0),
        ],
        all: target("all", 12_000, failed),
        faults: vec![FaultRecord {
            name: "primary-down".into(),
            planned_at_ms: 10_000.0,
            planned_restore_ms: Some(10_000.0 + outage_ms as f64),
            ..FaultRecord::default()
        }],
        markers: Vec::new(),
        recovery: Default::default(),
        slo: Default::default(),
        outages: vec![FaultOutage {
            fault: "primary-down".into(),
            source: T0Source::Hook,
            t0_ms: Some(10_000),
            faulted_scope: Some("primary".into()),
            window: None,
            scopes: vec![
                scoped("primary", outage_ms, failed),
                scoped("secondary", 0, 0),
                scoped("all", outage_ms, failed),
            ],
        }],
        verdict: Some(Verdict {
            status: VerdictStatus::Pass,
            criteria: Vec::new(),
            generator: GeneratorReport::default(),
        }),
        rejudged_from: None,
        rebuilt: None,
        start: None,
        merged: None,
    };
    Results {
        dir: PathBuf::from(dir),
        summary,
        timeline: Timeline::default(),
        hlog: Hlog::default(),
        hlog_ok: None,
        journal: Vec::new(),
        plan: None,
        addresses: None,
        captures: Vec::new(),
        annotations: None,
        evidence: None,
    }
}

#[test]
fn a_run_compared_with_itself_has_no_regression() {
    let run = demo("a", 8000);
    let c = compare(&run, &run, &Tolerances::default()).unwrap();
    assert!(!c.regressed(), "{:?}", c.regressions().collect::<Vec<_>>());
    assert!(c.notes.is_empty(), "{:?}", c.notes);
    // Whole run and the fault, three scopes each, every gated metric.
    let rto_rows = c.rows.iter().filter(|r| r.metric == Metric::Rto).count();
    assert_eq!(rto_rows, 3);
    assert_eq!(
        c.gated().count(),
        3 * 2 + 3 * 3,
        "availability and p99 per scope, and the fault's RTO"
    );
}

#[test]
fn an_outage_four_seconds_longer_regresses_its_rto() {
    let (a, b) = (demo("a", 8000), demo("b", 12_000));
    let c = compare(&a, &b, &Tolerances::default()).unwrap();
    let lines: Vec<String> = c.regressions().map(Row::regression_line).collect();
    assert!(
        lines.contains(
            &"RTO primary-down/primary 8.000 s → 12.000 s (+4.000 s (+50 %), tolerance 10 % or 1.000 s)"
                .to_string()
        ),
        "{lines:#?}"
    );
    // The secondary, the control, did not regress.
    assert!(
        c.regressions().all(|r| r.scope != "secondary"),
        "{lines:#?}"
    );
    // The fault's other schedule is noted, not refused.
    assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
    assert!(c.notes[0].contains("restore 18.000 s"), "{:?}", c.notes);
    // The other way round is an improvement.
    assert!(!compare(&b, &a, &Tolerances::default()).unwrap().regressed());
}

#[test]
fn runs_of_other_scenarios_targets_or_faults_are_refused() {
    let a = demo("a", 8000);
    let mut other = demo("b", 8000);
    other.summary.scenario.name = "go-live".into();
    let err = compare(&a, &other, &Tolerances::default()).unwrap_err();
    assert_eq!(err, "different scenarios: \"demo\" and \"go-live\"");

    let mut fewer = demo("b", 8000);
    fewer.summary.targets.pop();
    let err = compare(&a, &fewer, &Tolerances::default()).unwrap_err();
    assert_eq!(err, "different targets: primary, secondary and primary");

    let mut no_fault = demo("b", 8000);
    no_fault.summary.faults.clear();
    let err = compare(&a, &no_fault, &Tolerances::default()).unwrap_err();
    assert_eq!(err, "different faults: primary-down and (none)");

    let mut cut = demo("b", 8000);
    cut.summary.interrupted = true;
    let err = compare(&a, &cut, &Tolerances::default()).unwrap_err();
    assert!(err.starts_with("this run was interrupted"), "{err}");
}

#[test]
fn an_outage_only_one_run_has_is_shown_not_judged() {
    let a = demo("a", 8000);
    let mut b = demo("b", 8000);
    let mut marker = b.summary.outages[0].clone();
    marker.fault = "marker 1".into();
    marker.source = T0Source::Marker;
    b.summary.outages.push(marker);
    let c = compare(&a, &b, &Tolerances::default()).unwrap();
    assert!(!c.regressed());
    let marker_rows: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.section == Section::Fault("marker 1".into()))
        .collect();
    assert!(!marker_rows.is_empty());
    assert!(marker_rows.iter().all(|r| matches!(
        &r.judgement,
        Judgement::NotJudged(why) if why == "not in the reference"
    ) || r.judgement == Judgement::Info));
    // The other way round: not in this run.
    let c = compare(&b, &a, &Tolerances::default()).unwrap();
    assert!(!c.regressed());
    assert!(c.rows.iter().any(|r| matches!(
        &r.judgement,
        Judgement::NotJudged(why) if why == "not in this run"
    )));
}

#[test]
fn an_invalid_or_unjudged_run_cannot_be_compared() {
    let mut run = demo("a", 8000);
    assert_eq!(unjudgeable(&run.summary), None);
    let verdict = run.summary.verdict.as_mut().unwrap();
    verdict.status = VerdictStatus::Invalid;
    verdict.generator.invalid = vec!["primary: 30 % of requests were sent late".into()];
    assert_eq!(
        unjudgeable(&run.summary).as_deref(),
        Some("it is INVALID: primary: 30 % of requests were sent late")
    );
    run.summary.verdict = None;
    assert!(unjudgeable(&run.summary).unwrap().contains("never judged"));
}

#[test]
fn a_short_history_is_not_judged_and_a_long_one_fails_past_its_p95() {
    let tolerances = Tolerances::default();
    let earlier: Vec<Results> = (0..12u64)
        .map(|i| demo(&format!("h{i}"), 8000 + i * 20))
        .collect();
    let slow = demo("now", 12_000);

    let c = against_history(&slow, &earlier[..3], Vec::new(), &tolerances, 10);
    assert!(!c.judged);
    assert!(!c.regressed());
    assert!(c.rows.iter().any(|r| matches!(
        &r.judgement,
        Judgement::NotJudged(why) if why == "3 earlier run(s), fewer than --min-history 10"
    )));

    let c = against_history(&slow, &earlier, Vec::new(), &tolerances, 10);
    assert!(c.judged);
    let rto = c
        .regressions()
        .find(|r| r.metric == Metric::Rto && r.scope == "primary")
        .expect("the RTO regressed");
    // P95 of 8.000 .. 8.220 s over 12 runs: rank 12, 8.220 s.
    assert_eq!(rto.reference, Value::Rto(Rto::Recovered { ms: 8220 }));

    // A run like its history passes.
    let usual = demo("now", 8100);
    assert!(!against_history(&usual, &earlier, Vec::new(), &tolerances, 10).regressed());
}

#[test]
fn history_runs_that_cannot_be_compared_are_skipped_and_counted() {
    let current = demo("now", 8000);
    let mut invalid = demo("bad", 8000);
    invalid.summary.verdict.as_mut().unwrap().status = VerdictStatus::Invalid;
    let mut other = demo("other", 8000);
    other.summary.scenario.name = "go-live".into();
    let unreadable = Err(crate::results::LoadError::invalid(
        std::path::Path::new("gone/summary.json"),
        None,
        "truncated".to_string(),
    ));
    let (usable, skipped) = select(
        &current,
        vec![
            ("ok".into(), Ok(demo("ok", 8000))),
            ("bad".into(), Ok(invalid)),
            ("other".into(), Ok(other)),
            ("gone".into(), unreadable),
        ],
    );
    assert_eq!(usable.len(), 1);
    let why: Vec<(&str, &str)> = skipped
        .iter()
        .map(|s| (s.dir.as_str(), s.why.as_str()))
        .collect();
    assert_eq!(why.len(), 3, "{why:?}");
    assert!(why[0].0 == "bad" && why[0].1.starts_with("it is INVALID"));
    assert!(why[1].0 == "other" && why[1].1.starts_with("different scenarios"));
    assert!(why[2].0 == "gone" && why[2].1.starts_with("cannot be read"));
}
