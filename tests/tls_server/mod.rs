//! In-process TLS / HTTP/2 servers on 127.0.0.1:0 for tests/tls.rs and
//! tests/h2.rs: a test CA made by rcgen, a rustls server that records the
//! SNI of every handshake, and hyper serving a productpage over http/1.1
//! or h2 (answering 505 to a request of another HTTP version than the one
//! the test expects), or stopping answering after some requests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use meshdrill::sim::pages::{PageState, render};
use meshdrill::sim::{Cluster, Template};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub struct TestCa {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf certificate for `names`, signed by this CA.
    pub fn leaf(&self, names: &[&str]) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let params = CertificateParams::new(names).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (vec![cert.der().clone()], key)
    }

    /// A rustls server config with a leaf for `names` and these ALPN ids.
    pub fn server_config(&self, names: &[&str], alpn: &[&[u8]]) -> rustls::ServerConfig {
        let (chain, key) = self.leaf(names);
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        config
    }

    /// The same, requiring a client certificate signed by `clients`; TLS
    /// 1.2 only when `tls12`, where a missing client certificate fails the
    /// handshake itself (TLS 1.3 refuses it after the client's handshake
    /// is done, so the client may read the alert or just a reset).
    pub fn server_config_mtls(
        &self,
        names: &[&str],
        clients: &TestCa,
        tls12: bool,
    ) -> rustls::ServerConfig {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(clients.pem.as_bytes()).unwrap())
            .unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let (chain, key) = self.leaf(names);
        let versions: &[&rustls::SupportedProtocolVersion] = if tls12 {
            &[&rustls::version::TLS12]
        } else {
            rustls::DEFAULT_VERSIONS
        };
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config
    }

    /// A client certificate and key signed by this CA, as PEM files.
    pub fn write_client(&self, dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
        let params = CertificateParams::new(vec!["meshdrill-client".to_string()]).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let (cert_path, key_path) = (dir.join("client.pem"), dir.join("client-key.pem"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (cert_path, key_path)
    }

    pub fn write(&self, dir: &std::path::Path, file: &str) -> std::path::PathBuf {
        let path = dir.join(file);
        std::fs::write(&path, &self.pem).unwrap();
        path
    }
}

/// What the server saw.
#[derive(Default)]
pub struct Seen {
    /// The SNI of every completed handshake (`None`: the client sent none).
    pub snis: Mutex<Vec<Option<String>>>,
    /// Failed handshakes.
    pub failed_handshakes: AtomicU64,
    pub connections: AtomicU64,
    /// Requests answered with a page (of the expected version).
    pub answered: AtomicU64,
    /// Requests of another version than expected (answered 505).
    pub wrong_version: AtomicU64,
    /// Set after `answer_first` requests: from then on, no connection is
    /// polled any more (no response, no ping answered, no handshake).
    frozen: AtomicBool,
}

#[derive(Clone, Copy)]
pub struct Behaviour {
    /// The HTTP version every request must arrive in.
    pub expect: Version,
    /// Answer this many requests, then stop answering anything.
    pub answer_first: Option<u64>,
    /// Close each connection gracefully (HTTP/2: GOAWAY) once it has
    /// answered this many requests.
    pub goaway_after: Option<u64>,
}

impl Behaviour {
    pub fn answering(expect: Version) -> Behaviour {
        Behaviour {
            expect,
            answer_first: None,
            goaway_after: None,
        }
    }
}

/// Serves `tls` (or plain h2c/http1 when `None`) on a fresh loopback port.
pub async fn serve(
    tls: Option<rustls::ServerConfig>,
    behaviour: Behaviour,
) -> (SocketAddr, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let acceptor = tls.map(|c| TlsAcceptor::from(Arc::new(c)));
    let page = Bytes::from(render(
        Template::Current,
        PageState::Reviews {
            cluster: Cluster::Primary,
            version: 1,
        },
    ));
    let state = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            state.connections.fetch_add(1, Ordering::Relaxed);
            let seen = state.clone();
            let acceptor = acceptor.clone();
            let page = page.clone();
            tokio::spawn(async move {
                if seen.frozen.load(Ordering::Relaxed) {
                    // Hold the socket (moved in here), never answer.
                    let _held = tcp;
                    return std::future::pending::<()>().await;
                }
                match acceptor {
                    Some(acceptor) => match acceptor.accept(tcp).await {
                        Ok(stream) => {
                            let sni = stream.get_ref().1.server_name().map(str::to_string);
                            seen.snis.lock().unwrap().push(sni);
                            http(TokioIo::new(stream), seen, behaviour, page).await;
                        }
                        Err(_) => {
                            seen.failed_handshakes.fetch_add(1, Ordering::Relaxed);
                        }
                    },
                    None => http(TokioIo::new(tcp), seen, behaviour, page).await,
                }
            });
        }
    });
    (addr, seen)
}

async fn http<I>(io: I, seen: Arc<Seen>, behaviour: Behaviour, page: Bytes)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let handler = seen.clone();
    let on_this_connection = Arc::new(AtomicU64::new(0));
    let counted = on_this_connection.clone();
    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let seen = handler.clone();
        let page = page.clone();
        counted.fetch_add(1, Ordering::Relaxed);
        async move {
            if seen.frozen.load(Ordering::Relaxed) {
                std::future::pending::<()>().await;
            }
            if req.version() != behaviour.expect {
                seen.wrong_version.fetch_add(1, Ordering::Relaxed);
                let mut r = Response::new(Full::new(Bytes::from_static(b"wrong version")));
                *r.status_mut() = StatusCode::HTTP_VERSION_NOT_SUPPORTED;
                return Ok::<_, std::convert::Infallible>(r);
            }
            let answered = seen.answered.fetch_add(1, Ordering::Relaxed) + 1;
            if behaviour.answer_first.is_some_and(|n| answered >= n) {
                seen.frozen.store(true, Ordering::Relaxed);
            }
            let mut r = Response::new(Full::new(page));
            r.headers_mut()
                .insert("content-type", "text/html; charset=utf-8".parse().unwrap());
            Ok(r)
        }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let watch = seen.clone();
    let frozen = async move {
        while !watch.frozen.load(Ordering::Relaxed) {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    let goaway = async move {
        match behaviour.goaway_after {
            Some(n) => {
                while on_this_connection.load(Ordering::Relaxed) < n {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = &mut conn => {}
        // Stop polling the connection: it neither answers nor acks pings.
        () = frozen => std::future::pending::<()>().await,
        () = goaway => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
