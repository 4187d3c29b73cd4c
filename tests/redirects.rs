//! Redirects against in-process servers on 127.0.0.1: a 3xx is `http_3xx`
//! with its Location counted per target; with `follow_redirects =
//! "same-host"` a redirect to the same host (another port, another path, a
//! relative Location) is followed to the page and ends `ok`, while one to
//! another host is not followed (nothing is sent there) and stays `http_3xx`;
//! a 301 from http to https on the same host ends `ok` over TLS.

mod common;
mod tls_server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{plan, rate, run_in};
use meshdrill::results::summary::{RedirectCount, TargetSummary};
use meshdrill::scenario::{ConnectionPolicy, Endpoint, FollowRedirects, HttpEndpoint, TargetPlan};
use meshdrill::sim::{Cluster, Sim, SimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Which redirect a path gets: status and Location (`None`: 404).
type Routes = Arc<dyn Fn(&str) -> Option<(u16, String)> + Send + Sync>;

/// A keep-alive HTTP/1.1 server answering every request with the redirect
/// `routes` gives its path.
async fn redirector(routes: Routes) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, routes.clone()));
        }
    });
    addr
}

fn location_for(path: &str, page: SocketAddr) -> Option<(u16, String)> {
    let port = page.port();
    Some(match path {
        "/to-port" => (301, format!("http://127.0.0.1:{port}/productpage")),
        "/relative" => (302, "hop".to_string()),
        "/hop" => (307, format!("//127.0.0.1:{port}/productpage")),
        "/to-other-host" => (301, format!("http://localhost:{port}/productpage")),
        "/loop" => (302, "/loop".to_string()),
        _ => return None,
    })
}

async fn serve(mut stream: TcpStream, routes: Routes) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end);
        let path = head.split(' ').nth(1).unwrap_or_default().to_string();
        let reply = match routes(&path) {
            Some((status, location)) => format!(
                "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 5\r\n\r\nmoved"
            ),
            None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string(),
        };
        if stream.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn target(name: &str, addr: SocketAddr, path: &str, follow: FollowRedirects) -> TargetPlan {
    TargetPlan {
        name: name.to_string(),
        endpoint: Endpoint::Http(HttpEndpoint {
            url: format!("http://{addr}{path}").parse().unwrap(),
            host_header: addr.to_string(),
            connect: None,
        }),
        connection: ConnectionPolicy::KeepAlive,
        follow_redirects: follow,
        transport: Default::default(),
        max_connection_age: None,
    }
}

