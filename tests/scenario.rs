//! The scenario module through its public API: files (and overrides) in,
//! exact plans or exact problem lines out. No network, no process env
//! (except `load` of the shipped demo, which uses no `${VAR}`).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use meshdrill::scenario::FollowRedirects;
use meshdrill::scenario::{ClientCert, HttpVersion, RecoveryRule, SloSpec, TlsPlan, Transport};
use meshdrill::scenario::{
    ConnectionPolicy, Endpoint, FaultAction, FaultPlan, HookCommand, HttpEndpoint, LoadModel,
    LoadPlan, Overrides, Plan, Rate, ScenarioError, SloPlan, TargetPlan, load, parse,
};
use meshdrill::sim::{Cluster, SimConfig, SimFault, Template};

fn env(name: &str) -> Option<String> {
    match name {
        "PRIMARY_INGRESS_IP" => Some("10.0.0.7".into()),
        "HOST" => Some("bookinfo.example.com".into()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

fn compile_with(text: &str, overrides: &Overrides) -> Result<Plan, ScenarioError> {
    parse(text, Path::new("demo.toml"), overrides, &env)
}

fn compile(text: &str) -> Plan {
    compile_with(text, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn problems_with(text: &str, overrides: &Overrides) -> Vec<String> {
    match compile_with(text, overrides) {
        Ok(plan) => panic!("expected problems, got {plan:#?}"),
        Err(error) => error.problems().iter().map(ToString::to_string).collect(),
    }
}

fn problems(text: &str) -> Vec<String> {
    problems_with(text, &Overrides::default())
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn rate(per_second: f64) -> LoadModel {
    LoadModel::Rate {
        per_target: Rate::new(per_second).unwrap(),
    }
}

fn sim_target(name: &str, cluster: Cluster) -> TargetPlan {
    TargetPlan {
        name: name.into(),
        endpoint: Endpoint::Sim {
            cluster,
            path: "/productpage".into(),
        },
        connection: ConnectionPolicy::KeepAlive,
        max_connection_age: None,
        follow_redirects: Default::default(),
        transport: Default::default(),
    }
}

fn http_target(name: &str, url: &str, host: &str, connect: Option<&str>) -> TargetPlan {
    TargetPlan {
        name: name.into(),
        endpoint: Endpoint::Http(HttpEndpoint {
            url: url.parse().unwrap(),
            host_header: host.into(),
            connect: connect.map(|c| c.parse::<SocketAddr>().unwrap()),
        }),
        connection: ConnectionPolicy::KeepAlive,
        max_connection_age: None,
        follow_redirects: Default::default(),
        transport: Default::default(),
    }
}

/// `[load]` as the demo writes it, with the documented defaults.
fn default_load(model: LoadModel, duration: Duration) -> LoadPlan {
    LoadPlan {
        model,
        stages: Vec::new(),
        duration,
        warmup: Duration::ZERO,
        timeout: secs(2),
        connect_timeout: secs(1),
        max_body_bytes: 1 << 20,
        max_buffered: 256 << 20,
        max_late_pct: 1.0,
        max_connection_age: None,
    }
}

// ---------------------------------------------------------------- valid forms

#[test]
fn shipped_demo_compiles_to_the_documented_drill() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.toml");
    let plan = load(&path, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plan,
        Plan {
            name: "demo".into(),
            description: Some(
                "Primary ingress down from 10s to 18s; secondary serves throughout.".into()
            ),
            source: path,
            targets: vec![
                sim_target("primary", Cluster::Primary),
                sim_target("secondary", Cluster::Secondary),
            ],
            load: default_load(rate(200.0), secs(30)),
            faults: vec![FaultPlan {
                name: "primary-down".into(),
                at: secs(10),
                action: FaultAction::Sim {
                    cluster: Cluster::Primary,
                    fault: SimFault::Down,
                },
                restore_at: Some(secs(18)),
            }],
            sim: SimConfig::default(),
            recovery: RecoveryRule::default(),
            slo: SloPlan {
                all: None,
                targets: vec![
                    (
                        "primary".into(),
                        SloSpec {
                            rto_max: Some(Duration::from_secs(10)),
                            ..SloSpec::default()
                        },
                    ),
                    (
                        "secondary".into(),
                        SloSpec {
                            availability_min_pct: Some(100.0),
                            max_failed_requests: Some(0),
                            p99_max_ms: Some(100.0),
                            ..SloSpec::default()
                        },
                    ),
                ],
            },
            clusters: Vec::new(),
            dns: Default::default(),
            captures: Vec::new(),
            evidence: None,
            grafana: None,
            start_at: None,
        }
    );
    assert!(plan.uses_sim());
}

#[test]
fn minimal_file_gets_the_documented_defaults() {
    let plan = parse(
        r#"
[[target]]
name = "primary"
url = "sim:primary"

[load]
rate = 10
duration = "1m"
"#,
        Path::new("scenarios/smoke-test.toml"),
        &Overrides::default(),
        &env,
    )
    .unwrap();
    assert_eq!(
        plan,
        Plan {
            name: "smoke-test".into(),
            description: None,
            source: "scenarios/smoke-test.toml".into(),
            targets: vec![sim_target("primary", Cluster::Primary)],
            load: default_load(rate(10.0), secs(60)),
            faults: vec![],
            sim: SimConfig {
                reviews_mix: [50, 30, 20],
                base_latency: ms(2),
                template: Template::Current,
                tls: false,
                listen: None,
            },
            recovery: RecoveryRule::default(),
            slo: SloPlan::default(),
            clusters: Vec::new(),
            dns: Default::default(),
            captures: Vec::new(),
            evidence: None,
            grafana: None,
            start_at: None,
        }
    );
}

#[test]
fn every_key_in_use_compiles_exactly() {
    let plan = compile(
        r#"
name = "full"
description = "every key; $${NOT_A_VAR} is literal"

[[target]]
name = "primary"
url = "http://bookinfo.internal:8000/productpage?u=normal"
host = "${HOST}"
connect = "${PRIMARY_INGRESS_IP}:8080"
connection = "new"

[[target]]
name = "secondary.v2"
url = "sim:secondary/health"

[load]
model = "concurrency"
concurrency = 100
think_time = "250ms"
duration = "1m30s"
warmup = "5s"
timeout = "3s"
connect_timeout = "500ms"
connection = "keep-alive"
max_body = "512KiB"
max_buffered = "64MiB"

[sim]
reviews_mix = [0, 50, 50]
latency = "5ms"
template = "legacy"

[[fault]]
name = "slow-$${LITERAL}"
target = "secondary.v2"
at = "40s"
sim = "latency"
latency = "200ms"
restore_at = "95s"

[[fault]]
name = "secondary-503"
target = "secondary.v2"
at = "20s"
sim = "http503"
"#,
    );
    let mut primary = http_target(
        "primary",
        "http://bookinfo.internal:8000/productpage?u=normal",
        "bookinfo.example.com",
        Some("10.0.0.7:8080"),
    );
    primary.connection = ConnectionPolicy::New;
    let secondary = TargetPlan {
        name: "secondary.v2".into(),
        endpoint: Endpoint::Sim {
            cluster: Cluster::Secondary,
            path: "/health".into(),
        },
        connection: ConnectionPolicy::KeepAlive,
        max_connection_age: None,
        follow_redirects: Default::default(),
        transport: Default::default(),
    };
    let on_secondary = |fault| FaultAction::Sim {
        cluster: Cluster::Secondary,
        fault,
    };
    assert_eq!(
        plan,
        Plan {
            name: "full".into(),
            description: Some("every key; ${NOT_A_VAR} is literal".into()),
            source: "demo.toml".into(),
            targets: vec![primary, secondary],
            load: LoadPlan {
                model: LoadModel::Concurrency {
                    users: NonZeroU32::new(100).unwrap(),
                    think_time: ms(250),
                },
                stages: Vec::new(),
                duration: secs(90),
                warmup: secs(5),
                timeout: secs(3),
                connect_timeout: ms(500),
                max_body_bytes: 512 * 1024,
                max_buffered: 64 << 20,
                max_late_pct: 1.0,
                max_connection_age: None,
            },
            // Sorted by `at`, not file order.
            faults: vec![
                FaultPlan {
                    name: "secondary-503".into(),
                    at: secs(20),
                    action: on_secondary(SimFault::Http503),
                    restore_at: None,
                },
                FaultPlan {
                    name: "slow-${LITERAL}".into(),
                    at: secs(40),
                    action: on_secondary(SimFault::Latency(ms(200))),
                    restore_at: Some(secs(95)),
                },
            ],
            sim: SimConfig {
                reviews_mix: [0, 50, 50],
                base_latency: ms(5),
                template: Template::Legacy,
                tls: false,
                listen: None,
            },
            recovery: RecoveryRule::default(),
            slo: SloPlan::default(),
            clusters: Vec::new(),
            dns: Default::default(),
            captures: Vec::new(),
            evidence: None,
            grafana: None,
            start_at: None,
        }
    );
    assert!(plan.uses_sim());
}

#[test]
fn model_follows_from_the_one_of_rate_or_concurrency_given() {
    let rate_only = compile(
        "[[target]]\nname = \"a\"\nurl = \"sim:primary\"\n[load]\nrate = 0.5\nduration = \"1s\"\n",
    );
    assert_eq!(rate_only.load.model, rate(0.5));
    let users_only = compile(
        "[[target]]\nname = \"a\"\nurl = \"sim:primary\"\n[load]\nconcurrency = 3\nduration = \"1s\"\n",
    );
    assert_eq!(
        users_only.load.model,
        LoadModel::Concurrency {
            users: NonZeroU32::new(3).unwrap(),
            think_time: Duration::ZERO,
        }
    );
}

#[test]
fn http_target_defaults_host_to_the_authority_and_dials_the_url_port() {
    let plan = compile(
        r#"
[[target]]
name = "bare"
url = "http://bookinfo.example.com"

[[target]]
name = "ip-only"
url = "http://bookinfo.example.com:8080/productpage"
connect = "${PRIMARY_INGRESS_IP}"

[[target]]
name = "ip-only-default-port"
url = "http://bookinfo.example.com/productpage"
connect = "10.0.0.8"

[[target]]
name = "v6"
url = "http://[::1]:9080/productpage"
connect = "[::1]:80"

[load]
rate = 1
duration = "1s"
timeout = "500ms"
connection = "new"
max_body = 4096
"#,
    );
    let new = |mut t: TargetPlan| {
        t.connection = ConnectionPolicy::New;
        t
    };
    assert_eq!(
        plan.targets,
        [
            new(http_target(
                "bare",
                "http://bookinfo.example.com/",
                "bookinfo.example.com",
                None
            )),
            new(http_target(
                "ip-only",
                "http://bookinfo.example.com:8080/productpage",
                "bookinfo.example.com:8080",
                Some("10.0.0.7:8080"),
            )),
            new(http_target(
                "ip-only-default-port",
                "http://bookinfo.example.com/productpage",
                "bookinfo.example.com",
                Some("10.0.0.8:80"),
            )),
            new(http_target(
                "v6",
                "http://[::1]:9080/productpage",
                "[::1]:9080",
                Some("[::1]:80"),
            )),
        ]
    );
    assert!(!plan.uses_sim());
    // connect_timeout defaults to min(1s, timeout).
    assert_eq!(plan.load.connect_timeout, ms(500));
    assert_eq!(plan.load.max_body_bytes, 4096);
}

#[test]
fn inline_tables_and_dotted_keys_are_the_same_file() {
    let plan = compile(
        r#"
target = [{ name = "a", url = "sim:primary" }]
load = { rate = 5, duration = "10s" }
sim.template = "legacy"
"#,
    );
    assert_eq!(plan.targets, [sim_target("a", Cluster::Primary)]);
    assert_eq!(plan.load, default_load(rate(5.0), secs(10)));
    assert_eq!(plan.sim.template, Template::Legacy);
}

// -------------------------------------------------------------- invalid forms

/// Asserts the exact problem lines of a file.
#[track_caller]
fn fails(text: &str, expected: &[&str]) {
    assert_eq!(problems(text), expected, "for:\n{text}");
}

#[test]
fn unknown_key_names_the_key_and_lists_the_allowed_ones() {
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
retries = 3
[load]
rate = 200
duration = "30s"
[laod]
"#,
        &[
            "demo.toml:4: target[0].retries is not a known key (allowed: name, url, host, connect, connection, max_connection_age, ca, insecure, sni, cert, key, http, h2_connections, failover, follow_redirects)",
            "demo.toml:8: laod is not a known key (allowed: name, description, target, load, sim, fault, capture, evidence, recovery, slo, clusters, dns)",
        ],
    );
}

#[test]
fn bad_durations_show_the_expected_form() {
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 200
duration = "5x"
warmup = 30
timeout = "0s"
"#,
        &[
            r#"demo.toml:6: load.duration "5x" is not a duration (expected "30s", "2m", "500ms")"#,
            r#"demo.toml:7: load.warmup 30 is not a duration (expected "30s", "2m", "500ms")"#,
            r#"demo.toml:8: load.timeout "0s" must be > 0"#,
        ],
    );
}

#[test]
fn rate_and_concurrency_out_of_range() {
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 0
duration = "30s"
"#,
        &[
            "demo.toml:5: load.rate 0 is out of range (expected requests/s per target, > 0 and ≤ 1000000)",
        ],
    );
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
[load]
concurrency = 2.5
duration = "30s"
"#,
        &[
            "demo.toml:5: load.concurrency 2.5 is not an integer (expected users per target, an integer from 1 to 100000)",
        ],
    );
}

#[test]
fn load_model_must_be_known_and_consistent() {
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
[load]
model = "spike"
rate = 10
duration = "30s"
"#,
        &[
            r#"demo.toml:5: load.model "spike" is not a load model (expected "rate" | "concurrency")"#,
        ],
    );
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
[load]
model = "concurrency"
rate = 10
think_time = "1s"
duration = "30s"
"#,
        &[
            r#"demo.toml:4: load.concurrency is required (e.g. concurrency = 100)"#,
            r#"demo.toml:6: load.rate is only used with model = "rate""#,
        ],
    );
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 10
concurrency = 10
duration = "30s"
"#,
        &[
            r#"demo.toml:4: load sets both rate and concurrency (expected model = "rate" or model = "concurrency" to say which)"#,
        ],
    );
}

