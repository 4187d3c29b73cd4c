//! `[evidence]` end to end: the sim's gateways scraped by a real
//! Prometheus (Debian's `prometheus`) every second, a drill with a
//! primary-side 503 fault and a cross-cluster fault on the secondary, and
//! the mesh's view of it queried back after traffic: the primary's 503 UH
//! inside the fault window and none before it, cross-cluster requests
//! counted as such. And a Prometheus that is not there: recorded, reported,
//! the exit code untouched.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::prometheus::{free_port, get};
use common::{
    judged_unless_generator_limited, output_text, rate, run_quiet, sim_fault, sim_target,
};
use meshdrill::results::Results;
use meshdrill::results::evidence::{EvidenceRow, QueryStatus};
use meshdrill::run::{RunOptions, run_on};
use meshdrill::scenario::{EvidencePlan, default_queries};
use meshdrill::sim::{Cluster, METRICS_PATH, Sim, SimConfig, SimFault};
use tokio_util::sync::CancellationToken;

/// Waits (at most 30 s) until Prometheus has scraped every one of `n`
/// targets successfully, so the run's second 0 is already covered.
fn wait_until_up(web: SocketAddr, n: usize) {
    for _ in 0..150 {
        if let Some((_, body)) = get(web, "/api/v1/query?query=up%3D%3D1") {
            let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            if json["data"]["result"]
                .as_array()
                .is_some_and(|r| r.len() == n)
            {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("prometheus on {web} never scraped the {n} sim gateways");
}

/// The rows of `series` containing every one of `labels`.
fn of<'a>(rows: &'a [EvidenceRow], labels: &[&str]) -> Vec<&'a EvidenceRow> {
    rows.iter()
        .filter(|r| labels.iter().all(|l| r.series.contains(l)))
        .collect()
}

fn max_in(rows: &[&EvidenceRow], seconds: std::ops::Range<i64>) -> Option<f64> {
    rows.iter()
        .filter(|r| seconds.contains(&r.second))
        .map(|r| r.value)
        .reduce(f64::max)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_sees_the_primarys_uh_503s_inside_the_fault_window() {
    if !common::prometheus::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let sim = Sim::start(SimConfig::default(), any, any).await.unwrap();
    let gateways = [sim.addr(Cluster::Primary), sim.addr(Cluster::Secondary)];
    let tsdb = dir.path().to_path_buf();
    let prometheus = tokio::task::spawn_blocking(move || {
        let p = common::prometheus::start(&tsdb, &gateways, METRICS_PATH);
        wait_until_up(p.web, 2);
        p
    })
    .await
    .unwrap();
    let web = prometheus.web;

    let mut plan = common::plan(
        "evidence",
        vec![
            sim_target("primary", Cluster::Primary),
            sim_target("secondary", Cluster::Secondary),
        ],
        rate(20.0),
        Duration::from_secs(10),
    );
    plan.faults = vec![
        sim_fault(
            "primary-503",
            Cluster::Primary,
            SimFault::Http503,
            3_000,
            Some(6_000),
        ),
        sim_fault(
            "secondary-cross",
            Cluster::Secondary,
            SimFault::CrossCluster,
            3_000,
            Some(6_000),
        ),
    ];
    let base: hyper::Uri = format!("http://{web}").parse().unwrap();
    plan.evidence = Some(EvidencePlan {
        prometheus: base.clone(),
        queries: default_queries("3s"),
        timeout: Duration::from_secs(5),
    });
    let out = dir.path().join("out");
    let mut options = RunOptions::new(plan);
    options.out_dir = Some(out.clone());
    options.quiet = true;
    let output = run_on(options, &sim, CancellationToken::new())
        .await
        .expect("the run succeeds");

    // The scrapes were not Bookinfo traffic: the sim saw exactly the run's requests.
    let primary = output
        .summary
        .targets
        .iter()
        .find(|t| t.name == "primary")
        .unwrap();
    assert!(primary.requests > 0);
    assert_eq!(sim.stats(Cluster::Primary).requests, primary.requests);

    let results = Results::load(&out).unwrap();
    let evidence = results.evidence.expect("evidence.json read back");
    assert_eq!(evidence.prometheus, base.to_string());
    let names: Vec<&str> = evidence
        .queries
        .iter()
        .map(|q| q.record.name.as_str())
        .collect();
    assert_eq!(names, ["mesh-5xx", "mesh-requests"]);
    for q in &evidence.queries {
        let r = &q.record;
        assert_eq!(r.status, QueryStatus::Ok, "{r:?}");
        assert_eq!(r.error, None);
        assert!(r.series > 0, "{r:?}");
        assert_eq!(r.samples, q.rows.len() as u64);
        assert_eq!(r.step_s, 1);
        assert_eq!(r.start_unix_ms, output.summary.start_unix_ms);
        assert!(
            r.url
                .starts_with(&format!("http://{web}/api/v1/query_range?query=sum"))
        );
        assert!(out.join(format!("evidence/{}.csv", r.name)).is_file());
    }

    // The primary's gateway answered 503 UH during its fault, not before it.
    let fivexx = &evidence.queries[0].rows;
    let uh = of(
        fivexx,
        &[r#"destination_cluster="primary""#, r#"response_flags="UH""#],
    );
    assert!(!uh.is_empty(), "{fivexx:?}");
    let inside = max_in(&uh, 3..10).expect("samples inside the fault window");
    assert!(inside > 1.0, "{uh:?}");
    if let Some(before) = max_in(&uh, 0..3) {
        assert_eq!(before, 0.0, "{uh:?}");
    }
    // Nothing of the secondary's was a 5xx.
    let secondary = of(fivexx, &[r#"destination_cluster="secondary""#]);
    assert!(secondary.iter().all(|r| r.value == 0.0), "{secondary:?}");

    // Under cross-cluster, the secondary's productpage called the primary's reviews.
    let requests = &evidence.queries[1].rows;
    let cross = of(
        requests,
        &[
            r#"destination_cluster="primary""#,
            r#"source_cluster="secondary""#,
        ],
    );
    assert!(max_in(&cross, 3..10).is_some_and(|v| v > 1.0), "{cross:?}");
    if let Some(before) = max_in(&cross, 0..3) {
        assert_eq!(before, 0.0, "{cross:?}");
    }

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for expected in [
        "<h2>Mesh view (Prometheus)</h2>",
        "id=\"chart-mesh\"",
        "mesh view (Prometheus): mesh-5xx",
        "<td>mesh-requests</td>",
    ] {
        assert!(html.contains(expected), "{expected} not in report.html");
    }
    assert!(
        html.find("id=\"chart-availability\"") < html.find("id=\"mesh-view\""),
        "the mesh view is under the availability chart"
    );

    // A query Prometheus refuses keeps Prometheus's own words.
    let path = meshdrill::evidence::prometheus::range_path(&base, "sum(", 1.0, 2.0, 1);
    let refused =
        meshdrill::evidence::prometheus::query(&base, &path, 1.0, Duration::from_secs(5)).await;
    let error = refused.unwrap_err();
    assert!(error.starts_with("HTTP 400: bad_data:"), "{error}");
    drop(prometheus);
    sim.shutdown().await;
}

#[test]
fn an_unreachable_prometheus_is_recorded_and_changes_no_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let closed = free_port();
    let scenario = dir.path().join("evidence.toml");
    std::fs::write(
        &scenario,
        format!(
            "[[target]]\nname = \"primary\"\nurl = \"sim:primary\"\n\
             [load]\nrate = 10\nduration = \"2s\"\nmax_late_pct = 100\n\
             [slo]\nerror_rate_max = 50.0\n\
             [evidence]\nprometheus = \"http://{closed}\"\ntimeout = \"2s\"\n"
        ),
    )
    .unwrap();

    let check = std::process::Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .args(["run", "--check"])
        .arg(&scenario)
        .output()
        .unwrap();
    let text = output_text(&check);
    assert_eq!(check.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "evidence: 2 queries of http://{closed}/ after traffic"
        )),
        "{text}"
    );
    assert!(text.contains("  mesh-5xx: sum by (destination_cluster, response_code, response_flags) (rate(istio_requests_total{reporter=\"source\",response_code=~\"5..\"}[60s]))"), "{text}");

    let out = dir.path().join("out");
    let run = run_quiet(&scenario, &out);
    let text = output_text(&run);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    // Passed, as without [evidence] (or refused for a busy generator, never for Prometheus).
    judged_unless_generator_limited(run.status.code(), 0, &summary, &text);
    assert!(
        text.contains("evidence query \"mesh-5xx\" failed: cannot connect to 127.0.0.1"),
        "{text}"
    );
    let results = Results::load(&out).unwrap();
    let evidence = results.evidence.expect("evidence.json read back");
    assert_eq!(evidence.queries.len(), 2);
    for q in &evidence.queries {
        assert_eq!(q.record.status, QueryStatus::Error);
        assert_eq!(q.record.file, None);
        assert_eq!(q.record.series, 0);
        assert!(q.rows.is_empty());
        let error = q.record.error.as_deref().unwrap();
        assert!(error.starts_with("cannot connect to 127.0.0.1:"), "{error}");
    }
    assert!(!out.join("evidence/mesh-5xx.csv").exists());
    assert!(!out.join("mesh.svg").exists());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<h2>Mesh view (Prometheus)</h2>"));
    assert!(html.contains("<span class=\"fail\">error: cannot connect to 127.0.0.1:"));
    assert!(!html.contains("id=\"chart-mesh\""));
}
