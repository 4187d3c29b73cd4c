//! `[sim]` → [`SimConfig`]: how the embedded Bookinfo behaves (which
//! reviews versions answer, base latency, page template, where it listens).

use std::net::SocketAddr;

use crate::sim::{SimConfig, Template};

use super::compile::Cx;
use super::raw::{Item, RawSim, Value};

const MIX_EXPECTED: &str = "expected [v1, v2, v3] in percent, summing to 100, e.g. [50, 30, 20]";

pub(super) fn compile(raw: &RawSim, cx: &mut Cx<'_>) -> Option<SimConfig> {
    let defaults = SimConfig::default();
    let reviews_mix = match &raw.reviews_mix {
        Some(item) => reviews_mix(item, cx),
        None => Some(defaults.reviews_mix),
    };
    let base_latency = match &raw.latency {
        Some(item) => cx.duration(item),
        None => Some(defaults.base_latency),
    };
    let template = match &raw.template {
        Some(item) => cx.choice(
            item,
            "a page template",
            &[("current", Template::Current), ("legacy", Template::Legacy)],
        ),
        None => Some(defaults.template),
    };
    let tls = match &raw.tls {
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
    let listen = match &raw.listen {
        None => Some(None),
        Some(item) => listen(item, cx).map(Some),
    };
    Some(SimConfig {
        listen: listen?,
        tls: tls?,
        reviews_mix: reviews_mix?,
        base_latency: base_latency?,
        template: template?,
    })
}

fn reviews_mix(item: &Item, cx: &mut Cx<'_>) -> Option<[u8; 3]> {
    let percents: Option<Vec<u8>> = match &item.value {
        Value::Array(values) => values
            .iter()
            .map(|v| match v {
                Value::Int(p) => u8::try_from(*p).ok().filter(|&p| p <= 100),
                _ => None,
            })
            .collect(),
        _ => None,
    };
    let Some(Ok(mix)) = percents.map(<[u8; 3]>::try_from) else {
        let message = format!("{} is not three percentages ({MIX_EXPECTED})", item.value);
        cx.problem(&item.origin, message);
        return None;
    };
    let sum: u32 = mix.iter().map(|&p| u32::from(p)).sum();
    if sum != 100 {
        let message = format!("{} sums to {sum} ({MIX_EXPECTED})", item.value);
        cx.problem(&item.origin, message);
        return None;
    }
    Some(mix)
}

const LISTEN_EXPECTED: &str = "expected [primary, secondary] loopback addresses, e.g. [\"127.0.0.1:9080\", \"127.0.0.1:9081\"]";

/// Two loopback `IP:port`s, primary first; the same port twice only as 0.
fn listen(item: &Item, cx: &mut Cx<'_>) -> Option<[SocketAddr; 2]> {
    let addrs: Option<Vec<SocketAddr>> = match &item.value {
        Value::Array(values) => values
            .iter()
            .map(|v| match v {
                Value::Str(s) => s
                    .parse::<SocketAddr>()
                    .ok()
                    .filter(|a| a.ip().is_loopback()),
                _ => None,
            })
            .collect(),
        _ => None,
    };
    let Some(Ok(pair)) = addrs.map(<[SocketAddr; 2]>::try_from) else {
        let message = format!(
            "{} is not two loopback addresses ({LISTEN_EXPECTED})",
            item.value
        );
        cx.problem(&item.origin, message);
        return None;
    };
    if pair[0] == pair[1] && pair[0].port() != 0 {
        let message = format!("{} names one address twice ({LISTEN_EXPECTED})", item.value);
        cx.problem(&item.origin, message);
        return None;
    }
    Some(pair)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::scenario::{Overrides, parse};

    const TARGET: &str =
        "[[target]]\nname = \"a\"\nurl = \"sim:primary\"\n[load]\nrate = 1\nduration = \"2s\"\n";

    fn parsed(text: &str) -> Result<crate::scenario::Plan, String> {
        let text = format!("{TARGET}{text}");
        parse(&text, Path::new("t.toml"), &Overrides::default(), &|_| None)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn listen_takes_two_loopback_addresses() {
        let plan = parsed("[sim]\nlisten = [\"127.0.0.1:9080\", \"[::1]:9081\"]\n").unwrap();
        assert_eq!(
            plan.sim.listen,
            Some([
                "127.0.0.1:9080".parse().unwrap(),
                "[::1]:9081".parse().unwrap()
            ])
        );
        assert_eq!(parsed("").unwrap().sim.listen, None);
        for bad in [
            "[\"10.0.0.7:9080\", \"127.0.0.1:9081\"]",
            "[\"127.0.0.1:9080\"]",
            "\"127.0.0.1:9080\"",
            "[\"127.0.0.1\", \"127.0.0.1:9081\"]",
        ] {
            let e = parsed(&format!("[sim]\nlisten = {bad}\n")).unwrap_err();
            assert!(
                e.contains("t.toml:8: sim.listen") && e.contains("is not two loopback addresses"),
                "{bad}: {e}"
            );
        }
        let e = parsed("[sim]\nlisten = [\"127.0.0.1:9080\", \"127.0.0.1:9080\"]\n").unwrap_err();
        assert!(e.contains("names one address twice"), "{e}");
    }
}