#[test]
fn a_scenario_without_targets_or_load_says_what_is_missing() {
    fails(
        "name = \"empty\"\n",
        &[
            "demo.toml: load has no load model (expected rate = 200 for requests/s per target, or concurrency = 100 for users per target)",
            r#"demo.toml: load.duration is required (e.g. duration = "30s")"#,
            r#"demo.toml: target is required (at least one [[target]] with name and url, e.g. url = "sim:primary")"#,
        ],
    );
    fails(
        r#"[target]
name = "primary"
url = "sim:primary"
[load]
rate = 1
duration = "1s"
"#,
        &[
            "demo.toml:1: target is a single table (expected [[target]] tables, one per target: write [[target]] with double brackets)",
        ],
    );
    fails(
        "target = []\nload = { rate = 1, duration = \"1s\" }\n",
        &[
            r#"demo.toml:1: target is required (at least one [[target]] with name and url, e.g. url = "sim:primary")"#,
        ],
    );
}

#[test]
fn unset_empty_and_unterminated_variables_are_named() {
    fails(
        r#"[[target]]
name = "primary"
url = "http://${PRIMARY_INGRESS}/productpage"
connect = "${EMPTY}:80"
host = "${HOST"
[load]
rate = 1
duration = "1s"
"#,
        &[
            r#"demo.toml:3: target[0].url "http://${PRIMARY_INGRESS}/productpage" uses ${PRIMARY_INGRESS}, which is not set in the environment"#,
            r#"demo.toml:4: target[0].connect "${EMPTY}:80" uses ${EMPTY}, which is empty — did the kubectl lookup fail?"#,
            r#"demo.toml:5: target[0].host "${HOST" has an unterminated "${" (expected ${NAME}; write $${ for a literal ${)"#,
        ],
    );
}

