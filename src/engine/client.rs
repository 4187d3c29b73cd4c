//! One HTTP client per target: where to dial, which Host to send, the
//! connection policy, and the deadlines. It turns every transport failure into
//! an outcome [`Kind`] instead of an error, because failures are the data.

use std::error::Error as StdError;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Body;
use hyper::header::{CONNECTION, HOST, HeaderValue, LOCATION, USER_AGENT};
use hyper::{HeaderMap, Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;

use crate::engine::buffers::{BodyBudget, BodyBuf, Refused};
use crate::engine::connect::{ConnectError, ConnectSpec, Connector};
use crate::engine::redirect;
use crate::engine::resolve::Resolver;
use crate::outcome::Kind;
use crate::scenario::{ConnectionPolicy, FollowRedirects};

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
        /// Redirects followed before this response (`follow_redirects`).
        followed: u8,
    },
    /// No complete response: the kind says why.
    Failed(Kind),
}

pub struct TargetClient {
    http: Client<Connector, Empty<Bytes>>,
    uri: Uri,
    host: HeaderValue,
    close: bool,
    follow: bool,
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
        Ok(TargetClient {
            http: builder.build(connector),
            uri: spec.uri.clone(),
            host: HeaderValue::from_str(&spec.host)?,
            close,
            follow: spec.follow == FollowRedirects::SameHost,
            timeout: spec.timeout,
            max_body_bytes: spec.max_body_bytes,
            body_budget: spec.body_budget.clone(),
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

    /// Sends one GET and reads the whole body into `body` (cleared first).
    /// Returns when the response is complete, failed, or `timeout` passed
    /// since `sent`. A body that would pass `max_body` is `body_too_large`
    /// (at once when its Content-Length says so); one the run's buffer
    /// budget cannot hold is `local_error`.
    pub async fn exchange(&self, body: &mut BodyBuf, sent: Instant) -> Reply {
        self.exchange_until(body, sent + self.timeout).await
    }

    /// [`Self::exchange`] with the deadline given: a failover target's
    /// later attempts get what is left of the first one's.
    pub async fn exchange_until(&self, body: &mut BodyBuf, deadline: Instant) -> Reply {
        body.clear();
        match tokio::time::timeout_at(deadline, self.exchange_inner(body)).await {
            Ok(reply) => reply,
            Err(_) => Reply::Failed(Kind::Timeout),
        }
    }

    /// The target's request and, with `follow_redirects = "same-host"`,
    /// the redirects it is sent to on its own host, each answered body read
    /// whole (so its connection is reused) and dropped. Following builds
    /// the next URI from the Location (a few small allocations per hop:
    /// a hop is a whole extra exchange); a request that is not redirected
    /// allocates nothing more than before.
    async fn exchange_inner(&self, body: &mut BodyBuf) -> Reply {
        let mut reply = self
            .exchange_once(body, self.uri.clone(), self.host.clone())
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
            reply = self.exchange_once(body, uri, host).await;
        }
        if let Reply::Response { followed: f, .. } = &mut reply {
            *f = followed;
        }
        reply
    }

    async fn exchange_once(&self, body: &mut BodyBuf, uri: Uri, host: HeaderValue) -> Reply {
        let mut request = Request::new(Empty::<Bytes>::new());
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.insert(HOST, host);
        headers.insert(USER_AGENT, HeaderValue::from_static(AGENT));
        if self.close {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        let response = match self.http.request(request).await {
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
        Reply::Response {
            status: parts.status,
            headers: parts.headers,
            followed: 0,
        }
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
            return io_kind(io, connecting);
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
