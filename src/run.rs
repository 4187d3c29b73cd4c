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

use crate::assess::assess;
use crate::classify::ClassifyConfig;
use crate::drill::{FaultLog, MarkerLog, drive_faults, watch_markers};
use crate::engine::buffers::BodyBudget;
use crate::engine::client::{ClientSpec, TargetClient};
use crate::engine::clock::RunClock;
use crate::engine::lane::{LaneSpec, run_lane};
use crate::engine::limits;
use crate::engine::pacer::{PacedLane, spawn_pacer};
use crate::engine::schedule::{Schedule, SplitOf};
use crate::record::{ClusterRegistry, Recorder, SecondStats, second_of};
use crate::report::{self, Writers};
use crate::results::faults::JournalLine;
use crate::results::summary::{Named, ScenarioInfo, Summary, TargetInfo, TargetSummary};
use crate::results::{LoadError, PlanRecord, Results, WriteError, write_atomic};
use crate::scenario::{ConnectionPolicy, Endpoint, LoadModel, Plan};
use crate::sim::Sim;

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
    /// A whole file (summary.json, an .hgrm) that could not be replaced.
    #[error(transparent)]
    File(#[from] WriteError),
    /// The files just written could not be read back to be judged.
    #[error(transparent)]
    Results(#[from] LoadError),
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
        let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        Some(
            Sim::start(plan.sim.clone(), any, any)
                .await
                .map_err(RunError::Sim)?,
        )
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
    // Before any traffic, so the folder explains itself whatever happens next.
    let planned: Vec<_> = plan
        .faults
        .iter()
        .map(|f| crate::drill::faults::record_for(f, &plan.targets))
        .collect();
    PlanRecord::new(plan, scenario_info(plan), &infos, &planned).write(&out_dir)?;
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

    let _live = crate::live::start(end, opts.quiet);
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
            crate::live::progress(Duration::from_micros(clock.elapsed_us()).min(end));
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
                        crate::live::event(marker.at_ms, &format!(
                            "[{:>8.3}s] marker {} ({})",
                            marker.at_ms / 1000.0,
                            marker.number,
                            marker.source
                        ));
                    }
                    let entry = JournalLine::Marker { marker: marker.clone() };
                    if let Ok(mut line) = serde_json::to_string(&entry) {
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
    let totals = recorder.finish(end_second, &mut writers);
    // Every second's line is out: what happened after the last one too.
    crate::live::finish();
    let totals = totals.map_err(write_err)?;

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
        write_atomic(
            &out_dir.join(report::hgrm_file(&info.name)),
            text.as_bytes(),
        )?;
    }
    write_atomic(
        &out_dir.join(report::hgrm_file("all")),
        report::hgrm::render(&all.latency).as_bytes(),
    )?;
    let all_info = TargetInfo {
        name: "all".into(),
        endpoint: String::new(),
        dialed: String::new(),
        host: String::new(),
        connection: "",
        requested_rate: infos.iter().map(|i| i.requested_rate).sum(),
        in_flight_cap: None,
    };
    let summary = Summary {
        schema_version: crate::results::summary::SCHEMA_VERSION,
        meshdrill_version: env!("CARGO_PKG_VERSION").to_string(),
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
        rejudged_from: None,
    };
    let summary_path = out_dir.join(crate::results::summary::FILE);
    let write_summary = |summary: &Summary| {
        let json = serde_json::to_vec_pretty(summary).expect("summary serializes");
        write_atomic(&summary_path, &json)
    };
    // Judged from the files just written, exactly as `meshdrill report` will.
    let mut results = match Results::beside(&out_dir, summary.clone()) {
        Ok(results) => results,
        Err(e) => {
            // The totals are worth keeping even when the folder cannot be judged.
            write_summary(&summary)?;
            return Err(e.into());
        }
    };
    let assessment = assess(&results, &plan.recovery, &plan.slo);
    results.summary.outages = assessment.outages.clone();
    results.summary.verdict = Some(assessment.verdict.clone());
    // Written once, whole or not at all.
    write_summary(&results.summary)?;
    if let Err(e) = report::render_charts(&out_dir, &results, &assessment) {
        // The drill's numbers are all on disk; a chart is not worth losing them.
        eprintln!("meshdrill: chart not written: {e}");
    }
    if let Err(e) = report::html::write(&out_dir, &results.summary) {
        eprintln!("meshdrill: report.html not written: {e}");
    }
    let summary = results.summary;
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

/// `results/<UTC timestamp>-<name>`: one folder directly under `results/`
/// whatever the scenario's name holds (`/`, `..`, spaces, non-ASCII).
pub fn default_out_dir(name: &str) -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace([':', '-'], "");
    Path::new("results").join(format!("{stamp}-{}", folder_name(name)))
}

