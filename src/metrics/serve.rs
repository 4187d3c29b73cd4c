//! The `/metrics` HTTP server: a std listener bound before any traffic (so
//! a taken port is a usage error), served with hyper on the run's runtime
//! until its token is cancelled.

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio_util::sync::CancellationToken;

use super::MetricsState;

const EXPOSITION: HeaderValue =
    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");

/// Binds `addr` now, before the run starts.
pub fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    let listener = TcpListener::bind(addr)
        .map_err(|e| format!("--metrics-listen {addr}: cannot listen: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("--metrics-listen {addr}: {e}"))?;
    Ok(listener)
}

/// Serves `GET /metrics` from `state` on `listener` until `stop`.
pub fn spawn(
    listener: TcpListener,
    state: Arc<MetricsState>,
    stop: CancellationToken,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    Ok(tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                _ = stop.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => continue,
                },
            };
            let state = state.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(respond(&req, &state)) }
                });
                let builder = auto::Builder::new(TokioExecutor::new());
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = conn => {}
                    _ = stop.cancelled() => {}
                }
            });
        }
    }))
}

fn respond(req: &Request<Incoming>, state: &MetricsState) -> Response<Full<Bytes>> {
    let mut response = if req.uri().path() != "/metrics" {
        Response::new(Full::new(Bytes::from_static(b"not found: try /metrics\n")))
    } else if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        return r;
    } else {
        let mut r = Response::new(Full::new(Bytes::from(state.render())));
        r.headers_mut().insert(CONTENT_TYPE, EXPOSITION);
        return r;
    };
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
