//! HTTP/2 against in-process hyper servers on 127.0.0.1:0: h2 chosen by
//! ALPN over TLS, h2 only, h2c prior knowledge (the server answers 505 to
//! any request of another version), several h2 connections per target,
//! and a peer that stops answering mid-run (timeouts, a new connection,
//! and the run ends on time).

mod common;
mod tls_server;

use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper::Version;
use meshdrill::scenario::{
    ConnectionPolicy, Endpoint, HttpEndpoint, HttpVersion, TargetPlan, TlsPlan, Transport,
};

use common::{plan, rate, run_in};
use tls_server::{Behaviour, TestCa, serve};

const HOST: &str = "bookinfo.example.com";

fn target(url: &str, connect: SocketAddr, transport: Transport) -> TargetPlan {
    let url: hyper::Uri = url.parse().unwrap();
    TargetPlan {
        name: "primary".into(),
        endpoint: Endpoint::Http(HttpEndpoint {
            host_header: url.authority().unwrap().to_string(),
            url,
            connect: Some(connect),
        }),
        connection: ConnectionPolicy::KeepAlive,
        follow_redirects: Default::default(),
        transport,
        max_connection_age: None,
    }
}

fn tls_transport(dir: &std::path::Path, ca: &TestCa, http: Option<HttpVersion>) -> Transport {
    Transport {
        tls: TlsPlan {
            ca: Some(ca.write(dir, "ca.pem")),
            ..TlsPlan::default()
        },
        http,
        ..Transport::default()
    }
}

