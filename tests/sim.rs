//! The simulator seen from the network: each fault's observable behaviour,
//! the reviews mix, in-flight accounting and clean shutdown, over real
//! loopback connections (127.0.0.1, port 0) with hyper's low-level client.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{self, HeaderMap};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use meshdrill::sim::{Cluster, Sim, SimConfig, SimFault, Template, pod_name};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// Upper bound for anything that should happen promptly; tests never wait
/// this long unless they are failing.
const LIMIT: Duration = Duration::from_secs(2);

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

async fn start(config: SimConfig) -> Sim {
    Sim::start(config, loopback(), loopback())
        .await
        .expect("sim starts")
}

async fn start_default() -> Sim {
    start(SimConfig::default()).await
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("utf-8 body")
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }
    /// Which reviews version of which cluster's pods served this page.
    fn served_by(&self) -> Option<(Cluster, u8)> {
        let text = self.text();
        Cluster::ALL
            .into_iter()
            .flat_map(|c| [1, 2, 3].map(|v| (c, v)))
            .find(|&(c, v)| text.contains(pod_name(c, v)))
    }
}

/// One keep-alive HTTP/1.1 connection; `task` drives it and ends when the
/// server closes it.
struct Conn {
    sender: SendRequest<Empty<Bytes>>,
    task: JoinHandle<hyper::Result<()>>,
}

async fn open(addr: SocketAddr) -> io::Result<Conn> {
    let stream = TcpStream::connect(addr).await?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(io::Error::other)?;
    Ok(Conn {
        sender,
        task: tokio::spawn(conn),
    })
}

impl Conn {
    async fn get(&mut self, path: &str) -> hyper::Result<Reply> {
        self.request(Method::GET, path).await
    }

    async fn request(&mut self, method: Method, path: &str) -> hyper::Result<Reply> {
        self.sender.ready().await?;
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "bookinfo.example")
            .body(Empty::new())
            .unwrap();
        let (parts, body) = self.sender.send_request(req).await?.into_parts();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await?.to_bytes(),
        })
    }

    /// Whether the server closed this connection (within [`LIMIT`]).
    async fn closed_by_server(self) -> bool {
        timeout(LIMIT, self.task).await.is_ok()
    }
}

