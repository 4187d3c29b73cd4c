//! Command line: `run`, `report`, `merge`, `compare`, `sim` and `classify`. Maps every
//! failure to a documented exit code: 0 finished (SLOs met, or none set), 1
//! an SLO failed (for `compare`: a regression), 2 bad usage or scenario, 3
//! run error, 4 INVALID (the generator could not do what the scenario asked,
//! so nothing was judged), 130 interrupted. JUnit, summary.md and the
//! `$GITHUB_STEP_SUMMARY` append are reports: one that cannot be written is
//! said on stderr and never changes the exit code.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::assess::VerdictStatus;
use crate::run::{RunOptions, run};
use crate::scenario::{self, Overrides};
use crate::sim::{Sim, SimConfig};

pub const EXIT_OK: u8 = 0;
pub const EXIT_SLO_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_RUN_ERROR: u8 = 3;
pub const EXIT_INVALID: u8 = 4;
pub const EXIT_INTERRUPTED: u8 = 130;

const EXAMPLES: &str = "\
Examples:
  meshdrill run scenarios/demo.toml
  meshdrill run scenarios/demo.toml --duration 25s --rate 50 --out results/demo-25s
  meshdrill sim --primary 127.0.0.1:9080 --secondary 127.0.0.1:9081   # in another terminal, then:
  meshdrill run scenarios/throughput-sim.toml --duration 5s --rate 50 --target primary=http://127.0.0.1:9080/productpage
  meshdrill run scenarios/demo.toml --duration 25s --rate 50 --out results/demo-25s-again --junit results/demo-25s-again.junit.xml
  meshdrill compare results/demo-25s results/demo-25s-again --markdown results/compare.md   # exit 0, or 1 if this machine's p99 moved past the tolerance
  meshdrill run scenarios/demo.toml --shard 1/3 --hooks-on 0 --check   # shard 1 of 3 of the plan; shard 0 runs the hooks

Exit codes: 0 finished and every SLO met (or no [slo]: NO SLO), 1 an SLO failed (or a fault hook
failed, or a target never answered), 2 bad usage or scenario, 3 run error, 4 INVALID: the generator
could not do what the scenario asked (late or unsent requests, in-flight cap, local errors, a
second 0 later than --max-skew after --start-at), so nothing was judged; 130 interrupted (results still written).";

#[derive(Debug, Parser)]
#[command(name = "meshdrill", version, about = "Paced synthetic traffic and measured failover for multi-cluster service-mesh drills", after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario: traffic at every target at once, results written as it goes.
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Recompute the outages and the SLO verdict of a results folder, without
    /// sending traffic (e.g. with another recovery window).
    ///
    /// With the run's own rule it redraws report.html and the charts in place; with another rule
    /// it leaves the run's files untouched and writes a complete re-judged set
    /// (summary.json, report.html, charts) into a folder of its own.
    ///
    /// A folder without summary.json (the run was killed, or the disk filled) is
    /// rebuilt from plan.json, timeline.csv, latency.hlog and faults.jsonl: the
    /// summary is written marked `rebuilt` (HTTP statuses, pods and service times
    /// are not in those files), and it is INVALID unless every planned second is on disk.
    #[command(
        after_help = "Example (the folder of the second `meshdrill run --help` example; writes results/demo-25s/rejudged-window-2s-threshold-99.5/):\n  meshdrill report results/demo-25s --window 2s --threshold 99.5\n\nExit codes: 0 SLOs met (or none set), 1 an SLO failed, 2 bad usage (or --out holds an earlier run, without --force), 3 the folder cannot be read (or its summary.json has a missing or malformed `recovery` or `slo`, or it has neither summary.json nor plan.json), 4 INVALID (the generator was limited, or a rebuilt run stopped before its planned end)."
    )]
    Report(ReportArgs),
    /// Merge the results folders of one run's shards (`run --shard I/N --start-at WHEN`)
    /// into one results folder, judged exactly like a single run's.
    ///
    /// Per second per target the timeline rows are added up (counts, the generator's
    /// health, the millisecond edges of failures and successes) and the latency
    /// intervals are added as HdrHistograms, so the merged percentiles are those of one
    /// histogram of every shard's requests; outcome, status, version, cluster, pod and
    /// address counts are summed; faults and markers are those of the shard that ran the
    /// hooks (`--hooks-on`). The planned counts add up to the unsharded plan. A shard that
    /// was INVALID on its own (late or skewed start, generator limited) makes the merge
    /// INVALID, naming the shard. Folders that are not the shards of one run (another
    /// scenario, another N, a shard given twice or missing, another --start-at) are refused.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
    /// Compare a run with a baseline run, or with the history of earlier runs
    /// of the same scenario, and fail on a regression (RTO, availability, p99).
    ///
    /// `meshdrill compare BASELINE_DIR CURRENT_DIR`: per fault, target and scope the RTO,
    /// availability, failures by kind, p50/p99 (whole run and over each fault's window),
    /// versions and clusters served, side by side with the difference.
    ///
    /// `meshdrill compare --history DIR... CURRENT_DIR`: the last folder is the current run,
    /// every other is an earlier run (a shell glob such as results/nightly-* works; the
    /// current run's own folder is left out if the glob names it). The current run is judged
    /// against the history's P95 RTO, P95 p99 and P5 availability with the same tolerances;
    /// earlier runs that are INVALID, interrupted, unreadable or of another scenario are
    /// skipped and counted. With fewer usable runs than --min-history it warns, says how many
    /// it had, and exits 0.
    ///
    /// Two runs are comparable when they ran the same scenario (name), targets and faults
    /// (names, in order); anything else that differs (load, recovery rule, fault times) is
    /// noted. A metric regresses only when it is worse by more than its tolerance AND by
    /// more than its floor, so a one-request blip does not fail CI.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(CompareArgs),
    /// Serve the embedded two-cluster Bookinfo simulator until Ctrl-C.
    #[command(
        after_help = "Example:\n  meshdrill sim --scenario scenarios/demo.toml   # with the scenario's [sim] settings and faults\n  curl http://127.0.0.1:9080/productpage"
    )]
    Sim(SimArgs),
    /// Classify saved responses (files, or - for stdin) as a run would.
    #[command(after_help = CLASSIFY_EXAMPLES)]
    Classify(ClassifyArgs),
    /// Print the JSON Schema (draft 2020-12) of summary.json, for tools that
    /// read results folders; results/summary.schema.json in the repository
    /// is the same text.
    #[command(after_help = "Example:\n  meshdrill schema > summary.schema.json")]
    Schema,
}

