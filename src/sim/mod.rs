//! Embedded two-cluster Bookinfo simulator (primary + secondary ingress) with
//! fault injection. It is the default target of the demo, the tests and the
//! benches, and runs in the load generator's process, so every page is
//! rendered once at start and a request only clones pre-built parts.
//!
//! This file is the API ([`Sim`], its config and the fault/stats types); the
//! parts, in the order a request meets them:
//!
//! - `gateway`: per-cluster listener lifecycle (accept, `Down`, re-bind).
//! - `server`: hyper connection and the request → response handler.
//! - `faults`: the current fault as one atomic word; blackhole holding.
//! - [`istio`]: `istio_requests_total` per cluster, served on
//!   [`istio::METRICS_PATH`] for a Prometheus to scrape.
//! - [`mix`]: which reviews version answers the n-th request.
//! - [`pages`]: pre-rendered productpages (both templates) and pod names.
//! - `stats`: per-cluster atomic counters behind [`SimStats`].
//! - [`control`]: faults applied from a file on SIGHUP (`meshdrill sim --control`).

pub mod control;
mod faults;
mod gateway;
pub mod istio;
pub mod mix;
pub mod pages;
mod server;
mod stats;
pub mod tls;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use gateway::Gateway;
pub use istio::METRICS_PATH;
pub use mix::version_for;
pub use pages::pod_name;
use server::{ClusterState, Site};
pub use tls::SIM_TLS_NAME;

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
    /// Position in [`Cluster::ALL`], for per-cluster arrays.
    pub const fn index(self) -> usize {
        self as usize
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

impl SimFault {
    /// The word scenarios (`sim = "..."`), the control file and the logs
    /// use for this fault. Exhaustive: a new fault needs a word here.
    pub const fn word(self) -> &'static str {
        match self {
            SimFault::Down => "down",
            SimFault::Blackhole => "blackhole",
            SimFault::Http503 => "http503",
            SimFault::Latency(_) => "latency",
            SimFault::Degraded => "degraded",
            SimFault::CrossCluster => "cross-cluster",
            SimFault::Restore => "restore",
        }
    }

    /// The fault a word names, among those that take no argument.
    pub fn without_argument(word: &str) -> Option<SimFault> {
        [
            SimFault::Down,
            SimFault::Blackhole,
            SimFault::Http503,
            SimFault::Degraded,
            SimFault::CrossCluster,
            SimFault::Restore,
        ]
        .into_iter()
        .find(|f| f.word() == word)
    }
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

/// What the simulated Bookinfo serves. Both clusters run the same config;
/// a scenario's `[sim]` table compiles to exactly this.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// Percent of productpage requests answered by reviews v1, v2, v3; must
    /// sum to 100. Exact over any 100 consecutive requests to one cluster.
    pub reviews_mix: [u8; 3],
    /// Added to every upstream answer (page or health), like the real
    /// productpage → details/reviews round trips. Zero for benches.
    pub base_latency: Duration,
    /// Page generation to render; the classifier must read both.
    pub template: Template,
    /// `[sim] tls = true`: serve https (ALPN h2 and http/1.1) with a
    /// certificate made at start; the sim targets trust its CA.
    pub tls: bool,
    /// `[sim] listen`: where `meshdrill run` binds the primary's and the
    /// secondary's gateway (loopback only), so a Prometheus can be pointed
    /// at their metrics before the run; `None`: any free port. `meshdrill
    /// sim` takes `--primary` / `--secondary` instead.
    pub listen: Option<[SocketAddr; 2]>,
}

impl Default for SimConfig {
    /// Istio's traffic-shifting example proportions and a fast local mesh.
    fn default() -> Self {
        SimConfig {
            reviews_mix: [50, 30, 20],
            base_latency: Duration::from_millis(2),
            template: Template::Current,
            tls: false,
            listen: None,
        }
    }
}

/// A running two-cluster simulator: two HTTP/1.1 listeners, each one
/// cluster's ingress gateway in front of productpage.
///
/// Dropping it without [`Sim::shutdown`] still stops every task, but
/// asynchronously.
#[derive(Debug)]
pub struct Sim {
    /// Indexed by [`Cluster::index`].
    gateways: [Gateway; 2],
    root: CancellationToken,
}

