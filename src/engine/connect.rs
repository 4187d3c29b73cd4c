//! meshdrill's connector: turns a request URI into an open connection for
//! hyper-util's pooled client, or for the connections a target's client
//! keeps itself ([`crate::engine::owned`]). It owns where a target is dialed (curl's
//! `--connect-to` model: the URI keeps the real host, a pin says which
//! address serves it), name resolution through [`Resolver`], the TCP
//! connect with its timeout, and the [`ConnInfo`] every response carries.
//! Its errors say which outcome kind they are and which address was being
//! dialed.

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;

use crate::engine::conn_info::ConnInfo;
use crate::engine::resolve::{ResolveError, Resolver};
use crate::engine::tls::{self, TlsSettings};
use crate::outcome::Kind;

/// Where one host (and port) of the request URIs is dialed instead of
/// resolving it: the target's `connect` address, or the URL's own host
/// when the target sends another `host`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPin {
    /// The request URI's host this pin serves (lowercase, no brackets).
    pub host: String,
    /// The request URI's port (explicit or the scheme's default) that
    /// dials exactly `dial_port`; any other port of the same host dials
    /// `dial_host` on that other port (a redirect from http to https on
    /// the same host keeps going to the pinned address).
    pub port: u16,
    pub dial_host: DialHost,
    pub dial_port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialHost {
    Ip(IpAddr),
    /// Resolved with the target's [`Resolver`] at every new connection.
    Name(String),
}

impl DialHost {
    pub fn parse(host: &str) -> DialHost {
        let bare = strip_brackets(host);
        match bare.parse::<IpAddr>() {
            Ok(ip) => DialHost::Ip(ip),
            Err(_) => DialHost::Name(bare.to_ascii_lowercase()),
        }
    }
}

impl std::fmt::Display for DialHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DialHost::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            DialHost::Ip(ip) => write!(f, "{ip}"),
            DialHost::Name(name) => f.write_str(name),
        }
    }
}

/// What a connector needs, fixed for a target's whole run.
#[derive(Clone, Debug)]
pub struct ConnectSpec {
    pub pin: Option<HostPin>,
    /// Per address tried: a host with several addresses tries the next
    /// one after this; the request's own timeout bounds the whole.
    pub connect_timeout: Duration,
    /// For every `https` request URI (`None`: https is not dialed).
    pub tls: Option<Arc<TlsSettings>>,
}

/// A `tower_service::Service<Uri>` for hyper-util's legacy `Client`.
#[derive(Clone)]
pub struct Connector {
    inner: Arc<Inner>,
}

struct Inner {
    spec: ConnectSpec,
    resolver: Arc<Resolver>,
    /// Every connection carries its [`ConnInfo`], not only those to a name.
    info_always: bool,
}

impl Connector {
    pub fn new(spec: ConnectSpec, resolver: Arc<Resolver>) -> Connector {
        Connector {
            inner: Arc::new(Inner {
                spec,
                resolver,
                info_always: false,
            }),
        }
    }

    /// With `true`, every connection carries its [`ConnInfo`] (its age
    /// decides `max_connection_age`); else only a connection to a resolved
    /// name does, whose peer is one of several addresses: a connection to
    /// an IP address reaches that address, which the client knows from the
    /// request, and hyper-util would otherwise copy the info into every
    /// response's extensions (two allocations per response).
    pub fn info_always(self, always: bool) -> Connector {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| Inner {
            spec: shared.spec.clone(),
            resolver: shared.resolver.clone(),
            info_always: shared.info_always,
        });
        Connector {
            inner: Arc::new(Inner {
                info_always: always,
                ..inner
            }),
        }
    }
}

impl Connector {
    /// One new connection for `uri`, as the pooled client would dial it:
    /// for the connections [`crate::engine::owned`] keeps itself.
    pub async fn connect(&self, uri: &Uri) -> Result<Conn, ConnectError> {
        self.inner.connect(uri).await
    }
}

/// Why no connection was made; [`ConnectError::kind`] is its outcome.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    Resolve(#[from] ResolveError),
    #[error("connecting to {addr} timed out")]
    ConnectTimeout { addr: SocketAddr },
    #[error("connecting to {addr}: {source}")]
    Io { addr: SocketAddr, source: io::Error },
    #[error("TLS handshake with {addr}: {source}")]
    Tls { addr: SocketAddr, source: io::Error },
    /// A URI without a host, or with a scheme meshdrill does not dial.
    #[error("cannot dial {0}")]
    Uri(String),
}

