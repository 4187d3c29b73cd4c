//! What a person watching the drill sees: one stderr line per finished
//! second (per target: rate, availability, p99) and the final table on stdout.

use std::io;

use crate::record::{Phase, SecondRow, SecondStats};
use crate::report::width::wrap;
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
        let text = (!self.quiet).then(|| self.lines(row));
        crate::live::second(row.second, text.as_deref());
        Ok(())
    }

    /// One line per target, the first stamped with the second:
    /// `[  10s] primary    200/s ok   0.0% p99 4.20ms  refused 199, reset 1`;
    /// names padded to the longest, so every column stays in place.
    pub fn lines(&self, row: &SecondRow<'_>) -> String {
        let stamp = format!(
            "[{:>4}s{}]",
            row.second,
            if row.phase == Phase::Warmup {
                " warmup"
            } else {
                ""
            }
        );
        let name_width = self
            .targets
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0);
        let mut lines = Vec::new();
        for (i, (name, s)) in self.targets.iter().zip(row.targets).enumerate() {
            let lead = if i == 0 {
                stamp.clone()
            } else {
                " ".repeat(stamp.chars().count())
            };
            let mut line = format!("{lead} {name:<name_width$}  {}", brief(s));
            if let Some(limited) = generator_note(s, self.max_late_pct) {
                line.push_str(&format!("; {limited}"));
            }
            // A long note continues under the numbers.
            let numbers = stamp.chars().count() + 1 + name_width + 2;
            lines.push(wrap(line.trim_end(), numbers));
        }
        lines.join("\n")
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

/// `200/s ok 100.0% p99 3.10ms  v1/v2/v3 100/60/40` or
/// `200/s ok   0.0% p99 0.41ms  refused 200`: fixed-width numbers, then
/// the reviews versions and the two most frequent failures (`+2 more`).
pub fn brief(s: &SecondStats) -> String {
    let sent = s.sent();
    if sent == 0 {
        return "    0/s (no request intended)".to_string();
    }
    let mut out = match s.availability_pct() {
        Some(a) => format!(
            "{sent:>5}/s ok {a:>5.1}% p99 {:>8}",
            short_ms(s.latency.value_at_quantile(0.99))
        ),
        // Only abandoned requests: nothing to judge the target by.
        None => format!("{sent:>5}/s ok {:>6} p99 {:>8}", "-", "-"),
    };
    let v = &s.pages.versions;
    if v[1] + v[2] + v[3] > 0 {
        out.push_str(&format!("  v1/v2/v3 {}/{}/{}", v[1], v[2], v[3]));
    }
    let mut worst: Vec<(u64, &str)> = crate::outcome::Kind::ALL
        .iter()
        .filter(|k| !k.is_success() && s.count(**k) > 0)
        .map(|k| (s.count(*k), k.name()))
        .collect();
    worst.sort_by_key(|w| std::cmp::Reverse(w.0));
    if !worst.is_empty() {
        let mut parts: Vec<String> = worst
            .iter()
            .take(2)
            .map(|(n, k)| format!("{k} {n}"))
            .collect();
        if worst.len() > 2 {
            parts.push(format!("+{} more", worst.len() - 2));
        }
        out.push_str(&format!("  {}", parts.join(", ")));
    }
    out
}

/// `8.86ms`, `11.1ms`, `512ms`: three significant digits are what a person
/// compares second to second.
fn short_ms(us: u64) -> String {
    let ms = us as f64 / 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}ms")
    } else if ms < 100.0 {
        format!("{ms:.1}ms")
    } else {
        format!("{ms:.0}ms")
    }
}
