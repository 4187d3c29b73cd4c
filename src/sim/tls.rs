//! The simulator's TLS: a CA and a leaf certificate for [`SIM_TLS_NAME`]
//! (and 127.0.0.1) made at start with rcgen, and the rustls server config
//! that offers h2 and http/1.1 by ALPN. Nothing is written to disk: the sim
//! targets trust the CA in memory.

use std::io;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The host name the simulator's certificate is for; sim targets send it
/// as SNI and Host and dial the simulator's address for it (never resolved).
pub const SIM_TLS_NAME: &str = "localhost";

pub struct SimTls {
    pub acceptor: TlsAcceptor,
    /// The CA that signed the leaf: what a client must trust.
    pub ca: CertificateDer<'static>,
}

impl std::fmt::Debug for SimTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimTls").finish_non_exhaustive()
    }
}

impl SimTls {
    pub fn generate() -> io::Result<SimTls> {
        let invalid = |e: rcgen::Error| io::Error::other(format!("sim certificate: {e}"));
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(invalid)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "meshdrill simulator CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().map_err(invalid)?;
        let ca_cert = ca_params.self_signed(&ca_key).map_err(invalid)?;
        let issuer = Issuer::new(ca_params, ca_key);
        let mut leaf_params =
            CertificateParams::new(vec![SIM_TLS_NAME.to_string(), "127.0.0.1".to_string()])
                .map_err(invalid)?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, SIM_TLS_NAME);
        let leaf_key = KeyPair::generate().map_err(invalid)?;
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).map_err(invalid)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let mut config =
            rustls::ServerConfig::builder_with_provider(crate::engine::tls::provider())
                .with_safe_default_protocol_versions()
                .map_err(io::Error::other)?
                .with_no_client_auth()
                .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key)
                .map_err(io::Error::other)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(SimTls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            ca: ca_cert.der().clone(),
        })
    }
}
