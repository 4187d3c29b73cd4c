//! Where a target's requests go: one endpoint's client, or a failover
//! target's members tried in order. A lane holds one route and asks it for
//! every exchange, so a failover target has its own lanes, load and rows,
//! while the targets it names keep their own traffic (and their own
//! clients: the failover target's connections are its own, as a separate
//! population of users would have).

use std::sync::Arc;

use tokio::time::Instant;

use crate::engine::buffers::{BodyBudget, BodyBuf};
use crate::engine::client::{Answer, Reply, TargetClient};
use crate::outcome::Kind;
use crate::results::summary::HandshakeMs;

/// The clients a target's requests go through: one for a plain target; a
/// failover target's members in the order tried (at least two).
pub struct Route {
    members: Box<[TargetClient]>,
}

/// A finished exchange of a route: the reply, and which failover member
/// gave it (its index in the `failover` list; 0 for a plain target).
pub struct Routed {
    pub reply: Reply,
    /// The address that answered (or was being dialed), as
    /// [`Answer::peer`] of the member that gave the reply.
    pub peer: Option<std::net::SocketAddr>,
    pub member: u8,
}

impl Route {
    pub fn one(client: TargetClient) -> Route {
        Route {
            members: Box::new([client]),
        }
    }

    /// `members`: at least two (a scenario's `failover` names two or more).
    pub fn failover(members: Vec<TargetClient>) -> Route {
        debug_assert!(members.len() >= 2);
        Route {
            members: members.into_boxed_slice(),
        }
    }

    pub fn body_budget(&self) -> Arc<BodyBudget> {
        self.members[0].body_budget()
    }

    pub fn is_failover(&self) -> bool {
        self.members.len() > 1
    }

    /// Complete responses so far by HTTP version, every member's together.
    pub fn versions(&self) -> Vec<(&'static str, u64)> {
        let mut all: Vec<(&'static str, u64)> = Vec::new();
        for (version, n) in self.members.iter().flat_map(|m| m.versions()) {
            match all.iter_mut().find(|(v, _)| *v == version) {
                Some((_, sum)) => *sum += n,
                None => all.push((version, n)),
            }
        }
        all
    }

    /// A plain target's TLS handshakes; `None` for a failover target, whose
    /// members' endpoints may differ (percentiles of different endpoints do
    /// not add up; each member target reports its own).
    pub fn handshake_times(&self) -> Option<HandshakeMs> {
        match &*self.members {
            [one] => one.handshake_times(),
            _ => None,
        }
    }

    /// One request. A failover target tries its members in order until one
    /// answers (see [`fails_over`]), all within the timeout of a plain
    /// request sent at `sent`, so the chain is what one user waited.
    pub async fn exchange(&self, body: &mut BodyBuf, sent: Instant) -> Routed {
        let members = &self.members;
        let deadline = sent + members[0].timeout();
        let mut member = 0;
        loop {
            let Answer { reply, peer } = members[member].exchange_until(body, deadline).await;
            let last = member + 1 == members.len();
            if last || !fails_over(&reply) || Instant::now() >= deadline {
                return Routed {
                    reply,
                    peer,
                    member: member as u8,
                };
            }
            member += 1;
        }
    }
}

/// Whether a member's reply sends the request on to the next member: no
/// response at all (refused, reset, unreachable, a connect timeout, name
/// or TLS failure...), or a 5xx — what a retrying client (Envoy's
/// `5xx,connect-failure,reset`) or a GSLB's health check acts on. Any other
/// response is the member's answer, a degraded or unrecognised 200 and a
/// 4xx included: the decision is taken from the status, as a client does,
/// without reading the page. `local_error` (this machine's limits) and
/// `body_too_large` (a response did arrive) never fail over.
pub fn fails_over(reply: &Reply) -> bool {
    match reply {
        Reply::Response { status, .. } => status.is_server_error(),
        Reply::Failed(kind) => !matches!(kind, Kind::LocalError | Kind::BodyTooLarge),
    }
}

#[cfg(test)]
mod tests {
    use hyper::{HeaderMap, StatusCode};

    use super::*;

    fn response(status: u16) -> Reply {
        Reply::Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            followed: 0,
        }
    }

    #[test]
    fn only_no_answer_or_a_5xx_fails_over() {
        assert!(fails_over(&response(503)));
        assert!(fails_over(&response(500)));
        assert!(!fails_over(&response(200)));
        assert!(!fails_over(&response(301)));
        assert!(!fails_over(&response(404)));
        for kind in [
            Kind::Refused,
            Kind::Reset,
            Kind::ConnectTimeout,
            Kind::Unreachable,
            Kind::Dns,
            Kind::TlsHandshake,
            Kind::TlsCert,
            Kind::Timeout,
            Kind::OtherError,
        ] {
            assert!(fails_over(&Reply::Failed(kind)), "{kind:?}");
        }
        assert!(!fails_over(&Reply::Failed(Kind::LocalError)));
        assert!(!fails_over(&Reply::Failed(Kind::BodyTooLarge)));
    }
}
