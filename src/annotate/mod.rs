//! Grafana annotations of a run (`run --grafana URL`): a point at the run's
//! start, at each fault's inject (posted then, while the drill runs) and at
//! the run's end, and at the end one region per fault from its inject to
//! its recovery (or its restore's end, when it did not recover) with the
//! RTO and availability per target, all tagged `meshdrill`, the scenario
//! and the fault. Posts run on a task of their own, one after the other,
//! each bounded by [`POST_TIMEOUT`]; the drill only queues them, so neither
//! the recorder nor a fault waits for Grafana. A post that fails is named on
//! stderr and in annotations.json, and changes nothing else.

pub(crate) mod grafana;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::engine::clock::RunClock;
use crate::results::annotations::{AnnotationLog, AnnotationPost, FILE};
use crate::results::faults::FaultRecord;
use crate::results::outage::{ALL, FaultOutage, Recovery};
use crate::results::write_atomic;
use crate::scenario::GrafanaPlan;

/// One post, connect to answer.
pub const POST_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the run's end waits for the posts still queued.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// An annotation to post.
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    pub what: String,
    pub time_ms: u64,
    pub time_end_ms: Option<u64>,
    pub tags: Vec<String>,
    pub text: String,
}

/// The queue of one run's annotations and the task posting them.
pub struct Annotator {
    scenario: String,
    clock: RunClock,
    queue: mpsc::UnboundedSender<Annotation>,
    posting: JoinHandle<()>,
    posts: Arc<Mutex<Vec<AnnotationPost>>>,
    url: String,
}

impl Annotator {
    /// `None` without `--grafana`.
    pub fn start(
        grafana: Option<&GrafanaPlan>,
        scenario: &str,
        clock: RunClock,
    ) -> Option<Annotator> {
        let grafana = grafana?.clone();
        let (queue, mut queued) = mpsc::unbounded_channel::<Annotation>();
        let posts = Arc::new(Mutex::new(Vec::new()));
        let kept = posts.clone();
        let url = grafana.url.to_string();
        let posting = tokio::spawn(async move {
            while let Some(a) = queued.recv().await {
                let post = post_one(&grafana, a).await;
                if let Some(error) = &post.error {
                    eprintln!(
                        "meshdrill: warning: Grafana annotation {:?} not posted: {error} (the run goes on; see {FILE})",
                        post.what
                    );
                }
                kept.lock().unwrap_or_else(|e| e.into_inner()).push(post);
            }
        });
        Some(Annotator {
            scenario: scenario.to_string(),
            clock,
            queue,
            posting,
            posts,
            url,
        })
    }

    /// Queues `annotation`; never waits.
    pub fn post(&self, annotation: Annotation) {
        let _ = self.queue.send(annotation);
    }

    /// `meshdrill`, the scenario, and what else is given.
    fn tags(&self, more: &[&str]) -> Vec<String> {
        let mut tags = vec!["meshdrill".to_string(), self.scenario.clone()];
        tags.extend(more.iter().map(|t| t.to_string()));
        tags
    }

    /// Unix ms of a run-clock instant.
    fn unix_ms(&self, run_ms: f64) -> u64 {
        self.clock.epoch_ms() + run_ms.max(0.0).round() as u64
    }

    /// The run's start (the clock's anchor: the first intended send).
    pub fn run_started(&self) {
        self.post(Annotation {
            what: "run start".into(),
            time_ms: self.clock.epoch_ms(),
            time_end_ms: None,
            tags: self.tags(&["run"]),
            text: format!("meshdrill {}: traffic starts", self.scenario),
        });
    }

    /// A fault's inject, as it starts (`at_ms` on the run clock).
    pub fn injecting(&self, fault: &str, action: &str, at_ms: f64) {
        self.post(Annotation {
            what: format!("inject {fault}"),
            time_ms: self.unix_ms(at_ms),
            time_end_ms: None,
            tags: self.tags(&[fault, "inject"]),
            text: format!(
                "meshdrill {}: fault {fault} injected ({action})",
                self.scenario
            ),
        });
    }

    /// Each fault's window with its RTO and availability per target, then
    /// the run's end (`ended_ms` on the run clock).
    pub fn run_ended(&self, faults: &[FaultRecord], outages: &[FaultOutage], ended_ms: f64) {
        for fault in faults {
            let Some(outage) = outages.iter().find(|o| o.fault == fault.name) else {
                continue;
            };
            if let Some(region) = self.region(fault, outage, ended_ms) {
                self.post(region);
            }
        }
        self.post(Annotation {
            what: "run end".into(),
            time_ms: self.unix_ms(ended_ms),
            time_end_ms: None,
            tags: self.tags(&["run"]),
            text: format!("meshdrill {}: traffic ended", self.scenario),
        });
    }

