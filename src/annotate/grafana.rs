//! One `POST {url}/api/annotations` (Grafana's HTTP API), over HTTP/1.1 on
//! a connection of its own, bounded by one timeout from connect to the
//! answer's body. `https://` is dialled with rustls and the platform's roots.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::scenario::GrafanaPlan;

/// The body of the API's `POST /api/annotations`.
#[derive(Serialize)]
pub(super) struct Body<'a> {
    pub time: u64,
    #[serde(rename = "timeEnd", skip_serializing_if = "Option::is_none")]
    pub time_end: Option<u64>,
    pub tags: &'a [String],
    pub text: &'a str,
    #[serde(rename = "dashboardUID", skip_serializing_if = "Option::is_none")]
    pub dashboard_uid: Option<&'a str>,
}

/// What Grafana answered: its status and (for a refusal) the start of its body.
pub(super) struct Answer {
    pub status: u16,
    pub body: String,
}

/// Most of an answer's body kept, for the error message.
const ANSWER_CAP: usize = 4096;

pub(super) async fn post(
    grafana: &GrafanaPlan,
    body: &Body<'_>,
    timeout: Duration,
) -> Result<Answer, String> {
    let json = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    match tokio::time::timeout(timeout, exchange(grafana, json)).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "no answer within {}",
            humantime::format_duration(timeout)
        )),
    }
}

async fn exchange(grafana: &GrafanaPlan, json: Vec<u8>) -> Result<Answer, String> {
    let url = &grafana.url;
    let https = url.scheme_str() == Some("https");
    let host = url.host().ok_or("the URL has no host")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let base = url.path().trim_end_matches('/');
    let authority = url.authority().map_or(host, |a| a.as_str());
    let mut request = Request::post(format!("{base}/api/annotations"))
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::ACCEPT, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("meshdrill/", env!("CARGO_PKG_VERSION")),
        );
    if let Some(token) = &grafana.token {
        request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(Bytes::from(json)))
        .map_err(|e| e.to_string())?;
    if https {
        let tls = tls_connector()
            .connect(server_name(host)?, tcp)
            .await
            .map_err(|e| format!("TLS with {host}: {e}"))?;
        send(tls, request).await
    } else {
        send(tcp, request).await
    }
}

async fn send<S>(stream: S, request: Request<Full<Bytes>>) -> Result<Answer, String>
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
        let body = Limited::new(response.into_body(), ANSWER_CAP)
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        Ok(Answer { status, body })
    }
    .await;
    driving.abort();
    result
}

pub(crate) fn tls_connector() -> tokio_rustls::TlsConnector {
    let config = rustls::ClientConfig::builder_with_provider(crate::engine::tls::provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(crate::engine::tls::platform_roots())
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

pub(crate) fn server_name(host: &str) -> Result<rustls_pki_types::ServerName<'static>, String> {
    rustls_pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| format!("{host} is not a TLS server name: {e}"))
}
