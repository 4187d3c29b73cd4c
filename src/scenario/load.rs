//! `[load]` → [`LoadPlan`]: which load model, how hard, how long, and the
//! per-request limits.

use std::num::NonZeroU32;
use std::time::Duration;

use super::compile::Cx;
use super::plan::{ConnectionPolicy, LoadModel, LoadPlan, LoadStage, Rate};
use super::raw::{Item, Origin, RawLoad, RawStage, Value};
use super::{duration, size};

const MAX_RATE: f64 = 1_000_000.0;
const MAX_USERS: i64 = 100_000;
/// `[[load.stage]]` entries a load may have: a profile is searched per slot.
pub(crate) const MAX_STAGES: usize = 64;
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
    let staged = !raw.stages.is_empty();
    let model = model(raw, cx);
    let rate = raw.rate.as_ref().and_then(|item| rate(item, cx));
    let users = raw.concurrency.as_ref().and_then(|item| users(item, cx));
    let think_time = raw.think_time.as_ref().and_then(|item| cx.duration(item));
    let stages = match model {
        Some(model) if staged => stages(raw, model, cx),
        _ => Some(Vec::new()),
    };
    let model = match model {
        Some(model) if staged => stages.as_deref().and_then(|stages| {
            let think_time = match &raw.think_time {
                Some(_) => think_time?,
                None => Duration::ZERO,
            };
            peak(model, stages, think_time)
        }),
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

    let stages_total = stages
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| s.iter().map(|s| s.duration).sum::<Duration>());
    let duration = match (stages_total, &raw.duration) {
        (Some(total), Some(item)) => cx.positive_duration(item).and_then(|d| {
            if d == total {
                return Some(d);
            }
            let message = format!(
                "{} is not the sum of the [[load.stage]] durations ({}): with stages the \
                 measured phase is the stages (leave load.duration out)",
                item.value,
                duration::show(total)
            );
            cx.problem(&item.origin, message);
            None
        }),
        (Some(total), None) => Some(total),
        (None, _) if staged => None, // a stage is wrong: already reported
        (None, _) => cx
            .required(
                &raw.duration,
                &raw.origin,
                "duration",
                r#"duration = "30s""#,
            )
            .and_then(|item| cx.positive_duration(item)),
    };
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
            stages: stages?,
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
        (None, None) if !raw.stages.is_empty() => stage_model(&raw.stages[0], cx),
        (None, None) => {
            let message = r#"has no load model (expected rate = 200 for requests/s per target, or concurrency = 100 for users per target)"#;
            cx.problem(&raw.origin, message);
            None
        }
    }
}

/// The model the first stage's target names (`rate` or `users`).
fn stage_model(stage: &RawStage, cx: &mut Cx<'_>) -> Option<Model> {
    let message = match (&stage.rate, &stage.users) {
        (Some(_), None) => return Some(Model::Rate),
        (None, Some(_)) => return Some(Model::Concurrency),
        (Some(_), Some(_)) => {
            "sets both rate and users (expected one: rate = 200 for requests/s per target, \
             or users = 100 for users per target)"
        }
        (None, None) => {
            "has no target (expected rate = 200 for requests/s per target, or users = 100 \
             for users per target)"
        }
    };
    cx.problem(&stage.origin, message);
    None
}

/// `[[load.stage]]` in `model`: every stage checked, all problems reported.
/// `None` when any is wrong.
fn stages(raw: &RawLoad, model: Model, cx: &mut Cx<'_>) -> Option<Vec<LoadStage>> {
    let with_stages = "is not used with [[load.stage]]";
    if let Some(item) = &raw.rate {
        let message = format!(
            "{with_stages} (each stage sets its rate; the first ramps from 0, as k6's \
             startRate: to start at a rate, begin with a short stage to it)"
        );
        cx.problem(&item.origin, message);
    }
    if let Some(item) = &raw.concurrency {
        let message = format!(
            "{with_stages} (each stage sets its users; the first ramps from 0, as k6's \
             startVUs: to start with users, begin with a short stage to them)"
        );
        cx.problem(&item.origin, message);
    }
    if let Some(item) = &raw.warmup {
        let message = format!(
            "{with_stages} (the stages start at the start of traffic and ramp from 0, so \
             the first stage is the warm-up; every stage is measured)"
        );
        cx.problem(&item.origin, message);
    }
    if model == Model::Rate {
        only_with(cx, &raw.think_time, "concurrency");
    }
    if raw.stages.len() > MAX_STAGES {
        let origin = raw.stages[MAX_STAGES].origin.clone();
        cx.problem(
            &origin,
            format!("is one stage too many (at most {MAX_STAGES} [[load.stage]])"),
        );
    }
    // Keys refused above are problems of their own (the plan fails with
    // them); the stages are still checked against load.duration.
    let mut ok = true;
    let by_flag = matches!(raw.model.as_ref().map(|m| &m.origin), Some(Origin::Flag(_)));
    let mut stages = Vec::new();
    for stage in &raw.stages {
        let duration = cx
            .required(
                &stage.duration,
                &stage.origin,
                "duration",
                r#"duration = "2m""#,
            )
            .and_then(|item| cx.positive_duration(item));
        let target = stage_target(stage, model, by_flag, cx);
        match duration.zip(target) {
            Some((duration, target)) => stages.push(LoadStage { duration, target }),
            None => ok = false,
        }
    }
    if ok && stages.iter().all(|s| s.target == 0.0) {
        let key = if model == Model::Rate {
            "rate"
        } else {
            "users"
        };
        let message =
            format!("never sends: every [[load.stage]] {key} is 0 (expected one above 0)");
        cx.problem(&raw.stages[0].origin, message);
        ok = false;
    }
    (ok && raw.stages.len() <= MAX_STAGES).then_some(stages)
}

