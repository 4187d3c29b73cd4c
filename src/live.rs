//! The live view while a drill runs. On a terminal: a progress bar (elapsed,
//! planned length, ETA) with the per-second lines printed above it. When
//! stderr is not a terminal (CI, a pipe): plain lines only. Every stderr
//! line of a run goes through here, so nothing garbles the bar, and lines
//! stamped on the run clock (per-second lines, fault steps, markers) come
//! out in run-clock order ([`RunClockOrder`]).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The live view of the run in progress. One run per process draws at a
/// time; the lock is taken once per printed line, never per request.
static LIVE: Mutex<Live> = Mutex::new(Live {
    bar: None,
    order: None,
});

struct Live {
    bar: Option<ProgressBar>,
    /// Present while a run is on: events wait here for their second.
    order: Option<RunClockOrder>,
}

impl Live {
    fn print(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                // A closed stderr is not an error: the drill goes on.
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(text.as_bytes());
                let _ = err.write_all(b"\n");
            }
        }
    }
}

fn live() -> std::sync::MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Puts the console in run-clock order for a run of `length` (warmup +
/// duration) and shows the bar when stderr is a terminal and not `quiet`;
/// the guard flushes what is held and clears the bar when dropped.
pub fn start(length: Duration, quiet: bool) -> LiveGuard {
    let mut live = live();
    // Runs side by side in one process (tests) share the order; none of
    // their events is dropped, and the first run to end flushes them.
    live.order.get_or_insert_with(RunClockOrder::default);
    if quiet || !std::io::stderr().is_terminal() {
        return LiveGuard;
    }
    let bar = ProgressBar::with_draw_target(
        Some(length.as_millis() as u64),
        ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {run_clock}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "run_clock",
                |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&progress_text(s.pos(), s.len().unwrap_or(0)));
                },
            )
            .progress_chars("=> "),
    );
    bar.set_message("drill");
    bar.enable_steady_tick(Duration::from_millis(200));
    live.bar = Some(bar);
    LiveGuard
}

/// `3s of 30s, ETA 27s`: elapsed on the run clock (the bar's position, not
/// the time since the bar appeared) and the planned end minus it, so the
/// two always add up to the planned length — from the first draw on.
pub fn progress_text(elapsed_ms: u64, length_ms: u64) -> String {
    let elapsed = elapsed_ms.min(length_ms) / 1000;
    let length = length_ms.div_ceil(1000);
    format!(
        "{} of {}, ETA {}",
        clock_text(elapsed),
        clock_text(length),
        clock_text(length - elapsed)
    )
}

/// `27s`, `4m05s`, `1h02m00s`.
fn clock_text(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s:02}s"),
        _ => format!("{h}h{m:02}m{s:02}s"),
    }
}

/// Moves the bar to `elapsed` on the run clock.
pub fn progress(elapsed: Duration) {
    if let Some(bar) = live().bar.as_ref() {
        bar.set_position(elapsed.as_millis() as u64);
    }
}

/// Prints one line on stderr now, above the bar when there is one: for
/// what is not stamped on the run clock.
pub fn line(text: &str) {
    live().print(text);
}

/// Prints a line about something that happened at `at_ms` on the run clock
/// (a fault step, a marker): after the per-second line of the second before
/// it and before its own second's line. Without a run, at once.
pub fn event(at_ms: f64, text: &str) {
    let mut live = live();
    let ready = match live.order.as_mut() {
        Some(order) => order.event(at_ms, text.to_string()),
        None => vec![text.to_string()],
    };
    for text in ready {
        live.print(&text);
    }
}

/// Prints the line of a finished `second` (none when quiet: the second is
/// still done, so the events held for it come out).
pub fn second(second: u32, text: Option<&str>) {
    let mut live = live();
    let lines: Vec<String> = text.map(str::to_string).into_iter().collect();
    let ready = match live.order.as_mut() {
        Some(order) => order.second(second, lines),
        None => lines,
    };
    for text in ready {
        live.print(&text);
    }
}

/// Prints every event still held (the run's end: no second is coming for
/// them) and leaves run-clock order.
pub fn finish() {
    let mut live = live();
    let held = live.order.take().map(RunClockOrder::finish);
    for text in held.into_iter().flatten() {
        live.print(&text);
    }
}

