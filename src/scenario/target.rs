//! `[[target]]` → [`TargetPlan`]s: names, where each sends traffic (the
//! embedded simulator or a real http endpoint), and how it connects.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use hyper::Uri;
use hyper::http::uri::{Authority, PathAndQuery};

use crate::sim::Cluster;

use super::compile::{Cx, Text};
use super::load::CONNECTIONS;
use super::plan::{
    ClientCert, ConnectionPolicy, Endpoint, FollowRedirects, HttpEndpoint, HttpVersion, TargetPlan,
    TlsPlan, Transport,
};
use super::raw::{Item, Origin, RawTarget, Value};

const URL_EXPECTED: &str = r#"expected "http://host[:port]/path", "https://host[:port]/path", "sim:primary" or "sim:secondary""#;
const MAX_H2_CONNECTIONS: u16 = 64;
const SIM_DEFAULT_PATH: &str = "/productpage";
/// The aggregate row of every output; a target of that name would collide.
const RESERVED_NAME: &str = "all";

/// One target as far as it compiled; faults look targets up by name even
/// when some other part of them is wrong.
pub(super) struct CompiledTarget {
    pub name: Option<String>,
    pub endpoint: Option<Endpoint>,
    pub plan: Option<TargetPlan>,
}

const FOLLOW_REDIRECTS: &[(&str, FollowRedirects)] = &[
    ("no", FollowRedirects::No),
    ("same-host", FollowRedirects::SameHost),
];
const FAILOVER_EXPECTED: &str =
    r#"expected the names of at least two other targets, e.g. failover = ["primary", "secondary"]"#;

pub(super) fn compile(
    raws: &[RawTarget],
    missing: Option<&Origin>,
    default_connection: ConnectionPolicy,
    default_max_age: Option<Duration>,
    cx: &mut Cx<'_>,
) -> Vec<CompiledTarget> {
    if let Some(origin) = missing.filter(|_| raws.is_empty()) {
        let message =
            r#"is required (at least one [[target]] with name and url, e.g. url = "sim:primary")"#;
        cx.problem(origin, message);
    }
    let mut targets: Vec<_> = raws
        .iter()
        .map(|raw| compile_one(raw, default_connection, default_max_age, cx))
        .collect();
    let mut first_use: HashMap<&str, &Origin> = HashMap::new();
    for (target, raw) in targets.iter().zip(raws) {
        let (Some(name), Some(item)) = (&target.name, &raw.name) else {
            continue;
        };
        match first_use.get(name.as_str()) {
            Some(first) => {
                let message = format!("{name:?} is already used by {}", owner(first));
                cx.problem(&item.origin, message);
            }
            None => {
                first_use.insert(name, &raw.origin);
            }
        }
    }
    resolve_failovers(&mut targets, raws, default_connection, cx);
    targets
}

/// A failover target's names → the members' indices, once every target's
/// name is known: each must name another target that is not a failover
/// target itself (no chains, no cycles), at least two, none twice.
fn resolve_failovers(
    targets: &mut [CompiledTarget],
    raws: &[RawTarget],
    default_connection: ConnectionPolicy,
    cx: &mut Cx<'_>,
) {
    let names: Vec<Option<String>> = targets.iter().map(|t| t.name.clone()).collect();
    let is_failover: Vec<bool> = raws.iter().map(|r| r.failover.is_some()).collect();
    for (i, raw) in raws.iter().enumerate() {
        let Some(item) = &raw.failover else {
            continue;
        };
        let Some(written) = failover_names(item, cx) else {
            continue;
        };
        let mut members = Vec::new();
        let mut valid = true;
        for text in &written {
            let found = names
                .iter()
                .position(|n| n.as_deref() == Some(text.value.as_str()));
            let problem = match found {
                None => {
                    let known: Vec<&str> = names
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i && !is_failover[*j])
                        .filter_map(|(_, n)| n.as_deref())
                        .collect();
                    Some(format!(
                        "{} names no target (targets it can name: {})",
                        text.quoted(),
                        known.join(", ")
                    ))
                }
                Some(j) if j == i => Some(format!(
                    "{} is this target itself ({FAILOVER_EXPECTED})",
                    text.quoted()
                )),
                Some(j) if is_failover[j] => Some(format!(
                    "{} is a failover target itself (a failover names targets with a url)",
                    text.quoted()
                )),
                Some(j) if members.contains(&j) => {
                    Some(format!("{} is named twice", text.quoted()))
                }
                Some(_) => None,
            };
            match (problem, found) {
                (Some(problem), _) => {
                    cx.problem(&item.origin, problem);
                    valid = false;
                }
                (None, Some(j)) => members.push(j),
                (None, None) => unreachable!("an unknown name is a problem"),
            }
        }
        if valid && members.len() < 2 {
            let message = format!(
                "{} names {} target(s) ({FAILOVER_EXPECTED})",
                item.value,
                members.len()
            );
            cx.problem(&item.origin, message);
            valid = false;
        }
        let target = &mut targets[i];
        if valid {
            let endpoint = Endpoint::Failover(members);
            target.endpoint = Some(endpoint.clone());
            target.plan = target.name.clone().map(|name| TargetPlan {
                name,
                endpoint,
                connection: default_connection,
                follow_redirects: FollowRedirects::No,
                transport: Default::default(),
                // Its members' own apply to the connections it rides.
                max_connection_age: None,
            });
        }
    }
}

