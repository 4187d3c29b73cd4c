//! `[evidence]` → [`EvidencePlan`]: which Prometheus is asked, after
//! traffic, for the mesh's own view of the run, and with which named PromQL
//! (the file's `[[evidence.query]]`, else Istio defaults).

use std::collections::HashMap;
use std::time::Duration;

use super::capture::file_safe;
use super::compile::Cx;
use super::plan::{EvidencePlan, EvidenceQuery};
use super::raw::{Origin, RawEvidence};
use super::target::owner;

/// A query with no `timeout` is given up after this long.
pub(super) const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// The default queries' `rate()` window: four scrapes at Prometheus's
/// common 15 s interval.
pub(super) const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(60);
/// Queries per run: each is bounded by its timeout, so the run's end is too.
pub(super) const MAX_QUERIES: usize = 16;

/// The queries of an `[evidence]` table without `[[evidence.query]]`: the
/// callers' view (`reporter="source"`, which sees a gateway's local 503s
/// that no destination reports, and counts each request once).
pub fn default_queries(window: &str) -> Vec<EvidenceQuery> {
    vec![
        EvidenceQuery {
            name: "mesh-5xx".into(),
            promql: format!(
                "sum by (destination_cluster, response_code, response_flags) (rate(istio_requests_total{{reporter=\"source\",response_code=~\"5..\"}}[{window}]))"
            ),
        },
        EvidenceQuery {
            name: "mesh-requests".into(),
            promql: format!(
                "sum by (source_cluster, destination_cluster) (rate(istio_requests_total{{reporter=\"source\"}}[{window}]))"
            ),
        },
    ]
}

