//! The SLO verdict (`assess::slo`): every criterion passing, failing and at
//! its boundary, with the exact threshold and measured text a report shows.

use std::time::Duration;

use meshdrill::assess::{
    Criterion, Measured, MeasuredRto, OutageReport, Region, SecondSample, T0Source, analyse,
    evaluate,
};
use meshdrill::outcome::Kind;
use meshdrill::scenario::{RecoveryRule, SloSpec};

fn measured() -> Measured {
    Measured {
        requests: 10_000,
        failed: 269,
        availability_pct: Some(97.31),
        error_rate_pct: Some(2.69),
        p50_ms: Some(12.5),
        p99_ms: Some(480.25),
        p95_ms: Some(301.5),
        worst_rto: Some(MeasuredRto::Recovered(Duration::from_millis(8_012))),
        versions: vec![("v1".into(), 0), ("v2".into(), 5000), ("v3".into(), 4731)],
        clusters: vec![("primary".into(), 9731)],
    }
}

/// The one criterion `spec` yields for `m`, as (threshold, measured, pass).
fn one(spec: SloSpec, m: &Measured) -> (String, String, bool) {
    let criteria = evaluate(&spec, "all", m);
    assert_eq!(criteria.len(), 1, "{criteria:#?}");
    let c = &criteria[0];
    assert_eq!(c.scope, "all");
    (c.threshold.clone(), c.measured.clone(), c.pass)
}

fn t(threshold: &str, measured: &str, pass: bool) -> (String, String, bool) {
    (threshold.into(), measured.into(), pass)
}

#[test]
fn unset_criteria_yield_nothing() {
    assert!(evaluate(&SloSpec::default(), "all", &measured()).is_empty());
    assert!(SloSpec::default().is_empty());
}

#[test]
fn every_configured_criterion_yields_one_line_in_field_order() {
    let spec = SloSpec {
        availability_min_pct: Some(99.0),
        max_failed_requests: Some(0),
        error_rate_max_pct: Some(1.0),
        p99_max_ms: Some(500.0),
        p95_max_ms: Some(300.0),
        p50_max_ms: Some(200.0),
        rto_max: Some(Duration::from_secs(900)),
        expect_versions: vec!["v2".into(), "v3".into()],
        only_versions: vec!["v2".into(), "v3".into()],
        expect_clusters: vec!["primary".into(), "secondary".into()],
        only_clusters: vec!["primary".into()],
    };
    let criteria = evaluate(&spec, "primary", &measured());
    let lines: Vec<_> = criteria
        .iter()
        .map(|c| {
            format!(
                "{} {} {} | {} | {}",
                c.scope, c.name, c.threshold, c.measured, c.pass
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            "primary availability_min_pct ≥ 99.00 % | 97.31 % | false",
            "primary max_failed_requests ≤ 0 | 269 | false",
            "primary error_rate_max_pct ≤ 1.00 % | 2.69 % | false",
            "primary p99_max_ms ≤ 500 ms | 480.250 ms | true",
            "primary p95_max_ms ≤ 300 ms | 301.500 ms | false",
            "primary p50_max_ms ≤ 200 ms | 12.500 ms | true",
            "primary rto_max ≤ 15m | 8.012 s | true",
            "primary expect_versions v2, v3 each ≥ 1 ok | v2: 5000, v3: 4731 | true",
            "primary only_versions only v2, v3 | v2: 5000, v3: 4731 | true",
            "primary expect_clusters primary, secondary each ≥ 1 ok | primary: 9731, secondary: 0 | false",
            "primary only_clusters only primary | primary: 9731 | true",
        ]
    );
    let json = serde_json::to_value(&criteria[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "name": "availability_min_pct",
            "scope": "primary",
            "threshold": "≥ 99.00 %",
            "measured": "97.31 %",
            "pass": false
        })
    );
}

