//! One Prometheus HTTP API range query (`GET {url}/api/v1/query_range`)
//! over HTTP/1.1 on a connection of its own, bounded by one timeout from
//! connect to the answer's body (sent through [`crate::side_http`], as
//! `annotate` posts to Grafana), and its JSON answer turned into evidence
//! rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;
use hyper::{Method, Uri};
use serde::Deserialize;

use crate::results::evidence::EvidenceRow;
use crate::side_http::{self, SideRequest};

/// Most of an answer read: a day of 1 s steps for a few hundred series.
const ANSWER_CAP: usize = 64 * 1024 * 1024;
/// Most of an error answer quoted in evidence.json.
const ERROR_QUOTE: usize = 500;

/// `/api/v1/query_range?query=...&start=...&end=...&step=...` under the
/// base URL's path; times in Unix seconds.
pub fn range_path(base: &Uri, promql: &str, start_s: f64, end_s: f64, step_s: u32) -> String {
    format!(
        "{}/api/v1/query_range?query={}&start={start_s:.3}&end={end_s:.3}&step={step_s}",
        base.path().trim_end_matches('/'),
        encode(promql)
    )
}

/// The full URL of a request path, as evidence.json names it.
pub fn full_url(base: &Uri, path: &str) -> String {
    let scheme = base.scheme_str().unwrap_or("http");
    let authority = base.authority().map_or("", |a| a.as_str());
    format!("{scheme}://{authority}{path}")
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The answer's rows and series count, or why there are none.
pub async fn query(
    base: &Uri,
    path: &str,
    start_s: f64,
    timeout: Duration,
) -> Result<(Vec<EvidenceRow>, u32), String> {
    let (status, body) = match tokio::time::timeout(timeout, exchange(base, path)).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(format!(
                "no answer within {}",
                humantime::format_duration(timeout)
            ));
        }
    };
    parse_matrix(status, &body, start_s)
}

async fn exchange(base: &Uri, path: &str) -> Result<(u16, Bytes), String> {
    let request = SideRequest {
        method: Method::GET,
        base,
        path,
        headers: Vec::new(),
        body: Bytes::new(),
    };
    let answer = side_http::exchange(request, ANSWER_CAP).await?;
    let body = answer
        .body
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok((answer.status, body))
}

/// The API's envelope: `{"status":"success","data":{...}}` or
/// `{"status":"error","errorType":"...","error":"..."}`.
#[derive(Deserialize)]
struct Reply {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<Series>,
}