#[test]
fn urls_must_be_http_or_sim() {
    fails(
        r#"[[target]]
name = "a"
url = "ftp://bookinfo.example.com/productpage"
[[target]]
name = "b"
url = "sim:tertiary"
[[target]]
name = "c"
url = "bookinfo.example.com"
[load]
rate = 1
duration = "1s"
"#,
        &[
            r#"demo.toml:3: target[0].url "ftp://bookinfo.example.com/productpage" has an unsupported scheme "ftp" (expected "http://host[:port]/path", "https://host[:port]/path", "sim:primary" or "sim:secondary")"#,
            r#"demo.toml:6: target[1].url "sim:tertiary" names no simulated cluster (expected "sim:primary" or "sim:secondary", optionally followed by a path such as /productpage)"#,
            r#"demo.toml:9: target[2].url "bookinfo.example.com" is not a URL (expected "http://host[:port]/path", "https://host[:port]/path", "sim:primary" or "sim:secondary")"#,
        ],
    );
}

/// Issue 11 item 2: `Uri` accepts these and leaves the port unset, and the
/// client then dialled port 80 while summary.json said `:99999`.
#[test]
fn a_port_that_is_not_1_to_65535_is_a_scenario_error() {
    let mut text = String::new();
    for (i, port) in [":99999", ":65536", ":8a", ":", ":0"].iter().enumerate() {
        text.push_str(&format!(
            "[[target]]\nname = \"t{i}\"\nurl = \"http://127.0.0.1{port}/productpage\"\n"
        ));
    }
    text.push_str("[load]\nrate = 1\nduration = \"1s\"\n");
    let expected = |line: usize, i: usize, port: &str| {
        format!(
            r#"demo.toml:{line}: target[{i}].url "http://127.0.0.1:{port}/productpage" has port "{port}", which is not a TCP port (expected 1 to 65535 without leading zeros, e.g. "http://10.0.0.7:8080/productpage"; no port means 80)"#
        )
    };
    assert_eq!(
        problems(&text),
        [
            expected(3, 0, "99999"),
            expected(6, 1, "65536"),
            expected(9, 2, "8a"),
            expected(12, 3, ""),
            expected(15, 4, "0"),
        ]
    );
    let overrides = Overrides {
        targets: vec![(
            "primary".into(),
            "http://127.0.0.1:99999/productpage".into(),
        )],
        ..Overrides::default()
    };
    assert_eq!(
        problems_with(REAL_MESH, &overrides),
        [
            r#"--target primary: "http://127.0.0.1:99999/productpage" has port "99999", which is not a TCP port (expected 1 to 65535 without leading zeros, e.g. "http://10.0.0.7:8080/productpage"; no port means 80)"#
        ]
    );
}

