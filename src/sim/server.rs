//! One simulated ingress gateway's HTTP side: serves a connection with hyper
//! and answers each request from pre-built parts (pages, header values)
//! according to the cluster's current fault. The gateway module feeds it
//! accepted connections and a cancellation token.
//!
//! Cost per request: an `Arc` clone, the response's header map (hyper's),
//! refcount clones of pre-rendered bodies and header values, and a timer
//! entry when there is latency to add. Nothing is formatted.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::faults::FaultCell;
use super::istio::{Answering, IstioCounters, METRICS_PATH, Series};
use super::mix::version_for;
use super::pages::{Body, Pages};
use super::stats::StatsCell;
use super::tls::SimTls;
use super::{Cluster, SimConfig, SimFault};

pub type SimResponse = Response<Full<Bytes>>;

const ISTIO_ENVOY: HeaderValue = HeaderValue::from_static("istio-envoy");
const TEXT_HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain");
const EXPOSITION: HeaderValue =
    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
const COOKIE: HeaderValue = HeaderValue::from_static("Cookie");
const ZERO: HeaderValue = HeaderValue::from_static("0");
const GET_HEAD: HeaderValue = HeaderValue::from_static("GET, HEAD");
const UPSTREAM_SERVICE_TIME: HeaderName = HeaderName::from_static("x-envoy-upstream-service-time");

/// Envoy's local reply when the route's cluster has no ready endpoint (flag UH).
pub const NO_HEALTHY_UPSTREAM: &str = "no healthy upstream";
pub const HEALTH_OK: &str = "ok";

/// Pre-rendered `x-envoy-upstream-service-time` values for delays up to this
/// many milliseconds; longer delays (a latency fault over a second) format
/// their value, which is nothing next to the sleep.
const SERVICE_TIME_TABLE_MS: usize = 1000;

/// What both clusters share: configuration and everything pre-rendered from it.
#[derive(Debug)]
pub struct Site {
    pub config: SimConfig,
    pages: Pages,
    health: Body,
    no_healthy_upstream: Body,
    service_time: Box<[HeaderValue]>,
    /// `[sim] tls = true`: every connection is TLS (h2 or http/1.1).
    pub tls: Option<Arc<SimTls>>,
}

impl Site {
    pub fn new(config: SimConfig, tls: Option<Arc<SimTls>>) -> Site {
        Site {
            tls,
            pages: Pages::render(config.template),
            health: Body::new(Bytes::from_static(HEALTH_OK.as_bytes())),
            no_healthy_upstream: Body::new(Bytes::from_static(NO_HEALTHY_UPSTREAM.as_bytes())),
            service_time: (0..SERVICE_TIME_TABLE_MS).map(HeaderValue::from).collect(),
            config,
        }
    }

    fn service_time(&self, delay: Duration) -> HeaderValue {
        let ms = delay.as_millis();
        match self.service_time.get(ms as usize) {
            Some(v) if ms < SERVICE_TIME_TABLE_MS as u128 => v.clone(),
            _ => HeaderValue::from(u64::try_from(ms).unwrap_or(u64::MAX)),
        }
    }
}

/// One cluster's request-side state, shared by its connection tasks.
#[derive(Debug)]
pub struct ClusterState {
    pub cluster: Cluster,
    pub site: Arc<Site>,
    pub fault: FaultCell,
    pub stats: StatsCell,
    /// `istio_requests_total`, served on [`METRICS_PATH`].
    pub istio: IstioCounters,
    /// Productpage requests answered with reviews so far: the input of
    /// [`version_for`], so the mix is exact per cluster.
    page_seq: AtomicU64,
}

impl ClusterState {
    pub fn new(cluster: Cluster, site: Arc<Site>) -> ClusterState {
        ClusterState {
            cluster,
            site,
            fault: FaultCell::default(),
            stats: StatsCell::default(),
            istio: IstioCounters::default(),
            page_seq: AtomicU64::new(0),
        }
    }
}

/// Serves HTTP/1.1 on one accepted connection until the client leaves or
/// `cancel` fires. On cancel the socket is closed with RST, as the kernel
/// does for a gateway pod that is killed mid-connection.
pub async fn serve_connection(
    stream: TcpStream,
    state: Arc<ClusterState>,
    cancel: CancellationToken,
) {
    // Responses are single writes; don't let Nagle hold back the next one.
    let _ = stream.set_nodelay(true);
    if let Some(tls) = state.site.tls.clone() {
        return serve_tls(stream, &tls, state, cancel).await;
    }
    let service = service_fn(move |req| handle(state.clone(), req));
    let mut conn = http1::Builder::new()
        // Envoy keeps idle downstream connections for an hour; so does the sim
        // (no header timer, so a pooled idle connection is never cut by us).
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(stream), service);
    let cancelled = tokio::select! {
        // Client closed or spoke bad HTTP: either way this connection is done.
        _ = &mut conn => false,
        () = cancel.cancelled() => true,
    };
    if cancelled {
        let _ = conn.into_parts().io.inner().set_zero_linger();
    }
}