const COMPARE_EXAMPLES: &str = "\
Examples (the folders of the `meshdrill run --help` examples):
  meshdrill compare results/demo-25s results/demo-25s-again   # exit 0, or 1 if this machine's p99 moved past the tolerance
  meshdrill compare results/demo-25s results/demo-25s-again --rto-tolerance 20% --p99-tolerance 50% --junit results/compare.junit.xml   # exit 0, or 1 likewise
  meshdrill compare --history results/demo-25s results/demo-25s-again   # one earlier run, fewer than --min-history 10: warns, exit 0

Exit codes: 0 no regression (or, with --history, too few earlier runs: a warning), 1 a
regression (each regressed metric named on its own line), 2 bad input (a folder that does not
exist or cannot be read, an interrupted run, runs of different scenarios, targets or faults),
4 either run is INVALID (or was never judged): its numbers are not the target's.";

const MERGE_EXAMPLES: &str = "\
Examples (two shards of a short throughput run, one after the other, at one past instant: each starts late,
so each shard and the merge are INVALID, exit 4, and name the late shards):
  meshdrill run scenarios/throughput-sim.toml --duration 2s --rate 50 --shard 0/2 --start-at 2026-01-01T00:00:00Z --quiet --out results/throughput-shard-0   # exit 4
  meshdrill run scenarios/throughput-sim.toml --duration 2s --rate 50 --shard 1/2 --start-at 2026-01-01T00:00:00Z --quiet --out results/throughput-shard-1   # exit 4
  meshdrill merge results/throughput-shard-0 results/throughput-shard-1 --out results/throughput-merged   # exit 4: the shards started late

Side by side, second 0 five seconds ahead (judged like one process of the demo):
  at=$(( $(date +%s) * 1000 + 5000 )); for i in 0 1 2; do meshdrill run scenarios/demo.toml --quiet --shard $i/3 --start-at $at --out results/demo-shards/shard-$i & done; wait
  meshdrill merge results/demo-shards/shard-0 results/demo-shards/shard-1 results/demo-shards/shard-2 --out results/demo-merged-3   # exit 0, or 4 if this machine could not pace its share

Exit codes: 0 SLOs met (or none set), 1 an SLO failed, 2 refused (not the shards of one run:
another scenario, shard count or --start-at, a shard given twice or missing, an unsharded
folder; or --out holds an earlier run, without --force), 3 a folder cannot be read (or a
merged file cannot be written), 4 INVALID (a shard was INVALID on its own, or the merged
seconds show the generator limited).";

const CLASSIFY_EXAMPLES: &str = "\
Examples:
  curl -s http://$INGRESS/productpage > page.html && meshdrill classify page.html
  curl -s http://$INGRESS/productpage | meshdrill classify --json -
  meshdrill classify --status 503 --header 'server: envoy' reply.txt

A file that starts with a status line (`HTTP/1.1 503 ...`, as `curl -i` saves
it; CRLF or LF) is a whole response: its status and headers are used (the
last block after a `100 Continue` or a followed redirect), --status is not,
--header values are added to its headers.

Exit codes: 0 every file classified, 2 bad usage or a file that cannot be read.";

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Response bodies, or whole responses saved with `curl -i` (status
    /// line and headers first); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The HTTP status the responses came with (a file's own status line wins).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(100..=999))]
    pub status: u16,
    /// A response header, as `name: value` (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(hyper::header::HeaderName, hyper::header::HeaderValue)>,
    /// One JSON object per file and line, with the fixtures' manifest field names.
    #[arg(long)]
    pub json: bool,
    /// Cluster names and pod patterns from this scenario's [clusters] table
    /// (and "primary"/"secondary" when it has sim: targets).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
}