impl Sim {
    /// Binds both listeners (port 0 allowed) and starts serving.
    ///
    /// Fails with `InvalidInput` when `reviews_mix` does not sum to 100, or
    /// with the bind error.
    pub async fn start(
        config: SimConfig,
        primary: SocketAddr,
        secondary: SocketAddr,
    ) -> io::Result<Sim> {
        if !mix::mix_is_valid(config.reviews_mix) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("reviews_mix {:?} must sum to 100", config.reviews_mix),
            ));
        }
        let tls = if config.tls {
            Some(Arc::new(tls::SimTls::generate()?))
        } else {
            None
        };
        let site = Arc::new(Site::new(config, tls));
        let root = CancellationToken::new();
        let gateway = |cluster: Cluster, addr| {
            let state = Arc::new(ClusterState::new(cluster, site.clone()));
            Gateway::start(state, addr, root.clone())
        };
        let primary = gateway(Cluster::Primary, primary)?;
        let secondary = match gateway(Cluster::Secondary, secondary) {
            Ok(g) => g,
            Err(e) => {
                primary.stop().await;
                return Err(e);
            }
        };
        Ok(Sim {
            gateways: [primary, secondary],
            root,
        })
    }

    fn gateway(&self, cluster: Cluster) -> &Gateway {
        &self.gateways[cluster.index()]
    }

    /// The CA to trust when the simulator serves TLS (`[sim] tls = true`).
    pub fn tls_ca(&self) -> Option<&rustls::pki_types::CertificateDer<'static>> {
        self.gateways[0].tls_ca()
    }

    /// Bound address; stays the same across `Down`/`Restore`.
    pub fn addr(&self, cluster: Cluster) -> SocketAddr {
        self.gateway(cluster).addr()
    }

    /// Replaces `cluster`'s fault. Takes effect before it returns: after
    /// `Down`, a connect is refused and every open connection has been reset;
    /// after any other fault, the listener accepts again (re-bound on the same
    /// address if it was down) and held requests have been released.
    ///
    /// Errs only when re-binding after `Down` fails; the cluster then stays down.
    pub async fn apply(&self, cluster: Cluster, fault: SimFault) -> io::Result<()> {
        self.gateway(cluster).apply(fault).await
    }

    /// Current fault (`Restore` = healthy).
    pub fn fault(&self, cluster: Cluster) -> SimFault {
        self.gateway(cluster).state.fault.get()
    }

    pub fn stats(&self, cluster: Cluster) -> SimStats {
        self.gateway(cluster).state.stats.snapshot()
    }

    /// `cluster`'s `istio_requests_total` as its gateway serves it on
    /// [`METRICS_PATH`].
    pub fn mesh_metrics(&self, cluster: Cluster) -> String {
        self.gateway(cluster).state.istio.render(cluster)
    }

    /// Restarts `peak_in_flight` from the current `in_flight`, e.g. after a
    /// warm-up, so a test measures only the phase it cares about.
    pub fn reset_peak(&self, cluster: Cluster) {
        self.gateway(cluster).state.stats.reset_peak();
    }

    /// Waits until at least `n` requests to `cluster` are held by a
    /// [`SimFault::Blackhole`]: lets a test know its requests reached the
    /// server without sleeping.
    pub async fn wait_held(&self, cluster: Cluster, n: u64) {
        self.gateway(cluster).state.fault.wait_held(n).await;
    }

    /// Closes both listeners and every connection, and waits for all tasks.
    pub async fn shutdown(self) {
        for g in &self.gateways {
            g.stop().await;
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.root.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}

    /// Drill hooks share one `Sim` and spawn its fault changes as tasks.
    #[test]
    fn sim_and_its_futures_cross_tasks() {
        send_sync::<Sim>();
        let _compile_only = |sim: Sim| {
            send(&sim.apply(Cluster::Primary, SimFault::Down));
            send(&sim.wait_held(Cluster::Primary, 1));
            send(&sim.shutdown());
        };
    }

    #[test]
    fn cluster_indices_match_all_order() {
        for (i, c) in Cluster::ALL.into_iter().enumerate() {
            assert_eq!(c.index(), i);
            assert_eq!(c.other().other(), c);
        }
    }
}
