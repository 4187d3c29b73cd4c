//! The failover evidence ([`crate::assess::failover`]) for people: one line
//! per fault and target on the console, e.g.
//! `primary: home primary → secondary after 0.004 s (5.004 s); during: secondary 100.0 %; failback at 9.002 s (4.002 s after T0)`.

use crate::assess::FaultOutage;
use crate::assess::dir::seconds;
use crate::assess::failover::{Failover, HOME_MIN_PCT};

/// The console's failover block; empty when no target has evidence.
pub fn lines(outages: &[FaultOutage]) -> String {
    let mut t = String::new();
    for o in outages {
        let parts: Vec<String> = o
            .scopes
            .iter()
            .filter_map(|s| {
                Some(format!(
                    "  {}: {}\n",
                    s.scope,
                    describe(s.failover.as_ref()?)
                ))
            })
            .collect();
        if parts.is_empty() {
            continue;
        }
        if t.is_empty() {
            t.push_str(&format!(
                "\nfailover (home = clusters serving ≥ {HOME_MIN_PCT}% of the pages before T0; failback = home's first page after a second without one):\n"
            ));
        }
        t.push_str(&format!(" {}:\n", o.fault));
        t.extend(parts);
    }
    t
}

/// One target's evidence in a line.
pub fn describe(f: &Failover) -> String {
    if f.home.is_empty() {
        return format!(
            "no cluster known before T0 ({} named pages){}",
            f.pages_before,
            during(f)
        );
    }
    let moved = match (&f.failover_to, f.failover_at_ms, f.time_to_failover_ms) {
        (Some(to), Some(at), Some(after)) => {
            format!(" → {to} after {} ({})", seconds(after), seconds(at))
        }
        _ => ", no failover".to_string(),
    };
    let back = match (f.failback_at_ms, f.failback_after_ms) {
        (Some(at), Some(after)) => {
            format!(
                "; failback at {} ({} after T0)",
                seconds(at),
                seconds(after)
            )
        }
        _ if f.failover_at_ms.is_some() => "; no failback".to_string(),
        _ => String::new(),
    };
    format!("home {}{moved}{}{back}", f.home.join(" + "), during(f))
}

/// `; during: secondary 100.0 %` over the fault window.
fn during(f: &Failover) -> String {
    if f.during.is_empty() {
        return "; during: no pages".to_string();
    }
    let shares: Vec<String> = f
        .during
        .iter()
        .map(|c| format!("{} {:.1} %", c.cluster, c.share_pct))
        .collect();
    format!("; during: {}", shares.join(", "))
}