#[test]
fn target_names_are_unique_valid_and_not_all() {
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
[[target]]
name = "primary"
url = "sim:secondary"
[[target]]
name = "all"
url = "sim:secondary"
[[target]]
name = "east west"
url = "sim:secondary"
[load]
rate = 1
duration = "1s"
"#,
        &[
            r#"demo.toml:5: target[1].name "primary" is already used by target[0]"#,
            r#"demo.toml:8: target[2].name "all" is reserved for the aggregate row of the outputs (choose another name)"#,
            r#"demo.toml:11: target[3].name "east west" is not a valid target name (expected letters, digits, "_", ".", "-")"#,
        ],
    );
}

#[test]
fn a_failover_target_names_its_members_in_the_order_tried() {
    let plan = compile(
        r#"[[target]]
name = "gslb"
failover = ["secondary", "primary"]
[[target]]
name = "primary"
url = "sim:primary"
[[target]]
name = "secondary"
url = "sim:secondary"
[load]
rate = 1
duration = "1s"
"#,
    );
    assert_eq!(plan.targets[0].name, "gslb");
    assert_eq!(plan.targets[0].endpoint, Endpoint::Failover(vec![2, 1]));
    assert!(plan.uses_sim());
}

#[test]
fn follow_redirects_is_no_by_default_or_same_host() {
    let plan = compile(
        r#"[[target]]
name = "primary"
url = "http://127.0.0.1:9/productpage"
follow_redirects = "same-host"
[[target]]
name = "secondary"
url = "sim:secondary"
[load]
rate = 1
duration = "1s"
"#,
    );
    assert_eq!(plan.targets[0].follow_redirects, FollowRedirects::SameHost);
    assert_eq!(plan.targets[1].follow_redirects, FollowRedirects::No);
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
follow_redirects = "all"
[[target]]
name = "gslb"
failover = ["primary", "primary2"]
follow_redirects = "no"
[[target]]
name = "primary2"
url = "sim:secondary"
[load]
rate = 1
duration = "1s"
"#,
        &[
            r#"demo.toml:4: target[0].follow_redirects "all" is not a redirect policy (expected "no" | "same-host")"#,
            r#"demo.toml:8: target[1].follow_redirects "no" is not used with failover (a failover target sends through the targets it names, with their follow_redirects)"#,
        ],
    );
}

#[test]
fn a_failover_names_at_least_two_other_targets_with_a_url() {
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
[[target]]
name = "one"
failover = ["primary"]
[[target]]
name = "self"
failover = ["self", "primary"]
[[target]]
name = "chain"
failover = ["primary", "one", "nowhere", "primary"]
[[target]]
name = "both"
url = "sim:secondary"
failover = "primary"
[load]
rate = 1
duration = "1s"
"#,
        &[
            r#"demo.toml:6: target[1].failover ["primary"] names 1 target(s) (expected the names of at least two other targets, e.g. failover = ["primary", "secondary"])"#,
            r#"demo.toml:9: target[2].failover "self" is this target itself (expected the names of at least two other targets, e.g. failover = ["primary", "secondary"])"#,
            r#"demo.toml:12: target[3].failover "one" is a failover target itself (a failover names targets with a url)"#,
            r#"demo.toml:12: target[3].failover "nowhere" names no target (targets it can name: primary)"#,
            r#"demo.toml:12: target[3].failover "primary" is named twice"#,
            r#"demo.toml:15: target[4].url "sim:secondary" is not used with failover (a failover target sends through the targets it names, with their url)"#,
            r#"demo.toml:16: target[4].failover "primary" is not an array (expected the names of at least two other targets, e.g. failover = ["primary", "secondary"])"#,
        ],
    );
}

#[test]
fn host_and_connect_are_for_http_targets_and_connect_takes_an_ip() {
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
host = "bookinfo.example.com"
[[target]]
name = "real"
url = "http://bookinfo.example.com/"
connect = "ingress.example.com:80"
[load]
rate = 1
duration = "1s"
"#,
        &[
            r#"demo.toml:4: target[0].host "bookinfo.example.com" is only for http targets (a sim: target is served in-process)"#,
            r#"demo.toml:8: target[1].connect "ingress.example.com:80" is not an IP address to dial (expected "IP:port", "IP" or "[IPv6]:port", port > 0; host names are not resolved here)"#,
        ],
    );
}

