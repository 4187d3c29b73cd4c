//! Live Prometheus metrics (`meshdrill run --metrics-listen ADDR`): the
//! totals so far, folded from each finished second the recorder hands the
//! writers (never from the request path), and rendered in the Prometheus
//! text exposition format 0.0.4 by the `/metrics` server in [`serve`].

pub mod serve;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};

use hdrhistogram::Histogram;

use crate::outcome::Kind;
use crate::record::{ClusterRegistry, SecondRow, SecondStats, VERSION_NAMES};

/// Upper bounds of `meshdrill_request_duration_seconds`, in seconds (text
/// as exposed) and in the histogram's microseconds.
const BUCKETS: [(&str, u64); 13] = [
    ("0.001", 1_000),
    ("0.0025", 2_500),
    ("0.005", 5_000),
    ("0.01", 10_000),
    ("0.025", 25_000),
    ("0.05", 50_000),
    ("0.1", 100_000),
    ("0.25", 250_000),
    ("0.5", 500_000),
    ("1", 1_000_000),
    ("2.5", 2_500_000),
    ("5", 5_000_000),
    ("10", 10_000_000),
];

/// One target's totals over the seconds recorded so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetMetrics {
    pub name: String,
    /// By outcome kind ([`Kind::index`]).
    pub outcomes: [u64; Kind::COUNT],
    /// Productpages by reviews version name, zero counts left out.
    pub versions: BTreeMap<String, u64>,
    /// Productpages by cluster name, zero counts left out.
    pub clusters: BTreeMap<String, u64>,
    /// Per bucket of [`BUCKETS`]: requests whose latency (from the intended
    /// send) was at most its bound.
    pub buckets: [u64; BUCKETS.len()],
    /// Requests in the latency histogram (the `+Inf` bucket).
    pub count: u64,
    /// Sum of those latencies, seconds (from the histogram, so within its
    /// precision).
    pub sum_seconds: f64,
    pub seconds: u64,
}

impl TargetMetrics {
    pub fn new(name: &str) -> TargetMetrics {
        TargetMetrics {
            name: name.to_string(),
            ..TargetMetrics::default()
        }
    }

    /// Adds one finished second; `clusters` names the page cluster slots.
    pub fn add(&mut self, second: &SecondStats, clusters: &[String]) {
        for (total, n) in self.outcomes.iter_mut().zip(second.counts) {
            *total += n;
        }
        for (name, &n) in VERSION_NAMES.iter().zip(&second.pages.versions) {
            if n > 0 {
                *self.versions.entry((*name).to_string()).or_default() += n;
            }
        }
        for (slot, &n) in second.pages.clusters.iter().enumerate() {
            if n > 0 {
                let name = clusters
                    .get(slot)
                    .cloned()
                    .unwrap_or_else(|| format!("slot{slot}"));
                *self.clusters.entry(name).or_default() += n;
            }
        }
        self.add_latency(&second.latency);
        self.seconds += 1;
    }

    fn add_latency(&mut self, hist: &Histogram<u64>) {
        if hist.is_empty() {
            return;
        }
        for (total, (_, le_us)) in self.buckets.iter_mut().zip(BUCKETS) {
            *total += hist.count_between(0, le_us);
        }
        self.count += hist.len();
        self.sum_seconds += hist.mean() * hist.len() as f64 / 1e6;
    }
}

/// The totals the `/metrics` handler renders: written once a second by the
/// recorder's writers, read by each scrape.
#[derive(Debug, Default)]
pub struct MetricsState {
    targets: Mutex<Vec<TargetMetrics>>,
}

impl MetricsState {
    pub fn new() -> Arc<MetricsState> {
        Arc::new(MetricsState::default())
    }

    fn lock(&self) -> MutexGuard<'_, Vec<TargetMetrics>> {
        // A holder only adds numbers; a panic cannot leave it unusable.
        self.targets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The exposition text of the totals so far.
    pub fn render(&self) -> String {
        render(&self.lock())
    }
}

/// The writers' end: folds each finished second into the shared state.
pub struct Feed {
    state: Arc<MetricsState>,
    clusters: Arc<ClusterRegistry>,
}

impl Feed {
    /// Starts the state's targets (zeros) so a scrape before the first
    /// second already lists them.
    pub fn new(
        state: Arc<MetricsState>,
        targets: &[String],
        clusters: Arc<ClusterRegistry>,
    ) -> Feed {
        *state.lock() = targets.iter().map(|t| TargetMetrics::new(t)).collect();
        Feed { state, clusters }
    }

    pub fn second(&self, row: &SecondRow<'_>) {
        let clusters = self.clusters.names();
        let mut targets = self.state.lock();
        for (metrics, second) in targets.iter_mut().zip(row.targets) {
            metrics.add(second, &clusters);
        }
    }
}

/// A label value as the text format wants it: backslash, double quote and
/// newline escaped.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A counter per target and one more label, from one of the target's
/// name-to-count maps: the version and cluster families are the same shape.
fn labelled_counter(
    out: &mut String,
    targets: &[TargetMetrics],
    (name, label): (&str, &str),
    help: &str,
    counts: impl Fn(&TargetMetrics) -> &BTreeMap<String, u64>,
) {
    header(out, name, "counter", help);
    for t in targets {
        let target = escape(&t.name);
        for (value, n) in counts(t) {
            let _ = writeln!(
                out,
                "{name}{{target=\"{target}\",{label}=\"{}\"}} {n}",
                escape(value)
            );
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Prometheus text exposition format 0.0.4.
pub fn render(targets: &[TargetMetrics]) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "meshdrill_requests_total",
        "counter",
        "Requests by outcome kind (as in timeline.csv and summary.json).",
    );
    for t in targets {
        let target = escape(&t.name);
        for kind in Kind::ALL {
            let _ = writeln!(
                out,
                "meshdrill_requests_total{{target=\"{target}\",outcome=\"{}\"}} {}",
                kind.name(),
                t.outcomes[kind.index()]
            );
        }
    }
    labelled_counter(
        &mut out,
        targets,
        ("meshdrill_responses_by_version_total", "version"),
        "Productpages (ok or degraded) by the reviews version they show.",
        |t| &t.versions,
    );
    labelled_counter(
        &mut out,
        targets,
        ("meshdrill_responses_by_cluster_total", "cluster"),
        "Productpages (ok or degraded) by the cluster that served them.",
        |t| &t.clusters,
    );
    let duration = "meshdrill_request_duration_seconds";
    header(
        &mut out,
        duration,
        "histogram",
        "Latency from each request's intended send time to its outcome.",
    );
    for t in targets {
        let target = escape(&t.name);
        for ((le, _), n) in BUCKETS.iter().zip(t.buckets) {
            let _ = writeln!(
                out,
                "{duration}_bucket{{target=\"{target}\",le=\"{le}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "{duration}_bucket{{target=\"{target}\",le=\"+Inf\"}} {}",
            t.count
        );
        let _ = writeln!(
            out,
            "{duration}_sum{{target=\"{target}\"}} {}",
            t.sum_seconds
        );
        let _ = writeln!(out, "{duration}_count{{target=\"{target}\"}} {}", t.count);
    }
    header(
        &mut out,
        "meshdrill_seconds_recorded",
        "gauge",
        "Seconds of the run recorded so far (warmup included).",
    );
    for t in targets {
        let _ = writeln!(
            out,
            "meshdrill_seconds_recorded{{target=\"{}\"}} {}",
            escape(&t.name),
            t.seconds
        );
    }
    out
}

#[cfg(test)]
mod tests;
