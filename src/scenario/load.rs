//! `[load]` → [`LoadPlan`]: which load model, how hard, how long, and the
//! per-request limits.

use std::num::NonZeroU32;
use std::time::Duration;

use super::compile::Cx;
use super::plan::{ConnectionPolicy, LoadModel, LoadPlan, Rate};
use super::raw::{Item, RawLoad, Value};
use super::{duration, size};

const MAX_RATE: f64 = 1_000_000.0;
const MAX_USERS: i64 = 100_000;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const DEFAULT_MAX_BODY: usize = 1 << 20;
/// Body bytes a run holds at most: at 250/s against a target that stalls
/// every body at 1 MiB, 256 MiB is full after ~1 s of 2 s timeouts; later
/// requests are `local_error` until memory comes back.
const DEFAULT_MAX_BUFFERED: usize = 256 << 20;
/// Late sends a second may have before it is generator-limited, in percent.
pub const DEFAULT_MAX_LATE_PCT: f64 = 1.0;

pub(super) const CONNECTIONS: &[(&str, ConnectionPolicy)] = &[
    ("keep-alive", ConnectionPolicy::KeepAlive),
    ("new", ConnectionPolicy::New),
];

/// What the rest of the compilation needs from `[load]` even when part of it
/// is wrong, so that targets and faults are still checked.
pub(super) struct CompiledLoad {
    pub plan: Option<LoadPlan>,
    /// The targets' default; keep-alive when `load.connection` is wrong.
    pub connection: ConnectionPolicy,
    /// The targets' default `max_connection_age` (none when it is wrong).
    pub max_connection_age: Option<Duration>,
    /// `warmup + duration`, the end of traffic faults must fit in.
    pub end_of_traffic: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Model {
    Rate,
    Concurrency,
}

pub(super) fn compile(raw: &RawLoad, cx: &mut Cx<'_>) -> CompiledLoad {
    let model = model(raw, cx);
    let rate = raw.rate.as_ref().and_then(|item| rate(item, cx));
    let users = raw.concurrency.as_ref().and_then(|item| users(item, cx));
    let think_time = raw.think_time.as_ref().and_then(|item| cx.duration(item));
    let model = match model {
        Some(Model::Rate) => {
            only_with(cx, &raw.concurrency, "concurrency");
            only_with(cx, &raw.think_time, "concurrency");
            let item = cx.required(&raw.rate, &raw.origin, "rate", "rate = 200");
            item.and(rate)
                .map(|per_target| LoadModel::Rate { per_target })
        }
        Some(Model::Concurrency) => {
            only_with(cx, &raw.rate, "rate");
            let item = cx.required(
                &raw.concurrency,
                &raw.origin,
                "concurrency",
                "concurrency = 100",
            );
            let think_time = match &raw.think_time {
                Some(_) => think_time,
                None => Some(Duration::ZERO),
            };
            item.and(users)
                .zip(think_time)
                .map(|(users, think_time)| LoadModel::Concurrency { users, think_time })
        }
        None => None,
    };

    let duration = cx
        .required(
            &raw.duration,
            &raw.origin,
            "duration",
            r#"duration = "30s""#,
        )
        .and_then(|item| cx.positive_duration(item));
    let warmup = match &raw.warmup {
        Some(item) => cx.duration(item),
        None => Some(Duration::ZERO),
    };
    let timeout = match &raw.timeout {
        Some(item) => cx.positive_duration(item),
        None => Some(DEFAULT_TIMEOUT),
    };
    let connect_timeout = match (&raw.connect_timeout, timeout) {
        (Some(item), timeout) => cx.positive_duration(item).filter(|&connect| {
            let Some(timeout) = timeout else { return true };
            let fits = connect <= timeout;
            if !fits {
                let message = format!(
                    "{} must be ≤ load.timeout ({}): the connect is part of the request",
                    item.value,
                    duration::show(timeout)
                );
                cx.problem(&item.origin, message);
            }
            fits
        }),
        (None, timeout) => timeout.map(|timeout| timeout.min(DEFAULT_CONNECT_TIMEOUT)),
    };
    let connection = raw
        .connection
        .as_ref()
        .and_then(|item| cx.choice(item, "a connection policy", CONNECTIONS));
    let max_body = match &raw.max_body {
        Some(item) => size(item, cx),
        None => Some(DEFAULT_MAX_BODY),
    };
    let max_buffered = match &raw.max_buffered {
        Some(item) => size(item, cx),
        None => Some(DEFAULT_MAX_BUFFERED),
    };
    // A budget below one whole body could never read a body of max_body.
    let max_buffered = match (max_body, max_buffered) {
        (Some(body), Some(buffered)) if buffered < body => {
            match (&raw.max_buffered, &raw.max_body) {
                (Some(item), _) => {
                    let message = format!(
                        "{} must be ≥ load.max_body ({body} bytes): it holds every body in flight",
                        item.value
                    );
                    cx.problem(&item.origin, message);
                }
                (None, Some(item)) => {
                    let message = format!(
                        "{} is above load.max_buffered (default 256MiB, the memory for every \
                         body in flight): set max_buffered ≥ max_body",
                        item.value
                    );
                    cx.problem(&item.origin, message);
                }
                (None, None) => unreachable!("the defaults fit"),
            }
            None
        }
        (_, buffered) => buffered,
    };

    let max_late_pct = match &raw.max_late_pct {
        Some(item) => super::slo::percent(item, cx, true),
        None => Some(DEFAULT_MAX_LATE_PCT),
    };

    let max_connection_age = match &raw.max_connection_age {
        Some(item) => cx.positive_duration(item).map(Some),
        None => Some(None),
    };

    let end_of_traffic = warmup.zip(duration).map(|(w, d)| w + d);
    let plan = (|| {
        Some(LoadPlan {
            model: model?,
            duration: duration?,
            warmup: warmup?,
            timeout: timeout?,
            connect_timeout: connect_timeout?,
            max_body_bytes: max_body?,
            max_buffered: max_buffered?,
            max_late_pct: max_late_pct?,
            max_connection_age: max_connection_age?,
        })
    })();
    CompiledLoad {
        plan,
        connection: connection.unwrap_or_default(),
        max_connection_age: max_connection_age.flatten(),
        end_of_traffic,
    }
}

/// `model`, or the one implied by which of `rate` / `concurrency` is given.
fn model(raw: &RawLoad, cx: &mut Cx<'_>) -> Option<Model> {
    const MODELS: &[(&str, Model)] = &[("rate", Model::Rate), ("concurrency", Model::Concurrency)];
    if let Some(item) = &raw.model {
        return cx.choice(item, "a load model", MODELS);
    }
    match (&raw.rate, &raw.concurrency) {
        (Some(_), None) => Some(Model::Rate),
        (None, Some(_)) => Some(Model::Concurrency),
        (Some(_), Some(_)) => {
            let message = r#"sets both rate and concurrency (expected model = "rate" or model = "concurrency" to say which)"#;
            cx.problem(&raw.origin, message);
            None
        }
        (None, None) => {
            let message = r#"has no load model (expected rate = 200 for requests/s per target, or concurrency = 100 for users per target)"#;
            cx.problem(&raw.origin, message);
            None
        }
    }
}

/// A key that belongs to the other model is a mistake, not something to ignore.
fn only_with(cx: &mut Cx<'_>, item: &Option<Item>, model: &str) {
    if let Some(item) = item {
        cx.problem(&item.origin, format!("is only used with model = {model:?}"));
    }
}

fn rate(item: &Item, cx: &mut Cx<'_>) -> Option<Rate> {
    const EXPECTED: &str = "expected requests/s per target, > 0 and ≤ 1000000";
    let per_second = match item.value {
        Value::Int(i) => i as f64,
        Value::Float(x) => x,
        _ => {
            cx.problem(
                &item.origin,
                format!("{} is not a number ({EXPECTED})", item.value),
            );
            return None;
        }
    };
    let rate = Rate::new(per_second).filter(|_| per_second <= MAX_RATE);
    if rate.is_none() {
        cx.problem(
            &item.origin,
            format!("{} is out of range ({EXPECTED})", item.value),
        );
    }
    rate
}

fn users(item: &Item, cx: &mut Cx<'_>) -> Option<NonZeroU32> {
    const EXPECTED: &str = "expected users per target, an integer from 1 to 100000";
    let Value::Int(users) = item.value else {
        cx.problem(
            &item.origin,
            format!("{} is not an integer ({EXPECTED})", item.value),
        );
        return None;
    };
    let users = (1..=MAX_USERS)
        .contains(&users)
        .then(|| u32::try_from(users).ok().and_then(NonZeroU32::new))
        .flatten();
    if users.is_none() {
        cx.problem(
            &item.origin,
            format!("{} is out of range ({EXPECTED})", item.value),
        );
    }
    users
}

/// `max_body` and `max_buffered`: a byte size > 0.
fn size(item: &Item, cx: &mut Cx<'_>) -> Option<usize> {
    let bytes = match &item.value {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::Str(_) => {
            let text = cx.text(item, size::EXPECTED)?;
            let bytes = size::parse(&text.value);
            if bytes.is_none() {
                let message = format!("{} is not a size {}", text.quoted(), size::EXPECTED);
                cx.problem(&item.origin, message);
                return None;
            }
            bytes
        }
        other => {
            cx.problem(
                &item.origin,
                format!("{other} is not a size {}", size::EXPECTED),
            );
            return None;
        }
    };
    let bytes = bytes
        .filter(|&b| b > 0)
        .and_then(|b| usize::try_from(b).ok());
    if bytes.is_none() {
        cx.problem(&item.origin, format!("{} must be > 0 bytes", item.value));
    }
    bytes
}
