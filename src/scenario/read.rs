//! TOML text → [`RawScenario`]: parses with `toml_edit` (which keeps byte
//! spans), gives every value its dotted key and line, and reports keys that
//! are not part of the format together with the keys that are.

use toml_edit::{ImDocument, TableLike};

use super::error::Problems;
use super::raw::{
    Item, Origin, RawCapture, RawCluster, RawDns, RawEvidence, RawEvidenceQuery, RawFault, RawLoad,
    RawRecovery, RawScenario, RawSim, RawSlo, RawSloSpec, RawStage, RawTarget, Value,
};

/// `None` on a TOML syntax error (reported alone: nothing after it can be
/// trusted). Otherwise the raw scenario, with any unknown keys and misshapen
/// tables already in `problems`.
pub(super) fn read(text: &str, problems: &mut Problems<'_>) -> Option<RawScenario> {
    let lines = Lines::new(text);
    let doc = match ImDocument::parse(text) {
        Ok(doc) => doc,
        Err(error) => {
            let line = error.span().map(|span| lines.line_of(span.start));
            let message = error.message().trim().replace('\n', "; ");
            let origin = Origin::File {
                key: String::new(),
                line,
            };
            problems.push(&origin, format!("TOML syntax error: {message}"));
            return None;
        }
    };
    let root_origin = Origin::File {
        key: String::new(),
        line: None,
    };
    let mut root = Table::new(doc.as_table(), root_origin);
    let name = root.value("name", &lines);
    let description = root.value("description", &lines);
    let targets = root.array("target", &lines, problems);
    // A misshapen `target` is already reported; "no targets" would only repeat it.
    let target_origin = targets
        .is_some()
        .then(|| root.key_origin("target", root.line_of_key("target", &lines)));
    let targets = targets
        .unwrap_or_default()
        .into_iter()
        .map(|t| read_target(t, &lines, problems))
        .collect();
    let load = root.table("load", &lines, problems);
    let load = read_load(load, &lines, problems);
    let sim = root.table("sim", &lines, problems);
    let sim = read_sim(sim, &lines, problems);
    let faults = root
        .array("fault", &lines, problems)
        .unwrap_or_default()
        .into_iter()
        .map(|t| read_fault(t, &lines, problems))
        .collect();
    let captures = root
        .array("capture", &lines, problems)
        .unwrap_or_default()
        .into_iter()
        .map(|t| read_capture(t, &lines, problems))
        .collect();
    let evidence = root.table("evidence", &lines, problems);
    let evidence = read_evidence(evidence, &lines, problems);
    let recovery = root.table("recovery", &lines, problems);
    let recovery = read_recovery(recovery, &lines, problems);
    let slo = root.table("slo", &lines, problems);
    let slo = read_slo(slo, &lines, problems);
    let clusters = root.table("clusters", &lines, problems).entries(&lines);
    let clusters = clusters
        .into_iter()
        .map(|(name, patterns)| RawCluster { name, patterns })
        .collect();
    let dns = root.table("dns", &lines, problems);
    let dns = read_dns(dns, &lines, problems);
    root.finish(&lines, problems);
    Some(RawScenario {
        name,
        description,
        targets,
        target_origin,
        load,
        sim,
        faults,
        captures,
        evidence,
        recovery,
        slo,
        clusters,
        dns,
    })
}

fn read_target(mut t: Table<'_>, lines: &Lines, problems: &mut Problems<'_>) -> RawTarget {
    let raw = RawTarget {
        origin: t.origin.clone(),
        name: t.value("name", lines),
        url: t.value("url", lines),
        host: t.value("host", lines),
        connect: t.value("connect", lines),
        connection: t.value("connection", lines),
        max_connection_age: t.value("max_connection_age", lines),
        ca: t.value("ca", lines),
        insecure: t.value("insecure", lines),
        sni: t.value("sni", lines),
        cert: t.value("cert", lines),
        key: t.value("key", lines),
        http: t.value("http", lines),
        h2_connections: t.value("h2_connections", lines),
        failover: t.value("failover", lines),
        follow_redirects: t.value("follow_redirects", lines),
    };
    t.finish(lines, problems);
    raw
}

