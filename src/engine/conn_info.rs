//! What a connection knows about itself, carried to every response it
//! answers (hyper-util's `Connected::extra` puts it in the response's
//! extensions), so an outcome can say which address answered and how long
//! its connection took to open.

use std::net::SocketAddr;

use tokio::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnInfo {
    /// The address the TCP connection reached.
    pub peer: SocketAddr,
    /// When the connection was ready (TCP, and TLS when there is one): its
    /// age decides when a pooled connection is retired so traffic follows
    /// an address change.
    pub opened_at: Instant,
    /// TCP connect, in microseconds.
    pub tcp_connect_us: u32,
    /// TLS handshake after the TCP connect, in microseconds (`None` for
    /// plain http).
    pub tls_handshake_us: Option<u32>,
}
