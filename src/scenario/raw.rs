//! The scenario file as written: one struct per TOML table, one field per
//! key, every value kept loosely typed with where it came from. Nothing here
//! judges a value; [`super::compile`] does, so that a wrong type, an unknown
//! key and a bad duration are all reported in the same run.
//!
//! # File format
//!
//! ```toml
//! name = "demo"                 # optional; default: the file stem
//! description = "..."           # optional, free text
//!
//! [[target]]                    # at least one
//! name = "primary"              # required, unique, [A-Za-z0-9_.-]+, not "all"
//!                               # ("all" is the aggregate row in outputs)
//! url = "sim:primary"           # "sim:primary" | "sim:secondary", optionally with a
//!                               # path ("sim:primary/health"; default /productpage),
//!                               # or "http[s]://host[:port]/path"
//! host = "bookinfo.example.com" # optional Host header and request host (http targets
//!                               # only); the URL's host is then dialed for it
//! connect = "10.0.0.7:80"       # optional: dial this IP:port instead of resolving the
//!                               # URL's host; "IP" alone takes the URL's port (default
//!                               # 80, 443 for https); IPv6 as "[::1]:80" (http targets only)
//! connection = "new"            # optional: "keep-alive" | "new"; default load.connection
//! max_connection_age = "30s"    # optional: overrides load.max_connection_age
//! ca = "ca.pem"                 # optional: PEM roots trusted besides the platform's
//! insecure = false              # true: no certificate verification (said loudly)
//! sni = "bookinfo.example.com"  # optional TLS server name; default: host, else the
//!                               # URL's host (also when connect pins an IP)
//! cert = "client.pem"           # optional client certificate for mutual TLS, with key
//! key = "client-key.pem"        # (paths relative to the scenario file's folder)
//! http = "auto"                 # "1.1" | "2" | "auto"; default "1.1" for http://,
//!                               # "auto" (ALPN h2, http/1.1) for https://; "2" over
//!                               # http:// is prior knowledge (h2c)
//! h2_connections = 1            # HTTP/2 connections per target, 1..=64; default 1
//! follow_redirects = "no"       # optional: "no" (default: a 3xx is http_3xx) |
//!                               # "same-host": follow a redirect to the same host
//!                               # (http -> https, another port, a relative Location)
//!                               # up to 5 hops within the timeout
//!
//! [[target]]                    # a failover target: virtual, no url of its own
//! name = "gslb"
//! failover = ["primary", "secondary"]
//!                               # each request goes to the first named target's
//!                               # endpoint and, with no answer (a transport failure
//!                               # or a 5xx), to the next, within one timeout; at least
//!                               # two names, each another target that is not itself
//!                               # a failover target; none of the keys above but name
//!                               # (no url, host, connect, connection, follow_redirects,
//!                               # TLS or http settings: its members' apply)
//!
//! [load]
//! model = "rate"                # "rate" | "concurrency"; optional when exactly one
//!                               # of rate / concurrency is given
//! rate = 200                    # requests/s PER TARGET, > 0 and <= 1000000 (model rate)
//! concurrency = 100             # users PER TARGET, 1..=100000 (model concurrency)
//! think_time = "0s"             # model concurrency only; default 0s
//! duration = "30s"              # required, > 0: the measured phase
//! warmup = "0s"                 # default 0s; traffic before the measured phase
//! timeout = "2s"                # whole request; default 2s, > 0
//! connect_timeout = "1s"        # default min(1s, timeout); > 0 and <= timeout
//! connection = "keep-alive"     # "keep-alive" (default) | "new"
//! max_body = "1MiB"             # default 1MiB; bytes as an integer, or "512KiB",
//!                               # "1MiB", "1GiB", "800B"; > 0
//! max_buffered = "256MiB"      # default 256MiB, >= max_body: body bytes the whole run
//!                               # holds at once; a response past it is local_error
//! max_late_pct = 1              # default 1; a second with more late sends (% of
//!                               # its requests) is generator-limited; 0..=100
//! max_connection_age = "30s"    # optional, > 0: a pooled keep-alive connection older
//!                               # than this is retired after its current response, so
//!                               # traffic follows a DNS change under constant load
//!
//! [[load.stage]]                # optional, any number (<= 64), in order: the load
//! duration = "2m"               # ramps linearly over `duration` (> 0) from the previous
//! users = 100                   # stage's target (the first from 0, as k6's startVUs /
//!                               # startRate) to this one: `rate` (requests/s per target,
//!                               # model rate, 0..=1000000) or `users` (per target, model
//!                               # concurrency, 0..=100000). With stages, the measured
//!                               # phase is the stages: load.duration may be left out (if
//!                               # set it must equal their sum); load.rate, load.concurrency
//!                               # and load.warmup are refused
//!
//! [dns]                         # optional: how host names are resolved
//! nameservers = ["10.0.0.2:53"] # "IP:port" or "IP" (port 53); default: the system's
//!                               # resolv.conf
//! min_ttl = "1s"                # optional: answers are cached at least this long
//! max_ttl = "30s"               # optional: and at most this long (>= min_ttl)
//!
//! [sim]                         # optional: the embedded simulator
//! reviews_mix = [50, 30, 20]    # percent of v1 / v2 / v3 pages, sums to 100
//! latency = "2ms"               # base latency of every response; default 2ms
//! template = "current"          # "current" | "legacy"
//! tls = false                   # true: the simulator serves https (h2 and http/1.1)
//!                               # with a certificate made at start, trusted by its targets
//! listen = ["127.0.0.1:9080", "127.0.0.1:9081"]
//!                               # optional: the primary's and the secondary's gateway
//!                               # address (loopback IP:port) for `meshdrill run`, so a
//!                               # Prometheus can scrape /stats/prometheus; default: free ports
//!
//! [clusters]                    # optional: which cluster a reviews pod is in,
//!                               # for pages that do not say ("on cluster ...")
//! primary = ["reviews-v1-8cf7b9cc5-*", "reviews-v2-*-abc*"]
//! secondary = ["reviews-*-7d4f*"]  # key: cluster name, [A-Za-z0-9_.-], <= 63 bytes;
//!                               # value: pod-name globs (lowercase, digits, '-',
//!                               # '.', '*' = any run); first match in file order
//!                               # wins; at most 32 clusters
//!
//! [[fault]]                     # optional, any number; run in order of `at`
//! name = "primary-down"         # required, unique
//! target = "primary"            # required with sim (a target whose url is sim:...);
//!                               # optional with inject (names what it aims at)
//! at = "10s"                    # offset from the start of traffic (warmup
//!                               # included); < warmup + duration
//! sim = "down"                  # "down" | "blackhole" | "http503" | "latency" |
//!                               # "degraded" | "cross-cluster" | "restore"
//! latency = "200ms"             # required with sim = "latency", rejected otherwise
//! inject = ["kubectl", "delete", "pod", "-l", "app=reviews"]
//!                               # instead of sim: a command meshdrill runs (argv
//!                               # array, or a string with shell = true)
//! restore = ["kubectl", "scale", "deploy/istiod", "--replicas=1"]
//!                               # optional, same forms; needs restore_at
//! shell = false                 # true: inject/restore strings run with sh -c
//! timeout = "60s"               # a hook still running then is killed (its whole
//!                               # process group): default 60s
//! detach = false                # true: processes the hook leaves running (cmd &)
//!                               # are left running at the run's end; default: ended
//! restore_at = "18s"            # optional; > at and <= warmup + duration
//!
//! [[capture]]                   # optional, any number: a command whose output is kept
//!                               # with the results (captures/, report.html), e.g. the
//!                               # mesh's failover settings; never changes the verdict
//! name = "destinationrules"     # required, unique; letters, digits, '_', '.', '-'
//! argv = ["kubectl", "get", "destinationrule", "-A", "-o", "yaml"]
//!                               # required: program and arguments, run as fault hooks
//!                               # run (no shell; ${VAR} resolved when it runs)
//! when = "both"                 # "start" (before traffic) | "end" (after traffic
//!                               # stops) | "both"; default both
//! timeout = "30s"               # killed (its process group) after this; default 30s
//!
//! [evidence]                    # optional: the mesh's own view, queried from the
//!                               # users' Prometheus after traffic (evidence/, report.html);
//!                               # never changes the verdict or the exit code
//! prometheus = "http://127.0.0.1:9090"  # required: http:// or https:// base URL
//! rate_window = "1m"            # optional: the rate() window of the default queries
//!                               # (whole seconds >= 1s; default 1m)
//! timeout = "5s"                # optional: each query's bound, connect to answer; default 5s
//!
//! [[evidence.query]]            # optional, at most 16: named PromQL, evaluated as a range
//! name = "mesh-5xx"             # query over the run at step 1s; required, unique,
//!                               # letters, digits, '_', '.', '-' (names evidence/<name>.csv)
//! promql = "sum by (destination_cluster, response_flags) (rate(istio_requests_total{response_code=~\"5..\"}[1m]))"
//!                               # required. Without any: mesh-5xx (as above, reporter=
//!                               # "source") and mesh-requests (by source and destination cluster)
//!
//! [recovery]                    # optional: when a target counts as recovered
//! window = "5s"                 # good seconds in a row; whole seconds >= 1s; default 5s
//! threshold = 99.0              # a second is good at availability >= this percent;
//!                               # > 0 and <= 100; default 99
//!
//! [slo]                         # optional: criteria for all targets together ("all")
//! availability_min = 99.9       # percent, 0..=100
//! max_failed_requests = 0       # integer >= 0
//! error_rate_max = 1.0          # percent, 0..=100
//! p99_max = "500ms"             # duration > 0
//! p95_max = "300ms"             # duration > 0
//! p50_max = "200ms"             # duration > 0
//! rto_max = "15m"               # duration; the worst fault's RTO; not recovered fails
//! expect_versions = ["v2", "v3"]  # each of "v1" / "v2" / "v3" served >= 1 ok page
//! only_versions = ["v2", "v3"]    # no ok page from any other version
//! expect_clusters = ["primary"]   # cluster names ([A-Za-z0-9_.-]+), as expect_versions
//! only_clusters = ["primary"]     # as only_versions
//!
//! [slo.target.primary]          # the same keys, for one target (an existing name)
//! error_rate_max = 1.0
//! ```
//!
//! Durations are strings in humantime form ("30s", "2m", "500ms", "1m30s").
//! Every string value may use `${VAR}` (from the environment; unset or empty
//! is an error); `$${` writes a literal `${`. Hook commands are kept as
//! written and resolved only when they run: an argv array's `${VAR}` is
//! replaced inside its argument; a `shell = true` string goes to sh as
//! written, for sh to expand from the environment the hook inherits (never
//! spliced into the text). Unknown keys are errors.
//!
//! Why not `#[derive(Deserialize)]` with `deny_unknown_fields`: serde stops
//! at the first unknown key or wrong type, and loses the line of everything
//! it accepted. Reading from `toml_edit`'s spanned tree (see
//! [`super::read`]) keeps every line and lets all problems be reported
//! together. Adding a key is one field here and one line in `read`.

