//! A lane's request path allocates nothing of meshdrill's own per request
//! once warm: [`request_and_record`] (pooled body buffer, the exchange
//! on a connection the target's client keeps itself (`engine::owned`),
//! classification of the body in
//! hyper's chunks, the shard) runs against an in-process HTTP/1.1 server
//! on 127.0.0.1:0 serving the 15 KB Bookinfo page, on a current-thread
//! runtime so hyper's connection task runs on the counted thread too.
//!
//! Every allocation of the measured requests is traced to who asked for
//! it: the innermost frame of meshdrill, hyper, hyper-util or h2 (an
//! allocation inside `http`, `bytes`, `tokio` or `futures` counts for
//! whichever of those called it). Measured per keep-alive request, and
//! asserted exactly so that any change shows here:
//!
//! - meshdrill: [`MESHDRILL_PER_REQUEST`] = 2, the request's header map
//!   (`Host`, `User-Agent`: its index table and its entries), which hyper
//!   takes by value with the `Request` and drops once it has written the
//!   head; no hyper API lends it, so it is the allocation meshdrill makes
//!   per request. Nothing else: the body is read in hyper's chunks into a
//!   pooled buffer, classified in place, recorded into a warm shard.
//! - hyper: [`HYPER_PER_REQUEST`] = 4: the dispatch oneshot, the response
//!   body channel, the read buffer's `split_to` promoting it to shared,
//!   and the read buffer reserved anew for the next response.
//! - hyper-util: [`HYPER_UTIL_PER_REQUEST`] = 0: an HTTP/1.1 keep-alive
//!   request no longer goes through its pooled client. (Through it, it was
//!   2: the boxed `ResponseFuture` and the idle list re-created when the
//!   connection was put back in the pool; 4 before connections to an IP
//!   address stopped carrying their `ConnInfo` into every response's
//!   extensions.)
//!
//! The lane's in-flight set (`FuturesUnordered` in `run_lane`) adds one
//! allocation per request around this path, its task node; it is outside
//! what this test drives and is named in the README's performance section.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use meshdrill::classify::{Classifier, ClassifyConfig};
use meshdrill::engine::buffers::{BodyBudget, BodyPool};
use meshdrill::engine::client::{ClientSpec, TargetClient};
use meshdrill::engine::clock::RunClock;
use meshdrill::engine::connect::ConnectSpec;
use meshdrill::engine::lane::request_and_record;
use meshdrill::engine::resolve::Resolver;
use meshdrill::engine::route::Route;
use meshdrill::outcome::Kind;
use meshdrill::record::{AddressRegistry, LaneAddresses, Shard};
use meshdrill::scenario::{ConnectionPolicy, FollowRedirects, HttpVersion};

/// Allocations per warm keep-alive request, by who asked (module doc).
const MESHDRILL_PER_REQUEST: usize = 2;
const HYPER_PER_REQUEST: usize = 4;
const HYPER_UTIL_PER_REQUEST: usize = 0;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    /// While set, each allocation's backtrace is kept (by owner).
    static TRACING: Cell<bool> = const { Cell::new(false) };
    /// Set inside the allocator while it captures a backtrace, so the
    /// capture's own allocations are neither counted nor traced.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
    static TRACES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let inside = INSIDE.try_with(Cell::get).unwrap_or(true);
        if !inside {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            if TRACING.try_with(Cell::get).unwrap_or(false) {
                INSIDE.with(|i| i.set(true));
                let trace = std::backtrace::Backtrace::force_capture().to_string();
                TRACES.with(|t| t.borrow_mut().push(trace));
                INSIDE.with(|i| i.set(false));
            }
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Who asked for an allocation: the innermost frame of meshdrill, hyper,
/// hyper-util or h2 (`tests` for this file's own code).
fn owner(trace: &str) -> &'static str {
    for line in trace.lines() {
        let Some((_, symbol)) = line.trim().split_once(": ") else {
            continue;
        };
        let symbol = symbol.trim_start_matches('<');
        if symbol.starts_with("lane_alloc::Counting") {
            continue; // the allocator itself
        }
        for (prefix, name) in [
            ("meshdrill::", "meshdrill"),
            ("hyper_util::", "hyper-util"),
            ("hyper::", "hyper"),
            ("h2::", "h2"),
            ("lane_alloc::", "tests"),
        ] {
            if symbol.starts_with(prefix) {
                return name;
            }
        }
    }
    "other"
}