fn parse_header(
    s: &str,
) -> Result<(hyper::header::HeaderName, hyper::header::HeaderValue), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("expected 'name: value', got {s:?}"))?;
    let name = hyper::header::HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|e| format!("header name {:?}: {e}", name.trim()))?;
    let value = hyper::header::HeaderValue::from_str(value.trim())
        .map_err(|e| format!("header value {:?}: {e}", value.trim()))?;
    Ok((name, value))
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Override load.duration, e.g. 45s or 2m.
    #[arg(long)]
    pub duration: Option<String>,
    /// Override the load: open model at this many requests/s per target.
    #[arg(long, conflicts_with = "concurrency")]
    pub rate: Option<f64>,
    /// Override the load: closed model with this many users per target.
    #[arg(long)]
    pub concurrency: Option<u32>,
    /// Point target NAME at URL (repeatable). Clears the target's `host` and
    /// `connect`, so traffic goes exactly to URL; an unknown NAME adds a target.
    #[arg(long = "target", value_name = "NAME=URL", value_parser = parse_target)]
    pub targets: Vec<(String, String)>,
    /// Results folder (default results/<UTC timestamp>-<scenario name>). A
    /// folder that already holds a run (summary.json, timeline.csv,
    /// faults.jsonl, ...) is refused (exit 2) unless --force.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the earlier run in the results folder: its files are removed
    /// before traffic starts (other files in the folder are kept).
    #[arg(long)]
    pub force: bool,
    /// No per-second lines on stderr (the final table is still printed).
    #[arg(long, short)]
    pub quiet: bool,
    /// Validate the scenario (and overrides) and exit: no traffic, no hooks.
    #[arg(long)]
    pub check: bool,
    /// Make second 0 (what the schedule's offsets count from) this
    /// wall-clock instant: RFC 3339 (2026-12-02T13:00:00Z, offsets allowed)
    /// or Unix milliseconds. The run waits for it (Ctrl-C while waiting
    /// exits 130, nothing sent); one already past starts at once. The
    /// start lag and the clock's NTP state are recorded as `start` in
    /// summary.json and plan.json.
    #[arg(long, value_name = "WHEN", value_parser = crate::run::parse_start_at)]
    pub start_at: Option<std::time::SystemTime>,
    /// With --start-at: a second 0 later than this after WHEN, or a
    /// synchronized clock whose error bound is larger, makes the run
    /// INVALID (exit 4). An unsynchronized clock is reported, not judged.
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = crate::run::parse_max_skew, requires = "start_at")]
    pub max_skew: std::time::Duration,
    /// Also write the verdict as JUnit XML here (one test case per criterion).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Annotate the run on this Grafana (http:// or https:// base URL): the
    /// start, each fault's inject, each fault's window with its RTO and
    /// availability, the end. The token is read from MESHDRILL_GRAFANA_TOKEN
    /// (sent as a Bearer token). A post that fails is reported and changes
    /// neither the verdict nor the exit code.
    #[arg(long, value_name = "URL")]
    pub grafana: Option<String>,
    /// With --grafana: annotate this dashboard (its UID) only.
    #[arg(long, value_name = "UID", requires = "grafana")]
    pub grafana_dashboard: Option<String>,
    /// Serve live Prometheus metrics at http://ADDR/metrics while the run is
    /// on (e.g. 127.0.0.1:9464): requests by outcome, pages by version and
    /// cluster, a latency histogram, updated once a second. Off by default;
    /// a port that cannot be bound is a usage error (exit 2) before traffic.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// With --metrics-listen: keep serving the final values this long after
    /// the run, so a scraper gets the last second (e.g. 5s).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = humantime::parse_duration, requires = "metrics_listen")]
    pub metrics_linger: std::time::Duration,
    /// Send shard I of N of the plan (0 <= I < N): arrival slot (or user)
    /// i when i mod N == I, so N processes together send the unsharded
    /// plan, each judged against its exact share. Default: not sharded.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<crate::engine::schedule::Shard>,
    /// With --shard: the one shard (default 0) that runs fault hook
    /// commands, markers and captures; the others keep the same fault
    /// schedule without running commands.
    #[arg(long, value_name = "I", requires = "shard")]
    pub hooks_on: Option<u32>,
}

/// `--shard I/N`.
fn parse_shard(s: &str) -> Result<crate::engine::schedule::Shard, String> {
    let parsed = s
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
    let Some((index, count)) = parsed else {
        return Err(format!("expected I/N (e.g. 0/3), got {s:?}"));
    };
    crate::engine::schedule::Shard::new(index, count).ok_or_else(|| {
        format!(
            "{s:?}: need N >= 1 and 0 <= I < N (shards 0/N to {}/N)",
            count.max(1) - 1
        )
    })
}