#[test]
fn connect_timeout_cannot_exceed_timeout() {
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 1
duration = "1s"
timeout = "2s"
connect_timeout = "5s"
"#,
        &[
            r#"demo.toml:8: load.connect_timeout "5s" must be ≤ load.timeout (2s): the connect is part of the request"#,
        ],
    );
}

#[test]
fn max_buffered_is_a_size_that_holds_one_whole_body() {
    let head = "[[target]]\nname = \"primary\"\nurl = \"sim:primary\"\n[load]\nrate = 1\nduration = \"1s\"\n";
    fails(
        &format!("{head}max_body = \"2MiB\"\nmax_buffered = \"1MiB\"\n"),
        &[
            r#"demo.toml:8: load.max_buffered "1MiB" must be ≥ load.max_body (2097152 bytes): it holds every body in flight"#,
        ],
    );
    fails(
        &format!("{head}max_body = \"512MiB\"\n"),
        &[
            r#"demo.toml:7: load.max_body "512MiB" is above load.max_buffered (default 256MiB, the memory for every body in flight): set max_buffered ≥ max_body"#,
        ],
    );
    fails(
        &format!("{head}max_buffered = 0\n"),
        &["demo.toml:7: load.max_buffered 0 must be > 0 bytes"],
    );
    fails(
        &format!("{head}max_buffered = \"lots\"\n"),
        &[
            r#"demo.toml:7: load.max_buffered "lots" is not a size (expected bytes as an integer, or "512KiB", "1MiB")"#,
        ],
    );
    let plan = compile(&format!("{head}max_body = \"64MiB\"\n"));
    assert_eq!(plan.load.max_buffered, 256 << 20);
    assert_eq!(plan.load.max_body_bytes, 64 << 20);
}

#[test]
fn reviews_mix_must_be_three_percentages_summing_to_100() {
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 1
duration = "1s"
[sim]
reviews_mix = [50, 30, 30]
"#,
        &[
            "demo.toml:8: sim.reviews_mix [50, 30, 30] sums to 110 (expected [v1, v2, v3] in percent, summing to 100, e.g. [50, 30, 20])",
        ],
    );
    fails(
        r#"[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 1
duration = "1s"
[sim]
reviews_mix = [50, 50]
template = "bootstrap"
"#,
        &[
            "demo.toml:8: sim.reviews_mix [50, 50] is not three percentages (expected [v1, v2, v3] in percent, summing to 100, e.g. [50, 30, 20])",
            r#"demo.toml:9: sim.template "bootstrap" is not a page template (expected "current" | "legacy")"#,
        ],
    );
}

/// Two sim targets and one http target, 30 s of traffic; faults appended
/// start on line 13.
const FAULT_BASE: &str = r#"[[target]]
name = "primary"
url = "sim:primary"
[[target]]
name = "secondary"
url = "sim:secondary"
[[target]]
name = "prod"
url = "http://bookinfo.example.com/productpage"
[load]
rate = 1
duration = "30s"
"#;

#[test]
fn faults_must_name_a_sim_target() {
    fails(
        &format!(
            "{FAULT_BASE}{}",
            r#"[[fault]]
name = "db-down"
target = "db"
at = "1s"
sim = "down"
[[fault]]
name = "prod-down"
target = "prod"
at = "1s"
sim = "down"
"#
        ),
        &[
            r#"demo.toml:15: fault[0].target "db" is not a target (expected one of: "primary", "secondary", "prod")"#,
            r#"demo.toml:20: fault[1].target "prod" is an http target: sim faults drive only sim: targets (to break a real cluster, use inject = [...] with your kubectl command)"#,
        ],
    );
}

#[test]
fn fault_timing_must_fit_the_run() {
    fails(
        &format!(
            "{FAULT_BASE}{}",
            r#"[[fault]]
name = "a"
target = "primary"
at = "10s"
sim = "down"
restore_at = "10s"
[[fault]]
name = "b"
target = "primary"
at = "30s"
sim = "down"
[[fault]]
name = "c"
target = "primary"
at = "10s"
sim = "down"
restore_at = "31s"
"#
        ),
        &[
            r#"demo.toml:18: fault[0].restore_at "10s" must be after fault[0].at (10s)"#,
            r#"demo.toml:22: fault[1].at "30s" is not before the end of traffic at 30s (warmup + duration)"#,
            r#"demo.toml:29: fault[2].restore_at "31s" is after the end of traffic at 30s (warmup + duration)"#,
        ],
    );
}

#[test]
fn fault_needs_something_to_inject_and_the_right_latency() {
    fails(
        &format!(
            "{FAULT_BASE}{}",
            r#"[[fault]]
name = "nothing"
target = "primary"
at = "1s"
[[fault]]
name = "slow"
target = "primary"
at = "1s"
sim = "latency"
[[fault]]
name = "down"
target = "primary"
at = "1s"
sim = "down"
latency = "1s"
[[fault]]
name = "down"
target = "secondary"
at = "1s"
sim = "explode"
"#
        ),
        &[
            r#"demo.toml:13: fault[0]: nothing to inject (expected sim = "down" | "blackhole" | "http503" | "latency" | "degraded" | "cross-cluster" | "restore", or inject = ["command", ...])"#,
            r#"demo.toml:17: fault[1].latency is required with sim = "latency" (e.g. latency = "200ms")"#,
            r#"demo.toml:27: fault[2].latency is only used with sim = "latency""#,
            r#"demo.toml:29: fault[3].name "down" is already used by fault[2]"#,
            r#"demo.toml:32: fault[3].sim "explode" is not a simulator fault (expected "down" | "blackhole" | "http503" | "latency" | "degraded" | "cross-cluster" | "restore")"#,
        ],
    );
}

