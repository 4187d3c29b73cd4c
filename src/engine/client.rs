//! One HTTP client per target: where to dial, which Host to send, the
//! connection policy, and the deadlines. It turns every transport failure into
//! an outcome [`Kind`] instead of an error, because failures are the data.

use std::error::Error as StdError;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Body;
use hyper::header::{CONNECTION, HOST, HeaderValue, LOCATION, USER_AGENT};
use hyper::{HeaderMap, Request, StatusCode, Uri, Version};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{CaptureConnection, capture_connection};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::Instant;

use crate::engine::buffers::{BodyBudget, BodyBuf, Refused};
use crate::engine::conn_info::ConnInfo;
use crate::engine::connect::{
    ConnectError, ConnectSpec, Connector, DialHost, HostPin, dial_target,
};
use crate::engine::owned::{self, Connections};
use crate::engine::redirect;
use crate::engine::resolve::Resolver;
use crate::engine::tls::{self, TlsSettings};
use crate::outcome::Kind;
use crate::results::summary::HandshakeMs;
use crate::scenario::{ConnectionPolicy, FollowRedirects, HttpVersion};

const AGENT: &str = concat!("meshdrill/", env!("CARGO_PKG_VERSION"));
/// Most bytes hyper buffers per connection while reading (the response
/// head must fit): its default, ~400 KiB, times thousands of stalled
/// connections would be memory no budget sees. Above Envoy's 60 KiB limit
/// on headers.
const READ_BUFFER_MAX: usize = 64 * 1024;

/// Where and how one target is reached, after `sim:` endpoints were resolved
/// to the simulator's bound addresses.
#[derive(Clone, Debug)]
pub struct ClientSpec {
    /// The request URI: the real host's authority (the scenario's `host`,
    /// else the URL's), so HTTP/2's `:authority` and the pool key are the
    /// host's; `connect.pin` says where that host is dialed.
    pub uri: Uri,
    /// Host header sent: the authority of `uri`.
    pub host: String,
    pub connect: ConnectSpec,
    /// The run's name resolution, shared by every target.
    pub resolver: Arc<Resolver>,
    pub policy: ConnectionPolicy,
    /// `follow_redirects`: whether a same-host redirect is followed.
    pub follow: FollowRedirects,
    /// Resolved: the scheme's default applied.
    pub http: HttpVersion,
    /// HTTP/2 connections to spread the target's requests over (one
    /// hyper client each, as hyper keeps one h2 connection per host).
    pub h2_connections: u16,
    pub timeout: Duration,
    pub max_body_bytes: usize,
    /// The run's body buffer budget (`load.max_buffered`), one for all targets.
    pub body_budget: Arc<BodyBudget>,
    /// Most idle pooled connections kept (keep-alive): with the in-flight cap
    /// this bounds the descriptors a target can hold.
    pub max_idle: usize,
    /// A pooled connection older than this is retired after its response
    /// (see [`TargetClient::exchange`]); `None`: never for its age.
    pub max_connection_age: Option<Duration>,
}

/// One exchange's reply and the address that answered it.
pub struct Answer {
    pub reply: Reply,
    /// The connection's peer; for a failure, the address being dialed when
    /// the connector says so. `None` when no address is known: the name did
    /// not resolve, or the request timed out before any answer (with
    /// `max_connection_age` set, the connection is captured and its peer is
    /// known then too).
    pub peer: Option<SocketAddr>,
}

/// What came back from one exchange, before classification.
pub enum Reply {
    /// A complete response; the body is in the caller's buffer.
    Response {
        status: StatusCode,
        headers: HeaderMap,
        /// Redirects followed before this response (`follow_redirects`).
        followed: u8,
    },
    /// No complete response: the kind says why.
    Failed(Kind),
}

pub struct TargetClient {
    /// One when only HTTP/1.1 can be spoken, else `h2_connections`.
    clients: Vec<Client<Connector, Empty<Bytes>>>,
    /// HTTP/1.1: the connections this client keeps itself (or, with
    /// `connection = "new"`, dials one per request), for every request to
    /// the target's own scheme and authority (a redirect elsewhere goes
    /// through `clients`).
    owned: Option<Connections>,
    /// The target's URI in origin form, as `owned` sends it.
    origin: Uri,
    /// Round robin over `clients`: one relaxed atomic add per request.
    next: AtomicUsize,
    /// Complete responses by the HTTP version that carried them.
    versions: VersionCounts,
    tls: Option<Arc<TlsSettings>>,
    uri: Uri,
    host: HeaderValue,
    close: bool,
    follow: bool,
    timeout: Duration,
    max_body_bytes: usize,
    body_budget: Arc<BodyBudget>,
    max_connection_age: Option<Duration>,
    /// Where the target's URI is dialed, for redirect hops' addresses.
    pin: Option<HostPin>,
    /// The address the target's URI dials when it is an IP address (no
    /// name to resolve, so it is the peer of every connection): responses
    /// then carry no [`ConnInfo`] and the client names the peer itself.
    peer: Option<SocketAddr>,
}