/// The env variable `--grafana`'s token is read from (never a flag, so it
/// is not in the shell's history or `ps`).
pub const GRAFANA_TOKEN_ENV: &str = "MESHDRILL_GRAFANA_TOKEN";

/// `--grafana URL` (and its token and dashboard) as the run posts to them.
fn grafana_plan(args: &RunArgs) -> Result<Option<scenario::GrafanaPlan>, String> {
    let Some(url) = &args.grafana else {
        return Ok(None);
    };
    let parsed: hyper::Uri = url
        .parse()
        .map_err(|e| format!("--grafana {url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() {
        return Err(format!(
            "--grafana {url:?} is not an http:// or https:// URL with a host (e.g. http://127.0.0.1:3000)"
        ));
    }
    if parsed.query().is_some() {
        return Err(format!(
            "--grafana {url:?}: give the base URL, without a query"
        ));
    }
    let token = std::env::var(GRAFANA_TOKEN_ENV)
        .ok()
        .filter(|t| !t.is_empty());
    if token.is_none() {
        eprintln!(
            "meshdrill: warning: {GRAFANA_TOKEN_ENV} is not set: annotations are posted without Authorization (Grafana will likely refuse them)"
        );
    }
    Ok(Some(scenario::GrafanaPlan {
        url: parsed,
        token,
        dashboard_uid: args.grafana_dashboard.clone(),
    }))
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A folder written by `meshdrill run`.
    pub dir: PathBuf,
    /// Recovery window (whole seconds of good availability), e.g. 10s.
    #[arg(long)]
    pub window: Option<String>,
    /// Availability (percent) a second needs to count as good.
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Where the re-judged summary.json, report.html and charts go (default
    /// DIR/rejudged-window-<N>s-threshold-<T>/ when --window or --threshold
    /// differ from the run's rule; with the run's own rule, DIR itself). A
    /// folder that already holds a run or a re-judgement is refused (exit 2)
    /// unless --force.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the earlier run or re-judgement in --out (its files are removed first).
    #[arg(long)]
    pub force: bool,
    /// Also write the verdict as JUnit XML here (one test case per criterion).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Every shard's results folder (each written by `meshdrill run --shard I/N`).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// The merged results folder. One that already holds a run is refused (exit 2)
    /// unless --force.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the earlier run in --out (its files are removed first).
    #[arg(long)]
    pub force: bool,
    /// Also write the verdict as JUnit XML here (one test case per criterion).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// BASELINE_DIR CURRENT_DIR; with --history, earlier runs' folders then
    /// CURRENT_DIR last.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Judge the last DIR against the percentiles of all the others.
    #[arg(long)]
    pub history: bool,
    /// With --history: fewer usable earlier runs than this warns and exits 0.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub min_history: usize,
    /// How much longer an RTO may be, relative (e.g. 10%).
    #[arg(long, default_value = "10%", value_parser = crate::compare::tolerance::parse_percent, value_name = "PCT")]
    pub rto_tolerance: f64,
    /// An RTO longer by at most this is never a regression.
    #[arg(long, default_value = "1s", value_parser = crate::compare::tolerance::parse_floor, value_name = "DURATION")]
    pub rto_floor: std::time::Duration,
    /// How much higher a p99 latency may be, relative.
    #[arg(long, default_value = "25%", value_parser = crate::compare::tolerance::parse_percent, value_name = "PCT")]
    pub p99_tolerance: f64,
    /// A p99 higher by at most this is never a regression.
    #[arg(long, default_value = "5ms", value_parser = crate::compare::tolerance::parse_floor, value_name = "DURATION")]
    pub p99_floor: std::time::Duration,
    /// How far availability may fall, in percentage points (e.g. 0.5 or 0.5pp).
    #[arg(long, default_value = "0.5", value_parser = crate::compare::tolerance::parse_points, value_name = "PP")]
    pub availability_tolerance: f64,
    /// An availability drop of at most this many more failed requests is never a regression.
    #[arg(long, default_value_t = crate::compare::tolerance::FAILED_FLOOR, value_name = "N")]
    pub failed_floor: u64,
    /// Also write the comparison as Markdown here.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write the comparison as JUnit XML here (one test case per gated metric).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Listen address of the primary cluster's ingress.
    #[arg(long, default_value = "127.0.0.1:9080")]
    pub primary: SocketAddr,
    /// Listen address of the secondary cluster's ingress.
    #[arg(long, default_value = "127.0.0.1:9081")]
    pub secondary: SocketAddr,
    /// Take [sim] settings and the [[fault]] schedule from this scenario
    /// (fault times count from the simulator's start).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// On SIGHUP, apply the faults this file names, one per line:
    /// `primary latency 200ms`, `secondary down`, `primary restore`.
    #[arg(long, value_name = "FILE")]
    pub control: Option<PathBuf>,
}

fn parse_target(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, url)) if !name.is_empty() && !url.is_empty() => {
            Ok((name.to_string(), url.to_string()))
        }
        _ => Err(format!("expected NAME=URL, got {s:?}")),
    }
}