/// `None` when `[evidence]` is absent; `Some(None)` when it is wrong (the
/// reasons are in `cx`).
pub(super) fn compile(raw: &RawEvidence, cx: &mut Cx<'_>) -> Option<Option<EvidencePlan>> {
    let Some(origin) = &raw.origin else {
        // Keys of an absent table cannot exist, nor can its queries.
        return Some(None);
    };
    let prometheus = cx
        .required(
            &raw.prometheus,
            origin,
            "prometheus",
            r#"prometheus = "http://127.0.0.1:9090""#,
        )
        .and_then(|item| {
            let text = cx.text(item, "a Prometheus base URL")?;
            match base_url(&text.value) {
                Ok(uri) => Some(uri),
                Err(why) => {
                    cx.problem(&item.origin, format!("{} {why}", text.quoted()));
                    None
                }
            }
        });
    let window = match &raw.rate_window {
        None => Some(DEFAULT_RATE_WINDOW),
        Some(item) => cx.positive_duration(item).and_then(|d| {
            if d.subsec_nanos() != 0 {
                cx.problem(
                    &item.origin,
                    format!(
                        "{} must be whole seconds (e.g. \"30s\", \"1m\")",
                        item.value
                    ),
                );
                None
            } else {
                Some(d)
            }
        }),
    };
    if let Some(item) = raw.rate_window.as_ref().filter(|_| !raw.queries.is_empty()) {
        cx.problem(
            &item.origin,
            "only sets the default queries' window: with [[evidence.query]], write the window in each promql",
        );
    }
    let timeout = match &raw.timeout {
        None => Some(DEFAULT_QUERY_TIMEOUT),
        Some(item) => cx.positive_duration(item),
    };
    if raw.queries.len() > MAX_QUERIES {
        let message = format!("has {} queries (at most {MAX_QUERIES})", raw.queries.len());
        cx.problem(&raw.queries[MAX_QUERIES].origin, message);
    }
    let mut first_use: HashMap<String, &Origin> = HashMap::new();
    let mut queries = Vec::with_capacity(raw.queries.len());
    for q in &raw.queries {
        let name = cx
            .required(&q.name, &q.origin, "name", r#"name = "mesh-5xx""#)
            .and_then(|item| {
                let text = cx.text(item, r#"a query name such as "mesh-5xx""#)?;
                if !file_safe(&text.value) {
                    let message = format!(
                        "{} is not a query name (letters, digits, '_', '.', '-'; it names evidence/<name>.csv)",
                        text.quoted()
                    );
                    cx.problem(&item.origin, message);
                    return None;
                }
                if let Some(first) = first_use.get(&text.value) {
                    let message = format!("{:?} is already used by {}", text.value, owner(first));
                    cx.problem(&item.origin, message);
                    return None;
                }
                first_use.insert(text.value.clone(), &q.origin);
                Some(text.value)
            });
        let promql = cx
            .required(
                &q.promql,
                &q.origin,
                "promql",
                r#"promql = "sum(rate(istio_requests_total[1m]))""#,
            )
            .and_then(|item| {
                let text = cx.text(item, "a PromQL expression")?;
                if text.value.trim().is_empty() {
                    cx.problem(&item.origin, "is empty (expected a PromQL expression)");
                    return None;
                }
                Some(text.value)
            });
        queries.push(name.zip(promql));
    }
    let queries: Option<Vec<_>> = queries.into_iter().collect();
    let queries = queries?
        .into_iter()
        .map(|(name, promql)| EvidenceQuery { name, promql })
        .collect::<Vec<_>>();
    let window = window?;
    let queries = if queries.is_empty() {
        default_queries(&format!("{}s", window.as_secs()))
    } else {
        queries
    };
    Some(Some(EvidencePlan {
        prometheus: prometheus?,
        queries,
        timeout: timeout?,
    }))
}

/// An `http://` or `https://` URL with a host and no query: the API paths
/// are appended to its path.
fn base_url(text: &str) -> Result<hyper::Uri, String> {
    let uri: hyper::Uri = text
        .parse()
        .map_err(|e| format!("is not a URL ({e}); expected e.g. \"http://127.0.0.1:9090\""))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(
            "is not an http:// or https:// URL with a host (e.g. \"http://127.0.0.1:9090\")".into(),
        );
    }
    if uri.query().is_some() {
        return Err("has a query: give the base URL (e.g. \"http://127.0.0.1:9090\")".into());
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::scenario::{Overrides, parse};

    const TARGET: &str =
        "[[target]]\nname = \"a\"\nurl = \"sim:primary\"\n[load]\nrate = 1\nduration = \"2s\"\n";

    fn plan(text: &str) -> crate::scenario::Plan {
        let text = format!("{TARGET}{text}");
        parse(&text, Path::new("t.toml"), &Overrides::default(), &|_| None).unwrap()
    }

    fn problems(text: &str) -> String {
        let text = format!("{TARGET}{text}");
        parse(&text, Path::new("t.toml"), &Overrides::default(), &|_| None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn no_table_no_evidence() {
        assert_eq!(plan("").evidence, None);
    }

    #[test]
    fn an_empty_query_list_gets_the_istio_defaults_with_the_window() {
        let e =
            plan("[evidence]\nprometheus = \"http://127.0.0.1:9090/prom\"\nrate_window = \"5s\"\n")
                .evidence
                .unwrap();
        assert_eq!(e.prometheus.to_string(), "http://127.0.0.1:9090/prom");
        assert_eq!(e.timeout, super::DEFAULT_QUERY_TIMEOUT);
        let names: Vec<&str> = e.queries.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["mesh-5xx", "mesh-requests"]);
        assert_eq!(
            e.queries[0].promql,
            "sum by (destination_cluster, response_code, response_flags) (rate(istio_requests_total{reporter=\"source\",response_code=~\"5..\"}[5s]))"
        );
        let e = plan("[evidence]\nprometheus = \"https://prom.example\"\n")
            .evidence
            .unwrap();
        assert!(
            e.queries[1].promql.ends_with("[60s]))"),
            "{}",
            e.queries[1].promql
        );
    }

    #[test]
    fn named_queries_are_kept_in_file_order() {
        let e = plan(
            "[evidence]\nprometheus = \"http://127.0.0.1:9090\"\ntimeout = \"2s\"\n\
             [[evidence.query]]\nname = \"uh\"\npromql = \"sum(istio_requests_total{response_flags=\\\"UH\\\"})\"\n\
             [[evidence.query]]\nname = \"up\"\npromql = \"up\"\n",
        )
        .evidence
        .unwrap();
        assert_eq!(e.timeout, Duration::from_secs(2));
        assert_eq!(e.queries.len(), 2);
        assert_eq!(e.queries[0].name, "uh");
        assert_eq!(
            e.queries[0].promql,
            "sum(istio_requests_total{response_flags=\"UH\"})"
        );
        assert_eq!(e.queries[1].name, "up");
    }

    #[test]
    fn bad_evidence_is_named_by_line_and_key() {
        let found = problems(
            "[evidence]\nprometheus = \"ftp://x\"\nrate_window = \"1.5s\"\ntimeout = \"0s\"\nextra = 1\n\
             [[evidence.query]]\nname = \"a/b\"\npromql = \"up\"\n\
             [[evidence.query]]\npromql = \" \"\n",
        );
        for expected in [
            "t.toml:8: evidence.prometheus \"ftp://x\" is not an http:// or https:// URL with a host",
            "t.toml:9: evidence.rate_window \"1.5s\" must be whole seconds",
            "t.toml:9: evidence.rate_window only sets the default queries' window",
            "t.toml:10: evidence.timeout \"0s\" must be > 0",
            "t.toml:11: evidence.extra is not a known key",
            "t.toml:13: evidence.query[0].name \"a/b\" is not a query name",
            "evidence.query[1].name is required",
            "t.toml:16: evidence.query[1].promql is empty",
        ] {
            assert!(found.contains(expected), "{expected:?} not in:\n{found}");
        }
        let found = problems("[evidence]\n");
        assert!(found.contains("evidence.prometheus is required"), "{found}");
        let found = problems(
            "[evidence]\nprometheus = \"http://p:9090/?x=1\"\n[[evidence.query]]\nname = \"a\"\npromql = \"up\"\n[[evidence.query]]\nname = \"a\"\npromql = \"up\"\n",
        );
        assert!(found.contains("has a query: give the base URL"), "{found}");
        assert!(
            found.contains(
                "t.toml:13: evidence.query[1].name \"a\" is already used by evidence.query[0]"
            ),
            "{found}"
        );
    }
}
