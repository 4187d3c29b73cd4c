//! `[sim]` → [`SimConfig`]: how the embedded Bookinfo behaves (which
//! reviews versions answer, base latency, page template).

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
    Some(SimConfig {
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