fn schema_command() -> u8 {
    let text = crate::results::schema::summary_schema_text();
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("meshdrill: cannot write the schema: {e}");
            EXIT_RUN_ERROR
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("meshdrill: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_RUN_ERROR);
        }
    };
    let code = match cli.command {
        Command::Run(args) => runtime.block_on(run_command(args)),
        Command::Sim(args) => runtime.block_on(sim_command(args)),
        Command::Report(args) => report_command(args),
        Command::Merge(args) => merge_command(args),
        Command::Compare(args) => compare_command(args),
        Command::Classify(args) => classify_command(args),
        Command::Schema => schema_command(),
    };
    ExitCode::from(code)
}

async fn run_command(args: RunArgs) -> u8 {
    let shard = args.shard.unwrap_or(crate::engine::schedule::Shard::WHOLE);
    let hooks_on = args.hooks_on.unwrap_or(0);
    if hooks_on >= shard.count {
        eprintln!(
            "meshdrill: --hooks-on {hooks_on}: must name one of the {} shard(s), 0 to {}",
            shard.count,
            shard.count - 1
        );
        return EXIT_USAGE;
    }
    let grafana = match grafana_plan(&args) {
        Ok(grafana) => grafana,
        Err(message) => {
            eprintln!("meshdrill: {message}");
            return EXIT_USAGE;
        }
    };
    let overrides = Overrides {
        duration: args.duration,
        rate: args.rate,
        concurrency: args.concurrency,
        targets: args.targets,
    };
    let checked = match scenario::load_checked(&args.scenario, &overrides) {
        Ok(checked) => checked,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    for warning in &checked.warnings {
        let mut warning = warning.clone();
        warning.key = format!("warning: {}", warning.key);
        eprintln!("{warning}");
    }
    let mut plan = checked.plan;
    plan.grafana = grafana;
    plan.start_at = args.start_at.map(|at| scenario::StartAtPlan {
        at,
        max_skew: args.max_skew,
    });
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| crate::run::default_out_dir(&plan.name));
    if let Err(code) = claim_out_dir(&out_dir, args.force, args.check) {
        return code;
    }
    if args.check {
        let missing =
            scenario::missing_programs(&checked.programs, std::env::var_os("PATH").as_deref());
        for problem in &missing {
            eprintln!("{problem}");
        }
        let tls = crate::run::tls_file_problems(&plan);
        for problem in &tls {
            eprintln!("{}: {problem}", args.scenario.display());
        }
        if !missing.is_empty() || !tls.is_empty() {
            return EXIT_USAGE;
        }
        for (scope, cluster) in plan.slo_clusters_never_served() {
            eprintln!(
                "{}: warning: [slo] for {scope} names cluster {cluster:?}, which no page of this run can come from (every target is sim:, whose pages name only \"primary\" or \"secondary\"; add it to [clusters] if pods map to it)",
                args.scenario.display()
            );
        }
        let sharded = if shard.is_whole() {
            String::new()
        } else {
            format!(", {shard} (hooks on shard {hooks_on})")
        };
        println!(
            "{}: ok — {} target(s), {} fault(s), {:?} of traffic{sharded}",
            args.scenario.display(),
            plan.targets.len(),
            plan.faults.len(),
            plan.load.warmup + plan.load.duration
        );
        if let Some(evidence) = &plan.evidence {
            println!(
                "evidence: {} quer{} of {} after traffic (each within {:?}; not sent with --check):",
                evidence.queries.len(),
                if evidence.queries.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                evidence.prometheus,
                evidence.timeout
            );
            for q in &evidence.queries {
                println!("  {}: {}", q.name, q.promql);
            }
        }
        if let Some(start) = &plan.start_at {
            println!(
                "second 0 at {} (--start-at; max skew {:?}): not waited for with --check",
                humantime::format_rfc3339_millis(start.at),
                start.max_skew
            );
        }
        return EXIT_OK;
    }
    let metrics = match args.metrics_listen.map(crate::metrics::serve::bind) {
        None => None,
        Some(Ok(listener)) => Some(listener),
        Some(Err(message)) => {
            eprintln!("meshdrill: {message}");
            return EXIT_USAGE;
        }
    };
    let metrics_state = metrics
        .as_ref()
        .map(|_| crate::metrics::MetricsState::new());
    let metrics_stop = CancellationToken::new();
    let metrics_server = match (metrics, &metrics_state) {
        (Some(listener), Some(state)) => {
            match crate::metrics::serve::spawn(listener, state.clone(), metrics_stop.clone()) {
                Ok(server) => Some(server),
                Err(e) => {
                    eprintln!("meshdrill: --metrics-listen: {e}");
                    return EXIT_USAGE;
                }
            }
        }
        _ => None,
    };
    if !shard.is_whole() {
        let hooks = if shard.index == hooks_on {
            "this shard runs the hooks, markers and captures".to_string()
        } else {
            format!("shard {hooks_on} runs the hooks, markers and captures")
        };
        eprintln!("meshdrill: {shard}: sending its share of the plan; {hooks}");
    }
    let stop = CancellationToken::new();
    watch_interrupts(stop.clone());
    let options = RunOptions {
        plan,
        out_dir: Some(out_dir),
        quiet: args.quiet,
        lanes_per_target: None,
        markers: true,
        metrics: metrics_state,
        shard,
        hooks_on,
    };
    let result = run(options, stop).await;
    if let Some(server) = metrics_server {
        tokio::time::sleep(args.metrics_linger).await;
        metrics_stop.cancel();
        let _ = server.await;
    }
    match result {
        Ok(output) => {
            let table =
                crate::report::table::table(&output.summary, &output.out_dir.display().to_string());
            // A closed stdout (piped into `head`) is not a failed drill.
            let _ = std::io::stdout().write_all(table.as_bytes());
            verdict_reports(&output.summary, &output.out_dir, args.junit.as_deref());
            if output.summary.interrupted {
                EXIT_INTERRUPTED
            } else {
                output
                    .summary
                    .verdict
                    .as_ref()
                    .map_or(EXIT_OK, |v| verdict_exit(v.status))
            }
        }
        Err(e @ crate::run::RunError::InterruptedBeforeStart) => {
            eprintln!("meshdrill: {e}");
            EXIT_INTERRUPTED
        }
        Err(e @ crate::run::RunError::TlsFile { .. }) => {
            eprintln!("{}: {e}", args.scenario.display());
            EXIT_USAGE
        }
        Err(e) => {
            eprintln!("meshdrill: {e}");
            EXIT_RUN_ERROR
        }
    }
}

