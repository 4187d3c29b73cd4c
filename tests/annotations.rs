//! `run --grafana URL` (issue 16): the run's start, each fault's inject,
//! each fault's window (inject → recovery, with the RTO and availability)
//! and the run's end are posted to Grafana's annotations API. Grafana here
//! is an in-process HTTP server on 127.0.0.1:0 that records what it gets
//! and answers as told; a Grafana that fails (500) or is not there changes
//! neither the verdict nor the exit code.

mod tls_server;

use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use meshdrill::results::Results;
use serde_json::Value;
use tokio::net::TcpListener;

const SCENARIO: &str = r#"
name = "annotated"
[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 20
duration = "5s"
max_late_pct = 50
[recovery]
window = "1s"
[[fault]]
name = "primary-503"
target = "primary"
at = "1s"
sim = "http503"
restore_at = "2s"
"#;

/// What the fake Grafana received: method, path, Authorization, body.
#[derive(Clone, Debug)]
struct Received {
    method: String,
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Value,
}

/// A Grafana that answers every request with `status`.
async fn grafana(status: StatusCode) -> (String, Arc<Mutex<Vec<Received>>>) {
    grafana_over(status, None).await
}

/// The same over TLS when `tls` is given (its URL then `https://`).
async fn grafana_over(
    status: StatusCode,
    tls: Option<rustls::ServerConfig>,
) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}", listener.local_addr().unwrap());
    let acceptor = tls.map(|config| tokio_rustls::TlsAcceptor::from(Arc::new(config)));
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = received.clone();
    tokio::spawn(async move {
        let mut id = 0u64;
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            id += 1;
            let kept = kept.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let kept = kept.clone();
                    async move {
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .map(|v| v.to_str().unwrap().to_string())
                        };
                        let received = Received {
                            method: req.method().to_string(),
                            path: req.uri().path().to_string(),
                            authorization: header("authorization"),
                            content_type: header("content-type"),
                            body: Value::Null,
                        };
                        let bytes = req.into_body().collect().await.unwrap().to_bytes();
                        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                        kept.lock().unwrap().push(Received { body, ..received });
                        let answer = if status.is_success() {
                            format!("{{\"id\":{id},\"message\":\"Annotation added\"}}")
                        } else {
                            "{\"message\":\"Failed to save annotation\"}".to_string()
                        };
                        Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(answer)))
                    }
                });
                match acceptor {
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(stream).await else {
                            return;
                        };
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                    None => {
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            });
        }
    });
    (url, received)
}

async fn run(dir: &Path, url: &str) -> (std::process::Output, std::path::PathBuf) {
    run_trusting(dir, url, None).await
}

async fn run_trusting(
    dir: &Path,
    url: &str,
    roots: Option<&Path>,
) -> (std::process::Output, std::path::PathBuf) {
    run_scenario(dir, url, roots, SCENARIO).await
}

/// `roots`: the only CA file the run trusts (`SSL_CERT_FILE`).
async fn run_scenario(
    dir: &Path,
    url: &str,
    roots: Option<&Path>,
    scenario: &str,
) -> (std::process::Output, std::path::PathBuf) {
    let file = dir.join("annotated.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = dir.join("out");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshdrill"));
    if let Some(roots) = roots {
        command
            .env("SSL_CERT_FILE", roots)
            .env_remove("SSL_CERT_DIR");
    }
    let output = command
        .arg("run")
        .arg(&file)
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .arg("--grafana")
        .arg(url)
        .arg("--grafana-dashboard")
        .arg("drill-dash")
        .env("MESHDRILL_GRAFANA_TOKEN", "s3cret-token")
        .output()
        .await
        .unwrap();
    (output, out)
}