fn read_load(mut t: Table<'_>, lines: &Lines, problems: &mut Problems<'_>) -> RawLoad {
    let raw = RawLoad {
        origin: t.origin.clone(),
        model: t.value("model", lines),
        rate: t.value("rate", lines),
        concurrency: t.value("concurrency", lines),
        think_time: t.value("think_time", lines),
        duration: t.value("duration", lines),
        warmup: t.value("warmup", lines),
        timeout: t.value("timeout", lines),
        connect_timeout: t.value("connect_timeout", lines),
        connection: t.value("connection", lines),
        max_body: t.value("max_body", lines),
        max_buffered: t.value("max_buffered", lines),
        max_late_pct: t.value("max_late_pct", lines),
        max_connection_age: t.value("max_connection_age", lines),
        stages: Vec::new(),
    };
    let stages = t.array("stage", lines, problems).unwrap_or_default();
    let stages = stages
        .into_iter()
        .map(|mut s| {
            let stage = RawStage {
                origin: s.origin.clone(),
                duration: s.value("duration", lines),
                rate: s.value("rate", lines),
                users: s.value("users", lines),
            };
            s.finish(lines, problems);
            stage
        })
        .collect();
    t.finish(lines, problems);
    RawLoad { stages, ..raw }
}

fn read_sim(mut t: Table<'_>, lines: &Lines, problems: &mut Problems<'_>) -> RawSim {
    let raw = RawSim {
        reviews_mix: t.value("reviews_mix", lines),
        latency: t.value("latency", lines),
        template: t.value("template", lines),
        tls: t.value("tls", lines),
        listen: t.value("listen", lines),
    };
    t.finish(lines, problems);
    raw
}

fn read_fault(mut t: Table<'_>, lines: &Lines, problems: &mut Problems<'_>) -> RawFault {
    let raw = RawFault {
        origin: t.origin.clone(),
        name: t.value("name", lines),
        target: t.value("target", lines),
        at: t.value("at", lines),
        sim: t.value("sim", lines),
        latency: t.value("latency", lines),
        restore_at: t.value("restore_at", lines),
        inject: t.value("inject", lines),
        restore: t.value("restore", lines),
        shell: t.value("shell", lines),
        timeout: t.value("timeout", lines),
        detach: t.value("detach", lines),
    };
    t.finish(lines, problems);
    raw
}

fn read_capture(mut t: Table<'_>, lines: &Lines, problems: &mut Problems<'_>) -> RawCapture {
    let raw = RawCapture {
        origin: t.origin.clone(),
        name: t.value("name", lines),
        argv: t.value("argv", lines),
        when: t.value("when", lines),
        timeout: t.value("timeout", lines),
    };
    t.finish(lines, problems);
    raw
}

fn read_evidence(mut t: Table<'_>, lines: &Lines, problems: &mut Problems<'_>) -> RawEvidence {
    let origin = t.table.is_some().then(|| t.origin.clone());
    let prometheus = t.value("prometheus", lines);
    let rate_window = t.value("rate_window", lines);
    let timeout = t.value("timeout", lines);
    let queries = t
        .array("query", lines, problems)
        .unwrap_or_default()
        .into_iter()
        .map(|mut q| {
            let query = RawEvidenceQuery {
                origin: q.origin.clone(),
                name: q.value("name", lines),
                promql: q.value("promql", lines),
            };
            q.finish(lines, problems);
            query
        })
        .collect();
    t.finish(lines, problems);
    RawEvidence {
        origin,
        prometheus,
        rate_window,
        timeout,
        queries,
    }
}

fn read_dns(mut t: Table<'_>, lines: &Lines, problems: &mut Problems<'_>) -> RawDns {
    let raw = RawDns {
        nameservers: t.value("nameservers", lines),
        min_ttl: t.value("min_ttl", lines),
        max_ttl: t.value("max_ttl", lines),
    };
    t.finish(lines, problems);
    raw
}

fn read_recovery(mut t: Table<'_>, lines: &Lines, problems: &mut Problems<'_>) -> RawRecovery {
    let raw = RawRecovery {
        window: t.value("window", lines),
        threshold: t.value("threshold", lines),
    };
    t.finish(lines, problems);
    raw
}

/// `[slo]`: its own criteria, then one `[slo.target.NAME]` per target.
fn read_slo(mut t: Table<'_>, lines: &Lines, problems: &mut Problems<'_>) -> RawSlo {
    let all = read_slo_spec(&mut t, lines);
    let targets = t
        .table("target", lines, problems)
        .named_tables(lines, problems)
        .into_iter()
        .map(|(name, mut table)| {
            let spec = read_slo_spec(&mut table, lines);
            table.finish(lines, problems);
            (name, spec)
        })
        .collect();
    t.finish(lines, problems);
    RawSlo { all, targets }
}

