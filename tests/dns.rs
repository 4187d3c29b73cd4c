//! DNS names that change during a drill, all on loopback: an in-process
//! hickory authoritative server (UDP on 127.0.0.1:0, an in-memory zone)
//! answers `bookinfo.test` with 127.0.0.2 (TTL 1 s); two in-process HTTP
//! servers on 127.0.0.2:P and 127.0.0.3:P serve a Bookinfo productpage.
//! Mid-run the zone moves the name to 127.0.0.3: with `max_connection_age`
//! the pooled connection is retired and traffic follows the name, which
//! addresses.csv shows to the second. A name the zone does not have is
//! `dns` for every request.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hickory_server::Server;
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::rdata::{A, SOA};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType, RrKey};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use meshdrill::results::Results;
use meshdrill::results::addresses::AddressRow;
use meshdrill::run::{RunOptions, run};
use meshdrill::scenario::{Overrides, Plan};
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;

const TTL: u32 = 1;
const MAX_AGE_S: u64 = 1;

type Zone = InMemoryZoneHandler<TokioRuntimeProvider>;

/// The zone `test.` with `bookinfo.test. A 127.0.0.2` (TTL 1 s), served
/// over UDP on 127.0.0.1:0. The server lives as long as the returned value.
async fn dns_server() -> (SocketAddr, Arc<Zone>, Server<Catalog>) {
    let origin = Name::from_ascii("test.").unwrap();
    let mut zone = Zone::empty(origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
    let soa = SOA::new(
        Name::from_ascii("ns.test.").unwrap(),
        Name::from_ascii("admin.test.").unwrap(),
        1,
        60,
        60,
        60,
        TTL,
    );
    assert!(zone.upsert_mut(Record::from_rdata(origin.clone(), TTL, RData::SOA(soa)), 1));
    assert!(zone.upsert_mut(address_record(Ipv4Addr::new(127, 0, 0, 2)), 1));
    let zone = Arc::new(zone);
    let mut catalog = Catalog::new();
    catalog.upsert(
        LowerName::from(&origin),
        vec![zone.clone() as Arc<dyn ZoneHandler>],
    );
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let mut server = Server::new(catalog);
    server.register_socket(socket);
    (addr, zone, server)
}

fn bookinfo() -> Name {
    Name::from_ascii("bookinfo.test.").unwrap()
}

fn address_record(ip: Ipv4Addr) -> Record {
    Record::from_rdata(bookinfo(), TTL, RData::A(A(ip)))
}

/// Moves `bookinfo.test` to `ip` (the old A record removed, not added to).
async fn flip(zone: &Zone, ip: Ipv4Addr, serial: u32) {
    let key = RrKey::new(LowerName::from(&bookinfo()), RecordType::A);
    zone.records_mut().await.remove(&key);
    assert!(zone.upsert(address_record(ip), serial).await);
}

/// A reviews-v2 productpage from the shared fixtures.
fn productpage() -> Bytes {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/bookinfo/productpage/current__v2_ok.html"
    ));
    Bytes::from(std::fs::read(path).unwrap())
}