/// A stage's `rate` or `users`, whichever `model` uses; the other is refused.
fn stage_target(stage: &RawStage, model: Model, by_flag: bool, cx: &mut Cx<'_>) -> Option<f64> {
    let (ours, theirs, other_model, example) = match model {
        Model::Rate => (&stage.rate, &stage.users, "concurrency", "rate = 200"),
        Model::Concurrency => (&stage.users, &stage.rate, "rate", "users = 100"),
    };
    if let (Some(_), Some(item)) = (ours, theirs) {
        let message = "sets both rate and users (expected one: rate for model = \"rate\", \
                       users for model = \"concurrency\")";
        cx.problem(&item.origin, message);
        return None;
    }
    if let Some(item) = theirs {
        // `--rate` / `--concurrency` chose the model: that flag is refused
        // with stages already, and is the one thing to fix.
        if !by_flag {
            let (ours, model) = match model {
                Model::Rate => ("rate", "rate"),
                Model::Concurrency => ("users", "concurrency"),
            };
            let message = format!(
                "is only used with model = {other_model:?} (this load is model = {model:?}: \
                 its stages set {ours})"
            );
            cx.problem(&item.origin, message);
        }
        return None;
    }
    let key = if model == Model::Rate {
        "rate"
    } else {
        "users"
    };
    let item = cx.required(ours, &stage.origin, key, example)?;
    match model {
        Model::Rate => stage_rate(item, cx),
        Model::Concurrency => stage_users(item, cx).map(f64::from),
    }
}

fn stage_rate(item: &Item, cx: &mut Cx<'_>) -> Option<f64> {
    const EXPECTED: &str = "expected requests/s per target, >= 0 and <= 1000000";
    let per_second = match item.value {
        Value::Int(i) => i as f64,
        Value::Float(x) => x,
        _ => {
            let message = format!("{} is not a number ({EXPECTED})", item.value);
            cx.problem(&item.origin, message);
            return None;
        }
    };
    let fits = per_second.is_finite() && (0.0..=MAX_RATE).contains(&per_second);
    if !fits {
        let message = format!("{} is out of range ({EXPECTED})", item.value);
        cx.problem(&item.origin, message);
    }
    fits.then_some(per_second)
}

fn stage_users(item: &Item, cx: &mut Cx<'_>) -> Option<u32> {
    const EXPECTED: &str = "expected users per target, an integer from 0 to 100000";
    let Value::Int(users) = item.value else {
        let message = format!("{} is not an integer ({EXPECTED})", item.value);
        cx.problem(&item.origin, message);
        return None;
    };
    let users = (0..=MAX_USERS)
        .contains(&users)
        .then(|| u32::try_from(users).ok())
        .flatten();
    if users.is_none() {
        let message = format!("{} is out of range ({EXPECTED})", item.value);
        cx.problem(&item.origin, message);
    }
    users
}

/// The model at the highest load the stages reach (`None` when none is
/// above 0, which [`stages`] reports).
fn peak(model: Model, stages: &[LoadStage], think_time: Duration) -> Option<LoadModel> {
    let highest = stages.iter().map(|s| s.target).fold(0.0, f64::max);
    match model {
        Model::Rate => Rate::new(highest).map(|per_target| LoadModel::Rate { per_target }),
        Model::Concurrency => NonZeroU32::new(highest as u32)
            .map(|users| LoadModel::Concurrency { users, think_time }),
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
