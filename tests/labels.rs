//! The RTO lines say where T0 came from without contradicting themselves
//! (issue 10, item 6's label): with no hook and no marker, T0 is each
//! target's first failed request, and a target that never failed says so.

mod common;

use std::time::Duration;

use common::*;
use meshdrill::assess::dir::PhaseLatency;
use meshdrill::assess::{FaultOutage, Region, ScopedOutage, SecondSample, T0Source, analyse};
use meshdrill::outcome::Kind;
use meshdrill::report::table::outage_lines;
use meshdrill::report::width::fit;
use meshdrill::scenario::RecoveryRule;
use meshdrill::sim::Cluster;

/// A port on 127.0.0.1 with nothing listening: every request is refused.
fn dead_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_never_answered_without_a_hook_names_its_t0() {
    let dir = tempfile::tempdir().unwrap();
    let p = plan(
        "dead",
        vec![
            http_target("primary", dead_port()),
            sim_target("secondary", Cluster::Secondary),
        ],
        rate(20.0),
        Duration::from_secs(3),
    );
    let out = run_in(p, dir.path()).await;
    let text = outage_lines(&out.summary.outages, out.summary.recovery);
    // Wrapped to the console's width, as printed.
    let expected = fit(
        "  first failure (no fault hook or marker; T0 = each target's first failed request): \
         primary NOT RECOVERED (T0 0.000 s, > 3.000 s), secondary no failure, \
         all NOT RECOVERED (T0 0.000 s, > 3.000 s)",
        2,
    );
    assert!(text.contains(&format!("{expected}\n")), "{text}");
    assert!(
        text.contains("during first failure (0 s → 3 s, all did not recover before the next fault or the run's end):"),
        "{text}"
    );

    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        html.contains("<td>first failure</td><td>primary</td><td>0.000 s (its first failed request; no fault hook or marker)</td><td>NOT RECOVERED (&gt; 3.000 s)</td>"),
        "{html}"
    );
    assert!(
        html.contains("<td>first failure</td><td>secondary</td><td>— (no failure; no fault hook or marker)</td><td>no outage</td>"),
        "{html}"
    );
}

fn sample(second: u32, ok: u64, refused: u64) -> SecondSample {
    let mut by_kind = [0; Kind::COUNT];
    by_kind[Kind::Ok.index()] = ok;
    by_kind[Kind::Refused.index()] = refused;
    let base = u64::from(second) * 1000;
    SecondSample {
        second,
        sent: ok + refused,
        ok,
        by_kind,
        first_failure_ms: (refused > 0).then_some(base),
        last_failure_ms: (refused > 0).then_some(base + 900),
        first_success_ms: (ok > 0).then_some(base),
        first_success_after_last_failure_ms: (ok > 0 && refused == 0).then_some(base),
        ..SecondSample::default()
    }
}

/// One scope's outage over hand-built seconds: down in seconds 2 and 3.
fn outage(fault: &str, source: T0Source, t0_ms: Option<u64>) -> FaultOutage {
    let rule = RecoveryRule {
        window: 2,
        threshold_pct: 99.0,
    };
    let samples: Vec<SecondSample> = (0..8)
        .map(|s| {
            if (2..4).contains(&s) {
                sample(s, 0, 10)
            } else {
                sample(s, 10, 0)
            }
        })
        .collect();
    let region = Region {
        start_ms: 0,
        t0_ms,
        source,
        end_ms: if t0_ms.is_none() && source == T0Source::Hook {
            0
        } else {
            8000
        },
    };
    FaultOutage {
        fault: fault.into(),
        source,
        t0_ms,
        faulted_scope: None,
        window: None,
        scopes: vec![ScopedOutage {
            scope: "primary".into(),
            report: analyse(&samples, &region, &rule),
            latency_ms: PhaseLatency::default(),
            in_window: None,
            failover: None,
        }],
    }
}

#[test]
fn every_t0_source_reads_right() {
    let rule = RecoveryRule {
        window: 2,
        threshold_pct: 99.0,
    };
    let lines = outage_lines(
        &[
            outage("kill-gateway", T0Source::Hook, Some(2000)),
            outage("marker 1", T0Source::Marker, Some(1500)),
            outage("first failure", T0Source::FirstFailure, None),
            outage("never-ran", T0Source::Hook, None),
        ],
        rule,
    );
    let lines: Vec<&str> = lines.lines().collect();
    // Wrapped to the console's width, as printed.
    let expected: Vec<String> = [
        "",
        "measured RTO (recovered = 2 s in a row at ≥ 99% availability):",
        "  kill-gateway (injected at 2.000 s): primary 2.000 s (20 failed; p99 - → - → - ms)",
        "  marker 1 (marker at 1.500 s): primary 2.500 s (20 failed; p99 - → - → - ms)",
        "  first failure (no fault hook or marker; T0 = each target's first failed request): \
             primary 2.000 s (T0 2.000 s, 20 failed; p99 - → - → - ms)",
        "  never-ran (the fault did not run: nothing to measure): primary not measured",
    ]
    .iter()
    .flat_map(|l| {
        fit(l, 2)
            .split('\n')
            .map(str::to_string)
            .collect::<Vec<_>>()
    })
    .collect();
    assert_eq!(lines, expected);
    assert!(lines.iter().all(|l| l.chars().count() <= 100), "{lines:#?}");
}
