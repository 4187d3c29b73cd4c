//! The RTO math (`assess::rto`) as table tests of hand-built timelines: each
//! case is a drill whose outage is known to the millisecond, and the report
//! must say exactly that.

use meshdrill::assess::{
    OutageReport, Recovery, Region, SecondSample, Span, T0Source, analyse, analyse_combined,
    regions,
};
use meshdrill::outcome::Kind;
use meshdrill::scenario::RecoveryRule;

/// `seconds` of traffic at `rate` requests/s (request *i* of a second at
/// `i · 1000 / rate` ms into it); `outcome(t_ms)` decides each request.
/// Marks are placed exactly as `record::Marks` places them.
fn timeline(seconds: u32, rate: u64, outcome: impl Fn(u64) -> Kind) -> Vec<SecondSample> {
    (0..seconds)
        .map(|second| {
            let times = (0..rate).map(|i| u64::from(second) * 1000 + i * 1000 / rate);
            row(second, times.map(|t| (t, outcome(t))))
        })
        .collect()
}

/// One second from its requests (run-clock ms, kind), each answered at once.
fn row(second: u32, requests: impl IntoIterator<Item = (u64, Kind)>) -> SecondSample {
    row_done(second, requests.into_iter().map(|(t, kind)| (t, kind, t)))
}

/// One second from its requests (run-clock ms sent, kind, ms completed).
fn row_done(second: u32, requests: impl IntoIterator<Item = (u64, Kind, u64)>) -> SecondSample {
    let mut s = SecondSample {
        second,
        ..SecondSample::default()
    };
    let mut successes = Vec::new();
    for (t, kind, done) in requests {
        s.sent += 1;
        s.by_kind[kind.index()] += 1;
        if kind.is_success() {
            s.ok += 1;
            successes.push((t, done));
            s.first_success_done_ms = Some(s.first_success_done_ms.map_or(done, |f| f.min(done)));
            s.first_success_ms = Some(s.first_success_ms.map_or(t, |f| f.min(t)));
        } else {
            s.first_failure_ms = Some(s.first_failure_ms.map_or(t, |f| f.min(t)));
            s.last_failure_ms = Some(s.last_failure_ms.map_or(t, |l| l.max(t)));
        }
    }
    let after = |last: u64| successes.iter().filter(move |(t, _)| *t > last);
    (
        s.first_success_after_last_failure_ms,
        s.first_success_after_last_failure_done_ms,
    ) = match s.last_failure_ms {
        Some(last) => (
            after(last).map(|(t, _)| *t).min(),
            after(last).map(|(_, d)| *d).min(),
        ),
        None => (s.first_success_ms, s.first_success_done_ms),
    };
    s
}

/// A second with `ok` successes then `failed` failures of `kind`, spread
/// over the second in that order (100 requests → 10 ms apart).
fn counted(second: u32, ok: u64, failed: u64, kind: Kind) -> SecondSample {
    let n = ok + failed;
    let at = |i: u64| u64::from(second) * 1000 + i * 1000 / n.max(1);
    row(
        second,
        (0..n).map(|i| (at(i), if i < ok { Kind::Ok } else { kind })),
    )
}

fn empty(second: u32) -> SecondSample {
    row(second, [])
}

fn down_between(from_ms: u64, to_ms: u64, kind: Kind) -> impl Fn(u64) -> Kind {
    move |t| {
        if (from_ms..=to_ms).contains(&t) {
            kind
        } else {
            Kind::Ok
        }
    }
}

fn rule(window: u32, threshold_pct: f64) -> RecoveryRule {
    RecoveryRule {
        window,
        threshold_pct,
    }
}

fn hook(t0_ms: u64, end_ms: u64) -> Region {
    Region {
        start_ms: 0,
        t0_ms: Some(t0_ms),
        source: T0Source::Hook,
        end_ms,
    }
}

fn no_hook(end_ms: u64) -> Region {
    regions(&[], end_ms)[0]
}