/// The plain simulator speaks HTTP/1.1 only: `http = "2"` on a sim target
/// needs `[sim] tls = true` (h2 by ALPN).
pub(super) fn check_sim_http(raws: &[RawTarget], targets: &[CompiledTarget], cx: &mut Cx<'_>) {
    for (raw, target) in raws.iter().zip(targets) {
        let Some(plan) = &target.plan else { continue };
        if matches!(plan.endpoint, Endpoint::Sim { .. })
            && plan.transport.http == Some(HttpVersion::H2)
            && let Some(item) = &raw.http
        {
            let message = format!(
                "{} needs [sim] tls = true (the plain simulator speaks HTTP/1.1 only; over TLS it offers h2)",
                item.value
            );
            cx.problem(&item.origin, message);
        }
    }
}

/// `failover`'s value: an array of strings, each interpolated.
fn failover_names(item: &Item, cx: &mut Cx<'_>) -> Option<Vec<Text>> {
    let Value::Array(values) = &item.value else {
        let message = format!("{} is not an array ({FAILOVER_EXPECTED})", item.value);
        cx.problem(&item.origin, message);
        return None;
    };
    let texts: Vec<Option<Text>> = values
        .iter()
        .map(|value| {
            let element = Item {
                value: value.clone(),
                origin: item.origin.clone(),
            };
            cx.text(&element, "a target name")
        })
        .collect();
    texts.into_iter().collect()
}

/// How a problem message refers to the table or flag a value came from.
pub(super) fn owner(origin: &Origin) -> &str {
    match origin {
        Origin::File { key, .. } => key,
        Origin::Flag(flag) => flag,
    }
}