/// The console's order on the run clock. A second's line is printed when
/// the second is finished, which is later than the events in it happen; so
/// an event waits until the line of the second before its own is out, and
/// the console reads as the run went: `[9s] ...`, the fault at 10.002 s,
/// `[10s] ...`. Nothing waits longer than its second's line or
/// [`finish`](RunClockOrder::finish).
#[derive(Debug, Default)]
pub struct RunClockOrder {
    /// The first second whose line is not out yet.
    next_second: u64,
    /// Events of later seconds, in run-clock order.
    held: Vec<(f64, String)>,
}

impl RunClockOrder {
    /// An event at `at_ms`; returns the lines to print now.
    pub fn event(&mut self, at_ms: f64, text: String) -> Vec<String> {
        if Self::second_of(at_ms) <= self.next_second {
            return vec![text];
        }
        let at = self.held.partition_point(|(t, _)| *t <= at_ms);
        self.held.insert(at, (at_ms, text));
        Vec::new()
    }

    /// The line(s) of finished `second`; returns them and the events that
    /// were waiting for it, in order.
    pub fn second(&mut self, second: u32, mut lines: Vec<String>) -> Vec<String> {
        self.next_second = self.next_second.max(u64::from(second) + 1);
        let due = self
            .held
            .partition_point(|(t, _)| Self::second_of(*t) <= self.next_second);
        lines.extend(self.held.drain(..due).map(|(_, text)| text));
        lines
    }

    /// Every event still held, in order.
    pub fn finish(self) -> Vec<String> {
        self.held.into_iter().map(|(_, text)| text).collect()
    }

    fn second_of(at_ms: f64) -> u64 {
        (at_ms.max(0.0) / 1000.0) as u64
    }
}

pub struct LiveGuard;

impl Drop for LiveGuard {
    fn drop(&mut self) {
        finish();
        if let Some(bar) = live().bar.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_is_the_planned_end_minus_the_elapsed_shown() {
        assert_eq!(progress_text(0, 30_000), "0s of 30s, ETA 30s");
        assert_eq!(progress_text(3_400, 30_000), "3s of 30s, ETA 27s");
        assert_eq!(progress_text(29_999, 30_000), "29s of 30s, ETA 1s");
        assert_eq!(progress_text(31_000, 30_000), "30s of 30s, ETA 0s");
        assert_eq!(progress_text(65_000, 600_000), "1m05s of 10m00s, ETA 8m55s");
        assert_eq!(progress_text(0, 3_600_000), "0s of 1h00m00s, ETA 1h00m00s");
    }

    fn s(text: &str) -> String {
        text.to_string()
    }

    #[test]
    fn an_event_waits_for_the_line_of_the_second_before_its_own() {
        let mut order = RunClockOrder::default();
        assert_eq!(order.second(8, vec![s("[8s]")]), ["[8s]"]);
        // Injected at 10.002 s while second 9 is still being recorded.
        assert!(order.event(10_002.0, s("inject")).is_empty());
        assert_eq!(order.second(9, vec![s("[9s]")]), ["[9s]", "inject"]);
        // Second 10 is under way: its events print at once.
        assert_eq!(order.event(10_500.0, s("marker")), ["marker"]);
        assert_eq!(order.second(10, vec![s("[10s]")]), ["[10s]"]);
        assert!(order.finish().is_empty());
    }

    #[test]
    fn held_events_come_out_in_run_clock_order_and_none_is_lost() {
        let mut order = RunClockOrder::default();
        assert!(order.event(2_300.0, s("b")).is_empty());
        assert!(order.event(2_100.0, s("a")).is_empty());
        assert!(order.event(4_000.0, s("c")).is_empty());
        assert!(order.event(9_000.0, s("after the last second")).is_empty());
        assert_eq!(order.event(0.0, s("now")), ["now"]);
        assert_eq!(order.second(0, vec![s("[0s]")]), ["[0s]"]);
        assert_eq!(order.second(1, vec![s("[1s]")]), ["[1s]", "a", "b"]);
        // A quiet run has no lines; the seconds still release the events.
        assert_eq!(order.second(3, Vec::new()), ["c"]);
        assert_eq!(order.finish(), ["after the last second"]);
    }
}
