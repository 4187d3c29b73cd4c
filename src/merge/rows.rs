//! One second of one scope, added up over the shards: counts summed, the
//! generator's health summed (its worst send lag kept), the per-millisecond
//! edge marks combined by what they mean, the percentiles taken from the
//! second's histogram added up over the shards (never averaged).
//!
//! The marks on disk are each shard's derived edges, not its bitmaps, so
//! one pair is not always exact: "the first success after the last failure"
//! of the merged second is after the *latest* shard's last failure. A
//! shard whose own first success after its own last failure comes after
//! that latest failure gives it exactly; a shard whose first one came
//! before it (it succeeded while another shard still failed) cannot say
//! what it sent after, and is left out of that mark. The merged recovery
//! can then only be later than the truth, never earlier (the rule of
//! `assess::rto`: never early), and the next good seconds' own
//! `first_success_done_ms` still bound it.

use hdrhistogram::Histogram;

use crate::outcome::Kind;
use crate::record::GeneratorHealth;
use crate::results::TimelineRow;

/// `rows` (one per shard that has this second, same second) added up;
/// `latency`: the second's histogram over every shard (every request of
/// this scope), `max_late_pct` to judge `generator_limited` as a run does.
pub fn add(rows: &[&TimelineRow], latency: &Histogram<u64>, max_late_pct: f64) -> TimelineRow {
    let first = rows[0];
    let mut m = TimelineRow {
        second: first.second,
        phase: first.phase.clone(),
        clusters: vec![0; first.clusters.len()],
        cluster_first_ms: vec![None; first.cluster_first_ms.len()],
        ..TimelineRow::default()
    };
    let sum_opt = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    };
    for r in rows {
        m.sent += r.sent;
        add_into(&mut m.by_kind, &r.by_kind);
        m.failed += r.failed;
        m.late += r.late;
        m.planned = sum_opt(m.planned, r.planned);
        m.planned_users = sum_opt(m.planned_users, r.planned_users);
        m.active_users = sum_opt(m.active_users, r.active_users);
        m.not_sent += r.not_sent;
        m.cap_waits += r.cap_waits;
        m.max_send_lag_us = m.max_send_lag_us.max(r.max_send_lag_us);
        add_into(&mut m.reviews, &r.reviews);
        add_into(&mut m.ok_versions, &r.ok_versions);
        add_into(&mut m.clusters, &r.clusters);
        for (a, b) in m.cluster_first_ms.iter_mut().zip(&r.cluster_first_ms) {
            *a = min_some(*a, *b);
        }
        add_into(&mut m.degraded, &r.degraded);
        m.first_failure_ms = min_some(m.first_failure_ms, r.first_failure_ms);
        m.last_failure_ms = m.last_failure_ms.max(r.last_failure_ms);
        m.first_success_ms = min_some(m.first_success_ms, r.first_success_ms);
        m.first_success_done_ms = min_some(m.first_success_done_ms, r.first_success_done_ms);
    }
    let (after, after_done) = after_last_failure(rows, m.last_failure_ms);
    m.first_success_after_last_failure_ms = after;
    m.first_success_after_last_failure_done_ms = after_done;
    let judged: u64 = Kind::ALL
        .iter()
        .filter(|k| k.is_judged())
        .map(|k| m.by_kind[k.index()])
        .sum();
    let ok: u64 = Kind::ALL
        .iter()
        .filter(|k| k.is_success())
        .map(|k| m.by_kind[k.index()])
        .sum();
    m.availability_pct = (judged > 0).then(|| 100.0 * ok as f64 / judged as f64);
    let health = GeneratorHealth {
        planned: m.planned,
        sent: m.sent,
        late: m.late,
        not_sent: m.not_sent,
        cap_waits: m.cap_waits,
        local_errors: m.by_kind[Kind::LocalError.index()],
        max_send_lag_us: m.max_send_lag_us.unwrap_or(0),
    };
    m.generator_limited = health.limits(max_late_pct).any();
    if !latency.is_empty() {
        let ms = |us: u64| us as f64 / 1000.0;
        m.p50_ms = Some(ms(latency.value_at_quantile(0.5)));
        m.p90_ms = Some(ms(latency.value_at_quantile(0.9)));
        m.p99_ms = Some(ms(latency.value_at_quantile(0.99)));
        m.max_ms = Some(ms(latency.max()));
    }
    m
}

/// The merged second's first success (sent, and completed) after `last`,
/// its last failure: from each shard whose own first success after its own
/// last failure is after `last` (see the module's doc for the others).
fn after_last_failure(rows: &[&TimelineRow], last: Option<u64>) -> (Option<u64>, Option<u64>) {
    let (mut sent, mut done) = (None, None);
    for r in rows {
        let Some(first) = r.first_success_after_last_failure_ms else {
            continue;
        };
        if last.is_some_and(|l| first <= l) {
            continue;
        }
        sent = min_some(sent, Some(first));
        done = min_some(done, r.first_success_after_last_failure_done_ms);
    }
    (sent, done)
}