fn span(from: u32, to: u32, requests: u64, ok: u64) -> Span {
    Span {
        from_second: from,
        to_second: to,
        requests,
        ok,
        failed: requests - ok,
        availability_pct: (requests > 0).then(|| 100.0 * ok as f64 / requests as f64),
    }
}

fn kinds(counts: &[(Kind, u64)]) -> [u64; Kind::COUNT] {
    let mut by_kind = [0; Kind::COUNT];
    for &(kind, n) in counts {
        by_kind[kind.index()] = n;
    }
    by_kind
}

// ------------------------------------------------------------------ outages

#[test]
fn clean_run_is_no_outage_with_rto_zero() {
    let samples = timeline(30, 200, |_| Kind::Ok);
    let report = analyse(&samples, &no_hook(30_000), &RecoveryRule::default());
    assert_eq!(
        report,
        OutageReport {
            t0_ms: None,
            t0_source: None,
            first_failure_ms: None,
            last_failure_ms: None,
            recovery: Recovery::NoOutage,
            rto_ms: Some(0),
            failing_seconds: 0,
            failed: 0,
            failed_by_kind: [0; Kind::COUNT],
            failed_after_recovery: 0,
            failing_seconds_after_recovery: 0,
            before: span(0, 30, 6000, 6000),
            during: span(30, 30, 0, 0),
            after: span(30, 30, 0, 0),
        }
    );
}

#[test]
fn a_fault_that_did_not_bite_is_no_outage_from_its_t0() {
    let samples = timeline(30, 200, |_| Kind::Ok);
    let report = analyse(&samples, &hook(10_000, 30_000), &RecoveryRule::default());
    assert_eq!(report.t0_ms, Some(10_000));
    assert_eq!(report.t0_source, Some(T0Source::Hook));
    assert_eq!(report.recovery, Recovery::NoOutage);
    assert_eq!(report.rto_ms, Some(0));
    assert_eq!(report.before, span(0, 10, 2000, 2000));
    assert_eq!(report.during, span(10, 10, 0, 0));
    assert_eq!(report.after, span(10, 30, 4000, 4000));
}

#[test]
fn hook_started_8s_outage_at_200_per_second_is_exact_to_the_ms() {
    // The hook starts at 10.003 s; requests every 5 ms are refused from
    // 10.005 s through 17.995 s; 18.000 s is the first success.
    let samples = timeline(30, 200, down_between(10_003, 17_999, Kind::Refused));
    let report = analyse(&samples, &hook(10_003, 30_000), &RecoveryRule::default());
    assert_eq!(
        report,
        OutageReport {
            t0_ms: Some(10_003),
            t0_source: Some(T0Source::Hook),
            first_failure_ms: Some(10_005),
            last_failure_ms: Some(17_995),
            recovery: Recovery::Recovered { at_ms: 18_000 },
            rto_ms: Some(7_997),
            failing_seconds: 8,
            failed: 1599,
            failed_by_kind: kinds(&[(Kind::Refused, 1599)]),
            failed_after_recovery: 0,
            failing_seconds_after_recovery: 0,
            before: span(0, 10, 2000, 2000),
            during: span(10, 18, 1600, 1),
            after: span(18, 30, 2400, 2400),
        }
    );
}

#[test]
fn outage_ending_mid_second_recovers_at_the_first_success_after_the_last_failure() {
    // Second 24: 100 timeouts, then 100 successes from 24.500 s: it fails
    // (50 %), and recovery is placed inside it, not at 25 s.
    let samples = timeline(35, 200, down_between(20_000, 24_499, Kind::Timeout));
    let report = analyse(&samples, &hook(20_000, 35_000), &RecoveryRule::default());
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 24_500 });
    assert_eq!(report.rto_ms, Some(4_500));
    assert_eq!(report.last_failure_ms, Some(24_495));
    assert_eq!(report.failing_seconds, 5);
    assert_eq!(report.failed, 900);
    assert_eq!(report.failed_by_kind, kinds(&[(Kind::Timeout, 900)]));
    // Second 24 overlaps the fault window, so it is counted there whole.
    assert_eq!(report.during, span(20, 25, 1000, 100));
    assert_eq!(report.after, span(25, 35, 2000, 2000));
}