fn compile_one(
    raw: &RawTarget,
    default_connection: ConnectionPolicy,
    default_max_age: Option<Duration>,
    cx: &mut Cx<'_>,
) -> CompiledTarget {
    let name = cx
        .required(&raw.name, &raw.origin, "name", r#"name = "primary""#)
        .and_then(|item| cx.text(item, r#"a target name such as "primary""#))
        .and_then(|name| check_name(name, cx));
    if raw.failover.is_some() {
        // Virtual: where it sends is its members'; resolved once every
        // target's name is known ([`resolve_failovers`]).
        let own = [
            ("url", &raw.url),
            ("host", &raw.host),
            ("connect", &raw.connect),
            ("connection", &raw.connection),
            ("follow_redirects", &raw.follow_redirects),
            ("ca", &raw.ca),
            ("insecure", &raw.insecure),
            ("sni", &raw.sni),
            ("cert", &raw.cert),
            ("key", &raw.key),
            ("http", &raw.http),
            ("h2_connections", &raw.h2_connections),
            ("max_connection_age", &raw.max_connection_age),
        ];
        for (key, item) in own {
            if let Some(item) = item {
                let message = format!(
                    "{} is not used with failover (a failover target sends through the targets it names, with their {key})",
                    item.value
                );
                cx.problem(&item.origin, message);
            }
        }
        return CompiledTarget {
            name,
            endpoint: None,
            plan: None,
        };
    }
    let url = cx
        .required(
            &raw.url,
            &raw.origin,
            "url",
            r#"url = "sim:primary" (or failover = ["primary", "secondary"])"#,
        )
        .and_then(|item| cx.text(item, URL_EXPECTED))
        .and_then(|url| parse_url(&url, cx));
    let host = raw
        .host
        .as_ref()
        .and_then(|item| cx.text(item, r#"a Host header such as "bookinfo.example.com""#));
    let connect = raw
        .connect
        .as_ref()
        .and_then(|item| cx.text(item, r#""IP:port""#));
    let connection = match &raw.connection {
        Some(item) => cx.choice(item, "a connection policy", CONNECTIONS),
        None => Some(default_connection),
    };
    let max_connection_age = match &raw.max_connection_age {
        Some(item) => cx.positive_duration(item).map(Some),
        None => Some(default_max_age),
    };
    let follow_redirects = match &raw.follow_redirects {
        Some(item) => cx.choice(item, "a redirect policy", FOLLOW_REDIRECTS),
        None => Some(FollowRedirects::No),
    };

    let tls = tls_plan(raw, cx);
    let http = raw.http.as_ref().map(|item| {
        cx.choice(
            item,
            "an HTTP version",
            &[
                ("1.1", HttpVersion::H1),
                ("2", HttpVersion::H2),
                ("auto", HttpVersion::Auto),
            ],
        )
    });
    let h2_connections = match &raw.h2_connections {
        None => Some(std::num::NonZeroU16::MIN),
        Some(item) => h2_connections(item, cx),
    };
    let transport = (|| {
        Some(Transport {
            tls: tls?,
            http: match http {
                Some(choice) => Some(choice?),
                None => None,
            },
            h2_connections: h2_connections?,
        })
    })();

    let endpoint = match url {
        Some(Url::Sim { cluster, path }) => {
            let tls_keys = [&raw.ca, &raw.insecure, &raw.sni, &raw.cert, &raw.key];
            for item in tls_keys.into_iter().flatten() {
                let message = format!(
                    "{} is only for http targets (a sim: target trusts the simulator's own certificate when [sim] tls = true)",
                    item.value
                );
                cx.problem(&item.origin, message);
            }
            for text in host.iter().chain(&connect) {
                let message = format!(
                    "{} is only for http targets (a sim: target is served in-process)",
                    text.quoted()
                );
                cx.problem(&text.origin, message);
            }
            Some(Endpoint::Sim { cluster, path })
        }
        Some(Url::Http(url)) => http_endpoint(url, host, connect, cx).map(Endpoint::Http),
        None => None,
    };
    let plan = (|| {
        Some(TargetPlan {
            name: name.clone()?,
            endpoint: endpoint.clone()?,
            connection: connection?,
            max_connection_age: max_connection_age?,
            follow_redirects: follow_redirects?,
            transport: transport.clone()?,
        })
    })();
    CompiledTarget {
        name,
        endpoint,
        plan,
    }
}

/// `ca`, `insecure`, `sni`, `cert` and `key`: what the files are is
/// checked when the run starts (they are read then, and named if bad).
fn tls_plan(raw: &RawTarget, cx: &mut Cx<'_>) -> Option<TlsPlan> {
    let path = |item: &Option<Item>, cx: &mut Cx<'_>| -> Option<Option<std::path::PathBuf>> {
        match item {
            None => Some(None),
            Some(item) => cx
                .text(item, "a path to a PEM file")
                .map(|t| Some(t.value.into())),
        }
    };
    let ca = path(&raw.ca, cx);
    let cert = path(&raw.cert, cx);
    let key = path(&raw.key, cx);
    let insecure = match &raw.insecure {
        None => Some(false),
        Some(Item {
            value: Value::Bool(b),
            ..
        }) => Some(*b),
        Some(item) => {
            cx.problem(&item.origin, format!("{} is not true or false", item.value));
            None
        }
    };
    let sni = match &raw.sni {
        None => Some(None),
        Some(item) => cx
            .text(item, r#"a TLS server name such as "bookinfo.example.com""#)
            .and_then(|text| {
                let valid = rustls::pki_types::ServerName::try_from(text.value.as_str()).is_ok();
                if !valid {
                    let message = format!(
                        "{} is not a TLS server name (expected a DNS name such as \"bookinfo.example.com\" or an IP address)",
                        text.quoted()
                    );
                    cx.problem(&text.origin, message);
                }
                valid.then_some(Some(text.value))
            }),
    };
    let client_cert = match (cert?, key?, &raw.cert, &raw.key) {
        (Some(cert), Some(key), _, _) => Some(ClientCert { cert, key }),
        (None, None, _, _) => None,
        (Some(_), None, Some(item), _) | (None, Some(_), _, Some(item)) => {
            let other = if raw.cert.is_some() { "key" } else { "cert" };
            let message = format!(
                "{} needs {other} too (a client certificate is a cert and its key, both PEM)",
                item.value
            );
            cx.problem(&item.origin, message);
            return None;
        }
        _ => unreachable!("a path is set only from its item"),
    };
    if let (Some(true), Some(Some(_)), Some(item)) = (insecure, &ca, &raw.insecure) {
        let message =
            "true contradicts ca (insecure verifies nothing; remove one of them)".to_string();
        cx.problem(&item.origin, message);
        return None;
    }
    Some(TlsPlan {
        ca: ca?,
        insecure: insecure?,
        sni: sni?,
        client_cert,
    })
}

fn h2_connections(item: &Item, cx: &mut Cx<'_>) -> Option<std::num::NonZeroU16> {
    let n = match item.value {
        Value::Int(n) => u16::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_H2_CONNECTIONS).contains(n)),
        _ => None,
    };
    if n.is_none() {
        let message = format!(
            "{} is not a number of connections (expected an integer 1..={MAX_H2_CONNECTIONS})",
            item.value
        );
        cx.problem(&item.origin, message);
    }
    n.and_then(std::num::NonZeroU16::new)
}

fn check_name(name: Text, cx: &mut Cx<'_>) -> Option<String> {
    let valid = !name.value.is_empty()
        && name
            .value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !valid {
        let message = format!(
            "{} is not a valid target name (expected letters, digits, \"_\", \".\", \"-\")",
            name.quoted()
        );
        cx.problem(&name.origin, message);
        return None;
    }
    if name.value == RESERVED_NAME {
        let message = format!(
            "{} is reserved for the aggregate row of the outputs (choose another name)",
            name.quoted()
        );
        cx.problem(&name.origin, message);
        return None;
    }
    Some(name.value)
}

enum Url {
    Sim { cluster: Cluster, path: String },
    Http(Uri),
}

fn parse_url(url: &Text, cx: &mut Cx<'_>) -> Option<Url> {
    let problem = match try_parse_url(&url.value) {
        Ok(parsed) => return Some(parsed),
        Err(UrlProblem::NotAUrl) => format!("{} is not a URL ({URL_EXPECTED})", url.quoted()),
        Err(UrlProblem::Scheme(scheme)) => format!(
            "{} has an unsupported scheme {scheme:?} ({URL_EXPECTED})",
            url.quoted()
        ),
        Err(UrlProblem::UserInfo) => format!(
            "{} has user info (user@), which is not supported ({URL_EXPECTED})",
            url.quoted()
        ),
        Err(UrlProblem::Port(port)) => format!(
            "{} has port {port:?}, which is not a TCP port (expected 1 to 65535 without leading zeros, e.g. \"http://10.0.0.7:8080/productpage\"; no port means 80)",
            url.quoted()
        ),
        Err(UrlProblem::SimCluster) => format!(
            "{} names no simulated cluster (expected \"sim:primary\" or \"sim:secondary\", optionally followed by a path such as /productpage)",
            url.quoted()
        ),
        Err(UrlProblem::SimPath) => format!(
            "{} has an invalid path (expected e.g. \"sim:primary/productpage?u=normal\")",
            url.quoted()
        ),
    };
    cx.problem(&url.origin, problem);
    None
}

#[derive(Debug, PartialEq)]
enum UrlProblem {
    NotAUrl,
    Scheme(String),
    UserInfo,
    /// What follows the host's `:`, when it is not a port the client would
    /// dial as written (the client silently dials 80 for any port it cannot read).
    Port(String),
    SimCluster,
    SimPath,
}

fn try_parse_url(url: &str) -> Result<Url, UrlProblem> {
    if let Some(rest) = url.strip_prefix("sim:") {
        let (cluster, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, SIM_DEFAULT_PATH),
        };
        let cluster = Cluster::ALL
            .into_iter()
            .find(|c| c.name() == cluster)
            .ok_or(UrlProblem::SimCluster)?;
        let path = if path.starts_with('?') {
            format!("{SIM_DEFAULT_PATH}{path}")
        } else {
            path.to_string()
        };
        PathAndQuery::from_str(&path).map_err(|_| UrlProblem::SimPath)?;
        return Ok(Url::Sim { cluster, path });
    }
    let uri = Uri::from_str(url).map_err(|_| UrlProblem::NotAUrl)?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(UrlProblem::NotAUrl);
    };
    match scheme {
        "http" | "https" => {}
        other => return Err(UrlProblem::Scheme(other.to_string())),
    }
    if authority.as_str().contains('@') {
        return Err(UrlProblem::UserInfo);
    }
    check_authority(authority.as_str())?;
    if uri.path_and_query().is_some() {
        return Ok(Url::Http(uri));
    }
    // "http://host" means "/": make that explicit so the plan always holds a path.
    let mut parts = uri.into_parts();
    parts.path_and_query = Some(PathAndQuery::from_static("/"));
    Uri::from_parts(parts)
        .map(Url::Http)
        .map_err(|_| UrlProblem::NotAUrl)
}

/// The host must be there and the port, when written, must be exactly what
/// the client dials: `Uri` accepts `:99999`, `:8a` and `:` and leaves the
/// port unset, and the connector then dials port 80.
fn check_authority(authority: &str) -> Result<(), UrlProblem> {
    let (host, after_host) = match authority.strip_prefix('[') {
        Some(rest) => {
            let end = rest.find(']').ok_or(UrlProblem::NotAUrl)?;
            (&rest[..end], &rest[end + 1..])
        }
        None => match authority.rfind(':') {
            Some(i) => (&authority[..i], &authority[i..]),
            None => (authority, ""),
        },
    };
    if host.is_empty() {
        return Err(UrlProblem::NotAUrl);
    }
    if after_host.is_empty() {
        return Ok(());
    }
    let port = after_host.strip_prefix(':').ok_or(UrlProblem::NotAUrl)?;
    let valid = !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && !port.starts_with('0')
        && port.parse::<u16>().is_ok();
    if valid {
        Ok(())
    } else {
        Err(UrlProblem::Port(port.to_string()))
    }
}

fn http_endpoint(
    url: Uri,
    host: Option<Text>,
    connect: Option<Text>,
    cx: &mut Cx<'_>,
) -> Option<HttpEndpoint> {
    let authority = url.authority().map(Authority::as_str).unwrap_or_default();
    let host_header = match host {
        None => Some(authority.to_string()),
        Some(host) => {
            let valid = Authority::from_str(&host.value).is_ok() && !host.value.contains('@');
            if !valid {
                let message = format!(
                    "{} is not a host name (expected e.g. \"bookinfo.example.com\" or \"bookinfo.example.com:8080\")",
                    host.quoted()
                );
                cx.problem(&host.origin, message);
            }
            valid.then_some(host.value)
        }
    };
    let connect = match connect {
        None => Some(None),
        Some(text) => {
            let default_port = if url.scheme_str() == Some("https") {
                443
            } else {
                80
            };
            let port = url.port_u16().unwrap_or(default_port);
            let addr = parse_connect(&text.value, port);
            if addr.is_none() {
                let message = format!(
                    "{} is not an IP address to dial (expected \"IP:port\", \"IP\" or \"[IPv6]:port\", port > 0; host names are not resolved here)",
                    text.quoted()
                );
                cx.problem(&text.origin, message);
            }
            addr.map(Some)
        }
    };
    Some(HttpEndpoint {
        url,
        host_header: host_header?,
        connect: connect?,
    })
}

/// `"IP:port"`, `"[IPv6]:port"`, or a bare IP dialled on the URL's port.
fn parse_connect(text: &str, url_port: u16) -> Option<SocketAddr> {
    let addr = SocketAddr::from_str(text).ok().or_else(|| {
        let bare = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        IpAddr::from_str(bare)
            .ok()
            .map(|ip| SocketAddr::new(ip, url_port))
    })?;
    (addr.port() != 0).then_some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(url: &str) -> (Cluster, String) {
        match try_parse_url(url) {
            Ok(Url::Sim { cluster, path }) => (cluster, path),
            _ => panic!("{url} is not a sim url"),
        }
    }

    fn http(url: &str) -> String {
        match try_parse_url(url) {
            Ok(Url::Http(uri)) => uri.to_string(),
            _ => panic!("{url} is not an http url"),
        }
    }

    fn problem(url: &str) -> UrlProblem {
        match try_parse_url(url) {
            Err(problem) => problem,
            Ok(_) => panic!("{url} parsed"),
        }
    }

    #[test]
    fn sim_urls_default_to_the_productpage() {
        assert_eq!(
            sim("sim:primary"),
            (Cluster::Primary, "/productpage".into())
        );
        assert_eq!(
            sim("sim:secondary/health"),
            (Cluster::Secondary, "/health".into())
        );
        assert_eq!(
            sim("sim:primary?u=normal"),
            (Cluster::Primary, "/productpage?u=normal".into())
        );
    }

    #[test]
    fn http_urls_always_have_a_path() {
        assert_eq!(http("http://10.0.0.7"), "http://10.0.0.7/");
        assert_eq!(
            http("http://h:8080/productpage?x=1"),
            "http://h:8080/productpage?x=1"
        );
    }

    #[test]
    fn other_urls_say_what_is_wrong() {
        assert_eq!(problem("sim:tertiary"), UrlProblem::SimCluster);
        assert_eq!(problem("sim:"), UrlProblem::SimCluster);
        assert_eq!(http("https://h"), "https://h/");
        assert_eq!(problem("ftp://h/"), UrlProblem::Scheme("ftp".into()));
        assert_eq!(problem("http://u:p@h/"), UrlProblem::UserInfo);
        assert_eq!(problem("bookinfo.example.com"), UrlProblem::NotAUrl);
        assert_eq!(problem("/productpage"), UrlProblem::NotAUrl);
        assert_eq!(problem("http://"), UrlProblem::NotAUrl);
        assert_eq!(problem("not a url"), UrlProblem::NotAUrl);
    }

    #[test]
    fn ports_the_client_would_not_dial_as_written_are_refused() {
        let port = |p: &str| UrlProblem::Port(p.into());
        assert_eq!(problem("http://127.0.0.1:99999/productpage"), port("99999"));
        assert_eq!(problem("http://127.0.0.1:65536/"), port("65536"));
        assert_eq!(problem("http://127.0.0.1:8a/"), port("8a"));
        assert_eq!(problem("http://127.0.0.1:/"), port(""));
        assert_eq!(problem("http://127.0.0.1:0/"), port("0"));
        assert_eq!(problem("http://127.0.0.1:080/"), port("080"));
        assert_eq!(problem("http://[::1]:70000/"), port("70000"));
        assert_eq!(http("http://127.0.0.1:65535/"), "http://127.0.0.1:65535/");
        assert_eq!(http("http://[::1]:1/x"), "http://[::1]:1/x");
        assert_eq!(http("http://[::1]/x"), "http://[::1]/x");
    }

    #[test]
    fn connect_takes_the_url_port_when_only_an_ip_is_given() {
        let addr = |s: &str| SocketAddr::from_str(s).unwrap();
        assert_eq!(
            parse_connect("10.0.0.7:8080", 80),
            Some(addr("10.0.0.7:8080"))
        );
        assert_eq!(parse_connect("10.0.0.7", 8081), Some(addr("10.0.0.7:8081")));
        assert_eq!(parse_connect("[::1]:80", 1), Some(addr("[::1]:80")));
        assert_eq!(parse_connect("::1", 80), Some(addr("[::1]:80")));
        assert_eq!(parse_connect("[::1]", 80), Some(addr("[::1]:80")));
        assert_eq!(parse_connect("ingress.local:80", 80), None);
        assert_eq!(parse_connect("10.0.0.7:0", 80), None);
        assert_eq!(parse_connect("", 80), None);
    }
}
