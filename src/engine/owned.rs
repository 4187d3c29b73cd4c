//! A target's HTTP/1.1 keep-alive connections, kept by the target's client
//! itself instead of hyper-util's pool (issue 14): each request takes an
//! idle connection (or dials one through the [`Connector`]), sends on it
//! with `hyper::client::conn::http1`, and gives it back once its response
//! body is read whole. What the pool cost per request and this does not:
//! its mutex, the checkout racing a connect, the boxed response future,
//! the idle list re-created, and a task spawned per request to wait for
//! the connection to be ready again (`benches/client_path.rs` measures
//! both: ~10k instructions a request).
//!
//! With `connection = "new"` the same path sends every request on a
//! connection of its own, dialed for it and closed after its response
//! (the request says `Connection: close`), so that policy pays neither
//! hyper-util's pool nor its per-request task either.
//!
//! The idle connections are a bounded lock-free queue shared by the
//! target's lanes (a compare-and-swap to take one, another to give it
//! back; nothing allocated). A connection is never in two requests at
//! once; one that the peer closed is found closed when next taken and
//! replaced by a new one (dialed, so a name is resolved again, subject
//! to its TTL), as the pool did.

use std::time::Duration;

use bytes::Bytes;
use crossbeam_queue::ArrayQueue;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response, Uri};

use tokio::sync::oneshot;

use crate::engine::client::transport_kind;
use crate::engine::conn_info::ConnInfo;
use crate::engine::connect::Connector;
use crate::outcome::Kind;

/// One connection between requests: its sender (hyper's connection task
/// runs on the runtime) and what it knows about itself.
pub struct Leased {
    sender: SendRequest<Empty<Bytes>>,
    pub info: ConnInfo,
}

/// Why a request got no response head.
pub struct Failure {
    pub kind: Kind,
    /// The address being dialed, when a new connection failed.
    pub peer: Option<std::net::SocketAddr>,
}

pub struct Connections {
    connector: Connector,
    idle: ArrayQueue<Leased>,
    read_buffer_max: usize,
    /// A connection older than this is not given back (see
    /// [`Connections::give_back`]).
    max_age: Option<Duration>,
    /// `false` for `connection = "new"`: nothing is kept between requests.
    keep_alive: bool,
}

impl Connections {
    /// At most `max_idle` (at least one) connections are kept between
    /// requests; with the in-flight cap that bounds the descriptors held.
    pub fn keep_alive(
        connector: Connector,
        max_idle: usize,
        read_buffer_max: usize,
        max_age: Option<Duration>,
    ) -> Connections {
        Connections {
            connector,
            idle: ArrayQueue::new(max_idle.max(1)),
            read_buffer_max,
            max_age,
            keep_alive: true,
        }
    }

    /// A connection per request, never kept: `connection = "new"`.
    pub fn one_per_request(connector: Connector, read_buffer_max: usize) -> Connections {
        Connections {
            connector,
            idle: ArrayQueue::new(1),
            read_buffer_max,
            max_age: None,
            keep_alive: false,
        }
    }

    /// Sends `request` (its URI in origin form; `dial` is the absolute URI
    /// the connector dials for it) on an idle connection, else a new one.
    /// A request that an idle connection closed before it was sent is sent
    /// again on the next (hyper-util's `retry_canceled_requests`); on a new
    /// connection it is not.
    /// `chosen`, when given, is set to the connection's peer as soon as
    /// one is chosen.
    pub async fn send(
        &self,
        mut request: Request<Empty<Bytes>>,
        dial: &Uri,
        mut chosen: Option<&mut Option<std::net::SocketAddr>>,
    ) -> Result<(Response<Incoming>, Leased), Failure> {
        loop {
            let idle = match self.keep_alive {
                true => self.idle.pop(),
                false => None,
            };
            let (mut conn, fresh) = match idle {
                Some(conn) => (conn, None),
                None => {
                    let (conn, errors) = self.dial(dial).await?;
                    (conn, Some(errors))
                }
            };
            let reused = fresh.is_none();
            if let Some(chosen) = chosen.as_deref_mut() {
                *chosen = Some(conn.info.peer);
            }
            if let Err(err) = conn.sender.ready().await {
                let Some(errors) = fresh else {
                    continue; // closed while idle: replaced
                };
                // A new connection that closed before its first request:
                // its task's error says why (a reset, a TLS alert), where
                // the sender's only says "closed" (as hyper-util does).
                let kind = match err.is_closed() {
                    true => match errors.await {
                        Ok(cause) => transport_kind(&cause, false),
                        Err(_) => transport_kind(&err, false),
                    },
                    false => transport_kind(&err, false),
                };
                return Err(Failure { kind, peer: None });
            }
            match conn.sender.try_send_request(request).await {
                Ok(response) => return Ok((response, conn)),
                Err(mut err) => match err.take_message() {
                    Some(unsent) if reused => request = unsent,
                    _ => {
                        return Err(Failure {
                            kind: transport_kind(err.error(), false),
                            peer: None,
                        });
                    }
                },
            }
        }
    }

    /// After its response was read whole: kept for the next request unless
    /// it is older than `max_connection_age` (then the next request dials
    /// afresh and resolves the name again) or enough are kept already.
    pub fn give_back(&self, conn: Leased) {
        if !self.keep_alive
            || self
                .max_age
                .is_some_and(|age| conn.info.opened_at.elapsed() >= age)
        {
            return;
        }
        let _ = self.idle.push(conn);
    }

    /// A new connection, and where its task's error arrives if it ends
    /// with one (a oneshot per connection, not per request).
    async fn dial(&self, uri: &Uri) -> Result<(Leased, oneshot::Receiver<hyper::Error>), Failure> {
        let conn = self.connector.connect(uri).await.map_err(|err| Failure {
            kind: transport_kind(&err, true),
            peer: err.addr(),
        })?;
        let info = conn.info();
        let (sender, connection) = http1::Builder::new()
            .max_buf_size(self.read_buffer_max)
            .handshake(conn)
            .await
            .map_err(|err| Failure {
                kind: transport_kind(&err, false),
                peer: None,
            })?;
        let (errors, error) = oneshot::channel();
        // Ends when the sender is dropped or the peer closes.
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                let _ = errors.send(err);
            }
        });
        Ok((Leased { sender, info }, error))
    }
}

/// `uri` in origin form (path and query), as HTTP/1.1 sends it to an
/// origin server.
pub fn origin_form(uri: &Uri) -> Uri {
    match uri.path_and_query() {
        Some(path) if path.as_str() != "/" => {
            let mut parts = hyper::http::uri::Parts::default();
            parts.path_and_query = Some(path.clone());
            Uri::from_parts(parts).expect("a path and query is a URI")
        }
        _ => Uri::from_static("/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_form_keeps_the_path_and_query_only() {
        let uri: Uri = "http://h.example:8080/productpage?u=normal"
            .parse()
            .unwrap();
        assert_eq!(origin_form(&uri).to_string(), "/productpage?u=normal");
        let root: Uri = "http://h.example".parse().unwrap();
        assert_eq!(origin_form(&root).to_string(), "/");
    }
}
