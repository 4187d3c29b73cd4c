//! `[dns]` → [`DnsPlan`]: which nameservers answer the targets' host names
//! (default: the system's resolv.conf) and how long their answers are kept.

use std::net::{IpAddr, SocketAddr};

use super::compile::Cx;
use super::duration;
use super::plan::DnsPlan;
use super::raw::{Item, RawDns, Value};

const NAMESERVER_EXPECTED: &str = r#"expected "IP:port" or "IP" (port 53), e.g. "10.0.0.2:53""#;

pub(super) fn compile(raw: &RawDns, cx: &mut Cx<'_>) -> Option<DnsPlan> {
    let nameservers = match &raw.nameservers {
        Some(item) => nameservers(item, cx),
        None => Some(Vec::new()),
    };
    let min_ttl = match &raw.min_ttl {
        Some(item) => cx.duration(item).map(Some),
        None => Some(None),
    };
    let max_ttl = match &raw.max_ttl {
        Some(item) => cx.positive_duration(item).map(Some),
        None => Some(None),
    };
    if let (Some(Some(min)), Some(Some(max)), Some(item)) = (min_ttl, max_ttl, &raw.max_ttl)
        && max < min
    {
        let message = format!(
            "{} must be ≥ dns.min_ttl ({})",
            item.value,
            duration::show(min)
        );
        cx.problem(&item.origin, message);
        return None;
    }
    Some(DnsPlan {
        nameservers: nameservers?,
        min_ttl: min_ttl?,
        max_ttl: max_ttl?,
    })
}

fn nameservers(item: &Item, cx: &mut Cx<'_>) -> Option<Vec<SocketAddr>> {
    let Value::Array(values) = &item.value else {
        let message = format!(
            "{} is not an array (expected [\"IP:port\", ...])",
            item.value
        );
        cx.problem(&item.origin, message);
        return None;
    };
    if values.is_empty() {
        let message = "is empty (expected at least one \"IP:port\"; leave the key out to use \
                       the system's resolv.conf)";
        cx.problem(&item.origin, message);
        return None;
    }
    let mut found = Vec::with_capacity(values.len());
    let mut ok = true;
    for value in values {
        // Each element is a string value like any other: `${VAR}` works.
        let element = Item {
            value: value.clone(),
            origin: item.origin.clone(),
        };
        let Some(text) = cx.text(&element, r#""IP:port""#) else {
            ok = false;
            continue;
        };
        match nameserver(&text.value) {
            Some(addr) => found.push(addr),
            None => {
                ok = false;
                let message = format!(
                    "{} is not a nameserver address ({NAMESERVER_EXPECTED})",
                    text.quoted()
                );
                cx.problem(&item.origin, message);
            }
        }
    }
    ok.then_some(found)
}

/// `IP:port`, `[v6]:port`, or a bare IP on port 53. A host name is refused:
/// a nameserver cannot be found by asking one.
fn nameserver(text: &str) -> Option<SocketAddr> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr);
    }
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, 53))
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::scenario::{Overrides, Plan, ScenarioError};

    fn parse(tables: &str) -> Result<Plan, ScenarioError> {
        let text = format!(
            "[[target]]\nname = \"a\"\nurl = \"http://bookinfo.test:8080/\"\n\
             [load]\nrate = 1\nduration = \"1s\"\n{tables}"
        );
        crate::scenario::parse(&text, Path::new("d.toml"), &Overrides::default(), &|_| None)
    }

    #[test]
    fn dns_table_compiles_to_nameservers_and_ttl_clamps() {
        let plan = parse("[dns]\nnameservers = [\"127.0.0.1:5353\", \"10.0.0.2\"]\nmin_ttl = \"1s\"\nmax_ttl = \"30s\"\n").unwrap();
        assert_eq!(
            plan.dns,
            DnsPlan {
                nameservers: vec![
                    "127.0.0.1:5353".parse().unwrap(),
                    "10.0.0.2:53".parse().unwrap()
                ],
                min_ttl: Some(Duration::from_secs(1)),
                max_ttl: Some(Duration::from_secs(30)),
            }
        );
        assert_eq!(parse("").unwrap().dns, DnsPlan::default(), "the system's");
    }

    #[test]
    fn max_connection_age_is_loads_unless_the_target_sets_its_own() {
        let plan = parse("max_connection_age = \"2s\"\n").unwrap();
        assert_eq!(plan.load.max_connection_age, Some(Duration::from_secs(2)));
        assert_eq!(
            plan.targets[0].max_connection_age,
            Some(Duration::from_secs(2))
        );
        assert_eq!(parse("").unwrap().targets[0].max_connection_age, None);
    }

    #[test]
    fn bad_dns_keys_are_named_with_their_line() {
        let err = parse("[dns]\nnameservers = [\"dns.example.com\"]\nmin_ttl = \"5s\"\nmax_ttl = \"1s\"\nport = 53\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "d.toml:8: dns.nameservers \"dns.example.com\" is not a nameserver address"
            ),
            "{err}"
        );
        assert!(
            err.contains("d.toml:10: dns.max_ttl \"1s\" must be ≥ dns.min_ttl (5s)"),
            "{err}"
        );
        assert!(
            err.contains("d.toml:11: dns.port is not a known key"),
            "{err}"
        );
        let err = parse("[dns]\nnameservers = []\n").unwrap_err().to_string();
        assert!(err.contains("d.toml:8: dns.nameservers is empty"), "{err}");
        let err = parse("max_connection_age = \"0s\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("d.toml:7: load.max_connection_age \"0s\" must be > 0"),
            "{err}"
        );
    }

    #[test]
    fn a_nameserver_is_an_address_with_port_53_by_default() {
        assert_eq!(
            nameserver("127.0.0.1:5353"),
            Some("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(nameserver("10.0.0.2"), Some("10.0.0.2:53".parse().unwrap()));
        assert_eq!(nameserver("[::1]:53"), Some("[::1]:53".parse().unwrap()));
        assert_eq!(nameserver("::1"), Some("[::1]:53".parse().unwrap()));
        assert_eq!(nameserver("dns.example.com:53"), None);
        assert_eq!(nameserver("127.0.0.1:"), None);
    }
}