#[test]
fn several_problems_are_reported_together_in_line_order() {
    let text = r#"name = "broken"
colour = "blue"

[[target]]
name = "primary"
url = "ftp://bookinfo.example.com/"
connect = "${UNSET_IP}:80"

[load]
model = "rate"
rate = 0
duration = "5x"

[sim]
reviews_mix = [50, 30, 30]

[[fault]]
name = "f"
target = "nope"
at = "1s"
sim = "down"
"#;
    let error = compile_with(text, &Overrides::default()).unwrap_err();
    let lines: Vec<_> = error.problems().iter().map(|p| p.line).collect();
    assert_eq!(lines, [2, 6, 7, 11, 12, 15, 19].map(Some), "{error}");
    let keys: Vec<_> = error.problems().iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "colour",
            "target[0].url",
            "target[0].connect",
            "load.rate",
            "load.duration",
            "sim.reviews_mix",
            "fault[0].target"
        ]
    );
    assert!(
        error
            .problems()
            .iter()
            .all(|p| p.file == Path::new("demo.toml"))
    );
    // Display is one line per problem, in the same order.
    let display = error.to_string();
    assert_eq!(display.lines().count(), 7);
    assert_eq!(
        display.lines().next(),
        Some(
            "demo.toml:2: colour is not a known key (allowed: name, description, target, load, sim, fault, capture, evidence, recovery, slo, clusters, dns)"
        )
    );
}

#[test]
fn a_syntax_error_is_reported_alone_with_its_line() {
    let error = compile_with(
        "[[target]]\nname = \"primary\"\nurl = sim:primary\nbogus = 1\n",
        &Overrides::default(),
    )
    .unwrap_err();
    let [problem] = error.problems() else {
        panic!("{error}")
    };
    assert_eq!(problem.line, Some(3));
    assert_eq!(problem.key, "");
    assert!(
        error
            .to_string()
            .starts_with("demo.toml:3: TOML syntax error: "),
        "{error}"
    );
}

#[test]
fn an_unreadable_file_names_the_path() {
    let path = Path::new("/nonexistent/meshdrill/nope.toml");
    let error = load(path, &Overrides::default()).unwrap_err();
    assert!(matches!(&error, ScenarioError::Read { path: p, .. } if p == path));
    assert!(
        error
            .to_string()
            .starts_with("cannot read scenario file /nonexistent/meshdrill/nope.toml: "),
        "{error}"
    );
    assert!(error.problems().is_empty());
}

// ------------------------------------------------------------------ overrides

const REAL_MESH: &str = r#"[[target]]
name = "primary"
url = "http://bookinfo.example.com/productpage"
host = "bookinfo.example.com"
connect = "${PRIMARY_INGRESS_IP}:80"
connection = "new"

[load]
model = "concurrency"
concurrency = 100
think_time = "1s"
duration = "10m"
"#;

#[test]
fn target_override_replaces_the_url_and_drops_host_and_connect() {
    let overrides = Overrides {
        targets: vec![("primary".into(), "sim:primary".into())],
        ..Overrides::default()
    };
    let plan = compile_with(REAL_MESH, &overrides).unwrap();
    let mut expected = sim_target("primary", Cluster::Primary);
    // The file's connection policy is not an address: it is kept.
    expected.connection = ConnectionPolicy::New;
    assert_eq!(plan.targets, [expected]);

    let overrides = Overrides {
        targets: vec![("primary".into(), "http://127.0.0.1:9080/productpage".into())],
        ..Overrides::default()
    };
    let plan = compile_with(REAL_MESH, &overrides).unwrap();
    let Endpoint::Http(http) = &plan.targets[0].endpoint else {
        panic!("{plan:#?}")
    };
    assert_eq!(http.connect, None, "must never dial the file's real IP");
    assert_eq!(http.host_header, "127.0.0.1:9080");
}

#[test]
fn target_override_of_a_file_with_unset_variables_needs_none_of_them() {
    // The overridden connect used ${UNSET}: it is gone before interpolation.
    let text = REAL_MESH.replace("PRIMARY_INGRESS_IP", "UNSET");
    assert!(compile_with(&text, &Overrides::default()).is_err());
    let overrides = Overrides {
        targets: vec![("primary".into(), "sim:primary".into())],
        ..Overrides::default()
    };
    assert!(compile_with(&text, &overrides).is_ok());
}

#[test]
fn target_override_with_a_new_name_adds_a_target() {
    let overrides = Overrides {
        targets: vec![("canary".into(), "sim:secondary".into())],
        ..Overrides::default()
    };
    let plan = compile_with(REAL_MESH, &overrides).unwrap();
    let names: Vec<_> = plan.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["primary", "canary"]);
    assert_eq!(plan.targets[1], sim_target("canary", Cluster::Secondary));
}

#[test]
fn rate_override_switches_the_model_and_drops_concurrency_keys() {
    let overrides = Overrides {
        rate: Some(50.0),
        duration: Some("45s".into()),
        ..Overrides::default()
    };
    let plan = compile_with(REAL_MESH, &overrides).unwrap();
    assert_eq!(plan.load.model, rate(50.0));
    assert_eq!(plan.load.duration, secs(45));
}

#[test]
fn concurrency_override_switches_the_model_and_drops_the_rate() {
    let text = r#"[[target]]
name = "a"
url = "sim:primary"
[load]
model = "rate"
rate = 100
duration = "1s"
"#;
    assert_eq!(compile(text).load.model, rate(100.0));
    let overrides = Overrides {
        concurrency: Some(7),
        ..Overrides::default()
    };
    let plan = compile_with(text, &overrides).unwrap();
    assert_eq!(
        plan.load.model,
        LoadModel::Concurrency {
            users: NonZeroU32::new(7).unwrap(),
            think_time: Duration::ZERO,
        }
    );
}