/// A results folder holding an earlier run would mix two runs' files (the
/// fault journal is appended to): refused, or with `--force` emptied of that
/// run's files first. `check` only says what a run would do.
fn claim_out_dir(dir: &std::path::Path, force: bool, check: bool) -> Result<(), u8> {
    let shown = dir.display();
    let earlier = crate::results::folder::earlier_run(dir).map_err(|e| {
        eprintln!("meshdrill: --out {shown}: cannot read the results folder: {e}");
        EXIT_USAGE
    })?;
    if earlier.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = earlier
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if !force {
        eprintln!(
            "meshdrill: {shown} holds an earlier run ({}): choose another --out, or add --force to replace that run",
            names.join(", ")
        );
        return Err(EXIT_USAGE);
    }
    if check {
        eprintln!(
            "meshdrill: {shown} holds an earlier run; --force will remove its {} file(s) before traffic starts",
            names.len()
        );
        return Ok(());
    }
    for path in &earlier {
        if let Err(e) = std::fs::remove_file(path) {
            eprintln!(
                "meshdrill: --force: cannot remove {} of the earlier run: {e}; nothing was sent",
                path.display()
            );
            return Err(EXIT_RUN_ERROR);
        }
    }
    Ok(())
}

/// The documented exit code of a verdict.
pub fn verdict_exit(status: VerdictStatus) -> u8 {
    match status {
        VerdictStatus::Pass | VerdictStatus::NoSlo => EXIT_OK,
        VerdictStatus::Fail => EXIT_SLO_FAILED,
        VerdictStatus::Invalid => EXIT_INVALID,
    }
}

fn report_command(args: ReportArgs) -> u8 {
    use crate::report::rejudge::{RejudgeError, RejudgeOptions, rejudge};
    let opts = RejudgeOptions {
        dir: args.dir.clone(),
        window: args.window,
        threshold: args.threshold,
        out: args.out.clone(),
        force: args.force,
    };
    match rejudge(&opts) {
        Ok(judged) => {
            for warning in &judged.warnings {
                eprintln!("meshdrill: {warning}");
            }
            let _ = std::io::stdout().write_all(judged.text.as_bytes());
            verdict_reports(&judged.summary, &judged.out_dir, args.junit.as_deref());
            verdict_exit(judged.status)
        }
        Err(e) => {
            eprintln!("meshdrill: {e}");
            match e {
                RejudgeError::Usage(_) => EXIT_USAGE,
                RejudgeError::Load(_) | RejudgeError::NoSummary(_) | RejudgeError::Write(_) => {
                    EXIT_RUN_ERROR
                }
            }
        }
    }
}

fn merge_command(args: MergeArgs) -> u8 {
    use crate::merge::{MergeError, MergeOptions, merge};
    let opts = MergeOptions {
        dirs: args.dirs,
        out: args.out,
        force: args.force,
    };
    match merge(&opts) {
        Ok(merged) => {
            for warning in &merged.warnings {
                eprintln!("meshdrill: {warning}");
            }
            let _ = std::io::stdout().write_all(merged.text.as_bytes());
            verdict_reports(&merged.summary, &merged.out_dir, args.junit.as_deref());
            verdict_exit(merged.status)
        }
        Err(e) => {
            eprintln!("meshdrill merge: {e}");
            match e {
                MergeError::Refused(_) => EXIT_USAGE,
                MergeError::Load(_) | MergeError::Write(_) => EXIT_RUN_ERROR,
            }
        }
    }
}

