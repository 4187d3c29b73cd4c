//! A target's whole-run totals (summary.json's [`TargetSummary`]) added up
//! over the shards: every count summed, generator health summed, rates
//! summed (each shard sent its share). Latency percentiles are not summed:
//! the caller sets them from the histograms added up (exact). Service-time
//! percentiles and TLS handshake times have no per-second file to add up
//! from, so the merged summary leaves them out and says so.

use std::collections::BTreeMap;

use crate::results::summary::{RedirectCount, TargetSummary};

/// What [`add`] cannot add up exactly, as the merged summary's notes say it.
pub const NOT_ADDED: &str = "service_ms (service-time percentiles) and tls_handshake_ms: each shard's are in its own summary.json; no file holds them per second to add up exactly";

/// `b`'s counts added into `a` (same target, another shard).
pub fn add(a: &mut TargetSummary, b: &TargetSummary) {
    a.requests += b.requests;
    a.ok += b.ok;
    a.failed += b.failed;
    let judged = a.ok + a.failed;
    a.availability_pct = (judged > 0).then(|| 100.0 * a.ok as f64 / judged as f64);
    add_map(&mut a.outcomes, &b.outcomes);
    add_map(&mut a.failures, &b.failures);
    add_map(&mut a.statuses, &b.statuses);
    add_map(&mut a.http_versions, &b.http_versions);
    a.late_sends += b.late_sends;
    a.generator.merge(&b.generator);
    a.in_flight_cap = sum(a.in_flight_cap, b.in_flight_cap);
    a.achieved_rate = match (a.achieved_rate, b.achieved_rate) {
        (None, None) => None,
        (x, y) => Some(x.unwrap_or(0.0) + y.unwrap_or(0.0)),
    };
    a.warmup_requests += b.warmup_requests;
    add_map(&mut a.versions, &b.versions);
    add_map(&mut a.ok_by_version, &b.ok_by_version);
    add_map(&mut a.clusters, &b.clusters);
    add_map(&mut a.ok_by_cluster, &b.ok_by_cluster);
    add_map(&mut a.other_clusters, &b.other_clusters);
    add_map(&mut a.pods, &b.pods);
    add_map(&mut a.degraded, &b.degraded);
    for (ip, t) in &b.ips {
        let sum = a.ips.entry(ip.clone()).or_default();
        sum.requests += t.requests;
        sum.ok += t.ok;
    }
    if let (Some(fa), Some(fb)) = (a.failover.as_mut(), b.failover.as_ref()) {
        for (ma, mb) in fa.members.iter_mut().zip(&fb.members) {
            ma.answered += mb.answered;
            ma.ok += mb.ok;
        }
        fa.failed_over += fb.failed_over;
    }
    let mut redirects: BTreeMap<String, u64> = BTreeMap::new();
    for r in a.redirects.iter().chain(&b.redirects) {
        *redirects.entry(r.location.clone()).or_default() += r.count;
    }
    a.redirects = redirects
        .into_iter()
        .map(|(location, count)| RedirectCount { location, count })
        .collect();
    // Most first, then by name, as a run orders them.
    a.redirects.sort_by(|x, y| {
        y.count
            .cmp(&x.count)
            .then_with(|| x.location.cmp(&y.location))
    });
    a.redirects_followed += b.redirects_followed;
    a.service_ms = None;
    a.tls_handshake_ms = None;
}

fn sum(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

fn add_map(a: &mut BTreeMap<String, u64>, b: &BTreeMap<String, u64>) {
    for (k, v) in b {
        *a.entry(k.clone()).or_default() += v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_names_add_up() {
        let shard = |ok: u64, pod: &str| TargetSummary {
            name: "primary".into(),
            requests: ok + 2,
            ok,
            failed: 2,
            statuses: [("200".to_string(), ok), ("503".to_string(), 2)].into(),
            pods: [(pod.to_string(), ok)].into(),
            redirects: vec![RedirectCount {
                location: "/login".into(),
                count: 1,
            }],
            ..TargetSummary::default()
        };
        let mut a = shard(98, "reviews-v1-a");
        add(&mut a, &shard(48, "reviews-v2-b"));
        assert_eq!((a.requests, a.ok, a.failed), (150, 146, 4));
        assert_eq!(a.availability_pct, Some(100.0 * 146.0 / 150.0));
        assert_eq!(a.statuses["200"], 146);
        assert_eq!(a.statuses["503"], 4);
        assert_eq!(a.pods.len(), 2);
        assert_eq!(a.redirects[0].count, 2);
    }
}