fn tags(body: &Value) -> Vec<&str> {
    body["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_its_fault_and_the_faults_window_are_annotated() {
    let (url, received) = grafana(StatusCode::OK).await;
    let dir = tempfile::tempdir().unwrap();
    let (output, out) = run(dir.path(), &url).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("not posted"), "{stderr}");

    let results = Results::load(&out).unwrap();
    let start = results.summary.start_unix_ms;
    let fault = &results.summary.faults[0];
    let injected = start + fault.injected_at_ms.unwrap().round() as u64;
    let outage = &results.summary.outages[0];
    let primary = outage.scopes.iter().find(|s| s.scope == "primary").unwrap();
    let rto = primary.report.rto_ms.expect("recovered within the run");
    let recovered = match outage
        .scopes
        .iter()
        .find(|s| s.scope == outage.faulted_scope.as_deref().unwrap_or("all"))
        .unwrap()
        .report
        .recovery
    {
        meshdrill::results::outage::Recovery::Recovered { at_ms } => start + at_ms,
        other => panic!("{other:?}"),
    };

    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 4, "{got:#?}");
    for r in &got {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/api/annotations");
        assert_eq!(r.authorization.as_deref(), Some("Bearer s3cret-token"));
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        assert_eq!(r.body["dashboardUID"], "drill-dash");
        assert!(r.body["text"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let bodies: Vec<&Value> = got.iter().map(|r| &r.body).collect();
    // Start, the inject as it happened, then at the end the window and the end.
    assert_eq!(bodies[0]["time"], start);
    assert!(bodies[0].get("timeEnd").is_none());
    assert_eq!(tags(bodies[0]), ["meshdrill", "annotated", "run"]);
    assert_eq!(bodies[1]["time"], injected);
    assert!(bodies[1].get("timeEnd").is_none());
    assert_eq!(
        tags(bodies[1]),
        ["meshdrill", "annotated", "primary-503", "inject"]
    );
    assert_eq!(bodies[2]["time"], injected);
    assert_eq!(bodies[2]["timeEnd"], recovered);
    assert_eq!(tags(bodies[2]), ["meshdrill", "annotated", "primary-503"]);
    let text = bodies[2]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("RTO primary {:.2} s", rto as f64 / 1000.0)),
        "{text}"
    );
    assert!(
        text.contains("availability during the fault primary "),
        "{text}"
    );
    assert_eq!(tags(bodies[3]), ["meshdrill", "annotated", "run"]);
    assert!(bodies[3]["time"].as_u64().unwrap() > injected);

    let log = results.annotations.expect("annotations.json");
    assert_eq!(log.url, format!("{url}/"));
    let whats: Vec<&str> = log.posts.iter().map(|p| p.what.as_str()).collect();
    assert_eq!(
        whats,
        [
            "run start",
            "inject primary-503",
            "fault primary-503",
            "run end"
        ]
    );
    for (post, body) in log.posts.iter().zip(&bodies) {
        assert!(post.ok, "{post:?}");
        assert_eq!(post.status, Some(200));
        assert_eq!(post.error, None);
        assert_eq!(post.time_ms, body["time"].as_u64().unwrap());
        assert_eq!(post.time_end_ms, body["timeEnd"].as_u64());
        assert_eq!(post.text, body["text"].as_str().unwrap());
    }
    let json = std::fs::read_to_string(out.join("annotations.json")).unwrap();
    assert!(!json.contains("s3cret"), "the token is never written");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains(&format!(
            "<p class=\"meta\" id=\"grafana-annotations\">Grafana annotations on {url}/: 4 of 4 posted</p>"
        )),
        "report.html has the posts' status line"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grafana_that_fails_or_is_not_there_changes_nothing_but_is_reported() {
    let (url, received) = grafana(StatusCode::INTERNAL_SERVER_ERROR).await;
    let dir = tempfile::tempdir().unwrap();
    let (output, out) = run(dir.path(), &url).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Grafana annotation \"run start\" not posted: HTTP 500"),
        "{stderr}"
    );
    assert_eq!(received.lock().unwrap().len(), 4);
    let results = Results::load(&out).unwrap();
    assert_eq!(results.summary.verdict.unwrap().status.word(), "NO SLO");
    let log = results.annotations.unwrap();
    assert_eq!(log.posts.len(), 4);
    for post in &log.posts {
        assert!(!post.ok);
        assert_eq!(post.status, Some(500));
        assert!(
            post.error
                .as_deref()
                .unwrap()
                .starts_with("HTTP 500: {\"message\":\"Failed to save annotation\"}"),
            "{post:?}"
        );
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains(
            "posted · <span class=\"fail\">4 failed; first: run start (HTTP 500: {&quot;message&quot;:&quot;Failed to save annotation&quot;}"
        ),
        "report.html names the failed posts"
    );
    assert!(
        html.contains(": 0 of 4 posted"),
        "report.html counts the posts"
    );

    // Nobody listening: refused, reported, exit code unchanged.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let (output, out) = run(dir.path(), &gone).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let log = Results::load(&out).unwrap().annotations.unwrap();
    assert_eq!(log.posts.len(), 4);
    for post in &log.posts {
        assert!(!post.ok && post.status.is_none(), "{post:?}");
        assert!(
            post.error
                .as_deref()
                .unwrap()
                .starts_with("cannot connect to 127.0.0.1:"),
            "{post:?}"
        );
    }
}

