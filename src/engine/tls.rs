//! TLS for the connector: each target's rustls client configuration (its
//! roots, client certificate, ALPN and server name), the handshake, and
//! which outcome kind a failed handshake is. One crypto provider (ring),
//! passed explicitly to every config, so no process-wide default is needed
//! and a second provider in the dependency tree cannot make rustls panic.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::outcome::Kind;
use crate::scenario::{HttpVersion, TlsPlan};

/// The one crypto provider meshdrill uses (client, simulator and tests).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A CA, certificate or key file that cannot be used: named, before any
/// traffic is sent.
#[derive(Debug, thiserror::Error)]
#[error("{what} {path}: {message}")]
pub struct TlsFileError {
    pub what: &'static str,
    pub path: PathBuf,
    pub message: String,
}

/// A target's TLS, shared by its connectors.
pub struct TlsSettings {
    connector: TlsConnector,
    /// The `sni` setting; `None`: each request's host.
    sni: Option<ServerName<'static>>,
    handshakes: Mutex<Histogram<u64>>,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("sni", &self.sni)
            .finish_non_exhaustive()
    }
}

/// Completed handshakes of one target, in microseconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HandshakeTimes {
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// The platform's trusted roots (the operating system's store), read
/// once per run. Certificates it cannot parse are skipped, as every
/// rustls-native-certs user does: one odd certificate in /etc/ssl must
/// not stop a drill.
pub fn platform_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    roots
}

/// What a target's TLS is built from, besides its plan.
pub struct TlsInputs<'a> {
    pub plan: &'a TlsPlan,
    pub http: HttpVersion,
    /// Where relative `ca`, `cert` and `key` paths start (the scenario
    /// file's folder).
    pub base: &'a Path,
    pub platform: &'a RootCertStore,
    /// Roots trusted besides the platform's and `ca` (the simulator's CA).
    pub extra_roots: &'a [CertificateDer<'static>],
}

impl TlsSettings {
    pub fn new(inputs: &TlsInputs<'_>) -> Result<TlsSettings, TlsFileError> {
        let plan = inputs.plan;
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions");
        let builder = if plan.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider())))
        } else {
            let mut roots = inputs.platform.clone();
            for cert in inputs.extra_roots {
                roots.add(cert.clone()).map_err(|e| TlsFileError {
                    what: "simulator CA",
                    path: PathBuf::new(),
                    message: e.to_string(),
                })?;
            }
            if let Some(ca) = &plan.ca {
                let path = inputs.base.join(ca);
                let certs = read_certs("ca", &path)?;
                for cert in certs {
                    roots.add(cert).map_err(|e| TlsFileError {
                        what: "ca",
                        path: path.clone(),
                        message: format!("not a usable CA certificate: {e}"),
                    })?;
                }
            }
            builder.with_root_certificates(roots)
        };
        let mut config = match &plan.client_cert {
            None => builder.with_no_client_auth(),
            Some(client) => {
                let cert_path = inputs.base.join(&client.cert);
                let key_path = inputs.base.join(&client.key);
                let chain = read_certs("cert", &cert_path)?;
                let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| TlsFileError {
                    what: "key",
                    path: key_path.clone(),
                    message: format!("no PEM private key read: {e}"),
                })?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| TlsFileError {
                        what: "key",
                        path: key_path,
                        message: format!("does not go with cert {}: {e}", cert_path.display()),
                    })?
            }
        };
        config.alpn_protocols = match inputs.http {
            HttpVersion::H1 => vec![b"http/1.1".to_vec()],
            HttpVersion::H2 => vec![b"h2".to_vec()],
            HttpVersion::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        };
        let sni = plan.sni.as_ref().map(|name| {
            ServerName::try_from(name.clone()).expect("the scenario compiler checked sni")
        });
        Ok(TlsSettings {
            connector: TlsConnector::from(Arc::new(config)),
            sni,
            handshakes: Mutex::new(Histogram::new(3).expect("3 significant figures is valid")),
        })
    }

    /// The server name sent (SNI) and verified: `sni`, else `host` (the
    /// request's host, brackets removed). An IP literal is verified as
    /// an IP and, by RFC 6066, sent as no SNI at all.
    pub fn server_name(&self, host: &str) -> Result<ServerName<'static>, io::Error> {
        if let Some(sni) = &self.sni {
            return Ok(sni.clone());
        }
        ServerName::try_from(host.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    }

    pub async fn handshake(
        &self,
        name: ServerName<'static>,
        tcp: TcpStream,
    ) -> io::Result<TlsStream<TcpStream>> {
        self.connector.connect(name, tcp).await
    }

    /// Once per connection, not per request: a lock beside a handshake's
    /// cost is nothing.
    pub fn record_handshake(&self, us: u64) {
        let mut h = self.handshakes.lock().unwrap_or_else(|e| e.into_inner());
        h.saturating_record(us.max(1));
    }

    pub fn handshake_times(&self) -> HandshakeTimes {
        let h = self.handshakes.lock().unwrap_or_else(|e| e.into_inner());
        HandshakeTimes {
            count: h.len(),
            p50_us: h.value_at_quantile(0.5),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
        }
    }
}

fn read_certs(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let failed = |message: String| TlsFileError {
        what,
        path: path.to_path_buf(),
        message,
    };
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| failed(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| failed(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(failed("holds no PEM certificate".to_string()));
    }
    Ok(certs)
}

/// A failed handshake's kind: the certificate refused (by meshdrill, or
/// by the server with an alert about a certificate, e.g. the client's) is
/// `tls_cert`; anything else, the peer closing included, `tls_handshake`.
pub fn handshake_kind(err: &io::Error) -> Kind {
    let rustls_error = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(_)) => Kind::TlsCert,
        Some(rustls::Error::AlertReceived(alert)) if is_certificate_alert(*alert) => Kind::TlsCert,
        _ => Kind::TlsHandshake,
    }
}

fn is_certificate_alert(alert: AlertDescription) -> bool {
    use AlertDescription::*;
    matches!(
        alert,
        BadCertificate
            | UnsupportedCertificate
            | CertificateRevoked
            | CertificateExpired
            | CertificateUnknown
            | UnknownCA
            | CertificateRequired
            | BadCertificateStatusResponse
    )
}

/// `insecure = true`: every certificate accepted. Signatures are still
/// checked with the provider's algorithms, so the handshake itself is
/// real TLS.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_problems_are_tls_cert_and_the_rest_tls_handshake() {
        let wrap = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        let cert = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert_eq!(handshake_kind(&wrap(cert)), Kind::TlsCert);
        let alert = rustls::Error::AlertReceived(AlertDescription::UnknownCA);
        assert_eq!(handshake_kind(&wrap(alert)), Kind::TlsCert);
        let alert = rustls::Error::AlertReceived(AlertDescription::NoApplicationProtocol);
        assert_eq!(handshake_kind(&wrap(alert)), Kind::TlsHandshake);
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert_eq!(handshake_kind(&eof), Kind::TlsHandshake);
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let plan = TlsPlan {
            ca: Some("no-such-ca.pem".into()),
            ..TlsPlan::default()
        };
        let inputs = TlsInputs {
            plan: &plan,
            http: HttpVersion::Auto,
            base: Path::new("/nonexistent-dir"),
            platform: &RootCertStore::empty(),
            extra_roots: &[],
        };
        let err = TlsSettings::new(&inputs).unwrap_err();
        assert_eq!(err.what, "ca");
        assert_eq!(err.path, Path::new("/nonexistent-dir/no-such-ca.pem"));
    }
}
