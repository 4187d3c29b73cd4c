//! One HTTP/1.1 request to a service beside the run (the users' Grafana
//! for `annotate`, their Prometheus for `evidence`): a connection of its
//! own, `https://` dialled with rustls and the platform's roots, the
//! answer's body read up to a cap. Never on the request path; the callers
//! bound it with their own timeout.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Uri};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// What to send: `path` (origin form) on `base`'s scheme and authority.
pub struct SideRequest<'a> {
    pub method: Method,
    pub base: &'a Uri,
    pub path: &'a str,
    /// Beside Host, Accept (JSON) and User-Agent.
    pub headers: Vec<(hyper::header::HeaderName, String)>,
    pub body: Bytes,
}

/// The answer's status, and its body (up to `cap` bytes) or why it could
/// not be read.
pub struct SideAnswer {
    pub status: u16,
    pub body: Result<Bytes, String>,
}

/// `Err` when no answer's head came back (connect, TLS, the exchange).
pub async fn exchange(request: SideRequest<'_>, cap: usize) -> Result<SideAnswer, String> {
    let base = request.base;
    let https = base.scheme_str() == Some("https");
    let host = base.host().ok_or("the URL has no host")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = base.port_u16().unwrap_or(if https { 443 } else { 80 });
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let authority = base.authority().map_or(host, |a| a.as_str());
    let mut builder = hyper::Request::builder()
        .method(request.method)
        .uri(request.path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::ACCEPT, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("meshdrill/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in request.headers {
        builder = builder.header(name, value);
    }
    let request = builder
        .body(Full::new(request.body))
        .map_err(|e| e.to_string())?;
    if https {
        let tls = tls_connector()
            .connect(server_name(host)?, tcp)
            .await
            .map_err(|e| format!("TLS with {host}: {e}"))?;
        send(tls, request, cap).await
    } else {
        send(tcp, request, cap).await
    }
}

async fn send<S>(
    stream: S,
    request: hyper::Request<Full<Bytes>>,
    cap: usize,
) -> Result<SideAnswer, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driving = tokio::spawn(connection);
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), cap)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| e.to_string());
        Ok(SideAnswer { status, body })
    }
    .await;
    driving.abort();
    result
}

fn tls_connector() -> tokio_rustls::TlsConnector {
    let config = rustls::ClientConfig::builder_with_provider(crate::engine::tls::provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(crate::engine::tls::platform_roots())
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

fn server_name(host: &str) -> Result<rustls_pki_types::ServerName<'static>, String> {
    rustls_pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| format!("{host} is not a TLS server name: {e}"))
}