#[test]
fn without_a_hook_t0_is_the_first_failure() {
    // 1000 requests/s, one per ms: failures from 12.345 s through 15.678 s.
    let samples = timeline(25, 1000, down_between(12_345, 15_678, Kind::Http5xx));
    let report = analyse(&samples, &no_hook(25_000), &RecoveryRule::default());
    assert_eq!(report.t0_ms, Some(12_345));
    assert_eq!(report.t0_source, Some(T0Source::FirstFailure));
    assert_eq!(report.first_failure_ms, Some(12_345));
    assert_eq!(report.last_failure_ms, Some(15_678));
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 15_679 });
    assert_eq!(report.rto_ms, Some(3_334));
    assert_eq!(report.failed, 3_334);
    assert_eq!(report.before, span(0, 12, 12_000, 12_000));
    assert_eq!(report.during, span(12, 16, 4000, 666));
    assert_eq!(report.after, span(16, 25, 9000, 9000));
}

#[test]
fn a_marker_is_a_t0_like_a_hook() {
    let samples = timeline(20, 200, down_between(5_000, 6_999, Kind::Reset));
    let region = Region {
        source: T0Source::Marker,
        ..hook(4_000, 20_000)
    };
    let report = analyse(&samples, &region, &RecoveryRule::default());
    assert_eq!(report.t0_source, Some(T0Source::Marker));
    assert_eq!(report.rto_ms, Some(3_000));
}

#[test]
fn t0_from_a_hook_may_precede_the_first_failure() {
    // The failover took 3 s to bite: the RTO still counts from the hook.
    let samples = timeline(30, 200, down_between(13_000, 17_999, Kind::Unreachable));
    let report = analyse(&samples, &hook(10_000, 30_000), &RecoveryRule::default());
    assert_eq!(report.first_failure_ms, Some(13_000));
    assert_eq!(report.last_failure_ms, Some(17_995));
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 18_000 });
    assert_eq!(report.rto_ms, Some(8_000));
    assert_eq!(report.failing_seconds, 5);
    assert_eq!(report.failed, 1000);
    // The good seconds 10-12 came before any failure: not a recovery, but
    // inside the fault window.
    assert_eq!(report.during, span(10, 18, 1600, 600));
}

// ---------------------------------------------------------------- threshold

#[test]
fn a_second_below_the_threshold_fails_and_one_at_it_is_good() {
    let r = rule(5, 99.0);
    use meshdrill::assess::Health;
    assert_eq!(r.health(&counted(0, 98, 2, Kind::Http5xx)), Health::Failing);
    assert_eq!(r.health(&counted(0, 99, 1, Kind::Http5xx)), Health::Good);
    assert_eq!(r.health(&counted(0, 100, 0, Kind::Ok)), Health::Good);
    assert_eq!(r.health(&empty(0)), Health::Empty);
    assert_eq!(
        rule(5, 98.0).health(&counted(0, 98, 2, Kind::Http5xx)),
        Health::Good
    );
    assert_eq!(
        rule(5, 100.0).health(&counted(0, 999, 1, Kind::Http5xx)),
        Health::Failing
    );
    assert_eq!(
        rule(5, 99.9).health(&counted(0, 999, 1, Kind::Http5xx)),
        Health::Good
    );
}

#[test]
fn one_98_percent_second_with_threshold_99_is_an_outage() {
    let mut samples: Vec<_> = (0..15).map(|s| counted(s, 100, 0, Kind::Ok)).collect();
    samples[3] = counted(3, 98, 2, Kind::Http5xx); // failures at 3.980, 3.990 s
    let report = analyse(&samples, &no_hook(15_000), &rule(5, 99.0));
    assert_eq!(report.t0_ms, Some(3_980));
    assert_eq!(report.failing_seconds, 1);
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 4_000 });
    assert_eq!(report.rto_ms, Some(20));
    assert_eq!(report.failed, 2);
}