    fn region(
        &self,
        fault: &FaultRecord,
        outage: &FaultOutage,
        ended_ms: f64,
    ) -> Option<Annotation> {
        let from = fault.injected_at_ms?;
        let scope = outage.faulted_scope.as_deref().unwrap_or(ALL);
        let faulted = outage.scopes.iter().find(|s| s.scope == scope);
        let restored = fault.restore_done_ms.unwrap_or(ended_ms);
        let to = match faulted.map(|s| s.report.recovery) {
            Some(Recovery::Recovered { at_ms }) => at_ms as f64,
            Some(Recovery::NoOutage) => fault
                .restore_done_ms
                .or(fault.inject_done_ms)
                .unwrap_or(from),
            Some(Recovery::NotRecovered { .. }) | None => restored,
        };
        Some(Annotation {
            what: format!("fault {}", fault.name),
            time_ms: self.unix_ms(from),
            time_end_ms: Some(self.unix_ms(to.max(from))),
            tags: self.tags(&[&fault.name]),
            text: region_text(&self.scenario, fault, outage),
        })
    }

    /// Waits (at most [`DRAIN_TIMEOUT`]) for the queued posts, and writes
    /// annotations.json. A problem writing it is named on stderr.
    pub async fn finish(self, out_dir: &Path) -> AnnotationLog {
        let Annotator {
            queue,
            mut posting,
            posts,
            url,
            ..
        } = self;
        drop(queue);
        if tokio::time::timeout(DRAIN_TIMEOUT, &mut posting)
            .await
            .is_err()
        {
            posting.abort();
            eprintln!(
                "meshdrill: warning: Grafana annotations still queued after {} were not posted",
                humantime::format_duration(DRAIN_TIMEOUT)
            );
        }
        let posts = std::mem::take(&mut *posts.lock().unwrap_or_else(|e| e.into_inner()));
        let log = AnnotationLog { url, posts };
        let json = serde_json::to_vec_pretty(&log).expect("annotations serialize");
        if let Err(e) = write_atomic(&out_dir.join(FILE), &json) {
            eprintln!("meshdrill: {e}");
        }
        log
    }
}

/// `primary-down: RTO primary 4.21 s, secondary no outage · availability
/// during the fault primary 71.20 %, secondary 100.00 %`.
fn region_text(scenario: &str, fault: &FaultRecord, outage: &FaultOutage) -> String {
    let targets: Vec<_> = outage.scopes.iter().filter(|s| s.scope != ALL).collect();
    let rto = targets
        .iter()
        .map(|s| {
            let rto = match s.report.recovery {
                Recovery::NoOutage => "no outage".to_string(),
                Recovery::Recovered { .. } => match s.report.rto_ms {
                    Some(ms) => format!("{:.2} s", ms as f64 / 1000.0),
                    None => "recovered".to_string(),
                },
                Recovery::NotRecovered { lower_bound_ms } => {
                    format!("not recovered (> {:.2} s)", lower_bound_ms as f64 / 1000.0)
                }
            };
            format!("{} {rto}", s.scope)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let availability = targets
        .iter()
        .map(|s| {
            let pct = s
                .in_window
                .as_ref()
                .and_then(|w| w.availability_pct)
                .or(s.report.during.availability_pct);
            match pct {
                Some(p) => format!("{} {p:.2} %", s.scope),
                None => format!("{} -", s.scope),
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "meshdrill {scenario}: fault {} ({}) · RTO {rto} · availability during the fault {availability}",
        fault.name, fault.action
    )
}

async fn post_one(target: &GrafanaPlan, a: Annotation) -> AnnotationPost {
    let body = grafana::Body {
        time: a.time_ms,
        time_end: a.time_end_ms,
        tags: &a.tags,
        text: &a.text,
        dashboard_uid: target.dashboard_uid.as_deref(),
    };
    let (status, error) = match grafana::post(target, &body, POST_TIMEOUT).await {
        Ok(answer) if (200..300).contains(&answer.status) => (Some(answer.status), None),
        Ok(answer) => (
            Some(answer.status),
            Some(format!("HTTP {}: {}", answer.status, answer.body.trim())),
        ),
        Err(e) => (None, Some(e)),
    };
    AnnotationPost {
        what: a.what,
        time_ms: a.time_ms,
        time_end_ms: a.time_end_ms,
        tags: a.tags,
        text: a.text,
        ok: error.is_none(),
        status,
        error,
    }
}