#[test]
fn a_grafana_url_that_is_not_http_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("annotated.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--grafana")
        .arg("ftp://127.0.0.1/")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "--grafana \"ftp://127.0.0.1/\" is not an http:// or https:// URL with a host"
        )
    );
    assert!(!dir.path().join("out").exists());

    // No token: said at once, then posted without Authorization.
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("run")
        .arg(&file)
        .arg("--check")
        .arg("--grafana")
        .arg("http://127.0.0.1:9/")
        .env_remove("MESHDRILL_GRAFANA_TOKEN")
        .output()
        .unwrap();
    assert_eq!(checked.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&checked.stderr).contains(
        "warning: MESHDRILL_GRAFANA_TOKEN is not set: annotations are posted without Authorization"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_grafana_is_posted_to_over_tls_and_an_untrusted_one_is_reported() {
    let ca = tls_server::TestCa::new("meshdrill grafana test CA");
    let config = ca.server_config(&["127.0.0.1"], &[b"http/1.1"]);
    let (url, received) = grafana_over(StatusCode::OK, Some(config)).await;
    let dir = tempfile::tempdir().unwrap();
    let roots = ca.write(dir.path(), "ca.pem");
    let (output, out) = run_trusting(dir.path(), &url, Some(&roots)).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(url.starts_with("https://127.0.0.1:"));
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 4, "{stderr}");
    assert_eq!(got[0].authorization.as_deref(), Some("Bearer s3cret-token"));
    let log = Results::load(&out).unwrap().annotations.unwrap();
    assert!(
        log.posts.iter().all(|p| p.ok && p.status == Some(200)),
        "{log:?}"
    );

    // Without the CA: the certificate is refused, nothing is posted.
    let other = tempfile::tempdir().unwrap();
    let stranger = tls_server::TestCa::new("another CA").write(other.path(), "ca.pem");
    let before = received.lock().unwrap().len();
    let (output, out) = run_trusting(other.path(), &url, Some(&stranger)).await;
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(received.lock().unwrap().len(), before);
    let log = Results::load(&out).unwrap().annotations.unwrap();
    for post in &log.posts {
        assert!(!post.ok && post.status.is_none(), "{post:?}");
        assert!(
            post.error
                .as_deref()
                .unwrap()
                .starts_with("TLS with 127.0.0.1:"),
            "{post:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_that_never_recovers_is_annotated_up_to_its_restores_end() {
    let (url, received) = grafana(StatusCode::OK).await;
    let dir = tempfile::tempdir().unwrap();
    // Restored only at the end of traffic: no good second after it.
    let scenario = SCENARIO.replace("restore_at = \"2s\"", "restore_at = \"5s\"");
    let (output, out) = run_scenario(dir.path(), &url, None, &scenario).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results = Results::load(&out).unwrap();
    let start = results.summary.start_unix_ms;
    let fault = &results.summary.faults[0];
    let scope = &results.summary.outages[0].scopes[0];
    assert!(
        matches!(
            scope.report.recovery,
            meshdrill::results::outage::Recovery::NotRecovered { .. }
        ),
        "{:?}",
        scope.report.recovery
    );
    let got = received.lock().unwrap().clone();
    let region = &got[2].body;
    assert_eq!(
        region["time"],
        start + fault.injected_at_ms.unwrap().round() as u64
    );
    assert_eq!(
        region["timeEnd"],
        start + fault.restore_done_ms.unwrap().round() as u64
    );
    let text = region["text"].as_str().unwrap();
    assert!(text.contains("RTO primary not recovered (> "), "{text}");
}
