//! Command-line overrides of a scenario (`--duration`, `--rate`,
//! `--concurrency`, `--target NAME=URL`). They replace raw values before
//! interpolation and validation, so an override is checked exactly like the
//! file and its problems name the flag.

use super::error::Problems;
use super::raw::{Item, Origin, RawScenario, RawTarget, Value};

#[derive(Default, Clone, Debug)]
pub struct Overrides {
    /// `--duration 45s`: replaces `load.duration`.
    pub duration: Option<String>,
    /// `--rate 50`: switches to the rate model at this rate per target.
    pub rate: Option<f64>,
    /// `--concurrency 10`: switches to the concurrency model with this many
    /// users per target.
    pub concurrency: Option<u32>,
    /// `--target NAME=URL` (repeatable): points that target elsewhere, or
    /// adds it when the file has no target of that name.
    pub targets: Vec<(String, String)>,
}

impl Overrides {
    pub(super) fn apply(&self, raw: &mut RawScenario, problems: &mut Problems<'_>) {
        let load = &mut raw.load;
        if let Some(duration) = &self.duration {
            load.duration = Some(Item::flag("--duration", Value::Str(duration.clone())));
        }
        if self.rate.is_some() && self.concurrency.is_some() {
            let origin = Origin::Flag("--rate".into());
            problems.push(
                &origin,
                "cannot be combined with --concurrency (choose one load model)",
            );
        }
        if let Some(rate) = self.rate {
            load.model = Some(Item::flag("--rate", Value::Str("rate".into())));
            load.rate = Some(Item::flag("--rate", Value::Float(rate)));
            load.concurrency = None;
            load.think_time = None;
        }
        if let Some(users) = self.concurrency {
            load.model = Some(Item::flag(
                "--concurrency",
                Value::Str("concurrency".into()),
            ));
            load.concurrency = Some(Item::flag("--concurrency", Value::Int(users.into())));
            load.rate = None;
        }
        for (name, url) in &self.targets {
            let flag = format!("--target {name}");
            let url = Item::flag(&flag, Value::Str(url.clone()));
            // Matched on the name as written: a `${VAR}` name is not
            // overridable, which keeps the match independent of the environment.
            let named = |t: &&mut RawTarget| matches!(&t.name, Some(Item { value: Value::Str(n), .. }) if n == name);
            let mut found = false;
            for target in raw.targets.iter_mut().filter(named) {
                found = true;
                target.url = Some(url.clone());
                // Safety: the file's `connect` / `host` point at its real
                // ingress; an override must never keep dialling it.
                target.host = None;
                target.connect = None;
                // The url makes it a plain target.
                target.failover = None;
            }
            if !found {
                raw.targets.push(RawTarget {
                    origin: Origin::Flag(flag.clone()),
                    name: Some(Item::flag(&flag, Value::Str(name.clone()))),
                    url: Some(url),
                    host: None,
                    connect: None,
                    connection: None,
                    max_connection_age: None,
                    ca: None,
                    insecure: None,
                    sni: None,
                    cert: None,
                    key: None,
                    http: None,
                    h2_connections: None,
                    failover: None,
                    follow_redirects: None,
                });
            }
        }
    }
}
