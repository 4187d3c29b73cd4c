//! The measured RTO against real network faults, with a known truth: each
//! test brings up `scripts/testbed` (three network namespaces of its own,
//! under a prefix of its own, no default route anywhere), runs one
//! `scenarios/testbed-*.toml` drill inside it, and compares the report with
//! the fault hooks' own instants from `summary.json`:
//!
//! - truth outage = restore step done − inject step start (the fault takes
//!   effect inside the inject step; the restore has surely taken effect when
//!   its step is done);
//! - the measured RTO is within one request interval + 100 ms of it, and
//!   recovery is never placed before the restore step started;
//! - the failures are of the kinds that fault makes; the other target stays
//!   at 100 %.
//!
//! Needs root and network namespaces (CI has both); otherwise each test says
//! why on stderr and passes without running.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_meshdrill");
/// The scenarios' rate: one request every 20 ms per target.
const INTERVAL_MS: f64 = 20.0;
const TOLERANCE_MS: f64 = INTERVAL_MS + 100.0;
/// The scenarios' request timeout (their connect_timeout is 1 s).
const TIMEOUT_MS: f64 = 2000.0;

/// Why these tests cannot run here, or `None` when they can.
fn unavailable() -> Option<&'static str> {
    static WHY: OnceLock<Option<String>> = OnceLock::new();
    WHY.get_or_init(|| {
        let uid = Command::new("id").arg("-u").output().ok()?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return Some("not root (network namespaces and nftables need it)".into());
        }
        let probe = format!("mdprobe{}", std::process::id());
        match Command::new("ip").args(["netns", "add", &probe]).status() {
            Ok(s) if s.success() => {
                let _ = Command::new("ip").args(["netns", "del", &probe]).status();
                None
            }
            Ok(_) => Some("`ip netns add` failed: no network namespaces here".into()),
            Err(_) => Some("no `ip` command (install iproute2)".into()),
        }
    })
    .as_deref()
}