/// A TLS connection: the handshake, then HTTP/2 or HTTP/1.1 as ALPN (or
/// the client's preface) says. Cancelled like a plain one: the socket is
/// reset, not closed.
async fn serve_tls(
    stream: TcpStream,
    tls: &SimTls,
    state: Arc<ClusterState>,
    cancel: CancellationToken,
) {
    let fd = std::os::fd::AsRawFd::as_raw_fd(&stream);
    let handshake = tokio::select! {
        done = tls.acceptor.accept(stream) => done,
        () = cancel.cancelled() => return,
    };
    let Ok(stream) = handshake else {
        return;
    };
    let service = service_fn(move |req| handle(state.clone(), req));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().header_read_timeout(None);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let cancelled = tokio::select! {
        _ = &mut conn => false,
        () = cancel.cancelled() => true,
    };
    if cancelled {
        // The connection (and so `fd`) is still open here.
        set_zero_linger(fd);
    }
}

/// SO_LINGER 0: closing the socket resets it, as a vanished gateway does.
fn set_zero_linger(fd: std::os::fd::RawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `fd` is an open socket owned by the caller's live connection;
    // setsockopt only reads the struct it is given.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    ProductPage,
    Health,
    /// [`METRICS_PATH`]: the gateway's own metrics, not Bookinfo traffic.
    Metrics,
    NotFound,
    MethodNotAllowed,
}

impl Route {
    fn of(method: &Method, path: &str) -> Route {
        if method != Method::GET && method != Method::HEAD {
            return Route::MethodNotAllowed;
        }
        match path {
            "/productpage" => Route::ProductPage,
            "/health" => Route::Health,
            METRICS_PATH => Route::Metrics,
            _ => Route::NotFound,
        }
    }
}

/// One request: counted and in flight from headers received until the
/// response is handed back, including any time a blackhole holds it. A
/// scrape of [`METRICS_PATH`] is answered at once and counted nowhere.
pub async fn handle(
    state: Arc<ClusterState>,
    req: Request<Incoming>,
) -> Result<SimResponse, Infallible> {
    let route = Route::of(req.method(), req.uri().path());
    drop(req);
    if route == Route::Metrics {
        return Ok(metrics(&state));
    }
    let _in_flight = state.stats.request_started();
    let answering = Answering::new(&state.istio);
    let fault = state.fault.pass_blackhole().await;
    let response = respond(&state, route, fault).await;
    answering.answered();
    Ok(response)
}

fn metrics(state: &ClusterState) -> SimResponse {
    let mut res = Response::new(Full::new(Bytes::from(state.istio.render(state.cluster))));
    let h = res.headers_mut();
    h.insert(header::SERVER, ISTIO_ENVOY);
    h.insert(header::CONTENT_TYPE, EXPOSITION);
    res
}

async fn respond(state: &ClusterState, route: Route, fault: SimFault) -> SimResponse {
    let site = &*state.site;
    match route {
        // Gateway local replies: no upstream involved, so no delay and no fault.
        Route::NotFound => {
            state.istio.count(Series::GatewayNoRoute);
            empty(StatusCode::NOT_FOUND)
        }
        Route::Metrics => metrics(state),
        Route::MethodNotAllowed => {
            state.istio.count(Series::GatewayMethodNotAllowed);
            let mut res = empty(StatusCode::METHOD_NOT_ALLOWED);
            res.headers_mut().insert(header::ALLOW, GET_HEAD);
            res
        }
        Route::ProductPage | Route::Health => {
            let extra = match fault {
                // `Down` only shows here in the instant before its teardown
                // reaches this connection; treat it as the upstream being gone.
                SimFault::Http503 | SimFault::Down => {
                    state.istio.count(Series::GatewayNoHealthyUpstream);
                    return local_reply(StatusCode::SERVICE_UNAVAILABLE, &site.no_healthy_upstream);
                }
                SimFault::Latency(d) => d,
                _ => Duration::ZERO,
            };
            let delay = site.config.base_latency.saturating_add(extra);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let service_time = site.service_time(delay);
            // Counted once the answer is certain: a client gone during the
            // delay is `0 DC` instead (see `Answering`).
            state.istio.count(Series::GatewayOk);
            if route == Route::Health {
                return upstream_reply(&site.health, TEXT_PLAIN, service_time);
            }
            let page = match fault {
                SimFault::Degraded => {
                    state.istio.count(Series::ReviewsNoHealthyUpstream);
                    site.pages.unavailable()
                }
                _ => {
                    let shown = match fault {
                        SimFault::CrossCluster => {
                            state.istio.count(Series::ReviewsOtherCluster);
                            state.cluster.other()
                        }
                        _ => {
                            state.istio.count(Series::ReviewsLocal);
                            state.cluster
                        }
                    };
                    let n = state.page_seq.fetch_add(1, Ordering::Relaxed);
                    site.pages
                        .reviews(shown, version_for(n, site.config.reviews_mix))
                }
            };
            let mut res = upstream_reply(page, TEXT_HTML, service_time);
            // productpage reads the Flask session, so its answers vary by cookie.
            res.headers_mut().insert(header::VARY, COOKIE);
            res
        }
    }
}

