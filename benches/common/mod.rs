//! Seeded inputs shared by the benches, so the wall-clock benches and the
//! instruction-count gate measure the same outcomes.

use meshdrill::outcome::{AddressId, Kind, Outcome, Page};
use meshdrill::record::SecondStats;

/// 1,000 outcomes of one second: mostly ok pages with a spread of
/// latencies, some 5xx and timeouts, from a fixed xorshift seed.
pub fn outcomes(second: u64) -> Vec<Outcome> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..1000)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let kind = match x % 100 {
                0..=1 => Kind::Http5xx,
                2 => Kind::Timeout,
                _ => Kind::Ok,
            };
            let latency_us = 500 + x % 20_000;
            Outcome {
                target: 0,
                intended_us: second * 1_000_000 + i * 1000,
                latency_us,
                service_us: latency_us - 50,
                send_lag_us: x % 80,
                kind,
                status: if kind == Kind::Http5xx { 503 } else { 200 },
                page: Page::default(),
                address: AddressId(0),
            }
        })
        .collect()
}

/// What the recorder merges each second: one second from each of `lanes`
/// lanes, 1,000 outcomes each.
pub fn lane_seconds(lanes: u64) -> Vec<SecondStats> {
    (0..lanes)
        .map(|lane| {
            let mut s = SecondStats::new();
            for o in outcomes(3 + lane) {
                s.record(&o);
            }
            s
        })
        .collect()
}