fn counts(t: &TargetSummary) -> Vec<(String, u64)> {
    t.redirects
        .iter()
        .map(|RedirectCount { location, count }| (location.clone(), *count))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_host_redirects_are_followed_and_others_counted_by_location() {
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let sim = Sim::start(SimConfig::default(), loopback, loopback)
        .await
        .unwrap();
    let page = sim.addr(Cluster::Primary);
    let redirect = redirector(Arc::new(move |path: &str| location_for(path, page))).await;
    let same_host = FollowRedirects::SameHost;
    let dir = tempfile::tempdir().unwrap();
    let p = plan(
        "redirects",
        vec![
            target("port", redirect, "/to-port", same_host),
            target("relative", redirect, "/relative", same_host),
            target("other-host", redirect, "/to-other-host", same_host),
            target("loop", redirect, "/loop", same_host),
            target("not-followed", redirect, "/to-port", FollowRedirects::No),
        ],
        rate(20.0),
        Duration::from_secs(2),
    );
    let out = run_in(p, dir.path()).await;
    let t = &out.summary.targets;
    let page_url = format!("http://127.0.0.1:{}/productpage", page.port());
    for followed in &t[..2] {
        assert!(followed.requests > 0, "{}", followed.name);
        assert_eq!(
            followed.ok, followed.requests,
            "{}: {:?}",
            followed.name, followed.failures
        );
        assert_eq!(
            followed.redirects_followed, followed.requests,
            "{}",
            followed.name
        );
        assert!(followed.redirects.is_empty(), "{}", followed.name);
    }
    // Another host: not followed, counted by its Location.
    let other = &t[2];
    assert_eq!(other.outcomes["http_3xx"], other.requests);
    let localhost = format!("http://localhost:{}/productpage", page.port());
    assert_eq!(counts(other), [(localhost.clone(), other.requests)]);
    assert_eq!(other.redirects_followed, 0);
    // A loop ends at the hop limit, as the redirect it was given.
    let looped = &t[3];
    assert_eq!(looped.outcomes["http_3xx"], looped.requests);
    assert_eq!(counts(looped), [("/loop".to_string(), looped.requests)]);
    assert_eq!(looped.redirects_followed, looped.requests);
    // The default follows nothing.
    let not = &t[4];
    assert_eq!(not.outcomes["http_3xx"], not.requests);
    assert_eq!(counts(not), [(page_url.clone(), not.requests)]);
    // `all` adds the targets' Locations up.
    let all = &out.summary.all;
    let mut expected = vec![
        (localhost, other.requests),
        ("/loop".to_string(), looped.requests),
        (page_url, not.requests),
    ];
    expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    assert_eq!(counts(all), expected);
    let table = meshdrill::report::table::table(&out.summary, "dir");
    let line = format!(
        "other-host redirected (http_3xx): {} to {}\n",
        other.requests, other.redirects[0].location
    );
    assert!(table.contains(&line), "{table}");
    assert!(
        table.contains(&format!(
            "port: {} requests followed a same-host redirect\n",
            t[0].requests
        )),
        "{table}"
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        html.contains(&format!("<p>{}</p>", line.trim_end())),
        "report.html names the Location"
    );
    // The page server saw exactly the followed requests: nothing went to
    // "localhost" (the same address by another name) or from the default.
    assert_eq!(
        sim.stats(Cluster::Primary).requests,
        t[0].requests + t[1].requests
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_301_from_http_to_https_on_the_same_host_ends_ok() {
    use hyper::Version;
    use meshdrill::scenario::{TlsPlan, Transport};
    use tls_server::{Behaviour, TestCa};

    const HOST: &str = "bookinfo.example.com";
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("meshdrill test CA");
    let config = ca.server_config(&[HOST], &[b"http/1.1"]);
    let (https, seen) =
        tls_server::serve(Some(config), Behaviour::answering(Version::HTTP_11)).await;
    let port = https.port();
    // What `httpsRedirect: true` on an Istio Gateway answers.
    let redirect = redirector(Arc::new(move |path: &str| {
        (path == "/productpage").then(|| (301, format!("https://{HOST}:{port}/productpage")))
    }))
    .await;
    let plain = TargetPlan {
        name: "primary".into(),
        endpoint: Endpoint::Http(HttpEndpoint {
            url: format!("http://{HOST}:{}/productpage", redirect.port())
                .parse()
                .unwrap(),
            host_header: format!("{HOST}:{}", redirect.port()),
            // The URL's host:port is pinned here; the same host on the
            // https port dials the same IP on that port.
            connect: Some(redirect),
        }),
        connection: ConnectionPolicy::KeepAlive,
        follow_redirects: FollowRedirects::SameHost,
        transport: Transport {
            tls: TlsPlan {
                ca: Some(ca.write(dir.path(), "ca.pem")),
                ..TlsPlan::default()
            },
            ..Transport::default()
        },
        max_connection_age: None,
    };
    let not_followed = TargetPlan {
        name: "not-followed".into(),
        follow_redirects: FollowRedirects::No,
        ..plain.clone()
    };
    let p = plan(
        "http-to-https",
        vec![plain, not_followed],
        rate(20.0),
        Duration::from_secs(1),
    );
    let out = run_in(p, &dir.path().join("out")).await;
    let (t, not) = (&out.summary.targets[0], &out.summary.targets[1]);
    assert!(t.requests > 0);
    assert_eq!(t.ok, t.requests, "{:?}", t.outcomes);
    assert_eq!(t.redirects_followed, t.requests);
    assert!(t.redirects.is_empty());
    // The TLS server saw the host's SNI, and only the followed requests.
    let snis = seen.snis.lock().unwrap().clone();
    assert!(
        !snis.is_empty() && snis.iter().all(|s| s.as_deref() == Some(HOST)),
        "{snis:?}"
    );
    assert_eq!(
        seen.answered.load(Ordering::Relaxed),
        t.requests + t.warmup_requests
    );
    assert_eq!(not.outcomes["http_3xx"], not.requests);
    assert_eq!(
        counts(not),
        [(format!("https://{HOST}:{port}/productpage"), not.requests)]
    );
}
