//! TLS against in-process rustls servers on 127.0.0.1:0 with a test CA
//! made by rcgen: the SNI sent while dialing a pinned IP, certificate
//! failures as `tls_cert`, `insecure = true`, and bad CA files named at
//! start.

mod common;
mod tls_server;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper::Version;
use meshdrill::run::{RunError, RunOptions, run};
use meshdrill::scenario::{
    ClientCert, ConnectionPolicy, Endpoint, HttpEndpoint, HttpVersion, TargetPlan, TlsPlan,
    Transport,
};
use tokio_util::sync::CancellationToken;

use common::{plan, rate, run_in};
use tls_server::{Behaviour, TestCa, serve};

const HOST: &str = "bookinfo.example.com";

/// `https://bookinfo.example.com/productpage` dialed at `addr` (connect).
fn https_target(addr: SocketAddr, tls: TlsPlan, http: Option<HttpVersion>) -> TargetPlan {
    TargetPlan {
        name: "primary".into(),
        endpoint: Endpoint::Http(HttpEndpoint {
            url: format!("https://{HOST}/productpage").parse().unwrap(),
            host_header: HOST.into(),
            connect: Some(addr),
        }),
        connection: ConnectionPolicy::KeepAlive,
        follow_redirects: Default::default(),
        transport: Transport {
            tls,
            http,
            ..Transport::default()
        },
        max_connection_age: None,
    }
}

