//! A failover target (`failover = ["primary", "secondary"]`) through the
//! demo's primary outage, shortened: what users behind a GSLB or a
//! retrying client would have seen, beside the primary alone, while the
//! targets it names keep their own traffic.

mod common;

use std::time::Duration;

use common::{num, plan, rate, run_in, sim_fault, sim_target, timeline};
use meshdrill::results::Results;
use meshdrill::scenario::{ConnectionPolicy, Endpoint, TargetPlan};
use meshdrill::sim::{Cluster, SimFault};

fn failover(name: &str, members: Vec<usize>) -> TargetPlan {
    TargetPlan {
        name: name.to_string(),
        endpoint: Endpoint::Failover(members),
        connection: ConnectionPolicy::KeepAlive,
        follow_redirects: Default::default(),
        transport: Default::default(),
        max_connection_age: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_target_stays_available_through_the_primary_outage() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = plan(
        "failover",
        vec![
            sim_target("primary", Cluster::Primary),
            sim_target("secondary", Cluster::Secondary),
            failover("gslb", vec![0, 1]),
        ],
        rate(50.0),
        Duration::from_secs(6),
    );
    // The demo's shape: primary down from 10 s to 18 s of 30 s, here 2 s to 4 s of 6 s.
    p.faults = vec![sim_fault(
        "primary-down",
        Cluster::Primary,
        SimFault::Down,
        2_000,
        Some(4_000),
    )];
    let out = run_in(p, dir.path()).await;
    let s = &out.summary;
    let (primary, secondary, gslb) = (&s.targets[0], &s.targets[1], &s.targets[2]);
    assert_eq!(gslb.endpoint, "failover:primary,secondary");
    assert_eq!(primary.failover, None);
    assert_eq!(s.all.failover, None);

    // Each target has its own load: 50/s for 6 s.
    for t in [primary, secondary, gslb] {
        assert_eq!(t.generator.planned, Some(300), "{}", t.name);
        assert_eq!(
            t.requests + t.generator.not_sent,
            300,
            "{}: every planned request sent or counted unsent",
            t.name
        );
    }
    // The primary alone drops for the outage's 2 s (100 requests at 50/s,
    // give or take the sends around each flip); the secondary never does.
    assert!(primary.failed >= 80, "primary failed {}", primary.failed);
    assert_eq!(secondary.failed, 0, "{:?}", secondary.failures);
    // Behind the failover, users saw the page throughout.
    let availability = gslb.availability_pct.unwrap();
    assert!(
        availability >= 99.0,
        "gslb at {availability}%: {:?}",
        gslb.failures
    );

    // Which member answered, adding up exactly.
    let f = gslb
        .failover
        .as_ref()
        .expect("a failover target says who answered");
    let names: Vec<&str> = f.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["primary", "secondary"]);
    let answered: u64 = f.members.iter().map(|m| m.answered).sum();
    assert_eq!(answered, gslb.requests);
    assert_eq!(f.members.iter().map(|m| m.ok).sum::<u64>(), gslb.ok);
    assert_eq!(f.failed_over, f.members[1].answered);
    // Every request the primary refused during the outage went on to the
    // secondary; the failover target's own requests to the primary saw the
    // same outage, so about as many failed over.
    assert!(
        f.failed_over >= 80 && f.failed_over <= 120,
        "failed over {} (primary failed {})",
        f.failed_over,
        primary.failed
    );
    assert_eq!(f.members[0].answered, gslb.requests - f.failed_over);
    let table = meshdrill::report::table::table(s, "dir");
    let line = format!(
        "gslb answered by primary {} ({} ok), secondary {} ({} ok); {} failed over\n",
        f.members[0].answered,
        f.members[0].ok,
        f.members[1].answered,
        f.members[1].ok,
        f.failed_over
    );
    assert!(table.contains(&line), "{table}");

    // Its own timeline rows, hlog tag and outage report.
    let rows = timeline(dir.path());
    let gslb_rows: Vec<_> = rows.iter().filter(|r| r["target"] == "gslb").collect();
    assert_eq!(gslb_rows.len(), 6);
    assert_eq!(
        gslb_rows.iter().map(|r| num(r, "sent")).sum::<u64>(),
        gslb.requests
    );
    let results = Results::load(dir.path()).unwrap();
    assert!(
        results.hlog.intervals.iter().any(|i| i.tag == "gslb"),
        "latency.hlog has a gslb tag"
    );
    assert_eq!(results.summary.targets[2].failover.as_ref(), Some(f));
    let outage = &s.outages[0];
    let scopes: Vec<&str> = outage.scopes.iter().map(|o| o.scope.as_str()).collect();
    assert_eq!(scopes, ["primary", "secondary", "gslb", "all"]);
    let gslb_outage = &outage.scopes[2].report;
    assert!(
        gslb_outage.failed <= 3,
        "gslb failed {} in the outage",
        gslb_outage.failed
    );
}