/// The address `uri` is dialed at when that is an IP address.
fn literal_peer(uri: &Uri, pin: Option<&HostPin>) -> Option<SocketAddr> {
    match dial_target(uri, pin) {
        Ok((DialHost::Ip(ip), port)) => Some(SocketAddr::new(ip, port)),
        _ => None,
    }
}

impl TargetClient {
    pub fn new(spec: &ClientSpec) -> Result<TargetClient, hyper::header::InvalidHeaderValue> {
        // Every connection's ConnInfo rides in each response's extensions
        // (two allocations and a hashed insert per response in
        // hyper-util): only when it says something the request does not,
        // the peer of a name, or the connection's age.
        let connector = Connector::new(spec.connect.clone(), spec.resolver.clone())
            .info_always(spec.max_connection_age.is_some());
        let mut builder = Client::builder(TokioExecutor::new());
        builder.http1_max_buf_size(READ_BUFFER_MAX);
        let close = spec.policy == ConnectionPolicy::New;
        if close {
            // No idle connection is ever kept, so each request dials afresh.
            builder.pool_max_idle_per_host(0);
        } else {
            builder
                .pool_idle_timeout(Duration::from_secs(90))
                .pool_max_idle_per_host(spec.max_idle);
        }
        // A peer that vanishes without a FIN would leave every h2 stream
        // (and every new request multiplexed onto it) waiting: a ping
        // unanswered within half the timeout closes the connection, so
        // the next request dials a new one well within the timeout.
        let ping = (spec.timeout / 2).max(Duration::from_millis(50));
        builder
            .timer(TokioTimer::new())
            .http2_keep_alive_interval(ping)
            .http2_keep_alive_timeout(ping)
            .http2_keep_alive_while_idle(true)
            // h2c prior knowledge over http; over TLS ALPN offered only h2,
            // and a server that answered no ALPN still gets HTTP/2.
            .http2_only(spec.http == HttpVersion::H2);
        let count = if spec.http == HttpVersion::H1 {
            1
        } else {
            usize::from(spec.h2_connections.max(1))
        };
        let clients = (0..count)
            .map(|_| builder.build(connector.clone()))
            .collect();
        let owned = (spec.http == HttpVersion::H1).then(|| match close {
            true => Connections::one_per_request(connector.clone(), READ_BUFFER_MAX),
            false => Connections::keep_alive(
                connector.clone(),
                spec.max_idle,
                READ_BUFFER_MAX,
                spec.max_connection_age,
            ),
        });
        Ok(TargetClient {
            clients,
            owned,
            origin: owned::origin_form(&spec.uri),
            next: AtomicUsize::new(0),
            versions: VersionCounts::default(),
            tls: spec.connect.tls.clone(),
            uri: spec.uri.clone(),
            host: HeaderValue::from_str(&spec.host)?,
            close: close && spec.http != HttpVersion::H2,
            follow: spec.follow == FollowRedirects::SameHost,
            timeout: spec.timeout,
            max_body_bytes: spec.max_body_bytes,
            body_budget: spec.body_budget.clone(),
            max_connection_age: spec.max_connection_age,
            pin: spec.connect.pin.clone(),
            peer: literal_peer(&spec.uri, spec.connect.pin.as_ref()),
        })
    }

    /// The whole-request deadline after the send (`load.timeout`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The budget this client's body buffers are drawn from.
    pub fn body_budget(&self) -> Arc<BodyBudget> {
        self.body_budget.clone()
    }

