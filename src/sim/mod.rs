//! Embedded two-cluster Bookinfo simulator (primary + secondary ingress) with
//! fault injection. It is the default target of the demo, the tests and the
//! benches. (Interface sketch: the implementation lands in its own commit.)

use std::net::SocketAddr;
use std::time::Duration;

/// One of the two simulated clusters, each behind its own listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cluster {
    Primary,
    Secondary,
}

impl Cluster {
    pub const ALL: [Cluster; 2] = [Cluster::Primary, Cluster::Secondary];
    pub const fn name(self) -> &'static str {
        match self {
            Cluster::Primary => "primary",
            Cluster::Secondary => "secondary",
        }
    }
    pub const fn other(self) -> Cluster {
        match self {
            Cluster::Primary => Cluster::Secondary,
            Cluster::Secondary => Cluster::Primary,
        }
    }
}

/// Which productpage generation the simulator renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Template {
    /// Tailwind + inline SVG stars (bookinfo 1.20.x images).
    #[default]
    Current,
    /// Bootstrap 3 glyphicon stars.
    Legacy,
}

/// A fault applied to one simulated cluster. A new fault replaces the current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimFault {
    /// Listener closed and open connections dropped: clients see "connection refused".
    Down,
    /// Accepts and reads requests but answers none until restored: clients time out.
    Blackhole,
    /// Envoy-like `503 no healthy upstream`.
    Http503,
    /// Every response delayed by this much on top of the base latency.
    Latency(Duration),
    /// HTTP 200 productpage showing reviews as unavailable.
    Degraded,
    /// This cluster's ingress answers with pages served by the other cluster's reviews pods.
    CrossCluster,
    /// Back to healthy.
    Restore,
}

/// Counters the tests read to check what the load generator really did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Requests whose headers were received.
    pub requests: u64,
    /// Requests being handled right now.
    pub in_flight: u64,
    /// Highest `in_flight` seen since start (or the last `reset_peak`).
    pub peak_in_flight: u64,
    /// TCP connections accepted.
    pub connections: u64,
}

#[allow(dead_code)]
fn _interface_only(_: SocketAddr) {}
