//! One HTTP client per target: where to dial, which Host to send, the
//! connection policy, and the deadlines. It turns every transport failure into
//! an outcome [`Kind`] instead of an error, because failures are the data.

use std::error::Error as StdError;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Body;
use hyper::header::{CONNECTION, HOST, HeaderValue, USER_AGENT};
use hyper::{HeaderMap, Request, StatusCode, Uri, Version};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::Instant;

use crate::engine::buffers::{BodyBudget, BodyBuf, Refused};
use crate::engine::connect::{ConnectError, ConnectSpec, Connector};
use crate::engine::resolve::Resolver;
use crate::engine::tls::{self, TlsSettings};
use crate::outcome::Kind;
use crate::results::summary::HandshakeMs;
use crate::scenario::{ConnectionPolicy, HttpVersion};

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
}

/// What came back from one exchange, before classification.
pub enum Reply {
    /// A complete response; the body is in the caller's buffer.
    Response {
        status: StatusCode,
        headers: HeaderMap,
    },
    /// No complete response: the kind says why.
    Failed(Kind),
}

pub struct TargetClient {
    /// One when only HTTP/1.1 can be spoken, else `h2_connections`.
    clients: Vec<Client<Connector, Empty<Bytes>>>,
    /// Round robin over `clients`: one relaxed atomic add per request.
    next: AtomicUsize,
    /// Complete responses by the HTTP version that carried them.
    versions: VersionCounts,
    tls: Option<Arc<TlsSettings>>,
    uri: Uri,
    host: HeaderValue,
    close: bool,
    timeout: Duration,
    max_body_bytes: usize,
    body_budget: Arc<BodyBudget>,
}

impl TargetClient {
    pub fn new(spec: &ClientSpec) -> Result<TargetClient, hyper::header::InvalidHeaderValue> {
        let connector = Connector::new(spec.connect.clone(), spec.resolver.clone());
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
        Ok(TargetClient {
            clients,
            next: AtomicUsize::new(0),
            versions: VersionCounts::default(),
            tls: spec.connect.tls.clone(),
            uri: spec.uri.clone(),
            host: HeaderValue::from_str(&spec.host)?,
            close: close && spec.http != HttpVersion::H2,
            timeout: spec.timeout,
            max_body_bytes: spec.max_body_bytes,
            body_budget: spec.body_budget.clone(),
        })
    }

    /// The budget this client's body buffers are drawn from.
    pub fn body_budget(&self) -> Arc<BodyBudget> {
        self.body_budget.clone()
    }

    /// Sends one GET and reads the whole body into `body` (cleared first).
    /// Returns when the response is complete, failed, or `timeout` passed
    /// since `sent`. A body that would pass `max_body` is `body_too_large`
    /// (at once when its Content-Length says so); one the run's buffer
    /// budget cannot hold is `local_error`.
    pub async fn exchange(&self, body: &mut BodyBuf, sent: Instant) -> Reply {
        body.clear();
        let deadline = sent + self.timeout;
        match tokio::time::timeout_at(deadline, self.exchange_inner(body)).await {
            Ok(reply) => reply,
            Err(_) => Reply::Failed(Kind::Timeout),
        }
    }

    async fn exchange_inner(&self, body: &mut BodyBuf) -> Reply {
        let mut request = Request::new(Empty::<Bytes>::new());
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert(USER_AGENT, HeaderValue::from_static(AGENT));
        if self.close {
            // HTTP/1.1 only: HTTP/2 has no such header (hyper drops it).
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        let client = match self.clients.len() {
            1 => &self.clients[0],
            n => &self.clients[self.next.fetch_add(1, Ordering::Relaxed) % n],
        };
        let response = match client.request(request).await {
            Ok(response) => response,
            Err(err) => return Reply::Failed(transport_kind(&err, err.is_connect())),
        };
        let (parts, mut incoming) = response.into_parts();
        let declared = incoming.size_hint().exact();
        if declared.is_some_and(|n| n > self.max_body_bytes as u64) {
            return Reply::Failed(Kind::BodyTooLarge);
        }
        let declared = declared.map(|n| n as usize);
        while let Some(frame) = incoming.frame().await {
            match frame {
                Ok(frame) => {
                    if let Some(data) = frame.data_ref() {
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
        Reply::Response {
            status: parts.status,
            headers: parts.headers,
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
