//! The compiled plan: what a validated scenario file (plus CLI overrides)
//! means, in types that cannot hold an invalid value. Everything downstream
//! (engine, sim, record, report) reads only this, never the raw file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::sim::{Cluster, SimConfig, SimFault};

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Scenario name: the file's `name` key, else its file stem.
    pub name: String,
    /// The scenario's `description`: what the drill is for, shown in
    /// report.html so a results folder says what it tested.
    pub description: Option<String>,
    /// The file it was read from (for messages and summary.json).
    pub source: PathBuf,
    pub targets: Vec<TargetPlan>,
    pub load: LoadPlan,
    /// Sorted by `at`.
    pub faults: Vec<FaultPlan>,
    /// How the embedded simulator behaves when any target is `sim:...`.
    pub sim: SimConfig,
    /// `[recovery]`: when a target counts as recovered (default 5 s at 99 %).
    pub recovery: RecoveryRule,
    /// `[slo]`: the pass/fail criteria (default: none).
    pub slo: SloPlan,
    /// `[clusters]`: cluster names and the reviews pod names that belong to
    /// each, in file order (the first matching rule wins), for pages that
    /// do not name their cluster.
    pub clusters: Vec<ClusterRule>,
    /// `[dns]`: where host names are resolved, and the TTL clamps.
    pub dns: DnsPlan,
    /// `[[capture]]`: commands whose output is kept with the results.
    pub captures: Vec<CapturePlan>,
    /// `[evidence]`: the Prometheus queried after traffic, and what.
    pub evidence: Option<EvidencePlan>,
    /// `run --grafana URL`: where fault windows are annotated (not a
    /// scenario key: set by the command line).
    pub grafana: Option<GrafanaPlan>,
    /// `run --start-at WHEN`: the wall-clock second 0 (not a scenario key:
    /// set by the command line).
    pub start_at: Option<StartAtPlan>,
}

/// `--start-at` with its `--max-skew`: shards on several machines share
/// one wall-clock second 0, and a shard that missed it by more than the
/// skew cannot be lined up with the others.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StartAtPlan {
    pub at: std::time::SystemTime,
    pub max_skew: std::time::Duration,
}

/// One `[[capture]]`: a command run before traffic and/or after it, whose
/// output travels with the RTO (the mesh's failover settings, say).
#[derive(Clone, Debug, PartialEq)]
pub struct CapturePlan {
    /// Unique; names its files (`captures/<name>-start.txt`).
    pub name: String,
    /// Always an argv (run without a shell, `${VAR}` resolved when it runs).
    pub command: HookCommand,
    pub when: CaptureWhen,
    /// Killed (its process group) after this long.
    pub timeout: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureWhen {
    Start,
    End,
    Both,
}

impl CaptureWhen {
    /// Whether a capture runs at `phase` ("start" or "end").
    pub fn includes(self, phase: CaptureWhen) -> bool {
        self == CaptureWhen::Both || self == phase
    }

    pub fn word(self) -> &'static str {
        match self {
            CaptureWhen::Start => "start",
            CaptureWhen::End => "end",
            CaptureWhen::Both => "both",
        }
    }
}

/// `[evidence]`: range queries of the users' Prometheus over the run's
/// seconds, evaluated once traffic has stopped, kept as `evidence/`.
#[derive(Clone, Debug, PartialEq)]
pub struct EvidencePlan {
    /// The base URL as given (`http://127.0.0.1:9090`); queried at
    /// `{url}/api/v1/query_range`.
    pub prometheus: hyper::Uri,
    /// At least one: the file's `[[evidence.query]]`, else the defaults.
    pub queries: Vec<EvidenceQuery>,
    /// Each query's bound, connect to the whole answer.
    pub timeout: Duration,
}

/// One named PromQL expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceQuery {
    /// Unique, file-name safe: names `evidence/<name>.csv`.
    pub name: String,
    pub promql: String,
}