use std::fmt;

/// Where a raw value came from, to name it in a problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    /// In the file: dotted key with indices (`target[1].url`) and its line.
    File { key: String, line: Option<usize> },
    /// A command-line override, named as the user typed it (`--duration`,
    /// `--target primary`).
    Flag(String),
}

impl Origin {
    /// Where a key missing from this table would have been: the table's line.
    /// Everything a flag creates is named after the flag.
    pub(super) fn child(&self, key: &str) -> Origin {
        match self {
            Origin::File { key: table, line } => Origin::File {
                key: if table.is_empty() {
                    key.to_string()
                } else {
                    format!("{table}.{key}")
                },
                line: *line,
            },
            Origin::Flag(flag) => Origin::Flag(flag.clone()),
        }
    }
}

/// One value with its origin.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Item {
    pub value: Value,
    pub origin: Origin,
}

impl Item {
    pub(super) fn flag(flag: &str, value: Value) -> Item {
        Item {
            value,
            origin: Origin::Flag(flag.to_string()),
        }
    }
}

/// A TOML value before anyone decided what it should be. Strings are not yet
/// interpolated.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Value>),
    /// A table (inline or not) where a value was expected; only its shape
    /// matters, for the message.
    Table,
}

/// As a problem message quotes it: strings in double quotes, the rest as TOML.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Datetime(d) => write!(f, "{d}"),
            Value::Array(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, "]")
            }
            Value::Table => write!(f, "(a table)"),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct RawScenario {
    pub name: Option<Item>,
    pub description: Option<Item>,
    pub targets: Vec<RawTarget>,
    /// Where to report that there is no `[[target]]`; `None` when `target`
    /// is in the file but misshapen, which is already reported.
    pub target_origin: Option<Origin>,
    pub load: RawLoad,
    pub sim: RawSim,
    pub faults: Vec<RawFault>,
    pub captures: Vec<RawCapture>,
    pub evidence: RawEvidence,
    pub recovery: RawRecovery,
    pub slo: RawSlo,
    pub clusters: Vec<RawCluster>,
    pub dns: RawDns,
}