async fn serve(listener: TcpListener, page: Bytes) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let page = page.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_req| {
                let page = page.clone();
                async move {
                    Response::builder()
                        .status(StatusCode::OK)
                        .header("content-type", "text/html; charset=utf-8")
                        .body(Full::new(page))
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The port P both 127.0.0.2:P and 127.0.0.3:P serve the page on.
async fn two_servers() -> u16 {
    for _ in 0..20 {
        let first = TcpListener::bind("127.0.0.2:0").await.unwrap();
        let port = first.local_addr().unwrap().port();
        let Ok(second) = TcpListener::bind(("127.0.0.3", port)).await else {
            continue; // taken on .3: another port
        };
        tokio::spawn(serve(first, productpage()));
        tokio::spawn(serve(second, productpage()));
        return port;
    }
    panic!("no port free on both 127.0.0.2 and 127.0.0.3");
}

fn scenario(host: &str, port: u16, dns: SocketAddr, duration_s: u32) -> Plan {
    scenario_with(host, port, dns, duration_s, "")
}

/// `dns_keys`: more lines of the `[dns]` table.
fn scenario_with(host: &str, port: u16, dns: SocketAddr, duration_s: u32, dns_keys: &str) -> Plan {
    let text = format!(
        r#"name = "dns-move"
[[target]]
name = "bookinfo"
url = "http://{host}:{port}/productpage"

[load]
rate = 20
duration = "{duration_s}s"
timeout = "2s"
connect_timeout = "1s"
max_connection_age = "{MAX_AGE_S}s"
max_late_pct = 50

[dns]
nameservers = ["{dns}"]
{dns_keys}
"#
    );
    meshdrill::scenario::parse(
        &text,
        Path::new("dns-move.toml"),
        &Overrides::default(),
        &|_| None,
    )
    .unwrap()
}

async fn run_in(plan: Plan, dir: &Path) -> Results {
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
    Results::load(dir).unwrap()
}

/// Every target's (and all's) `ips` add up exactly to its requests and ok.
fn assert_ips_add_up(results: &Results) {
    let s = &results.summary;
    for t in s.targets.iter().chain([&s.all]) {
        let requests: u64 = t.ips.values().map(|a| a.requests).sum();
        let ok: u64 = t.ips.values().map(|a| a.ok).sum();
        assert_eq!(
            (requests, ok),
            (t.requests, t.ok),
            "{}: {:?}",
            t.name,
            t.ips
        );
    }
}

fn rows_of<'a>(rows: &'a [AddressRow], address: &str) -> Vec<&'a AddressRow> {
    rows.iter().filter(|r| r.address == address).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_follows_a_dns_change_within_ttl_plus_max_connection_age() {
    let (dns, zone, _server) = dns_server().await;
    let port = two_servers().await;
    let (old, new) = (format!("127.0.0.2:{port}"), format!("127.0.0.3:{port}"));
    let dir = tempfile::tempdir().unwrap();
    let plan = scenario("bookinfo.test", port, dns, 8);
    let flipped = tokio::spawn(async move {
        // Mid-run: the run clock starts ~0.1 s after the run does.
        tokio::time::sleep(Duration::from_millis(3_100)).await;
        let at = SystemTime::now();
        flip(&zone, Ipv4Addr::new(127, 0, 0, 3), 2).await;
        at
    });
    let results = run_in(plan, dir.path()).await;
    let flipped_at = flipped.await.unwrap();
    let flip_ms = flipped_at.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
        - results.summary.start_unix_ms;

    let rows = results.addresses.as_ref().expect("addresses.csv");
    let before = rows_of(rows, &old);
    let after = rows_of(rows, &new);
    assert!(!before.is_empty() && !after.is_empty(), "{rows:?}");
    assert!(
        rows.iter().all(|r| r.address == old || r.address == new),
        "only the two addresses answered: {rows:?}"
    );
    assert!(
        before.iter().all(|r| r.ok == r.requests) && after.iter().all(|r| r.ok == r.requests),
        "every request was answered with a page: {rows:?}"
    );
    // Nothing reached the new address before the zone moved...
    let first_new = after.first().unwrap().second;
    assert!(
        u64::from(first_new) * 1000 + 999 >= flip_ms,
        "127.0.0.3 answered in second {first_new}, before the flip at {flip_ms} ms"
    );
    // ...and nothing was intended for the old one later than TTL +
    // max_connection_age + 1 s after it moved.
    let bound_ms = flip_ms + u64::from(TTL) * 1000 + MAX_AGE_S * 1000 + 1000;
    let last_old = before.last().unwrap().second;
    assert!(
        u64::from(last_old) * 1000 <= bound_ms,
        "127.0.0.2 still answered in second {last_old}; flip at {flip_ms} ms, bound {bound_ms} ms: {rows:?}"
    );
    // The seconds after the bound are the new address's alone.
    let last_second = rows.last().unwrap().second;
    assert!(
        u64::from(last_second) * 1000 > bound_ms,
        "the run outlasts the bound"
    );

    assert_ips_add_up(&results);
    let ips = &results.summary.targets[0].ips;
    assert_eq!(ips.keys().collect::<Vec<_>>(), [&old, &new], "{ips:?}");
    assert_eq!(
        results.summary.targets[0].max_connection_age_ms,
        Some(MAX_AGE_S as f64 * 1000.0)
    );
    assert_eq!(results.summary.scenario.dns.nameservers, [dns.to_string()]);
    let planned = &results.plan.as_ref().unwrap().targets[0];
    assert_eq!(
        planned.max_connection_age_ms,
        Some(MAX_AGE_S as f64 * 1000.0)
    );
    // The per-second file and summary.json agree, measured phase.
    let from_rows: u64 = rows
        .iter()
        .filter(|r| r.phase == "measure")
        .map(|r| r.requests)
        .sum();
    assert_eq!(from_rows, results.summary.targets[0].requests);
}

/// `[dns] min_ttl` keeps an answer past its TTL: connections are retired
/// for their age, but the name still resolves to the cached address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_ttl_keeps_the_cached_address_after_the_zone_moves() {
    let (dns, zone, _server) = dns_server().await;
    let port = two_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let plan = scenario_with("bookinfo.test", port, dns, 5, "min_ttl = \"1h\"");
    let flipped = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        flip(&zone, Ipv4Addr::new(127, 0, 0, 3), 2).await;
    });
    let results = run_in(plan, dir.path()).await;
    flipped.await.unwrap();
    let ips = &results.summary.targets[0].ips;
    assert_eq!(
        ips.keys().collect::<Vec<_>>(),
        [&format!("127.0.0.2:{port}")],
        "{ips:?}"
    );
    assert_ips_add_up(&results);
    assert_eq!(results.summary.scenario.dns.min_ttl_s, Some(3600.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_the_zone_does_not_have_is_dns_for_every_request() {
    let (dns, _zone, _server) = dns_server().await;
    let port = two_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let results = run_in(scenario("nosuch.test", port, dns, 2), dir.path()).await;
    let target = &results.summary.targets[0];
    assert!(target.requests > 0);
    assert_eq!(
        target.outcomes["dns"], target.requests,
        "{:?}",
        target.outcomes
    );
    assert_eq!(target.failures.keys().collect::<Vec<_>>(), ["dns"]);
    assert_eq!(target.ips.keys().collect::<Vec<_>>(), ["none"]);
    assert_ips_add_up(&results);
    let rows = results.addresses.as_ref().unwrap();
    assert!(
        !rows.is_empty()
            && rows
                .iter()
                .all(|r| r.address == "none" && r.ok == 0 && r.failed == r.requests)
    );
    // timeline.csv counts them in the `dns` column too.
    let timeline = &results.timeline.scopes[0];
    let dns_column: u64 = timeline
        .rows
        .iter()
        .map(|r| r.by_kind[meshdrill::outcome::Kind::Dns.index()])
        .sum();
    assert_eq!(dns_column, rows.iter().map(|r| r.requests).sum::<u64>());
}
