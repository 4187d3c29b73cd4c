//! A cluster the page names ("on cluster <div>primary-cluster</div>") is a
//! cluster of that name everywhere, with no `[clusters]` table: in the
//! SLOs, in a timeline.csv column of its own, and in summary.json. Served
//! by an in-process HTTP server on 127.0.0.1:0 from a real Bookinfo page.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use meshdrill::run::{RunOptions, run};
use meshdrill::scenario::SloPlan;
use meshdrill::scenario::SloSpec;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use common::{http_target, num, plan, rate, timeline};

/// The manifest's page that names `primary-cluster` (reviews v3, ok).
fn fixture_page() -> Vec<u8> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/bookinfo"
    ));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let entry = manifest["fixtures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["cluster"] == "primary-cluster"
                && f["template"] == "current"
                && f["degraded"].as_array().is_some_and(|d| d.is_empty())
        })
        .expect("a fixture page naming primary-cluster");
    std::fs::read(dir.join(entry["file"].as_str().unwrap())).unwrap()
}

/// Serves `first` to the first `switch_after` requests, then `then`.
async fn serve(first: Vec<u8>, then: Vec<u8>, switch_after: u64) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let pages = Arc::new((Bytes::from(first), Bytes::from(then)));
    let served = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (pages, served) = (pages.clone(), served.clone());
            tokio::spawn(async move {
                let service = service_fn(move |_req| {
                    let n = served.fetch_add(1, Ordering::SeqCst);
                    let body = if n < switch_after {
                        pages.0.clone()
                    } else {
                        pages.1.clone()
                    };
                    async move {
                        Response::builder()
                            .status(StatusCode::OK)
                            .header("content-type", "text/html; charset=utf-8")
                            .body(Full::new(body))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// One lane, so requests reach the server in the order they were intended
/// and the page switch falls exactly between two seconds.
async fn run_one_lane(plan: meshdrill::scenario::Plan, dir: &std::path::Path) -> Value {
    let options = RunOptions {
        plan,
        out_dir: Some(dir.to_path_buf()),
        quiet: true,
        lanes_per_target: Some(1),
        markers: false,
        metrics: None,
        shard: meshdrill::engine::schedule::Shard::WHOLE,
        hooks_on: 0,
    };
    run(options, CancellationToken::new()).await.unwrap();
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_naming_primary_cluster_satisfies_slos_by_that_name() {
    let page = fixture_page();
    let addr = serve(page.clone(), page, u64::MAX).await;
    let mut plan = plan(
        "page-clusters",
        vec![http_target("primary", addr)],
        rate(20.0),
        Duration::from_secs(3),
    );
    plan.slo = SloPlan {
        all: Some(SloSpec {
            expect_clusters: names(&["primary-cluster"]),
            only_clusters: names(&["primary-cluster"]),
            ..SloSpec::default()
        }),
        targets: Vec::new(),
    };
    // About cluster names, not the generator: one late send of 60 (a busy
    // machine) must not make the run INVALID at the default 1 %.
    plan.load.max_late_pct = 20.0;
    let dir = tempfile::tempdir().unwrap();
    let summary = run_one_lane(plan, dir.path()).await;
    if summary["verdict"]["status"] == "invalid" {
        // Still possible when a slot went unsent on a very busy machine.
        let reasons = &summary["verdict"]["generator"]["invalid"];
        assert!(
            reasons.as_array().is_some_and(|r| !r.is_empty()),
            "INVALID without a generator reason: {}",
            summary["verdict"]
        );
        eprintln!("generator-limited on this machine: verdict checks skipped");
        return;
    }

    let criteria = summary["verdict"]["criteria"].as_array().unwrap();
    // The two SLOs, then the criterion every run has: the target answered.
    assert_eq!(criteria.len(), 3, "{criteria:#?}");
    assert_eq!(criteria[2]["name"], "answered");
    for c in criteria {
        assert_eq!(c["pass"], true, "{c:#?}");
    }
    assert_eq!(summary["verdict"]["status"], "pass");
    for scope in [&summary["all"], &summary["targets"][0]] {
        assert_eq!(scope["requests"], 60);
        assert_eq!(scope["ok"], 60);
        assert_eq!(
            scope["clusters"],
            serde_json::json!({"primary-cluster": 60})
        );
        assert_eq!(
            scope["ok_by_cluster"],
            serde_json::json!({"primary-cluster": 60})
        );
        assert_eq!(scope["other_clusters"], serde_json::json!({}));
    }

    let rows = timeline(dir.path());
    assert_eq!(rows.len(), 6, "3 seconds × (primary, all)");
    for row in &rows {
        assert_eq!(num(row, "cluster_primary-cluster"), 20, "{row:?}");
        assert_eq!(num(row, "cluster_other"), 0);
        assert_eq!(num(row, "cluster_unknown"), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_first_named_mid_run_gets_a_column_with_exact_counts() {
    let page = fixture_page();
    let text = String::from_utf8(page.clone()).unwrap();
    let marker = "on cluster <div>primary-cluster</div>";
    assert!(text.contains(marker));
    let dr = text.replace(marker, "on cluster <div>dr-cluster</div>");
    // 20/s: the first 40 requests are seconds 0 and 1, the rest 2 and 3.
    let addr = serve(page, dr.into_bytes(), 40).await;
    let plan = plan(
        "page-clusters-switch",
        vec![http_target("primary", addr)],
        rate(20.0),
        Duration::from_secs(4),
    );
    let dir = tempfile::tempdir().unwrap();
    let summary = run_one_lane(plan, dir.path()).await;

    let mut reader = csv::Reader::from_path(dir.path().join("timeline.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let clusters: Vec<&str> = header
        .iter()
        .filter(|h| h.starts_with("cluster_"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        clusters,
        [
            "cluster_primary-cluster",
            "cluster_dr-cluster",
            "cluster_other",
            "cluster_unknown"
        ]
    );
    let rows = timeline(dir.path());
    let got: Vec<(u64, String, u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                num(r, "second"),
                r["target"].clone(),
                num(r, "cluster_primary-cluster"),
                num(r, "cluster_dr-cluster"),
            )
        })
        .collect();
    let mut expected = Vec::new();
    for (second, (primary, dr)) in [(20, 0), (20, 0), (0, 20), (0, 20)].into_iter().enumerate() {
        for target in ["primary", "all"] {
            expected.push((second as u64, target.to_string(), primary, dr));
        }
    }
    assert_eq!(got, expected);
    for row in &rows {
        assert_eq!(num(row, "sent"), 20);
        assert_eq!(num(row, "cluster_other"), 0);
        // Slot i is intended at i × 50 ms: each second's first page is at
        // its start, from the cluster that served that second.
        let start = (num(row, "second") * 1000).to_string();
        let (primary, dr) = if num(row, "second") < 2 {
            (start.as_str(), "")
        } else {
            ("", start.as_str())
        };
        assert_eq!(row["first_ms_cluster_primary-cluster"], primary, "{row:?}");
        assert_eq!(row["first_ms_cluster_dr-cluster"], dr, "{row:?}");
        assert_eq!(row["first_ms_cluster_other"], "");
    }
    assert!(
        !dir.path().join(".timeline.csv.tmp").exists(),
        "the rewrite's temporary file is renamed away"
    );
    assert_eq!(
        summary["all"]["ok_by_cluster"],
        serde_json::json!({"primary-cluster": 40, "dr-cluster": 40})
    );
}

fn check(scenario: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drill.toml");
    std::fs::write(&path, scenario).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .args(["run", path.to_str().unwrap(), "--check"])
        .output()
        .unwrap()
}

#[test]
fn check_warns_when_an_slo_names_a_cluster_no_sim_page_can_show() {
    let sim_only = r#"
[[target]]
name = "primary"
url = "sim:primary"

[load]
rate = 10
duration = "2s"

[slo]
expect_clusters = ["primary", "primary-cluster"]

[slo.target.primary]
only_clusters = ["east"]

[clusters]
west = ["reviews-v1-*"]
"#;
    let out = check(sim_only);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 2, "{stderr}");
    assert!(
        warnings[0].contains(r#"for all names cluster "primary-cluster""#),
        "{stderr}"
    );
    assert!(
        warnings[1].contains(r#"for primary names cluster "east""#),
        "{stderr}"
    );

    // Pages of a real target may name any cluster: nothing to warn about.
    let real = sim_only.replace("sim:primary", "http://127.0.0.1:9/productpage");
    let out = check(&real);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
}
