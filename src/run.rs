//! One run, end to end: start the simulator if the plan uses it, start the
//! lanes and the fault driver on one clock, feed the recorder, and write
//! every output. Tests drive whole runs through [`run`] in-process.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::classify::ClassifyConfig;
use crate::drill::{FaultLog, MarkerLog, assess_dir, drive_faults, watch_markers};
use crate::engine::buffers::BodyBudget;
use crate::engine::client::{ClientSpec, TargetClient};
use crate::engine::clock::RunClock;
use crate::engine::lane::{LaneSpec, run_lane};
use crate::engine::limits;
use crate::engine::pacer::{PacedLane, spawn_pacer};
use crate::engine::schedule::{Schedule, SplitOf};
use crate::record::{ClusterRegistry, Recorder, SecondStats, second_of};
use crate::report::summary::{Named, ScenarioInfo, Summary, TargetInfo, TargetSummary};
use crate::report::{self, Writers};
use crate::scenario::{ConnectionPolicy, Endpoint, LoadModel, Plan};
use crate::sim::{Sim, SimConfig};

/// Time between building the clock and its zero, so every lane is parked on
/// its first slot before traffic starts.
const CLOCK_LEAD: Duration = Duration::from_millis(100);
/// Upper bound on requests in flight per target (open model). Far above
/// rate × timeout for any sane drill; beyond it sends become late, counted.
const MAX_IN_FLIGHT_PER_TARGET: usize = 20_000;

pub struct RunOptions {
    pub plan: Plan,
    /// Where to write; default `results/<UTC timestamp>-<scenario name>/`.
    pub out_dir: Option<PathBuf>,
    /// No per-second lines on stderr.
    pub quiet: bool,
    /// Lanes per target; default: the machine's parallelism shared by the targets.
    pub lanes_per_target: Option<usize>,
    /// Listen for manual markers (SIGUSR1, and `m` + Enter on stdin). Off
    /// for in-process callers: it installs a signal handler and reads stdin.
    pub markers: bool,
}

impl RunOptions {
    /// Defaults: results under `results/`, per-second lines on, no markers.
    pub fn new(plan: Plan) -> RunOptions {
        RunOptions {
            plan,
            out_dir: None,
            quiet: false,
            lanes_per_target: None,
            markers: false,
        }
    }
}

pub struct RunOutput {
    pub out_dir: PathBuf,
    pub summary: Summary,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot create results folder {path}: {source}")]
    OutDir { path: PathBuf, source: io::Error },
    #[error("cannot start the simulator: {0}")]
    Sim(io::Error),
    #[error("target {target}: {message}")]
    Target { target: String, message: String },
    #[error("cannot start the pacer thread: {0}")]
    Pacer(String),
    #[error("writing results in {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    /// The closed model's users cannot all have a socket on this machine.
    #[error(
        "{users} users per target ({targets} target(s)) need about {needed} open files, \
         but this process may open {allowed} (`ulimit -n`): raise it (`ulimit -n {needed}`) \
         or lower `concurrency`; nothing was sent"
    )]
    TooManyUsers {
        users: u32,
        targets: usize,
        needed: u64,
        allowed: u64,
    },
}

pub async fn run(opts: RunOptions, stop: CancellationToken) -> Result<RunOutput, RunError> {
    let plan = &opts.plan;
    let open_files = limits::raise_open_files_limit();
    if let LoadModel::Concurrency { users, .. } = plan.load.model {
        let needed = limits::files_for_users(u64::from(users.get()), &fds_per_request(plan));
        if needed > open_files {
            return Err(RunError::TooManyUsers {
                users: users.get(),
                targets: plan.targets.len(),
                needed,
                allowed: open_files,
            });
        }
    }
    let sim = if plan.uses_sim() {
        let config = SimConfig {
            reviews_mix: plan.sim.reviews_mix,
            base_latency: plan.sim.base_latency,
            template: plan.sim.template,
        };
        let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        Some(Sim::start(config, any, any).await.map_err(RunError::Sim)?)
    } else {
        None
    };
    let result = run_with(&opts, sim.as_ref(), stop).await;
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    result
}