#[derive(Clone, Debug)]
pub(super) struct RawTarget {
    /// The `[[target]]` element itself (`target[0]`, at its header line).
    pub origin: Origin,
    pub name: Option<Item>,
    pub url: Option<Item>,
    pub host: Option<Item>,
    pub connect: Option<Item>,
    pub connection: Option<Item>,
    pub max_connection_age: Option<Item>,
    pub ca: Option<Item>,
    pub insecure: Option<Item>,
    pub sni: Option<Item>,
    pub cert: Option<Item>,
    pub key: Option<Item>,
    pub http: Option<Item>,
    pub h2_connections: Option<Item>,
    pub failover: Option<Item>,
    pub follow_redirects: Option<Item>,
}

/// `[load]`; an absent table reads as one with no keys.
#[derive(Clone, Debug)]
pub(super) struct RawLoad {
    pub origin: Origin,
    pub model: Option<Item>,
    pub rate: Option<Item>,
    pub concurrency: Option<Item>,
    pub think_time: Option<Item>,
    pub duration: Option<Item>,
    pub warmup: Option<Item>,
    pub timeout: Option<Item>,
    pub connect_timeout: Option<Item>,
    pub connection: Option<Item>,
    pub max_body: Option<Item>,
    pub max_buffered: Option<Item>,
    pub max_late_pct: Option<Item>,
    pub max_connection_age: Option<Item>,
    /// `[[load.stage]]`, in file order.
    pub stages: Vec<RawStage>,
}

