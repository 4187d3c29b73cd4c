//! The live view while a drill runs. On a terminal: a progress bar (elapsed,
//! planned length, ETA) with the per-second lines printed above it. When
//! stderr is not a terminal (CI, a pipe): plain lines only. Every stderr
//! line of a run goes through [`line`], so nothing garbles the bar.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar of the run in progress, if stderr is a terminal. One run per
/// process draws at a time; the lock is taken once per printed line, never
/// per request.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Shows the bar for a run of `length` (warmup + duration) when stderr is a
/// terminal and not `quiet`; returns a guard that clears it when dropped.
pub fn start(length: Duration, quiet: bool) -> LiveGuard {
    if quiet || !std::io::stderr().is_terminal() {
        return LiveGuard { shown: false };
    }
    let bar = ProgressBar::with_draw_target(
        Some(length.as_millis() as u64),
        ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {elapsed_precise} of {len_s}, ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "len_s",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}s", s.len().unwrap_or(0) / 1000);
            },
        )
        .progress_chars("=> "),
    );
    bar.set_message("drill");
    bar.enable_steady_tick(Duration::from_millis(200));
    *BAR.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    LiveGuard { shown: true }
}

/// Moves the bar to `elapsed` on the run clock.
pub fn progress(elapsed: Duration) {
    if let Some(bar) = BAR.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        bar.set_position(elapsed.as_millis() as u64);
    }
}

/// Prints one line on stderr, above the bar when there is one. A closed
/// stderr is not an error: the drill goes on.
pub fn line(text: &str) {
    match BAR.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        Some(bar) => bar.println(text),
        None => {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
            let _ = err.write_all(b"\n");
        }
    }
}

pub struct LiveGuard {
    shown: bool,
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        if self.shown
            && let Some(bar) = BAR.lock().unwrap_or_else(|e| e.into_inner()).take()
        {
            bar.finish_and_clear();
        }
    }
}
