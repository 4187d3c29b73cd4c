//! The files a run writes parse back with standard readers and agree with
//! each other: timeline sums = summary totals, histogram counts = requests.

mod common;

use std::collections::HashMap;
use std::io::Cursor;
use std::time::Duration;

use base64::Engine;
use common::*;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use meshdrill::outcome::Kind;
use meshdrill::sim::{Cluster, SimFault};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_parse_back_and_agree() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = plan(
        "outputs",
        vec![
            sim_target("primary", Cluster::Primary),
            sim_target("secondary", Cluster::Secondary),
        ],
        rate(100.0),
        Duration::from_secs(4),
    );
    p.load.warmup = Duration::from_secs(1);
    p.faults = vec![sim_fault(
        "down",
        Cluster::Primary,
        SimFault::Down,
        1950,
        Some(3050),
    )];
    let (rule, slo) = (p.recovery, p.slo.clone());
    let out = run_in(p, dir.path()).await;
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();

    // timeline.csv: 5 seconds (1 warmup + 4), 2 targets + all each.
    let rows = timeline(dir.path());
    assert_eq!(rows.len(), 5 * 3);
    assert_eq!(summary["seconds"], 5);
    let measured: Vec<&HashMap<String, String>> =
        rows.iter().filter(|r| r["phase"] == "measure").collect();
    assert_eq!(measured.len(), 4 * 3);
    for (i, target) in ["primary", "secondary"].iter().enumerate() {
        let t = &summary["targets"][i];
        assert_eq!(t["name"], *target);
        let mine: Vec<_> = measured.iter().filter(|r| r["target"] == *target).collect();
        let sum = |c: &str| mine.iter().map(|r| num(r, c)).sum::<u64>();
        assert_eq!(
            sum("sent"),
            t["requests"].as_u64().unwrap(),
            "{target} sent"
        );
        assert_eq!(sum("ok"), t["ok"].as_u64().unwrap(), "{target} ok");
        assert_eq!(
            sum("failed"),
            t["failed"].as_u64().unwrap(),
            "{target} failed"
        );
        for k in Kind::ALL {
            assert_eq!(
                sum(k.name()),
                t["outcomes"][k.name()].as_u64().unwrap(),
                "{target} {}",
                k.name()
            );
        }
        assert_eq!(t["requests"], 400);
        assert_eq!(t["warmup_requests"], 100);
        // Every row's kinds add up to its `sent`.
        for r in &mine {
            let kinds: u64 = Kind::ALL.iter().map(|k| num(r, k.name())).sum();
            assert_eq!(kinds, num(r, "sent"));
        }
    }
    // The primary was down from 1.95 s to 3.05 s: all of second 2, unless
    // this machine was so busy that a fault step or the sends were more
    // than 50 ms late (then it was still down for part of it).
    let primary = |second: &str| {
        rows.iter()
            .find(|r| r["target"] == "primary" && r["second"] == second)
            .unwrap()
    };
    let f = &out.summary.faults[0];
    let (injected, inject_done) = (f.injected_at_ms.unwrap(), f.inject_done_ms.unwrap());
    let (restored, restore_done) = (f.restored_at_ms.unwrap(), f.restore_done_ms.unwrap());
    let lag = out.summary.targets[0].generator.max_send_lag_us as f64 / 1000.0;
    if inject_done <= 2000.0 && restored >= 3000.0 + lag {
        assert_eq!(primary("2")["availability_pct"], "0.00");
    } else {
        assert_ne!(primary("2")["availability_pct"], "100.00");
    }
    assert_eq!(primary("0")["availability_pct"], "100.00");
    assert_eq!(primary("4")["availability_pct"], "100.00");
    assert_eq!(primary("0")["phase"], "warmup");
    // The outage's edges, to the request (10 ms apart at 100/s): down at
    // 1950 ms, back at 3050 ms, as the fault steps really landed. A request
    // intended up to the worst send lag before a step may be sent after it;
    // the first one intended after a step is surely on its side.
    let ms = |second: &str, column: &str| num(primary(second), column) as f64;
    let first = ms("1", "first_failure_ms");
    assert!(
        first >= injected - lag - 10.0 && first <= inject_done + 10.0,
        "first failure {first} ms, fault {injected}..{inject_done} ms, lag {lag} ms"
    );
    assert_eq!(primary("0")["first_failure_ms"], "");
    let last = ms("3", "last_failure_ms");
    assert!(
        last >= restored - lag - 10.0 && last <= restore_done + 10.0,
        "last failure {last} ms, restore {restored}..{restore_done} ms, lag {lag} ms"
    );
    let back = ms("3", "first_success_after_last_failure_ms");
    assert_eq!(
        back,
        last + 10.0,
        "the next request after the last failure succeeded"
    );
    // The all row is the sum of the targets.
    for second in 0..5 {
        let s = second.to_string();
        let of = |t: &str| {
            rows.iter()
                .find(|r| r["target"] == t && r["second"] == s)
                .unwrap()
        };
        assert_eq!(
            num(of("all"), "sent"),
            num(of("primary"), "sent") + num(of("secondary"), "sent")
        );
    }
    assert_eq!(out.summary.all.requests, 800);

    // latency.hlog: one interval per second per target; counts = timeline sent.
    let log = std::fs::read(dir.path().join("latency.hlog")).unwrap();
    let mut counts: HashMap<(String, u64), u64> = HashMap::new();
    let mut deserializer = Deserializer::new();
    for entry in IntervalLogIterator::new(&log) {
        if let LogEntry::Interval(interval) = entry.expect("valid log entry") {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(interval.encoded_histogram())
                .unwrap();
            let h: hdrhistogram::Histogram<u64> =
                deserializer.deserialize(&mut Cursor::new(bytes)).unwrap();
            let tag = interval.tag().unwrap().as_str().to_string();
            counts.insert((tag, interval.start_timestamp().as_secs()), h.len());
        }
    }
    assert_eq!(counts.len(), 5 * 2);
    for r in rows.iter().filter(|r| r["target"] != "all") {
        let key = (r["target"].clone(), num(r, "second"));
        assert_eq!(counts[&key], num(r, "sent"), "{key:?}");
    }
    // latency-ok.hlog: the same intervals, successes alone: counts = ok.
    let ok_log = meshdrill::results::hlog::read(&dir.path().join("latency-ok.hlog")).unwrap();
    let mut ok_p50: HashMap<(String, u64), Option<f64>> = HashMap::new();
    for i in &ok_log.intervals {
        let key = (i.tag.clone(), u64::from(i.second));
        let r = rows
            .iter()
            .find(|r| r["target"] == key.0 && num(r, "second") == key.1)
            .unwrap();
        let h = i.histogram();
        assert_eq!(h.len(), num(r, "ok"), "{key:?}");
        let p50 = (!h.is_empty()).then(|| h.value_at_quantile(0.5) as f64 / 1000.0);
        ok_p50.insert(key, p50);
    }
    assert_eq!(ok_p50.len(), 5 * 2);

    // The charts' data: successes' latency from latency-ok.hlog, failures'
    // as the rest; the clusters chart's failed band is the timeline's failed.
    let results = meshdrill::results::Results::load(dir.path()).unwrap();
    assert!(results.hlog_ok.is_some());
    let assessment = meshdrill::assess::assess(&results, &rule, &slo);
    let data = meshdrill::report::charts::ChartData::read(&results, &assessment);
    let layers = meshdrill::report::charts::cluster_layers(&data.clusters);
    let failed_band = layers
        .iter()
        .find(|l| l.name == meshdrill::report::charts::FAILED_BAND)
        .unwrap();
    let mut refused_seconds = 0;
    for series in &data.scopes {
        for row in &series.rows {
            let r = rows
                .iter()
                .find(|r| r["target"] == series.scope && num(r, "second") == u64::from(row.second))
                .unwrap();
            let key = (series.scope.clone(), u64::from(row.second));
            assert_eq!(row.failed, num(r, "failed"), "{key:?}");
            assert_eq!(num(r, "degraded"), 0, "{key:?}");
            assert_eq!((failed_band.value)(row), num(r, "failed") as f64, "{key:?}");
            if series.scope != "all" {
                assert_eq!(row.ok_latency.map(|l| l.p50), ok_p50[&key], "{key:?}");
            }
            assert_eq!(row.ok_latency.is_some(), num(r, "ok") > 0, "{key:?}");
            assert_eq!(
                row.failed_latency.is_some(),
                num(r, "failed") > 0,
                "{key:?}"
            );
            if num(r, "ok") == 0 && num(r, "failed") > 0 {
                // Nothing succeeded: the failures are every request, so their
                // p50 is the timeline's (mixed) p50, and no success line is drawn.
                let mixed: f64 = r["p50_ms"].parse().unwrap();
                assert_eq!(row.failed_latency.unwrap().p50, mixed, "{key:?}");
                refused_seconds += 1;
            }
        }
    }
    // Second 2 lies wholly in the outage (1.95 s to 3.05 s): primary and
    // ... not `all`, which the secondary keeps answering.
    assert_eq!(refused_seconds, 1);

    // The .hgrm total is the measured request count.
    let hgrm = std::fs::read_to_string(dir.path().join("latency-primary.hgrm")).unwrap();
    assert!(hgrm.contains("Total count    =          400]"), "{hgrm}");
    assert!(dir.path().join("latency-all.hgrm").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_answered_is_recorded_per_second_and_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = plan(
        "who",
        vec![
            sim_target("primary", Cluster::Primary),
            sim_target("secondary", Cluster::Secondary),
        ],
        rate(100.0),
        Duration::from_secs(4),
    );
    // Second 1 of the primary: its ingress answered by the secondary's pods;
    // second 2 of the secondary: reviews unavailable.
    p.faults = vec![
        sim_fault(
            "east-west",
            Cluster::Primary,
            SimFault::CrossCluster,
            950,
            Some(2050),
        ),
        sim_fault(
            "reviews",
            Cluster::Secondary,
            SimFault::Degraded,
            1950,
            Some(3050),
        ),
    ];
    let out = run_in(p, dir.path()).await;
    // Which requests a fault step reached depends on when the step really
    // ran and how late the sends were: bounds from the recorded instants,
    // not fixed counts a loaded machine can break. A 100/s slot i (ms) was
    // surely reached when sent after the step finished (i ≥ done), and
    // surely not when it was answered before the step began
    // (i + worst lag + ε < started; ε covers the simulator's 2 ms latency).
    let lag = out
        .summary
        .targets
        .iter()
        .map(|t| t.generator.max_send_lag_us)
        .max()
        .unwrap() as f64
        / 1000.0;
    let eps = 10.0;
    let slots = |from: f64, to: f64| {
        (0..6000u64)
            .filter(|i| (*i * 10) as f64 >= from && ((*i * 10) as f64) < to)
            .count() as u64
    };
    let step = |f: usize| {
        let r = &out.summary.faults[f];
        (
            r.injected_at_ms.unwrap(),
            r.inject_done_ms.unwrap(),
            r.restored_at_ms.unwrap(),
            r.restore_done_ms.unwrap(),
        )
    };
    // Requests of [from, to) that a fault covering them reached, at least and at most.
    let reached = |f: usize, from: f64, to: f64| {
        let (injected, injected_done, restored, restored_done) = step(f);
        (
            slots(injected_done.max(from), (restored - lag - eps).min(to)),
            slots((injected - lag - eps).max(from), restored_done.min(to)),
        )
    };
    let within = |n: u64, (lo, hi): (u64, u64), what: &str| {
        assert!(
            lo <= n && n <= hi,
            "{what}: {n} not in {lo}..={hi} (lag {lag} ms)"
        );
    };
    let rows = timeline(dir.path());
    let row = |second: &str, target: &str| {
        rows.iter()
            .find(|r| r["second"] == second && r["target"] == target)
            .unwrap()
    };
    // Mix 50/30/20 over every 100 consecutive requests of a cluster: second
    // 3 of the primary is all primary-cluster pages.
    let mix = |r: &std::collections::HashMap<String, String>| {
        (
            num(r, "reviews_v1"),
            num(r, "reviews_v2"),
            num(r, "reviews_v3"),
        )
    };
    assert_eq!(mix(row("3", "primary")), (50, 30, 20));
    assert_eq!(num(row("3", "primary"), "cluster_primary"), 100);
    // Cross-cluster from 950 ms to 2050 ms (fault steps land within a
    // timer tick, so the edge requests may go either way).
    let crossed = num(row("0", "primary"), "cluster_secondary");
    within(crossed, reached(0, 0.0, 1000.0), "second 0 crossed");
    assert_eq!(num(row("0", "primary"), "cluster_primary") + crossed, 100);
    assert_eq!(
        num(row("1", "primary"), "cluster_secondary"),
        100,
        "cross-cluster second"
    );
    assert_eq!(num(row("1", "primary"), "cluster_primary"), 0);
    assert_eq!(num(row("2", "secondary"), "degraded_reviews"), 100);
    assert_eq!(num(row("2", "secondary"), "degraded"), 100);
    assert_eq!(
        num(row("2", "secondary"), "reviews_unknown"),
        100,
        "no version when reviews are down"
    );
    // Second 1 of all: every page from the secondary's pods, but for the
    // degraded pages from 1950 ms, which name no pod or cluster.
    let all1 = row("1", "all");
    assert_eq!(
        num(all1, "cluster_secondary") + num(all1, "cluster_unknown"),
        200
    );
    within(
        num(all1, "cluster_unknown"),
        reached(1, 1000.0, 2000.0),
        "second 1 degraded",
    );
    assert_eq!(num(all1, "cluster_primary") + num(all1, "cluster_other"), 0);

    let primary = &out.summary.targets[0];
    assert_eq!(primary.versions.values().sum::<u64>(), 400);
    let (on_primary, on_secondary) = (primary.clusters["primary"], primary.clusters["secondary"]);
    assert_eq!(on_primary + on_secondary, 400);
    within(on_secondary, reached(0, 0.0, 4000.0), "pages crossed");
    assert_eq!(primary.ok_by_version.values().sum::<u64>(), 400);
    // Six pods: three per cluster, each named as the simulator names it.
    assert_eq!(primary.pods.len(), 6, "{:?}", primary.pods);
    assert_eq!(primary.pods.values().sum::<u64>(), 400);
    let v1_here = primary.pods[meshdrill::sim::pod_name(Cluster::Primary, 1)];
    // 50 % v1 over every 100 consecutive pages of a cluster.
    assert!(
        v1_here.abs_diff(on_primary / 2) <= 5,
        "{v1_here} v1 of {on_primary}"
    );
    let secondary = &out.summary.targets[1];
    let degraded = secondary.degraded["reviews"];
    within(degraded, reached(1, 0.0, 4000.0), "degraded pages");
    assert_eq!(secondary.ok + degraded, 400);
    assert_eq!(
        out.summary.all.pods.values().sum::<u64>() + degraded,
        800,
        "degraded pages name no pod"
    );
}