/// One `[[load.stage]]`.
#[derive(Clone, Debug)]
pub(super) struct RawStage {
    /// The element itself (`load.stage[0]`, at its header line).
    pub origin: Origin,
    pub duration: Option<Item>,
    pub rate: Option<Item>,
    pub users: Option<Item>,
}

/// `[dns]`; an absent table reads as one with no keys.
#[derive(Clone, Debug)]
pub(super) struct RawDns {
    pub nameservers: Option<Item>,
    pub min_ttl: Option<Item>,
    pub max_ttl: Option<Item>,
}

/// `[sim]`; an absent table reads as one with no keys.
#[derive(Clone, Debug)]
pub(super) struct RawSim {
    pub reviews_mix: Option<Item>,
    pub latency: Option<Item>,
    pub template: Option<Item>,
    pub tls: Option<Item>,
    pub listen: Option<Item>,
}

/// `[[fault]]`. Issue 4 adds `inject` / `restore` command hooks here; `sim`
/// is already optional in shape so a hook-only fault needs no reshaping.
#[derive(Clone, Debug)]
pub(super) struct RawFault {
    pub origin: Origin,
    pub name: Option<Item>,
    pub target: Option<Item>,
    pub at: Option<Item>,
    pub sim: Option<Item>,
    pub latency: Option<Item>,
    pub restore_at: Option<Item>,
    pub inject: Option<Item>,
    pub restore: Option<Item>,
    pub shell: Option<Item>,
    pub timeout: Option<Item>,
    pub detach: Option<Item>,
}

/// `[[capture]]`.
#[derive(Clone, Debug)]
pub(super) struct RawCapture {
    pub origin: Origin,
    pub name: Option<Item>,
    pub argv: Option<Item>,
    pub when: Option<Item>,
    pub timeout: Option<Item>,
}

/// `[evidence]`; `origin` is `None` when the table is absent.
#[derive(Clone, Debug)]
pub(super) struct RawEvidence {
    pub origin: Option<Origin>,
    pub prometheus: Option<Item>,
    pub rate_window: Option<Item>,
    pub timeout: Option<Item>,
    pub queries: Vec<RawEvidenceQuery>,
}

/// One `[[evidence.query]]`.
#[derive(Clone, Debug)]
pub(super) struct RawEvidenceQuery {
    pub origin: Origin,
    pub name: Option<Item>,
    pub promql: Option<Item>,
}

/// `[recovery]`; an absent table reads as one with no keys.
#[derive(Clone, Debug)]
pub(super) struct RawRecovery {
    pub window: Option<Item>,
    pub threshold: Option<Item>,
}

/// `[slo]`; an absent table reads as one with no keys and no targets.
#[derive(Clone, Debug)]
pub(super) struct RawSlo {
    /// The criteria for all targets together.
    pub all: RawSloSpec,
    /// `[slo.target.NAME]`, in file order: the name as written, and its criteria.
    pub targets: Vec<(String, RawSloSpec)>,
}

/// The criteria keys of `[slo]` and `[slo.target.NAME]`.
#[derive(Clone, Debug)]
pub(super) struct RawSloSpec {
    /// The table itself (`slo`, `slo.target.primary`), at its header line.
    pub origin: Origin,
    pub availability_min: Option<Item>,
    pub max_failed_requests: Option<Item>,
    pub error_rate_max: Option<Item>,
    pub p99_max: Option<Item>,
    pub p95_max: Option<Item>,
    pub p50_max: Option<Item>,
    pub rto_max: Option<Item>,
    pub expect_versions: Option<Item>,
    pub only_versions: Option<Item>,
    pub expect_clusters: Option<Item>,
    pub only_clusters: Option<Item>,
}

/// One key of `[clusters]`: the key is the cluster's name, the value its
/// pod-name patterns.
#[derive(Clone, Debug)]
pub(super) struct RawCluster {
    pub name: String,
    pub patterns: Item,
}
