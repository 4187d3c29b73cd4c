//! `meshdrill classify` on responses saved with `curl -i`: every fixture,
//! its manifest status line and headers written before its body (CRLF and
//! LF, alone and after a `100 Continue` block), classifies exactly as the
//! manifest says — with no --status or --header flag: the file's own status
//! and headers feed the classifier, the Envoy reason included.

mod classify_support;

use std::process::Command;

use classify_support::{fixtures, mismatches};
use serde_json::Value;

fn saved(status_line: &str, headers: &[(String, String)], body: &[u8], eol: &str) -> Vec<u8> {
    let mut out = format!("{status_line}{eol}");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}{eol}"));
    }
    out.push_str(eol);
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

#[test]
fn curl_i_files_classify_as_the_manifest_says() {
    let dir = tempfile::tempdir().unwrap();
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(classify_support::fixtures_dir().join("manifest.json")).unwrap(),
    )
    .unwrap();
    let mut files = Vec::new();
    let mut expected = Vec::new();
    for (i, f) in fixtures().iter().enumerate() {
        let line = manifest["fixtures"][i]["status_line"]
            .as_str()
            .map_or_else(|| format!("HTTP/1.1 {} Whatever", f.status), str::to_string);
        assert!(
            line.starts_with(&format!("HTTP/1.1 {} ", f.status)),
            "{line}"
        );
        for (variant, eol, continued) in [
            ("crlf", "\r\n", false),
            ("lf", "\n", false),
            ("continue", "\r\n", true),
        ] {
            let mut bytes = if continued {
                b"HTTP/1.1 100 Continue\r\n\r\n".to_vec()
            } else {
                Vec::new()
            };
            bytes.extend(saved(&line, &f.headers, &f.body, eol));
            let path = dir.path().join(format!("{i}-{variant}.txt"));
            std::fs::write(&path, bytes).unwrap();
            let mut want = f.expected.clone();
            want["file"] = Value::String(path.display().to_string());
            files.push(path);
            expected.push((format!("{} ({variant})", f.file), want));
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .args(["classify", "--json"])
        .args(&files)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{stdout}");
    let mut problems = Vec::new();
    for (line, (name, want)) in lines.iter().zip(&expected) {
        let actual: Value = serde_json::from_str(line).unwrap();
        problems.extend(mismatches(name, want, &actual));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn an_envoy_503_reads_as_no_healthy_upstream_only_with_its_headers() {
    let dir = tempfile::tempdir().unwrap();
    let body = b"no healthy upstream";
    let envoy = [
        ("content-length".to_string(), "19".to_string()),
        ("content-type".to_string(), "text/plain".to_string()),
        ("server".to_string(), "istio-envoy".to_string()),
    ];
    let with = dir.path().join("with.txt");
    let without = dir.path().join("without.txt");
    std::fs::write(
        &with,
        saved("HTTP/1.1 503 Service Unavailable", &envoy, body, "\n"),
    )
    .unwrap();
    std::fs::write(&without, body).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .args(["classify", "--json"])
        .arg(&with)
        .arg(&without)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let readings: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(readings[0]["class"], "http_5xx", "{stdout}");
    assert_eq!(readings[0]["envoy_reason"], "UH", "{stdout}");
    // The bare body is as before: status 200 by default, not a page.
    assert_eq!(readings[1]["class"], "unrecognized", "{stdout}");
    assert_eq!(readings[1]["envoy_reason"], Value::Null, "{stdout}");
}