#[test]
fn availability_min() {
    let spec = |min| SloSpec {
        availability_min_pct: Some(min),
        ..SloSpec::default()
    };
    let m = measured();
    assert_eq!(one(spec(99.0), &m), t("≥ 99.00 %", "97.31 %", false));
    assert_eq!(one(spec(97.0), &m), t("≥ 97.00 %", "97.31 %", true));
    assert_eq!(one(spec(97.31), &m), t("≥ 97.31 %", "97.31 %", true));
    // Just below: shown with enough decimals that it does not look equal.
    let close = Measured {
        availability_pct: Some(99.899),
        ..measured()
    };
    assert_eq!(one(spec(99.9), &close), t("≥ 99.900 %", "99.899 %", false));
    assert_eq!(one(spec(99.95), &m), t("≥ 99.95 %", "97.31 %", false));
    // Float noise from 100 · ok / requests does not fail an exact boundary.
    let noisy = Measured {
        availability_pct: Some(100.0 * 999.0 / 1000.0),
        ..measured()
    };
    assert!(one(spec(99.9), &noisy).2);
    let none = Measured {
        requests: 0,
        availability_pct: None,
        ..measured()
    };
    assert_eq!(one(spec(99.0), &none), t("≥ 99.00 %", "no requests", false));
}

#[test]
fn max_failed_requests() {
    let spec = |max| SloSpec {
        max_failed_requests: Some(max),
        ..SloSpec::default()
    };
    let m = measured();
    assert_eq!(one(spec(0), &m), t("≤ 0", "269", false));
    assert_eq!(one(spec(269), &m), t("≤ 269", "269", true));
    assert_eq!(one(spec(268), &m), t("≤ 268", "269", false));
    let clean = Measured {
        failed: 0,
        ..measured()
    };
    assert_eq!(one(spec(0), &clean), t("≤ 0", "0", true));
}

#[test]
fn error_rate_max() {
    let spec = |max| SloSpec {
        error_rate_max_pct: Some(max),
        ..SloSpec::default()
    };
    let m = measured();
    assert_eq!(one(spec(1.0), &m), t("≤ 1.00 %", "2.69 %", false));
    assert_eq!(one(spec(2.69), &m), t("≤ 2.69 %", "2.69 %", true));
    assert_eq!(one(spec(5.0), &m), t("≤ 5.00 %", "2.69 %", true));
    let none = Measured {
        error_rate_pct: None,
        ..measured()
    };
    assert_eq!(one(spec(1.0), &none), t("≤ 1.00 %", "no requests", false));
}

#[test]
fn latency_maxima() {
    let p99 = |max| SloSpec {
        p99_max_ms: Some(max),
        ..SloSpec::default()
    };
    let p50 = |max| SloSpec {
        p50_max_ms: Some(max),
        ..SloSpec::default()
    };
    let m = measured();
    assert_eq!(one(p99(500.0), &m), t("≤ 500 ms", "480.250 ms", true));
    assert_eq!(one(p99(480.25), &m), t("≤ 480.25 ms", "480.250 ms", true));
    assert_eq!(one(p99(480.0), &m), t("≤ 480 ms", "480.250 ms", false));
    assert_eq!(one(p50(12.5), &m), t("≤ 12.5 ms", "12.500 ms", true));
    assert_eq!(one(p50(0.5), &m), t("≤ 0.5 ms", "12.500 ms", false));
    let none = Measured {
        p99_ms: None,
        ..measured()
    };
    assert_eq!(one(p99(500.0), &none), t("≤ 500 ms", "no requests", false));
}

#[test]
fn rto_max() {
    let spec = |max| SloSpec {
        rto_max: Some(max),
        ..SloSpec::default()
    };
    let m = measured();
    let secs = Duration::from_secs;
    assert_eq!(one(spec(secs(900)), &m), t("≤ 15m", "8.012 s", true));
    assert_eq!(
        one(spec(Duration::from_millis(8_012)), &m),
        t("≤ 8s 12ms", "8.012 s", true)
    );
    assert_eq!(one(spec(secs(8)), &m), t("≤ 8s", "8.012 s", false));
    let not = Measured {
        worst_rto: Some(MeasuredRto::NotRecovered {
            lower_bound: secs(20),
        }),
        ..measured()
    };
    assert_eq!(
        one(spec(secs(900)), &not),
        t("≤ 15m", "not recovered (> 20.000 s)", false)
    );
    let no_fault = Measured {
        worst_rto: None,
        ..measured()
    };
    assert_eq!(one(spec(secs(0)), &no_fault), t("≤ 0s", "no outage", true));
}