async fn run_with(
    opts: &RunOptions,
    sim: Option<&Sim>,
    stop: CancellationToken,
) -> Result<RunOutput, RunError> {
    let plan = &opts.plan;
    let out_dir = opts
        .out_dir
        .clone()
        .unwrap_or_else(|| default_out_dir(&plan.name));
    std::fs::create_dir_all(&out_dir).map_err(|source| RunError::OutDir {
        path: out_dir.clone(),
        source,
    })?;
    let write_err = |source: io::Error| RunError::Write {
        path: out_dir.clone(),
        source,
    };

    let (mut specs, mut infos) = client_specs(plan, sim)?;
    let classify = ClassifyConfig::from_plan(plan);
    let clusters = cluster_registry(plan, &classify);
    let names: Vec<String> = plan.targets.iter().map(|t| t.name.clone()).collect();
    let clock = RunClock::starting_in(CLOCK_LEAD);
    let mut writers = Writers::create(
        &out_dir,
        &names,
        clusters.clone(),
        clock.epoch,
        opts.quiet,
        plan.load.max_late_pct,
    )
    .map_err(write_err)?;

    // Lanes stop on the user's interrupt or when writing results fails.
    let lanes_stop = stop.child_token();
    let end = plan.load.warmup + plan.load.duration;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let lanes_per_target = opts
        .lanes_per_target
        .unwrap_or_else(|| default_lanes(specs.len()));
    let open_files_limit = limits::raise_open_files_limit();
    let caps = limits::in_flight_caps(
        open_files_limit,
        &fds_per_request(plan),
        MAX_IN_FLIGHT_PER_TARGET,
    );
    for ((spec, info), cap) in specs.iter_mut().zip(&mut infos).zip(&caps) {
        spec.max_idle = *cap;
        info.in_flight_cap = Some(*cap);
    }
    let warmup_seconds = second_of(plan.load.warmup.as_micros() as u64);
    let mut lane_count = 0;
    let mut paced = Vec::new();
    for (target, spec) in specs.iter().enumerate() {
        let client = Arc::new(TargetClient::new(spec).map_err(|e| RunError::Target {
            target: names[target].clone(),
            message: format!("invalid Host header: {e}"),
        })?);
        let split = match plan.load.model {
            LoadModel::Rate { per_target } => SplitOf::Rate(per_target.per_second()),
            LoadModel::Concurrency { users, think_time } => SplitOf::Users {
                users: users.get(),
                think: think_time,
            },
        };
        let schedules = Schedule::split(split, lanes_per_target as u64);
        let lanes = schedules.len();
        for schedule in schedules {
            let slots = match schedule {
                Schedule::Open {
                    first,
                    stride,
                    rate,
                } => {
                    let (slots, rx) = mpsc::unbounded_channel();
                    paced.push(PacedLane {
                        first,
                        stride,
                        rate,
                        slots,
                    });
                    Some(rx)
                }
                Schedule::Closed { .. } => None,
            };
            let lane = LaneSpec {
                lane: lane_count,
                target: target as u16,
                schedule,
                end,
                max_in_flight: (caps[target] / lanes).max(1),
                send_deadline: plan.load.timeout,
                slots,
                classify: classify.clone(),
                clusters: clusters.clone(),
                warmup_seconds,
            };
            tokio::spawn(run_lane(
                lane,
                client.clone(),
                clock,
                tx.clone(),
                lanes_stop.clone(),
            ));
            lane_count += 1;
        }
    }
    drop(tx);
    let pacer = if paced.is_empty() {
        None
    } else {
        let spawned = spawn_pacer(paced, clock.start.into_std(), end, lanes_stop.clone());
        Some(spawned.map_err(|e| {
            lanes_stop.cancel(); // the lanes would wait for slots forever
            RunError::Pacer(e.to_string())
        })?)
    };

    let _live = report::live::start(end, opts.quiet);
    let mut recorder = Recorder::new(
        names.len(),
        lane_count,
        second_of(plan.load.warmup.as_micros() as u64),
    )
    .with_planned(planned_per_second(plan, end));
    let faults_stop = lanes_stop.child_token();
    let journal = out_dir.join(crate::drill::JOURNAL);
    let log = FaultLog {
        journal: Some(&journal),
        quiet: opts.quiet,
    };
    let faults = drive_faults(
        &plan.faults,
        &plan.targets,
        sim,
        clock,
        faults_stop.clone(),
        log,
    );
    let record = async {
        let mut failure = None;
        while let Some(report) = rx.recv().await {
            report::live::progress(Duration::from_micros(clock.elapsed_us()).min(end));
            if failure.is_none()
                && let Err(e) = recorder.accept(report, &mut writers)
            {
                failure = Some(e);
                lanes_stop.cancel();
            }
        }
        // Every lane has ended: the last request has its outcome.
        let ended_ms = clock.elapsed_us() as f64 / 1000.0;
        faults_stop.cancel();
        (failure, ended_ms)
    };
    let mut marker_log = MarkerLog::new(clock);
    let markers = async {
        if !opts.markers {
            return;
        }
        let mut signals = watch_markers(true);
        loop {
            tokio::select! {
                _ = faults_stop.cancelled() => break,
                Some(signal) = signals.recv() => {
                    let marker = marker_log.add(signal);
                    if !opts.quiet {
                        report::live::line(&format!(
                            "[{:>8.3}s] marker {} ({})",
                            marker.at_ms / 1000.0,
                            marker.number,
                            marker.source
                        ));
                    }
                    if let Ok(mut line) = serde_json::to_string(&serde_json::json!({ "marker": marker })) {
                        line.push('\n');
                        let _ = std::fs::OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(&journal)
                            .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
                    }
                }
            }
        }
    };
    let (fault_records, (failure, requests_ended_ms), ()) = tokio::join!(faults, record, markers);
    if let Some(pacer) = pacer {
        // Every lane has ended, so the pacer has sent its last slot or seen
        // the stop; this returns within one nap.
        let _ = tokio::task::spawn_blocking(move || pacer.join()).await;
    }
    if let Some(e) = failure {
        return Err(write_err(e));
    }

    let interrupted = stop.is_cancelled();
    let planned_seconds = end.as_secs_f64().ceil() as u32;
    let end_second = if interrupted {
        planned_seconds.min(second_of(clock.elapsed_us()) + 1)
    } else {
        planned_seconds
    };
    let totals = recorder
        .finish(end_second, &mut writers)
        .map_err(write_err)?;

    let cluster_names = clusters.names();
    let mut all = SecondStats::new();
    let mut all_warmup = SecondStats::new();
    let mut all_named = Named::default();
    let mut targets = Vec::new();
    for (i, info) in infos.iter().enumerate() {
        all.merge(&totals.measured[i]);
        all_warmup.merge(&totals.warmup[i]);
        let named = Named {
            pods: totals.pods[i].clone(),
            pods_other: totals.pods_other[i],
            other_clusters: totals.other_clusters[i].clone(),
        };
        all_named.merge(&named);
        targets.push(TargetSummary::new(
            info,
            &totals.measured[i],
            &totals.warmup[i],
            &cluster_names,
            &named,
        ));
        let text = report::hgrm::render(&totals.measured[i].latency);
        std::fs::write(out_dir.join(report::hgrm_file(&info.name)), text).map_err(write_err)?;
    }
    std::fs::write(
        out_dir.join(report::hgrm_file("all")),
        report::hgrm::render(&all.latency),
    )
    .map_err(write_err)?;
    let all_info = TargetInfo {
        name: "all".into(),
        endpoint: String::new(),
        dialed: String::new(),
        host: String::new(),
        connection: "",
        requested_rate: infos.iter().map(|i| i.requested_rate).sum(),
        in_flight_cap: None,
    };
    let mut summary = Summary {
        meshdrill_version: env!("CARGO_PKG_VERSION"),
        scenario: scenario_info(plan),
        start_unix_ms: clock.epoch_ms(),
        start_utc: humantime::format_rfc3339_millis(clock.epoch).to_string(),
        interrupted,
        seconds: totals.seconds,
        abandoned_in_flight: totals.abandoned,
        outcomes_after_row_written: totals.after_row_written,
        open_files_limit,
        requests_ended_ms,
        all: TargetSummary::new(&all_info, &all, &all_warmup, &cluster_names, &all_named),
        targets,
        faults: fault_records,
        markers: marker_log.markers,
        recovery: plan.recovery,
        slo: plan.slo.clone(),
        outages: Vec::new(),
        verdict: None,
    };
    let summary_path = out_dir.join(report::summary::FILE);
    let write_summary = |summary: &Summary| {
        let json = serde_json::to_vec_pretty(summary).expect("summary serializes");
        std::fs::write(&summary_path, json)
    };
    write_summary(&summary).map_err(write_err)?;
    // Judged from the files just written, exactly as `meshdrill report` will.
    let assessment = assess_dir(&out_dir, &plan.recovery, &plan.slo)
        .map_err(|e| write_err(io::Error::other(e.to_string())))?;
    let charts = report::render_charts(
        &out_dir,
        &serde_json::to_value(&summary).unwrap_or_default(),
        &assessment,
    );
    summary.outages = assessment.outages;
    summary.verdict = Some(assessment.verdict);
    write_summary(&summary).map_err(write_err)?;
    if let Err(e) = charts {
        // The drill's numbers are all on disk; a chart is not worth losing them.
        eprintln!("meshdrill: charts not written: {e}");
    }
    let final_summary = serde_json::to_value(&summary).unwrap_or_default();
    if let Err(e) = report::html::write(&out_dir, &final_summary) {
        eprintln!("meshdrill: report.html not written: {e}");
    }
    Ok(RunOutput { out_dir, summary })
}

