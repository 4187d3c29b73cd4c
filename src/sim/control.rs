//! Driving a running `meshdrill sim` from outside: on SIGHUP it reads a
//! control file and applies the fault it names, the way daemons reload their
//! configuration. `scripts/testbed latency primary 200` writes the file and
//! sends the signal, so a simulator in a network namespace can be slowed
//! (this kernel has no `tc netem`) without a socket or a second listener.
//!
//! The file holds one command per line, `CLUSTER FAULT [DURATION]`:
//! `primary latency 200ms`, `secondary down`, `primary restore`. Blank lines
//! and `#` comments are skipped; every line is applied in order.

use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;

use super::{Cluster, Sim, SimFault};

/// One line of the control file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    pub cluster: Cluster,
    pub fault: SimFault,
}

/// The commands of a control file, or the first line that is wrong.
pub fn parse(text: &str) -> Result<Vec<Command>, String> {
    let mut commands = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        commands.push(parse_line(line).map_err(|e| format!("line {}: {e}", i + 1))?);
    }
    Ok(commands)
}

fn parse_line(line: &str) -> Result<Command, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let cluster = match words[0] {
        "primary" => Cluster::Primary,
        "secondary" => Cluster::Secondary,
        other => return Err(format!("unknown cluster {other:?} (primary or secondary)")),
    };
    let fault = match (words.get(1).copied(), words.get(2).copied()) {
        (Some("latency"), Some(delay)) => SimFault::Latency(
            humantime::parse_duration(delay)
                .map_err(|e| format!("latency {delay:?}: {e} (e.g. 200ms)"))?,
        ),
        (Some("latency"), None) => return Err("latency needs a duration, e.g. 200ms".into()),
        (Some(name), None) => SimFault::without_argument(name).ok_or_else(|| unknown(name))?,
        (Some(name), Some(_)) => return Err(format!("{name} takes no argument")),
        (None, _) => return Err("missing fault after the cluster".into()),
    };
    Ok(Command { cluster, fault })
}

fn unknown(name: &str) -> String {
    format!(
        "unknown fault {name:?} (down, blackhole, http503, latency DURATION, degraded, \
         cross-cluster, restore)"
    )
}

/// Applies `path`'s commands on every SIGHUP until `stop`. A bad file is
/// reported and changes nothing, so a typo cannot half-apply a drill step.
pub async fn watch(sim: &Sim, path: PathBuf, stop: CancellationToken) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            got = hup.recv() => if got.is_none() { return Ok(()) },
        }
        apply_file(sim, &path).await;
    }
}

async fn apply_file(sim: &Sim, path: &Path) {
    let commands = match std::fs::read_to_string(path) {
        Ok(text) => parse(&text),
        Err(e) => Err(e.to_string()),
    };
    match commands {
        Err(e) => eprintln!("meshdrill sim: {}: {e}; nothing applied", path.display()),
        Ok(commands) => {
            for c in commands {
                match sim.apply(c.cluster, c.fault).await {
                    Ok(()) => {
                        eprintln!("meshdrill sim: {} {}", c.cluster.name(), describe(c.fault))
                    }
                    Err(e) => eprintln!("meshdrill sim: {}: {e}", c.cluster.name()),
                }
            }
        }
    }
}

fn describe(fault: SimFault) -> String {
    match fault {
        SimFault::Latency(d) => format!("latency {}", humantime::format_duration(d)),
        other => other.word().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reads_commands_and_names_the_bad_line() {
        let text = "# drill step\nprimary latency 200ms\n\nsecondary restore  # heal\n";
        assert_eq!(
            parse(text),
            Ok(vec![
                Command {
                    cluster: Cluster::Primary,
                    fault: SimFault::Latency(Duration::from_millis(200)),
                },
                Command {
                    cluster: Cluster::Secondary,
                    fault: SimFault::Restore,
                },
            ])
        );
        assert_eq!(
            parse("primary restore\ntertiary down"),
            Err("line 2: unknown cluster \"tertiary\" (primary or secondary)".into())
        );
        assert!(
            parse("primary latency")
                .unwrap_err()
                .contains("needs a duration")
        );
        assert!(
            parse("primary latency fast")
                .unwrap_err()
                .starts_with("line 1: latency \"fast\"")
        );
        assert!(
            parse("primary melt")
                .unwrap_err()
                .contains("unknown fault \"melt\"")
        );
        assert!(
            parse("primary down now")
                .unwrap_err()
                .contains("takes no argument")
        );
        assert_eq!(parse("\n# nothing\n"), Ok(vec![]));
    }
}