/// The JUnit file (`--junit`) and the step summary of a judged run; each
/// that cannot be written is said on stderr, and the exit code stays the
/// verdict's.
fn verdict_reports(
    summary: &crate::results::Summary,
    dir: &std::path::Path,
    junit: Option<&std::path::Path>,
) {
    use crate::report::{junit as xml, markdown};
    if let Some(path) = junit
        && let Err(e) = xml::write(path, &[xml::verdict_suite(summary)])
    {
        eprintln!("meshdrill: JUnit not written: {e}");
    }
    let text = markdown::summary_md(summary, &dir.display().to_string());
    if let Some(Err(e)) = markdown::append_to_step_summary(&text) {
        eprintln!("meshdrill: step summary not written: {e}");
    }
}

fn compare_command(args: CompareArgs) -> u8 {
    use crate::compare::{Tolerances, against_history, compare, select, unjudgeable};
    use crate::report::{compare as show, junit as xml, markdown};
    use crate::results::Results;

    let tolerances = Tolerances {
        rto: crate::compare::Gate {
            relative_pct: args.rto_tolerance,
            floor: args.rto_floor.as_secs_f64() * 1000.0,
        },
        p99: crate::compare::Gate {
            relative_pct: args.p99_tolerance,
            floor: args.p99_floor.as_secs_f64() * 1000.0,
        },
        availability: crate::compare::AvailabilityGate {
            points: args.availability_tolerance,
            failed_floor: args.failed_floor,
        },
    };
    let junit = |suite: xml::Suite| {
        if let Some(path) = &args.junit
            && let Err(e) = xml::write(path, &[suite])
        {
            eprintln!("meshdrill: JUnit not written: {e}");
        }
    };
    // Bad input (exit 2) before anything is judged.
    let (current_dir, earlier) = match (args.history, args.dirs.as_slice()) {
        (false, [baseline, current]) => (current, std::slice::from_ref(baseline)),
        (false, _) => {
            eprintln!(
                "meshdrill: compare takes BASELINE_DIR CURRENT_DIR ({} folder(s) given); to judge against several earlier runs, add --history",
                args.dirs.len()
            );
            return EXIT_USAGE;
        }
        (true, [earlier @ .., current]) => (current, earlier),
        (true, []) => unreachable!("clap requires a DIR"),
    };
    let load = |dir: &std::path::Path| -> Result<Results, u8> {
        if !dir.is_dir() {
            eprintln!("meshdrill: {}: no such results folder", dir.display());
            return Err(EXIT_USAGE);
        }
        Results::load(dir).map_err(|e| {
            eprintln!("meshdrill: cannot compare {}: {e}", dir.display());
            EXIT_USAGE
        })
    };
    let current = match load(current_dir) {
        Ok(current) => current,
        Err(code) => return code,
    };
    let scenario = current.summary.scenario.name.clone();
    let comparison = if args.history {
        let mut history = Vec::new();
        let mut own = 0;
        for dir in earlier {
            if !dir.is_dir() {
                eprintln!(
                    "meshdrill: --history {}: no such results folder",
                    dir.display()
                );
                return EXIT_USAGE;
            }
            if same_folder(dir, current_dir) {
                own += 1;
                continue;
            }
            history.push((dir.clone(), Results::load(dir)));
        }
        if own > 0 {
            eprintln!(
                "meshdrill: the current run {} is not part of its own history: left out",
                current_dir.display()
            );
        }
        if let Some(why) = unjudgeable(&current.summary) {
            eprintln!(
                "meshdrill: {} cannot be judged: {why}",
                current_dir.display()
            );
            junit(xml::error_suite(&scenario, &why));
            return EXIT_INVALID;
        }
        let (usable, skipped) = select(&current, history);
        against_history(&current, &usable, skipped, &tolerances, args.min_history)
    } else {
        let baseline = match load(&earlier[0]) {
            Ok(baseline) => baseline,
            Err(code) => return code,
        };
        if let Err(why) = crate::compare::comparable(&baseline.summary, &current.summary) {
            eprintln!(
                "meshdrill: {} and {} cannot be compared: {why}",
                earlier[0].display(),
                current_dir.display()
            );
            return EXIT_USAGE;
        }
        for (run, dir) in [(&baseline, &earlier[0]), (&current, current_dir)] {
            if let Some(why) = unjudgeable(&run.summary) {
                eprintln!("meshdrill: {} cannot be compared: {why}", dir.display());
                junit(xml::error_suite(
                    &scenario,
                    &format!("{}: {why}", dir.display()),
                ));
                return EXIT_INVALID;
            }
        }
        match compare(&baseline, &current, &tolerances) {
            Ok(c) => c,
            Err(why) => {
                eprintln!("meshdrill: cannot compare: {why}");
                return EXIT_USAGE;
            }
        }
    };
    let _ = std::io::stdout().write_all(show::console(&comparison).as_bytes());
    if !comparison.judged {
        eprintln!("meshdrill: {}", show::outcome_line(&comparison));
    }
    let md = show::markdown(&comparison);
    if let Some(path) = &args.markdown
        && let Err(e) = crate::results::write_atomic(path, md.as_bytes())
    {
        eprintln!("meshdrill: Markdown not written: {e}");
    }
    junit(xml::comparison_suite(&comparison));
    if let Some(Err(e)) = markdown::append_to_step_summary(&md) {
        eprintln!("meshdrill: step summary not written: {e}");
    }
    if comparison.regressed() {
        EXIT_SLO_FAILED
    } else {
        EXIT_OK
    }
}

