//! Starting the engine: one client per target (where it dials, with which
//! Host), the in-flight caps the open-files limit allows, the lanes on the
//! run clock, each open-model lane with its own send alarm
//! ([`crate::engine::alarm`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{RunError, RunOptions};
use crate::classify::ClassifyConfig;
use crate::engine::alarm::Alarm;
use crate::engine::buffers::BodyBudget;
use crate::engine::client::{ClientSpec, TargetClient};
use crate::engine::clock::RunClock;
use crate::engine::connect::{self, ConnectSpec, DialHost, HostPin};
use crate::engine::lane::{LaneSpec, run_lane};
use crate::engine::limits;
use crate::engine::profile::LoadProfile;
use crate::engine::resolve::Resolver;
use crate::engine::route::Route;
use crate::engine::schedule::{Schedule, SplitOf};
use crate::engine::tls::{self, TlsInputs, TlsSettings};
use crate::record::{AddressRegistry, ClusterRegistry, LaneReport, LocationRegistry, second_of};
use crate::results::summary::{TargetInfo, TlsInfo, TransportInfo};
use crate::scenario::{
    ConnectionPolicy, Endpoint, HttpEndpoint, HttpVersion, LoadModel, LoadPlan, Plan,
};
use crate::sim::SIM_TLS_NAME;
use crate::sim::Sim;
use hyper::http::uri::Authority;
use rustls::RootCertStore;
use std::path::Path;

/// Time between building the clock and its zero, so every lane is parked on
/// its first slot before traffic starts.
pub(super) const CLOCK_LEAD: Duration = Duration::from_millis(100);
/// Upper bound on requests in flight per target (open model). Far above
/// rate × timeout for any sane drill; beyond it sends become late, counted.
const MAX_IN_FLIGHT_PER_TARGET: usize = 20_000;

/// The engine under way: every lane spawned, sending on the run clock.
pub(super) struct Engine {
    /// Every lane's outcomes; closed when the last lane has ended.
    pub outcomes: mpsc::UnboundedReceiver<LaneReport>,
    pub lanes: usize,
    /// Warmup + duration: when the lanes stop sending.
    pub end: Duration,
    /// Stops the lanes (the user's interrupt, or a failed write).
    pub stop: CancellationToken,
    pub open_files_limit: u64,
    /// The Locations of redirects that ended requests, by slot.
    pub locations: Arc<LocationRegistry>,
    /// Each target's client, to read what it counted once traffic ended.
    pub clients: Vec<Arc<Route>>,
}

/// The run's slot registries every lane asks (once per name or address).
pub(super) struct Registries<'a> {
    pub clusters: &'a Arc<ClusterRegistry>,
    pub addresses: &'a Arc<AddressRegistry>,
}

/// Spawns every target's lanes; sets each target's in-flight
/// cap in its client spec and in what the results say of it.
pub(super) fn start_engine(
    opts: &RunOptions,
    specs: &mut [RouteSpec],
    infos: &mut [TargetInfo],
    classify: &ClassifyConfig,
    registries: Registries<'_>,
    clock: RunClock,
    stop: CancellationToken,
) -> Result<Engine, RunError> {
    let plan = &opts.plan;
    let end = plan.load.warmup + plan.load.duration;
    let (tx, outcomes) = mpsc::unbounded_channel();
    let lanes_per_target = opts
        .lanes_per_target
        .unwrap_or_else(|| default_lanes(specs.len()));
    let open_files_limit = limits::raise_open_files_limit();
    let caps = limits::in_flight_caps(
        open_files_limit,
        &fds_per_request(plan),
        MAX_IN_FLIGHT_PER_TARGET,
    );
    for ((spec, info), cap) in specs.iter_mut().zip(infos.iter_mut()).zip(&caps) {
        if let RouteSpec::One(spec) = spec {
            spec.max_idle = *cap;
        }
        info.in_flight_cap = Some(*cap);
    }
    let warmup_seconds = second_of(plan.load.warmup.as_micros() as u64);
    let locations = LocationRegistry::new();
    let mut lane_count = 0;
    let mut clients = Vec::new();
    for (target, cap) in caps.iter().enumerate() {
        let client = Arc::new(route(specs, target, *cap).map_err(|e| RunError::Target {
            target: plan.targets[target].name.clone(),
            message: format!("invalid Host header: {e}"),
        })?);
        clients.push(client.clone());
        let schedules = Schedule::split(split_of(&plan.load), lanes_per_target as u64, opts.shard);
        let lanes = schedules.len();
        for schedule in schedules {
            let alarm = match &schedule {
                Schedule::Open { .. } => Some(Alarm::new().map_err(|e| {
                    stop.cancel(); // lanes already started end at once
                    RunError::Alarm(e.to_string())
                })?),
                Schedule::Closed { .. } => None,
            };
            let lane = LaneSpec {
                lane: lane_count,
                target: target as u16,
                schedule,
                end,
                max_in_flight: (caps[target] / lanes).max(1),
                send_deadline: plan.load.timeout,
                alarm,
                classify: classify.clone(),
                clusters: registries.clusters.clone(),
                addresses: registries.addresses.clone(),
                locations: locations.clone(),
                warmup_seconds,
            };
            tokio::spawn(run_lane(
                lane,
                client.clone(),
                clock,
                tx.clone(),
                stop.clone(),
            ));
            lane_count += 1;
        }
    }
    drop(tx);
    Ok(Engine {
        outcomes,
        lanes: lane_count,
        end,
        stop,
        open_files_limit,
        locations,
        clients,
    })
}