/// One request on a fresh connection.
async fn get(addr: SocketAddr, path: &str) -> Reply {
    let mut conn = open(addr).await.expect("connect");
    timeout(LIMIT, conn.get(path))
        .await
        .expect("answered in time")
        .expect("request ok")
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[tokio::test]
async fn productpage_carries_gateway_headers() {
    let sim = start_default().await;
    let addr = sim.addr(Cluster::Primary);
    assert_eq!(addr.ip(), loopback().ip());
    assert_ne!(addr.port(), 0);
    assert_ne!(addr, sim.addr(Cluster::Secondary));

    let mut conn = open(addr).await.unwrap();
    let page = conn.get("/productpage?u=normal").await.unwrap();
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("server"), "istio-envoy");
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(page.header("content-length"), page.body.len().to_string());
    assert_eq!(page.header("x-envoy-upstream-service-time"), "2");
    assert!(page.text().contains("The Comedy of Errors"));
    assert!(page.text().contains("on cluster <div>primary</div>"));
    assert_eq!(page.served_by().map(|s| s.0), Some(Cluster::Primary));

    // Same connection (keep-alive): HEAD keeps the length, sends no body.
    let head = conn.request(Method::HEAD, "/productpage").await.unwrap();
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert!(head.header("content-length").parse::<usize>().unwrap() > 1000);

    let health = conn.get("/health").await.unwrap();
    assert_eq!((health.status, health.text()), (StatusCode::OK, "ok"));
    assert_eq!(health.header("server"), "istio-envoy");

    let stats = sim.stats(Cluster::Primary);
    assert_eq!(
        (stats.requests, stats.in_flight, stats.connections),
        (3, 0, 1)
    );
    assert_eq!(sim.stats(Cluster::Secondary).requests, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn other_paths_get_envoys_empty_404_and_other_methods_405() {
    let sim = start_default().await;
    let mut conn = open(sim.addr(Cluster::Secondary)).await.unwrap();
    for path in ["/", "/productpage/", "/api/v1/products", "/static/x.css"] {
        let r = conn.get(path).await.unwrap();
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.body.is_empty());
        assert_eq!(r.header("content-length"), "0");
        assert_eq!(r.header("server"), "istio-envoy");
        assert!(r.headers.get("content-type").is_none());
    }
    let r = conn.request(Method::POST, "/productpage").await.unwrap();
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    sim.shutdown().await;
}

#[tokio::test]
async fn down_refuses_connects_and_closes_open_connections_then_restore_rebinds() {
    let sim = start_default().await;
    let addr = sim.addr(Cluster::Primary);
    let mut idle = open(addr).await.unwrap();
    assert_eq!(
        idle.get("/productpage").await.unwrap().status,
        StatusCode::OK
    );
    // Connected but maybe not yet accepted: the RST must reach it either way.
    let mut raw = TcpStream::connect(addr).await.unwrap();

    sim.apply(Cluster::Primary, SimFault::Down).await.unwrap();
    assert_eq!(sim.fault(Cluster::Primary), SimFault::Down);

    let err = TcpStream::connect(addr)
        .await
        .expect_err("listener is closed");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    let mut buf = [0u8; 16];
    let read = timeout(LIMIT, raw.read(&mut buf))
        .await
        .expect("closed in time");
    assert_eq!(
        read.map_err(|e| e.kind()).err(),
        Some(io::ErrorKind::ConnectionReset)
    );
    assert!(
        idle.closed_by_server().await,
        "keep-alive connection left open"
    );
    // The other cluster is independent.
    assert_eq!(
        get(sim.addr(Cluster::Secondary), "/productpage")
            .await
            .status,
        StatusCode::OK
    );

    sim.apply(Cluster::Primary, SimFault::Restore)
        .await
        .unwrap();
    assert_eq!(sim.addr(Cluster::Primary), addr);
    assert_eq!(sim.fault(Cluster::Primary), SimFault::Restore);
    assert_eq!(get(addr, "/productpage").await.status, StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn down_resets_requests_in_flight() {
    let sim = start_default().await;
    let addr = sim.addr(Cluster::Secondary);
    sim.apply(Cluster::Secondary, SimFault::Blackhole)
        .await
        .unwrap();
    let mut conn = open(addr).await.unwrap();
    let held = tokio::spawn(async move { conn.get("/productpage").await.map(|r| r.status) });
    sim.wait_held(Cluster::Secondary, 1).await;

    sim.apply(Cluster::Secondary, SimFault::Down).await.unwrap();
    let outcome = timeout(LIMIT, held).await.expect("ended in time").unwrap();
    assert!(outcome.is_err(), "held request was answered: {outcome:?}");
    assert_eq!(sim.stats(Cluster::Secondary).in_flight, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_fault_after_down_rebinds_and_applies() {
    let sim = start_default().await;
    let addr = sim.addr(Cluster::Primary);
    sim.apply(Cluster::Primary, SimFault::Down).await.unwrap();
    sim.apply(Cluster::Primary, SimFault::Down).await.unwrap();
    sim.apply(Cluster::Primary, SimFault::Http503)
        .await
        .unwrap();
    assert_eq!(
        get(addr, "/productpage").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn blackhole_holds_requests_and_answers_them_once_lifted() {
    let sim = start_default().await;
    let addr = sim.addr(Cluster::Primary);
    sim.apply(Cluster::Primary, SimFault::Blackhole)
        .await
        .unwrap();

    let mut conn = open(addr).await.expect("blackhole still accepts");
    let mut pending = Box::pin(conn.get("/productpage"));
    let early = timeout(Duration::from_millis(300), pending.as_mut()).await;
    assert!(early.is_err(), "answered during the blackhole");
    sim.wait_held(Cluster::Primary, 1).await;
    let stats = sim.stats(Cluster::Primary);
    assert_eq!(
        (stats.requests, stats.in_flight, stats.connections),
        (1, 1, 1)
    );

    sim.apply(Cluster::Primary, SimFault::Restore)
        .await
        .unwrap();
    let reply = timeout(LIMIT, pending).await.expect("released").unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text().contains("Reviews served by: "));
    assert_eq!(sim.stats(Cluster::Primary).in_flight, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn http503_is_envoys_no_healthy_upstream() {
    let sim = start_default().await;
    sim.apply(Cluster::Secondary, SimFault::Http503)
        .await
        .unwrap();
    for path in ["/productpage", "/health"] {
        let r = get(sim.addr(Cluster::Secondary), path).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.text(), "no healthy upstream");
        assert_eq!(r.header("content-type"), "text/plain");
        assert_eq!(r.header("content-length"), "19");
        assert_eq!(r.header("server"), "istio-envoy");
    }
    assert_eq!(
        get(sim.addr(Cluster::Primary), "/productpage").await.status,
        StatusCode::OK
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn latency_adds_its_delay() {
    let sim = start_default().await;
    let delay = Duration::from_millis(150);
    sim.apply(Cluster::Primary, SimFault::Latency(delay))
        .await
        .unwrap();
    assert_eq!(sim.fault(Cluster::Primary), SimFault::Latency(delay));
    let mut conn = open(sim.addr(Cluster::Primary)).await.unwrap();
    let sent = Instant::now();
    let r = conn.get("/productpage").await.unwrap();
    assert!(sent.elapsed() >= delay, "{:?}", sent.elapsed());
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-envoy-upstream-service-time"), "152");
    sim.shutdown().await;
}

#[tokio::test]
async fn degraded_shows_reviews_unavailable_with_200() {
    for template in [Template::Current, Template::Legacy] {
        let sim = start(SimConfig {
            template,
            ..SimConfig::default()
        })
        .await;
        sim.apply(Cluster::Primary, SimFault::Degraded)
            .await
            .unwrap();
        let r = get(sim.addr(Cluster::Primary), "/productpage").await;
        assert_eq!(r.status, StatusCode::OK);
        let text = r.text();
        assert!(
            text.contains("Error fetching product reviews"),
            "{template:?}"
        );
        assert!(text.contains("Sorry, product reviews are currently unavailable for this book."));
        assert!(text.contains("The Comedy of Errors") && text.contains("Book Details"));
        assert!(!text.contains("Reviews served by") && !text.contains("glyphicon"));
        assert_eq!(
            get(sim.addr(Cluster::Primary), "/health").await.text(),
            "ok"
        );
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn cross_cluster_pages_name_the_other_clusters_pods() {
    let sim = start_default().await;
    sim.apply(Cluster::Primary, SimFault::CrossCluster)
        .await
        .unwrap();
    let mut conn = open(sim.addr(Cluster::Primary)).await.unwrap();
    for _ in 0..10 {
        let r = conn.get("/productpage").await.unwrap();
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.served_by().map(|s| s.0), Some(Cluster::Secondary));
        assert!(r.text().contains("on cluster <div>secondary</div>"));
        assert!(!r.text().contains("primary"));
    }
    let own = get(sim.addr(Cluster::Secondary), "/productpage").await;
    assert_eq!(own.served_by().map(|s| s.0), Some(Cluster::Secondary));

    sim.apply(Cluster::Primary, SimFault::Restore)
        .await
        .unwrap();
    let back = conn.get("/productpage").await.unwrap();
    assert_eq!(back.served_by().map(|s| s.0), Some(Cluster::Primary));
    sim.shutdown().await;
}

#[tokio::test]
async fn mix_is_exact_over_100_consecutive_requests() {
    let sim = start(SimConfig {
        reviews_mix: [50, 30, 20],
        base_latency: Duration::ZERO,
        template: Template::Current,
        tls: false,
        listen: None,
    })
    .await;
    // Two requests to the secondary first: each cluster counts on its own.
    let mut other = open(sim.addr(Cluster::Secondary)).await.unwrap();
    for _ in 0..2 {
        other.get("/productpage").await.unwrap();
    }
    let mut conn = open(sim.addr(Cluster::Primary)).await.unwrap();
    // Start off-cycle: any window of 100 has the mix, not just the first.
    for _ in 0..7 {
        conn.get("/productpage").await.unwrap();
    }
    let mut seen = [0; 3];
    let mut longest_run = 0;
    let mut run = (0, 0);
    for _ in 0..100 {
        let r = conn.get("/productpage").await.unwrap();
        let (cluster, v) = r.served_by().expect("pod named");
        assert_eq!(cluster, Cluster::Primary);
        seen[usize::from(v) - 1] += 1;
        run = if run.0 == v { (v, run.1 + 1) } else { (v, 1) };
        longest_run = longest_run.max(run.1);
    }
    assert_eq!(seen, [50, 30, 20]);
    assert!(
        longest_run <= 3,
        "versions not interleaved: run of {longest_run}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn peak_in_flight_equals_requests_held_open() {
    const USERS: u64 = 8;
    let sim = start_default().await;
    let addr = sim.addr(Cluster::Primary);
    sim.apply(Cluster::Primary, SimFault::Blackhole)
        .await
        .unwrap();
    let mut users = Vec::new();
    for _ in 0..USERS {
        let mut conn = open(addr).await.unwrap();
        users.push(tokio::spawn(async move {
            conn.get("/productpage").await.map(|r| r.status)
        }));
    }
    sim.wait_held(Cluster::Primary, USERS).await;
    let stats = sim.stats(Cluster::Primary);
    assert_eq!((stats.in_flight, stats.peak_in_flight), (USERS, USERS));

    sim.apply(Cluster::Primary, SimFault::Restore)
        .await
        .unwrap();
    for user in users {
        let status = timeout(LIMIT, user)
            .await
            .expect("answered")
            .unwrap()
            .unwrap();
        assert_eq!(status, StatusCode::OK);
    }
    let stats = sim.stats(Cluster::Primary);
    assert_eq!(
        (stats.requests, stats.in_flight, stats.peak_in_flight),
        (USERS, 0, USERS)
    );
    sim.reset_peak(Cluster::Primary);
    assert_eq!(sim.stats(Cluster::Primary).peak_in_flight, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn both_templates_render_stars_colour_pod_and_cluster() {
    for template in [Template::Current, Template::Legacy] {
        let sim = start(SimConfig {
            template,
            base_latency: Duration::ZERO,
            ..SimConfig::default()
        })
        .await;
        for cluster in Cluster::ALL {
            let mut conn = open(sim.addr(cluster)).await.unwrap();
            let mut versions_seen = [false; 3];
            // The default mix shows every version within its first 10 requests.
            for _ in 0..10 {
                let r = conn.get("/productpage").await.unwrap();
                let text = r.text();
                let (shown, v) = r.served_by().expect("pod named");
                assert_eq!(shown, cluster);
                versions_seen[usize::from(v) - 1] = true;
                let pod = pod_name(cluster, v);
                let colour = match v {
                    1 => None,
                    2 => Some("black"),
                    _ => Some("red"),
                };
                let (full, empty, colour_marker, pod_marker, cluster_marker, pods) = match template
                {
                    Template::Current => (
                        r#"<svg id="glyphicon glyphicon-star" class="h-5 w-5 flex-none" viewBox="0 0 20 20" fill="currentColor""#,
                        r#"fill="none" viewBox="0 0 24 24""#,
                        colour.map(|c| format!(r#"<div class="flex gap-x-1 text-{c}-500">"#)),
                        format!("Reviews served by: \n          {pod}\n"),
                        format!("on cluster <div>{}</div>", cluster.name()),
                        2,
                    ),
                    Template::Legacy => (
                        r#"<span class="glyphicon glyphicon-star"></span>"#,
                        r#"<span class="glyphicon glyphicon-star-empty"></span>"#,
                        colour.map(|c| format!(r#"<font color="{c}">"#)),
                        format!("<dt>Reviews served by:</dt>\n        <u>{pod}</u>"),
                        format!("on cluster <u>{}</u>", cluster.name()),
                        1,
                    ),
                };
                assert_eq!(count(text, &pod_marker), pods, "{template:?} {text}");
                assert_eq!(count(text, &cluster_marker), pods);
                let stars = if colour.is_some() { (9, 1) } else { (0, 0) };
                assert_eq!(
                    (count(text, full), count(text, empty)),
                    stars,
                    "{template:?} v{v}"
                );
                if let Some(marker) = colour_marker {
                    assert_eq!(count(text, &marker), 2, "{template:?} v{v}");
                }
            }
            assert_eq!(versions_seen, [true; 3], "{template:?} {cluster:?}");
        }
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn start_rejects_a_mix_not_summing_to_100() {
    let config = SimConfig {
        reviews_mix: [50, 30, 30],
        ..SimConfig::default()
    };
    let err = Sim::start(config, loopback(), loopback())
        .await
        .expect_err("bad mix");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn shutdown_closes_everything_and_leaves_no_task() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();
    let sim = start_default().await;
    let addrs = Cluster::ALL.map(|c| sim.addr(c));

    let mut idle = open(addrs[0]).await.unwrap();
    idle.get("/productpage").await.unwrap();
    sim.apply(Cluster::Secondary, SimFault::Blackhole)
        .await
        .unwrap();
    let mut conn = open(addrs[1]).await.unwrap();
    let held = tokio::spawn(async move { conn.get("/productpage").await.map(|r| r.status) });
    sim.wait_held(Cluster::Secondary, 1).await;

    sim.shutdown().await;
    assert!(idle.closed_by_server().await);
    assert!(timeout(LIMIT, held).await.expect("ended").unwrap().is_err());
    for addr in addrs {
        let err = TcpStream::connect(addr).await.expect_err("closed");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }
    assert_eq!(metrics.num_alive_tasks(), tasks_before);
}