/// One HTTP/1.1 keep-alive connection's server: every request answered
/// with `page`, head and body in one write.
fn serve(mut conn: std::net::TcpStream, response: Arc<Vec<u8>>) {
    let _ = conn.set_nodelay(true);
    let mut buf = vec![0u8; 8192];
    let mut have = 0;
    loop {
        match conn.read(&mut buf[have..]) {
            Ok(0) | Err(_) => return,
            Ok(n) => have += n,
        }
        while let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            if conn.write_all(&response).is_err() {
                return;
            }
            buf.copy_within(end + 4..have, 0);
            have -= end + 4;
        }
    }
}

fn server() -> std::net::SocketAddr {
    let page = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/bookinfo/productpage/current__v2_ok.html"
    ))
    .expect("the Bookinfo fixtures beside the repository");
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\r\n",
        page.len()
    )
    .into_bytes();
    response.extend_from_slice(&page);
    let response = Arc::new(response);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let response = response.clone();
            std::thread::spawn(move || serve(conn, response));
        }
    });
    addr
}

fn route(addr: std::net::SocketAddr) -> Route {
    let spec = ClientSpec {
        uri: format!("http://{addr}/productpage").parse().unwrap(),
        host: addr.to_string(),
        connect: ConnectSpec {
            pin: None,
            connect_timeout: Duration::from_secs(5),
            tls: None,
        },
        resolver: Arc::new(Resolver::system()),
        policy: ConnectionPolicy::KeepAlive,
        follow: FollowRedirects::No,
        http: HttpVersion::H1,
        h2_connections: 1,
        timeout: Duration::from_secs(10),
        max_body_bytes: 1 << 20,
        body_budget: BodyBudget::new(64 << 20),
        max_idle: 4,
        max_connection_age: None,
    };
    Route::one(TargetClient::new(&spec).unwrap())
}

#[test]
fn a_warm_lane_request_allocates_only_its_request_header_map_besides_hypers_own() {
    let addr = server();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let route = route(addr);
        let mut pool = BodyPool::new(route.body_budget());
        let mut classifier = Classifier::new(&ClassifyConfig::default());
        let mut shard = Shard::default();
        let mut addresses = LaneAddresses::default();
        let registry = AddressRegistry::new();
        let clock = RunClock {
            start: tokio::time::Instant::now(),
            epoch: std::time::SystemTime::now(),
        };
        let mut one = async || {
            request_and_record(
                &route,
                &mut pool,
                &mut classifier,
                &mut shard,
                &mut addresses,
                &registry,
                clock,
                0,
            )
            .await
        };
        // Warm: the connection, its buffers, the pool, the pod's name,
        // the shard's second.
        for _ in 0..200 {
            assert_eq!(one().await.kind, Kind::Ok);
        }
        const MEASURED: usize = 20;
        TRACING.with(|t| t.set(true));
        let before = allocations();
        for _ in 0..MEASURED {
            let outcome = std::hint::black_box(one().await);
            assert_eq!(outcome.kind, Kind::Ok);
        }
        let total = allocations() - before;
        TRACING.with(|t| t.set(false));
        let traces = TRACES.with(|t| std::mem::take(&mut *t.borrow_mut()));
        let count = |who: &str| traces.iter().filter(|t| owner(t) == who).count();
        let mine = count("meshdrill");
        let hyper = count("hyper") + count("h2");
        let hyper_util = count("hyper-util");
        let report = || {
            let mut by: Vec<(&str, usize)> =
                ["meshdrill", "hyper", "hyper-util", "h2", "tests", "other"]
                    .iter()
                    .map(|w| (*w, count(w)))
                    .collect();
            by.retain(|(_, n)| *n > 0);
            let meshdrill_sites: Vec<&str> = traces
                .iter()
                .filter(|t| owner(t) == "meshdrill" || owner(t) == "other")
                .take(4)
                .map(|t| t.as_str())
                .collect();
            format!(
                "{total} allocations in {MEASURED} requests: {by:?}\n{}",
                meshdrill_sites.join("\n----\n")
            )
        };
        assert_eq!(traces.len(), total, "{}", report());
        assert_eq!(
            mine,
            MESHDRILL_PER_REQUEST * MEASURED,
            "meshdrill\n{}",
            report()
        );
        assert_eq!(hyper, HYPER_PER_REQUEST * MEASURED, "hyper\n{}", report());
        assert_eq!(
            hyper_util,
            HYPER_UTIL_PER_REQUEST * MEASURED,
            "hyper-util\n{}",
            report()
        );
        assert_eq!(total, mine + hyper + hyper_util, "{}", report());
    });
}