fn read_slo_spec(t: &mut Table<'_>, lines: &Lines) -> RawSloSpec {
    RawSloSpec {
        origin: t.origin.clone(),
        availability_min: t.value("availability_min", lines),
        max_failed_requests: t.value("max_failed_requests", lines),
        error_rate_max: t.value("error_rate_max", lines),
        p99_max: t.value("p99_max", lines),
        p95_max: t.value("p95_max", lines),
        p50_max: t.value("p50_max", lines),
        rto_max: t.value("rto_max", lines),
        expect_versions: t.value("expect_versions", lines),
        only_versions: t.value("only_versions", lines),
        expect_clusters: t.value("expect_clusters", lines),
        only_clusters: t.value("only_clusters", lines),
    }
}

/// One table of the document being read. Records which keys the format asked
/// for, so [`Table::finish`] can name the rest as unknown and list the
/// allowed ones — the list can never drift from what is actually read.
struct Table<'d> {
    /// `None` for a table that is not in the file (read as empty).
    table: Option<&'d dyn TableLike>,
    origin: Origin,
    asked: Vec<&'static str>,
}

impl<'d> Table<'d> {
    fn new(table: &'d dyn TableLike, origin: Origin) -> Self {
        Table {
            table: Some(table),
            origin,
            asked: Vec::new(),
        }
    }

    fn absent(origin: Origin) -> Self {
        Table {
            table: None,
            origin,
            asked: Vec::new(),
        }
    }

    /// The key's entry and the line to blame for it: the key's own line,
    /// else the value's, else the table's.
    fn get(
        &mut self,
        key: &'static str,
        lines: &Lines,
    ) -> Option<(&'d toml_edit::Item, Option<usize>)> {
        self.asked.push(key);
        let (k, item) = self.table?.get_key_value(key)?;
        if item.is_none() {
            return None;
        }
        let line = k
            .span()
            .or_else(|| item.span())
            .map(|span| lines.line_of(span.start))
            .or_else(|| self.line());
        Some((item, line))
    }

    /// The line of a key (for `target = []`), without asking for it.
    fn line_of_key(&self, key: &str, lines: &Lines) -> Option<usize> {
        let (k, _) = self.table?.get_key_value(key)?;
        k.span().map(|span| lines.line_of(span.start))
    }

    fn line(&self) -> Option<usize> {
        match &self.origin {
            Origin::File { line, .. } => *line,
            Origin::Flag(_) => None,
        }
    }

    fn key_origin(&self, key: &str, line: Option<usize>) -> Origin {
        match self.origin.child(key) {
            Origin::File { key, .. } => Origin::File { key, line },
            flag => flag,
        }
    }

    fn value(&mut self, key: &'static str, lines: &Lines) -> Option<Item> {
        let (item, line) = self.get(key, lines)?;
        Some(Item {
            value: convert_item(item),
            origin: self.key_origin(key, line),
        })
    }