#[test]
fn override_problems_name_the_flag() {
    let overrides = Overrides {
        duration: Some("5x".into()),
        rate: Some(0.0),
        targets: vec![("primary".into(), "ftp://10.0.0.7/".into())],
        ..Overrides::default()
    };
    assert_eq!(
        problems_with(REAL_MESH, &overrides),
        [
            "--rate: 0 is out of range (expected requests/s per target, > 0 and ≤ 1000000)",
            r#"--duration: "5x" is not a duration (expected "30s", "2m", "500ms")"#,
            r#"--target primary: "ftp://10.0.0.7/" has an unsupported scheme "ftp" (expected "http://host[:port]/path", "https://host[:port]/path", "sim:primary" or "sim:secondary")"#,
        ]
    );
    let both = Overrides {
        rate: Some(1.0),
        concurrency: Some(1),
        ..Overrides::default()
    };
    assert_eq!(
        problems_with(REAL_MESH, &both),
        ["--rate: cannot be combined with --concurrency (choose one load model)"]
    );
}

#[test]
fn hook_faults_run_commands_on_real_targets() {
    let text = format!(
        "{FAULT_BASE}{}",
        r#"[[fault]]
name = "istiod-down"
target = "prod"
at = "5s"
inject = ["kubectl", "--context=${CTX}", "scale", "deploy/istiod", "-n", "istio-system", "--replicas=0"]
restore = ["kubectl", "--context=${CTX}", "scale", "deploy/istiod", "-n", "istio-system", "--replicas=1"]
restore_at = "20s"
timeout = "25s"
[[fault]]
name = "gw-pod"
at = "2s"
inject = "kubectl delete pod -l app=istio-ingressgateway | tee /dev/stderr"
shell = true
"#
    );
    let env = |name: &str| (name == "CTX").then(|| "primary-cluster-context".to_string());
    let plan = parse(&text, Path::new("demo.toml"), &Overrides::default(), &env).unwrap();
    assert_eq!(plan.faults.len(), 2);
    assert_eq!(plan.faults[0].name, "gw-pod", "sorted by at");
    assert_eq!(
        plan.faults[0].action,
        FaultAction::Hook {
            inject: HookCommand::Shell(
                "kubectl delete pod -l app=istio-ingressgateway | tee /dev/stderr".into()
            ),
            restore: None,
            timeout: Duration::from_secs(60),
            target: None,
            detach: false,
        }
    );
    // Kept as written: `${CTX}` is resolved only when the hook runs, so a
    // value (a token) never reaches the plan or what is recorded.
    let scale = |n: &str| {
        HookCommand::Argv(
            [
                "kubectl",
                "--context=${CTX}",
                "scale",
                "deploy/istiod",
                "-n",
                "istio-system",
                n,
            ]
            .map(String::from)
            .to_vec(),
        )
    };
    assert_eq!(
        plan.faults[1].action,
        FaultAction::Hook {
            inject: scale("--replicas=0"),
            restore: Some(scale("--replicas=1")),
            timeout: Duration::from_secs(25),
            target: Some("prod".into()),
            detach: false,
        }
    );
    assert_eq!(plan.faults[1].restore_at, Some(Duration::from_secs(20)));
    let (program, args) = scale("--replicas=0").program_and_args(&env).unwrap();
    assert_eq!(program, "kubectl");
    assert_eq!(args[0], "--context=primary-cluster-context");
}

/// Issue 11, item 3: with `POD='x; touch pwned'`, `echo deleting pod
/// ${POD}` ran the `touch`: the value was spliced into the shell text.
#[test]
fn shell_hooks_keep_placeholders_for_sh_and_still_check_them() {
    let text = format!(
        "{FAULT_BASE}{}",
        r#"[[fault]]
name = "gw-pod"
at = "2s"
inject = "echo deleting pod ${POD}"
restore = "echo $${POD:-none} back"
restore_at = "3s"
shell = true
detach = true
"#
    );
    let env = |name: &str| (name == "POD").then(|| "x; touch pwned".to_string());
    let plan = parse(&text, Path::new("demo.toml"), &Overrides::default(), &env).unwrap();
    let FaultAction::Hook {
        inject,
        restore,
        detach,
        ..
    } = &plan.faults[0].action
    else {
        panic!("a hook: {:?}", plan.faults[0].action);
    };
    assert_eq!(
        inject,
        &HookCommand::Shell("echo deleting pod ${POD}".into())
    );
    assert!(*detach);
    let (program, args) = inject.program_and_args(&env).unwrap();
    assert_eq!(
        (program.as_str(), args),
        (
            "sh",
            vec!["-c".to_string(), "echo deleting pod ${POD}".to_string()]
        )
    );
    // `$${` is the file's literal `${`: sh gets it, unchecked.
    let (_, args) = restore.as_ref().unwrap().program_and_args(&env).unwrap();
    assert_eq!(args[1], "echo ${POD:-none} back");

    let unset = |_: &str| None;
    let err = parse(&text, Path::new("demo.toml"), &Overrides::default(), &unset).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"demo.toml:16: fault[0].inject "echo deleting pod ${POD}" uses ${POD}, which is not set in the environment"#
    );
}

#[test]
fn hook_faults_report_every_misuse() {
    fails(
        &format!(
            "{FAULT_BASE}{}",
            r#"[[fault]]
name = "a"
at = "1s"
inject = "kubectl delete pod x"
[[fault]]
name = "b"
at = "1s"
inject = ["kubectl"]
sim = "down"
target = "primary"
[[fault]]
name = "c"
at = "1s"
inject = [""]
restore = ["true"]
[[fault]]
name = "d"
at = "1s"
inject = 42
restore_at = "5s"
shell = "yes"
[[fault]]
name = "e"
at = "1s"
sim = "down"
target = "primary"
timeout = "5s"
"#
        ),
        &[
            r#"demo.toml:16: fault[0].inject "kubectl delete pod x" is a string: set shell = true to run it with sh -c, or write it as an argv array"#,
            r#"demo.toml:20: fault[1].inject cannot be combined with sim (a fault either drives the simulator or runs a command)"#,
            r#"demo.toml:26: fault[2].inject starts with an empty program name (expected an argv array such as ["kubectl", "delete", "pod", "-l", "app=reviews"], or a string with shell = true)"#,
            r#"demo.toml:27: fault[2].restore needs restore_at (when to run it, e.g. restore_at = "18s")"#,
            r#"demo.toml:32: fault[3].restore_at has nothing to run: add restore = [...] (the command that heals)"#,
            r#"demo.toml:33: fault[3].shell "yes" is not true or false"#,
            r#"demo.toml:39: fault[4].timeout is only used with inject (a command hook), not with sim (timeout)"#,
        ],
    );
}