#[derive(Deserialize)]
struct Series {
    metric: BTreeMap<String, String>,
    /// `[unix_s, "value"]`; absent for a native-histogram series.
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// A range query's answer as rows (seconds relative to `start_s`, the
/// run's second 0) and its series count; an error answer as its text.
pub fn parse_matrix(
    status: u16,
    body: &[u8],
    start_s: f64,
) -> Result<(Vec<EvidenceRow>, u32), String> {
    let reply: Reply = match serde_json::from_slice(body) {
        Ok(reply) => reply,
        Err(e) => {
            let quoted = String::from_utf8_lossy(&body[..body.len().min(ERROR_QUOTE)]);
            return Err(format!(
                "HTTP {status}: not a Prometheus API answer ({e}): {}",
                quoted.trim()
            ));
        }
    };
    if reply.status != "success" {
        return Err(format!(
            "HTTP {status}: {}: {}",
            reply.error_type.as_deref().unwrap_or("error"),
            reply.error.as_deref().unwrap_or("(no error text)")
        ));
    }
    let data = reply
        .data
        .ok_or_else(|| format!("HTTP {status}: a success without data"))?;
    if data.result_type != "matrix" {
        return Err(format!(
            "HTTP {status}: a {} answer, expected a matrix (a range query's)",
            data.result_type
        ));
    }
    let series = u32::try_from(data.result.len()).unwrap_or(u32::MAX);
    let mut rows = Vec::new();
    for s in data.result {
        let labels = labels(&s.metric);
        for (t, v) in s.values {
            let value =
                parse_value(&v).ok_or_else(|| format!("sample value {v:?} is not a number"))?;
            rows.push(EvidenceRow {
                second: (t - start_s).round() as i64,
                unix_s: t,
                series: labels.clone(),
                value,
            });
        }
    }
    Ok((rows, series))
}

/// Prometheus writes `+Inf`, `-Inf` and `NaN`.
fn parse_value(v: &str) -> Option<f64> {
    match v {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => v.parse().ok(),
    }
}

/// `name{a="1",b="2"}` in PromQL notation, `{}` for none.
fn labels(metric: &BTreeMap<String, String>) -> String {
    let mut out = metric.get("__name__").cloned().unwrap_or_default();
    out.push('{');
    let mut first = true;
    for (k, v) in metric.iter().filter(|(k, _)| *k != "__name__") {
        if !first {
            out.push(',');
        }
        first = false;
        let v = v
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        let _ = write!(out, "{k}=\"{v}\"");
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As Prometheus 2.x answers `query_range` (captured shape).
    const MATRIX: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"destination_cluster":"primary","response_code":"503","response_flags":"UH"},
         "values":[[1764684000.25,"0"],[1764684001.25,"12.5"],[1764684002.25,"NaN"]]},
        {"metric":{"__name__":"up","job":"sim \"a\""},"values":[[1764684001.25,"+Inf"]]}]}}"#;

    #[test]
    fn a_matrix_becomes_rows_on_the_run_clock() {
        let (rows, series) = parse_matrix(200, MATRIX.as_bytes(), 1_764_684_000.25).unwrap();
        assert_eq!(series, 2);
        assert_eq!(rows.len(), 4);
        let uh = r#"{destination_cluster="primary",response_code="503",response_flags="UH"}"#;
        assert_eq!(
            rows[1],
            EvidenceRow {
                second: 1,
                unix_s: 1_764_684_001.25,
                series: uh.into(),
                value: 12.5
            }
        );
        assert_eq!(rows[0].second, 0);
        assert!(rows[2].value.is_nan());
        assert_eq!(rows[3].series, r#"up{job="sim \"a\""}"#);
        assert_eq!(rows[3].value, f64::INFINITY);
    }

    #[test]
    fn error_answers_keep_prometheus_words() {
        let bad = r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error"}"#;
        assert_eq!(
            parse_matrix(400, bad.as_bytes(), 0.0).unwrap_err(),
            "HTTP 400: bad_data: invalid parameter \"query\": 1:5: parse error"
        );
        let vector = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(
            parse_matrix(200, vector.as_bytes(), 0.0)
                .unwrap_err()
                .contains("a vector answer, expected a matrix")
        );
        let html = b"<html>502 Bad Gateway</html>";
        let e = parse_matrix(502, html, 0.0).unwrap_err();
        assert!(
            e.starts_with("HTTP 502: not a Prometheus API answer"),
            "{e}"
        );
        assert!(e.ends_with("<html>502 Bad Gateway</html>"), "{e}");
        let empty = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert_eq!(
            parse_matrix(200, empty.as_bytes(), 0.0).unwrap(),
            (vec![], 0)
        );
    }

    #[test]
    fn the_query_is_encoded_under_the_base_path() {
        let base: Uri = "http://127.0.0.1:9090/prom/".parse().unwrap();
        let path = range_path(&base, "sum(rate(x{a=~\"5..\"}[1m]))", 100.0, 130.5, 1);
        assert_eq!(
            path,
            "/prom/api/v1/query_range?query=sum%28rate%28x%7Ba%3D~%225..%22%7D%5B1m%5D%29%29&start=100.000&end=130.500&step=1"
        );
        assert_eq!(
            full_url(&base, &path),
            format!("http://127.0.0.1:9090{path}")
        );
    }
}