    /// A sub-table such as `[load]`, or an empty one when it is absent or
    /// not a table (which is a problem).
    fn table(
        &mut self,
        key: &'static str,
        lines: &Lines,
        problems: &mut Problems<'_>,
    ) -> Table<'d> {
        let Some((item, line)) = self.get(key, lines) else {
            return Table::absent(self.origin.child(key));
        };
        let line = item.span().map(|s| lines.line_of(s.start)).or(line);
        let origin = self.key_origin(key, line);
        match item.as_table_like() {
            Some(table) => Table::new(table, origin),
            None => {
                let shown = convert_item(item);
                problems.push(
                    &origin,
                    format!("{shown} is not a table (expected a [{key}] table)"),
                );
                Table::absent(origin)
            }
        }
    }

    /// An array of tables such as `[[target]]` (or `target = [{...}, ...]`);
    /// empty when absent, `None` when misshapen (and reported).
    fn array(
        &mut self,
        key: &'static str,
        lines: &Lines,
        problems: &mut Problems<'_>,
    ) -> Option<Vec<Table<'d>>> {
        let Some((item, line)) = self.get(key, lines) else {
            return Some(Vec::new());
        };
        let element = |i: usize, span: Option<std::ops::Range<usize>>| {
            let line = span.map(|s| lines.line_of(s.start)).or(line);
            self.key_origin(&format!("{key}[{i}]"), line)
        };
        if let Some(aot) = item.as_array_of_tables() {
            let tables = aot.iter().enumerate();
            return Some(
                tables
                    .map(|(i, t)| Table::new(t, element(i, t.span())))
                    .collect(),
            );
        }
        let origin = self.key_origin(key, line);
        let expected = format!("expected [[{key}]] tables, one per {key}");
        if let Some(array) = item.as_array() {
            let mut tables = Vec::new();
            for (i, value) in array.iter().enumerate() {
                let at = element(i, value.span());
                match value.as_inline_table() {
                    Some(t) => tables.push(Table::new(t, at)),
                    None => problems.push(
                        &at,
                        format!("{} is not a table ({expected})", convert_value(value)),
                    ),
                }
            }
            return Some(tables);
        }
        let message = if item.is_table_like() {
            format!("is a single table ({expected}: write [[{key}]] with double brackets)")
        } else {
            format!(
                "{} is not an array of tables ({expected})",
                convert_item(item)
            )
        };
        problems.push(&origin, message);
        None
    }

    /// A table whose keys are names the file chooses (`[slo.target.NAME]`):
    /// each entry must itself be a table; every key is taken, so none is
    /// "unknown" here.
    fn named_tables(self, lines: &Lines, problems: &mut Problems<'_>) -> Vec<(String, Table<'d>)> {
        let Some(table) = self.table else {
            return Vec::new();
        };
        let mut tables = Vec::new();
        for (key, item) in table.iter() {
            let line = item
                .span()
                .or_else(|| table.get_key_value(key).and_then(|(k, _)| k.span()))
                .map(|span| lines.line_of(span.start))
                .or_else(|| self.line());
            let origin = self.key_origin(&dotted_key(key), line);
            match item.as_table_like() {
                Some(t) => tables.push((key.to_string(), Table::new(t, origin))),
                None => {
                    let message = format!(
                        "{} is not a table (expected a [{}.NAME] table per name)",
                        convert_item(item),
                        owner_key(&self.origin)
                    );
                    problems.push(&origin, message);
                }
            }
        }
        tables
    }

    /// Every key of a table whose keys are names chosen by the user (such
    /// as `[clusters]`), with its value, in file order.
    fn entries(self, lines: &Lines) -> Vec<(String, Item)> {
        let Some(table) = self.table else {
            return Vec::new();
        };
        table
            .iter()
            .map(|(key, item)| {
                let line = table
                    .get_key_value(key)
                    .and_then(|(k, _)| k.span())
                    .or_else(|| item.span())
                    .map(|span| lines.line_of(span.start))
                    .or_else(|| self.line());
                let value = Item {
                    value: convert_item(item),
                    origin: self.key_origin(key, line),
                };
                (key.to_string(), value)
            })
            .collect()
    }

    /// Reports every key the format did not ask for, on its own line.
    fn finish(self, lines: &Lines, problems: &mut Problems<'_>) {
        let Some(table) = self.table else { return };
        for (key, item) in table.iter() {
            if self.asked.contains(&key) {
                continue;
            }
            let line = table
                .get_key_value(key)
                .and_then(|(k, _)| k.span())
                .or_else(|| item.span())
                .map(|span| lines.line_of(span.start))
                .or_else(|| self.line());
            problems.push(
                &self.key_origin(key, line),
                format!("is not a known key (allowed: {})", self.asked.join(", ")),
            );
        }
    }
}

/// A key as it is written in a dotted path: bare when it can be, else quoted.
fn dotted_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

fn owner_key(origin: &Origin) -> &str {
    match origin {
        Origin::File { key, .. } => key,
        Origin::Flag(flag) => flag,
    }
}

fn convert_item(item: &toml_edit::Item) -> Value {
    match item {
        toml_edit::Item::Value(v) => convert_value(v),
        _ => Value::Table,
    }
}

fn convert_value(value: &toml_edit::Value) -> Value {
    use toml_edit::Value as V;
    match value {
        V::String(s) => Value::Str(s.value().clone()),
        V::Integer(i) => Value::Int(*i.value()),
        V::Float(x) => Value::Float(*x.value()),
        V::Boolean(b) => Value::Bool(*b.value()),
        V::Datetime(d) => Value::Datetime(d.value().to_string()),
        V::Array(a) => Value::Array(a.iter().map(convert_value).collect()),
        V::InlineTable(_) => Value::Table,
    }
}