/// What one target's lanes send through: its own endpoint's spec, or a
/// failover target's members (indices of targets whose spec is `One`).
#[derive(Clone, Debug)]
pub(super) enum RouteSpec {
    One(Box<ClientSpec>),
    Failover(Vec<usize>),
}

impl RouteSpec {
    /// The endpoint's spec; `None` for a failover target.
    pub(super) fn one(&self) -> Option<&ClientSpec> {
        match self {
            RouteSpec::One(spec) => Some(spec),
            RouteSpec::Failover(_) => None,
        }
    }
}

/// The route of `specs[target]`. A failover target gets clients of its
/// own, built from its members' specs with its own in-flight cap, so its
/// connections are neither shared with nor taken from the members' traffic.
fn route(
    specs: &[RouteSpec],
    target: usize,
    cap: usize,
) -> Result<Route, hyper::header::InvalidHeaderValue> {
    match &specs[target] {
        RouteSpec::One(spec) => TargetClient::new(spec).map(Route::one),
        RouteSpec::Failover(members) => {
            let clients = members.iter().map(|&m| {
                let mut spec = specs[m]
                    .one()
                    .expect("a failover member is a target with an endpoint")
                    .clone();
                spec.max_idle = cap;
                TargetClient::new(&spec)
            });
            let clients: Result<Vec<_>, _> = clients.collect();
            Ok(Route::failover(clients?))
        }
    }
}

/// How one target's load is shared out among its lanes: its profile (one
/// per target, its pieces shared by every lane).
fn split_of(load: &LoadPlan) -> SplitOf {
    let profile = LoadProfile::of(load);
    match load.model {
        LoadModel::Rate { .. } => SplitOf::Rate(profile),
        LoadModel::Concurrency { think_time, .. } => SplitOf::Users {
            profile,
            think: think_time,
        },
    }
}

/// Descriptors each in-flight request holds per target: 1 for a remote
/// target, 2 for the simulator in this process (it holds the other end);
/// a failover target's, its members' together (its pools to each member
/// stay open while it talks to another).
pub(super) fn fds_per_request(plan: &Plan) -> Vec<u64> {
    let own = |endpoint: &Endpoint| match endpoint {
        Endpoint::Sim { .. } => 2,
        Endpoint::Http(_) => 1,
        Endpoint::Failover(_) => 0,
    };
    plan.targets
        .iter()
        .map(|t| match &t.endpoint {
            Endpoint::Failover(members) => members
                .iter()
                .map(|&m| own(&plan.targets[m].endpoint))
                .sum(),
            endpoint => own(endpoint),
        })
        .collect()
}

