//! The engine against the in-process simulator: pacing, the closed model,
//! coordinated-omission-correct latency, and the failure kinds of each fault.

mod common;

use std::time::Duration;

use common::*;
use meshdrill::sim::{Cluster, Sim, SimConfig, SimFault};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_holds_the_requested_rate_on_both_targets() {
    let dir = tempfile::tempdir().unwrap();
    let p = plan(
        "rate",
        vec![
            sim_target("primary", Cluster::Primary),
            sim_target("secondary", Cluster::Secondary),
        ],
        rate(200.0),
        Duration::from_secs(3),
    );
    let out = run_in(p, dir.path()).await;
    for t in &out.summary.targets {
        assert_eq!(
            t.requests, 600,
            "{}: every slot of 3 s at 200/s is sent",
            t.name
        );
        assert_eq!(t.ok, 600, "{}", t.name);
        let achieved = t.achieved_rate.unwrap();
        let error = (achieved - 200.0).abs() / 200.0;
        assert!(
            error < 0.02,
            "{}: achieved {achieved:.2}/s, error {:.2}%",
            t.name,
            error * 100.0
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_keeps_exactly_n_requests_in_flight() {
    let config = SimConfig {
        base_latency: Duration::from_millis(20),
        ..SimConfig::default()
    };
    let any = "127.0.0.1:0".parse().unwrap();
    let sim = Sim::start(config, any, any).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = plan(
        "closed",
        vec![http_target("primary", sim.addr(Cluster::Primary))],
        users(10),
        Duration::from_secs(2),
    );
    let out = run_in(p, dir.path()).await;
    let stats = sim.stats(Cluster::Primary);
    assert_eq!(
        stats.peak_in_flight, 10,
        "peak concurrency seen by the server"
    );
    assert_eq!(stats.in_flight, 0);
    assert_eq!(
        stats.requests, out.summary.targets[0].requests,
        "every request the sim saw is counted"
    );
    // 10 users, ~20 ms per request, 2 s: about 1000 requests; far fewer
    // would mean users idled, more would mean more than 10 in flight.
    let n = out.summary.targets[0].requests;
    assert!((600..=1010).contains(&n), "{n} requests");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_second_stall_shows_as_latency_not_missing_samples() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = plan(
        "stall",
        vec![sim_target("primary", Cluster::Primary)],
        rate(100.0),
        Duration::from_secs(3),
    );
    p.load.timeout = Duration::from_secs(5);
    p.faults = vec![sim_fault(
        "stall",
        Cluster::Primary,
        SimFault::Blackhole,
        1000,
        Some(2000),
    )];
    let out = run_in(p, dir.path()).await;
    let t = &out.summary.targets[0];
    // Every slot is a sample or counted unsent (a busy machine may miss
    // the last one before the end of traffic); every sample was answered.
    assert_eq!(
        t.requests + t.generator.not_sent,
        300,
        "no sample is missing"
    );
    assert_eq!(
        t.ok, t.requests,
        "held requests are answered after the stall"
    );
    let rows = timeline(dir.path());
    let second1 = rows
        .iter()
        .find(|r| r["second"] == "1" && r["target"] == "primary")
        .unwrap();
    assert_eq!(num(second1, "sent") + num(second1, "not_sent"), 100);
    let max_ms: f64 = second1["max_ms"].parse().unwrap();
    let p50_ms: f64 = second1["p50_ms"].parse().unwrap();
    assert!(
        max_ms >= 950.0,
        "first request of the stall waited ~1 s, max {max_ms}"
    );
    assert!(
        p50_ms >= 400.0,
        "half the second waited ≥ ~0.5 s, p50 {p50_ms}"
    );
}

/// What one sim fault did to the primary, with the instants it really
/// landed and the generator's worst send lag: on a busy machine a fault
/// step or a send may be late by more than a request interval, which moves
/// requests across the fault's edges.
struct During {
    failures: std::collections::BTreeMap<String, u64>,
    injected_ms: f64,
    restored_ms: f64,
    max_lag_ms: f64,
}

/// The 20 ms slots (50/s) intended in [from, to) ms.
fn slots_in(from_ms: f64, to_ms: f64) -> u64 {
    let first = (from_ms / 20.0).ceil().max(0.0);
    let end = (to_ms / 20.0).ceil().max(first);
    (end - first) as u64
}

impl During {
    /// Requests whose send fell in [from, to), give or take the slots the
    /// worst lag can move across an edge, plus one for a request in transit.
    #[track_caller]
    fn assert_about(&self, kinds: &[&str], from_ms: f64, to_ms: f64) {
        let count: u64 = kinds
            .iter()
            .map(|k| self.failures.get(*k).copied().unwrap_or(0))
            .sum();
        let nominal = slots_in(from_ms, to_ms);
        let slack = (self.max_lag_ms / 20.0).ceil() as u64 + 2;
        assert!(
            count + slack >= nominal && count <= nominal + slack,
            "{kinds:?}: {count}, expected {nominal} ± {slack} ({:?}, fault {} → {} ms, max lag {} ms)",
            self.failures,
            self.injected_ms,
            self.restored_ms,
            self.max_lag_ms
        );
    }
}

/// Runs one sim fault for the middle second of a 3 s run and returns what
/// it did to the primary (the secondary must stay clean).
async fn failures_during(fault: SimFault, timeout: Duration) -> During {
    let dir = tempfile::tempdir().unwrap();
    let mut p = plan(
        "fault",
        vec![
            sim_target("primary", Cluster::Primary),
            sim_target("secondary", Cluster::Secondary),
        ],
        rate(50.0),
        Duration::from_secs(3),
    );
    p.load.timeout = timeout;
    p.load.connect_timeout = timeout;
    p.faults = vec![sim_fault("f", Cluster::Primary, fault, 1000, Some(2000))];
    let out = run_in(p, dir.path()).await;
    let secondary = &out.summary.targets[1];
    assert_eq!(
        secondary.ok, secondary.requests,
        "{fault:?} leaked to the secondary"
    );
    let f = &out.summary.faults[0];
    assert_eq!(f.error, None);
    let primary = &out.summary.targets[0];
    During {
        failures: primary.failures.clone(),
        injected_ms: f.injected_at_ms.unwrap(),
        restored_ms: f.restored_at_ms.unwrap(),
        max_lag_ms: primary.generator.max_send_lag_us as f64 / 1000.0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sim_fault_yields_its_outcome_kind() {
    let two_s = Duration::from_secs(2);
    let down = failures_during(SimFault::Down, two_s).await;
    assert!(
        down.failures.keys().all(|k| k == "refused" || k == "reset"),
        "{:?}",
        down.failures
    );
    // Every request sent while it was down: 50 at 50/s for 1 s.
    down.assert_about(&["refused", "reset"], down.injected_ms, down.restored_ms);

    let http503 = failures_during(SimFault::Http503, two_s).await;
    assert_eq!(
        http503
            .failures
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        vec!["http_5xx"]
    );
    http503.assert_about(&["http_5xx"], http503.injected_ms, http503.restored_ms);

    let degraded = failures_during(SimFault::Degraded, two_s).await;
    assert_eq!(
        degraded
            .failures
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        vec!["degraded"]
    );

    let blackhole = failures_during(SimFault::Blackhole, Duration::from_millis(300)).await;
    assert_eq!(
        blackhole
            .failures
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        vec!["timeout"]
    );
    // Held from 1.0 s to 2.0 s with a 300 ms timeout: requests sent in
    // [1.0, 1.7) time out (35 at 50/s); later ones are answered after the lift.
    blackhole.assert_about(
        &["timeout"],
        blackhole.injected_ms,
        blackhole.restored_ms - 300.0,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latency_fault_shows_in_that_second_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = plan(
        "slow",
        vec![sim_target("primary", Cluster::Primary)],
        rate(50.0),
        Duration::from_secs(3),
    );
    p.faults = vec![sim_fault(
        "slow",
        Cluster::Primary,
        SimFault::Latency(Duration::from_millis(200)),
        950,
        Some(2050),
    )];
    let out = run_in(p, dir.path()).await;
    assert_eq!(out.summary.targets[0].ok, 150, "slow is not failed");
    let rows = timeline(dir.path());
    let p50 = |second: &str| -> f64 {
        let row = rows
            .iter()
            .find(|r| r["second"] == second && r["target"] == "primary")
            .unwrap();
        row["p50_ms"].parse().unwrap()
    };
    assert!(p50("1") >= 200.0, "second 1 p50 {}", p50("1"));
    // Outside the fault the median is not the fault's 200 ms (it is ~2 ms;
    // only a machine too busy to matter adds the rest).
    assert!(
        p50("0") < 200.0 && p50("2") < 200.0,
        "{} {}",
        p50("0"),
        p50("2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_down_from_the_start_is_measured_as_down() {
    // Bind then drop a listener: nothing listens on that port any more.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = plan(
        "dead",
        vec![http_target("dead", addr)],
        rate(20.0),
        Duration::from_secs(1),
    );
    let out = run_in(p, dir.path()).await;
    let t = &out.summary.targets[0];
    assert_eq!(t.requests, 20);
    assert_eq!(t.failures.get("refused"), Some(&20));
    assert_eq!(t.availability_pct, Some(0.0));
}