fn summary(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alpn_chooses_h2_over_tls_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("meshdrill test CA");
    let config = ca.server_config(&[HOST], &[b"h2", b"http/1.1"]);
    let (addr, seen) = serve(Some(config), Behaviour::answering(Version::HTTP_2)).await;
    let t = target(
        &format!("https://{HOST}/productpage"),
        addr,
        tls_transport(dir.path(), &ca, None),
    );
    let out = dir.path().join("out");
    let output = run_in(
        plan("h2-alpn", vec![t], rate(20.0), Duration::from_secs(1)),
        &out,
    )
    .await;
    let s = &output.summary.targets[0];
    assert!(s.requests > 0);
    assert_eq!(s.ok, s.requests, "{:?}", s.outcomes);
    assert_eq!(seen.wrong_version.load(Ordering::Relaxed), 0);
    let json = summary(&out);
    assert_eq!(json["targets"][0]["http_versions"]["2"], s.requests);
    assert_eq!(json["targets"][0]["transport"]["http"], "auto");
    // One multiplexed connection carried everything.
    assert_eq!(seen.connections.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_2_over_tls_offers_only_h2() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("meshdrill test CA");
    // A server that speaks only http/1.1 refuses the handshake: no common
    // protocol (tls_handshake, not a silent downgrade).
    let config = ca.server_config(&[HOST], &[b"http/1.1"]);
    let (addr, seen) = serve(Some(config), Behaviour::answering(Version::HTTP_11)).await;
    let t = target(
        &format!("https://{HOST}/productpage"),
        addr,
        tls_transport(dir.path(), &ca, Some(HttpVersion::H2)),
    );
    let output = run_in(
        plan(
            "h2-only-refused",
            vec![t],
            rate(10.0),
            Duration::from_secs(1),
        ),
        &dir.path().join("out"),
    )
    .await;
    let s = &output.summary.targets[0];
    assert!(s.requests > 0);
    assert_eq!(s.outcomes["tls_handshake"], s.requests, "{:?}", s.outcomes);
    assert_eq!(seen.answered.load(Ordering::Relaxed), 0);

    let config = ca.server_config(&[HOST], &[b"h2"]);
    let (addr, seen) = serve(Some(config), Behaviour::answering(Version::HTTP_2)).await;
    let t = target(
        &format!("https://{HOST}/productpage"),
        addr,
        tls_transport(dir.path(), &ca, Some(HttpVersion::H2)),
    );
    let output = run_in(
        plan("h2-only", vec![t], rate(10.0), Duration::from_secs(1)),
        &dir.path().join("out2"),
    )
    .await;
    let s = &output.summary.targets[0];
    assert_eq!(s.ok, s.requests, "{:?}", s.outcomes);
    assert_eq!(seen.wrong_version.load(Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_prior_knowledge_over_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, seen) = serve(None, Behaviour::answering(Version::HTTP_2)).await;
    let transport = Transport {
        http: Some(HttpVersion::H2),
        ..Transport::default()
    };
    let t = target(&format!("http://{HOST}/productpage"), addr, transport);
    let out = dir.path().join("out");
    let output = run_in(
        plan("h2c", vec![t], rate(20.0), Duration::from_secs(1)),
        &out,
    )
    .await;
    let s = &output.summary.targets[0];
    assert!(s.requests > 0);
    assert_eq!(s.ok, s.requests, "{:?}", s.outcomes);
    assert_eq!(seen.wrong_version.load(Ordering::Relaxed), 0);
    assert_eq!(seen.answered.load(Ordering::Relaxed), s.requests);
    let json = summary(&out);
    assert_eq!(json["targets"][0]["http_versions"]["2"], s.requests);
    assert_eq!(
        json["targets"][0]["transport"]["tls"],
        serde_json::Value::Null
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_connections_spreads_the_load_over_that_many_connections() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, seen) = serve(None, Behaviour::answering(Version::HTTP_2)).await;
    let transport = Transport {
        http: Some(HttpVersion::H2),
        h2_connections: NonZeroU16::new(3).unwrap(),
        ..Transport::default()
    };
    let t = target(&format!("http://{HOST}/productpage"), addr, transport);
    let out = dir.path().join("out");
    let output = run_in(
        plan("h2-conns", vec![t], rate(30.0), Duration::from_secs(1)),
        &out,
    )
    .await;
    let s = &output.summary.targets[0];
    assert_eq!(s.ok, s.requests, "{:?}", s.outcomes);
    assert_eq!(seen.connections.load(Ordering::Relaxed), 3);
    let json = summary(&out);
    assert_eq!(json["targets"][0]["transport"]["h2_connections"], 3);
}

/// The peer answers 5 requests, then stops reading its connections (no
/// response, no ping ack) and never completes a new handshake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_answering_on_h2_gives_timeouts_and_the_run_ends_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("meshdrill test CA");
    let config = ca.server_config(&[HOST], &[b"h2", b"http/1.1"]);
    let behaviour = Behaviour {
        expect: Version::HTTP_2,
        answer_first: Some(5),
        goaway_after: None,
    };
    let (addr, seen) = serve(Some(config), behaviour).await;
    let t = target(
        &format!("https://{HOST}/productpage"),
        addr,
        tls_transport(dir.path(), &ca, None),
    );
    let mut p = plan("h2-stall", vec![t], rate(20.0), Duration::from_secs(4));
    p.load.timeout = Duration::from_secs(1);
    let out = dir.path().join("out");
    let output = tokio::time::timeout(Duration::from_secs(30), run_in(p, &out))
        .await
        .expect("the run ends by itself");
    let s = &output.summary.targets[0];
    assert_eq!(s.ok, 5, "{:?}", s.outcomes);
    assert_eq!(s.ok + s.outcomes["timeout"], s.requests, "{:?}", s.outcomes);
    let json = summary(&out);
    let ended = json["requests_ended_ms"].as_f64().unwrap();
    // Duration + timeout + 2 s of slack for a loaded machine.
    assert!(ended <= 4_000.0 + 1_000.0 + 2_000.0, "ended at {ended} ms");
    // The unanswered ping closed the first connection and a new one was
    // dialed (which the frozen peer never answers either).
    assert!(seen.connections.load(Ordering::Relaxed) >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_serves_https_and_h2_with_its_own_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let targets = vec![
        common::sim_target("primary", meshdrill::sim::Cluster::Primary),
        common::sim_target("secondary", meshdrill::sim::Cluster::Secondary),
    ];
    let mut p = plan("sim-https", targets, rate(20.0), Duration::from_secs(1));
    p.sim.tls = true;
    let out = dir.path().join("out");
    let output = run_in(p, &out).await;
    let json = summary(&out);
    for (i, s) in output.summary.targets.iter().enumerate() {
        assert!(s.requests > 0);
        assert_eq!(s.ok, s.requests, "{}: {:?}", s.name, s.outcomes);
        let t = &json["targets"][i];
        assert_eq!(t["http_versions"]["2"], s.requests, "{t}");
        assert_eq!(t["transport"]["tls"]["sni"], "localhost");
        assert_eq!(
            t["tls_handshake_ms"]["count"], 1,
            "one keep-alive h2 connection"
        );
        assert!(
            t["dialed"]
                .as_str()
                .unwrap()
                .starts_with("https://127.0.0.1:"),
            "{t}"
        );
    }
}

/// A server that sends GOAWAY after every 5 requests of a connection:
/// hyper dials a new connection and no request is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goaway_makes_the_client_dial_a_new_connection() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("meshdrill test CA");
    let config = ca.server_config(&[HOST], &[b"h2"]);
    let behaviour = Behaviour {
        goaway_after: Some(5),
        ..Behaviour::answering(Version::HTTP_2)
    };
    let (addr, seen) = serve(Some(config), behaviour).await;
    let t = target(
        &format!("https://{HOST}/productpage"),
        addr,
        tls_transport(dir.path(), &ca, None),
    );
    let out = dir.path().join("out");
    let output = run_in(
        plan("h2-goaway", vec![t], rate(20.0), Duration::from_secs(2)),
        &out,
    )
    .await;
    let s = &output.summary.targets[0];
    assert!(s.requests >= 20, "{}", s.requests);
    assert_eq!(s.ok, s.requests, "{:?}", s.outcomes);
    assert!(seen.connections.load(Ordering::Relaxed) >= 2);
}
