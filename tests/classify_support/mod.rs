//! Shared by the classify tests: the Bookinfo fixtures beside the repository
//! (`../shared/fixtures/bookinfo`) and what their manifest expects, in the
//! shape of `meshdrill classify --json`.

#![allow(dead_code)] // each test binary uses part of it

use std::path::PathBuf;

use hyper::HeaderMap;
use hyper::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/bookinfo"
    ))
}

pub struct Fixture {
    /// As in the manifest, relative to [`fixtures_dir`].
    pub file: String,
    pub status: u16,
    /// The manifest's headers, in its order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The expected reading, with the fields of `meshdrill classify --json`.
    pub expected: Value,
}

impl Fixture {
    pub fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in &self.headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        map
    }
}

/// Every fixture of the manifest, bodies read. Panics (failing the test)
/// when the folder is missing: these files are the truth the classifier is
/// held to, and a green run without them would prove nothing.
pub fn fixtures() -> Vec<Fixture> {
    let dir = fixtures_dir();
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\nThe classify tests need the Bookinfo fixtures in shared/fixtures/bookinfo \
             beside the repository (clone `shared` next to it, as CI does).",
            manifest_path.display()
        )
    });
    let manifest: Value = serde_json::from_str(&text).expect("manifest.json is JSON");
    let entries = manifest["fixtures"]
        .as_array()
        .expect("manifest has fixtures");
    assert!(!entries.is_empty(), "manifest.json lists no fixtures");
    entries.iter().map(|m| fixture(&dir, m)).collect()
}

fn fixture(dir: &std::path::Path, m: &Value) -> Fixture {
    let file = m["file"].as_str().expect("file").to_string();
    let body = std::fs::read(dir.join(&file))
        .unwrap_or_else(|e| panic!("cannot read fixture {file}: {e}"));
    let status = u16::try_from(m["http_status"].as_u64().expect("http_status")).expect("status");
    let headers = m["headers"]
        .as_object()
        .expect("headers")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("header value").to_string()))
        .collect();
    Fixture {
        expected: expected(m, status),
        file,
        status,
        headers,
        body,
    }
}

/// What the manifest says, as `meshdrill classify --json` spells it.
///
/// - `class`: a productpage is `ok` when no backend is degraded, else
///   `degraded`; a gateway reply is its status class.
/// - `reviews_version`: only when `version_visible_in_body` (with ratings
///   down and no pod name, v2 and v3 pages are the same bytes).
fn expected(m: &Value, status: u16) -> Value {
    let degraded = m["degraded"].as_array().expect("degraded");
    let class = match (m["kind"].as_str(), status) {
        (Some("productpage"), 200) if degraded.is_empty() => "ok",
        (Some("productpage"), 200) => "degraded",
        (_, 400..=499) => "http_4xx",
        (_, 500..=599) => "http_5xx",
        (kind, status) => panic!("no expectation for {kind:?} with status {status}"),
    };
    let visible = m["version_visible_in_body"].as_bool().unwrap_or(false);
    json!({
        "file": m["file"],
        "class": class,
        "reviews_version": if visible { m["reviews_version"].clone() } else { Value::Null },
        "stars": m["stars"],
        "star_color": m["star_color"],
        "reviews_pod": m["reviews_pod"],
        "cluster": m["cluster"],
        "degraded": m["degraded"],
        "template": m["template"],
        "envoy_reason": m.get("envoy_response_flags").cloned().unwrap_or(Value::Null),
    })
}

/// Field-by-field differences between an expected and an actual reading.
pub fn mismatches(file: &str, expected: &Value, actual: &Value) -> Vec<String> {
    let expected = expected.as_object().expect("object");
    let mut out = Vec::new();
    for (key, want) in expected {
        let got = actual.get(key).unwrap_or(&Value::Null);
        if got != want {
            out.push(format!("{file}: {key}: expected {want}, got {got}"));
        }
    }
    if let Some(actual) = actual.as_object() {
        for key in actual.keys().filter(|k| !expected.contains_key(*k)) {
            out.push(format!("{file}: unexpected field {key}"));
        }
    }
    out
}