/// Descriptors each in-flight request holds per target: 1 for a remote
/// target, 2 for the simulator in this process (it holds the other end).
fn fds_per_request(plan: &Plan) -> Vec<u64> {
    plan.targets
        .iter()
        .map(|t| match t.endpoint {
            Endpoint::Sim { .. } => 2,
            Endpoint::Http(_) => 1,
        })
        .collect()
}

/// Per target, the sends the open model intends in each second of `end`
/// (`None` for the closed model).
fn planned_per_second(plan: &Plan, end: Duration) -> Vec<Option<Vec<u64>>> {
    let seconds = end.as_secs_f64().ceil() as u32;
    plan.targets
        .iter()
        .map(|_| match plan.load.model {
            LoadModel::Rate { per_target } => {
                let rate = per_target.per_second();
                let before = |s: u32| {
                    Schedule::slots_before(rate, Duration::from_secs(u64::from(s)).min(end))
                };
                Some((0..seconds).map(|s| before(s + 1) - before(s)).collect())
            }
            LoadModel::Concurrency { .. } => None,
        })
        .collect()
}

/// Every name the run knows before traffic has a slot (and a timeline
/// column) from the start: the classifier's configured names in its order,
/// then the clusters the SLOs name.
fn cluster_registry(plan: &Plan, classify: &ClassifyConfig) -> Arc<ClusterRegistry> {
    let specs = plan
        .slo
        .all
        .iter()
        .chain(plan.slo.targets.iter().map(|(_, s)| s));
    let slo_names = specs.flat_map(|s| s.expect_clusters.iter().chain(&s.only_clusters));
    ClusterRegistry::new(
        classify
            .cluster_names()
            .iter()
            .chain(slo_names)
            .map(String::as_str),
    )
}

