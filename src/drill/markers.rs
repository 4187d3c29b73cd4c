//! Manual markers for drills run by hand: "the fault is injected now".
//! Typing `m` + Enter on meshdrill's stdin, or `kill -USR1 <pid>`, stamps a
//! marker on the run clock; with no fault hook, a marker is the fault's T0.

use std::io::BufRead;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::Instant;

use crate::engine::clock::RunClock;
pub use crate::results::faults::Marker;

/// When a marker arrived and from where, before it is numbered.
pub type MarkerSignal = (Instant, &'static str);

/// Starts listening for markers: SIGUSR1 always, stdin when asked. Stdin is
/// read on a detached thread, since a blocking read would otherwise hold
/// the runtime open at exit.
pub fn watch_markers(from_stdin: bool) -> UnboundedReceiver<MarkerSignal> {
    let (tx, rx) = unbounded_channel();
    if from_stdin {
        let tx = tx.clone();
        let _ = std::thread::Builder::new()
            .name("meshdrill-markers".into())
            .spawn(move || read_stdin(tx));
    }
    if let Ok(mut usr1) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
    {
        tokio::spawn(async move {
            while usr1.recv().await.is_some() {
                if tx.send((Instant::now(), "SIGUSR1")).is_err() {
                    break;
                }
            }
        });
    }
    rx
}

fn read_stdin(tx: UnboundedSender<MarkerSignal>) {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().eq_ignore_ascii_case("m") && tx.send((Instant::now(), "stdin")).is_err() {
            break;
        }
    }
}

/// Numbers markers as they arrive and stamps them on the run clock.
pub struct MarkerLog {
    clock: RunClock,
    pub markers: Vec<Marker>,
}

impl MarkerLog {
    pub fn new(clock: RunClock) -> MarkerLog {
        MarkerLog {
            clock,
            markers: Vec::new(),
        }
    }

    pub fn add(&mut self, (at, source): MarkerSignal) -> &Marker {
        let number = self.markers.len() as u32 + 1;
        self.markers.push(Marker {
            number,
            at_ms: self.clock.us(at) as f64 / 1000.0,
            source: source.to_string(),
        });
        self.markers.last().expect("just pushed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn markers_are_numbered_and_stamped_on_the_run_clock() {
        let clock = RunClock::starting_in(Duration::ZERO);
        let mut log = MarkerLog::new(clock);
        let first = log
            .add((clock.start + Duration::from_millis(1500), "stdin"))
            .clone();
        let second = log
            .add((clock.start + Duration::from_millis(2250), "SIGUSR1"))
            .clone();
        assert_eq!(
            first,
            Marker {
                number: 1,
                at_ms: 1500.0,
                source: "stdin".to_string()
            }
        );
        assert_eq!(
            second,
            Marker {
                number: 2,
                at_ms: 2250.0,
                source: "SIGUSR1".to_string()
            }
        );
    }
}