#[test]
fn failures_that_never_pull_a_second_below_the_threshold_are_counted_not_an_outage() {
    let mut samples: Vec<_> = (0..15).map(|s| counted(s, 100, 0, Kind::Ok)).collect();
    samples[3] = counted(3, 99, 1, Kind::Timeout);
    samples[7] = counted(7, 99, 1, Kind::Degraded);
    let report = analyse(&samples, &no_hook(15_000), &rule(5, 99.0));
    assert_eq!(report.recovery, Recovery::NoOutage);
    assert_eq!(report.rto_ms, Some(0));
    assert_eq!(report.t0_ms, Some(3_990));
    assert_eq!(report.first_failure_ms, Some(3_990));
    assert_eq!(report.last_failure_ms, Some(7_990));
    assert_eq!(report.failed, 2);
    assert_eq!(
        report.failed_by_kind,
        kinds(&[(Kind::Timeout, 1), (Kind::Degraded, 1)])
    );
    assert_eq!(report.after, span(3, 15, 1200, 1198));
}

// ------------------------------------------------------------ not recovered

#[test]
fn never_recovered_gives_a_lower_bound_to_the_end_of_the_region() {
    let samples = timeline(30, 200, down_between(10_000, 40_000, Kind::Refused));
    let report = analyse(&samples, &hook(10_000, 30_000), &RecoveryRule::default());
    assert_eq!(
        report.recovery,
        Recovery::NotRecovered {
            lower_bound_ms: 20_000
        }
    );
    assert_eq!(report.rto_ms, None);
    assert_eq!(report.failing_seconds, 20);
    assert_eq!(report.failed, 4000);
    assert_eq!(report.last_failure_ms, Some(29_995));
    assert_eq!(report.during, span(10, 30, 4000, 0));
    assert_eq!(report.after, span(30, 30, 0, 0));
}

#[test]
fn run_ending_inside_the_recovery_window_is_not_recovered() {
    // Good again from 27 s, but 3 good seconds are not a 5 s window.
    let samples = timeline(30, 200, down_between(10_000, 26_999, Kind::Refused));
    let report = analyse(&samples, &hook(10_000, 30_000), &RecoveryRule::default());
    assert_eq!(
        report.recovery,
        Recovery::NotRecovered {
            lower_bound_ms: 20_000
        }
    );
    assert_eq!(report.last_failure_ms, Some(26_995));
    assert_eq!(report.during, span(10, 30, 4000, 600));
    // With a 3 s window the same run recovered at 27 s.
    let report = analyse(&samples, &hook(10_000, 30_000), &rule(3, 99.0));
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 27_000 });
}

// ----------------------------------------------------------------- flapping

fn pattern(seconds: &[(u32, &str)]) -> Vec<SecondSample> {
    // "F" all failed, "G" all good, "E" nothing sent; 100 requests/s.
    seconds
        .iter()
        .map(|&(s, what)| match what {
            "F" => counted(s, 0, 100, Kind::Http5xx),
            "G" => counted(s, 100, 0, Kind::Ok),
            "E" => empty(s),
            other => panic!("{other}"),
        })
        .collect()
}

fn seconds_of(spec: &str) -> Vec<SecondSample> {
    let letters: Vec<(u32, String)> = spec
        .chars()
        .enumerate()
        .map(|(i, c)| (i as u32, c.to_string()))
        .collect();
    pattern(
        &letters
            .iter()
            .map(|(i, c)| (*i, c.as_str()))
            .collect::<Vec<_>>(),
    )
}

#[test]
fn a_short_good_spell_between_failures_is_part_of_the_outage() {
    // second: 0123456789...
    //         GGFGGFGGGGGGG  window 5: fail, 2 good, fail, 5 good
    let samples = seconds_of("GGFGGFGGGGGGG");
    let report = analyse(&samples, &hook(2_000, 13_000), &rule(5, 99.0));
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 6_000 });
    assert_eq!(report.rto_ms, Some(4_000));
    assert_eq!(report.failing_seconds, 2);
    assert_eq!(report.failed, 200);
    assert_eq!(report.last_failure_ms, Some(5_990));
    assert_eq!(report.failed_after_recovery, 0);
    assert_eq!(report.during, span(2, 6, 400, 200));
}