    /// Sends one GET and reads the whole body into `body` (cleared first;
    /// see [`BodyBuf`] for when it is kept in hyper's chunks).
    /// Returns when the response is complete, failed, or `timeout` passed
    /// since `sent`. A body that would pass `max_body` is `body_too_large`
    /// (at once when its Content-Length says so); one the run's buffer
    /// budget cannot hold is `local_error`.
    ///
    /// With `max_connection_age`, a connection older than the age is not
    /// used again, so the next request dials afresh (and resolves the name
    /// again, subject to its TTL): an HTTP/1.1 keep-alive connection of
    /// [`Connections`] is not given back; through the pooled client the
    /// request's connection is captured (hyper-util's `capture_connection`:
    /// one small allocation per request, which is why it is only done
    /// then) and poisoned, so the pool does not hand it out again.
    pub async fn exchange(&self, body: &mut BodyBuf, sent: Instant) -> Answer {
        self.exchange_until(body, sent + self.timeout).await
    }

    /// [`Self::exchange`] with the deadline given: a failover target's
    /// later attempts get what is left of the first one's.
    pub async fn exchange_until(&self, body: &mut BodyBuf, deadline: Instant) -> Answer {
        body.clear();
        let mut peer = None;
        let mut captured = None;
        let inner = self.exchange_inner(body, &mut peer, &mut captured);
        let reply = tokio::time::timeout_at(deadline, inner).await;
        if let Some(captured) = &captured
            && peer.is_none()
        {
            peer = captured_info(captured).map(|info| info.peer);
        }
        match reply {
            Ok(reply) => Answer { reply, peer },
            Err(_) => Answer {
                reply: Reply::Failed(Kind::Timeout),
                peer,
            },
        }
    }

    /// The target's request and, with `follow_redirects = "same-host"`,
    /// the redirects it is sent to on its own host, each answered body read
    /// whole (so its connection is reused) and dropped. Following builds
    /// the next URI from the Location (a few small allocations per hop:
    /// a hop is a whole extra exchange); a request that is not redirected
    /// allocates nothing more than before. `peer` and `captured` are the
    /// last hop's.
    async fn exchange_inner(
        &self,
        body: &mut BodyBuf,
        peer: &mut Option<SocketAddr>,
        captured: &mut Option<CaptureConnection>,
    ) -> Reply {
        let mut reply = self
            .exchange_once(
                body,
                self.uri.clone(),
                self.host.clone(),
                self.peer,
                peer,
                captured,
            )
            .await;
        let mut followed = 0;
        let mut at = None;
        while self.follow && followed < redirect::MAX_HOPS {
            let Reply::Response {
                status, headers, ..
            } = &reply
            else {
                break;
            };
            let base = at.as_ref().unwrap_or(&self.uri);
            let next = headers
                .get(LOCATION)
                .filter(|_| redirect::is_followable(*status))
                .and_then(|location| redirect::same_host(base, location.as_bytes()));
            let Some((uri, host)) = next else {
                break;
            };
            body.clear();
            followed += 1;
            at = Some(uri.clone());
            *peer = None;
            let literal = literal_peer(&uri, self.pin.as_ref());
            reply = self
                .exchange_once(body, uri, host, literal, peer, captured)
                .await;
        }
        if let Reply::Response { followed: f, .. } = &mut reply {
            *f = followed;
        }
        reply
    }

