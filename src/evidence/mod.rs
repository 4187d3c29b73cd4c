//! `[evidence]`: the mesh's own view beside the users'. Once traffic has
//! stopped (and the verdict is written), each named PromQL expression is
//! evaluated as a range query of the users' Prometheus over the run's
//! seconds, one after the other, each bounded by the plan's timeout; the
//! samples land in `evidence/<name>.csv` and each query's fate in
//! evidence.json. A query that fails (Prometheus down, a bad expression,
//! too slow) is named on stderr and in evidence.json, and changes nothing
//! else: not the verdict, not the exit code.

pub mod prometheus;

use std::path::Path;
use std::time::Instant;

use crate::results::evidence::{
    DIR, EvidenceLog, EvidenceRecord, FILE, QueryStatus, csv_bytes, csv_file,
};
use crate::results::write_atomic;
use crate::scenario::EvidencePlan;

/// Prometheus answers at most 11,000 points per series: longer runs are
/// asked with a coarser step.
const MAX_POINTS: u64 = 11_000;

/// The run's window on the wall clock: second 0 (Unix ms) and how long
/// traffic lasted.
#[derive(Clone, Copy, Debug)]
pub struct RunWindow {
    pub start_unix_ms: u64,
    pub ended_ms: f64,
}

impl RunWindow {
    fn end_unix_ms(self) -> u64 {
        self.start_unix_ms + self.ended_ms.max(0.0).ceil() as u64
    }

    /// 1 s, or as coarse as needed to stay under [`MAX_POINTS`].
    fn step_s(self) -> u32 {
        let seconds = (self.end_unix_ms() - self.start_unix_ms).div_ceil(1000);
        u32::try_from(seconds.div_ceil(MAX_POINTS).max(1)).unwrap_or(u32::MAX)
    }
}

/// Runs every query, writes the CSVs and evidence.json, and returns the
/// log. Problems writing are named on stderr (the run goes on).
pub async fn collect(plan: &EvidencePlan, window: RunWindow, out_dir: &Path) -> EvidenceLog {
    let start_s = window.start_unix_ms as f64 / 1000.0;
    let end_s = window.end_unix_ms() as f64 / 1000.0;
    let step_s = window.step_s();
    if let Err(e) = std::fs::create_dir_all(out_dir.join(DIR)) {
        eprintln!(
            "meshdrill: warning: cannot create {}: {e}",
            out_dir.join(DIR).display()
        );
    }
    let mut queries = Vec::with_capacity(plan.queries.len());
    for q in &plan.queries {
        let path = prometheus::range_path(&plan.prometheus, &q.promql, start_s, end_s, step_s);
        let began = Instant::now();
        let answer = prometheus::query(&plan.prometheus, &path, start_s, plan.timeout).await;
        let duration_ms = began.elapsed().as_secs_f64() * 1000.0;
        let mut record = EvidenceRecord {
            name: q.name.clone(),
            promql: q.promql.clone(),
            url: prometheus::full_url(&plan.prometheus, &path),
            start_unix_ms: window.start_unix_ms,
            end_unix_ms: window.end_unix_ms(),
            step_s,
            status: QueryStatus::Error,
            error: None,
            series: 0,
            samples: 0,
            file: None,
            duration_ms,
        };
        match answer {
            Ok((rows, series)) => {
                let file = csv_file(&q.name);
                match write_atomic(&out_dir.join(&file), &csv_bytes(&rows)) {
                    Ok(()) => {
                        record.status = QueryStatus::Ok;
                        record.series = series;
                        record.samples = rows.len() as u64;
                        record.file = Some(file);
                    }
                    Err(e) => record.error = Some(e.to_string()),
                }
            }
            Err(e) => record.error = Some(e),
        }
        if let Some(error) = &record.error {
            eprintln!(
                "meshdrill: warning: evidence query {:?} failed: {error} (the verdict stands; see {FILE})",
                q.name
            );
        }
        queries.push(record);
    }
    let answered = queries
        .iter()
        .filter(|q| q.status == QueryStatus::Ok)
        .count();
    eprintln!(
        "meshdrill: evidence: {answered} of {} Prometheus queries answered ({FILE})",
        queries.len()
    );
    let log = EvidenceLog {
        prometheus: plan.prometheus.to_string(),
        queries,
    };
    let json = serde_json::to_vec_pretty(&log).expect("evidence serializes");
    if let Err(e) = write_atomic(&out_dir.join(FILE), &json) {
        eprintln!("meshdrill: {e}");
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_is_one_second_until_prometheus_would_refuse_it() {
        let w = |ended_ms| RunWindow {
            start_unix_ms: 1_000,
            ended_ms,
        };
        assert_eq!(w(30_000.0).step_s(), 1);
        assert_eq!(w(30_000.2).end_unix_ms(), 31_001);
        assert_eq!(w(11_000_000.0).step_s(), 1);
        assert_eq!(w(11_000_001.0).step_s(), 2);
        assert_eq!(w(86_400_000.0).step_s(), 8);
    }
}
