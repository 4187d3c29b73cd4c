//! One run, end to end, as the sequence it is: the results folder (and
//! plan.json), the start captures (`[[capture]]`, before any traffic), the
//! engine started on one clock ([`start`]) with the `--grafana` annotator,
//! the recording with the faults and markers beside it ([`record`]), the
//! end captures, the totals finished into the typed summary ([`finish`]),
//! the assessment ([`judge`]), the faults' annotations, the `[evidence]`
//! queries of the users' Prometheus, and the charts and
//! report.html ([`render`]). Tests drive whole runs through [`run`]
//! in-process.

mod finish;
mod folder;
mod judge;
mod record;
mod render;
mod start;
mod start_at;

pub use folder::default_out_dir;
pub use start::tls_file_problems;
pub use start_at::{clock_status, parse_max_skew, parse_start_at};

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use crate::classify::ClassifyConfig;
use crate::engine::clock::RunClock;
use crate::engine::limits;
use crate::record::AddressRegistry;
use crate::report::Writers;
use crate::results::summary::Summary;
use crate::results::{LoadError, WriteError};
use crate::scenario::{LoadModel, Plan};
use crate::sim::Sim;

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
    /// `--metrics-listen`: the live metrics each finished second feeds.
    pub metrics: Option<std::sync::Arc<crate::metrics::MetricsState>>,
    /// `--shard I/N`: this process sends its exact share of the plan.
    pub shard: crate::engine::schedule::Shard,
    /// `--hooks-on I`: the one shard that runs hook commands, markers and
    /// captures (the others keep the same fault schedule, without commands).
    pub hooks_on: u32,
}