/// Straight to the process's stderr: the test harness swallows `eprintln!`
/// of a passing test, and these lines are the figures CI shows.
fn say(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn skip(test: &str) -> bool {
    match unavailable() {
        Some(why) => {
            say(&format!("{test}: skipped: {why}"));
            true
        }
        None => false,
    }
}

/// A testbed of this test's own; `down` when dropped, even on a failed
/// assertion.
struct Testbed {
    /// The test's own prefix and this process's id: two `cargo test` runs
    /// on one machine (two worktrees) never share or tear down each
    /// other's namespaces.
    prefix: String,
}

impl Testbed {
    fn up(prefix: &'static str) -> Testbed {
        let testbed = Testbed {
            prefix: format!("{prefix}{}", std::process::id() % 100_000),
        };
        let out = testbed.script(&["up"]);
        assert!(
            out.status.success(),
            "testbed up failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        testbed
    }

    fn script(&self, args: &[&str]) -> std::process::Output {
        Command::new("scripts/testbed")
            .args(args)
            .env("MESHDRILL_BIN", BIN)
            .env("MESHDRILL_TESTBED_PREFIX", &self.prefix)
            .env_remove("MESHDRILL_TESTBED_STATE")
            .output()
            .expect("run scripts/testbed")
    }

    /// Runs `scenario` in the client namespace; its hooks act on this
    /// testbed (`exec` passes the prefix on).
    fn drill(&self, scenario: &Path) -> Drill {
        let out_dir = std::env::temp_dir().join(format!(
            "meshdrill-testbed-{}-{}",
            self.prefix,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&out_dir);
        let out = self.script(&[
            "exec",
            BIN,
            "run",
            scenario.to_str().unwrap(),
            "--quiet",
            "--out",
            out_dir.to_str().unwrap(),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let text = std::fs::read_to_string(out_dir.join("summary.json")).unwrap_or_else(|e| {
            panic!(
                "drill {} wrote no summary ({e}, {}):\n{stdout}\n{}",
                scenario.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let summary: Value = serde_json::from_str(&text).unwrap();
        // A PASS, or INVALID on a machine too busy to hold 50/s: the
        // accuracy below is asserted either way.
        common::judged_unless_generator_limited(out.status.code(), 0, &summary, &stdout);
        let drill = Drill {
            summary,
            timeline: common::timeline(&out_dir),
        };
        say(&format!("{}\n{stdout}", scenario.display()));
        let _ = std::fs::remove_dir_all(&out_dir);
        drill
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        let _ = self.script(&["down"]);
    }
}

struct Drill {
    summary: Value,
    timeline: Vec<std::collections::HashMap<String, String>>,
}

/// What one drill measured for the primary, beside the truth.
#[derive(Debug)]
struct Measured {
    truth_ms: f64,
    rto_ms: f64,
    recovered_at_ms: f64,
    restore_started_ms: f64,
    injected_at_ms: f64,
    inject_done_ms: f64,
    failed_by_kind: Vec<(String, u64)>,
    failed: u64,
    secondary_availability: f64,
}

fn measure(drill: &Drill) -> Measured {
    let summary = &drill.summary;
    let fault = &summary["faults"][0];
    assert!(fault["error"].is_null(), "fault hook failed: {fault}");
    let injected = fault["injected_at_ms"].as_f64().unwrap();
    let restored = fault["restore_done_ms"].as_f64().unwrap();
    let scope = |name: &str| {
        summary["outages"][0]["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["scope"] == name)
            .unwrap()
            .clone()
    };
    let primary = scope("primary");
    let secondary = summary["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "secondary")
        .unwrap()
        .clone();
    let failed_by_kind = primary["failed_by_kind"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect();
    Measured {
        truth_ms: restored - injected,
        rto_ms: primary["rto_ms"].as_f64().unwrap_or(f64::NAN),
        recovered_at_ms: primary["recovery"]["at_ms"].as_f64().unwrap_or(f64::NAN),
        restore_started_ms: fault["restored_at_ms"].as_f64().unwrap(),
        injected_at_ms: injected,
        inject_done_ms: fault["inject_done_ms"].as_f64().unwrap(),
        failed_by_kind,
        failed: primary["failed"].as_u64().unwrap(),
        secondary_availability: secondary["availability_pct"].as_f64().unwrap(),
    }
}

/// What bounds the `other` kinds of a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Others {
    /// Only requests already in flight or on a pooled connection get them.
    InFlightAtFault,
    /// Any request may (a frozen process's accept backlog fills up).
    Unbounded,
}

/// The measured RTO is true, every failure is of a `main` kind or an
/// `other` one, the `main` kinds are the majority, and the secondary never
/// noticed. The `other` kinds are what requests already in flight (or on a
/// pooled connection) when the fault took effect get — a timeout on a
/// connection that was up, a reset from a process that was there — so they
/// are bounded by the requests sent from one timeout before the inject step
/// to its end. How many of those there are depends on the machine's load
/// (283 of 301 unplug failures were `unreachable` once, 94 %), so no fixed
/// share is asserted beyond the majority.
fn assert_accurate(fault: &str, m: &Measured, main: &[&str], other: &[&str], others: Others) {
    let error = m.rto_ms - m.truth_ms;
    say(&format!(
        "ACCURACY {fault}: truth {:.0} ms, measured RTO {:.0} ms, error {error:+.0} ms, failures {:?}",
        m.truth_ms, m.rto_ms, m.failed_by_kind
    ));
    // A connect whose SYN was lost while the link was down is retried by
    // the kernel one second later, which is the drills' connect_timeout:
    // such a connection can complete after the restore and fail the
    // request it is then given (seen once in unplug: a timeout at 10.05 s,
    // RTO +1.02 s). That failure is real and meshdrill counts it; the
    // network's own restore is then one connect_timeout earlier.
    let stray_connect_timeout = !main.contains(&"connect_timeout")
        && m.failed_by_kind.iter().any(|(k, _)| k == "connect_timeout");
    let tolerance = if stray_connect_timeout {
        TOLERANCE_MS + 1000.0
    } else {
        TOLERANCE_MS
    };
    assert!(
        error.abs() <= tolerance,
        "RTO {} ms vs truth {} ms: error {error} ms over {tolerance} ms ({m:?})",
        m.rto_ms,
        m.truth_ms
    );
    assert!(
        m.recovered_at_ms >= m.restore_started_ms,
        "recovered at {} ms, before the restore started at {} ms ({m:?})",
        m.recovered_at_ms,
        m.restore_started_ms
    );
    // A 6 s outage at 50/s is about 300 failed requests.
    // The fault is surely in effect from the inject step's end to the
    // restore step's start; a request sent then fails unless it can be held
    // and answered after the restore, which needs it sent within one
    // timeout (the scenarios' 2 s) of it. At 50/s that is ≥ 196 of a 6 s
    // outage, one 20 ms slot given for rounding.
    let sure = m.restore_started_ms - TIMEOUT_MS - m.inject_done_ms;
    let at_least = (sure / INTERVAL_MS).floor() as u64 - 1;
    assert!(
        m.failed >= at_least,
        "fewer than {at_least} failures: {m:?}"
    );
    for (kind, _) in &m.failed_by_kind {
        let kind = kind.as_str();
        assert!(
            main.contains(&kind) || other.contains(&kind),
            "unexpected {kind}: {m:?}"
        );
    }
    let main_count: u64 = m
        .failed_by_kind
        .iter()
        .filter(|(k, _)| main.contains(&k.as_str()))
        .map(|(_, n)| n)
        .sum();
    assert!(
        main_count * 2 > m.failed,
        "{main:?} should be the majority of the failures: {m:?}"
    );
    let in_flight_at_fault =
        ((m.inject_done_ms - m.injected_at_ms + TIMEOUT_MS) / INTERVAL_MS).ceil() as u64 + 1;
    assert!(
        others == Others::Unbounded || m.failed - main_count <= in_flight_at_fault,
        "{other:?}: {} failures, more than the {in_flight_at_fault} requests that can have \
         been in flight when the fault took effect: {m:?}",
        m.failed - main_count
    );
    assert_eq!(m.secondary_availability, 100.0, "{m:?}");
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(format!("scenarios/testbed-{name}.toml"))
}

#[test]
fn blackhole_is_timeouts_and_recovery_waits_for_held_requests() {
    if skip("blackhole") {
        return;
    }
    let testbed = Testbed::up("mdtbh");
    let m = measure(&testbed.drill(&scenario("blackhole")));
    // New connections time out connecting (the scenario's connect_timeout
    // is below its timeout); a pooled one times out waiting.
    assert_accurate(
        "blackhole",
        &m,
        &["connect_timeout"],
        &["timeout"],
        Others::InFlightAtFault,
    );
}

#[test]
fn reject_is_refused_and_reset() {
    if skip("reject") {
        return;
    }
    let testbed = Testbed::up("mdtrj");
    let m = measure(&testbed.drill(&scenario("reject")));
    // A TCP reset answering a SYN is what every client calls "connection
    // refused", so nearly every failure is `refused`. A request already on
    // a pooled connection when the rule lands is `reset` instead: one in
    // four of eight runs, none in the others (cause not pinned down), so
    // its count is not asserted.
    assert_accurate(
        "reject",
        &m,
        &["refused"],
        &["reset"],
        Others::InFlightAtFault,
    );
}

#[test]
fn freeze_is_timeouts() {
    if skip("freeze") {
        return;
    }
    let testbed = Testbed::up("mdtfz");
    let m = measure(&testbed.drill(&scenario("freeze")));
    // The kernel still completes handshakes for a stopped process.
    assert_accurate(
        "freeze",
        &m,
        &["timeout"],
        &["connect_timeout"],
        Others::Unbounded,
    );
}

#[test]
fn unplug_is_unreachable() {
    if skip("unplug") {
        return;
    }
    let testbed = Testbed::up("mdtup");
    let m = measure(&testbed.drill(&scenario("unplug")));
    // A request in flight on the pooled connection when the link went down
    // waits for its timeout; every later connect fails at once.
    assert_accurate(
        "unplug",
        &m,
        &["unreachable"],
        &["timeout", "connect_timeout"],
        Others::InFlightAtFault,
    );
}

#[test]
fn kill_is_refused_with_either_connection_policy() {
    if skip("kill") {
        return;
    }
    let testbed = Testbed::up("mdtkl");
    let keep_alive = measure(&testbed.drill(&scenario("kill")));
    assert_accurate(
        "kill (keep-alive)",
        &keep_alive,
        &["refused"],
        &["reset"],
        Others::InFlightAtFault,
    );

    // The same drill opening a new connection per request.
    let text = std::fs::read_to_string(scenario("kill")).unwrap();
    let text = text.replace("[load]\n", "[load]\nconnection = \"new\"\n");
    assert!(text.contains("connection = \"new\""));
    let dir = std::env::temp_dir().join(format!("meshdrill-kill-new-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let new_scenario = dir.join("testbed-kill-new.toml");
    std::fs::write(&new_scenario, text).unwrap();
    let new = measure(&testbed.drill(&new_scenario));
    let _ = std::fs::remove_dir_all(&dir);
    // Either way, a request in flight when the process died is reset (seen
    // with both policies); every later one is refused.
    assert_accurate(
        "kill (new)",
        &new,
        &["refused"],
        &["reset"],
        Others::InFlightAtFault,
    );
    // Both report the same outage: each within tolerance of its own truth,
    // and of each other.
    assert!(
        (keep_alive.rto_ms - new.rto_ms).abs()
            <= TOLERANCE_MS + (keep_alive.truth_ms - new.truth_ms).abs(),
        "keep-alive {keep_alive:?} vs new {new:?}"
    );
}

#[test]
fn latency_200_reads_200_ms_at_p50() {
    if skip("latency") {
        return;
    }
    let testbed = Testbed::up("mdtlt");
    let drill = testbed.drill(&scenario("latency"));
    let summary = &drill.summary;
    let fault = &summary["faults"][0];
    assert!(fault["error"].is_null(), "fault hook failed: {fault}");
    let scope = &summary["outages"][0]["scopes"][0];
    assert_eq!(scope["scope"], "primary");
    assert_eq!(scope["recovery"]["state"], "no_outage", "{scope}");
    for t in summary["targets"].as_array().unwrap() {
        assert_eq!(t["availability_pct"], 100.0, "{t}");
    }
    // Every second wholly inside the fault (3 s to 9 s) reads 200 ms ± 5 %
    // at p50; the seconds before it read far below.
    let p50 = |second: &str| {
        let row = drill
            .timeline
            .iter()
            .find(|r| r["target"] == "primary" && r["second"] == second)
            .unwrap_or_else(|| panic!("no primary row for second {second}"));
        row["p50_ms"].parse::<f64>().unwrap()
    };
    for second in 4..=7 {
        let p50 = p50(&second.to_string());
        assert!(
            (190.0..=210.0).contains(&p50),
            "second {second}: p50 {p50} ms under `latency 200`"
        );
    }
    for second in ["1", "12"] {
        assert!(p50(second) < 50.0, "second {second} is outside the fault");
    }
}