fn min_some(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn add_into(a: &mut [u64], b: &[u64]) {
    for (a, b) in a.iter_mut().zip(b) {
        *a += b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::new_histogram;

    fn row(ok: u64, failed: u64) -> TimelineRow {
        let mut by_kind = [0; Kind::COUNT];
        by_kind[Kind::Ok.index()] = ok;
        by_kind[Kind::Refused.index()] = failed;
        TimelineRow {
            second: 12,
            phase: "measured".into(),
            sent: ok + failed,
            by_kind,
            failed,
            planned: Some(ok + failed),
            max_send_lag_us: Some(300),
            clusters: vec![ok, 0, 0],
            cluster_first_ms: vec![Some(12_010), None, None],
            ..TimelineRow::default()
        }
    }

    #[test]
    fn counts_add_up_and_edges_take_the_earliest_or_latest() {
        // Shard a: failures 12100..12400, its successes from 12405.
        let mut a = row(60, 7);
        a.first_failure_ms = Some(12_100);
        a.last_failure_ms = Some(12_400);
        a.first_success_ms = Some(12_000);
        a.first_success_after_last_failure_ms = Some(12_405);
        a.first_success_done_ms = Some(12_002);
        a.first_success_after_last_failure_done_ms = Some(12_407);
        a.max_send_lag_us = Some(900);
        // Shard b: fails later (12450) and recovers at 12455.
        let mut b = row(62, 5);
        b.first_failure_ms = Some(12_105);
        b.last_failure_ms = Some(12_450);
        b.first_success_ms = Some(12_003);
        b.first_success_after_last_failure_ms = Some(12_455);
        b.first_success_done_ms = Some(12_004);
        b.first_success_after_last_failure_done_ms = Some(12_456);
        b.cluster_first_ms = vec![Some(12_003), None, Some(12_500)];
        // Shard c: no failure, successes from 12001; its first success
        // after 12450 is not known, so it is left out of that edge.
        let mut c = row(66, 0);
        c.first_success_ms = Some(12_001);
        c.first_success_after_last_failure_ms = Some(12_001);
        c.first_success_done_ms = Some(12_003);
        c.first_success_after_last_failure_done_ms = Some(12_003);
        let mut h = new_histogram();
        h.record_n(2_000, 190).unwrap();
        h.record_n(40_000, 10).unwrap();
        let m = add(&[&a, &b, &c], &h, 50.0);
        assert_eq!((m.sent, m.failed, m.planned), (200, 12, Some(200)));
        assert_eq!(m.by_kind[Kind::Ok.index()], 188);
        assert_eq!(m.availability_pct, Some(94.0));
        assert_eq!(m.max_send_lag_us, Some(900));
        assert_eq!(m.clusters, [188, 0, 0]);
        assert_eq!(m.cluster_first_ms, [Some(12_003), None, Some(12_500)]);
        assert_eq!(m.first_failure_ms, Some(12_100));
        assert_eq!(m.last_failure_ms, Some(12_450));
        assert_eq!(m.first_success_ms, Some(12_000));
        assert_eq!(m.first_success_done_ms, Some(12_002));
        assert_eq!(m.first_success_after_last_failure_ms, Some(12_455));
        assert_eq!(m.first_success_after_last_failure_done_ms, Some(12_456));
        assert_eq!(m.p50_ms, Some(h.value_at_quantile(0.5) as f64 / 1000.0));
        assert_eq!(m.p99_ms, Some(h.value_at_quantile(0.99) as f64 / 1000.0));
        assert!(!m.generator_limited);
    }

    #[test]
    fn without_failures_the_first_success_is_the_earliest_and_unsent_is_limited() {
        let mut a = row(10, 0);
        a.first_success_after_last_failure_ms = Some(12_040);
        a.first_success_after_last_failure_done_ms = Some(12_041);
        let mut b = row(10, 0);
        b.first_success_after_last_failure_ms = Some(12_020);
        b.first_success_after_last_failure_done_ms = Some(12_090);
        b.not_sent = 1;
        let m = add(&[&a, &b], &new_histogram(), 50.0);
        assert_eq!(m.first_success_after_last_failure_ms, Some(12_020));
        assert_eq!(m.first_success_after_last_failure_done_ms, Some(12_041));
        assert_eq!((m.p50_ms, m.max_ms), (None, None));
        assert!(m.generator_limited, "a slot never sent limits the second");
    }
}