    /// One request. `peer` is set as soon as the address is known, so a
    /// timeout later still says who was (not) answering; `literal` is the
    /// address `uri` dials when it is an IP address (then the response's
    /// connection carries no [`ConnInfo`] unless `max_connection_age` asks).
    async fn exchange_once(
        &self,
        body: &mut BodyBuf,
        uri: Uri,
        host: HeaderValue,
        literal: Option<SocketAddr>,
        peer: &mut Option<SocketAddr>,
        captured: &mut Option<CaptureConnection>,
    ) -> Reply {
        let mut request = Request::new(Empty::<Bytes>::new());
        let owned = self.owned.as_ref().filter(|_| {
            uri.scheme() == self.uri.scheme() && uri.authority() == self.uri.authority()
        });
        let headers = request.headers_mut();
        headers.insert(HOST, host);
        headers.insert(USER_AGENT, HeaderValue::from_static(AGENT));
        if self.close {
            // HTTP/1.1 only: HTTP/2 has no such header (hyper drops it).
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        let (response, lease) = if let Some(owned) = owned {
            *request.uri_mut() = if uri == self.uri {
                self.origin.clone()
            } else {
                owned::origin_form(&uri)
            };
            // With `max_connection_age`, the connection's peer is known as
            // soon as it is chosen (as a captured pooled one's was).
            let early = self.max_connection_age.is_some();
            match owned.send(request, &uri, early.then_some(&mut *peer)).await {
                Ok((response, lease)) => (response, Some(lease)),
                Err(failure) => {
                    if failure.peer.is_some() || !early {
                        *peer = failure.peer;
                    }
                    return Reply::Failed(failure.kind);
                }
            }
        } else {
            *request.uri_mut() = uri;
            if self.max_connection_age.is_some() {
                *captured = Some(capture_connection(&mut request));
            }
            let client = match self.clients.len() {
                1 => &self.clients[0],
                n => &self.clients[self.next.fetch_add(1, Ordering::Relaxed) % n],
            };
            match client.request(request).await {
                Ok(response) => (response, None),
                Err(err) => {
                    *peer = crate::engine::connect::dialed_addr(&err);
                    return Reply::Failed(transport_kind(&err, err.is_connect()));
                }
            }
        };
        let info = match &lease {
            Some(lease) => Some(lease.info),
            None => response.extensions().get::<ConnInfo>().copied(),
        };
        *peer = info.map(|i| i.peer).or(literal);
        if let (Some(age), Some(info), Some(captured)) =
            (self.max_connection_age, info, captured.as_ref())
            && info.opened_at.elapsed() >= age
        {
            // Before the body is read: once it is, the connection is back
            // in the pool, where another request could take it first.
            if let Some(connection) = captured.connection_metadata().as_ref() {
                connection.poison();
            }
        }
        let (parts, mut incoming) = response.into_parts();
        let declared = incoming.size_hint().exact();
        if declared.is_some_and(|n| n > self.max_body_bytes as u64) {
            return Reply::Failed(Kind::BodyTooLarge);
        }
        let declared = declared.map(|n| n as usize);
        while let Some(frame) = incoming.frame().await {
            match frame {
                Ok(frame) => {
                    // Kept as hyper delivered it: the classifier reads it in place.
                    if let Ok(data) = frame.into_data() {
                        match body.append(data, self.max_body_bytes, declared) {
                            Ok(()) => {}
                            Err(Refused::TooLarge) => return Reply::Failed(Kind::BodyTooLarge),
                            Err(Refused::Budget) => return Reply::Failed(Kind::LocalError),
                        }
                    }
                }
                Err(err) => return Reply::Failed(transport_kind(&err, false)),
            }
        }
        self.versions.count(parts.version);
        if let (Some(owned), Some(lease)) = (owned, lease) {
            owned.give_back(lease);
        }
        Reply::Response {
            status: parts.status,
            headers: parts.headers,
            followed: 0,
        }
    }

    /// Complete responses so far by HTTP version (warmup included):
    /// `("1.1", n)`, `("2", n)`, `("other", n)` for those with n > 0.
    pub fn versions(&self) -> Vec<(&'static str, u64)> {
        self.versions.read()
    }

    /// The TLS handshakes of this target's connections so far, in
    /// milliseconds; `None` when there was none.
    pub fn handshake_times(&self) -> Option<HandshakeMs> {
        let times = self.tls.as_ref()?.handshake_times();
        let ms = |us: u64| us as f64 / 1000.0;
        (times.count > 0).then(|| HandshakeMs {
            count: times.count,
            p50: ms(times.p50_us),
            p99: ms(times.p99_us),
            max: ms(times.max_us),
        })
    }
}

#[derive(Default)]
struct VersionCounts {
    http1: AtomicU64,
    http2: AtomicU64,
    other: AtomicU64,
}

impl VersionCounts {
    fn count(&self, version: Version) {
        let counter = match version {
            Version::HTTP_11 => &self.http1,
            Version::HTTP_2 => &self.http2,
            _ => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self) -> Vec<(&'static str, u64)> {
        [
            ("1.1", &self.http1),
            ("2", &self.http2),
            ("other", &self.other),
        ]
        .into_iter()
        .map(|(name, n)| (name, n.load(Ordering::Relaxed)))
        .filter(|(_, n)| *n > 0)
        .collect()
    }
}

/// The connection info of a captured connection (its `Connected::extra`).
fn captured_info(captured: &CaptureConnection) -> Option<ConnInfo> {
    let connected = captured.connection_metadata();
    let mut extensions = hyper::http::Extensions::new();
    connected.as_ref()?.get_extras(&mut extensions);
    extensions.get::<ConnInfo>().copied()
}

/// Maps a client error to the failure an operator would name, by walking the
/// error's sources down to the OS error when there is one.
pub fn transport_kind(err: &(dyn StdError + 'static), connecting: bool) -> Kind {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(err);
    let mut incomplete = false;
    while let Some(e) = cause {
        if let Some(kind) = e
            .downcast_ref::<ConnectError>()
            .and_then(ConnectError::kind)
        {
            return kind;
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            // A TLS alert after the handshake (TLS 1.3 servers refuse a
            // client certificate only then) is still a TLS failure.
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
            {
                return tls::handshake_kind(io);
            }
            return io_kind(io, connecting);
        }
        if displays_as(e, H2_PING_TIMED_OUT) {
            return Kind::Timeout;
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            // The peer closed the connection before a complete response.
            incomplete |= h.is_incomplete_message() || h.is_canceled();
        }
        cause = e.source();
    }
    if incomplete {
        Kind::Reset
    } else {
        Kind::OtherError
    }
}

/// How hyper's (private) h2 keep-alive error displays: an HTTP/2 ping
/// went unanswered, so the peer stopped answering and the streams on that
/// connection were failed before their own timeout.
const H2_PING_TIMED_OUT: &str = "keep-alive timed out";

/// Whether `e` displays exactly as `text`, without formatting it into an
/// allocation.
fn displays_as(e: &dyn StdError, text: &str) -> bool {
    struct Compare<'a> {
        rest: &'a str,
        equal: bool,
    }
    impl std::fmt::Write for Compare<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            match self.rest.strip_prefix(s) {
                Some(rest) => self.rest = rest,
                None => self.equal = false,
            }
            if self.equal {
                Ok(())
            } else {
                Err(std::fmt::Error)
            }
        }
    }
    let mut compare = Compare {
        rest: text,
        equal: true,
    };
    use std::fmt::Write as _;
    write!(compare, "{e}").is_ok() && compare.equal && compare.rest.is_empty()
}

