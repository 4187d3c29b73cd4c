use super::*;

#[test]
fn escapes_backslash_quote_and_newline() {
    assert_eq!(escape("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    assert_eq!(escape("plain"), "plain");
}

#[test]
fn renders_a_small_state_exactly() {
    let mut second = SecondStats::new();
    second.counts[Kind::Ok.index()] = 2;
    second.counts[Kind::Refused.index()] = 1;
    second.pages.versions[1] = 2;
    second.pages.clusters[0] = 2;
    // 0.5 ms, 3 ms and 2 s: buckets 0.001 → 1, 0.005 → 2, 2.5 → 3.
    for us in [500, 3_000, 2_000_000] {
        second.latency.record(us).unwrap();
    }
    let mut t = TargetMetrics::new("a\"b");
    t.add(&second, &["east".to_string()]);
    let text = render(&[t.clone()]);
    let mut expected = String::from(
        "# HELP meshdrill_requests_total Requests by outcome kind (as in timeline.csv and summary.json).\n\
         # TYPE meshdrill_requests_total counter\n",
    );
    for kind in Kind::ALL {
        let n = match kind {
            Kind::Ok => 2,
            Kind::Refused => 1,
            _ => 0,
        };
        expected.push_str(&format!(
            "meshdrill_requests_total{{target=\"a\\\"b\",outcome=\"{}\"}} {n}\n",
            kind.name()
        ));
    }
    expected.push_str(
        "# HELP meshdrill_responses_by_version_total Productpages (ok or degraded) by the reviews version they show.\n\
         # TYPE meshdrill_responses_by_version_total counter\n\
         meshdrill_responses_by_version_total{target=\"a\\\"b\",version=\"v1\"} 2\n\
         # HELP meshdrill_responses_by_cluster_total Productpages (ok or degraded) by the cluster that served them.\n\
         # TYPE meshdrill_responses_by_cluster_total counter\n\
         meshdrill_responses_by_cluster_total{target=\"a\\\"b\",cluster=\"east\"} 2\n\
         # HELP meshdrill_request_duration_seconds Latency from each request's intended send time to its outcome.\n\
         # TYPE meshdrill_request_duration_seconds histogram\n",
    );
    let counts = [1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3];
    for ((le, _), n) in BUCKETS.iter().zip(counts) {
        expected.push_str(&format!(
            "meshdrill_request_duration_seconds_bucket{{target=\"a\\\"b\",le=\"{le}\"}} {n}\n"
        ));
    }
    expected.push_str(&format!(
        "meshdrill_request_duration_seconds_bucket{{target=\"a\\\"b\",le=\"+Inf\"}} 3\n\
         meshdrill_request_duration_seconds_sum{{target=\"a\\\"b\"}} {}\n\
         meshdrill_request_duration_seconds_count{{target=\"a\\\"b\"}} 3\n\
         # HELP meshdrill_seconds_recorded Seconds of the run recorded so far (warmup included).\n\
         # TYPE meshdrill_seconds_recorded gauge\n\
         meshdrill_seconds_recorded{{target=\"a\\\"b\"}} 1\n",
        t.sum_seconds
    ));
    assert_eq!(text, expected);
    // Within the histogram's precision (3 significant digits).
    assert!((t.sum_seconds - 2.0035).abs() < 0.01, "{}", t.sum_seconds);
}