fn base(status: StatusCode, body: &Body) -> SimResponse {
    let mut res = Response::new(Full::new(body.bytes.clone()));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::SERVER, ISTIO_ENVOY);
    h.insert(header::CONTENT_LENGTH, body.content_length.clone());
    res
}

/// Envoy's empty local reply (404 NR): `content-length: 0`, no content-type.
fn empty(status: StatusCode) -> SimResponse {
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::SERVER, ISTIO_ENVOY);
    h.insert(header::CONTENT_LENGTH, ZERO);
    res
}

/// Envoy's local reply with a text body (503 UH).
fn local_reply(status: StatusCode, body: &Body) -> SimResponse {
    let mut res = base(status, body);
    res.headers_mut().insert(header::CONTENT_TYPE, TEXT_PLAIN);
    res
}

/// An answer that went through to the upstream app.
fn upstream_reply(
    body: &Body,
    content_type: HeaderValue,
    service_time: HeaderValue,
) -> SimResponse {
    let mut res = base(StatusCode::OK, body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(UPSTREAM_SERVICE_TIME, service_time);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::of(&Method::GET, "/productpage"), Route::ProductPage);
        assert_eq!(Route::of(&Method::HEAD, "/productpage"), Route::ProductPage);
        assert_eq!(Route::of(&Method::GET, "/health"), Route::Health);
        assert_eq!(Route::of(&Method::GET, METRICS_PATH), Route::Metrics);
        assert_eq!(Route::of(&Method::GET, "/productpage/"), Route::NotFound);
        assert_eq!(Route::of(&Method::GET, "/"), Route::NotFound);
        assert_eq!(
            Route::of(&Method::POST, "/productpage"),
            Route::MethodNotAllowed
        );
        assert_eq!(Route::of(&Method::DELETE, "/nope"), Route::MethodNotAllowed);
    }

    #[test]
    fn service_time_values() {
        let site = Site::new(SimConfig::default(), None);
        assert_eq!(site.service_time(Duration::from_micros(2900)), "2");
        assert_eq!(site.service_time(Duration::from_millis(999)), "999");
        assert_eq!(site.service_time(Duration::from_millis(1000)), "1000");
        assert_eq!(site.service_time(Duration::from_secs(90)), "90000");
    }

    #[tokio::test]
    async fn responses_per_fault() {
        let config = SimConfig {
            base_latency: Duration::ZERO,
            ..SimConfig::default()
        };
        let state = ClusterState::new(Cluster::Primary, Arc::new(Site::new(config, None)));

        let res = respond(&state, Route::ProductPage, SimFault::Restore).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::SERVER], "istio-envoy");
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_eq!(res.headers()[UPSTREAM_SERVICE_TIME], "0");

        let res = respond(&state, Route::ProductPage, SimFault::Http503).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/plain");
        assert_eq!(res.headers()[header::CONTENT_LENGTH], "19");
        assert!(!res.headers().contains_key(UPSTREAM_SERVICE_TIME));

        let res = respond(&state, Route::NotFound, SimFault::Degraded).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.headers()[header::CONTENT_LENGTH], "0");
        assert!(!res.headers().contains_key(header::CONTENT_TYPE));

        let res = respond(&state, Route::Health, SimFault::Degraded).await;
        assert_eq!(
            (res.status(), &res.headers()[header::CONTENT_TYPE]),
            (StatusCode::OK, &TEXT_PLAIN)
        );

        let res = respond(&state, Route::MethodNotAllowed, SimFault::Restore).await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(res.headers()[header::ALLOW], "GET, HEAD");

        let res = respond(&state, Route::ProductPage, SimFault::CrossCluster).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = respond(&state, Route::Metrics, SimFault::Http503).await;
        assert_eq!(res.headers()[header::CONTENT_TYPE], EXPOSITION);

        // What the mesh reported for those answers, hop by hop.
        let counts = [
            (Series::GatewayOk, 3),
            (Series::GatewayNoHealthyUpstream, 1),
            (Series::GatewayNoRoute, 1),
            (Series::GatewayMethodNotAllowed, 1),
            (Series::GatewayDownstreamClosed, 0),
            (Series::ReviewsLocal, 1),
            (Series::ReviewsOtherCluster, 1),
            (Series::ReviewsNoHealthyUpstream, 0),
        ];
        for (series, n) in counts {
            assert_eq!(state.istio.get(series), n, "{series:?}");
        }
    }
}