impl ConnectError {
    /// The outcome kind an operator would name, when the error itself
    /// decides it; `None` leaves it to the io error inside.
    pub fn kind(&self) -> Option<Kind> {
        match self {
            ConnectError::Resolve(_) => Some(Kind::Dns),
            ConnectError::ConnectTimeout { .. } => Some(Kind::ConnectTimeout),
            ConnectError::Io { .. } => None,
            ConnectError::Tls { source, .. } => Some(tls::handshake_kind(source)),
            ConnectError::Uri(_) => Some(Kind::OtherError),
        }
    }

    /// The address that was being dialed, once there was one.
    pub fn addr(&self) -> Option<SocketAddr> {
        match self {
            ConnectError::ConnectTimeout { addr }
            | ConnectError::Io { addr, .. }
            | ConnectError::Tls { addr, .. } => Some(*addr),
            ConnectError::Resolve(_) | ConnectError::Uri(_) => None,
        }
    }
}

/// The address a failed request was dialing, found in the client error's
/// chain of sources (`None` when it failed before an address was chosen,
/// or on a pooled connection).
pub fn dialed_addr(err: &(dyn StdError + 'static)) -> Option<SocketAddr> {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(c) = e.downcast_ref::<ConnectError>() {
            return c.addr();
        }
        cause = e.source();
    }
    None
}

impl tower_service::Service<Uri> for Connector {
    type Response = Conn;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move { inner.connect(&uri).await })
    }
}

impl Inner {
    async fn connect(&self, uri: &Uri) -> Result<Conn, ConnectError> {
        let (host, port) = dial_target(uri, self.spec.pin.as_ref())?;
        let tls = match uri.scheme_str() {
            Some("https") => Some(
                self.spec
                    .tls
                    .as_ref()
                    .ok_or_else(|| ConnectError::Uri(format!("{uri} (no TLS for this target)")))?,
            ),
            _ => None,
        };
        let with_info = self.info_always || matches!(host, DialHost::Name(_));
        let addrs = match &host {
            DialHost::Ip(ip) => vec![SocketAddr::new(*ip, port)],
            DialHost::Name(name) => self.resolver.resolve(name, port).await?,
        };
        let started = Instant::now();
        let (tcp, peer) = self.tcp(&addrs).await?;
        let connected = Instant::now();
        let tcp_connect_us = micros(connected - started);
        let Some(tls) = tls else {
            return Ok(Conn {
                io: TokioIo::new(Stream::Plain(tcp)),
                info: ConnInfo {
                    peer,
                    opened_at: connected,
                    tcp_connect_us,
                    tls_handshake_us: None,
                },
                with_info,
                h2: false,
            });
        };
        let host = uri.host().expect("dial_target checked the host");
        let name = tls
            .server_name(strip_brackets(host))
            .map_err(|source| ConnectError::Tls { addr: peer, source })?;
        let stream = tls
            .handshake(name, tcp)
            .await
            .map_err(|source| ConnectError::Tls { addr: peer, source })?;
        let opened_at = Instant::now();
        let handshake = opened_at - connected;
        tls.record_handshake(u64::try_from(handshake.as_micros()).unwrap_or(u64::MAX));
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
        Ok(Conn {
            io: TokioIo::new(Stream::Tls(Box::new(stream))),
            info: ConnInfo {
                peer,
                opened_at,
                tcp_connect_us,
                tls_handshake_us: Some(micros(handshake)),
            },
            with_info,
            h2,
        })
    }

    /// Tries the addresses in order; the error is the last one's.
    async fn tcp(&self, addrs: &[SocketAddr]) -> Result<(TcpStream, SocketAddr), ConnectError> {
        let mut last = None;
        for &addr in addrs {
            let attempt = tokio::time::timeout(self.spec.connect_timeout, TcpStream::connect(addr));
            match attempt.await {
                Ok(Ok(tcp)) => {
                    // Small requests: never wait for Nagle's algorithm.
                    let _ = tcp.set_nodelay(true);
                    return Ok((tcp, addr));
                }
                Ok(Err(source)) => last = Some(ConnectError::Io { addr, source }),
                Err(_) => last = Some(ConnectError::ConnectTimeout { addr }),
            }
        }
        Err(last.unwrap_or_else(|| ConnectError::Uri("no address".to_string())))
    }
}

/// Which host and port serve `uri`: the pin's address for its host, else
/// the URI's own host (resolved when it is a name).
pub fn dial_target(uri: &Uri, pin: Option<&HostPin>) -> Result<(DialHost, u16), ConnectError> {
    let host = uri
        .host()
        .ok_or_else(|| ConnectError::Uri(uri.to_string()))?;
    let port = match (uri.port_u16(), uri.scheme_str()) {
        (Some(port), _) => port,
        (None, Some("http")) => 80,
        (None, Some("https")) => 443,
        _ => return Err(ConnectError::Uri(uri.to_string())),
    };
    let host = DialHost::parse(host);
    if let Some(pin) = pin
        && DialHost::parse(&pin.host) == host
    {
        let dial_port = if port == pin.port {
            pin.dial_port
        } else {
            port
        };
        return Ok((pin.dial_host.clone(), dial_port));
    }
    Ok((host, port))
}