#[test]
fn failures_after_a_full_good_window_are_flapping_not_rto() {
    let samples = seconds_of("GGFGGGGGFFGGGGGG");
    let report = analyse(&samples, &hook(2_000, 16_000), &rule(5, 99.0));
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 3_000 });
    assert_eq!(report.rto_ms, Some(1_000));
    assert_eq!(report.failed, 100);
    assert_eq!(report.failed_after_recovery, 200);
    assert_eq!(report.failing_seconds_after_recovery, 2);
    assert_eq!(report.after, span(3, 16, 1300, 1100));
}

#[test]
fn seconds_without_requests_break_a_good_window_and_are_not_failures() {
    // 2 good, then nothing sent: the window starts over at 6 s.
    let samples = seconds_of("GGFGGEGGGGGGG");
    let report = analyse(&samples, &hook(2_000, 13_000), &rule(5, 99.0));
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 6_000 });
    assert_eq!(report.failing_seconds, 1);
    assert_eq!(report.failed, 100);
    // An empty second inside the outage is not failing either.
    let samples = seconds_of("GGFEFGGGGGG");
    let report = analyse(&samples, &hook(2_000, 11_000), &rule(5, 99.0));
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 5_000 });
    assert_eq!(report.failing_seconds, 2);
    // A gap in the samples counts as an empty second.
    let mut samples = seconds_of("GGFGGGGGGGGG");
    samples.remove(5);
    let report = analyse(&samples, &hook(2_000, 12_000), &rule(5, 99.0));
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 6_000 });
}

#[test]
fn empty_seconds_between_the_last_failure_and_the_window_keep_the_mid_second_recovery() {
    // Second 2 fails until 2.490 s and succeeds after; 3 s sends nothing;
    // 4-8 s are the window. The last failing second is 2 s, and it places
    // the recovery at 2.500 s.
    let mut samples = seconds_of("GGFEGGGGG");
    samples[2] = row(
        2,
        (0..100).map(|i| (2_000 + i * 10, if i < 50 { Kind::Reset } else { Kind::Ok })),
    );
    let report = analyse(&samples, &hook(2_000, 9_000), &rule(5, 99.0));
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 2_500 });
    assert_eq!(report.rto_ms, Some(500));
}

// ----------------------------------------------------------- several faults

#[test]
fn two_faults_get_one_region_and_one_rto_each() {
    let samples = timeline(60, 200, |t| {
        if (10_000..15_000).contains(&t) || (30_000..37_500).contains(&t) {
            Kind::Refused
        } else {
            Kind::Ok
        }
    });
    let regions = regions(
        &[
            (Some(10_000), T0Source::Hook),
            (Some(30_000), T0Source::Hook),
        ],
        60_000,
    );
    assert_eq!(
        regions,
        [
            Region {
                start_ms: 0,
                t0_ms: Some(10_000),
                source: T0Source::Hook,
                end_ms: 30_000
            },
            Region {
                start_ms: 30_000,
                t0_ms: Some(30_000),
                source: T0Source::Hook,
                end_ms: 60_000
            },
        ]
    );
    let rule = RecoveryRule::default();
    let first = analyse(&samples, &regions[0], &rule);
    let second = analyse(&samples, &regions[1], &rule);
    assert_eq!(first.recovery, Recovery::Recovered { at_ms: 15_000 });
    assert_eq!(first.rto_ms, Some(5_000));
    assert_eq!(first.failed, 1000);
    assert_eq!(first.after, span(15, 30, 3000, 3000));
    assert_eq!(second.recovery, Recovery::Recovered { at_ms: 37_500 });
    assert_eq!(second.rto_ms, Some(7_500));
    assert_eq!(second.failed, 1500);
    assert_eq!(second.before, span(30, 30, 0, 0));
    assert_eq!(second.during, span(30, 38, 1600, 100));
    assert_eq!(second.after, span(38, 60, 4400, 4400));
}

