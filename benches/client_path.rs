//! What one warm keep-alive HTTP/1.1 request costs through each client
//! path a lane could use (issue 14, "measure both"): hyper-util's pooled
//! legacy `Client::request` (what `TargetClient` uses), the same through
//! meshdrill's own `TargetClient::exchange`, and a connection owned by the
//! caller (`hyper::client::conn::http1::SendRequest::send_request`). Each
//! builds the same GET (`Host`, `User-Agent`) and reads the whole body.
//!
//! `cargo bench --bench client_path` times the three against an
//! in-process hyper server on 127.0.0.1:0 (criterion, wall time: noisy on
//! a busy machine). For instructions, which a busy machine cannot change,
//! run the bench binary under callgrind against a server in another
//! process (nginx serving the fixture, as `scripts/bench-peers` does):
//!
//! ```text
//! valgrind --tool=callgrind $BENCH --count MODE N http://127.0.0.1:PORT/productpage
//! ```
//!
//! for two counts N and take (Ir(N2) - Ir(N1)) / (N2 - N1): the setup and
//! the warm-up cancel out. MODE is `pooled`, `target` or `owned`.

use std::convert::Infallible;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use criterion::Criterion;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::header::{HOST, HeaderValue, USER_AGENT};
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use meshdrill::engine::buffers::{BodyBudget, BodyBuf, BodyPool};
use meshdrill::engine::client::{ClientSpec, Reply, TargetClient};
use meshdrill::engine::connect::ConnectSpec;
use meshdrill::engine::resolve::Resolver;
use meshdrill::scenario::{ConnectionPolicy, FollowRedirects, HttpVersion};
use tokio::runtime::Runtime;

const AGENT: &str = "meshdrill/bench";

/// One of the three paths, warm: its connection open.
enum Path {
    Pooled {
        client: Box<Client<HttpConnector, Empty<Bytes>>>,
        uri: Uri,
        host: HeaderValue,
    },
    Target(Box<TargetClient>, BodyPool),
    Owned {
        sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
        uri: Uri,
        host: HeaderValue,
    },
}

fn request(uri: &Uri, host: &HeaderValue) -> Request<Empty<Bytes>> {
    let mut request = Request::new(Empty::<Bytes>::new());
    *request.uri_mut() = uri.clone();
    let headers = request.headers_mut();
    headers.insert(HOST, host.clone());
    headers.insert(USER_AGENT, HeaderValue::from_static(AGENT));
    request
}

/// Reads the whole body, as the client does, and returns its length.
async fn drain(response: Response<Incoming>) -> usize {
    let mut body = response.into_body();
    let mut n = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("the body").into_data() {
            n += black_box(data).len();
        }
    }
    n
}

impl Path {
    async fn new(mode: &str, url: &str) -> Path {
        let uri: Uri = url.parse().expect("a URL");
        let authority = uri.authority().expect("an authority").to_string();
        let host = HeaderValue::from_str(&authority).unwrap();
        match mode {
            "pooled" => {
                let client = Client::builder(TokioExecutor::new())
                    .pool_max_idle_per_host(4)
                    .build(HttpConnector::new());
                Path::Pooled {
                    client: Box::new(client),
                    uri,
                    host,
                }
            }
            "target" => {
                let spec = ClientSpec {
                    uri,
                    host: authority,
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
                let client = TargetClient::new(&spec).unwrap();
                let pool = BodyPool::new(client.body_budget());
                Path::Target(Box::new(client), pool)
            }
            "owned" => {
                let addr = format!("{}:{}", uri.host().unwrap(), uri.port_u16().unwrap_or(80));
                let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
                tcp.set_nodelay(true).unwrap();
                let (sender, conn) = hyper::client::conn::http1::Builder::new()
                    .max_buf_size(64 * 1024)
                    .handshake(TokioIo::new(tcp))
                    .await
                    .expect("handshake");
                tokio::spawn(conn);
                let uri = meshdrill::engine::owned::origin_form(&uri);
                Path::Owned { sender, uri, host }
            }
            other => panic!("unknown mode {other}: pooled, target or owned"),
        }
    }

    async fn one(&mut self) -> usize {
        match self {
            Path::Pooled { client, uri, host } => {
                let response = client.request(request(uri, host)).await.expect("response");
                drain(response).await
            }
            Path::Target(client, pool) => {
                let mut body: BodyBuf = pool.take();
                let answer = client
                    .exchange(&mut body, tokio::time::Instant::now())
                    .await;
                assert!(matches!(answer.reply, Reply::Response { .. }));
                let n = body.len();
                pool.give(body, 0);
                n
            }
            Path::Owned { sender, uri, host } => {
                sender.ready().await.expect("ready");
                let response = sender
                    .send_request(request(uri, host))
                    .await
                    .expect("response");
                drain(response).await
            }
        }
    }
}

/// `--count MODE N URL`: N warm requests after 100 of warm-up, on a
/// current-thread runtime (the client's work on one thread).
fn count(mode: &str, n: usize, url: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut path = Path::new(mode, url).await;
        for _ in 0..100 {
            path.one().await;
        }
        let mut bytes = 0;
        for _ in 0..n {
            bytes += path.one().await;
        }
        println!("{mode}: {n} requests, {bytes} body bytes");
    });
}

/// An HTTP/1.1 keep-alive server on 127.0.0.1:0 in its own runtime,
/// answering every request with the 15 KB productpage.
fn server() -> SocketAddr {
    let page = Bytes::from(
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/bookinfo/productpage/current__v2_ok.html"
        ))
        .expect("the Bookinfo fixtures beside the repository"),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let page = page.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_req| {
                        let page = page.clone();
                        async move {
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .header("content-type", "text/html; charset=utf-8")
                                    .body(Full::new(page))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
    });
    addr
}

fn bench(c: &mut Criterion) {
    let url = format!("http://{}/productpage", server());
    let runtime: Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("client_path");
    for mode in ["pooled", "target", "owned"] {
        let mut path = runtime.block_on(Path::new(mode, &url));
        group.bench_function(mode, |b| {
            b.iter(|| runtime.block_on(path.one()));
        });
    }
    group.finish();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--count") {
        let mode = &args[at + 1];
        let n = args[at + 2].parse().expect("a request count");
        count(mode, n, &args[at + 3]);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