#[test]
fn max_late_pct_defaults_to_1_and_is_a_percentage() {
    let base = "[[target]]\nname = \"primary\"\nurl = \"sim:primary\"\n[load]\nrate = 200\nduration = \"30s\"\n";
    assert_eq!(compile(base).load.max_late_pct, 1.0);
    assert_eq!(
        compile(&format!("{base}max_late_pct = 2.5\n"))
            .load
            .max_late_pct,
        2.5
    );
    assert_eq!(
        compile(&format!("{base}max_late_pct = 0\n"))
            .load
            .max_late_pct,
        0.0
    );
    fails(
        &format!("{base}max_late_pct = 101\n"),
        &[
            "demo.toml:7: load.max_late_pct 101 is out of range (expected a percentage from 0 to 100, e.g. 99.9)",
        ],
    );
    fails(
        &format!("{base}max_late_pct = \"1%\"\n"),
        &[
            r#"demo.toml:7: load.max_late_pct "1%" is not a number (expected a percentage from 0 to 100, e.g. 99.9)"#,
        ],
    );
}

#[test]
fn detach_is_a_flag_of_hook_faults_only() {
    fails(
        &format!(
            "{FAULT_BASE}{}",
            r#"[[fault]]
name = "a"
at = "1s"
sim = "down"
target = "primary"
detach = true
[[fault]]
name = "b"
at = "1s"
inject = ["true"]
detach = "yes"
"#
        ),
        &[
            "demo.toml:18: fault[0].detach is only used with inject (a command hook), not with sim (detach)",
            r#"demo.toml:23: fault[1].detach "yes" is not true or false"#,
        ],
    );
}

#[test]
fn https_targets_take_tls_and_http_version_keys() {
    let plan = compile(
        r#"[[target]]
name = "primary"
url = "https://bookinfo.example.com/productpage"
connect = "127.0.0.1"
ca = "certs/ca.pem"
sni = "reviews.internal"
cert = "client.pem"
key = "client-key.pem"
http = "2"
h2_connections = 4
[load]
rate = 1
duration = "1s"
"#,
    );
    let t = &plan.targets[0];
    let Endpoint::Http(http) = &t.endpoint else {
        panic!("not http")
    };
    // "IP" alone takes the URL's port, 443 for https.
    assert_eq!(http.connect, Some("127.0.0.1:443".parse().unwrap()));
    assert_eq!(
        t.transport,
        Transport {
            tls: TlsPlan {
                ca: Some("certs/ca.pem".into()),
                insecure: false,
                sni: Some("reviews.internal".into()),
                client_cert: Some(ClientCert {
                    cert: "client.pem".into(),
                    key: "client-key.pem".into(),
                }),
            },
            http: Some(HttpVersion::H2),
            h2_connections: std::num::NonZeroU16::new(4).unwrap(),
        }
    );
}

#[test]
fn tls_and_http_version_keys_say_what_is_wrong() {
    fails(
        r#"[[target]]
name = "a"
url = "https://bookinfo.example.com/"
http = "3"
h2_connections = 0
cert = "client.pem"
[[target]]
name = "b"
url = "https://bookinfo.example.com/"
insecure = true
ca = "ca.pem"
sni = "not a name"
[[target]]
name = "c"
url = "sim:primary"
ca = "ca.pem"
insecure = "yes"
[load]
rate = 1
duration = "1s"
"#,
        &[
            r#"demo.toml:4: target[0].http "3" is not an HTTP version (expected "1.1" | "2" | "auto")"#,
            r#"demo.toml:5: target[0].h2_connections 0 is not a number of connections (expected an integer 1..=64)"#,
            r#"demo.toml:6: target[0].cert "client.pem" needs key too (a client certificate is a cert and its key, both PEM)"#,
            r#"demo.toml:10: target[1].insecure true contradicts ca (insecure verifies nothing; remove one of them)"#,
            r#"demo.toml:12: target[1].sni "not a name" is not a TLS server name (expected a DNS name such as "bookinfo.example.com" or an IP address)"#,
            r#"demo.toml:16: target[2].ca "ca.pem" is only for http targets (a sim: target trusts the simulator's own certificate when [sim] tls = true)"#,
            r#"demo.toml:17: target[2].insecure "yes" is not true or false"#,
            r#"demo.toml:17: target[2].insecure "yes" is only for http targets (a sim: target trusts the simulator's own certificate when [sim] tls = true)"#,
        ],
    );
}

#[test]
fn http_2_on_a_sim_target_needs_the_tls_simulator() {
    let text = "[[target]]\nname = \"a\"\nurl = \"sim:primary\"\nhttp = \"2\"\n[load]\nrate = 1\nduration = \"1s\"\n";
    fails(
        text,
        &[
            r#"demo.toml:4: target[0].http "2" needs [sim] tls = true (the plain simulator speaks HTTP/1.1 only; over TLS it offers h2)"#,
        ],
    );
    let plan = compile(&format!("{text}[sim]\ntls = true\n"));
    assert_eq!(plan.targets[0].transport.http, Some(HttpVersion::H2));
    assert!(plan.sim.tls);
}