fn io_kind(io: &io::Error, connecting: bool) -> Kind {
    use io::ErrorKind::*;
    match io.kind() {
        ConnectionRefused => Kind::Refused,
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => Kind::Reset,
        TimedOut if connecting => Kind::ConnectTimeout,
        TimedOut => Kind::Timeout,
        NetworkUnreachable | HostUnreachable | NetworkDown => Kind::Unreachable,
        AddrNotAvailable | OutOfMemory => Kind::LocalError,
        _ => match io.raw_os_error() {
            // ENETUNREACH, EHOSTUNREACH on Linux when the kind is not mapped.
            Some(101) | Some(113) => Kind::Unreachable,
            // ENFILE, EMFILE, ENOBUFS: this machine's limits, not the target.
            Some(23) | Some(24) | Some(105) => Kind::LocalError,
            _ => Kind::OtherError,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrap(io::Error);
    impl std::fmt::Display for Wrap {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapped")
        }
    }
    impl StdError for Wrap {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    fn kind_of(k: io::ErrorKind, connecting: bool) -> Kind {
        transport_kind(&Wrap(io::Error::from(k)), connecting)
    }

    #[derive(Debug)]
    struct Says(&'static str);
    impl std::fmt::Display for Says {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            // In pieces, as a Display may write.
            for word in self.0.split_inclusive(' ') {
                f.write_str(word)?;
            }
            Ok(())
        }
    }
    impl StdError for Says {}

    #[test]
    fn an_unanswered_h2_ping_is_a_timeout() {
        assert_eq!(
            transport_kind(&Says("keep-alive timed out"), false),
            Kind::Timeout
        );
        assert_eq!(
            transport_kind(&Says("keep-alive timed"), false),
            Kind::OtherError
        );
        assert_eq!(
            transport_kind(&Says("keep-alive timed out!"), false),
            Kind::OtherError
        );
    }

    #[test]
    fn os_errors_map_to_operator_kinds() {
        assert_eq!(
            kind_of(io::ErrorKind::ConnectionRefused, true),
            Kind::Refused
        );
        assert_eq!(kind_of(io::ErrorKind::ConnectionReset, false), Kind::Reset);
        assert_eq!(kind_of(io::ErrorKind::TimedOut, true), Kind::ConnectTimeout);
        assert_eq!(kind_of(io::ErrorKind::TimedOut, false), Kind::Timeout);
        assert_eq!(
            kind_of(io::ErrorKind::NetworkUnreachable, true),
            Kind::Unreachable
        );
        assert_eq!(
            transport_kind(&Wrap(io::Error::from_raw_os_error(113)), true),
            Kind::Unreachable
        );
        assert_eq!(
            kind_of(io::ErrorKind::PermissionDenied, true),
            Kind::OtherError
        );
    }
}