/// Grafana's annotations API: `POST {url}/api/annotations`.
#[derive(Clone, PartialEq)]
pub struct GrafanaPlan {
    /// The Grafana base URL as given (`http://127.0.0.1:3000`).
    pub url: hyper::Uri,
    /// `MESHDRILL_GRAFANA_TOKEN`, sent as `Authorization: Bearer`.
    pub token: Option<String>,
    /// `--grafana-dashboard UID`: annotate that dashboard only (default:
    /// an organization-wide annotation).
    pub dashboard_uid: Option<String>,
}

/// Never prints the token.
impl std::fmt::Debug for GrafanaPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrafanaPlan")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .field("dashboard_uid", &self.dashboard_uid)
            .finish()
    }
}

impl Plan {
    /// True when at least one target is the embedded simulator.
    pub fn uses_sim(&self) -> bool {
        self.targets
            .iter()
            .any(|t| matches!(t.endpoint, Endpoint::Sim { .. }))
    }

    /// `(scope, cluster)` for each cluster an SLO names that no page of this
    /// run can come from: when every target is the simulator, only its
    /// names and the `[clusters]` table's can appear; a real target's pages
    /// may name any cluster, so then none is reported.
    pub fn slo_clusters_never_served(&self) -> Vec<(String, String)> {
        if !self
            .targets
            .iter()
            // A failover target's members are targets of their own.
            .all(|t| !matches!(t.endpoint, Endpoint::Http(_)))
        {
            return Vec::new();
        }
        let possible = |name: &str| {
            Cluster::ALL.iter().any(|c| c.name() == name)
                || self.clusters.iter().any(|r| r.name == name)
        };
        let scoped = self.slo.all.iter().map(|s| ("all", s));
        let scoped = scoped.chain(self.slo.targets.iter().map(|(t, s)| (t.as_str(), s)));
        let mut never = Vec::new();
        for (scope, spec) in scoped {
            for name in spec.expect_clusters.iter().chain(&spec.only_clusters) {
                let pair = (scope.to_string(), name.clone());
                if !possible(name) && !never.contains(&pair) {
                    never.push(pair);
                }
            }
        }
        never
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetPlan {
    /// Unique among the plan's targets; `[A-Za-z0-9_.-]+` and never `all`
    /// (the aggregate row in outputs).
    pub name: String,
    pub endpoint: Endpoint,
    pub connection: ConnectionPolicy,
    /// A pooled connection older than this is retired after the response it
    /// is carrying (`max_connection_age`, the target's or `[load]`'s), so
    /// traffic follows an address change under constant load. `None`:
    /// connections live until they close or go idle.
    pub max_connection_age: Option<Duration>,
    /// `follow_redirects`: which redirects the client follows itself.
    pub follow_redirects: FollowRedirects,
    /// TLS and HTTP version settings (`ca`, `insecure`, `sni`, `cert`,
    /// `key`, `http`, `h2_connections`).
    pub transport: Transport,
}

/// How a target's connections speak: TLS settings (used by every https
/// request of the target, a redirect to https included) and HTTP version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transport {
    pub tls: TlsPlan,
    /// `None`: the scheme's default ("1.1" for http, "auto" for https).
    pub http: Option<HttpVersion>,
    /// HTTP/2 connections per target (hyper keeps one per host; more
    /// clients spread the load over more TCP flows). Default 1.
    pub h2_connections: std::num::NonZeroU16,
}

impl Default for Transport {
    fn default() -> Transport {
        Transport {
            tls: TlsPlan::default(),
            http: None,
            h2_connections: std::num::NonZeroU16::MIN,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsPlan {
    /// `ca = "path.pem"`: more trusted roots, besides the platform's
    /// (relative paths are from the scenario file's folder).
    pub ca: Option<std::path::PathBuf>,
    /// `insecure = true`: no certificate verification at all.
    pub insecure: bool,
    /// `sni`: the TLS server name; default the request's host (the
    /// target's `host`, else the URL's), also when `connect` pins an IP.
    pub sni: Option<String>,
    /// `cert` and `key` (PEM): a client certificate for mutual TLS.
    pub client_cert: Option<ClientCert>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCert {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// `http = "1.1" | "2" | "auto"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.1 only (ALPN http/1.1 over TLS).
    H1,
    /// HTTP/2 only: ALPN h2 over TLS, prior knowledge (h2c) over plain http.
    H2,
    /// Over TLS, ALPN offers h2 and http/1.1 and the server chooses; over
    /// plain http, HTTP/1.1.
    Auto,
}

impl HttpVersion {
    pub const fn name(self) -> &'static str {
        match self {
            HttpVersion::H1 => "1.1",
            HttpVersion::H2 => "2",
            HttpVersion::Auto => "auto",
        }
    }

    /// What `http` means when the target does not set it.
    pub const fn default_for(tls: bool) -> HttpVersion {
        if tls {
            HttpVersion::Auto
        } else {
            HttpVersion::H1
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FollowRedirects {
    /// A redirect is the request's outcome (`http_3xx`, Location counted).
    #[default]
    No,
    /// A redirect to the same host (any scheme or port, or a relative
    /// Location) is followed, up to a few hops, within the request's
    /// timeout; one to another host is the outcome.
    SameHost,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A real HTTP endpoint.
    Http(HttpEndpoint),
    /// `sim:primary` / `sim:secondary`: the embedded simulator, started
    /// in-process on 127.0.0.1:0; `path` is what to request (default `/productpage`).
    Sim { cluster: Cluster, path: String },
    /// `failover = ["primary", "secondary"]`: a virtual target whose every
    /// request goes to the first member's endpoint and, when it gets no
    /// answer, to the next, within one request's timeout. Indices into
    /// [`Plan::targets`], at least two, each a target of its own (never a
    /// failover target, never this one), in the order tried.
    Failover(Vec<usize>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpEndpoint {
    /// Scheme `http` or `https`, with authority and path-and-query.
    pub url: hyper::Uri,
    /// Value of the Host header: `host` from the file, else the URL's authority.
    pub host_header: String,
    /// `connect = "IP:port"`: dial this instead of resolving the URL's host.
    pub connect: Option<SocketAddr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConnectionPolicy {
    /// Reuse pooled connections (what browsers and most clients do).
    #[default]
    KeepAlive,
    /// A new TCP connection for every request: shows gateway failures that
    /// pooled connections hide.
    New,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoadPlan {
    /// The model and its load per target: the flat load, or with `stages`
    /// the highest any stage reaches (what the in-flight caps, the open
    /// files and the users' lanes are sized for).
    pub model: LoadModel,
    /// `[[load.stage]]`: the load ramps linearly from the previous stage's
    /// target (the first from 0) to each one's, over its duration, from the
    /// start of traffic. Empty: the model's load, flat. With stages there is
    /// no warmup and `duration` is their sum.
    pub stages: Vec<LoadStage>,
    /// Measured phase, after warmup.
    pub duration: Duration,
    /// Traffic sent before the measured phase; recorded but kept out of totals.
    pub warmup: Duration,
    /// Whole-request deadline (connect + send + full body).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Responses whose body exceeds this are `body_too_large`, not read further.
    pub max_body_bytes: usize,
    /// Body bytes the whole run may hold at once (`load.max_buffered`, ≥
    /// `max_body_bytes`): a response the budget cannot hold is `local_error`,
    /// so no target can take meshdrill's memory past it.
    pub max_buffered: usize,
    /// A second whose share of late sends (≥ 10 ms after their intended
    /// time) is above this, in percent, is generator-limited; so is a run
    /// whose overall share is. Default 1.
    pub max_late_pct: f64,
    /// `load.max_connection_age`: the targets' default (see
    /// [`TargetPlan::max_connection_age`]).
    pub max_connection_age: Option<Duration>,
}

/// `[dns]`: how the targets' host names become addresses. IP literals and
/// `connect`-pinned targets are never looked up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsPlan {
    /// Ask these (UDP, then TCP for a truncated answer), in order; empty:
    /// the system's configuration (resolv.conf).
    pub nameservers: Vec<SocketAddr>,
    /// Answers are cached for their TTL, but at least `min_ttl` and at most
    /// `max_ttl` when set.
    pub min_ttl: Option<Duration>,
    pub max_ttl: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LoadModel {
    /// Open model: constant arrival rate per target, independent of responses.
    Rate { per_target: Rate },
    /// Closed model: exactly `users` requests in flight per target, each user
    /// waiting `think_time` between a response and its next request.
    Concurrency {
        users: std::num::NonZeroU32,
        think_time: Duration,
    },
}

/// One `[[load.stage]]`: where the load is at the end of `duration`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadStage {
    /// > 0.
    pub duration: Duration,
    /// Requests/s per target (model rate) or users per target (model
    /// concurrency, then a whole number); finite and ≥ 0.
    pub target: f64,
}

/// Requests per second; always finite and > 0.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Rate(f64);

impl Rate {
    pub fn new(per_second: f64) -> Option<Rate> {
        (per_second.is_finite() && per_second > 0.0).then_some(Rate(per_second))
    }
    pub fn per_second(self) -> f64 {
        self.0
    }
    /// Time between two intended sends.
    pub fn interval(self) -> Duration {
        Duration::from_secs_f64(1.0 / self.0)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FaultPlan {
    pub name: String,
    /// Offset from the start of traffic (warmup included) on the run clock.
    pub at: Duration,
    pub action: FaultAction,
    /// When set, the fault is undone at this offset (> `at`).
    pub restore_at: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FaultAction {
    /// A simulator fault on the cluster behind a `sim:` target.
    Sim { cluster: Cluster, fault: SimFault },
    /// Commands meshdrill runs itself (kubectl, a script), on the run clock:
    /// how a real drill breaks and heals a cluster.
    Hook {
        inject: HookCommand,
        /// Run at `restore_at` (required with it).
        restore: Option<HookCommand>,
        /// A hook still running after this is killed and reported as failed.
        timeout: Duration,
        /// The target the fault is aimed at, if the file names one (for the report).
        target: Option<String>,
        /// `detach = true`: processes a hook leaves running are left running
        /// at the run's end (and reported as detached) instead of ended.
        detach: bool,
    },
}

/// A hook command exactly as written in the file: `${VAR}` is resolved only
/// when the hook runs ([`HookCommand::program_and_args`]), so no value is
/// ever spliced into shell text, kept in the plan or recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookCommand {
    /// Program and arguments, run directly (no shell); each `${VAR}` is
    /// replaced inside its own argument, which stays one argument.
    Argv(Vec<String>),
    /// A command line run with `sh -c` (`shell = true` in the file); sh
    /// expands `${VAR}` from the environment the hook inherits, by its own
    /// quoting rules.
    Shell(String),
}

impl HookCommand {
    /// What to execute, `env` giving the hook's environment: an argv with
    /// every `${VAR}` replaced per argument (`$${` is a literal `${`), or
    /// `sh -c` with the text as written except `$${`, which sh receives as
    /// `${` (the file's literal-`${` escape, left for sh to expand unchecked,
    /// e.g. `$${POD:-all}`). The error names the variable, never a value.
    pub fn program_and_args(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(String, Vec<String>), String> {
        match self {
            HookCommand::Shell(line) => {
                let as_written = |name: &str| Some(format!("${{{name}}}"));
                // `${NAME}` is re-emitted and only `$${` changes; a problem
                // (a shell form such as `${#X}`) leaves the text untouched.
                let text = super::interpolate::interpolate(line, &as_written)
                    .unwrap_or_else(|_| line.clone());
                Ok(("sh".to_string(), vec!["-c".to_string(), text]))
            }
            HookCommand::Argv(argv) => {
                let mut expanded = Vec::with_capacity(argv.len());
                for (i, arg) in argv.iter().enumerate() {
                    match super::interpolate::interpolate(arg, env) {
                        Ok(value) => expanded.push(value),
                        Err(problems) => {
                            let what = if i == 0 {
                                "the program".to_string()
                            } else {
                                format!("argument {i}")
                            };
                            let problems: Vec<String> =
                                problems.iter().map(ToString::to_string).collect();
                            return Err(format!("{what} {}", problems.join("; ")));
                        }
                    }
                }
                if expanded.is_empty() {
                    return Err("no program to run".to_string());
                }
                let program = expanded.remove(0);
                Ok((program, expanded))
            }
        }
    }

    /// As a person would type it, for logs and the report.
    pub fn display(&self) -> String {
        match self {
            HookCommand::Shell(line) => line.clone(),
            HookCommand::Argv(argv) => argv
                .iter()
                .map(|a| {
                    if !a.is_empty()
                        && a.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
                    {
                        a.clone()
                    } else {
                        format!("'{}'", a.replace('\'', r"'\''"))
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// `[slo]` and its `[slo.target.NAME]` tables.
#[derive(
    Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct SloPlan {
    /// Criteria for all targets together (the `all` rows); `None` when
    /// `[slo]` sets none of its own.
    #[serde(deserialize_with = "required")]
    pub all: Option<SloSpec>,
    /// Criteria for single targets, in file order; each name is one of the
    /// plan's targets.
    pub targets: Vec<(String, SloSpec)>,
}

/// One `[clusters]` entry: `name = ["reviews-v1-8cf7b9cc5-*", ...]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterRule {
    /// As pages show it after "on cluster"; `[A-Za-z0-9_.-]`, 1 to 63 bytes.
    pub name: String,
    /// Pod-name globs: lowercase letters, digits, `-`, `.`, and `*` for any
    /// run of characters. May be empty (the name is then only known).
    pub patterns: Vec<String>,
}

/// `[recovery]` of the scenario: when a target counts as healthy again.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RecoveryRule {
    /// Consecutive good seconds that make a recovery; ≥ 1 (0 is read as 1).
    pub window: u32,
    /// A second is good at availability ≥ this, in percent; 0 < t ≤ 100.
    pub threshold_pct: f64,
}

impl Default for RecoveryRule {
    /// 5 s at 99 %.
    fn default() -> Self {
        RecoveryRule {
            window: 5,
            threshold_pct: 99.0,
        }
    }
}

/// One scope's SLO (`[slo]` for `all`, `[slo.target.NAME]` for a target).
/// `None` / empty: not checked. Kept in summary.json so `meshdrill report`
/// judges a results folder by the same criteria.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SloSpec {
    /// Availability (ok over judged requests: see `Kind::is_judged`) at least this, in percent.
    #[serde(deserialize_with = "required")]
    pub availability_min_pct: Option<f64>,
    #[serde(deserialize_with = "required")]
    pub max_failed_requests: Option<u64>,
    /// Failed / judged requests at most this, in percent.
    #[serde(deserialize_with = "required")]
    pub error_rate_max_pct: Option<f64>,
    #[serde(deserialize_with = "required")]
    pub p99_max_ms: Option<f64>,
    /// The 95th percentile of latency at most this (the runbooks' k6
    /// `p(95)` thresholds).
    #[serde(deserialize_with = "required")]
    pub p95_max_ms: Option<f64>,
    #[serde(deserialize_with = "required")]
    pub p50_max_ms: Option<f64>,
    /// The worst RTO of any fault; a fault not recovered fails it. In
    /// summary.json as `rto_max_ms` (a number of milliseconds, or `null`).
    #[serde(rename = "rto_max_ms", with = "optional_ms")]
    #[schemars(with = "Option<f64>")]
    pub rto_max: Option<Duration>,
    /// Each of these reviews versions served at least one ok response.
    pub expect_versions: Vec<String>,
    /// No ok response came from any other version.
    pub only_versions: Vec<String>,
    /// Each of these clusters served at least one ok response.
    pub expect_clusters: Vec<String>,
    /// No ok response came from any other cluster.
    pub only_clusters: Vec<String>,
}

impl SloSpec {
    /// True when no criterion is set.
    pub fn is_empty(&self) -> bool {
        *self == SloSpec::default()
    }
}

/// An optional duration as a number of milliseconds (`null` when unset),
/// for the files a run writes; the field must be present either way.
mod optional_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_secs_f64() * 1000.0)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<f64>::deserialize(d)? {
            None => Ok(None),
            Some(ms) if ms.is_finite() && ms >= 0.0 => {
                Ok(Some(Duration::from_secs_f64(ms / 1000.0)))
            }
            Some(ms) => Err(serde::de::Error::custom(format!(
                "{ms} is not a duration in ms"
            ))),
        }
    }
}

/// Reads an `Option` field that must be present (`null` when unset): a
/// summary.json whose `slo` lost or renamed a key must fail to read, not be
/// judged by fewer criteria.
fn required<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}