/// Byte offset → 1-based line number.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn read_ok(text: &str) -> RawScenario {
        let path = Path::new("t.toml");
        let mut problems = Problems::new(path);
        let raw = read(text, &mut problems).expect("syntax");
        assert!(problems.is_empty(), "{}", problems.into_error());
        raw
    }

    fn read_problems(text: &str) -> Vec<String> {
        let path = Path::new("t.toml");
        let mut problems = Problems::new(path);
        read(text, &mut problems);
        let error = problems.into_error();
        error.problems().iter().map(ToString::to_string).collect()
    }

    fn file(key: &str, line: usize) -> Origin {
        Origin::File {
            key: key.into(),
            line: Some(line),
        }
    }

    #[test]
    fn every_value_knows_its_key_and_line() {
        let raw = read_ok(
            "\n[[target]]\nname = \"a\"\n\n[[target]]\nurl = 'sim:primary'\n[load]\nrate = 2.5\n",
        );
        assert_eq!(raw.targets[0].origin, file("target[0]", 2));
        assert_eq!(
            raw.targets[0].name,
            Some(Item {
                value: Value::Str("a".into()),
                origin: file("target[0].name", 3)
            })
        );
        assert_eq!(raw.targets[1].origin, file("target[1]", 5));
        assert_eq!(
            raw.targets[1].url.as_ref().unwrap().origin,
            file("target[1].url", 6)
        );
        assert_eq!(raw.load.origin, file("load", 7));
        assert_eq!(raw.load.rate.as_ref().unwrap().value, Value::Float(2.5));
        assert_eq!(raw.target_origin, Some(file("target", 2)));
    }

    #[test]
    fn a_multiline_array_is_blamed_on_its_key_line() {
        let raw = read_ok("[sim]\nreviews_mix = [\n  50,\n  30,\n  20,\n]\n");
        let mix = raw.sim.reviews_mix.unwrap();
        assert_eq!(mix.origin, file("sim.reviews_mix", 2));
        assert_eq!(mix.value.to_string(), "[50, 30, 20]");
    }

    #[test]
    fn absent_tables_read_as_empty_without_a_line() {
        let raw = read_ok("");
        assert!(raw.targets.is_empty() && raw.faults.is_empty());
        assert_eq!(
            raw.load.origin,
            Origin::File {
                key: "load".into(),
                line: None
            }
        );
        assert_eq!(
            raw.target_origin,
            Some(Origin::File {
                key: "target".into(),
                line: None
            })
        );
    }

    #[test]
    fn unknown_keys_in_nested_and_inline_tables_are_all_reported() {
        assert_eq!(
            read_problems(
                "load = { rate = 1, burst = 2 }\n[[fault]]\nname = 'x'\n[fault.hooks]\n[sim]\nmix = 1\n"
            ),
            [
                "t.toml:1: load.burst is not a known key (allowed: model, rate, concurrency, think_time, duration, warmup, timeout, connect_timeout, connection, max_body, max_buffered, max_late_pct, max_connection_age, stage)",
                "t.toml:4: fault[0].hooks is not a known key (allowed: name, target, at, sim, latency, restore_at, inject, restore, shell, timeout, detach)",
                "t.toml:6: sim.mix is not a known key (allowed: reviews_mix, latency, template, tls, listen)",
            ]
        );
    }

    #[test]
    fn misshapen_tables_say_what_shape_is_expected() {
        assert_eq!(
            read_problems("load = 5\ntarget = [1]\nfault = 'x'\n"),
            [
                "t.toml:1: load 5 is not a table (expected a [load] table)",
                "t.toml:2: target[0]: 1 is not a table (expected [[target]] tables, one per target)",
                "t.toml:3: fault \"x\" is not an array of tables (expected [[fault]] tables, one per fault)",
            ]
        );
    }

    #[test]
    fn a_syntax_error_is_alone_and_has_its_line() {
        assert_eq!(
            read_problems("name = 'a'\n\n[load\nrate = 1\n"),
            ["t.toml:3: TOML syntax error: invalid table header; expected `.`, `]`"]
        );
    }

    #[test]
    fn lines_are_one_based_and_count_newlines() {
        let lines = Lines::new("a\nbc\n\nd");
        let found: Vec<_> = [0, 1, 2, 4, 5, 6].map(|o| lines.line_of(o)).into();
        assert_eq!(found, [1, 1, 2, 2, 3, 4]);
    }
}
