//! What a person watching the drill sees: one stderr line per finished
//! second (per target: rate, availability, p99) and the final table on stdout.

use std::io;

use crate::record::{Phase, SecondRow, SecondStats};
use crate::results::timeline::ms;

pub struct ConsoleLines {
    targets: Vec<String>,
    quiet: bool,
    max_late_pct: f64,
}

impl ConsoleLines {
    pub fn new(targets: Vec<String>, quiet: bool, max_late_pct: f64) -> ConsoleLines {
        ConsoleLines {
            targets,
            quiet,
            max_late_pct,
        }
    }

    pub fn write(&mut self, row: &SecondRow<'_>) -> io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        let mut line = format!(
            "[{:>4}s{}]",
            row.second,
            if row.phase == Phase::Warmup {
                " warmup"
            } else {
                ""
            }
        );
        for (name, s) in self.targets.iter().zip(row.targets) {
            line.push_str(&format!(" {name}: {}", brief(s)));
            if let Some(limited) = generator_note(s, self.max_late_pct) {
                line.push_str(&format!(" {limited}"));
            }
        }
        crate::report::live::line(&line);
        Ok(())
    }
}

/// `GENERATOR-LIMITED (late 16, max lag 35.1ms)` when the generator did not
/// do what the scenario asked in this second: its numbers are not the target's.
pub fn generator_note(s: &SecondStats, max_late_pct: f64) -> Option<String> {
    let h = s.health();
    let limits = h.limits(max_late_pct);
    if !limits.any() {
        return None;
    }
    let mut parts = Vec::new();
    if h.late > 0 {
        parts.push(format!(
            "late {}, max lag {}ms",
            h.late,
            ms(h.max_send_lag_us)
        ));
    }
    if h.not_sent > 0 {
        parts.push(format!("not sent {}", h.not_sent));
    }
    if h.cap_waits > 0 {
        parts.push(format!("in-flight cap {}", h.cap_waits));
    }
    if h.local_errors > 0 {
        parts.push(format!("local errors {}", h.local_errors));
    }
    Some(format!("GENERATOR-LIMITED ({})", parts.join(", ")))
}

/// `200/s ok 100.0% p99 3.1ms` or `200/s ok 0.0% p99 0.4ms (refused 200)`.
pub fn brief(s: &SecondStats) -> String {
    let sent = s.sent();
    if sent == 0 {
        return "0/s (no request intended)".to_string();
    }
    let mut out = match s.availability_pct() {
        Some(a) => format!(
            "{sent}/s ok {a:.1}% p99 {}ms",
            ms(s.latency.value_at_quantile(0.99))
        ),
        // Only abandoned requests: nothing to judge the target by.
        None => format!("{sent}/s ok -"),
    };
    let v = &s.pages.versions;
    if v[1] + v[2] + v[3] > 0 {
        out.push_str(&format!(" v1/v2/v3 {}/{}/{}", v[1], v[2], v[3]));
    }
    let mut worst: Vec<(u64, &str)> = crate::outcome::Kind::ALL
        .iter()
        .filter(|k| !k.is_success() && s.count(**k) > 0)
        .map(|k| (s.count(*k), k.name()))
        .collect();
    worst.sort_by_key(|w| std::cmp::Reverse(w.0));
    if !worst.is_empty() {
        let parts: Vec<String> = worst
            .iter()
            .take(2)
            .map(|(n, k)| format!("{k} {n}"))
            .collect();
        out.push_str(&format!(" ({})", parts.join(", ")));
    }
    out
}