fn strip_brackets(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

pin_project_lite::pin_project! {
    /// One open connection: the stream hyper reads and writes, and what
    /// it knows about itself for every response it carries.
    pub struct Conn {
        #[pin]
        io: TokioIo<Stream>,
        info: ConnInfo,
        // Whether `info` rides in every response ([`Connector::info_always`]).
        with_info: bool,
        // ALPN chose h2: hyper-util then speaks HTTP/2 on it.
        h2: bool,
    }
}

impl Conn {
    /// What the connection knows about itself.
    pub fn info(&self) -> ConnInfo {
        self.info
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        let connected = if self.with_info {
            Connected::new().extra(self.info)
        } else {
            Connected::new()
        };
        if self.h2 {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

/// Plain TCP or TLS over it.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}

impl Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().io.poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    fn pin(host: &str, port: u16, dial: &str, dial_port: u16) -> HostPin {
        HostPin {
            host: host.into(),
            port,
            dial_host: DialHost::parse(dial),
            dial_port,
        }
    }

    fn dials(u: &str, p: Option<&HostPin>) -> String {
        let (host, port) = dial_target(&uri(u), p).unwrap();
        format!("{host}:{port}")
    }

    #[test]
    fn a_pinned_host_dials_the_pinned_address_on_its_port_and_keeps_other_ports() {
        let p = pin("bookinfo.example.com", 80, "203.0.113.7", 8080);
        assert_eq!(
            dials("http://bookinfo.example.com/x", Some(&p)),
            "203.0.113.7:8080"
        );
        assert_eq!(
            dials("http://Bookinfo.Example.com:80/x", Some(&p)),
            "203.0.113.7:8080"
        );
        // A redirect to https on the same host: the pinned IP, port 443.
        assert_eq!(
            dials("https://bookinfo.example.com/", Some(&p)),
            "203.0.113.7:443"
        );
        assert_eq!(
            dials("http://bookinfo.example.com:9000/", Some(&p)),
            "203.0.113.7:9000"
        );
        // Another host is never sent to the pinned address.
        assert_eq!(
            dials("http://other.example.com/", Some(&p)),
            "other.example.com:80"
        );
    }

    #[test]
    fn an_unpinned_uri_dials_its_own_host_and_default_port() {
        assert_eq!(dials("http://h.example/", None), "h.example:80");
        assert_eq!(dials("https://h.example/", None), "h.example:443");
        assert_eq!(dials("http://[::1]:8080/", None), "[::1]:8080");
        let p = pin("::1", 8080, "127.0.0.1", 9);
        assert_eq!(dials("http://[::1]:8080/", Some(&p)), "127.0.0.1:9");
        assert!(dial_target(&uri("/relative"), None).is_err());
    }

    #[test]
    fn errors_know_their_kind_and_address() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let timeout = ConnectError::ConnectTimeout { addr };
        assert_eq!(timeout.kind(), Some(Kind::ConnectTimeout));
        assert_eq!(dialed_addr(&timeout), Some(addr));
        let dns = ConnectError::Resolve(ResolveError {
            host: "x".into(),
            message: "no".into(),
        });
        assert_eq!(dns.kind(), Some(Kind::Dns));
        assert_eq!(dialed_addr(&dns), None);
    }

    #[tokio::test]
    async fn a_connection_carries_its_peer_and_connect_time() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let spec = ConnectSpec {
            pin: Some(pin("bookinfo.example.com", 80, "127.0.0.1", addr.port())),
            connect_timeout: Duration::from_secs(5),
            tls: None,
        };
        let resolver = Arc::new(Resolver::system());
        let mut connector = Connector::new(spec.clone(), resolver.clone()).info_always(true);
        let conn = tower_service::Service::call(
            &mut connector,
            uri("http://bookinfo.example.com/productpage"),
        )
        .await
        .unwrap();
        assert_eq!(conn.info.peer, addr);
        assert_eq!(conn.info.tls_handshake_us, None);
        let mut extensions = hyper::http::Extensions::new();
        conn.connected().get_extras(&mut extensions);
        assert_eq!(extensions.get::<ConnInfo>(), Some(&conn.info));

        // Pinned to an IP address, the peer is known from the request: the
        // connection does not hand its info to every response.
        let mut connector = Connector::new(spec, resolver);
        let conn = tower_service::Service::call(
            &mut connector,
            uri("http://bookinfo.example.com/productpage"),
        )
        .await
        .unwrap();
        let mut extensions = hyper::http::Extensions::new();
        conn.connected().get_extras(&mut extensions);
        assert_eq!(extensions.get::<ConnInfo>(), None);
    }
}