#[test]
fn worst_rto_of_the_reports() {
    let samples: Vec<SecondSample> = (0..30)
        .map(|second| {
            let failing = (10..14).contains(&second);
            let mut s = SecondSample {
                second,
                sent: 100,
                ok: if failing { 0 } else { 100 },
                ..SecondSample::default()
            };
            s.by_kind[if failing { Kind::Refused } else { Kind::Ok }.index()] = 100;
            let start = u64::from(second) * 1000;
            if failing {
                (s.first_failure_ms, s.last_failure_ms) = (Some(start), Some(start + 990));
            } else {
                s.first_success_ms = Some(start);
                s.first_success_after_last_failure_ms = Some(start);
            }
            s
        })
        .collect();
    let region = |t0_ms, end_ms| Region {
        start_ms: 0,
        t0_ms: Some(t0_ms),
        source: T0Source::Hook,
        end_ms,
    };
    let rule = RecoveryRule::default();
    let recovered: OutageReport = analyse(&samples, &region(10_000, 30_000), &rule);
    let earlier: OutageReport = analyse(&samples, &region(9_000, 30_000), &rule);
    let cut: OutageReport = analyse(&samples, &region(10_000, 16_000), &rule);
    let clean: OutageReport = analyse(&samples, &region(20_000, 30_000), &rule);
    let ms = Duration::from_millis;
    assert_eq!(MeasuredRto::worst([]), None);
    assert_eq!(
        MeasuredRto::worst([&clean]),
        Some(MeasuredRto::Recovered(ms(0)))
    );
    assert_eq!(
        MeasuredRto::worst([&recovered, &earlier, &clean]),
        Some(MeasuredRto::Recovered(ms(5_000)))
    );
    assert_eq!(
        MeasuredRto::worst([&recovered, &cut, &earlier]),
        Some(MeasuredRto::NotRecovered {
            lower_bound: ms(6_000)
        })
    );
}

#[test]
fn expect_versions_and_clusters() {
    let versions = |v: &[&str]| SloSpec {
        expect_versions: v.iter().map(|s| s.to_string()).collect(),
        ..SloSpec::default()
    };
    let m = measured();
    assert_eq!(
        one(versions(&["v2", "v3"]), &m),
        t("v2, v3 each ≥ 1 ok", "v2: 5000, v3: 4731", true)
    );
    assert_eq!(
        one(versions(&["v1", "v2"]), &m),
        t("v1, v2 each ≥ 1 ok", "v1: 0, v2: 5000", false)
    );
    let one_ok = Measured {
        versions: vec![("v1".into(), 1)],
        ..measured()
    };
    assert_eq!(
        one(versions(&["v1"]), &one_ok),
        t("v1 each ≥ 1 ok", "v1: 1", true)
    );
    let clusters = SloSpec {
        expect_clusters: vec!["secondary".into()],
        ..SloSpec::default()
    };
    assert_eq!(
        one(clusters, &m),
        t("secondary each ≥ 1 ok", "secondary: 0", false)
    );
}

#[test]
fn only_versions_and_clusters() {
    let versions = |v: &[&str]| SloSpec {
        only_versions: v.iter().map(|s| s.to_string()).collect(),
        ..SloSpec::default()
    };
    let m = measured();
    // v1 served nothing ok, so "only v2, v3" holds.
    assert_eq!(
        one(versions(&["v2", "v3"]), &m),
        t("only v2, v3", "v2: 5000, v3: 4731", true)
    );
    assert_eq!(
        one(versions(&["v3"]), &m),
        t("only v3", "v2: 5000 (not allowed), v3: 4731", false)
    );
    let nothing = Measured {
        versions: vec![],
        ..measured()
    };
    assert_eq!(
        one(versions(&["v3"]), &nothing),
        t("only v3", "no ok responses", true)
    );
    let failed_over = Measured {
        clusters: vec![("secondary".into(), 3), ("primary".into(), 10)],
        ..measured()
    };
    let only_primary = SloSpec {
        only_clusters: vec!["primary".into()],
        ..SloSpec::default()
    };
    assert_eq!(
        one(only_primary, &failed_over),
        t(
            "only primary",
            "primary: 10, secondary: 3 (not allowed)",
            false
        )
    );
}

#[test]
fn criteria_carry_the_scope() {
    let spec = SloSpec {
        max_failed_requests: Some(10),
        ..SloSpec::default()
    };
    let criteria = evaluate(&spec, "secondary", &measured());
    assert_eq!(
        criteria,
        [Criterion {
            name: "max_failed_requests".into(),
            scope: "secondary".into(),
            threshold: "≤ 10".into(),
            measured: "269".into(),
            pass: false,
        }]
    );
}