fn client_specs(
    plan: &Plan,
    sim: Option<&Sim>,
) -> Result<(Vec<ClientSpec>, Vec<TargetInfo>), RunError> {
    let mut specs = Vec::new();
    let mut infos = Vec::new();
    let body_budget = BodyBudget::new(plan.load.max_buffered);
    for t in &plan.targets {
        let (dial, host, endpoint) = match &t.endpoint {
            Endpoint::Http(h) => {
                let dial = match h.connect {
                    Some(addr) => with_authority(&h.url, &addr.to_string()),
                    None => h.url.clone(),
                };
                (dial, h.host_header.clone(), h.url.to_string())
            }
            Endpoint::Sim { cluster, path } => {
                let sim = sim.expect("the simulator runs when a target uses it");
                let addr = sim.addr(*cluster).to_string();
                let dial =
                    format!("http://{addr}{path}")
                        .parse()
                        .map_err(|e| RunError::Target {
                            target: t.name.clone(),
                            message: format!("{e}"),
                        })?;
                (dial, addr, format!("sim:{}{path}", cluster.name()))
            }
        };
        infos.push(TargetInfo {
            name: t.name.clone(),
            endpoint,
            dialed: dial.to_string(),
            host: host.clone(),
            connection: match t.connection {
                ConnectionPolicy::KeepAlive => "keep-alive",
                ConnectionPolicy::New => "new",
            },
            requested_rate: match plan.load.model {
                LoadModel::Rate { per_target } => Some(per_target.per_second()),
                LoadModel::Concurrency { .. } => None,
            },
            in_flight_cap: None,
        });
        specs.push(ClientSpec {
            dial,
            host,
            policy: t.connection,
            timeout: plan.load.timeout,
            connect_timeout: plan.load.connect_timeout,
            max_body_bytes: plan.load.max_body_bytes,
            body_budget: body_budget.clone(),
            max_idle: MAX_IN_FLIGHT_PER_TARGET,
        });
    }
    Ok((specs, infos))
}

fn with_authority(url: &hyper::Uri, authority: &str) -> hyper::Uri {
    let mut parts = url.clone().into_parts();
    parts.authority = Some(
        authority
            .parse()
            .expect("a socket address is a valid authority"),
    );
    hyper::Uri::from_parts(parts).expect("scheme and path kept")
}

fn default_lanes(targets: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / targets.max(1)).max(1)
}

fn default_out_dir(name: &str) -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace([':', '-'], "");
    Path::new("results").join(format!("{stamp}-{name}"))
}

fn scenario_info(plan: &Plan) -> ScenarioInfo {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (model, rate, users, think) = match plan.load.model {
        LoadModel::Rate { per_target } => ("rate", Some(per_target.per_second()), None, None),
        LoadModel::Concurrency { users, think_time } => {
            ("concurrency", None, Some(users.get()), Some(ms(think_time)))
        }
    };
    ScenarioInfo {
        name: plan.name.clone(),
        file: plan.source.display().to_string(),
        model,
        rate_per_target: rate,
        users_per_target: users,
        think_time_ms: think,
        duration_s: plan.load.duration.as_secs_f64(),
        warmup_s: plan.load.warmup.as_secs_f64(),
        timeout_ms: ms(plan.load.timeout),
        connect_timeout_ms: ms(plan.load.connect_timeout),
        max_late_pct: plan.load.max_late_pct,
    }
}