fn summary_target(dir: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    summary["targets"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_sees_the_hosts_sni_while_an_ip_is_dialed() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("meshdrill test CA");
    let config = ca.server_config(&[HOST], &[b"http/1.1"]);
    let (addr, seen) = serve(Some(config), Behaviour::answering(Version::HTTP_11)).await;
    let tls = TlsPlan {
        ca: Some(ca.write(dir.path(), "ca.pem")),
        ..TlsPlan::default()
    };
    let target = https_target(addr, tls, None);
    let p = plan("tls-sni", vec![target], rate(20.0), Duration::from_secs(1));
    let out = dir.path().join("out");
    let output = run_in(p, &out).await;
    let t = &output.summary.targets[0];
    assert!(t.requests > 0);
    assert_eq!(t.ok, t.requests, "{:?}", t.outcomes);
    let snis = seen.snis.lock().unwrap().clone();
    assert!(!snis.is_empty());
    assert!(snis.iter().all(|s| s.as_deref() == Some(HOST)), "{snis:?}");
    assert_eq!(seen.failed_handshakes.load(Ordering::Relaxed), 0);
    // ALPN offered h2 and http/1.1 (https defaults to auto); this server
    // speaks only http/1.1, and every response says so.
    let json = summary_target(&out);
    assert_eq!(json["transport"]["http"], "auto");
    assert_eq!(json["transport"]["tls"]["sni"], HOST);
    assert_eq!(json["transport"]["tls"]["insecure"], false);
    assert_eq!(json["http_versions"]["1.1"], t.requests + t.warmup_requests);
    let handshakes = &json["tls_handshake_ms"];
    assert!(handshakes["count"].as_u64().unwrap() >= 1, "{handshakes}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_sni_is_sent_instead_of_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("meshdrill test CA");
    let config = ca.server_config(&["reviews.internal"], &[b"http/1.1"]);
    let (addr, seen) = serve(Some(config), Behaviour::answering(Version::HTTP_11)).await;
    let tls = TlsPlan {
        ca: Some(ca.write(dir.path(), "ca.pem")),
        sni: Some("reviews.internal".into()),
        ..TlsPlan::default()
    };
    let p = plan(
        "tls-sni-set",
        vec![https_target(addr, tls, Some(HttpVersion::H1))],
        rate(10.0),
        Duration::from_secs(1),
    );
    let output = run_in(p, &dir.path().join("out")).await;
    let t = &output.summary.targets[0];
    assert_eq!(t.ok, t.requests, "{:?}", t.outcomes);
    let snis = seen.snis.lock().unwrap().clone();
    assert!(
        !snis.is_empty()
            && snis
                .iter()
                .all(|s| s.as_deref() == Some("reviews.internal")),
        "{snis:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_another_ca_is_tls_cert_for_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = TestCa::new("the server's CA");
    let other_ca = TestCa::new("another CA");
    let config = server_ca.server_config(&[HOST], &[b"http/1.1"]);
    let (addr, seen) = serve(Some(config), Behaviour::answering(Version::HTTP_11)).await;
    let tls = TlsPlan {
        ca: Some(other_ca.write(dir.path(), "other-ca.pem")),
        ..TlsPlan::default()
    };
    let p = plan(
        "tls-wrong-ca",
        vec![https_target(addr, tls, None)],
        rate(20.0),
        Duration::from_secs(1),
    );
    let output = run_in(p, &dir.path().join("out")).await;
    let t = &output.summary.targets[0];
    assert!(t.requests > 0);
    assert_eq!(t.outcomes["tls_cert"], t.requests, "{:?}", t.outcomes);
    assert_eq!(seen.answered.load(Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_is_tls_cert() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("meshdrill test CA");
    let config = ca.server_config(&["other.example.com"], &[b"http/1.1"]);
    let (addr, _seen) = serve(Some(config), Behaviour::answering(Version::HTTP_11)).await;
    let tls = TlsPlan {
        ca: Some(ca.write(dir.path(), "ca.pem")),
        ..TlsPlan::default()
    };
    let p = plan(
        "tls-wrong-name",
        vec![https_target(addr, tls, None)],
        rate(10.0),
        Duration::from_secs(1),
    );
    let output = run_in(p, &dir.path().join("out")).await;
    let t = &output.summary.targets[0];
    assert!(t.requests > 0);
    assert_eq!(t.outcomes["tls_cert"], t.requests, "{:?}", t.outcomes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_accepts_a_self_signed_server_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("nobody trusts this");
    let config = ca.server_config(&[HOST], &[b"h2", b"http/1.1"]);
    let (addr, _seen) = serve(Some(config), Behaviour::answering(Version::HTTP_2)).await;
    let tls = TlsPlan {
        insecure: true,
        ..TlsPlan::default()
    };
    let p = plan(
        "tls-insecure",
        vec![https_target(addr, tls, None)],
        rate(10.0),
        Duration::from_secs(1),
    );
    let out = dir.path().join("out");
    let output = run_in(p, &out).await;
    let t = &output.summary.targets[0];
    assert!(t.requests > 0);
    assert_eq!(t.ok, t.requests, "{:?}", t.outcomes);
    let json = summary_target(&out);
    assert_eq!(json["transport"]["tls"]["insecure"], true, "{json}");
    let planned: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(planned["targets"][0]["transport"]["tls"]["insecure"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_is_presented_for_mutual_tls_and_its_absence_is_tls_cert() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("meshdrill test CA");
    let clients = TestCa::new("client CA");
    let (cert, key) = clients.write_client(dir.path());
    let ca_path = ca.write(dir.path(), "ca.pem");
    let config = ca.server_config_mtls(&[HOST], &clients, false);
    let (addr, seen) = serve(Some(config), Behaviour::answering(Version::HTTP_11)).await;
    let with_cert = TlsPlan {
        ca: Some(ca_path.clone()),
        client_cert: Some(ClientCert { cert, key }),
        ..TlsPlan::default()
    };
    let out = dir.path().join("out");
    let p = plan(
        "mtls",
        vec![https_target(addr, with_cert, None)],
        rate(10.0),
        Duration::from_secs(1),
    );
    let output = run_in(p, &out).await;
    let t = &output.summary.targets[0];
    assert!(t.requests > 0);
    assert_eq!(t.ok, t.requests, "{:?}", t.outcomes);
    assert_eq!(
        summary_target(&out)["transport"]["tls"]["client_cert"],
        true
    );
    assert_eq!(seen.answered.load(Ordering::Relaxed), t.requests);
    // Over TLS 1.2 the server refuses the missing certificate in the
    // handshake itself, so every request reads it.
    let config = ca.server_config_mtls(&[HOST], &clients, true);
    let (addr, seen) = serve(Some(config), Behaviour::answering(Version::HTTP_11)).await;
    let without = TlsPlan {
        ca: Some(ca_path),
        ..TlsPlan::default()
    };
    let p = plan(
        "mtls-none",
        vec![https_target(addr, without, None)],
        rate(10.0),
        Duration::from_secs(1),
    );
    let output = run_in(p, &dir.path().join("out2")).await;
    let t = &output.summary.targets[0];
    assert!(t.requests > 0);
    assert_eq!(t.outcomes["tls_cert"], t.requests, "{:?}", t.outcomes);
    assert_eq!(seen.answered.load(Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_file_that_is_not_pem_is_named_before_any_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not-a-ca.pem");
    std::fs::write(&bad, "hello\n").unwrap();
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let tls = TlsPlan {
        ca: Some(bad.clone()),
        ..TlsPlan::default()
    };
    let p = plan(
        "tls-bad-ca",
        vec![https_target(addr, tls, None)],
        rate(10.0),
        Duration::from_secs(1),
    );
    let options = RunOptions {
        plan: p,
        out_dir: Some(dir.path().join("out")),
        quiet: true,
        lanes_per_target: None,
        markers: false,
        metrics: None,
        shard: meshdrill::engine::schedule::Shard::WHOLE,
        hooks_on: 0,
    };
    let err = run(options, CancellationToken::new()).await.err().unwrap();
    assert!(matches!(err, RunError::TlsFile { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains(&bad.display().to_string()) && message.contains("ca"),
        "{message}"
    );
}

#[test]
fn run_check_reads_the_tls_files_and_names_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "[[target]]\nname = \"a\"\nurl = \"https://bookinfo.example.com/\"\nconnect = \"127.0.0.1:9\"\nca = \"missing-ca.pem\"\n[load]\nrate = 1\nduration = \"1s\"\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .args(["run", "--check", "--out"])
        .arg(dir.path().join("out"))
        .arg(&scenario)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let missing = dir.path().join("missing-ca.pem");
    assert!(
        stderr.contains(&format!("target a: ca {}:", missing.display())),
        "{stderr}"
    );
}

/// `connection = "new"`: one handshake per request, over HTTP/1.1 and h2
/// alike, each timed in `tls_handshake_ms`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_connection_per_request_times_a_handshake_per_request() {
    for (alpn, version) in [
        (&b"http/1.1"[..], Version::HTTP_11),
        (&b"h2"[..], Version::HTTP_2),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new("meshdrill test CA");
        let config = ca.server_config(&[HOST], &[alpn]);
        let (addr, seen) = serve(Some(config), Behaviour::answering(version)).await;
        let tls = TlsPlan {
            ca: Some(ca.write(dir.path(), "ca.pem")),
            ..TlsPlan::default()
        };
        let mut target = https_target(addr, tls, None);
        target.connection = ConnectionPolicy::New;
        let out = dir.path().join("out");
        let p = plan("tls-new", vec![target], rate(10.0), Duration::from_secs(1));
        let output = run_in(p, &out).await;
        let t = &output.summary.targets[0];
        assert!(t.requests > 0);
        assert_eq!(t.ok, t.requests, "{:?}", t.outcomes);
        assert_eq!(seen.connections.load(Ordering::Relaxed), t.requests);
        let json = summary_target(&out);
        assert_eq!(json["tls_handshake_ms"]["count"], t.requests, "{json}");
        let key = if version == Version::HTTP_2 {
            "2"
        } else {
            "1.1"
        };
        assert_eq!(json["http_versions"][key], t.requests, "{json}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_is_warned_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("nobody trusts this");
    let config = ca.server_config(&[HOST], &[b"http/1.1"]);
    let (addr, _seen) = serve(Some(config), Behaviour::answering(Version::HTTP_11)).await;
    let scenario = dir.path().join("insecure.toml");
    std::fs::write(
        &scenario,
        format!(
            "[[target]]\nname = \"a\"\nurl = \"https://{HOST}/productpage\"\nconnect = \"{addr}\"\ninsecure = true\n[load]\nrate = 5\nduration = \"1s\"\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = tokio::task::spawn_blocking(move || common::run_quiet(&scenario, &out))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "meshdrill: warning: target a: insecure = true: the server's certificate is NOT verified"
        ),
        "{stderr}"
    );
}