#[test]
fn the_next_fault_cuts_a_recovery_short() {
    // Down from 10 s to 24 s; the second fault at 20 s ends the first
    // fault's region, so the first never recovered (≥ 10 s), and the
    // second's outage is measured from its own T0.
    let samples = timeline(40, 200, down_between(10_000, 23_999, Kind::Refused));
    let regions = regions(
        &[
            (Some(10_000), T0Source::Hook),
            (Some(20_000), T0Source::Hook),
        ],
        40_000,
    );
    let rule = RecoveryRule::default();
    let first = analyse(&samples, &regions[0], &rule);
    let second = analyse(&samples, &regions[1], &rule);
    assert_eq!(
        first.recovery,
        Recovery::NotRecovered {
            lower_bound_ms: 10_000
        }
    );
    assert_eq!(second.recovery, Recovery::Recovered { at_ms: 24_000 });
    assert_eq!(second.rto_ms, Some(4_000));
}

#[test]
fn first_failure_t0_is_searched_from_the_region_start() {
    let samples = timeline(40, 200, |t| {
        if (5_000..6_000).contains(&t) || (25_000..27_000).contains(&t) {
            Kind::Timeout
        } else {
            Kind::Ok
        }
    });
    let regions = regions(
        &[
            (None, T0Source::Hook),
            (Some(5_000), T0Source::Hook),
            (None, T0Source::Hook),
        ],
        40_000,
    );
    // A fault whose hook never ran has an empty region and cuts no other.
    let bounds: Vec<_> = regions.iter().map(|r| (r.start_ms, r.end_ms)).collect();
    assert_eq!(bounds, [(0, 0), (0, 40_000), (40_000, 40_000)]);
    let nothing = analyse(&samples, &regions[0], &RecoveryRule::default());
    assert_eq!(
        (nothing.t0_ms, nothing.recovery),
        (None, Recovery::NoOutage)
    );
    let by_hand = Region {
        start_ms: 20_000,
        t0_ms: None,
        source: T0Source::FirstFailure,
        end_ms: 40_000,
    };
    let report = analyse(&samples, &by_hand, &RecoveryRule::default());
    assert_eq!(report.t0_ms, Some(25_000));
    assert_eq!(report.rto_ms, Some(2_000));
    assert_eq!(report.before, span(20, 25, 1000, 1000));
}

// --------------------------------------------------------------- contract

#[test]
fn report_serializes_with_stable_keys() {
    let samples = timeline(30, 200, down_between(10_003, 17_999, Kind::Refused));
    let report = analyse(&samples, &hook(10_003, 30_000), &RecoveryRule::default());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["t0_ms"], 10_003);
    assert_eq!(json["t0_source"], "hook");
    assert_eq!(
        json["recovery"],
        serde_json::json!({"state": "recovered", "at_ms": 18_000})
    );
    assert_eq!(json["rto_ms"], 7_997);
    assert_eq!(json["failed_by_kind"]["refused"], 1599);
    assert_eq!(json["failed_by_kind"]["timeout"], 0);
    assert!(json["failed_by_kind"].get("ok").is_none());
    assert_eq!(json["during"]["from_second"], 10);
    assert_eq!(json["after"]["availability_pct"], 100.0);
    let not = Recovery::NotRecovered {
        lower_bound_ms: 20_000,
    };
    assert_eq!(
        serde_json::to_value(not).unwrap(),
        serde_json::json!({"state": "not_recovered", "lower_bound_ms": 20_000})
    );
    assert_eq!(
        serde_json::to_value(Recovery::NoOutage).unwrap(),
        serde_json::json!({"state": "no_outage"})
    );
}

