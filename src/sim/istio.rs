//! The mesh's own view of the simulated traffic: Istio's standard request
//! counter `istio_requests_total`, as each cluster's Envoys would report it,
//! served in Prometheus text format on [`METRICS_PATH`] of that cluster's
//! gateway listener (Envoy serves `/stats/prometheus` on its stats port).
//!
//! Two hops per cluster, both reported by the calling side
//! (`reporter="source"`), as Istio's ingress gateway and sidecars do:
//!
//! - the ingress gateway → productpage: 200; 503 `UH` (no healthy upstream)
//!   under `http503` (and in the instant before `down` tears the listener
//!   down); 404 `NR` for a path with no route; 0 `DC` when the client left
//!   before the answer (a blackhole's held requests, a delayed answer cut off);
//! - productpage → reviews: 200 from this cluster's reviews, or from the
//!   other cluster's under `cross-cluster` (so `source_cluster` ≠
//!   `destination_cluster`), or 503 `UH` under `degraded`.
//!
//! Every series is fixed, so the counters are one array of atomics indexed
//! by [`Series`] (no lock, no allocation per request), and every series is
//! rendered from the first scrape on, zeros included: a series appearing
//! mid-run would lose its first increase to `rate()`. While a cluster is
//! `down` its listener is closed, so Prometheus sees the target down, as it
//! would see a killed gateway pod.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::Cluster;

/// The path the sim's gateways serve their metrics on (never counted as
/// Bookinfo traffic, never held by a blackhole).
pub const METRICS_PATH: &str = "/stats/prometheus";

/// One fixed label set of `istio_requests_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Series {
    GatewayOk,
    GatewayNoHealthyUpstream,
    GatewayNoRoute,
    GatewayMethodNotAllowed,
    GatewayDownstreamClosed,
    ReviewsLocal,
    ReviewsOtherCluster,
    ReviewsNoHealthyUpstream,
}

/// Which hop a series counts.
#[derive(Clone, Copy)]
enum Hop {
    Gateway,
    Reviews,
}

struct Labels {
    hop: Hop,
    code: u16,
    flags: &'static str,
    /// The other cluster answered.
    other_cluster: bool,
}

const SERIES: [(Series, Labels); 8] = {
    const fn l(hop: Hop, code: u16, flags: &'static str, other_cluster: bool) -> Labels {
        Labels {
            hop,
            code,
            flags,
            other_cluster,
        }
    }
    [
        (Series::GatewayOk, l(Hop::Gateway, 200, "-", false)),
        (
            Series::GatewayNoHealthyUpstream,
            l(Hop::Gateway, 503, "UH", false),
        ),
        (Series::GatewayNoRoute, l(Hop::Gateway, 404, "NR", false)),
        (
            Series::GatewayMethodNotAllowed,
            l(Hop::Gateway, 405, "-", false),
        ),
        (
            Series::GatewayDownstreamClosed,
            l(Hop::Gateway, 0, "DC", false),
        ),
        (Series::ReviewsLocal, l(Hop::Reviews, 200, "-", false)),
        (Series::ReviewsOtherCluster, l(Hop::Reviews, 200, "-", true)),
        (
            Series::ReviewsNoHealthyUpstream,
            l(Hop::Reviews, 503, "UH", false),
        ),
    ]
};

/// One cluster's `istio_requests_total`, by [`Series`].
#[derive(Debug, Default)]
pub struct IstioCounters {
    counts: [AtomicU64; SERIES.len()],
}

impl IstioCounters {
    pub fn count(&self, series: Series) {
        self.counts[series as usize].fetch_add(1, Relaxed);
    }

    pub fn get(&self, series: Series) -> u64 {
        self.counts[series as usize].load(Relaxed)
    }

    /// The exposition as `cluster`'s gateway serves it.
    pub fn render(&self, cluster: Cluster) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP istio_requests_total Requests, as Istio's proxies report them (meshdrill sim).\n");
        out.push_str("# TYPE istio_requests_total counter\n");
        let here = cluster.name();
        for (series, labels) in &SERIES {
            let (source_workload, service, workload) = match labels.hop {
                Hop::Gateway => ("istio-ingressgateway", "productpage", "productpage-v1"),
                Hop::Reviews => ("productpage-v1", "reviews", "reviews"),
            };
            let destination = if labels.other_cluster {
                cluster.other().name()
            } else {
                here
            };
            let _ = writeln!(
                out,
                "istio_requests_total{{reporter=\"source\",source_workload=\"{source_workload}\",source_cluster=\"{here}\",destination_service_name=\"{service}\",destination_workload=\"{workload}\",destination_cluster=\"{destination}\",response_code=\"{}\",response_flags=\"{}\"}} {}",
                labels.code,
                labels.flags,
                self.get(*series)
            );
        }
        out
    }
}

/// Counts a request the client gave up on (`0 DC`) unless it was answered:
/// dropped with the request's future when the connection goes first.
pub struct Answering<'a> {
    counters: &'a IstioCounters,
    answered: bool,
}

impl<'a> Answering<'a> {
    pub fn new(counters: &'a IstioCounters) -> Answering<'a> {
        Answering {
            counters,
            answered: false,
        }
    }

    pub fn answered(mut self) {
        self.answered = true;
    }
}

impl Drop for Answering<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.counters.count(Series::GatewayDownstreamClosed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_in_index_order() {
        for (i, (series, _)) in SERIES.iter().enumerate() {
            assert_eq!(*series as usize, i);
        }
    }

    #[test]
    fn the_exposition_has_every_series_with_its_count() {
        let c = IstioCounters::default();
        c.count(Series::GatewayNoHealthyUpstream);
        c.count(Series::GatewayNoHealthyUpstream);
        c.count(Series::ReviewsOtherCluster);
        drop(Answering::new(&c));
        Answering::new(&c).answered();
        let text = c.render(Cluster::Primary);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2 + SERIES.len(), "{text}");
        assert_eq!(lines[1], "# TYPE istio_requests_total counter");
        assert_eq!(
            lines[3],
            "istio_requests_total{reporter=\"source\",source_workload=\"istio-ingressgateway\",source_cluster=\"primary\",destination_service_name=\"productpage\",destination_workload=\"productpage-v1\",destination_cluster=\"primary\",response_code=\"503\",response_flags=\"UH\"} 2"
        );
        assert_eq!(
            lines[6],
            "istio_requests_total{reporter=\"source\",source_workload=\"istio-ingressgateway\",source_cluster=\"primary\",destination_service_name=\"productpage\",destination_workload=\"productpage-v1\",destination_cluster=\"primary\",response_code=\"0\",response_flags=\"DC\"} 1"
        );
        assert_eq!(
            lines[8],
            "istio_requests_total{reporter=\"source\",source_workload=\"productpage-v1\",source_cluster=\"primary\",destination_service_name=\"reviews\",destination_workload=\"reviews\",destination_cluster=\"secondary\",response_code=\"200\",response_flags=\"-\"} 1"
        );
        assert!(lines[2].ends_with("\"-\"} 0"), "{}", lines[2]);
    }
}