/// Every name the run knows before traffic has a slot (and a timeline
/// column) from the start: the classifier's configured names in its order,
/// then the clusters the SLOs name.
pub(super) fn cluster_registry(plan: &Plan, classify: &ClassifyConfig) -> Arc<ClusterRegistry> {
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

/// Per target, the client (where it dials, with which Host) and what the
/// results say of it; the in-flight cap is set when the engine starts.
pub(super) fn client_specs(
    plan: &Plan,
    sim: Option<&Sim>,
) -> Result<(Vec<RouteSpec>, Vec<TargetInfo>), RunError> {
    let mut specs = Vec::new();
    let mut infos = Vec::new();
    let body_budget = BodyBudget::new(plan.load.max_buffered);
    let resolver = Arc::new(Resolver::new(&plan.dns, plan.load.connect_timeout));
    let base = plan
        .source
        .parent()
        .map_or_else(|| Path::new(".").to_path_buf(), Path::to_path_buf);
    // Read once, and only when some target may speak TLS.
    let mut platform_roots = None;
    let no_roots = RootCertStore::empty();
    for t in &plan.targets {
        let invalid = |message: String| RunError::Target {
            target: t.name.clone(),
            message,
        };
        let (uri, pin, endpoint, sim_ca) = match &t.endpoint {
            Endpoint::Failover(members) => {
                specs.push(RouteSpec::Failover(members.clone()));
                infos.push(failover_info(plan, &t.name, members));
                continue;
            }
            Endpoint::Http(h) => {
                let (uri, pin) = http_dial(h).map_err(invalid)?;
                (uri, pin, h.url.to_string(), None)
            }
            Endpoint::Sim { cluster, path } => {
                let sim = sim.expect("the simulator runs when a target uses it");
                let addr = sim.addr(*cluster);
                let endpoint = format!("sim:{}{path}", cluster.name());
                match sim.tls_ca() {
                    None => {
                        let uri = format!("http://{addr}{path}")
                            .parse()
                            .map_err(|e| invalid(format!("{e}")))?;
                        (uri, None, endpoint, None)
                    }
                    Some(ca) => {
                        // The simulator's certificate names SIM_TLS_NAME,
                        // which is pinned to its address (never resolved).
                        let port = addr.port();
                        let uri = format!("https://{SIM_TLS_NAME}:{port}{path}")
                            .parse()
                            .map_err(|e| invalid(format!("{e}")))?;
                        let pin = HostPin {
                            host: SIM_TLS_NAME.to_string(),
                            port,
                            dial_host: DialHost::Ip(addr.ip()),
                            dial_port: port,
                        };
                        (uri, Some(pin), endpoint, Some(ca.clone()))
                    }
                }
            }
        };
        let is_https = uri.scheme_str() == Some("https");
        let http = t
            .transport
            .http
            .unwrap_or(HttpVersion::default_for(is_https));
        let tls_plan = &t.transport.tls;
        // Every http target can be redirected to https; a sim target
        // speaks TLS only when the simulator does.
        let tls = if is_https || matches!(t.endpoint, Endpoint::Http(_)) {
            // A sim target trusts the simulator's CA alone.
            let platform = match sim_ca {
                Some(_) => &no_roots,
                None => platform_roots.get_or_insert_with(tls::platform_roots),
            };
            let extra: Vec<_> = sim_ca.into_iter().collect();
            let inputs = TlsInputs {
                plan: tls_plan,
                http,
                base: &base,
                platform,
                extra_roots: &extra,
            };
            let settings = TlsSettings::new(&inputs).map_err(|e| RunError::TlsFile {
                target: t.name.clone(),
                error: e,
            })?;
            Some(Arc::new(settings))
        } else {
            None
        };
        let shows_tls = is_https
            || tls_plan.insecure
            || tls_plan.ca.is_some()
            || tls_plan.sni.is_some()
            || tls_plan.client_cert.is_some();
        let request_host = uri.host().unwrap_or_default();
        let tls_info = shows_tls.then(|| TlsInfo {
            sni: tls_plan.sni.clone().unwrap_or_else(|| {
                request_host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string()
            }),
            ca: tls_plan.ca.as_ref().map(|p| p.display().to_string()),
            insecure: tls_plan.insecure,
            client_cert: tls_plan.client_cert.is_some(),
        });
        let h2_connections = match http {
            HttpVersion::H1 => 1,
            _ => t.transport.h2_connections.get(),
        };
        let host = uri
            .authority()
            .expect("a request URI has an authority")
            .to_string();
        let (dial_host, dial_port) =
            connect::dial_target(&uri, pin.as_ref()).map_err(|e| invalid(e.to_string()))?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let scheme = uri.scheme_str().unwrap_or("http");
        infos.push(TargetInfo {
            name: t.name.clone(),
            endpoint,
            dialed: format!("{scheme}://{dial_host}:{dial_port}{path}"),
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
            max_connection_age: match t.connection {
                ConnectionPolicy::KeepAlive => t.max_connection_age,
                ConnectionPolicy::New => None,
            },
            transport: TransportInfo {
                http: http.name().to_string(),
                h2_connections,
                tls: tls_info,
            },
            http_versions: Default::default(),
            tls_handshake_ms: None,
        });
        specs.push(RouteSpec::One(Box::new(ClientSpec {
            uri,
            host,
            connect: ConnectSpec {
                pin,
                connect_timeout: plan.load.connect_timeout,
                tls,
            },
            resolver: resolver.clone(),
            policy: t.connection,
            follow: t.follow_redirects,
            http,
            h2_connections,
            timeout: plan.load.timeout,
            max_body_bytes: plan.load.max_body_bytes,
            body_budget: body_budget.clone(),
            max_idle: MAX_IN_FLIGHT_PER_TARGET,
            max_connection_age: match t.connection {
                ConnectionPolicy::KeepAlive => t.max_connection_age,
                // Every connection serves one request: none gets old.
                ConnectionPolicy::New => None,
            },
        })));
    }
    // Members come before or after their failover target in the file.
    for i in 0..infos.len() {
        if let RouteSpec::Failover(members) = &specs[i] {
            let dialed: Vec<&str> = members.iter().map(|&m| infos[m].dialed.as_str()).collect();
            infos[i].dialed = dialed.join(", ");
            infos[i].transport = infos[members[0]].transport.clone();
        }
    }
    Ok((specs, infos))
}

/// What the results say of a failover target: `failover:` and its members'
/// names as its endpoint; what they dial, in order, as what it dials.
fn failover_info(plan: &Plan, name: &str, members: &[usize]) -> TargetInfo {
    let names: Vec<&str> = members
        .iter()
        .map(|&m| plan.targets[m].name.as_str())
        .collect();
    TargetInfo {
        name: name.to_string(),
        endpoint: format!("failover:{}", names.join(",")),
        dialed: String::new(),
        host: String::new(),
        connection: "failover",
        requested_rate: match plan.load.model {
            LoadModel::Rate { per_target } => Some(per_target.per_second()),
            LoadModel::Concurrency { .. } => None,
        },
        in_flight_cap: None,
        // Its requests ride its own clients, built from its members' specs
        // (and so with their `max_connection_age`); it has none of its own.
        max_connection_age: None,
        // Its first member's (set with `dialed`, once every target's is known).
        transport: TransportInfo::default(),
        http_versions: Default::default(),
        tls_handshake_ms: None,
    }
}

/// What `client_specs` would refuse in the targets' `ca`, `cert` and
/// `key` files, for `run --check`: the files are read and parsed, and
/// each problem names its target and file.
pub fn tls_file_problems(plan: &Plan) -> Vec<RunError> {
    let base = plan
        .source
        .parent()
        .map_or_else(|| Path::new(".").to_path_buf(), Path::to_path_buf);
    let platform = RootCertStore::empty();
    plan.targets
        .iter()
        .filter(|t| matches!(t.endpoint, Endpoint::Http(_)))
        .filter_map(|t| {
            let inputs = TlsInputs {
                plan: &t.transport.tls,
                http: t.transport.http.unwrap_or(HttpVersion::Auto),
                base: &base,
                platform: &platform,
                extra_roots: &[],
            };
            TlsSettings::new(&inputs)
                .err()
                .map(|error| RunError::TlsFile {
                    target: t.name.clone(),
                    error,
                })
        })
        .collect()
}

/// The request URI of an http target (its authority is the Host header:
/// the scenario's `host`, else the URL's) and where that host is dialed:
/// the `connect` address when set, else the URL's own host when `host`
/// names another one (curl's `--connect-to`).
fn http_dial(h: &HttpEndpoint) -> Result<(hyper::Uri, Option<HostPin>), String> {
    let authority: Authority = h
        .host_header
        .parse()
        .map_err(|e| format!("invalid host {:?}: {e}", h.host_header))?;
    let mut parts = h.url.clone().into_parts();
    parts.authority = Some(authority);
    let uri = hyper::Uri::from_parts(parts).map_err(|e| e.to_string())?;
    let (request_host, request_port) =
        connect::dial_target(&uri, None).map_err(|e| e.to_string())?;
    let (url_host, url_port) = connect::dial_target(&h.url, None).map_err(|e| e.to_string())?;
    let pin = |dial_host, dial_port| HostPin {
        host: request_host.to_string(),
        port: request_port,
        dial_host,
        dial_port,
    };
    let pin = match h.connect {
        Some(addr) => Some(pin(DialHost::Ip(addr.ip()), addr.port())),
        None if (&request_host, request_port) != (&url_host, url_port) => {
            Some(pin(url_host, url_port))
        }
        None => None,
    };
    Ok((uri, pin))
}

fn default_lanes(targets: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / targets.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::Overrides;

    fn plan(text: &str) -> Plan {
        crate::scenario::parse(text, Path::new("p.toml"), &Overrides::default(), &|_| None).unwrap()
    }

    #[test]
    fn the_registry_holds_the_classifiers_names_then_those_the_slos_name() {
        let plan = plan(
            "[[target]]\nname = \"primary\"\nurl = \"http://127.0.0.1:9/productpage\"\n\
             [load]\nrate = 1\nduration = \"1s\"\n\
             [clusters]\neast = [\"-east-\"]\n\
             [slo]\nexpect_clusters = [\"east\", \"west\"]\n",
        );
        let classify = ClassifyConfig::from_plan(&plan);
        let registry = cluster_registry(&plan, &classify);
        let names = registry.names();
        assert_eq!(names, ["east", "west"]);
    }

    #[test]
    fn a_simulator_target_holds_two_descriptors_per_request_a_remote_one() {
        let plan = plan(
            "[[target]]\nname = \"a\"\nurl = \"sim:primary\"\n\
             [[target]]\nname = \"b\"\nurl = \"http://127.0.0.1:9/\"\n\
             [load]\nrate = 1\nduration = \"1s\"\n",
        );
        assert_eq!(fds_per_request(&plan), [2, 1]);
    }

    /// Where the connector dials a URI, without IPv6 brackets.
    fn connector_dials(uri: &hyper::Uri, pin: Option<&HostPin>) -> (String, u16) {
        let (host, port) = connect::dial_target(uri, pin).unwrap();
        let host = match host {
            DialHost::Ip(ip) => ip.to_string(),
            DialHost::Name(name) => name,
        };
        (host, port)
    }

    fn spec_dials(spec: &ClientSpec) -> (String, u16) {
        connector_dials(&spec.uri, spec.connect.pin.as_ref())
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
            let dials = spec_dials(specs[0].one().unwrap());
            assert_eq!(
                dials,
                (host.to_string(), expected_port),
                "case {case}: {url}"
            );
            let reported: hyper::Uri = infos[0].dialed.parse().unwrap();
            assert_eq!(
                connector_dials(&reported, None),
                dials,
                "case {case}: {url}"
            );
            accepted += 1;
        }
        // Both sides of the property were exercised.
        assert!(accepted > 1000 && refused > 300, "{accepted} {refused}");
    }

    #[test]
    fn connect_is_dialled_instead_of_the_url() {
        let text = "[[target]]\nname = \"primary\"\nurl = \"http://bookinfo.example.com:8080/productpage\"\nconnect = \"127.0.0.1:9999\"\n[load]\nrate = 1\nduration = \"1s\"\n";
        let plan =
            crate::scenario::parse(text, Path::new("p.toml"), &Overrides::default(), &|_| None)
                .unwrap();
        let (specs, infos) = client_specs(&plan, None).unwrap();
        assert_eq!(
            spec_dials(specs[0].one().unwrap()),
            ("127.0.0.1".into(), 9999)
        );
        assert_eq!(infos[0].dialed, "http://127.0.0.1:9999/productpage");
        assert_eq!(specs[0].one().unwrap().host, "bookinfo.example.com:8080");
        // The request keeps the real host (HTTP/2's :authority, the pool key).
        assert_eq!(
            specs[0].one().unwrap().uri.to_string(),
            "http://bookinfo.example.com:8080/productpage"
        );
    }

    #[test]
    fn a_host_other_than_the_urls_is_sent_and_the_url_is_dialled() {
        let text = "[[target]]\nname = \"primary\"\nurl = \"http://127.0.0.1:8080/productpage\"\nhost = \"bookinfo.example.com\"\n[load]\nrate = 1\nduration = \"1s\"\n";
        let plan =
            crate::scenario::parse(text, Path::new("p.toml"), &Overrides::default(), &|_| None)
                .unwrap();
        let (specs, infos) = client_specs(&plan, None).unwrap();
        assert_eq!(
            specs[0].one().unwrap().uri.to_string(),
            "http://bookinfo.example.com/productpage"
        );
        assert_eq!(
            spec_dials(specs[0].one().unwrap()),
            ("127.0.0.1".into(), 8080)
        );
        assert_eq!(infos[0].dialed, "http://127.0.0.1:8080/productpage");
        // A redirect to https on the same host stays on the URL's address.
        let https: hyper::Uri = "https://bookinfo.example.com/".parse().unwrap();
        assert_eq!(
            connector_dials(&https, specs[0].one().unwrap().connect.pin.as_ref()),
            ("127.0.0.1".into(), 443)
        );
    }
}