/// A blackhole from 5 s to 12 s at 50 requests/s with a 1 s timeout: what
/// `scripts/testbed blackhole` showed. Requests sent in the last second
/// before the restore succeed once the kernel retransmits their SYN (1 s
/// later), so by send time the target "recovered" at 11.000 s, a second
/// before the path was back. Recovery by completion says 12.001 s.
#[test]
fn a_blackhole_recovers_when_successes_complete_not_when_they_were_sent() {
    let (inject, restore) = (5000, 12_000);
    let samples: Vec<SecondSample> = (0..16u32)
        .map(|second| {
            let requests = (0..50u64).map(|i| {
                let t = u64::from(second) * 1000 + i * 20;
                match t {
                    t if t < inject || t >= restore => (t, Kind::Ok, t + 1),
                    t if t < restore - 1000 => (t, Kind::ConnectTimeout, t + 1000),
                    t => (t, Kind::Ok, t + 1001), // held, then retransmitted
                }
            });
            row_done(second, requests)
        })
        .collect();
    let report = analyse(&samples, &hook(inject, 16_000), &rule(2, 99.0));
    assert_eq!(report.last_failure_ms, Some(10_980));
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 12_001 });
    assert_eq!(report.rto_ms, Some(7001));
    assert_eq!(report.failed, 300);

    // A held success that completes later than one sent after it does not
    // delay the recovery: the earliest completion counts.
    let mut slow = samples.clone();
    slow[11] = row_done(
        11,
        (0..50u64).map(|i| (11_000 + i * 20, Kind::Ok, 11_000 + i * 20 + 1900)),
    );
    let report = analyse(&slow, &hook(inject, 16_000), &rule(2, 99.0));
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 12_001 });

    // Without completion marks (a timeline.csv from before they existed),
    // recovery falls back to the send time of the first success.
    let old: Vec<SecondSample> = samples
        .iter()
        .map(|s| SecondSample {
            first_success_done_ms: None,
            first_success_after_last_failure_done_ms: None,
            ..s.clone()
        })
        .collect();
    let report = analyse(&old, &hook(inject, 16_000), &rule(2, 99.0));
    assert_eq!(report.recovery, Recovery::Recovered { at_ms: 11_000 });
}

/// The blackhole above on the primary, a healthy secondary beside it: the
/// combined timeline's last failure (10.980 s) is followed at once by
/// secondary successes, but the service was not back until the primary's
/// held requests completed. `all` recovers with the primary.
#[test]
fn all_targets_together_recover_no_earlier_than_the_faulted_one() {
    let (inject, restore) = (5000, 12_000);
    let request = |t: u64, faulted: bool| match t {
        t if !faulted || t < inject || t >= restore => (t, Kind::Ok, t + 1),
        t if t < restore - 1000 => (t, Kind::ConnectTimeout, t + 1000),
        t => (t, Kind::Ok, t + 1001),
    };
    let second = |second: u32, faulted: &[bool]| {
        row_done(
            second,
            (0..50u64).flat_map(|i| {
                let t = u64::from(second) * 1000 + i * 20;
                faulted.iter().map(move |&f| request(t, f))
            }),
        )
    };
    let primary: Vec<SecondSample> = (0..16).map(|s| second(s, &[true])).collect();
    let all: Vec<SecondSample> = (0..16).map(|s| second(s, &[true, false])).collect();
    let region = hook(inject, 16_000);
    let rule = rule(2, 99.0);
    let primary = analyse(&primary, &region, &rule);
    assert_eq!(primary.recovery, Recovery::Recovered { at_ms: 12_001 });
    // On its own marks, `all` recovers at the secondary's answer to the
    // first request after the last failure (10.980 s): 11.000 s + 1 ms, a
    // second before the primary was back.
    assert_eq!(
        analyse(&all, &region, &rule).recovery,
        Recovery::Recovered { at_ms: 11_001 }
    );
    let combined = analyse_combined(&all, &region, &rule, std::slice::from_ref(&primary));
    assert_eq!(combined.recovery, Recovery::Recovered { at_ms: 12_001 });
    assert_eq!(combined.rto_ms, Some(7001));

    // A target that recovered long after the combined window (a sliver of
    // the traffic) does not hold `all` back.
    let late = OutageReport {
        recovery: Recovery::Recovered { at_ms: 15_500 },
        ..primary.clone()
    };
    assert_eq!(
        analyse_combined(&all, &region, &rule, &[late]).recovery,
        Recovery::Recovered { at_ms: 11_001 }
    );
}