/// True when both paths name one folder.
fn same_folder(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

async fn sim_command(args: SimArgs) -> u8 {
    let plan = match &args.scenario {
        Some(path) => match scenario::load(path, &Overrides::default()) {
            Ok(plan) => Some(plan),
            Err(e) => {
                eprintln!("{e}");
                return EXIT_USAGE;
            }
        },
        None => None,
    };
    let config = plan
        .as_ref()
        .map_or_else(SimConfig::default, |p| p.sim.clone());
    let sim = match Sim::start(config, args.primary, args.secondary).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("meshdrill: cannot start the simulator: {e}");
            if e.kind() == std::io::ErrorKind::AddrInUse {
                eprintln!(
                    "meshdrill: choose a free port with --primary ADDR / --secondary ADDR (now {} and {}), or port 0 (e.g. --primary 127.0.0.1:0) for any free one",
                    args.primary, args.secondary
                );
            }
            return EXIT_RUN_ERROR;
        }
    };
    for cluster in crate::sim::Cluster::ALL {
        eprintln!(
            "{} ingress: http://{}/productpage",
            cluster.name(),
            sim.addr(cluster)
        );
    }
    eprintln!("Ctrl-C to stop");
    let stop = CancellationToken::new();
    watch_interrupts(stop.clone());
    // The scenario's schedule and the control file drive the faults side by side.
    let watching = crate::drill::drive_sim(&sim, plan.as_ref(), args.control, stop.clone()).await;
    if let Err(e) = watching {
        eprintln!("meshdrill sim: cannot watch for SIGHUP: {e}");
        sim.shutdown().await;
        return EXIT_RUN_ERROR;
    }
    stop.cancelled().await;
    sim.shutdown().await;
    EXIT_OK
}

fn classify_command(args: ClassifyArgs) -> u8 {
    use crate::classify::{Classifier, ClassifyConfig, Reading};
    let config = match &args.scenario {
        Some(path) => match scenario::load(path, &Overrides::default()) {
            Ok(plan) => ClassifyConfig::from_plan(&plan),
            Err(e) => {
                eprintln!("{e}");
                return EXIT_USAGE;
            }
        },
        None => ClassifyConfig::default(),
    };
    let mut headers = hyper::HeaderMap::new();
    for (name, value) in args.headers {
        headers.append(name, value);
    }
    // One classifier for all files, like one lane: a pod seen twice is one entry.
    let mut classifier = Classifier::new(&config);
    let mut code = EXIT_OK;
    let mut out = std::io::stdout().lock();
    for file in &args.files {
        let shown = file.display().to_string();
        let body = if shown == "-" {
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut body).map(|_| body)
        } else {
            std::fs::read(file)
        };
        let body = match body {
            Ok(body) => body,
            Err(e) => {
                eprintln!("meshdrill: cannot read {shown}: {e}");
                code = EXIT_USAGE;
                continue;
            }
        };
        let (kind, page) = match classifier.classify_file(&body, args.status, &headers) {
            Ok(classified) => classified,
            Err(e) => {
                eprintln!("meshdrill: {shown}: {e}");
                code = EXIT_USAGE;
                continue;
            }
        };
        let reading = Reading::new(shown, kind, &page, &classifier);
        let line = if args.json {
            serde_json::to_string(&reading).expect("a Reading always serializes")
        } else {
            reading.line()
        };
        // A closed stdout (piped into `head`) ends the listing, not in error.
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    code
}

/// The first Ctrl-C or SIGTERM stops the run cleanly, results still
/// written; a second one of either quits at once, as Kubernetes and systemd
/// expect (TERM, then KILL after a grace), killing the hooks' process groups
/// first so no hook outlives meshdrill.
fn watch_interrupts(stop: CancellationToken) {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    // Installed before returning, so no signal finds the default handler.
    let mut int = signal(SignalKind::interrupt()).ok();
    let mut term = signal(SignalKind::terminate()).ok();
    tokio::spawn(async move {
        async fn next(signal: &mut Option<Signal>) {
            match signal.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            _ = next(&mut int) => {}
            _ = next(&mut term) => {}
        }
        eprintln!(
            "meshdrill: interrupted — stopping cleanly (Ctrl-C or SIGTERM again to quit at once)"
        );
        stop.cancel();
        tokio::select! {
            _ = next(&mut int) => {}
            _ = next(&mut term) => {}
        }
        crate::drill::kill_all_now();
        eprintln!("meshdrill: quitting at once (results of the last seconds may be missing)");
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
}