impl RunOptions {
    /// This process runs the hook commands, markers and captures.
    pub fn runs_hooks(&self) -> bool {
        self.shard.index == self.hooks_on
    }
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
            metrics: None,
            shard: crate::engine::schedule::Shard::WHOLE,
            hooks_on: 0,
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
    /// A `ca`, `cert` or `key` file that cannot be used: a scenario error,
    /// found when the run starts, before any traffic.
    #[error("target {target}: {error}")]
    TlsFile {
        target: String,
        error: crate::engine::tls::TlsFileError,
    },
    #[error("cannot create the open model's send timer (timerfd): {0}")]
    Alarm(String),
    /// Ctrl-C while waiting for `--start-at`: nothing was sent.
    #[error("interrupted while waiting for --start-at: nothing was sent")]
    InterruptedBeforeStart,
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
        let needed = limits::files_for_users(u64::from(users.get()), &start::fds_per_request(plan));
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
        let [primary, secondary] = plan.sim.listen.unwrap_or([any, any]);
        Some(
            Sim::start(plan.sim.clone(), primary, secondary)
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

/// [`run`] against a simulator the caller started and keeps (its sim
/// targets and faults go to it): for a test that must know the sim's
/// addresses before the run, e.g. to have a Prometheus scrape them.
pub async fn run_on(
    opts: RunOptions,
    sim: &Sim,
    stop: CancellationToken,
) -> Result<RunOutput, RunError> {
    limits::raise_open_files_limit();
    run_with(&opts, Some(sim), stop).await
}

async fn run_with(
    opts: &RunOptions,
    sim: Option<&Sim>,
    stop: CancellationToken,
) -> Result<RunOutput, RunError> {
    let plan = &opts.plan;
    let out_dir = folder::create(opts.out_dir.as_deref(), plan)?;
    let write_err = |source: io::Error| RunError::Write {
        path: out_dir.clone(),
        source,
    };
    let (mut specs, mut infos) = start::client_specs(plan, sim)?;
    for info in &infos {
        if info.transport.tls.as_ref().is_some_and(|t| t.insecure) {
            eprintln!(
                "meshdrill: warning: target {}: insecure = true: the server's certificate is NOT verified",
                info.name
            );
        }
    }
    // Before any traffic, so the folder explains itself whatever happens next.
    let shard = (!opts.shard.is_whole()).then_some(opts.shard);
    folder::write_plan(&out_dir, plan, &infos, None, shard)?;
    // Sharded, one process captures: the one running the hooks.
    let capture_plans = if opts.runs_hooks() {
        &plan.captures[..]
    } else {
        &[]
    };
    // The mesh as it was before any traffic; an interrupt cuts it short.
    let mut captures = crate::results::captures::CaptureIndex::default();
    crate::drill::captures::run_captures(
        capture_plans,
        crate::scenario::CaptureWhen::Start,
        &out_dir,
        &mut captures,
        &stop,
    )
    .await;

    let classify = ClassifyConfig::from_plan(plan);
    let clusters = start::cluster_registry(plan, &classify);
    let addresses = AddressRegistry::new();
    let names: Vec<String> = plan.targets.iter().map(|t| t.name.clone()).collect();
    let (clock, start_info) = match &plan.start_at {
        None => (RunClock::starting_in(start::CLOCK_LEAD), None),
        Some(at) => {
            let Some((clock, mut info)) = start_at::clock_at(at, start::CLOCK_LEAD, &stop).await
            else {
                return Err(RunError::InterruptedBeforeStart);
            };
            info.notes = start_at::start_notes(&info);
            for note in &info.notes {
                eprintln!("meshdrill: warning: {note}");
            }
            folder::write_plan(&out_dir, plan, &infos, Some(&info), shard)?;
            (clock, Some(info))
        }
    };
    // `--grafana`: posted off the hot path, never awaited before the end;
    // sharded, by the shard running the hooks only (one set per drill).
    let grafana = plan.grafana.as_ref().filter(|_| opts.runs_hooks());
    let annotator = crate::annotate::Annotator::start(grafana, &plan.name, clock);
    if let Some(annotator) = &annotator {
        annotator.run_started();
    }
    let mut writers = Writers::create(
        &out_dir,
        &names,
        clusters.clone(),
        addresses.clone(),
        clock.epoch,
        opts.quiet,
        plan.load.max_late_pct,
    )
    .map_err(write_err)?;
    writers.metrics = opts
        .metrics
        .clone()
        .map(|state| crate::metrics::Feed::new(state, &names, clusters.clone()));
    // Lanes stop on the user's interrupt or when writing results fails.
    let engine = start::start_engine(
        opts,
        &mut specs,
        &mut infos,
        &classify,
        start::Registries {
            clusters: &clusters,
            addresses: &addresses,
        },
        clock,
        stop.child_token(),
    )?;
    let open_files_limit = engine.open_files_limit;
    let locations = engine.locations.clone();
    let clients = engine.clients.clone();
    // The console in run-clock order until the run returns.
    let _live = crate::live::start(engine.end, opts.quiet);

    let recorded = record::record(
        opts,
        sim,
        engine,
        clock,
        &mut writers,
        &out_dir,
        &stop,
        annotator.as_ref(),
    )
    .await
    .map_err(write_err)?;
    // The mesh as the traffic left it, before anything is judged; each
    // capture has its own timeout, so this ends even after an interrupt.
    crate::drill::captures::run_captures(
        capture_plans,
        crate::scenario::CaptureWhen::End,
        &out_dir,
        &mut captures,
        &CancellationToken::new(),
    )
    .await;
    for (info, client) in infos.iter_mut().zip(&clients) {
        info.http_versions = client
            .versions()
            .into_iter()
            .map(|(v, n)| (v.to_string(), n))
            .collect();
        info.tls_handshake_ms = client.handshake_times();
    }
    let mut summary = finish::finish(
        &out_dir,
        plan,
        &infos,
        finish::Slots {
            clusters: &clusters.names(),
            addresses: &addresses.names(),
            locations: &locations.names(),
        },
        clock,
        open_files_limit,
        recorded,
        shard,
    )?;
    summary.start = start_info;
    let (mut results, assessment) = judge::judge(&out_dir, plan, summary)?;
    if let Some(annotator) = annotator {
        let s = &results.summary;
        let ended_ms = s.requests_ended_ms.unwrap_or(f64::from(s.seconds) * 1000.0);
        annotator.run_ended(&s.faults, &s.outages, ended_ms);
        results.annotations = Some(annotator.finish(&out_dir).await);
    }
    // `[evidence]`: the mesh's view, by the shard running the hooks (one
    // set per drill); read back as `meshdrill report` will read it.
    if let Some(evidence) = plan.evidence.as_ref().filter(|_| opts.runs_hooks()) {
        let s = &results.summary;
        let window = crate::evidence::RunWindow {
            start_unix_ms: s.start_unix_ms,
            ended_ms: s.requests_ended_ms.unwrap_or(f64::from(s.seconds) * 1000.0),
        };
        crate::evidence::collect(evidence, window, &out_dir).await;
        match crate::results::evidence::read(&out_dir) {
            Ok(read) => results.evidence = read,
            Err(e) => eprintln!("meshdrill: {e}"),
        }
    }
    render::render(&out_dir, &results, &assessment);
    Ok(RunOutput {
        out_dir,
        summary: results.summary,
    })
}