/// Most bytes of a scenario name kept in a folder name (file systems allow 255).
const FOLDER_NAME_MAX: usize = 80;

/// The name in `[A-Za-z0-9_.-]`: every run of other characters becomes one
/// `-`, so `x/../../etc` is `x-..-..-etc`, a single path component (the
/// timestamp before it means it is never `.`, `..` or empty).
fn folder_name(name: &str) -> String {
    let mut folder = String::with_capacity(name.len().min(FOLDER_NAME_MAX));
    for c in name.chars() {
        let kept = c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        if kept {
            folder.push(c);
        } else if !folder.ends_with('-') {
            folder.push('-');
        }
        if folder.len() >= FOLDER_NAME_MAX {
            break;
        }
    }
    let folder = folder.trim_matches('-');
    if folder.is_empty() {
        "scenario".to_string()
    } else {
        folder.to_string()
    }
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
        model: model.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Overrides;

    /// Where hyper-util's `HttpConnector` dials a URI: its host without
    /// IPv6 brackets, and its port, or 80 when the URI has none
    /// (`get_host_port` and `strip_ipv6_brackets` in hyper-util).
    fn connector_dials(uri: &hyper::Uri) -> (String, u16) {
        let host = uri.host().expect("a dialable URI has a host");
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        (host.to_string(), uri.port_u16().unwrap_or(80))
    }

    /// A small deterministic generator (xorshift64*), so the cases are the
    /// same on every run and a failure names its seed.
    struct Cases(u64);
    impl Cases {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    /// `(written, dialled)`: how the generated port is written after the
    /// host, and the port that text means, when it is one.
    fn port_case(cases: &mut Cases) -> (String, Option<Option<u16>>) {
        const BAD: &[&str] = &[
            ":0",
            ":65536",
            ":99999",
            ":8a",
            ":",
            ":080",
            ":-1",
            ":+80",
            ":1e3",
            ": 80",
            ":4294967377",
            ":655350",
            ":0x50",
        ];
        match cases.next() % 4 {
            0 => (String::new(), Some(None)),
            1 => (cases.pick(BAD).to_string(), None),
            _ => {
                let port = 1 + (cases.next() % 65535) as u16;
                (format!(":{port}"), Some(Some(port)))
            }
        }
    }

    #[test]
    fn every_url_the_compiler_accepts_is_dialled_at_exactly_its_host_and_port() {
        const HOSTS: &[(&str, &str)] = &[
            ("127.0.0.1", "127.0.0.1"),
            ("[::1]", "::1"),
            ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
            ("localhost", "localhost"),
            ("198.51.100.7", "198.51.100.7"),
            ("bookinfo.example.com", "bookinfo.example.com"),
            ("a-b.c", "a-b.c"),
        ];
        const PATHS: &[&str] = &[
            "",
            "/",
            "/productpage",
            "/productpage?u=normal",
            "/a:1",
            "/:80",
        ];
        let mut cases = Cases(0x9E37_79B9_7F4A_7C15);
        let (mut accepted, mut refused) = (0, 0);
        for case in 0..3000 {
            let (written_host, host) = HOSTS[(cases.next() % HOSTS.len() as u64) as usize];
            let (port_text, port) = port_case(&mut cases);
            let url = format!("http://{written_host}{port_text}{}", cases.pick(PATHS));
            let via_flag = cases.next().is_multiple_of(2);
            let (text, overrides) = if via_flag {
                let overrides = Overrides {
                    targets: vec![("primary".into(), url.clone())],
                    ..Overrides::default()
                };
                let text = "[load]\nrate = 1\nduration = \"1s\"\n".to_string();
                (text, overrides)
            } else {
                let text = format!(
                    "[[target]]\nname = \"primary\"\nurl = {url:?}\n[load]\nrate = 1\nduration = \"1s\"\n"
                );
                (text, Overrides::default())
            };
            let compiled =
                crate::scenario::parse(&text, Path::new("p.toml"), &overrides, &|_| None);
            let Ok(plan) = compiled else {
                if port.is_some() {
                    panic!("case {case}: {url} was refused: {:?}", compiled.err());
                }
                refused += 1;
                continue;
            };
            let expected_port = port
                .unwrap_or_else(|| panic!("case {case}: {url} has no valid port but compiled"))
                .unwrap_or(80);
            let (specs, infos) = client_specs(&plan, None).unwrap();
            let dials = connector_dials(&specs[0].dial);
            assert_eq!(
                dials,
                (host.to_string(), expected_port),
                "case {case}: {url}"
            );
            let reported: hyper::Uri = infos[0].dialed.parse().unwrap();
            assert_eq!(connector_dials(&reported), dials, "case {case}: {url}");
            accepted += 1;
        }
        // Both sides of the property were exercised.
        assert!(accepted > 1000 && refused > 300, "{accepted} {refused}");
    }

    /// Issue 11 item 5: `name = "x/../../../escaped-dir"` wrote outside `results/`.
    #[test]
    fn the_results_folder_is_one_sanitized_component_under_results() {
        let names = [
            ("x/../../../escaped-dir", "x-..-..-..-escaped-dir"),
            ("..", ".."),
            ("/", "scenario"),
            ("", "scenario"),
            ("primary down: 2 pods", "primary-down-2-pods"),
            ("<script>alert('x')</script>", "script-alert-x-script"),
            ("café/ñ", "caf"),
            ("a\\b\0c\nd", "a-b-c-d"),
            ("demo", "demo"),
        ];
        for (name, folder) in names {
            let dir = default_out_dir(name);
            let parts: Vec<_> = dir.components().collect();
            assert_eq!(parts.len(), 2, "{name:?} → {dir:?}");
            assert_eq!(parts[0].as_os_str(), "results");
            let std::path::Component::Normal(last) = parts[1] else {
                panic!("{name:?} → {dir:?}");
            };
            let last = last.to_str().unwrap();
            let (stamp, rest) = last.split_once('-').unwrap();
            assert!(stamp.ends_with('Z') && stamp.len() == 16, "{last}");
            assert_eq!(rest, folder, "{name:?}");
            assert!(
                last.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')),
                "{last}"
            );
        }
        assert_eq!(folder_name(&"a".repeat(300)).len(), FOLDER_NAME_MAX);
    }

    #[test]
    fn connect_is_dialled_instead_of_the_url() {
        let text = "[[target]]\nname = \"primary\"\nurl = \"http://bookinfo.example.com:8080/productpage\"\nconnect = \"127.0.0.1:9999\"\n[load]\nrate = 1\nduration = \"1s\"\n";
        let plan =
            crate::scenario::parse(text, Path::new("p.toml"), &Overrides::default(), &|_| None)
                .unwrap();
        let (specs, infos) = client_specs(&plan, None).unwrap();
        assert_eq!(connector_dials(&specs[0].dial), ("127.0.0.1".into(), 9999));
        assert_eq!(infos[0].dialed, "http://127.0.0.1:9999/productpage");
        assert_eq!(specs[0].host, "bookinfo.example.com:8080");
    }
}
